//! An async WeChat Pay API v3 (微信支付 APIv3) client: [`wechatpay_core`] over [`reqwest`].
//!
//! The core signs requests and verifies and parses answers; this crate only sends, reads,
//! sleeps and loops. Every retry, failover and backoff decision comes from the core's
//! [`RetryPolicy::decide`], and every attempt is signed afresh (new timestamp and nonce).
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
//! let config = Config::builder(MchId::new("1230000109")?, SerialNo::new("444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0")?)
//!     .signer(merchant_key)
//!     .verifier(keys)
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
//! - Attempt 1 goes to [`Host::Primary`]; later attempts go where the policy says (the
//!   backup host after connection-level failures, by default).
//! - No redirects are followed, no retries happen inside reqwest, and responses are never
//!   compressed (`Accept-Encoding: identity`).
//! - Each attempt is bounded by [`ClientBuilder::timeout`] (default [`DEFAULT_TIMEOUT`])
//!   and by what is left of the policy's [`RetryPolicy::deadline`], whichever is shorter.
//! - The response body is read chunk by chunk and refused with [`Error::BodyTooLarge`] as
//!   soon as it passes [`Config::max_body_bytes`]; a too-large `Content-Length` is refused
//!   before any of the body is read.
//!
//! # TLS
//!
//! TLS verification is always on. The default feature `rustls` enables reqwest's `rustls`
//! feature (rustls with the aws-lc-rs provider and the platform's root certificates). The
//! choice is yours: turn off default features and enable another reqwest TLS feature in
//! your own `Cargo.toml`, or hand in a fully configured client with
//! [`ClientBuilder::http_client`].
//!
//! # Tracing
//!
//! Each call runs in a `wechatpay.call` span (fields `operation`, `attempts`, `status`,
//! `request_id`, `elapsed_ms`) and each attempt in a `wechatpay.attempt` span (`attempt`,
//! `host`, `status`, `request_id`, `elapsed_ms`). Headers, bodies, keys and signatures are
//! never recorded.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderValue;
use http::header::ACCEPT_ENCODING;
use tracing::field::Empty;
use tracing::{Instrument as _, Span};
use wechatpay_core::{
    Config, Decision, Error, Host, Operation, RetryPolicy, SigningInput, TransportError, TransportErrorKind, unix_now,
};

pub use reqwest;
pub use wechatpay_core;

/// Default limit on one attempt, from connecting to the end of the body: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit on establishing a connection (TCP and TLS): 5 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An async WeChat Pay client. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: reqwest::Client,
    policy: RetryPolicy,
    timeout: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("policy", &self.inner.policy)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]; see [`Client::builder`].
#[must_use]
pub struct ClientBuilder {
    config: Config,
    policy: RetryPolicy,
    connect_timeout: Duration,
    timeout: Duration,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("policy", &self.policy)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("http_client", &self.http.is_some())
            .finish()
    }
}

