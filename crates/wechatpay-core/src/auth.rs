//! Request signing (`WECHATPAY2-SHA256-RSA2048`): the string-to-sign, the prepared request
//! and the `Authorization` header — built from one URI, so what is signed is what is sent.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderValue, Method, Request, Uri};

use crate::api::Operation;
use crate::config::{Config, Host};
use crate::crypto::{SignError, Signer};
use crate::error::Error;
use crate::ids::{InvalidInput, Nonce};

use crate::wire::{AUTH_SCHEME, HEADER_SERIAL};

/// The per-request inputs of a signature: time and nonce. Use a fresh one for every
/// attempt (WeChat Pay rejects timestamps more than 5 minutes off).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigningInput {
    /// Unix time in seconds.
    pub timestamp: u64,
    /// A random nonce.
    pub nonce: Nonce,
}

impl SigningInput {
    /// Fixed inputs (for tests and known-answer vectors).
    pub fn new(timestamp: u64, nonce: Nonce) -> Self {
        Self { timestamp, nonce }
    }

    /// The system clock and 32 characters from the OS CSPRNG.
    ///
    /// # Errors
    /// [`SignError`] when the OS random source fails.
    pub fn now() -> Result<Self, SignError> {
        Ok(Self { timestamp: unix_now(), nonce: Nonce::random()? })
    }
}

/// Seconds since the Unix epoch by the system clock (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The five-line message signed for a request: method, target, timestamp, nonce, body.
pub fn string_to_sign(method: &Method, target: &str, timestamp: u64, nonce: &str, body: &str) -> String {
    let mut s = String::with_capacity(method.as_str().len() + target.len() + nonce.len() + body.len() + 16);
    for part in [method.as_str(), target, &timestamp.to_string(), nonce, body] {
        s.push_str(part);
        s.push('\n');
    }
    s
}

/// A request whose target, headers and string-to-sign are fixed, waiting for its signature.
///
/// Sign it with [`PreparedRequest::sign`], or compute the signature elsewhere (an async
/// HSM/KMS) over [`PreparedRequest::string_to_sign`] and call [`PreparedRequest::finish`].
pub struct PreparedRequest {
    method: Method,
    uri: Uri,
    body: Vec<u8>,
    message: String,
    headers: HeaderMap,
    mchid: String,
    serial_no: String,
    timestamp: u64,
    nonce: Nonce,
}

/// Builds the request for `op` to `host`, ready to sign: the target and the body (if the
/// operation has one, with `Content-Type: application/json`) are signed exactly as sent.
/// The one way to build a request: `prepare(&config, &op, host, input)?.sign(signer)`
/// (the [`Driver`](crate::transport::Driver) builds method, target and body once per call and
/// signs each attempt afresh over them).
///
/// # Errors
/// [`Error::InvalidInput`] if the operation's target is not a valid request target or its
/// body is not UTF-8.
pub fn prepare<Op: Operation>(
    config: &Config,
    op: &Op,
    host: Host,
    input: SigningInput,
) -> Result<PreparedRequest, Error> {
    Outgoing::of(config, op)?.prepare(config, host, input)
}

/// What an operation sends, built once per call: method, target and body. Every attempt
/// signs these same bytes (with its own timestamp and nonce).
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    method: Method,
    target: PathAndQuery,
    body: String,
    /// The operation's own `Wechatpay-Serial` (encrypted fields), replacing the config's.
    serial: Option<HeaderValue>,
}

impl Outgoing {
    /// Asks `op` for its method, target and body, and checks them.
    pub(crate) fn of<Op: Operation>(config: &Config, op: &Op) -> Result<Outgoing, Error> {
        const RULE: &str = "an origin-form target: /path[?query], percent-encoded, no spaces, no fragment";
        let body = match op.body(config.mchid()) {
            None => String::new(),
            Some(bytes) => String::from_utf8(bytes)
                .map_err(|_| InvalidInput::new("body", "is not UTF-8", "a JSON body (UTF-8 text)"))?,
        };
        let target = op.target(config.mchid()).to_string();
        let pq = PathAndQuery::try_from(target.as_str())
            .map_err(|_| InvalidInput::new("target", "is not a valid request target", RULE))?;
        if !target.starts_with('/') || pq.as_str() != target || target.contains('#') {
            return Err(InvalidInput::new("target", "is not an origin-form request target", RULE).into());
        }
        let serial = match op.wechatpay_serial() {
            None => None,
            Some(serial) => Some(HeaderValue::from_str(serial).map_err(|_| {
                InvalidInput::new("Wechatpay-Serial", "is not a valid header value", "a key serial or PUB_KEY_ID_…")
            })?),
        };
        Ok(Outgoing { method: op.method(), target: pq, body, serial })
    }

