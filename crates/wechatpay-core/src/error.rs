//! The one error type, whose variants say how far a call got.
//!
//! | variant | was anything sent? |
//! |---|---|
//! | [`Error::InvalidInput`], [`Error::Key`], [`Error::Sign`] | no |
//! | [`Error::Transport`] | maybe |
//! | [`Error::Verification`] | yes; the answer is not trusted and not returned |
//! | [`Error::Api`], [`Error::UnexpectedResponse`], [`Error::Decode`], [`Error::BodyTooLarge`] | yes |
//!
//! No error carries a key, a signature or a header value.

use std::fmt;

use http::StatusCode;
use serde_json::Value;

use crate::config::Host;
use crate::crypto::SignError;
use crate::ids::InvalidInput;
use crate::keys::KeyError;
use crate::model::ErrorCode;
use crate::untrusted::{MAX_CHARS, printable};
use crate::verify::VerificationFailure;

/// Everything that can go wrong between building a request and reading its answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An input broke its rule; nothing was signed or sent.
    InvalidInput(InvalidInput),
    /// A key could not be loaded; nothing was signed or sent.
    Key(KeyError),
    /// Signing failed; nothing was sent.
    Sign(SignError),
    /// The transport failed; the request may or may not have reached WeChat Pay.
    Transport(TransportError),
    /// The response failed signature verification; its content is discarded.
    Verification(VerificationError),
    /// WeChat Pay answered with an error.
    Api(ApiError),
    /// An error status whose body is not a WeChat Pay error (e.g. an HTML gateway page).
    UnexpectedResponse(UnexpectedResponse),
    /// A verified success body that does not fit the response type.
    Decode(DecodeError),
    /// The response body exceeded the configured cap.
    BodyTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
}

impl Error {
    /// The `Request-ID` of the response, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Verification(e) => e.request_id.as_deref(),
            Error::Api(e) => e.request_id.as_deref(),
            Error::UnexpectedResponse(e) => e.request_id.as_deref(),
            Error::Decode(e) => e.request_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of the response, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Verification(e) => Some(e.status),
            Error::Api(e) => Some(e.status),
            Error::UnexpectedResponse(e) => Some(e.status),
            Error::Decode(e) => Some(e.status),
            _ => None,
        }
    }

    /// A fixed, secret-free description for logs and metrics: no server text, no body
    /// excerpt, no header value (e.g. `"transport: timeout"`, `"api error"`,
    /// `"verification: stale timestamp"`: a failed verification is named by
    /// [`VerificationFailure::label`]).
    pub fn label(&self) -> &'static str {
        match self {
            Error::Transport(t) => match t.kind {
                TransportErrorKind::Dns => "transport: dns",
                TransportErrorKind::Connect => "transport: connect",
                TransportErrorKind::Tls => "transport: tls",
                TransportErrorKind::Timeout => "transport: timeout",
                TransportErrorKind::Io => "transport: io",
                TransportErrorKind::Other => "transport",
            },
            Error::Verification(e) => e.failure.error_label(),
            Error::Api(_) => "api error",
            Error::UnexpectedResponse(_) => "unexpected response",
            Error::Decode(_) => "decode",
            Error::BodyTooLarge { .. } => "body too large",
            Error::InvalidInput(_) => "invalid input",
            Error::Key(_) => "key",
            Error::Sign(_) => "sign",
        }
    }

    /// The WeChat Pay error code, for [`Error::Api`].
    pub fn api_code(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(e.code.as_str()),
            _ => None,
        }
    }

    /// Whether this is a transport timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport(t) if t.kind == TransportErrorKind::Timeout)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput(e) => e.fmt(f),
            Error::Key(e) => e.fmt(f),
            Error::Sign(e) => e.fmt(f),
            Error::Transport(e) => e.fmt(f),
            Error::Verification(e) => e.fmt(f),
            Error::Api(e) => e.fmt(f),
            Error::UnexpectedResponse(e) => e.fmt(f),
            Error::Decode(e) => e.fmt(f),
            Error::BodyTooLarge { limit } => write!(f, "response body larger than the {limit}-byte cap"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport(e) => e.source.as_deref().map(|s| s as _),
            Error::Decode(e) => Some(&e.source),
            Error::Key(e) => std::error::Error::source(e),
            // `Error::Sign` shows the `SignError` itself, so the chain goes on with its cause.
            Error::Sign(e) => std::error::Error::source(e),
            _ => None,
        }
    }
}

