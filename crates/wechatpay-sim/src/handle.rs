//! The Rust handle: the builder that assembles a simulator from its parts (world, control,
//! delivery, protocol, net) and the [`Simulator`] whose methods are the control API.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Map, Value};
use wechatpay_core::{ConfigBuilder, KeyStore, MchId, PrivateKey, PublicKey, SerialNo, unix_now};

use crate::control::Control;
use crate::control::admin::Admin;
use crate::credentials::{
    Credentials, MCHID, MERCHANT_KEY_PEM, MERCHANT_PUB_PEM, MERCHANT_SERIAL, PLATFORM_CERT_PEM, PUBLIC_KEY_ID,
    WECHATPAY_PUB_PEM,
};
use crate::delivery::Delivery;
use crate::delivery::notification::{self, Event, SignedNotification};
use crate::net::stop::Stop;
use crate::net::{self, Net, connectable, listen, tls};
use crate::protocol::faults::{Fault, Times};
use crate::protocol::respond::RequestIds;
use crate::protocol::routes::Route;
use crate::protocol::signing::{ResponseKeys, SigningKeyChoice};
use crate::protocol::{Api, apiv3_key};
use crate::world::prepay::Site;
use crate::world::{After, Order, OrderError, OrderKind, RefundMode, World};

/// Configures a simulator; see [`Simulator::builder`].
#[derive(Debug)]
#[must_use]
pub struct SimBuilder {
    addr: String,
    orders_files: Vec<PathBuf>,
    orders: Vec<(OrderKind, Value)>,
    sub_mchids: Vec<String>,
    signing: Option<SigningKeyChoice>,
    seeds: bool,
    tls: bool,
    apiv3_key: Option<String>,
    public_key_only: bool,
    notify_time_scale: f64,
    allow_remote_notify: bool,
    refunds: RefundMode,
    notify_ca_pem: Vec<String>,
}

impl SimBuilder {
    fn new() -> Self {
        Self {
            addr: "127.0.0.1:0".to_owned(),
            orders_files: Vec::new(),
            orders: Vec::new(),
            sub_mchids: Vec::new(),
            signing: None,
            seeds: true,
            tls: false,
            apiv3_key: None,
            public_key_only: false,
            notify_time_scale: 1.0,
            allow_remote_notify: false,
            refunds: RefundMode::Auto,
            notify_ca_pem: Vec::new(),
        }
    }

    /// The address to listen on (default `127.0.0.1:0`: a free loopback port).
    pub fn addr(mut self, addr: impl Into<String>) -> Self {
        self.addr = addr.into();
        self
    }

