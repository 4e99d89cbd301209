//! The transport traits and the one call loop (the driver) that every adapter shares.
//!
//! A transport only sends: it takes a signed [`http::Request`] and gives back the
//! [`http::Response`] with its body read, or a [`TransportError`] of the right
//! [`TransportErrorKind`]. Everything else — signing every attempt afresh, verifying and
//! parsing, asking the [`RetryPolicy`], waiting, failing over, tracing — happens once, here,
//! in [`Driver::execute`] (blocking) and [`Driver::execute_async`]. Sleeping is passed in, so
//! the core still does no I/O of its own and picks no runtime.
//!
//! Closures are transports, so a test or a library author's own HTTP stack plugs in directly:
//!
//! ```
//! use wechatpay_core::retry::RetryPolicy;
//! use wechatpay_core::transport::{Driver, Limits};
//! use wechatpay_core::{api::QueryOrderByOutTradeNo, Config, Error, KeyStore, MchId, OutTradeNo, PrivateKey,
//!                      SerialNo, TransportError, TransportErrorKind};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let key = PrivateKey::from_pem(include_bytes!("../tests/data/merchant_key.pem"))?;
//! # let config = Config::builder(MchId::new("1230000109")?, SerialNo::new("AB12")?, key, KeyStore::new()).build()?;
//! let driver = Driver::new(config).with_retry_policy(RetryPolicy::none());
//! let send = |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
//!     let limits = request.extensions().get::<Limits>().copied().unwrap_or_default();
//!     // ... send with your own stack, within `limits.timeout`, reading at most
//!     // `limits.max_body_bytes + 1` bytes of body ...
//!     Err(TransportError::of_kind(TransportErrorKind::Connect))
//! };
//! let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018")? };
//! let err = driver.execute(&send, |_delay| {}, &op).unwrap_err();
//! assert!(matches!(err, Error::Transport(_)));
//! # Ok(())
//! # }
//! ```
//!
//! # Tracing
//!
//! Each call runs in a `wechatpay.call` span (fields `operation`, `attempts`, `status`,
//! `request_id`, `elapsed_ms`) and each attempt in a `wechatpay.attempt` span (`attempt`,
//! `host` (`primary` or `backup`), `authority` (its `host[:port]`), `status`, `request_id`,
//! `elapsed_ms`). Events, target `wechatpay`, self-contained
//! so that one line says it all:
//!
//! - at `INFO`, one per call when it ends: `method`, `path` (without the query), `host` (the
//!   last attempt's `host[:port]`), `status`, `request_id`, `attempts`, `elapsed_ms`, and
//!   for a failure `error` (what happened, e.g. "connection refused by 127.0.0.1:9");
//! - at `DEBUG`, one per attempt when it ends (`attempt`, `host`, `status`, `request_id`,
//!   `elapsed_ms`, `outcome`) and one per retry decision with its reason (`error`, `code`,
//!   `next_host`, `delay_ms`), or why the call gives up.
//!
//! Headers, bodies, keys and signatures are never recorded.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tracing::field::Empty;
use tracing::{Instrument as _, Span};

use crate::api::Operation;
use crate::auth::{Outgoing, SigningInput};
use crate::certificates::{CertificateRefresher, RefreshOutcome};
use crate::config::{Config, DEFAULT_MAX_BODY_BYTES, Host};
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::response::parse_response;
use crate::retry::{self, Attempt, Decision, RetryPolicy};
use crate::wire::{HEADER_REQUEST_ID, HEADER_SERIAL};

/// Default limit on one attempt, from connecting to the end of the body: 30 seconds.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit on establishing a connection (TCP and TLS), for transports that have one.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a transport must respect for one attempt; the driver puts it in every request's
/// [`http::Extensions`] (`request.extensions().get::<Limits>()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The whole attempt, from connecting to the end of the body, must end within this.
    /// It is the per-attempt timeout, shortened to what is left of the call's deadline.
    pub timeout: Duration,
    /// The body cap: read at most `max_body_bytes + 1` bytes and stop. A longer body (read or
    /// declared in `Content-Length`) is refused by the driver with [`Error::BodyTooLarge`], so
    /// a transport may also skip reading a body whose declared length passes the cap.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    /// [`DEFAULT_ATTEMPT_TIMEOUT`] and [`DEFAULT_MAX_BODY_BYTES`].
    fn default() -> Self {
        Self { timeout: DEFAULT_ATTEMPT_TIMEOUT, max_body_bytes: DEFAULT_MAX_BODY_BYTES }
    }
}

