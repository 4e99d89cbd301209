//! The simulator itself: the builder, the handle, the accept loop and one thread per
//! connection.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use wechatpay_core::{ConfigBuilder, KeyStore, MchId, PrivateKey, PublicKey, SerialNo, unix_now};

use crate::credentials::{
    Credentials, MCHID, MERCHANT_KEY_PEM, MERCHANT_PUB_PEM, MERCHANT_SERIAL, PLATFORM_CERT_PEM, PUBLIC_KEY_ID,
    WECHATPAY_PUB_PEM,
};
use crate::faults::{Fault, Times};
use crate::orders::{OrderBook, OrderError, OrderKind};
use crate::reply::Reply;
use crate::respond::{self, Signature};
use crate::routes::{self, Route};
use crate::signing::{ResponseKeys, SigningKeyChoice};
use crate::state::{POLL, Shared};
use crate::{auth, http};
/// Most connections served at once; more are closed on accept.
const MAX_CONNECTIONS: usize = 512;
/// How long `stop` waits for connection threads to finish.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Configures a simulator; see [`Simulator::builder`].
#[derive(Debug)]
#[must_use]
pub struct SimBuilder {
    addr: String,
    orders_files: Vec<PathBuf>,
    orders: Vec<(OrderKind, Value)>,
    sub_mchids: Vec<String>,
    signing: SigningKeyChoice,
    seeds: bool,
}

impl SimBuilder {
    fn new() -> Self {
        Self {
            addr: "127.0.0.1:0".to_owned(),
            orders_files: Vec::new(),
            orders: Vec::new(),
            sub_mchids: Vec::new(),
            signing: SigningKeyChoice::default(),
            seeds: true,
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

    /// The key that signs answers when a request's `Wechatpay-Serial` names neither
    /// simulated key (default: the WeChat Pay public key).
    pub fn signing(mut self, choice: SigningKeyChoice) -> Self {
        self.signing = choice;
        self
    }

    /// Whether to start with the seed orders (default `true`).
    pub fn seeds(mut self, seeds: bool) -> Self {
        self.seeds = seeds;
        self
    }

    /// Binds the socket, loads orders and keys, and starts serving.
    ///
    /// # Errors
    /// When the address cannot be bound, or an orders file or order is unusable
    /// ([`io::ErrorKind::InvalidData`]).
    pub fn start(self) -> io::Result<Simulator> {
        let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
        let mut book = if self.seeds { OrderBook::seeded()? } else { OrderBook::empty() };
        for path in &self.orders_files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| io::Error::new(e.kind(), format!("orders file {}: {e}", path.display())))?;
            book.load_str(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        }
        for (kind, order) in self.orders {
            book.add(kind, order)?;
        }
        for sub in self.sub_mchids {
            book.bind(sub);
        }
        let key_error = |what: &str, e: wechatpay_core::KeyError| invalid(format!("built-in {what}: {e}"));
        let merchant_pub =
            PublicKey::from_pem(MERCHANT_PUB_PEM.as_bytes()).map_err(|e| key_error("merchant key", e))?;
        let response_keys = ResponseKeys::load().map_err(|e| key_error("response keys", e))?;
        let merchant_key =
            Arc::new(PrivateKey::from_pem(MERCHANT_KEY_PEM.as_bytes()).map_err(|e| key_error("merchant key", e))?);
        let mut store = KeyStore::new();
        store.add_public_key(PUBLIC_KEY_ID, WECHATPAY_PUB_PEM.as_bytes()).map_err(|e| key_error("public key", e))?;
        store.add_platform_certificates(PLATFORM_CERT_PEM.as_bytes()).map_err(|e| key_error("certificate", e))?;
        let mchid = MchId::new(MCHID).map_err(|e| invalid(e.to_string()))?;
        let serial = SerialNo::new(MERCHANT_SERIAL).map_err(|e| invalid(e.to_string()))?;

        let listener = TcpListener::bind(self.addr.as_str())?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(merchant_pub, response_keys, self.signing, book));
        let accept_shared = Arc::clone(&shared);
        let listener = thread::Builder::new()
            .name("wechatpay-sim-accept".to_owned())
            .spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(Simulator {
            shared,
            addr,
            credentials: Credentials::builtin(),
            merchant_key,
            key_store: Arc::new(store),
            mchid,
            serial,
            listener: Some(listener),
        })
    }
}