    /// Loads orders from a JSON file `{"direct":[...],"partner":[...],"parking":[...]}`
    /// when starting; they are added after the seeds and replace seeds with the same key.
    pub fn orders_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.orders_files.push(path.into());
        self
    }

    /// Adds one order (a JSON object with at least `out_trade_no`; partner orders also
    /// `sub_mchid`). It is served exactly as serialised once from this value.
    pub fn add_order(mut self, kind: OrderKind, order: Value) -> Self {
        self.orders.push((kind, order));
        self
    }

    /// Binds another sub-merchant to the simulated service provider (the seed sub-merchant
    /// and those of added partner and parking orders are bound already).
    pub fn bind_sub_mchid(mut self, sub_mchid: impl Into<String>) -> Self {
        self.sub_mchids.push(sub_mchid.into());
        self
    }

    /// The kind of key that signs answers when a request's `Wechatpay-Serial` names no
    /// simulated key. Unset (the default): the WeChat Pay public key, but the platform
    /// certificate that currently signs for `GET /v3/certificates` (as WeChat Pay answers
    /// merchants that have platform certificates, so a client holding no key can bootstrap
    /// from the download). Set, it signs every such answer, the download included; with
    /// [`SigningKeyChoice::PlatformCertificate`], the platform certificate that currently
    /// signs (see [`Simulator::rotate_certificate`]). Ignored in public-key-only mode.
    pub fn signing(mut self, choice: SigningKeyChoice) -> Self {
        self.signing = Some(choice);
        self
    }

    /// Whether to start with the seed orders (default `true`).
    pub fn seeds(mut self, seeds: bool) -> Self {
        self.seeds = seeds;
        self
    }

    /// Whether to serve HTTPS (default `false`: plain HTTP). With `true`, a throwaway CA
    /// and a server certificate for the IP of [`Simulator::base_url`] are generated at
    /// start; clients must trust [`Simulator::ca_certificate_pem`].
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// The merchant's APIv3 key, exactly as set in the merchant console: 32 visible ASCII
    /// characters, which seal `GET /v3/certificates` and notifications. Default: a random
    /// throwaway key for each start ([`Simulator::apiv3_key`] tells it).
    pub fn apiv3_key(mut self, key: impl Into<String>) -> Self {
        self.apiv3_key = Some(key.into());
        self
    }

    /// Simulates a merchant without platform certificates (created since late 2024): every
    /// answer is signed with the WeChat Pay public key, whatever the request's
    /// `Wechatpay-Serial` or [`SimBuilder::signing`] say, and `GET /v3/certificates` answers
    /// a signed `404 RESOURCE_NOT_EXISTS`. Default `false`.
    pub fn public_key_only(mut self, public_key_only: bool) -> Self {
        self.public_key_only = public_key_only;
        self
    }

    /// Multiplies the redelivery schedule of notifications (15 s, 15 s, 30 s, 3 m, ...) by
    /// `scale` (default 1; tests use e.g. 0.001). Negative or non-finite values count as 1.
    pub fn notify_time_scale(mut self, scale: f64) -> Self {
        self.notify_time_scale = if scale.is_finite() && scale >= 0.0 { scale } else { 1.0 };
        self
    }

    /// How refunds complete (default [`RefundMode::Auto`]: `SUCCESS` 1 s × the notify time
    /// scale after creation; [`RefundMode::Manual`]: `PROCESSING` until moved with
    /// [`Simulator::set_refund_status`] or `POST /sim/refunds/{out_refund_no}/state`).
    pub fn refunds(mut self, mode: RefundMode) -> Self {
        self.refunds = mode;
        self
    }

    /// Whether the admin API accepts a `notify_url` on a host other than loopback (default
    /// `false`).
    pub fn allow_remote_notify(mut self, allow: bool) -> Self {
        self.allow_remote_notify = allow;
        self
    }

    /// Trusts the CA certificate(s) in `pem` for `https://` notify URLs (in HTTPS mode the
    /// simulator's own CA is trusted too).
    pub fn notify_ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.notify_ca_pem.push(pem.into());
        self
    }

    /// Binds the socket, loads orders and keys, and starts serving.
    ///
    /// # Errors
    /// When the address cannot be bound, or an orders file or order is unusable
    /// ([`io::ErrorKind::InvalidData`]), or the APIv3 key is not 32 visible ASCII characters
    /// ([`io::ErrorKind::InvalidInput`]).
    pub fn start(self) -> io::Result<Simulator> {
        let apiv3_key = match self.apiv3_key {
            Some(key) => apiv3_key::validate(&key).map(|()| key)?,
            None => apiv3_key::random_key()?,
        };
        let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
        let mut world = if self.seeds { World::seeded()? } else { World::empty() };
        for path in &self.orders_files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| io::Error::new(e.kind(), format!("orders file {}: {e}", path.display())))?;
            world.load_str(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        }
        for (kind, order) in self.orders {
            world.add(Order::given(kind, order)?);
        }
        for sub in self.sub_mchids {
            world.bind(sub);
        }
        let key_error = |what: &str, e: wechatpay_core::KeyError| invalid(format!("built-in {what}: {e}"));
        let merchant_pub =
            PublicKey::from_pem(MERCHANT_PUB_PEM.as_bytes()).map_err(|e| key_error("merchant key", e))?;
        let keys = Arc::new(
            ResponseKeys::load(self.signing, self.public_key_only).map_err(|e| key_error("response keys", e))?,
        );
        let merchant_key =
            Arc::new(PrivateKey::from_pem(MERCHANT_KEY_PEM.as_bytes()).map_err(|e| key_error("merchant key", e))?);
        let mut store = KeyStore::new();
        store.add_public_key(PUBLIC_KEY_ID, WECHATPAY_PUB_PEM.as_bytes()).map_err(|e| key_error("public key", e))?;
        store.add_platform_certificates(PLATFORM_CERT_PEM.as_bytes()).map_err(|e| key_error("certificate", e))?;
        let mchid = MchId::new(MCHID).map_err(|e| invalid(e.to_string()))?;
        let serial = SerialNo::new(MERCHANT_SERIAL).map_err(|e| invalid(e.to_string()))?;

        let listener = listen(self.addr.as_str())?;
        let addr = listener.local_addr()?;
        let tls = if self.tls { Some(tls::identity(connectable(addr))?) } else { None };
        let (ca_pem, tls_config) = tls.map(|t| (t.ca_pem, t.config)).unzip();
        let scheme = if ca_pem.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{}", connectable(addr));
        world.set_site(Site { base_url, allow_remote_notify: self.allow_remote_notify });
        let own_ca = ca_pem.iter().map(String::as_str);
        let notify_tls = tls::notify_client(self.notify_ca_pem.iter().map(String::as_str).chain(own_ca))?;
        let stop = Arc::new(Stop::default());
        let apiv3_key: Arc<str> = Arc::from(apiv3_key);
        let delivery = Arc::new(Delivery::new(
            Arc::clone(&keys),
            Arc::clone(&apiv3_key),
            notify_tls,
            self.notify_time_scale,
            Arc::clone(&stop),
        ));
        world.configure_refunds(
            self.refunds,
            Duration::from_secs_f64(self.notify_time_scale),
            self.allow_remote_notify,
        );
        let scheme = if ca_pem.is_some() { "https" } else { "http" };
        let bill_ttl = std::time::Duration::from_secs_f64(300.0 * self.notify_time_scale);
        world.bills().configure(format!("{scheme}://{}", connectable(addr)), bill_ttl);
        let control = Arc::new(Control::new(world, Arc::clone(&keys), delivery, self.allow_remote_notify));
        crate::control::refund::spawn_ticker(Arc::clone(&control), Arc::clone(&stop))?;
        let api = Arc::new(Api {
            merchant_pub,
            keys,
            apiv3_key,
            control,
            admin: Admin { token: apiv3_key::random_alphanumeric(43)? },
            stop: Arc::clone(&stop),
            ids: RequestIds::default(),
        });
        let net = Arc::new(Net::new(stop, tls_config));
        let listener = net::spawn(listener, Arc::clone(&net), Arc::clone(&api))?;
        Ok(Simulator {
            api,
            net,
            addr,
            credentials: Credentials::builtin(),
            merchant_key,
            key_store: Arc::new(store),
            mchid,
            serial,
            listener: Some(listener),
            ca_pem,
        })
    }
}

