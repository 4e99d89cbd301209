//! Turning status, headers and raw body bytes into a typed result or a typed error.

use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::Operation;
use crate::config::Config;
use crate::crypto::Verifier;
use crate::error::{ApiError, DecodeError, Error, UnexpectedResponse, VerificationError};
use crate::model::ErrorCode;
use crate::verify::{self, HEADER_REQUEST_ID};

/// Parses the answer to `Op`: checks size, verifies the signature (spec §3, in order) and
/// only then deserialises the verified bytes. `now` is Unix seconds (inject it in tests).
///
/// # Errors
/// [`Error::Verification`] when the answer is not trusted, [`Error::Api`] or
/// [`Error::UnexpectedResponse`] for error statuses, [`Error::Decode`] for a verified body
/// that does not fit, [`Error::BodyTooLarge`] above the cap.
pub fn parse<Op: Operation>(
    config: &Config,
    verifier: &dyn Verifier,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
) -> Result<Op::Output, Error> {
    parse_as::<Op::Output>(config, verifier, status, headers, body, now)
}

/// [`parse`] for any JSON response type.
///
/// # Errors
/// As [`parse`].
pub fn parse_as<T: DeserializeOwned>(
    config: &Config,
    verifier: &dyn Verifier,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
) -> Result<T, Error> {
    if body.len() > config.max_body_bytes() {
        return Err(Error::BodyTooLarge { limit: config.max_body_bytes() });
    }
    let request_id = headers.get(HEADER_REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let verify = |request_id: &Option<String>| {
        verify::signature_headers(headers)
            .and_then(|sig| verify::verify_signature(verifier, &sig, body, now, config.max_clock_skew_secs()))
            .map_err(|failure| {
                Error::Verification(VerificationError { failure, status, request_id: request_id.clone() })
            })
    };
    if status.is_success() {
        verify(&request_id)?;
        return serde_json::from_slice(body)
            .map_err(|source| Error::Decode(DecodeError { status, request_id, source }));
    }
    // Error answers are often unsigned; when any signature header is there, all must verify.
    let verified = if verify::has_any_signature_header(headers) {
        verify(&request_id)?;
        true
    } else {
        false
    };
    Err(error_from_body(status, body, request_id, verified))
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    detail: Option<Value>,
}

fn error_from_body(status: StatusCode, body: &[u8], request_id: Option<String>, verified: bool) -> Error {
    // Only a JSON object is an error body: serde would also read the struct from an array
    // (`["PARAM_ERROR"]`), which WeChat Pay never sends (found by the `error_body` fuzzer).
    let parsed = if body.trim_ascii_start().starts_with(b"{") {
        serde_json::from_slice::<ErrorBody>(body).map_err(|_| ())
    } else {
        Err(())
    };
    match parsed {
        Ok(e) => Error::Api(ApiError {
            status,
            code: ErrorCode::from(e.code),
            message: e.message,
            detail: e.detail,
            request_id,
            verified,
        }),
        Err(_) => Error::UnexpectedResponse(UnexpectedResponse {
            status,
            request_id,
            excerpt: crate::error::excerpt(body, 160),
            verified,
        }),
    }
}
