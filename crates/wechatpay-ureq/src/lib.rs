#![doc = include_str!("../README.md")]

mod bill;
mod resolver;

use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use wechatpay_core::api::Closed;
use wechatpay_core::certificates::RefreshOutcome;
use wechatpay_core::charge::{ChargeCodepay, ChargeOutcome, ChargePolicy, ChargeStep};
use wechatpay_core::env::{EnvError, Loader};
use wechatpay_core::transport::{DEFAULT_CONNECT_TIMEOUT, Driver, Limits, Transport};
use wechatpay_core::watch::{StateChange, WatchOutcome, WatchPolicy, WatchQuery};
use wechatpay_core::{Error, TransportError, TransportErrorKind, api::Operation};

pub use ureq;
pub use wechatpay_core;

/// A blocking WeChat Pay client. Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    driver: Driver,
    agent: Sender,
}

/// Sends through ureq: the [`Transport`] of this crate.
#[derive(Clone, Debug)]
struct Sender(ureq::Agent);

/// The agent settings this crate needs (4xx/5xx read as answers, no redirects, no compression,
/// [`DEFAULT_CONNECT_TIMEOUT`], [`tls_config`]); change what you need and build with [`agent`].
pub fn agent_config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .accept_encoding("identity")
        .timeout_connect(Some(DEFAULT_CONNECT_TIMEOUT));
    #[cfg(feature = "rustls")]
    let config = config.tls_config(tls_config().build());
    config
}

/// An agent with `config` that resolves IP-literal hosts without a thread per lookup.
pub fn agent(config: ureq::config::Config) -> ureq::Agent {
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        resolver::LiteralFirstResolver::default(),
    )
}

/// rustls with the aws-lc-rs provider and the webpki roots; change `.root_certs(..)` to trust others.
#[cfg(feature = "rustls")]
pub fn tls_config() -> ureq::tls::TlsConfigBuilder {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::WebPki)
        .unversioned_rustls_crypto_provider(provider)
}

/// The core's [`Loader`] over this process: variables from [`std::env::var_os`], files
/// from [`std::fs::read`], and a directory in `WECHATPAY_PLATFORM_CERTS` adds every `.pem`
/// in it. [`Client::from_env`] uses it; use it for the APIv3 key too
/// (`env_loader().apiv3_key()?`, e.g. for notifications).
pub fn env_loader() -> Loader<'static> {
    Loader::from_process()
}

impl Client {
    /// A client configured by the `WECHATPAY_*` variables and the files they name — the
    /// same ones the `wechatpay` command reads (see [`wechatpay_core::env`]) — with the
    /// per-attempt timeout of `WECHATPAY_TIMEOUT`, if set.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = wechatpay_ureq::Client::from_env()?;
    /// # let _ = client; Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`EnvError`] naming the variable missing or broken and its rule (never a secret).
    pub fn from_env() -> Result<Client, EnvError> {
        Self::from_loader(&env_loader())
    }

    /// [`Client::from_env`] with the variables and files `loader` reads (tests, a
    /// configuration kept elsewhere).
    ///
    /// # Errors
    /// As [`Client::from_env`].
    pub fn from_loader(loader: &Loader<'_>) -> Result<Client, EnvError> {
        let loaded = loader.load()?;
        let mut driver = Driver::new(loaded.config);
        if let Some(timeout) = loaded.timeout {
            driver = driver.with_attempt_timeout(timeout);
        }
        Ok(Self::new(driver))
    }

    /// A client running `driver`'s call loop (a [`Driver`], or a
    /// [`Config`](wechatpay_core::Config) with the default loop) over [`agent_config`]'s agent.
    pub fn new(driver: impl Into<Driver>) -> Client {
        Self::with_agent(driver, agent(agent_config().build()))
    }

    /// A client that sends through `agent` (start from [`agent_config`]: it sets a TLS crypto
    /// provider); no redirects, no compression and the attempt timeout apply to every request.
    pub fn with_agent(driver: impl Into<Driver>, agent: ureq::Agent) -> Client {
        Client { driver: driver.into(), agent: Sender(agent) }
    }

    /// The call loop's settings: configuration, retry policy, per-attempt timeout.
    pub fn driver(&self) -> &Driver {
        &self.driver
    }

    /// Calls `op` through [`Driver::execute`], blocking and sleeping between attempts.
    /// # Errors
    /// As [`Driver::execute`]: the last attempt's error; a verification failure is never data.
    pub fn execute<Op: Operation>(&self, op: &Op) -> Result<Op::Output, Error> {
        self.driver.execute(&self.agent, std::thread::sleep, op)
    }

    /// Closes an unpaid order (`CloseOrder`, `ClosePartnerOrder`): `Ok` on the signed `204`.
    /// # Errors
    /// As [`Client::execute`].
    pub fn close<Op: Operation<Output = Closed>>(&self, op: &Op) -> Result<(), Error> {
        self.execute(op).map(drop)
    }

