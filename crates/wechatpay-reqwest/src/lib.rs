#![doc = include_str!("../README.md")]

mod bill;

use std::error::Error as StdError;
use std::io;
use std::time::SystemTime;

use http::HeaderValue;
use http::header::ACCEPT_ENCODING;
use wechatpay_core::api::Closed;
use wechatpay_core::certificates::RefreshOutcome;
use wechatpay_core::charge::{ChargeCodepay, ChargeOutcome, ChargePolicy, ChargeStep};
use wechatpay_core::env::{EnvError, Loader};
use wechatpay_core::transport::{AsyncTransport, DEFAULT_CONNECT_TIMEOUT, Driver, Limits};
use wechatpay_core::watch::{StateChange, WatchOutcome, WatchPolicy, WatchQuery};
use wechatpay_core::{Error, TransportError, TransportErrorKind, api::Operation};

pub use reqwest;
pub use wechatpay_core;

/// An async WeChat Pay client. Cheap to clone; clones share the connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    driver: Driver,
    http: Sender,
}

/// Sends through reqwest: the [`AsyncTransport`] of this crate.
#[derive(Clone, Debug)]
struct Sender(reqwest::Client);

/// A reqwest client builder with the settings this crate needs: no redirects, no retries
/// inside reqwest, a [`DEFAULT_CONNECT_TIMEOUT`]. Add what you need (an extra root
/// certificate, a proxy) and hand the result to [`Client::with_http_client`]; never disable
/// certificate verification.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
}

/// The core's [`Loader`] over this process: variables from [`std::env::var_os`], files
/// from [`std::fs::read`], and a directory in `WECHATPAY_PLATFORM_CERTS` adds every `.pem`
/// in it. [`Client::from_env`] uses it; use it for the APIv3 key too
/// (`env_loader().apiv3_key()?`, e.g. for notifications).
pub fn env_loader() -> Loader<'static> {
    Loader::from_process()
}

/// Why [`Client::from_env`] gave no client.
#[derive(Debug)]
#[non_exhaustive]
pub enum FromEnvError {
    /// A `WECHATPAY_*` setting is missing or broken (the error names it and its rule).
    Env(EnvError),
    /// reqwest could not build its client (as [`Client::new`]).
    Client(Error),
}

impl std::fmt::Display for FromEnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env(e) => e.fmt(f),
            Self::Client(e) => e.fmt(f),
        }
    }
}

impl StdError for FromEnvError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Env(e) => Some(e),
            Self::Client(e) => Some(e),
        }
    }
}

impl From<EnvError> for FromEnvError {
    fn from(e: EnvError) -> Self {
        Self::Env(e)
    }
}

impl Client {
    /// A client configured by the `WECHATPAY_*` variables and the files they name — the
    /// same ones the `wechatpay` command reads (see [`wechatpay_core::env`]) — with the
    /// per-attempt timeout of `WECHATPAY_TIMEOUT`, if set. Call it once at start-up (it
    /// reads files, blocking) and share the client.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = wechatpay_reqwest::Client::from_env()?;
    /// # let _ = client; Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`FromEnvError::Env`] naming the variable missing or broken and its rule (never a
    /// secret); [`FromEnvError::Client`] as [`Client::new`].
    pub fn from_env() -> Result<Client, FromEnvError> {
        Self::from_loader(&env_loader())
    }

    /// [`Client::from_env`] with the variables and files `loader` reads (tests, a
    /// configuration kept elsewhere).
    ///
    /// # Errors
    /// As [`Client::from_env`].
    pub fn from_loader(loader: &Loader<'_>) -> Result<Client, FromEnvError> {
        let loaded = loader.load()?;
        let mut driver = Driver::new(loaded.config);
        if let Some(timeout) = loaded.timeout {
            driver = driver.with_attempt_timeout(timeout);
        }
        Self::new(driver).map_err(FromEnvError::Client)
    }

    /// A client that runs `driver`'s call loop — a [`Config`](wechatpay_core::Config) (signer,
    /// verifier, base URLs) or a [`Driver`] with its retry policy and per-attempt timeout —
    /// over a reqwest client from [`http_client_builder`].
    ///
    /// # Errors
    /// [`Error::Transport`] (kind [`TransportErrorKind::Other`]) when reqwest cannot build
    /// its client (e.g. the TLS backend fails to initialise).
    pub fn new(driver: impl Into<Driver>) -> Result<Client, Error> {
        let http = http_client_builder().build().map_err(|e| Error::Transport(TransportError::other(e)))?;
        Ok(Self::with_http_client(driver, http))
    }

    /// A client that sends through `http`. The per-attempt timeout and
    /// `Accept-Encoding: identity` are applied to every request; the rest is up to you (start
    /// from [`http_client_builder`], build without decompression features).
    pub fn with_http_client(driver: impl Into<Driver>, http: reqwest::Client) -> Client {
        Client { driver: driver.into(), http: Sender(http) }
    }

    /// The call loop's settings: configuration, retry policy, per-attempt timeout.
    pub fn driver(&self) -> &Driver {
        &self.driver
    }