/// A running simulator: [`Simulator::start`] for the defaults, [`Simulator::builder`] to
/// configure one. Dropping it stops it.
pub struct Simulator {
    api: Arc<Api>,
    net: Arc<Net>,
    addr: SocketAddr,
    credentials: Credentials,
    ca_pem: Option<String>,
    merchant_key: Arc<PrivateKey>,
    key_store: Arc<KeyStore>,
    mchid: MchId,
    serial: SerialNo,
    listener: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .field("tls", &self.ca_pem.is_some())
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Simulator {
    /// A builder with the defaults: `127.0.0.1:0`, the seed orders, responses signed with
    /// the WeChat Pay public key unless a request's `Wechatpay-Serial` asks otherwise.
    pub fn builder() -> SimBuilder {
        SimBuilder::new()
    }

    /// Starts a simulator with the defaults of [`Simulator::builder`].
    ///
    /// # Errors
    /// When the listening socket cannot be bound.
    pub fn start() -> io::Result<Simulator> {
        Self::builder().start()
    }

    /// `http://127.0.0.1:PORT`, or `https://` in HTTPS mode (a loopback address even when
    /// listening on all interfaces).
    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", connectable(self.addr))
    }

    /// In HTTPS mode ([`SimBuilder::tls`]), the throwaway CA certificate (PEM) that signed
    /// the server certificate: what a client must trust. `None` for plain HTTP.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The merchant's ids and the keys of both sides.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The bearer token of the admin API under `/sim/` (random per start; the `wechatpay-sim`
    /// binary writes it to `STATE_DIR/admin_token` and `WECHATPAY_SIM_ADMIN_TOKEN` in `env`).
    pub fn admin_token(&self) -> &str {
        &self.api.admin.token
    }