    /// Asks until the order's state is final or unknown, or the deadline comes
    /// ([`Driver::watch`]), calling `on_change` with each change of state.
    /// # Errors
    /// The error of a query (or close) that failed after its retries.
    pub fn watch<Q: WatchQuery>(
        &self,
        op: &Q,
        policy: &WatchPolicy,
        on_change: impl FnMut(&StateChange<'_, Q::Output>),
    ) -> Result<WatchOutcome<Q::Output>, Error> {
        self.driver.watch(&self.agent, std::thread::sleep, op, policy, on_change)
    }

    /// Charges a scanned payment code to a known end ([`Driver::charge`]; the rules are in
    /// [`wechatpay_core::charge`]), blocking: the codepay once, queries, and a reverse at the
    /// deadline, calling `on_step` at each step. [`ChargeOutcome::Unresolved`] is the one end
    /// a till must escalate.
    /// # Errors
    /// Only when nothing was charged: the codepay was invalid, refused with a business `4xx`,
    /// or never reached WeChat Pay.
    pub fn charge<C: ChargeCodepay>(
        &self,
        op: &C,
        policy: &ChargePolicy,
        on_step: impl FnMut(&ChargeStep<'_, C::Order>),
    ) -> Result<ChargeOutcome<C::Order>, Error> {
        self.driver.charge(&self.agent, std::thread::sleep, op, policy, on_step)
    }

    /// Downloads and installs the platform certificates now: [`Driver::refresh_certificates`].
    /// # Errors
    /// As [`Driver::refresh_certificates`].
    pub fn refresh_certificates(&self) -> Result<RefreshOutcome, Error> {
        self.driver.refresh_certificates(&self.agent, std::thread::sleep)
    }

    /// Keeps the platform certificates fresh on a thread of its own, on the refresher's
    /// schedule (a blocking client has no runtime to lend; calls never wait for it). Dropping
    /// the handle stops it. `Ok(None)` when the driver has no certificate refresher.
    /// # Errors
    /// When the thread cannot be started.
    pub fn spawn_certificate_refresh(&self) -> std::io::Result<Option<RefreshThread>> {
        let Some(refresher) = self.driver.certificate_refresher().cloned() else { return Ok(None) };
        let (stop, stopped) = mpsc::channel::<()>();
        let client = self.clone();
        std::thread::Builder::new().name("wechatpay-certificates".into()).spawn(move || {
            // Wakes when the schedule says; ends when the handle is dropped.
            let next = || refresher.next_refresh_in(SystemTime::now());
            while stopped.recv_timeout(next()) == Err(mpsc::RecvTimeoutError::Timeout) {
                let _logged_by_the_core = client.refresh_certificates();
            }
        })?;
        Ok(Some(RefreshThread { _stop: stop }))
    }
}

/// The refresh thread of [`Client::spawn_certificate_refresh`]; dropping it stops the thread.
#[derive(Debug)]
#[must_use = "dropping the handle stops the refresh"]
pub struct RefreshThread {
    _stop: mpsc::Sender<()>,
}

impl Transport for Sender {
    fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        let limits = request.extensions().get::<Limits>().copied().unwrap_or_default();
        let (parts, body) = request.into_parts();
        let response = if body.is_empty() {
            // `()` sends no body and no `Content-Length: 0` on a GET.
            self.run(http::Request::from_parts(parts, ()), limits.timeout)
        } else {
            self.run(http::Request::from_parts(parts, body), limits.timeout)
        }
        .map_err(|e| self.transport_error(e))?;
        // ureq's own limit: reading stops one byte past the cap.
        let (parts, mut body) = response.into_parts();
        let limit = limits.max_body_bytes;
        let body = body.with_config().limit(limit as u64).read_to_vec().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => TransportError::body_too_large(limit),
            other => self.transport_error(other),
        })?;
        Ok(http::Response::from_parts(parts, body))
    }
}

impl Sender {
    /// Sends with the settings every request needs, whoever built the agent.
    fn run(
        &self,
        request: http::Request<impl ureq::AsSendBody>,
        timeout: Duration,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        let request = (self.0.configure_request(request))
            .http_status_as_error(false)
            .max_redirects(0)
            .accept_encoding("identity")
            .timeout_global(Some(timeout))
            .build();
        self.0.run(request)
    }
}

impl Sender {
    /// Maps a ureq error to the kind that drives retries and failover, keeping the operating
    /// system's `io::Error` as the source (the core words "connection refused by …" from it)
    /// and, for a connect timeout, the agent's connect limit (the core knows only the attempt's).
    fn transport_error(&self, err: ureq::Error) -> TransportError {
        use ureq::Error as E;
        let kind = match &err {
            E::Timeout(_) => TransportErrorKind::Timeout,
            E::HostNotFound => TransportErrorKind::Dns,
            E::ConnectionFailed => TransportErrorKind::Connect,
            // rustls' handshake and certificate errors arrive as an `InvalidData` `io::Error`.
            #[cfg(feature = "rustls")]
            E::Io(io) if io.get_ref().is_some_and(|e| e.is::<rustls::Error>()) => TransportErrorKind::Tls,
            E::Io(io) => TransportErrorKind::from_io(io.kind()),
            E::Tls(_) | E::TlsRequired => TransportErrorKind::Tls,
            #[cfg(feature = "rustls")]
            E::Rustls(_) => TransportErrorKind::Tls,
            E::Protocol(_) | E::BodyStalled => TransportErrorKind::Io,
            _ => TransportErrorKind::Other,
        };
        match err {
            E::Io(io) => TransportError::new(kind, io),
            E::Timeout(ureq::Timeout::Connect) => match self.0.config().timeouts().connect {
                Some(limit) => TransportError::new(kind, err).after(limit),
                None => TransportError::new(kind, err),
            },
            other => TransportError::new(kind, other),
        }
    }
}