impl From<InvalidInput> for Error {
    fn from(e: InvalidInput) -> Self {
        Error::InvalidInput(e)
    }
}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        Error::Key(e)
    }
}

impl From<SignError> for Error {
    fn from(e: SignError) -> Self {
        Error::Sign(e)
    }
}

/// What kind of transport failure happened. Decides retries and failover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The host name did not resolve.
    Dns,
    /// The TCP connection could not be made.
    Connect,
    /// The TLS handshake failed.
    Tls,
    /// A connect or per-attempt timeout, or the overall deadline, passed.
    Timeout,
    /// The connection broke while sending or receiving.
    Io,
    /// Anything else (an invalid response head, a client bug, ...).
    Other,
}

impl TransportErrorKind {
    /// The kind of an I/O failure: timeouts, refused or unreachable connections, the rest `Io`.
    pub fn from_io(kind: std::io::ErrorKind) -> Self {
        use std::io::ErrorKind as K;
        match kind {
            K::TimedOut | K::WouldBlock => Self::Timeout,
            K::ConnectionRefused | K::AddrNotAvailable | K::NetworkUnreachable | K::HostUnreachable => Self::Connect,
            _ => Self::Io,
        }
    }

    /// Whether the failure happened at connection level (DNS, connect, TLS, timeout), where
    /// the backup host may help.
    pub fn is_connection_level(self) -> bool {
        matches!(self, Self::Dns | Self::Connect | Self::Tls | Self::Timeout)
    }
}

/// A transport failure reported by an adapter.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    host: Option<Host>,
    /// `host[:port]` of the base URL the failed attempt went to.
    authority: Option<String>,
    /// The limit that passed, for a timeout the driver knows the length of.
    after: Option<std::time::Duration>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
    body_cap: Option<usize>,
}

impl TransportError {
    /// A failure of `kind` caused by `source` (which must not hold secrets).
    pub fn new(kind: TransportErrorKind, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { kind, host: None, authority: None, after: None, source: Some(source.into()), body_cap: None }
    }

    /// A failure of kind [`TransportErrorKind::Other`] caused by `source` (a library author's
    /// own HTTP stack reports what it cannot classify this way).
    pub fn other(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::new(TransportErrorKind::Other, source)
    }

    /// A failure of `kind` without an underlying error.
    pub fn of_kind(kind: TransportErrorKind) -> Self {
        Self { kind, host: None, authority: None, after: None, source: None, body_cap: None }
    }

    /// The response body (read or declared) passed the transport's cap of `limit` bytes
    /// ([`crate::transport::Limits::max_body_bytes`]); the driver reports it as
    /// [`Error::BodyTooLarge`].
    pub fn body_too_large(limit: usize) -> Self {
        Self {
            kind: TransportErrorKind::Other,
            host: None,
            authority: None,
            after: None,
            source: None,
            body_cap: Some(limit),
        }
    }

    /// The cap passed, for an error made by [`TransportError::body_too_large`].
    pub fn body_cap(&self) -> Option<usize> {
        self.body_cap
    }

    /// Records which host the attempt went to.
    pub fn on_host(mut self, host: Host) -> Self {
        self.host = Some(host);
        self
    }

    /// Records which host the attempt went to and its base URL's `host[:port]` (the driver
    /// does this for every failed attempt, so that the error names where it failed).
    pub fn at(mut self, host: Host, base_url: &crate::config::BaseUrl) -> Self {
        self.host = Some(host);
        self.authority = Some(base_url.authority().as_str().to_owned());
        self
    }

    /// Records the limit that passed (for a [`TransportErrorKind::Timeout`]).
    pub fn after(mut self, limit: std::time::Duration) -> Self {
        self.after = Some(limit);
        self
    }

    /// The limit that passed, for a timeout whose length is known.
    pub fn timeout_after(&self) -> Option<std::time::Duration> {
        self.after
    }

    /// `host[:port]` of the base URL the failed attempt went to, when known.
    pub fn authority(&self) -> Option<&str> {
        self.authority.as_deref()
    }

