//! A blocking WeChat Pay API v3 (微信支付 APIv3) client: [`wechatpay_core`] over [`ureq`].
//!
//! The core signs requests and verifies and parses answers; this crate only sends, reads,
//! sleeps and loops. Every retry, failover and backoff decision comes from the core's
//! [`RetryPolicy::decide`], and every attempt is signed afresh (new timestamp and nonce).
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
//! - Attempt 1 goes to [`Host::Primary`]; later attempts go where the policy says (the
//!   backup host after connection-level failures, by default).
//! - No redirects are followed, 4xx/5xx answers are read like any other (their bodies
//!   reach the core as typed API errors), and responses are never compressed
//!   (`Accept-Encoding: identity`). These are set on every request, even on an agent you
//!   bring yourself.
//! - Each attempt is bounded by [`ClientBuilder::timeout`] (default [`DEFAULT_TIMEOUT`])
//!   and by what is left of the policy's [`RetryPolicy::deadline`], whichever is shorter
//!   (ureq's `timeout_global`, which covers the body too).
//! - The response body is read through a reader that stops one byte past
//!   [`Config::max_body_bytes`]; a longer body is refused with [`Error::BodyTooLarge`], and a
//!   too-large `Content-Length` is refused before any of the body is read.
//!
//! # TLS
//!
//! TLS verification is always on. The default feature `rustls` enables ureq's `rustls`
//! feature (rustls with the ring provider and the webpki root certificates). The choice is
//! yours: turn off default features and enable another ureq TLS feature (e.g.
//! `native-tls` or `platform-verifier`) in your own `Cargo.toml`, or hand in a configured
//! agent with [`ClientBuilder::agent`].
//!
//! # Tracing
//!
//! Each call runs in a `wechatpay.call` span (fields `operation`, `attempts`, `status`,
//! `request_id`, `elapsed_ms`) and each attempt in a `wechatpay.attempt` span (`attempt`,
//! `host`, `status`, `request_id`, `elapsed_ms`). Headers, bodies, keys and signatures are
//! never recorded.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod resolver;