/// A blocking transport: sends one request and returns the response with its body read.
///
/// Implemented for every `Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>,
/// TransportError>`. An implementation must not follow redirects, must not decompress, must
/// verify TLS, and should honour the request's [`Limits`].
pub trait Transport {
    /// Sends `request` and reads the response.
    ///
    /// # Errors
    /// A [`TransportError`] whose kind drives retries and failover.
    fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>;
}

impl<F> Transport for F
where
    F: Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>,
{
    fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        self(request)
    }
}

/// An async transport: the counterpart of [`Transport`].
///
/// Implemented for every `Fn(http::Request<Vec<u8>>) -> Fut` whose `Fut` is a `Send` future
/// of `Result<http::Response<Vec<u8>>, TransportError>`.
pub trait AsyncTransport {
    /// Sends `request` and reads the response.
    ///
    /// # Errors
    /// A [`TransportError`] whose kind drives retries and failover.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send;
}

impl<F, Fut> AsyncTransport for F
where
    F: Fn(http::Request<Vec<u8>>) -> Fut,
    Fut: Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send {
        self(request)
    }
}

/// The call loop: a [`Config`], a [`RetryPolicy`] and a per-attempt timeout. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Driver {
    config: Config,
    policy: RetryPolicy,
    attempt_timeout: Duration,
    refresher: Option<Arc<CertificateRefresher>>,
}

impl Driver {
    /// A driver for `config` with [`RetryPolicy::default`] and [`DEFAULT_ATTEMPT_TIMEOUT`].
    pub fn new(config: Config) -> Self {
        Self { config, policy: RetryPolicy::default(), attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT, refresher: None }
    }

    /// Keeps platform certificates fresh with `refresher`: its live key set becomes the
    /// configuration's verifier, [`Driver::refresh_certificates`] downloads through it, and
    /// when an answer names a serial no key is held for, the driver downloads the
    /// certificates once (rate-limited by the refresher) before verifying that answer.
    pub fn with_certificate_refresher(self, refresher: Arc<CertificateRefresher>) -> Self {
        let config = self.config.with_verifier(refresher.keys().clone());
        Self { config, refresher: Some(refresher), ..self }
    }

    /// The certificate refresher, if one is set.
    pub fn certificate_refresher(&self) -> Option<&Arc<CertificateRefresher>> {
        self.refresher.as_ref()
    }

    /// Retries as `policy` says.
    pub fn with_retry_policy(self, policy: RetryPolicy) -> Self {
        Self { policy, ..self }
    }