    /// The merchant's APIv3 key (32 ASCII characters) that seals certificates and
    /// notifications: the one given to [`SimBuilder::apiv3_key`], else a random one made at
    /// start. A throwaway, like every key of the simulator.
    pub fn apiv3_key(&self) -> &str {
        &self.api.apiv3_key
    }

    /// Whether the simulated merchant has no platform certificate
    /// ([`SimBuilder::public_key_only`]).
    pub fn is_public_key_only(&self) -> bool {
        self.api.keys.public_key_only()
    }

    /// The serials of the platform certificates `GET /v3/certificates` lists, oldest first
    /// (the built-in one alone until [`Simulator::rotate_certificate`]; none in
    /// public-key-only mode).
    pub fn platform_serials(&self) -> Vec<String> {
        if self.is_public_key_only() {
            return Vec::new();
        }
        self.api.keys.with_platform(|p| p.listed().iter().map(|c| c.serial().to_owned()).collect())
    }

    /// The PEMs of the listed platform certificates, oldest first, concatenated (empty in
    /// public-key-only mode): what a client that downloaded them would hold.
    pub fn platform_certificates_pem(&self) -> String {
        if self.is_public_key_only() {
            return String::new();
        }
        self.api.keys.with_platform(|p| p.listed().iter().map(|c| c.pem.as_str()).collect())
    }

    /// The `Wechatpay-Serial` of an answer to a request that names no key: the WeChat Pay
    /// public key id, or (with [`SigningKeyChoice::PlatformCertificate`]) the serial of the
    /// platform certificate that currently signs.
    pub fn signing_serial(&self) -> String {
        self.api.keys.choose(None).serial().to_owned()
    }

    /// Whether a rotation is half done: a new certificate is listed but does not sign yet
    /// (the next [`Simulator::rotate_certificate`] makes it sign).
    pub fn rotation_pending(&self) -> bool {
        self.api.keys.with_platform(|p| p.rotation_pending())
    }

    /// One step of a platform certificate rotation (PROTOCOL.md §9); returns the new certificate's
    /// serial.
    ///
    /// The first call generates a new throwaway certificate (RSA-2048, a fresh 40-digit
    /// serial, valid 5 years from now): `GET /v3/certificates` lists it after the old one,
    /// whose `expire_time` becomes 24 h from now; answers are still signed by the old one.
    /// The second call makes the new certificate sign: from then on every answer signed by a
    /// platform certificate is signed by the new one, even for a request whose
    /// `Wechatpay-Serial` names the old one (WeChat Pay decides which certificate signs;
    /// the header only picks between the public key and the platform certificates). The
    /// third call starts the next rotation, dropping certificates that no longer sign.
    ///
    /// # Errors
    /// [`io::ErrorKind::Unsupported`] in public-key-only mode; another kind when the new key
    /// or certificate cannot be made.
    pub fn rotate_certificate(&self) -> io::Result<String> {
        if self.is_public_key_only() {
            let message = "public-key-only mode: there is no platform certificate to rotate";
            return Err(io::Error::new(io::ErrorKind::Unsupported, message));
        }
        self.api.keys.rotate(crate::clock::now()).map_err(io::Error::other)
    }