impl ClientBuilder {
    /// How to retry (default [`RetryPolicy::default`]: 3 attempts, failover on).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
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
        self.timeout = timeout;
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
                .map_err(|e| Error::Transport(TransportError::new(TransportErrorKind::Other, e)))?,
        };
        Ok(Client { inner: Arc::new(Inner { config: self.config, http, policy: self.policy, timeout: self.timeout }) })
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
            config,
            policy: RetryPolicy::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            http: None,
        }
    }

    /// The core configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Calls `op`: signs, sends, verifies and parses, retrying as the policy decides.
    ///
    /// # Errors
    /// Any [`wechatpay_core::Error`]: the last attempt's error when the policy gives up.
    /// A verification failure is never turned into data.
    pub async fn execute<Op: Operation>(&self, op: &Op) -> Result<Op::Output, Error> {
        let span = tracing::info_span!(
            "wechatpay.call",
            operation = Op::NAME,
            attempts = Empty,
            status = Empty,
            request_id = Empty,
            elapsed_ms = Empty,
        );
        self.execute_inner(op, span.clone()).instrument(span).await
    }

    async fn execute_inner<Op: Operation>(&self, op: &Op, span: Span) -> Result<Op::Output, Error> {
        let policy = &self.inner.policy;
        let started = Instant::now();
        let mut host = Host::Primary;
        let mut attempt: u32 = 1;
        loop {
            let attempt_span = tracing::debug_span!(
                "wechatpay.attempt",
                attempt,
                host = %host,
                status = Empty,
                request_id = Empty,
                elapsed_ms = Empty,
            );
            let attempt_started = Instant::now();
            let remaining = policy.deadline.saturating_sub(started.elapsed());
            let mut seen = Seen::default();
            let result = if remaining.is_zero() {
                Err(Error::Transport(TransportError::of_kind(TransportErrorKind::Timeout).on_host(host)))
            } else {
                let timeout = self.inner.timeout.min(remaining);
                self.attempt::<Op>(op, host, timeout, &mut seen).instrument(attempt_span.clone()).await
            };
            seen.record(&attempt_span);
            attempt_span.record("elapsed_ms", millis(attempt_started.elapsed()));
            let err = match result {
                Ok(output) => {
                    seen.record(&span);
                    span.record("attempts", attempt);
                    span.record("elapsed_ms", millis(started.elapsed()));
                    tracing::debug!(parent: &span, attempt, "call succeeded");
                    return Ok(output);
                }
                Err(err) => err,
            };
            match policy.decide(attempt, started.elapsed(), &err, host, wechatpay_core::retry::jitter()) {
                Decision::Retry { host: next, delay } => {
                    tracing::debug!(
                        parent: &span,
                        attempt,
                        error = err.label(),
                        code = err.api_code(),
                        next_host = %next,
                        delay_ms = millis(delay),
                        "attempt failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    host = next;
                    attempt += 1;
                }
                Decision::GiveUp => {
                    seen.record(&span);
                    span.record("attempts", attempt);
                    span.record("elapsed_ms", millis(started.elapsed()));
                    tracing::debug!(parent: &span, attempt, error = err.label(), code = err.api_code(), "call failed");
                    return Err(err);
                }
            }
        }
    }

    async fn attempt<Op: Operation>(
        &self,
        op: &Op,
        host: Host,
        timeout: Duration,
        seen: &mut Seen,
    ) -> Result<Op::Output, Error> {
        let config = &self.inner.config;
        let request = config.signed_request(op, host, SigningInput::now()?)?;
        let mut request = reqwest::Request::try_from(request).map_err(|e| transport_error(e, host))?;
        request.headers_mut().insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        *request.timeout_mut() = Some(timeout);
        let mut response = self.inner.http.execute(request).await.map_err(|e| transport_error(e, host))?;
        let status = response.status();
        seen.status = Some(status.as_u16());
        seen.request_id = response.headers().get("request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let headers = std::mem::take(response.headers_mut());
        let body = read_body(&mut response, config.max_body_bytes(), host).await?;
        config.parse_response::<Op>(status, &headers, &body, unix_now())
    }
}

/// What an attempt saw of the response, for tracing.
#[derive(Default)]
struct Seen {
    status: Option<u16>,
    request_id: Option<String>,
}

impl Seen {
    fn record(&self, span: &Span) {
        if let Some(status) = self.status {
            span.record("status", status);
        }
        if let Some(id) = &self.request_id {
            span.record("request_id", id.as_str());
        }
    }
}

/// Reads the body, never holding more than `limit` bytes.
async fn read_body(response: &mut reqwest::Response, limit: usize, host: Host) -> Result<Vec<u8>, Error> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(Error::BodyTooLarge { limit });
    }
    let hint = response.content_length().map_or(8 * 1024, |len| len as usize);
    let mut body = Vec::with_capacity(hint.min(limit).min(64 * 1024));
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(e, host))? {
        append_capped(&mut body, &chunk, limit)?;
    }
    Ok(body)
}

/// Appends `chunk` unless the body would pass `limit`.
fn append_capped(body: &mut Vec<u8>, chunk: &[u8], limit: usize) -> Result<(), Error> {
    if chunk.len() > limit.saturating_sub(body.len()) {
        return Err(Error::BodyTooLarge { limit });
    }
    body.extend_from_slice(chunk);
    Ok(())
}