    /// Limits each attempt to `timeout` (the policy's deadline may shorten it further).
    pub fn with_attempt_timeout(self, timeout: Duration) -> Self {
        Self { attempt_timeout: timeout, ..self }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The per-attempt timeout.
    pub fn attempt_timeout(&self) -> Duration {
        self.attempt_timeout
    }

    /// Calls `op` through a blocking `transport`: signs each attempt afresh, sends, verifies
    /// and parses, and retries as the policy decides, calling `sleep` between attempts.
    ///
    /// # Errors
    /// Any [`Error`]: the last attempt's error when the policy gives up. A verification
    /// failure is never turned into data.
    pub fn execute<Op: Operation>(
        &self,
        transport: &impl Transport,
        mut sleep: impl FnMut(Duration),
        op: &Op,
    ) -> Result<Op::Output, Error> {
        let mut call = Call::start(self, op)?;
        let _in_call = call.span.clone().entered();
        loop {
            let step = match call.begin_attempt() {
                Ok(request) => {
                    let sent = call.attempt_span.in_scope(|| transport.send(request));
                    if sent.as_ref().is_ok_and(|r| self.wants_refresh(r)) {
                        let _ = self.refresh_certificates(transport, &mut sleep as &mut dyn FnMut(Duration));
                    }
                    call.end_attempt(sent.map_err(Error::Transport))
                }
                Err(err) => call.end_attempt(Err(err)),
            };
            match step {
                Step::Done(result) => return result,
                Step::Wait(delay) => sleep(delay),
            }
        }
    }

    /// Calls `op` through an async `transport`, as [`Driver::execute`] does; `sleep` returns
    /// the future to await between attempts (e.g. `tokio::time::sleep`).
    ///
    /// # Errors
    /// As [`Driver::execute`].
    pub async fn execute_async<Op, T, S, F>(&self, transport: &T, sleep: S, op: &Op) -> Result<Op::Output, Error>
    where
        Op: Operation,
        T: AsyncTransport,
        S: Fn(Duration) -> F,
        F: Future<Output = ()>,
    {
        let refresh = || async { drop(self.refresh_certificates_async(transport, &sleep).await) };
        self.run_async(transport, &sleep, op, refresh).await
    }

    /// Downloads `/v3/certificates` through a blocking `transport` (retrying as the policy
    /// says) and installs the result in the refresher's key set; see
    /// [`CertificateRefresher::install`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`] without a refresher; otherwise as
    /// [`CertificateRefresher::install`].
    pub fn refresh_certificates(
        &self,
        transport: &impl Transport,
        sleep: impl FnMut(Duration),
    ) -> Result<RefreshOutcome, Error> {
        let (refresher, driver) = self.download_driver()?;
        let answer = driver.execute(transport, sleep, refresher.operation());
        refresher.install(answer, SystemTime::now())
    }

    /// [`Driver::refresh_certificates`] through an async `transport`.
    ///
    /// # Errors
    /// As [`Driver::refresh_certificates`].
    pub async fn refresh_certificates_async<T, S, F>(&self, transport: &T, sleep: S) -> Result<RefreshOutcome, Error>
    where
        T: AsyncTransport,
        S: Fn(Duration) -> F,
        F: Future<Output = ()>,
    {
        let (refresher, driver) = self.download_driver()?;
        let answer = driver.run_async(transport, &sleep, refresher.operation(), || std::future::ready(())).await;
        refresher.install(answer, SystemTime::now())
    }

    /// The refresher, and a driver without one whose verifier applies the bootstrap rule.
    fn download_driver(&self) -> Result<(&CertificateRefresher, Driver), Error> {
        let refresher = self.refresher.as_deref().ok_or_else(|| {
            Error::InvalidInput(crate::InvalidInput::new(
                "certificate_refresher",
                "is not set",
                "set one with Driver::with_certificate_refresher",
            ))
        })?;
        let config = self.config.with_verifier(refresher.bootstrap_verifier());
        Ok((refresher, Driver { config, refresher: None, ..self.clone() }))
    }

    /// Whether `response` names a serial no key is held for and the refresher allows a
    /// download for it now.
    fn wants_refresh(&self, response: &http::Response<Vec<u8>>) -> bool {
        let Some(refresher) = &self.refresher else { return false };
        let mut serials = response.headers().get_all(HEADER_SERIAL).iter();
        let serial = match (serials.next().and_then(|v| v.to_str().ok()), serials.next()) {
            (Some(serial), None) => serial,
            _ => return false,
        };
        if self.config.verifier().knows(serial) || !refresher.allow_unknown_serial_refresh() {
            return false;
        }
        tracing::info!(serial = %crate::untrusted::printable(serial).max_chars(64), "answer signed by an unknown serial: refreshing platform certificates");
        true
    }

    /// The async call loop; `refresh` runs before an answer signed by an unknown serial is
    /// verified (a separate parameter, so that the download's own loop has none).
    async fn run_async<Op, T, S, F, R, RF>(
        &self,
        transport: &T,
        sleep: &S,
        op: &Op,
        refresh: R,
    ) -> Result<Op::Output, Error>
    where
        Op: Operation,
        T: AsyncTransport,
        S: Fn(Duration) -> F,
        F: Future<Output = ()>,
        R: Fn() -> RF,
        RF: Future<Output = ()>,
    {
        let mut call = Call::start(self, op)?;
        let span = call.span.clone();
        async move {
            loop {
                let step = match call.begin_attempt() {
                    Ok(request) => {
                        let sent = transport.send(request).instrument(call.attempt_span.clone()).await;
                        if sent.as_ref().is_ok_and(|r| self.wants_refresh(r)) {
                            refresh().await;
                        }
                        call.end_attempt(sent.map_err(Error::Transport))
                    }
                    Err(err) => call.end_attempt(Err(err)),
                };
                match step {
                    Step::Done(result) => return result,
                    Step::Wait(delay) => sleep(delay).await,
                }
            }
        }
        .instrument(span)
        .await
    }
}

impl From<Config> for Driver {
    /// [`Driver::new`].
    fn from(config: Config) -> Self {
        Driver::new(config)
    }
}

/// What the loop does next.
enum Step<T> {
    /// The call is over.
    Done(Result<T, Error>),
    /// Wait this long, then begin the next attempt.
    Wait(Duration),
}

/// The state of one call: where it is, how far it got, and its spans.
struct Call<'a, Op: Operation> {
    driver: &'a Driver,
    op: &'a Op,
    /// Method, target and body, built once: every attempt signs these same bytes.
    outgoing: Outgoing,
    span: Span,
    started: Instant,
    host: Host,
    number: u32,
    attempt_span: Span,
    attempt_started: Instant,
    /// The time limit of the attempt under way.
    attempt_limit: Duration,
}