    /// A payment notification as WeChat Pay would `POST` it to a `notify_url`: the envelope of
    /// `event` with its resource sealed with [`Simulator::apiv3_key`], signed now by the key of
    /// [`Simulator::signing_serial`]. See [`crate::delivery::notification`].
    ///
    /// # Errors
    /// As [`crate::delivery::notification::build`].
    pub fn notification(&self, event: &Event) -> io::Result<SignedNotification> {
        let key = self.api.keys.choose(None);
        notification::build(event, self.apiv3_key(), key.private_key(), key.serial(), unix_now())
    }

    /// A client configuration for the simulated merchant: its mchid and serial, its
    /// private key as signer, a key store with both the WeChat Pay public key and the
    /// platform certificate, and both base URLs pointing at the simulator. Override what
    /// you need before `build()`.
    pub fn config_builder(&self) -> ConfigBuilder {
        wechatpay_core::Config::builder(
            self.mchid.clone(),
            self.serial.clone(),
            Arc::clone(&self.merchant_key),
            Arc::clone(&self.key_store),
        )
        .base_url(self.base_url())
        .backup_url(self.base_url())
    }

    /// Adds an order while running, exactly as given but for what a client needs to parse
    /// it, filled in where missing (a direct order's `mchid`, a partner order's `sp_mchid`,
    /// a `trade_state` and its description); it replaces an older one with the same key.
    /// [`Simulator::create_order`] completes an order as the admin API does.
    ///
    /// # Errors
    /// [`OrderError`] when it is not an object with a string `out_trade_no` (and, for a
    /// partner order, `sub_mchid`).
    pub fn add_order(&self, kind: OrderKind, order: Value) -> Result<(), OrderError> {
        self.api.control.add_order(kind, order)
    }

    /// Creates an order from its API fields (`out_trade_no` at least; a partner order also
    /// `sub_mchid`), everything else filled in as WeChat Pay would answer it — exactly as
    /// `POST /sim/orders` does, with the same checks (an undocumented `trade_state` only
    /// with `"allow_unknown": true` among the fields; no negative or fractional amount; RFC
    /// 3339 times); its notifications go to `notify_url` (a loopback
    /// `http(s)://` URL unless [`SimBuilder::allow_remote_notify`]). Returns the order as
    /// stored.
    ///
    /// # Errors
    /// [`OrderError`] naming the field when the order or the URL is unusable.
    pub fn create_order(&self, kind: OrderKind, order: Value, notify_url: Option<&str>) -> Result<Value, OrderError> {
        let Value::Object(fields) = order else {
            return Err(OrderError::new("order: must be a JSON object with the order's API fields"));
        };
        Ok(self.api.control.create_order(kind, fields, notify_url)?)
    }

    /// The newest order of `kind` numbered `out_trade_no`, as stored (as `GET
    /// /sim/orders/{kind}/{out_trade_no}` answers it); `None` when there is none.
    pub fn order(&self, kind: OrderKind, out_trade_no: &str) -> Option<Value> {
        self.api.control.order(kind, out_trade_no).ok()
    }

    /// Moves an order to `trade_state` now, with `fields` (a JSON object, or `null`) set over
    /// it — exactly as `POST /sim/orders/{kind}/{out_trade_no}/state` does: a payment gets
    /// the paid fields it lacks (`success_time`, `transaction_id`, `payer`, `bank_type`) and
    /// a notification if the order has a notify URL; the state it is in already changes
    /// nothing and notifies nobody. An undocumented state needs `"allow_unknown": true` among
    /// the `fields` ([`Simulator::schedule`] takes any). Returns the order as stored.
    ///
    /// # Errors
    /// [`OrderError`] when there is no such order or `fields` would change its
    /// `out_trade_no`.
    pub fn set_state(
        &self,
        kind: OrderKind,
        out_trade_no: &str,
        trade_state: &str,
        fields: Value,
    ) -> Result<Value, OrderError> {
        let fields = match fields {
            Value::Null => Map::new(),
            Value::Object(map) => map,
            _ => return Err(OrderError::new("fields: must be a JSON object")),
        };
        Ok(self.api.control.set_state(kind, out_trade_no, trade_state, fields)?)
    }