fn transport_error(err: reqwest::Error, host: Host) -> Error {
    let kind = classify(&err);
    Error::Transport(TransportError::new(kind, err.without_url()).on_host(host))
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

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    use wechatpay_sim::canned::{
        self, closed_url, hang, huge_chunked, huge_content_length, redirect, serve, unsigned_400, unsigned_500,
    };

    fn config(base: &str, backup: &str, max_body: usize) -> Config {
        canned::transport_config(base, backup, max_body)
    }

    fn op() -> wechatpay_core::api::QueryOrderByOutTradeNo {
        canned::query()
    }

    #[test]
    fn capped_appends_refuse_overflow() {
        let mut body = Vec::new();
        append_capped(&mut body, b"abc", 4).unwrap();
        append_capped(&mut body, b"d", 4).unwrap();
        assert!(matches!(append_capped(&mut body, b"e", 4), Err(Error::BodyTooLarge { limit: 4 })));
        assert_eq!(body, b"abcd");
    }

    fn client(config: Config, policy: RetryPolicy) -> Client {
        Client::builder(config).retry_policy(policy).timeout(Duration::from_secs(10)).build().unwrap()
    }

    #[tokio::test]
    async fn closed_port_is_a_connect_error_on_the_primary() {
        let c = client(config(&closed_url(), &closed_url(), 1024), RetryPolicy::none());
        let err = c.execute(&op()).await.unwrap_err();
        let Error::Transport(t) = &err else { panic!("{err:?}") };
        assert_eq!(t.kind(), TransportErrorKind::Connect, "{err:?}");
        assert_eq!(t.host(), Some(Host::Primary));
    }

    #[tokio::test]
    async fn connect_errors_fail_over_and_end_on_the_policy() {
        let policy = RetryPolicy { base_delay: Duration::from_millis(1), ..RetryPolicy::default() };
        let c = client(config(&closed_url(), &closed_url(), 1024), policy);
        let err = c.execute(&op()).await.unwrap_err();
        let Error::Transport(t) = &err else { panic!("{err:?}") };
        // 3 attempts: primary, backup, primary.
        assert_eq!(t.host(), Some(Host::Primary));
    }

    #[tokio::test]
    async fn system_errors_are_retried_until_attempts_run_out() {
        let (url, count) = serve(3, unsigned_500);
        let policy = RetryPolicy { base_delay: Duration::from_millis(1), ..RetryPolicy::default() };
        let c = client(config(&url, &url, 1024), policy);
        let err = c.execute(&op()).await.unwrap_err();
        let Error::Api(api) = &err else { panic!("{err:?}") };
        assert_eq!((api.status.as_u16(), api.code.as_str(), api.verified), (500, "SYSTEM_ERROR", false));
        assert_eq!(api.request_id.as_deref(), Some("rid-500"));
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn client_errors_are_not_retried() {
        let (url, count) = serve(1, unsigned_400);
        let c = client(config(&url, &url, 1024), RetryPolicy::default());
        let err = c.execute(&op()).await.unwrap_err();
        let Error::Api(api) = &err else { panic!("{err:?}") };
        assert_eq!((api.status.as_u16(), api.field()), (400, Some("mchid")));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_large_content_length_is_refused() {
        let (url, _) = serve(1, huge_content_length);
        let c = client(config(&url, &url, 1024), RetryPolicy::none());
        let err = c.execute(&op()).await.unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit: 1024 }), "{err:?}");
    }

    #[tokio::test]
    async fn a_large_chunked_body_is_refused_while_reading() {
        let (url, _) = serve(1, huge_chunked);
        let c = client(config(&url, &url, 1024), RetryPolicy::none());
        let err = c.execute(&op()).await.unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit: 1024 }), "{err:?}");
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let (url, count) = serve(1, redirect);
        let c = client(config(&url, &url, 1024), RetryPolicy::none());
        let err = c.execute(&op()).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(302), "{err:?}");
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_hang_is_cut_by_the_attempt_timeout() {
        let (url, _) = serve(1, hang);
        let c = Client::builder(config(&url, &url, 1024))
            .retry_policy(RetryPolicy::none())
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let err = c.execute(&op()).await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    }

    #[test]
    fn debug_shows_no_secrets() {
        let c = client(config(&closed_url(), &closed_url(), 1024), RetryPolicy::none());
        let text = format!("{c:?}");
        assert!(text.contains("[redacted]") && text.contains("1230000109"), "{text}");
    }
}