    /// The kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The host of the failed attempt, when known.
    pub fn host(&self) -> Option<Host> {
        self.host
    }
}

impl TransportError {
    /// The first `std::io::Error` kind in the source chain: what the operating system said.
    fn io_kind(&self) -> Option<std::io::ErrorKind> {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = match &self.source {
            Some(source) => Some(&**source),
            None => None,
        };
        while let Some(err) = cause {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                return Some(io.kind());
            }
            cause = err.source();
        }
        None
    }
}

/// A duration as a person reads it: whole seconds as `30 s`, anything else in milliseconds.
fn human_duration(d: std::time::Duration) -> String {
    if d.subsec_nanos() == 0 { format!("{} s", d.as_secs()) } else { format!("{} ms", d.as_millis()) }
}

/// The host name of `host[:port]` (the port cut off).
fn host_name(authority: &str) -> &str {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

impl fmt::Display for TransportError {
    /// What happened, in words, naming where: "could not resolve host api.example",
    /// "connection refused by 127.0.0.1:9", "timed out after 30 s waiting for …".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use std::io::ErrorKind as K;
        let at = printable(self.authority.as_deref().unwrap_or("the WeChat Pay host")).max_chars(300).to_string();
        let io = self.io_kind();
        match self.kind {
            TransportErrorKind::Dns => write!(f, "could not resolve host {}", host_name(&at))?,
            TransportErrorKind::Connect => match io {
                Some(K::ConnectionRefused) => write!(f, "connection refused by {at}")?,
                Some(K::NetworkUnreachable | K::HostUnreachable) => write!(f, "{at} is unreachable")?,
                _ => write!(f, "could not connect to {at}")?,
            },
            TransportErrorKind::Tls => write!(f, "TLS handshake with {at} failed")?,
            TransportErrorKind::Timeout => match self.after {
                Some(limit) => write!(f, "timed out after {} waiting for {at}", human_duration(limit))?,
                None => write!(f, "timed out waiting for {at}")?,
            },
            TransportErrorKind::Io => match io {
                Some(K::ConnectionReset) => write!(f, "connection reset by {at}")?,
                Some(K::UnexpectedEof) => write!(f, "{at} closed the connection before the answer was complete")?,
                Some(K::BrokenPipe | K::ConnectionAborted) => {
                    write!(f, "{at} closed the connection while the request was being sent")?;
                }
                _ => write!(f, "the connection to {at} failed while sending or receiving")?,
            },
            TransportErrorKind::Other => write!(f, "transport error talking to {at}")?,
        }
        if let Some(host) = self.host {
            write!(f, " ({host} host)")?;
        }
        Ok(())
    }
}

/// A response failed verification.
///
/// Its fields can be read; it is built with [`VerificationError::new`] (for example by a
/// custom transport's tests), so that new fields can be added without breaking callers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerificationError {
    /// Which check failed.
    pub failure: VerificationFailure,
    /// The response status.
    pub status: StatusCode,
    /// The response's `Request-ID`.
    pub request_id: Option<String>,
    /// For [`VerificationFailure::UnknownSerial`]: the serials of the keys the verifier holds
    /// ([`crate::Verifier::key_ids`]), so that the error says which are configured.
    pub key_ids: Vec<String>,
}

impl VerificationError {
    /// A failed `failure` check on a response with `status` and, when it had one, a
    /// `Request-ID`.
    pub fn new(failure: VerificationFailure, status: StatusCode, request_id: Option<String>) -> Self {
        Self { failure, status, request_id, key_ids: Vec::new() }
    }

    /// The same error naming the serials of the keys held (see [`VerificationError::key_ids`]).
    #[must_use]
    pub fn with_key_ids(mut self, key_ids: Vec<String>) -> Self {
        self.key_ids = key_ids;
        self
    }
}

impl fmt::Display for VerificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "response verification failed: {} (HTTP {}", self.failure, self.status.as_u16())?;
        if let Some(id) = &self.request_id {
            write!(f, ", Request-ID {id}")?;
        }
        f.write_str(")")?;
        if let VerificationFailure::UnknownSerial(_) = self.failure {
            if self.key_ids.is_empty() {
                f.write_str("; no WeChat Pay key is configured")?;
            } else {
                let shown: Vec<String> =
                    self.key_ids.iter().take(16).map(|id| printable(id).max_chars(80).to_string()).collect();
                write!(f, "; the keys configured are {}", shown.join(", "))?;
            }
        }
        Ok(())
    }
}