    /// Plays the WeChat client receiving invoke parameters, exactly as `POST
    /// /sim/request-payment` does: `invoke` is the JSAPI object (`appId`, `timeStamp`,
    /// `nonceStr`, `package`, `signType`, `paySign`) or the APP object (`appid`,
    /// `partnerid`, `prepayid`, `package`, `noncestr`, `timestamp`, `sign`), with an optional
    /// `"result": "ok" | "cancel"` (default `ok`, which pays the order through its one
    /// transition, notification included). Returns `{"err_msg", "order"}`.
    ///
    /// # Errors
    /// [`OrderError`] whose message starts with `SIGN_ERROR` (the signature does not verify
    /// with the merchant's key) or `INVALID_REQUEST` (anything else, named).
    pub fn request_payment(&self, invoke: &Value) -> Result<Value, OrderError> {
        let body = serde_json::to_vec(invoke).map_err(|e| OrderError::new(e.to_string()))?;
        self.api.control.request_payment(&body).map_err(|e| match e {
            crate::control::prepay::PaymentError::Sign => OrderError::new("SIGN_ERROR: 支付验证签名失败"),
            crate::control::prepay::PaymentError::Invalid(m) => OrderError::new(format!("INVALID_REQUEST: {m}")),
        })
    }

    /// Presses "Pay" on the cashier page of `prepay_id` (`/sim/cashier/{prepay_id}`): a
    /// `NOTPAY` order is paid through its one transition, notification included; another
    /// state is left as it is. Returns the order as stored, `None` for an unknown prepay id.
    pub fn cashier_pay(&self, prepay_id: &str) -> Option<Value> {
        self.api.control.cashier_press(prepay_id, true)?;
        self.api.control.order_by_prepay_id(prepay_id)
    }

    /// The newest refund numbered `out_refund_no`, as the refund query answers it (and `GET
    /// /sim/refunds/{out_refund_no}`); `None` when there is none.
    pub fn refund(&self, out_refund_no: &str) -> Option<Value> {
        self.api.control.refund(out_refund_no).ok()
    }

    /// Moves the newest refund numbered `out_refund_no` to `status` (`SUCCESS`, `ABNORMAL`,
    /// `CLOSED` or `PROCESSING`), as `POST /sim/refunds/{out_refund_no}/state` does: a final
    /// state is notified (`REFUND.*`) to the refund's `notify_url`. Returns the refund.
    ///
    /// # Errors
    /// [`OrderError`] when there is no such refund or the status is not one of the four.
    pub fn set_refund_status(&self, out_refund_no: &str, status: &str) -> Result<Value, OrderError> {
        Ok(self.api.control.set_refund_status(out_refund_no, status)?)
    }

    /// Back-dates the newest refund numbered `out_refund_no`: sets its `create_time` and/or
    /// `success_time` (RFC 3339), as `POST /sim/refunds/{out_refund_no}/state` does with those
    /// fields. A refund is in the bills of the day it was created (and today's bill is never
    /// ready), so a test of a refund's bill rows moves it to a past day. Returns the refund.
    ///
    /// # Errors
    /// [`OrderError`] when there is no such refund or a time is not RFC 3339.
    pub fn set_refund_times(
        &self,
        out_refund_no: &str,
        create_time: Option<&str>,
        success_time: Option<&str>,
    ) -> Result<Value, OrderError> {
        Ok(self.api.control.set_refund_times(out_refund_no, create_time, success_time)?)
    }