use std::fmt;
use std::io::{self, Read as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderValue;
use http::header::{ACCEPT_ENCODING, CONTENT_LENGTH};
use tracing::Span;
use tracing::field::Empty;
use wechatpay_core::{
    Config, Decision, Error, Host, Operation, RetryPolicy, SigningInput, TransportError, TransportErrorKind, unix_now,
};

pub use ureq;
pub use wechatpay_core;

/// Default limit on one attempt, from resolving the host to the end of the body: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit on establishing a connection (TCP and TLS): 5 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A blocking WeChat Pay client. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    agent: ureq::Agent,
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
    agent: Option<ureq::Agent>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("policy", &self.policy)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("agent", &self.agent.is_some())
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
    /// when you bring your own agent with [`ClientBuilder::agent`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit on one attempt, from resolving the host to the end of the body
    /// (default [`DEFAULT_TIMEOUT`]). The policy's deadline can shorten it further.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends through `agent` instead of one built here. No redirects,
    /// `http_status_as_error(false)`, the per-attempt timeout and `Accept-Encoding: identity`
    /// are still applied to every request; never disable certificate verification on it.
    pub fn agent(mut self, agent: ureq::Agent) -> Self {
        self.agent = Some(agent);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for fallible transport setup.
    pub fn build(self) -> Result<Client, Error> {
        let agent = match self.agent {
            Some(agent) => agent,
            None => {
                let config = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .accept_encoding("identity")
                    .timeout_connect(Some(self.connect_timeout))
                    .build();
                ureq::Agent::with_parts(
                    config,
                    ureq::unversioned::transport::DefaultConnector::default(),
                    resolver::LiteralFirstResolver::default(),
                )
            }
        };
        Ok(Client { inner: Arc::new(Inner { config: self.config, agent, policy: self.policy, timeout: self.timeout }) })
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
            agent: None,
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
    /// Blocks the calling thread, sleeping between attempts.
    ///
    /// # Errors
    /// Any [`wechatpay_core::Error`]: the last attempt's error when the policy gives up.
    /// A verification failure is never turned into data.
    pub fn execute<Op: Operation>(&self, op: &Op) -> Result<Op::Output, Error> {
        let span = tracing::info_span!(
            "wechatpay.call",
            operation = Op::NAME,
            attempts = Empty,
            status = Empty,
            request_id = Empty,
            elapsed_ms = Empty,
        );
        let _entered = span.enter();
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
                attempt_span.in_scope(|| self.attempt::<Op>(op, host, timeout, &mut seen))
            };
            seen.record(&attempt_span);
            attempt_span.record("elapsed_ms", millis(attempt_started.elapsed()));
            let err = match result {
                Ok(output) => {
                    seen.record(&span);
                    span.record("attempts", attempt);
                    span.record("elapsed_ms", millis(started.elapsed()));
                    tracing::debug!(attempt, "call succeeded");
                    return Ok(output);
                }
                Err(err) => err,
            };
            match policy.decide(attempt, started.elapsed(), &err, host, wechatpay_core::retry::jitter()) {
                Decision::Retry { host: next, delay } => {
                    tracing::debug!(
                        attempt,
                        error = err.label(),
                        code = err.api_code(),
                        next_host = %next,
                        delay_ms = millis(delay),
                        "attempt failed; retrying"
                    );
                    std::thread::sleep(delay);
                    host = next;
                    attempt += 1;
                }
                Decision::GiveUp => {
                    seen.record(&span);
                    span.record("attempts", attempt);
                    span.record("elapsed_ms", millis(started.elapsed()));
                    tracing::debug!(attempt, error = err.label(), code = err.api_code(), "call failed");
                    return Err(err);
                }
            }
        }
    }

    fn attempt<Op: Operation>(
        &self,
        op: &Op,
        host: Host,
        timeout: Duration,
        seen: &mut Seen,
    ) -> Result<Op::Output, Error> {
        let config = &self.inner.config;
        let agent = &self.inner.agent;
        let (mut parts, body) = config.signed_request(op, host, SigningInput::now()?)?.into_parts();
        parts.headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        let response = if body.is_empty() {
            // `()` sends no body and no `Content-Length: 0` on a GET.
            send(agent, http::Request::from_parts(parts, ()), timeout)
        } else {
            send(agent, http::Request::from_parts(parts, body), timeout)
        }
        .map_err(|e| transport_error(e, host))?;
        let (parts, body) = response.into_parts();
        seen.status = Some(parts.status.as_u16());
        seen.request_id = parts.headers.get("request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let limit = config.max_body_bytes();
        if declared_length(&parts.headers).is_some_and(|len| len > limit as u64) {
            return Err(Error::BodyTooLarge { limit });
        }
        let body = read_capped(body.into_reader(), limit).map_err(|e| io_error(e, host))?;
        let body = body.ok_or(Error::BodyTooLarge { limit })?;
        config.parse_response::<Op>(parts.status, &parts.headers, &body, unix_now())
    }
}

/// Sends with the settings every request needs, whoever built the agent.
fn send<S: ureq::AsSendBody>(
    agent: &ureq::Agent,
    request: http::Request<S>,
    timeout: Duration,
) -> Result<http::Response<ureq::Body>, ureq::Error> {
    let request = agent
        .configure_request(request)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build();
    agent.run(request)
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

fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Reads at most `limit + 1` bytes: `Ok(None)` when the body is longer than `limit`.
fn read_capped(reader: impl io::Read, limit: usize) -> io::Result<Option<Vec<u8>>> {
    let mut body = Vec::with_capacity(limit.min(8 * 1024));
    reader.take(limit as u64 + 1).read_to_end(&mut body)?;
    Ok((body.len() <= limit).then_some(body))
}

fn transport_error(err: ureq::Error, host: Host) -> Error {
    let kind = classify(&err);
    Error::Transport(TransportError::new(kind, err).on_host(host))
}

/// An error while reading the body: ureq wraps its own errors (e.g. a timeout) in
/// `io::Error`, so unwrap those first.
fn io_error(err: io::Error, host: Host) -> Error {
    if err.get_ref().is_some_and(|inner| inner.is::<ureq::Error>()) {
        if let Some(inner) = err.into_inner() {
            if let Ok(ureq_err) = inner.downcast::<ureq::Error>() {
                return transport_error(*ureq_err, host);
            }
        }
        return Error::Transport(TransportError::of_kind(TransportErrorKind::Io).on_host(host));
    }
    let kind = io_kind(err.kind());
    Error::Transport(TransportError::new(kind, err).on_host(host))
}

/// Maps a ureq error to the kind that drives retries and failover.
fn classify(err: &ureq::Error) -> TransportErrorKind {
    use ureq::Error as E;
    match err {
        E::Timeout(_) => TransportErrorKind::Timeout,
        E::HostNotFound => TransportErrorKind::Dns,
        E::ConnectionFailed => TransportErrorKind::Connect,
        E::Io(io) => io_kind(io.kind()),
        E::Tls(_) | E::TlsRequired => TransportErrorKind::Tls,
        #[cfg(feature = "rustls")]
        E::Rustls(_) => TransportErrorKind::Tls,
        E::Protocol(_) | E::BodyStalled => TransportErrorKind::Io,
        _ => TransportErrorKind::Other,
    }
}

fn io_kind(kind: io::ErrorKind) -> TransportErrorKind {
    use io::ErrorKind as K;
    match kind {
        K::TimedOut | K::WouldBlock => TransportErrorKind::Timeout,
        K::ConnectionRefused | K::AddrNotAvailable | K::NetworkUnreachable | K::HostUnreachable => {
            TransportErrorKind::Connect
        }
        _ => TransportErrorKind::Io,
    }
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
    fn capped_reads_stop_one_byte_past_the_limit() {
        assert_eq!(read_capped(&b"abcd"[..], 4).unwrap().as_deref(), Some(&b"abcd"[..]));
        assert_eq!(read_capped(&b"abcde"[..], 4).unwrap(), None);
        // An endless reader is refused after limit + 1 bytes.
        assert_eq!(read_capped(io::repeat(b'x'), 1024).unwrap(), None);
    }

    fn client(config: Config, policy: RetryPolicy) -> Client {
        Client::builder(config).retry_policy(policy).timeout(Duration::from_secs(10)).build().unwrap()
    }

    #[test]
    fn closed_port_is_a_connect_error_on_the_primary() {
        let c = client(config(&closed_url(), &closed_url(), 1024), RetryPolicy::none());
        let err = c.execute(&op()).unwrap_err();
        let Error::Transport(t) = &err else { panic!("{err:?}") };
        assert_eq!(t.kind(), TransportErrorKind::Connect, "{err:?}");
        assert_eq!(t.host(), Some(Host::Primary));
    }

    #[test]
    fn connect_errors_fail_over_and_end_on_the_policy() {
        let policy = RetryPolicy { base_delay: Duration::from_millis(1), ..RetryPolicy::default() };
        let c = client(config(&closed_url(), &closed_url(), 1024), policy);
        let err = c.execute(&op()).unwrap_err();
        let Error::Transport(t) = &err else { panic!("{err:?}") };
        // 3 attempts: primary, backup, primary.
        assert_eq!(t.host(), Some(Host::Primary));
    }

    #[test]
    fn system_errors_are_retried_until_attempts_run_out() {
        let (url, count) = serve(3, unsigned_500);
        let policy = RetryPolicy { base_delay: Duration::from_millis(1), ..RetryPolicy::default() };
        let c = client(config(&url, &url, 1024), policy);
        let err = c.execute(&op()).unwrap_err();
        let Error::Api(api) = &err else { panic!("{err:?}") };
        assert_eq!((api.status.as_u16(), api.code.as_str(), api.verified), (500, "SYSTEM_ERROR", false));
        assert_eq!(api.request_id.as_deref(), Some("rid-500"));
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn client_errors_are_not_retried() {
        let (url, count) = serve(1, unsigned_400);
        let c = client(config(&url, &url, 1024), RetryPolicy::default());
        let err = c.execute(&op()).unwrap_err();
        let Error::Api(api) = &err else { panic!("{err:?}") };
        assert_eq!((api.status.as_u16(), api.field()), (400, Some("mchid")));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_large_content_length_is_refused() {
        let (url, _) = serve(1, huge_content_length);
        let c = client(config(&url, &url, 1024), RetryPolicy::none());
        let err = c.execute(&op()).unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit: 1024 }), "{err:?}");
    }

    #[test]
    fn a_large_chunked_body_is_refused_while_reading() {
        let (url, _) = serve(1, huge_chunked);
        let c = client(config(&url, &url, 1024), RetryPolicy::none());
        let err = c.execute(&op()).unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit: 1024 }), "{err:?}");
    }

    #[test]
    fn redirects_are_not_followed() {
        let (url, count) = serve(1, redirect);
        let c = client(config(&url, &url, 1024), RetryPolicy::none());
        let err = c.execute(&op()).unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(302), "{err:?}");
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_hang_is_cut_by_the_attempt_timeout() {
        let (url, _) = serve(1, hang);
        let c = Client::builder(config(&url, &url, 1024))
            .retry_policy(RetryPolicy::none())
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let err = c.execute(&op()).unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    }

    #[test]
    fn debug_shows_no_secrets() {
        let c = client(config(&closed_url(), &closed_url(), 1024), RetryPolicy::none());
        let text = format!("{c:?}");
        assert!(text.contains("[redacted]") && text.contains("1230000109"), "{text}");
    }
}