/// WeChat Pay answered with an error body `{"code", "message", "detail"}`.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error code.
    pub code: ErrorCode,
    /// The message, for people.
    pub message: String,
    /// `detail`, kept as raw JSON; see the getters.
    pub detail: Option<Value>,
    /// The response's `Request-ID` (what WeChat Pay support asks for).
    pub request_id: Option<String>,
    /// Whether the error response carried a valid signature. An unverified error must never
    /// be the sole ground for a money-relevant decision.
    pub verified: bool,
}

impl ApiError {
    fn detail_str(&self, key: &str) -> Option<&str> {
        self.detail.as_ref()?.get(key)?.as_str()
    }

    /// `detail.field`: the offending field.
    pub fn field(&self) -> Option<&str> {
        self.detail_str("field")
    }

    /// `detail.value`: the offending value (may be a number, so raw JSON).
    pub fn value(&self) -> Option<&Value> {
        self.detail.as_ref()?.get("value")
    }

    /// `detail.issue`: what is wrong with it.
    pub fn issue(&self) -> Option<&str> {
        self.detail_str("issue")
    }

    /// `detail.location`: where the field was (`path`, `query`, `body`, ...).
    pub fn location(&self) -> Option<&str> {
        self.detail_str("location")
    }

    /// `detail.sign_information.truncated_sign_message` of a `SIGN_ERROR`: the string the
    /// server tried to verify. Compare it with the string-to-sign; treat it as sensitive.
    pub fn truncated_sign_message(&self) -> Option<&str> {
        self.detail.as_ref()?.get("sign_information")?.get("truncated_sign_message")?.as_str()
    }

    /// Whether the code says to repeat the call with the same parameters.
    pub fn is_retryable(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS
            || (self.status.is_server_error()
                && !matches!(self.code, ErrorCode::InvalidTransactionid | ErrorCode::OpenidMismatch))
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("field", &self.field())
            .field("issue", &self.issue())
            .field("request_id", &self.request_id)
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    /// Server text is escaped, kept on one line and cut ([`crate::untrusted`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WeChat Pay answered HTTP {} {}: {}",
            self.status.as_u16(),
            printable(self.code.as_str()).max_chars(64),
            printable(&self.message)
        )?;
        if let Some(field) = self.field() {
            write!(f, " (field {}", printable(field).max_chars(64))?;
            if let Some(issue) = self.issue() {
                write!(f, ": {}", printable(issue))?;
            }
            f.write_str(")")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [Request-ID {}]", printable(id).max_chars(128))?;
        }
        if !self.verified {
            f.write_str(" [unsigned]")?;
        }
        Ok(())
    }
}

/// An error status with a body that is not a WeChat Pay error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnexpectedResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response's `Request-ID`, if any.
    pub request_id: Option<String>,
    /// The first characters of the body, control characters escaped, the body's length noted
    /// when cut ([`crate::untrusted::excerpt`]).
    pub excerpt: String,
    /// Whether the response carried a valid signature.
    pub verified: bool,
}

impl fmt::Display for UnexpectedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unexpected HTTP {} response", self.status.as_u16())?;
        if let Some(id) = &self.request_id {
            write!(f, " [Request-ID {}]", printable(id).max_chars(128))?;
        }
        // `excerpt` is escaped and cut when made; escaping again keeps a changed field safe.
        write!(f, ": {}", printable(&self.excerpt).max_chars(4 * MAX_CHARS))
    }
}

/// A verified success body that did not fit the response type.
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response's `Request-ID`.
    pub request_id: Option<String>,
    /// The JSON error (line, column and what was expected).
    pub source: serde_json::Error,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not decode the response body: {}", self.source)?;
        if let Some(id) = &self.request_id {
            write!(f, " [Request-ID {id}]")?;
        }
        Ok(())
    }
}

/// A short, printable excerpt of an untrusted body: see [`crate::untrusted::excerpt`].
pub(crate) fn excerpt(body: &[u8], max_chars: usize) -> String {
    crate::untrusted::excerpt(body, max_chars)
}