    /// Every notification sent so far with its attempts, oldest first: the JSON array
    /// `GET /sim/notifications` answers.
    pub fn notifications(&self) -> Value {
        self.api.control.notifications()
    }

    /// The last 100 API requests (method, target, whether verified, the answer's status),
    /// oldest first: the JSON array `GET /sim/requests` answers.
    pub fn requests(&self) -> Value {
        self.api.control.requests()
    }

    /// Schedules a change of the newest order of `kind` numbered `out_trade_no` to
    /// `trade_state` (any string: an unknown state too), due [`After`] a number of queries
    /// of that order or a delay (as `POST /sim/orders/{kind}/{out_trade_no}/schedule`,
    /// which takes an undocumented state only with `"allow_unknown": true`). The change
    /// goes through the order's one transition, as
    /// [`Simulator::set_state`]: a payment gets the paid fields and notifies. A close of the
    /// order cancels its pending changes.
    ///
    /// # Errors
    /// [`OrderError`] when there is no such order.
    pub fn schedule(
        &self,
        kind: OrderKind,
        out_trade_no: &str,
        trade_state: &str,
        after: After,
    ) -> Result<(), OrderError> {
        // Any state: the Rust handle has always taken unknown ones (fault injection).
        Ok(self.api.control.schedule(kind, out_trade_no, trade_state, after, true)?)
    }

    /// The order is answered as it is `n` more times, then as paid (`SUCCESS`).
    ///
    /// # Errors
    /// [`OrderError`] when there is no such order.
    pub fn pay_after_queries(&self, kind: OrderKind, out_trade_no: &str, n: u32) -> Result<(), OrderError> {
        self.schedule(kind, out_trade_no, "SUCCESS", After::Queries(n))
    }

    /// The order is paid (`SUCCESS`) from `delay` from now on.
    ///
    /// # Errors
    /// [`OrderError`] when there is no such order.
    pub fn pay_after(&self, kind: OrderKind, out_trade_no: &str, delay: Duration) -> Result<(), OrderError> {
        self.schedule(kind, out_trade_no, "SUCCESS", After::Delay(delay))
    }

    /// Makes a synthetic trade bill of `rows` plausible rows for `bill_date` (`yyyy-MM-dd`;
    /// `bill_type` `ALL`, `SUCCESS` or `REFUND`), as `POST /sim/bills/synthetic` does; returns
    /// `{"bill_date","bill_type","rows","hash_value","bytes"}`.
    ///
    /// # Errors
    /// [`OrderError`] naming the field that is wrong.
    pub fn synthetic_bill(&self, bill_date: &str, rows: u64, bill_type: &str) -> Result<Value, OrderError> {
        Ok(self.api.control.synthetic_bill(bill_date, rows, bill_type)?)
    }

    /// Binds a sub-merchant to the simulated service provider.
    pub fn bind_sub_mchid(&self, sub_mchid: impl Into<String>) {
        self.api.control.bind_sub_mchid(sub_mchid.into());
    }

    /// Injects `fault` for `times` matching requests, on `route` or (with `None`) on every
    /// verified request. Faults are matched in the order injected.
    pub fn inject(&self, fault: Fault, times: Times, route: Option<Route>) {
        self.api.control.inject(fault, times, route);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.api.control.clear_faults();
    }

    /// How many requests were received (every parsed request, verified or not, faulted or not).
    pub fn requests_seen(&self) -> usize {
        self.api.control.requests_seen()
    }

    /// How many requests were received for `route`.
    pub fn requests_for(&self, route: Route) -> usize {
        self.api.control.requests_for(route)
    }

    /// Sets every request counter back to zero.
    pub fn reset_counts(&self) {
        self.api.control.reset_counts();
    }

    /// Stops serving: the listener thread exits and open connections are closed.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(listener) = self.listener.take() {
            self.net.shutdown(self.addr, listener);
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}