/// A running simulator: [`Simulator::start`] for the defaults, [`Simulator::builder`] to
/// configure one. Dropping it stops it.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    credentials: Credentials,
    merchant_key: Arc<PrivateKey>,
    key_store: Arc<KeyStore>,
    mchid: MchId,
    serial: SerialNo,
    listener: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("addr", &self.addr).field("credentials", &self.credentials).finish()
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

    /// `http://127.0.0.1:PORT` (a loopback address even when listening on all interfaces).
    pub fn base_url(&self) -> String {
        format!("http://{}", connectable(self.addr))
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The merchant's ids and the keys of both sides.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A client configuration for the simulated merchant: its mchid and serial, its
    /// private key as signer, a key store with both the WeChat Pay public key and the
    /// platform certificate, and both base URLs pointing at the simulator. Override what
    /// you need before `build()`.
    pub fn config_builder(&self) -> ConfigBuilder {
        wechatpay_core::Config::builder(self.mchid.clone(), self.serial.clone())
            .signer(Arc::clone(&self.merchant_key))
            .verifier(Arc::clone(&self.key_store))
            .base_url(self.base_url())
            .backup_url(self.base_url())
    }

    /// Adds an order while running; it replaces an older one with the same key.
    ///
    /// # Errors
    /// [`OrderError`] when it is not an object with a string `out_trade_no` (and, for a
    /// partner order, `sub_mchid`).
    pub fn add_order(&self, kind: OrderKind, order: Value) -> Result<(), OrderError> {
        self.shared.orders.write().unwrap_or_else(PoisonError::into_inner).add(kind, order)
    }

    /// Binds a sub-merchant to the simulated service provider.
    pub fn bind_sub_mchid(&self, sub_mchid: impl Into<String>) {
        self.shared.orders.write().unwrap_or_else(PoisonError::into_inner).bind(sub_mchid.into());
    }

    /// Injects `fault` for `times` matching requests, on `route` or (with `None`) on every
    /// verified request. Faults are matched in the order injected.
    pub fn inject(&self, fault: Fault, times: Times, route: Option<Route>) {
        self.shared.faults.lock().unwrap_or_else(PoisonError::into_inner).inject(fault, times, route);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// How many requests were received (every parsed request, verified or not, faulted or not).
    pub fn requests_seen(&self) -> usize {
        self.shared.seen.load(Ordering::SeqCst)
    }

    /// How many requests were received for `route`.
    pub fn requests_for(&self, route: Route) -> usize {
        self.shared.per_route[route.index()].load(Ordering::SeqCst)
    }

    /// Sets every request counter back to zero.
    pub fn reset_counts(&self) {
        self.shared.seen.store(0, Ordering::SeqCst);
        for c in &self.shared.per_route {
            c.store(0, Ordering::SeqCst);
        }
    }

    /// Stops serving: the listener thread exits and open connections are closed.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(listener) = self.listener.take() else { return };
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop; if even that fails, leave the thread behind rather than hang.
        if TcpStream::connect_timeout(&connectable(self.addr), Duration::from_secs(1)).is_ok() {
            let _ = listener.join();
        }
        let deadline = Instant::now() + STOP_GRACE;
        while self.shared.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// `addr`, with an unspecified IP replaced by loopback.
fn connectable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port()),
        _ => addr,
    }
}