    /// The method, for logs.
    pub(crate) fn method(&self) -> &Method {
        &self.method
    }

    /// The path without the query, for logs.
    pub(crate) fn path(&self) -> &str {
        self.target.path()
    }

    /// The request to `host`, signed with `input`'s timestamp and nonce, waiting for its
    /// signature.
    pub(crate) fn prepare(&self, config: &Config, host: Host, input: SigningInput) -> Result<PreparedRequest, Error> {
        let base = config.base_url(host);
        let uri = Uri::builder()
            .scheme(base.scheme().clone())
            .authority(base.authority().clone())
            .path_and_query(self.target.clone())
            .build()
            .map_err(|_| InvalidInput::new("target", "does not combine with the base URL", "a request target"))?;
        let message =
            string_to_sign(&self.method, self.target.as_str(), input.timestamp, input.nonce.as_str(), &self.body);
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, config.user_agent().clone());
        if let Some(serial) = self.serial.as_ref().or(config.wechatpay_serial_header()) {
            headers.insert(HEADER_SERIAL, serial.clone());
        }
        if !self.body.is_empty() {
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(PreparedRequest {
            method: self.method.clone(),
            uri,
            body: self.body.clone().into_bytes(),
            message,
            headers,
            mchid: config.mchid().to_string(),
            serial_no: config.serial_no().to_string(),
            timestamp: input.timestamp,
            nonce: input.nonce,
        })
    }
}

impl PreparedRequest {
    /// The exact message to sign (five lines, each ending in `\n`).
    pub fn string_to_sign(&self) -> &str {
        &self.message
    }

    /// The full URI that will be sent.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The signed request target (path and query).
    pub fn path_and_query(&self) -> &str {
        self.uri.path_and_query().map_or("/", PathAndQuery::as_str)
    }

    /// The `Authorization` header value for a raw `signature` of the string-to-sign.
    pub fn authorization(&self, signature: &[u8]) -> String {
        format!(
            "{AUTH_SCHEME} mchid=\"{}\",nonce_str=\"{}\",signature=\"{}\",timestamp=\"{}\",serial_no=\"{}\"",
            self.mchid,
            self.nonce,
            base64::engine::general_purpose::STANDARD.encode(signature),
            self.timestamp,
            self.serial_no
        )
    }

    /// Signs with `signer` and builds the request.
    ///
    /// # Errors
    /// [`Error::Sign`] when the signer fails.
    pub fn sign(self, signer: &dyn Signer) -> Result<Request<Vec<u8>>, Error> {
        let signature = signer.sign(self.message.as_bytes())?;
        Ok(self.finish(&signature))
    }

    /// Builds the request with a raw signature computed elsewhere over
    /// [`PreparedRequest::string_to_sign`]. The `Authorization` header is marked sensitive.
    pub fn finish(self, signature: &[u8]) -> Request<Vec<u8>> {
        let mut auth = HeaderValue::try_from(self.authorization(signature))
            .unwrap_or_else(|_| HeaderValue::from_static("invalid"));
        auth.set_sensitive(true);
        let mut headers = self.headers;
        headers.insert(AUTHORIZATION, auth);
        let mut request = Request::new(self.body);
        *request.method_mut() = self.method;
        *request.uri_mut() = self.uri;
        *request.headers_mut() = headers;
        request
    }
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedRequest")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_sign_has_five_terminated_lines() {
        let s = string_to_sign(&Method::GET, "/v3/x?a=1", 1554208460, "N", "");
        assert_eq!(s, "GET\n/v3/x?a=1\n1554208460\nN\n\n");
    }
}
