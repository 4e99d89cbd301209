#![doc = include_str!("../README.md")]

mod resolver;

use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use http::header::CONTENT_LENGTH;
use wechatpay_core::api::Closed;
use wechatpay_core::certificates::RefreshOutcome;
use wechatpay_core::transport::{DEFAULT_CONNECT_TIMEOUT, Driver, Limits, Transport};
use wechatpay_core::watch::{StateChange, WatchOutcome, WatchPolicy, WatchQuery};
use wechatpay_core::{Error, Operation, TransportError, TransportErrorKind};

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

/// The agent settings this crate needs: 4xx/5xx read as answers, no redirects, no
/// compression, a [`DEFAULT_CONNECT_TIMEOUT`], and with the `rustls` feature [`tls_config`].
/// Change what you need (e.g. the roots of the TLS configuration) and build an agent with
/// [`agent`].
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

/// An agent with `config` that answers IP-literal hosts without ureq's thread-per-lookup
/// resolver (see the `resolver` module).
pub fn agent(config: ureq::config::Config) -> ureq::Agent {
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        resolver::LiteralFirstResolver::default(),
    )
}

/// The TLS settings of the default agent: rustls with the aws-lc-rs provider and the
/// webpki roots. Start from it to trust other roots (`.root_certs(..)`).
#[cfg(feature = "rustls")]
pub fn tls_config() -> ureq::tls::TlsConfigBuilder {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::WebPki)
        .unversioned_rustls_crypto_provider(provider)
}

impl Client {
    /// A client that runs `driver`'s call loop — a [`Config`](wechatpay_core::Config) (signer,
    /// verifier, base URLs) or a [`Driver`] with its retry policy and per-attempt timeout —
    /// over an agent built from [`agent_config`].
    pub fn new(driver: impl Into<Driver>) -> Client {
        Self::with_agent(driver, agent(agent_config().build()))
    }

    /// A client that sends through `agent`. No redirects, `http_status_as_error(false)`, the
    /// per-attempt timeout and `Accept-Encoding: identity` are applied to every request; give
    /// it a TLS configuration with a crypto provider (start from [`agent_config`]).
    pub fn with_agent(driver: impl Into<Driver>, agent: ureq::Agent) -> Client {
        Client { driver: driver.into(), agent: Sender(agent) }
    }

    /// The call loop's settings: configuration, retry policy, per-attempt timeout.
    pub fn driver(&self) -> &Driver {
        &self.driver
    }

    /// Calls `op`: signs, sends, verifies and parses, retrying as the policy decides.
    /// Blocks the calling thread, sleeping between attempts.
    ///
    /// # Errors
    /// Any [`wechatpay_core::Error`]: the last attempt's error when the policy gives up.
    /// A verification failure is never turned into data.
    pub fn execute<Op: Operation>(&self, op: &Op) -> Result<Op::Output, Error> {
        self.driver.execute(&self.agent, std::thread::sleep, op)
    }

    /// Closes an unpaid order ([`CloseOrder`](wechatpay_core::api::CloseOrder) or
    /// [`ClosePartnerOrder`](wechatpay_core::api::ClosePartnerOrder)); `Ok` on WeChat Pay's
    /// signed `204`. Query first: close only a `NOTPAY` order ([`Client::watch`] can).
    ///
    /// # Errors
    /// As [`Client::execute`].
    pub fn close<Op: Operation<Output = Closed>>(&self, op: &Op) -> Result<(), Error> {
        self.execute(op).map(drop)
    }

    /// Asks about the order `op` names until its state is final or unknown, or `policy`'s
    /// deadline comes (closing a `NOTPAY` order then if the policy says so); see
    /// [`wechatpay_core::watch`]. Blocks, sleeping between questions. Each change of state
    /// is a `tracing` event.
    ///
    /// # Errors
    /// The error of a query (or close) that failed after its retries.
    pub fn watch<Q: WatchQuery>(&self, op: &Q, policy: &WatchPolicy) -> Result<WatchOutcome<Q::Output>, Error> {
        self.watch_with(op, policy, |_| {})
    }