/// Decrements the active-connection count when a connection thread ends.
struct ActiveGuard(Arc<Shared>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopping() {
            break;
        }
        let Ok(stream) = conn else {
            // Out of descriptors or similar: back off instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        if shared.active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            continue;
        }
        shared.active.fetch_add(1, Ordering::SeqCst);
        let guard = ActiveGuard(Arc::clone(shared));
        let spawned = thread::Builder::new().name("wechatpay-sim-conn".to_owned()).spawn(move || {
            serve_connection(&stream, &guard.0);
            drop(guard);
        });
        // A failed spawn drops the closure, and with it the guard and the stream.
        let _ = spawned;
    }
}

fn serve_connection(stream: &TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_nodelay(true);
    let mut reader = http::Reader::new(stream, &shared.shutdown);
    loop {
        match reader.next_request() {
            http::Next::Closed => return,
            http::Next::Invalid(e) => {
                let reply = Reply::error(e.status, "INVALID_REQUEST", e.message, None);
                let _ = respond::json(stream, shared, &reply, shared.default_signing, Signature::Valid, true);
                return;
            }
            http::Next::Request(req) => {
                if !handle_request(stream, shared, &req) {
                    return;
                }
            }
        }
    }
}

/// Answers one request; `false` when the connection must close.
fn handle_request(stream: &TcpStream, shared: &Shared, req: &http::Request) -> bool {
    shared.seen.fetch_add(1, Ordering::SeqCst);
    let target = routes::match_target(&req.target);
    if let Some(t) = &target {
        shared.per_route[t.route.index()].fetch_add(1, Ordering::SeqCst);
    }
    let close = req.wants_close();
    let choice =
        req.header("wechatpay-serial").and_then(SigningKeyChoice::from_serial).unwrap_or(shared.default_signing);
    let caller = match auth::verify_request(req, &shared.merchant_pub, unix_now()) {
        Ok(caller) => caller,
        Err(reply) => return respond::json(stream, shared, &reply, choice, Signature::Valid, close),
    };
    let route = target.as_ref().map(|t| t.route);
    let fault = shared.faults.lock().unwrap_or_else(PoisonError::into_inner).take(route);
    let normal = || match &target {
        None => Reply::error(404, "NOT_FOUND", "请求的资源不存在 (no such API)", None),
        Some(_) if req.method != "GET" => Reply::error(405, "METHOD_NOT_ALLOWED", "请求方法不被允许 (use GET)", None),
        Some(t) => routes::handle(t, &caller.mchid, &shared.orders.read().unwrap_or_else(PoisonError::into_inner)),
    };
    let send = |reply: &Reply, signature: Signature| respond::json(stream, shared, reply, choice, signature, close);
    let Some(fault) = fault else { return send(&normal(), Signature::Valid) };
    match fault {
        Fault::RateLimited => {
            let code = if route == Some(Route::Parking) { "RATELIMIT_EXCEEDED" } else { "FREQUENCY_LIMITED" };
            send(&Reply::error(429, code, "频率超限", None), Signature::Valid)
        }
        Fault::SystemError => send(&Reply::error(500, "SYSTEM_ERROR", "系统异常，请稍后重试", None), Signature::Valid),
        Fault::HtmlBadGateway => respond::bad_gateway(stream, close),
        Fault::Delay(d) => shared.sleep(d) && send(&normal(), Signature::Valid),
        Fault::Hang => {
            while shared.sleep(Duration::from_secs(3600)) {}
            false
        }
        Fault::DropConnection => false,
        Fault::TamperedBody => send(&normal(), Signature::Tampered),
        Fault::StaleTimestamp => send(&normal(), Signature::Stale),
        Fault::SignTestProbe => send(&normal(), Signature::Probe),
        Fault::UnknownSerial => send(&normal(), Signature::UnknownSerial),
        Fault::UnsignedOk => send(&normal(), Signature::None),
        Fault::InvalidJson => send(&Reply { status: 200, body: Arc::from(&b"{not json"[..]) }, Signature::Valid),
        Fault::OversizedBody(n) => respond::oversized(stream, shared, n, close),
    }
}
