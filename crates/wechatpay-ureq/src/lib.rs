//! A blocking WeChat Pay API v3 (微信支付 APIv3) client: [`wechatpay_core`] over [`ureq`].
//!
//! The call loop — signing every attempt afresh, verifying and parsing, retries, failover,
//! tracing — is the core's [`Driver`]; this crate only builds the agent, sends, reads the
//! body under the cap, and classifies ureq's errors.
//!
//! ```no_run
//! use std::time::Duration;
//! use wechatpay_core::{api::QueryOrderByOutTradeNo, Config, Error, KeyStore, MchId, OutTradeNo,
//!                      PrivateKey, SerialNo};
//! use wechatpay_ureq::Client;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let merchant_key = PrivateKey::from_pem(&std::fs::read("apiclient_key.pem")?)?;
//! let mut keys = KeyStore::new();
//! keys.add_public_key("PUB_KEY_ID_0114232019092600000000000000000001", &std::fs::read("pub_key.pem")?)?;
//! let config = Config::builder(MchId::new("1230000109")?, SerialNo::new("444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0")?,
//!                              merchant_key, keys)
//!     .wechatpay_serial("PUB_KEY_ID_0114232019092600000000000000000001")
//!     .build()?;
//!
//! // Build once and share: `Client` is cheap to clone and pools connections.
//! let client = Client::builder(config).timeout(Duration::from_secs(10)).build()?;
//!
//! let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018")? };
//! match client.execute(&op) {
//!     Ok(order) => println!("{:?}", order.trade_state),
//!     Err(Error::Api(e)) => println!("WeChat Pay said {} (Request-ID {:?})", e.code, e.request_id),
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # What the client does on the wire
//!
//! - Attempts go where the core's policy says (primary first, the backup host after
//!   connection-level failures by default); each is bounded by [`ClientBuilder::timeout`]
//!   (default [`DEFAULT_TIMEOUT`]) and what is left of the deadline (ureq's `timeout_global`).
//! - No redirects, 4xx/5xx answers read like any other, no compression
//!   (`Accept-Encoding: identity`) — set on every request, even on an agent you bring.
//! - The body is read with ureq's own limit at [`Config::max_body_bytes`]; a longer body,
//!   or a longer declared `Content-Length`, is refused with
//!   [`Error::BodyTooLarge`](wechatpay_core::Error::BodyTooLarge).
//!
//! # TLS
//!
//! TLS verification is always on. The default feature `rustls` uses rustls with the
//! aws-lc-rs provider (the crypto the core already uses: no `ring`) and the webpki roots. To
//! trust an extra CA (a corporate proxy), build an agent from [`tls_config`] with
//! `.root_certs(ureq::tls::RootCerts::new_with_certs(&[..]))` and hand it in with
//! [`ClientBuilder::agent`].
//!
//! ureq is pinned to one exact version: this crate uses ureq's `unversioned` APIs (the
//! resolver below and the rustls crypto provider), which ureq may change in a minor release.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod resolver;

use std::time::Duration;

use http::header::CONTENT_LENGTH;
use wechatpay_core::transport::{Driver, Limits, Transport};
use wechatpay_core::{Config, Error, Operation, RetryPolicy, TransportError, TransportErrorKind};

pub use ureq;
pub use wechatpay_core;

/// Default limit on one attempt, from resolving the host to the end of the body: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = wechatpay_core::transport::DEFAULT_ATTEMPT_TIMEOUT;
/// Default limit on establishing a connection (TCP and TLS): 5 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A blocking WeChat Pay client. Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    driver: Driver,
    agent: Sender,
}

/// Sends through ureq: the [`Transport`] of this crate.
#[derive(Clone, Debug)]
struct Sender(ureq::Agent);

/// Builds a [`Client`]; see [`Client::builder`].
#[must_use]
#[derive(Debug)]
pub struct ClientBuilder {
    driver: Driver,
    connect_timeout: Duration,
    agent: Option<ureq::Agent>,
}

/// The TLS settings of the default agent: rustls with the aws-lc-rs provider and the
/// webpki roots. Start from it to build an agent of your own (e.g. with other roots).
#[cfg(feature = "rustls")]
pub fn tls_config() -> ureq::tls::TlsConfigBuilder {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::WebPki)
        .unversioned_rustls_crypto_provider(provider)
}

impl ClientBuilder {
    /// How to retry (default [`RetryPolicy::default`]: 3 attempts, failover on).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.driver = self.driver.with_retry_policy(policy);
        self
    }

    /// Limit on establishing a connection (default [`DEFAULT_CONNECT_TIMEOUT`]). Ignored
    /// when you bring your own agent with [`ClientBuilder::agent`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit on one attempt, from resolving the host to the end of the body
    /// (default [`DEFAULT_TIMEOUT`]). The policy's deadline can shorten it further.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.driver = self.driver.with_attempt_timeout(timeout);
        self
    }

    /// Sends through `agent` instead of one built here. No redirects,
    /// `http_status_as_error(false)`, the per-attempt timeout and `Accept-Encoding: identity`
    /// are still applied to every request. Give it a TLS configuration with a crypto provider
    /// (start from [`tls_config`]) and never disable certificate verification on it.
    pub fn agent(mut self, agent: ureq::Agent) -> Self {
        self.agent = Some(agent);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for fallible transport setup.
    pub fn build(self) -> Result<Client, Error> {
        let agent = self.agent.unwrap_or_else(|| {
            let config = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .accept_encoding("identity")
                .timeout_connect(Some(self.connect_timeout));
            #[cfg(feature = "rustls")]
            let config = config.tls_config(tls_config().build());
            ureq::Agent::with_parts(
                config.build(),
                ureq::unversioned::transport::DefaultConnector::default(),
                resolver::LiteralFirstResolver::default(),
            )
        });
        Ok(Client { driver: self.driver, agent: Sender(agent) })
    }
}

impl Client {
    /// A client with the default options.
    ///
    /// # Errors
    /// As [`ClientBuilder::build`].
    pub fn new(config: Config) -> Result<Client, Error> {
        Self::builder(config).build()
    }

    /// Starts a client for `config` (which holds the signer, verifier and base URLs).
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder {
            driver: Driver::new(config).with_attempt_timeout(DEFAULT_TIMEOUT),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            agent: None,
        }
    }

    /// The core configuration.
    pub fn config(&self) -> &Config {
        self.driver.config()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        self.driver.retry_policy()
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.driver.attempt_timeout()
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