    /// Calls `op`: signs, sends, verifies and parses, retrying as the policy decides.
    ///
    /// # Errors
    /// Any [`wechatpay_core::Error`]: the last attempt's error when the policy gives up.
    /// A verification failure is never turned into data.
    pub async fn execute<Op: Operation>(&self, op: &Op) -> Result<Op::Output, Error> {
        self.driver.execute_async(&self.http, tokio::time::sleep, op).await
    }

    /// Closes an unpaid order ([`CloseOrder`](wechatpay_core::api::CloseOrder) or
    /// [`ClosePartnerOrder`](wechatpay_core::api::ClosePartnerOrder)); `Ok` on WeChat Pay's
    /// signed `204`. Query first: close only a `NOTPAY` order ([`Client::watch`] can).
    ///
    /// # Errors
    /// As [`Client::execute`].
    pub async fn close<Op: Operation<Output = Closed>>(&self, op: &Op) -> Result<(), Error> {
        self.execute(op).await.map(drop)
    }

    /// Asks until the order's state is final or unknown, or the deadline comes
    /// ([`Driver::watch`]), calling `on_change` with each change of state.
    ///
    /// # Errors
    /// The error of a query (or close) that failed after its retries.
    pub async fn watch<Q: WatchQuery>(
        &self,
        op: &Q,
        policy: &WatchPolicy,
        on_change: impl FnMut(&StateChange<'_, Q::Output>),
    ) -> Result<WatchOutcome<Q::Output>, Error> {
        self.driver.watch_async(&self.http, tokio::time::sleep, op, policy, on_change).await
    }

    /// Charges a scanned payment code to a known end ([`Driver::charge`]; the rules are in
    /// [`wechatpay_core::charge`]): the codepay once, queries, and a reverse at the deadline,
    /// calling `on_step` at each step. [`ChargeOutcome::Unresolved`] is the one end a till
    /// must escalate.
    ///
    /// # Errors
    /// Only when nothing was charged: the codepay was invalid, refused with a business `4xx`,
    /// or never reached WeChat Pay.
    pub async fn charge<C: ChargeCodepay>(
        &self,
        op: &C,
        policy: &ChargePolicy,
        on_step: impl FnMut(&ChargeStep<'_, C::Order>),
    ) -> Result<ChargeOutcome<C::Order>, Error> {
        self.driver.charge_async(&self.http, tokio::time::sleep, op, policy, on_step).await
    }

    /// Downloads the platform certificates now and installs them (the driver needs a
    /// [`CertificateRefresher`](wechatpay_core::certificates::CertificateRefresher)).
    ///
    /// # Errors
    /// As [`Driver::refresh_certificates`].
    pub async fn refresh_certificates(&self) -> Result<RefreshOutcome, Error> {
        self.driver.refresh_certificates_async(&self.http, tokio::time::sleep).await
    }

    /// Keeps the platform certificates fresh on a Tokio task that downloads on the
    /// refresher's schedule (failures are logged by the core and retried with backoff; calls
    /// go on with the certificates held). Dropping the handle stops the task. `None` when the
    /// driver has no certificate refresher. Must be called within a Tokio runtime.
    pub fn spawn_certificate_refresh(&self) -> Option<RefreshTask> {
        let refresher = self.driver.certificate_refresher()?.clone();
        let client = self.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(refresher.next_refresh_in(SystemTime::now())).await;
                let _logged_by_the_core = client.refresh_certificates().await;
            }
        });
        Some(RefreshTask(task.abort_handle()))
    }
}

/// The background certificate refresh of [`Client::spawn_certificate_refresh`]; dropping it
/// stops the task.
#[derive(Debug)]
#[must_use = "dropping the handle stops the refresh"]
pub struct RefreshTask(tokio::task::AbortHandle);

impl Drop for RefreshTask {
    fn drop(&mut self) {
        self.0.abort();
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
        // tokio-rustls reports handshake and certificate failures as an `InvalidData`
        // `io::Error`, which hyper-util wraps in another `io::Error`.
        if invalid_data_in_chain(err) {
            return TransportErrorKind::Tls;
        }
        return match io_kind {
            Some(io::ErrorKind::TimedOut) => TransportErrorKind::Timeout,
            _ => TransportErrorKind::Connect,
        };
    }
    match io_kind {
        Some(kind) => TransportErrorKind::from_io(kind),
        // A connection that broke while the request or the body was in flight.
        None if err.is_request() || err.is_body() => TransportErrorKind::Io,
        None => TransportErrorKind::Other,
    }
}

/// Whether an `InvalidData` `io::Error` is anywhere in the chain, looking inside `io::Error`
/// payloads too (`io::Error::source` skips its own payload).
fn invalid_data_in_chain(err: &(dyn StdError + 'static)) -> bool {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        next = e.source();
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::InvalidData {
                return true;
            }
            if let Some(payload) = io.get_ref() {
                next = Some(payload);
            }
        }
    }
    false
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