impl<'a, Op: Operation> Call<'a, Op> {
    /// Starts the call: builds what it sends, once.
    fn start(driver: &'a Driver, op: &'a Op) -> Result<Self, Error> {
        let outgoing = Outgoing::of(&driver.config, op)?;
        let span = tracing::info_span!(
            "wechatpay.call",
            operation = Op::NAME,
            attempts = Empty,
            status = Empty,
            request_id = Empty,
            elapsed_ms = Empty,
        );
        let now = Instant::now();
        Ok(Self {
            driver,
            op,
            outgoing,
            span,
            started: now,
            host: Host::Primary,
            number: 0,
            attempt_span: Span::none(),
            attempt_started: now,
            attempt_limit: driver.attempt_timeout,
        })
    }

    /// Opens the next attempt and signs its request afresh (new timestamp and nonce).
    fn begin_attempt(&mut self) -> Result<http::Request<Vec<u8>>, Error> {
        self.number += 1;
        self.attempt_started = Instant::now();
        self.attempt_span = tracing::debug_span!(
            parent: &self.span,
            "wechatpay.attempt",
            attempt = self.number,
            host = %self.host,
            authority = self.authority(),
            status = Empty,
            request_id = Empty,
            elapsed_ms = Empty,
        );
        let remaining = self.driver.policy.deadline.saturating_sub(self.started.elapsed());
        if remaining.is_zero() {
            let base_url = self.driver.config.base_url(self.host);
            let timeout = TransportError::of_kind(TransportErrorKind::Timeout).at(self.host, base_url);
            return Err(Error::Transport(timeout.after(self.driver.policy.deadline)));
        }
        let config = &self.driver.config;
        let mut request = self.outgoing.prepare(config, self.host, SigningInput::now()?)?.sign(config.signer())?;
        self.attempt_limit = self.driver.attempt_timeout.min(remaining);
        request
            .extensions_mut()
            .insert(Limits { timeout: self.attempt_limit, max_body_bytes: config.max_body_bytes() });
        Ok(request)
    }