    /// [`Client::watch`], calling `on_change` with each change of state.
    ///
    /// # Errors
    /// As [`Client::watch`].
    pub fn watch_with<Q: WatchQuery>(
        &self,
        op: &Q,
        policy: &WatchPolicy,
        on_change: impl FnMut(&StateChange<'_, Q::Output>),
    ) -> Result<WatchOutcome<Q::Output>, Error> {
        self.driver.watch(&self.agent, std::thread::sleep, op, policy, on_change)
    }

    /// Downloads the platform certificates now and installs them (the driver needs a
    /// [`CertificateRefresher`](wechatpay_core::certificates::CertificateRefresher)). Blocks.
    ///
    /// # Errors
    /// As [`Driver::refresh_certificates`].
    pub fn refresh_certificates(&self) -> Result<RefreshOutcome, Error> {
        self.driver.refresh_certificates(&self.agent, std::thread::sleep)
    }

    /// Keeps the platform certificates fresh on a thread of its own that downloads on the
    /// refresher's schedule (a blocking client has no runtime to lend; calls never wait for
    /// it, and failures are logged by the core and retried with backoff). Dropping the handle
    /// stops the thread at its next wake-up, without waiting. `Ok(None)` when the driver has
    /// no certificate refresher.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn spawn_certificate_refresh(&self) -> std::io::Result<Option<RefreshThread>> {
        let Some(refresher) = self.driver.certificate_refresher().cloned() else { return Ok(None) };
        let (stop, stopped) = mpsc::channel::<()>();
        let client = self.clone();
        std::thread::Builder::new().name("wechatpay-certificates".into()).spawn(move || {
            // Wakes when the schedule says, or ends when the handle is dropped.
            while let Err(mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(refresher.next_refresh_in(SystemTime::now()))
            {
                let _logged_by_the_core = client.refresh_certificates();
            }
        })?;
        Ok(Some(RefreshThread { _stop: stop }))
    }
}

/// The background certificate refresh of [`Client::spawn_certificate_refresh`]; dropping it
/// stops the thread.
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
        .map_err(transport_error)?;
        let (parts, mut body) = response.into_parts();
        let limit = limits.max_body_bytes;
        let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
        if declared.is_some_and(|len| len > limit as u64) {
            return Err(TransportError::body_too_large(limit));
        }
        let body = body.with_config().limit(limit as u64).read_to_vec().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => TransportError::body_too_large(limit),
            other => transport_error(other),
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

/// Maps a ureq error (ureq wraps its own errors in `io::Error` while reading a body) to the
/// kind that drives retries and failover.
fn transport_error(err: ureq::Error) -> TransportError {
    use std::io::ErrorKind as Io;
    use ureq::Error as E;
    let kind = match &err {
        E::Timeout(_) => TransportErrorKind::Timeout,
        E::HostNotFound => TransportErrorKind::Dns,
        E::ConnectionFailed => TransportErrorKind::Connect,
        // rustls' handshake and certificate errors arrive as an `InvalidData` `io::Error`.
        #[cfg(feature = "rustls")]
        E::Io(io) if io.get_ref().is_some_and(|e| e.is::<rustls::Error>()) => TransportErrorKind::Tls,
        E::Io(io) => match io.kind() {
            Io::TimedOut | Io::WouldBlock => TransportErrorKind::Timeout,
            Io::ConnectionRefused | Io::AddrNotAvailable | Io::NetworkUnreachable | Io::HostUnreachable => {
                TransportErrorKind::Connect
            }
            _ => TransportErrorKind::Io,
        },
        E::Tls(_) | E::TlsRequired => TransportErrorKind::Tls,
        #[cfg(feature = "rustls")]
        E::Rustls(_) => TransportErrorKind::Tls,
        E::Protocol(_) | E::BodyStalled => TransportErrorKind::Io,
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, err)
}
