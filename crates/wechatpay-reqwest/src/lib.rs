//! An async WeChat Pay API v3 (微信支付 APIv3) client: [`wechatpay_core`] over [`reqwest`].
//!
//! The call loop — signing every attempt afresh, verifying and parsing, retries, failover,
//! tracing — is the core's [`Driver`]; this crate only builds the HTTP client, sends, reads
//! the body under the cap while it streams, and classifies reqwest's errors.
//!
//! ```no_run
//! use std::time::Duration;
//! use wechatpay_core::{api::QueryOrderByOutTradeNo, Config, Error, KeyStore, MchId, OutTradeNo,
//!                      PrivateKey, SerialNo};
//! use wechatpay_reqwest::Client;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
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
//! match client.execute(&op).await {
//!     Ok(order) => println!("{:?}", order.trade_state),
//!     Err(Error::Api(e)) => println!("WeChat Pay said {} (Request-ID {:?})", e.code, e.request_id),
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(())
//! # }
//! # fn main() {}
//! ```
//!
//! # What the client does on the wire
//!
//! - Attempt 1 goes to [`Host::Primary`](wechatpay_core::Host::Primary); later attempts go
//!   where the policy says (the backup host after connection-level failures, by default).
//! - No redirects are followed, no retries happen inside reqwest, and responses are never
//!   compressed (`Accept-Encoding: identity`).
//! - Each attempt is bounded by [`ClientBuilder::timeout`] (default [`DEFAULT_TIMEOUT`])
//!   and by what is left of the policy's deadline, whichever is shorter.
//! - The body is read chunk by chunk and reading stops one byte past
//!   [`Config::max_body_bytes`]; the core then refuses it with
//!   [`Error::BodyTooLarge`](wechatpay_core::Error::BodyTooLarge). A too-large
//!   `Content-Length` is refused before any of the body is read.
//!
//! # TLS
//!
//! TLS verification is always on. The default feature `rustls` enables reqwest's `rustls`
//! feature (rustls with the aws-lc-rs provider and the platform's root certificates). To
//! trust an extra CA (a corporate proxy), build the reqwest client yourself with
//! `reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(..)?)`
//! plus the settings listed at [`ClientBuilder::http_client`], and hand it in there.
//!
//! # Tracing
//!
//! The spans and events are the core's: see [`wechatpay_core::transport`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use http::HeaderValue;
use http::header::ACCEPT_ENCODING;
use wechatpay_core::transport::{AsyncTransport, Driver, Limits};
use wechatpay_core::{Config, Error, Operation, RetryPolicy, TransportError, TransportErrorKind};

pub use reqwest;
pub use wechatpay_core;

/// Default limit on one attempt, from connecting to the end of the body: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = wechatpay_core::transport::DEFAULT_ATTEMPT_TIMEOUT;
/// Default limit on establishing a connection (TCP and TLS): 5 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An async WeChat Pay client. Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    driver: Driver,
    http: Sender,
}

/// Sends through reqwest: the [`AsyncTransport`] of this crate.
#[derive(Clone, Debug)]
struct Sender(reqwest::Client);

/// Builds a [`Client`]; see [`Client::builder`].
#[must_use]
#[derive(Debug)]
pub struct ClientBuilder {
    driver: Driver,
    connect_timeout: Duration,
    http: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// How to retry (default [`RetryPolicy::default`]: 3 attempts, failover on).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.driver = self.driver.with_retry_policy(policy);
        self
    }

    /// Limit on establishing a connection (default [`DEFAULT_CONNECT_TIMEOUT`]). Ignored
    /// when you bring your own client with [`ClientBuilder::http_client`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit on one attempt, from connecting to the end of the body
    /// (default [`DEFAULT_TIMEOUT`]). The policy's deadline can shorten it further.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.driver = self.driver.with_attempt_timeout(timeout);
        self
    }

    /// Sends through `client` instead of one built here.
    ///
    /// The per-attempt timeout and `Accept-Encoding: identity` are still applied to every
    /// request, but the rest is up to you: build it with
    /// `redirect(reqwest::redirect::Policy::none())`, `retry(reqwest::retry::never())`,
    /// without decompression features, and never disable certificate verification.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Transport`] (kind [`TransportErrorKind::Other`]) when reqwest cannot build
    /// its client (e.g. the TLS backend fails to initialise).
    pub fn build(self) -> Result<Client, Error> {
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .retry(reqwest::retry::never())
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| Error::Transport(TransportError::other(e)))?,
        };
        Ok(Client { driver: self.driver, http: Sender(http) })
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
            http: None,
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
    ///
    /// # Errors
    /// Any [`wechatpay_core::Error`]: the last attempt's error when the policy gives up.
    /// A verification failure is never turned into data.
    pub async fn execute<Op: Operation>(&self, op: &Op) -> Result<Op::Output, Error> {
        self.driver.execute_async(&self.http, tokio::time::sleep, op).await
    }
}

impl AsyncTransport for Sender {
    async fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        let limits = request.extensions().get::<Limits>().copied().unwrap_or_default();
        let mut request = reqwest::Request::try_from(request).map_err(transport_error)?;
        request.headers_mut().insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        *request.timeout_mut() = Some(limits.timeout);
        let mut response = self.0.execute(request).await.map_err(transport_error)?;
        let mut head = http::Response::new(Vec::new());
        *head.status_mut() = response.status();
        *head.version_mut() = response.version();
        *head.headers_mut() = std::mem::take(response.headers_mut());
        *head.body_mut() = read_capped(&mut response, limits.max_body_bytes).await?;
        Ok(head)
    }
}

/// Reads the body chunk by chunk, refusing it as soon as it (or its declared length) passes
/// `limit` bytes.
async fn read_capped(response: &mut reqwest::Response, limit: usize) -> Result<Vec<u8>, TransportError> {
    let declared = response.content_length();
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(TransportError::body_too_large(limit));
    }
    let mut body = Vec::with_capacity(declared.map_or(8 * 1024, |len| len as usize).min(64 * 1024));
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if chunk.len() > limit - body.len() {
            return Err(TransportError::body_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport_error(err: reqwest::Error) -> TransportError {
    TransportError::new(classify(&err), err.without_url())
}

/// Maps a reqwest error to the kind that drives retries and failover.
fn classify(err: &reqwest::Error) -> TransportErrorKind {
    if err.is_timeout() {
        return TransportErrorKind::Timeout;
    }
    if err.is_dns() {
        return TransportErrorKind::Dns;
    }
    let io_kind = io_kind_in_chain(err);
    if err.is_connect() {
        // rustls (through hyper-rustls / tokio-rustls) reports handshake and certificate
        // failures as `io::ErrorKind::InvalidData`.
        return match io_kind {
            Some(io::ErrorKind::InvalidData) => TransportErrorKind::Tls,
            Some(io::ErrorKind::TimedOut) => TransportErrorKind::Timeout,
            _ => TransportErrorKind::Connect,
        };
    }
    match io_kind {
        Some(io::ErrorKind::TimedOut) => TransportErrorKind::Timeout,
        Some(io::ErrorKind::ConnectionRefused) => TransportErrorKind::Connect,
        Some(_) => TransportErrorKind::Io,
        // A connection that broke while the request or the body was in flight.
        None if err.is_request() || err.is_body() => TransportErrorKind::Io,
        None => TransportErrorKind::Other,
    }
}

fn io_kind_in_chain(err: &(dyn StdError + 'static)) -> Option<io::ErrorKind> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        next = e.source();
    }
    None
}