    /// Judges the attempt's outcome: done, or wait and go again.
    fn end_attempt(&mut self, sent: Result<http::Response<Vec<u8>>, Error>) -> Step<Op::Output> {
        let mut answer: Option<(u16, Option<String>)> = None;
        let result = sent.and_then(|response| {
            let (status, request_id) = (response.status().as_u16(), response.headers().get(HEADER_REQUEST_ID));
            let request_id = request_id.and_then(|v| v.to_str().ok());
            for span in [&self.attempt_span, &self.span] {
                span.record("status", status);
                if let Some(id) = request_id {
                    span.record("request_id", id);
                }
            }
            let shown = request_id.map(|id| crate::untrusted::printable(id).max_chars(128).to_string());
            answer = Some((status, shown));
            parse_response(&self.driver.config, self.op, &response, SystemTime::now())
        });
        let attempt_ms = millis(self.attempt_started.elapsed());
        self.attempt_span.record("elapsed_ms", attempt_ms);
        let (status, request_id) = match &answer {
            Some((status, id)) => (Some(*status), id.as_deref()),
            None => (None, None),
        };
        let err = match result {
            Ok(output) => {
                self.log_attempt(status, request_id, attempt_ms, "ok");
                self.close_call(status, request_id, None);
                return Step::Done(Ok(output));
            }
            Err(err) => err,
        };
        let err = match err {
            Error::Transport(t) => match t.body_cap() {
                Some(limit) => Error::BodyTooLarge { limit },
                None => Error::Transport(self.locate(t)),
            },
            other => other,
        };
        self.log_attempt(status, request_id, attempt_ms, err.label());
        let mut attempt = Attempt::new(self.number, self.started.elapsed(), self.host);
        if !self.op.idempotent() {
            attempt = attempt.non_idempotent();
        }
        match self.driver.policy.decide(&attempt, &err, retry::jitter()) {
            Decision::Retry { host, delay } => {
                let host = if self.driver.config.has_backup() { host } else { Host::Primary };
                tracing::debug!(
                    target: "wechatpay",
                    parent: None,
                    attempt = self.number,
                    error = reason(&err).as_str(),
                    code = err.api_code(),
                    next_host = self.driver.config.base_url(host).authority().as_str(),
                    delay_ms = millis(delay),
                    why = retry_reason(&err, host != self.host),
                    "attempt failed; retrying"
                );
                self.host = host;
                Step::Wait(delay)
            }
            Decision::GiveUp => {
                tracing::debug!(
                    target: "wechatpay",
                    parent: None,
                    attempt = self.number,
                    error = reason(&err).as_str(),
                    code = err.api_code(),
                    why = self.driver.policy.why_give_up(&attempt, &err),
                    "giving up"
                );
                self.close_call(status, request_id, Some(&err));
                Step::Done(Err(err))
            }
        }
    }

    /// The `DEBUG` line of one attempt.
    fn log_attempt(&self, status: Option<u16>, request_id: Option<&str>, elapsed_ms: u64, outcome: &str) {
        tracing::debug!(
            target: "wechatpay",
            parent: None,
            attempt = self.number,
            method = self.outgoing.method().as_str(),
            path = self.outgoing.path(),
            host = self.authority(),
            status,
            request_id,
            elapsed_ms,
            outcome,
            "attempt"
        );
    }

    /// Names where the failed attempt went (unless the transport did) and, for a timeout, the
    /// limit that passed (unless the transport knew a more precise one, e.g. connecting).
    fn locate(&self, t: TransportError) -> TransportError {
        let t = if t.authority().is_none() { t.at(self.host, self.driver.config.base_url(self.host)) } else { t };
        if t.kind() == TransportErrorKind::Timeout && t.timeout_after().is_none() {
            t.after(self.attempt_limit)
        } else {
            t
        }
    }

    /// `host[:port]` of the current attempt's base URL.
    fn authority(&self) -> &str {
        self.driver.config.base_url(self.host).authority().as_str()
    }

    /// Records the call's totals on its span and logs its one `INFO` line.
    fn close_call(&self, status: Option<u16>, request_id: Option<&str>, error: Option<&Error>) {
        let elapsed_ms = millis(self.started.elapsed());
        self.span.record("attempts", self.number);
        self.span.record("elapsed_ms", elapsed_ms);
        let (method, path, host) = (self.outgoing.method().as_str(), self.outgoing.path(), self.authority());
        match error {
            None => tracing::info!(
                target: "wechatpay",
                parent: None,
                method,
                path,
                host,
                status,
                request_id,
                attempts = self.number,
                elapsed_ms,
                "call"
            ),
            Some(err) => tracing::info!(
                target: "wechatpay",
                parent: None,
                method,
                path,
                host,
                status,
                request_id,
                attempts = self.number,
                elapsed_ms,
                error = reason(err).as_str(),
                "call failed"
            ),
        }
    }
}

/// Why the policy retries `err`, in words, for the `-vv` line.
fn retry_reason(err: &Error, failing_over: bool) -> &'static str {
    let rate_limited = err.status().is_some_and(|s| s == http::StatusCode::TOO_MANY_REQUESTS);
    match (err, failing_over) {
        (_, true) => "the host did not answer usably: trying the other host",
        (Error::Transport(_), false) => "the connection failed: trying again",
        _ if rate_limited => "rate limited: waiting longer, then trying again",
        _ => "a temporary server error: trying again",
    }
}

/// An error as a log field: a transport error in words (it names the host; nothing secret),
/// anything else by its label, never the server's text.
fn reason(err: &Error) -> String {
    match err {
        Error::Transport(t) => t.to_string(),
        other => other.label().to_owned(),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
