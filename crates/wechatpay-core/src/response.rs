//! Turning a response (status, headers, raw body bytes) into a typed result or a typed error.
//! The one entry point is [`parse_response`].

use std::time::SystemTime;

use http::header::CONTENT_LENGTH;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::api::Operation;
use crate::config::Config;
use crate::error::{ApiError, DecodeError, Error, UnexpectedResponse, VerificationError};
use crate::json;
use crate::model::ErrorCode;
use crate::verify::{self, VerificationFailure};
use crate::wire::HEADER_REQUEST_ID;

/// Verifies and parses the answer to `op`: checks size (read or declared), verifies the
/// signature (PROTOCOL.md §3, in order) with `config`'s verifier against `now`, deserialises only
/// the verified bytes, and binds the answer to the question (PROTOCOL.md §11,
/// [`Operation::check_answer`]).
///
/// # Errors
/// [`Error::Verification`] when the answer is not trusted (a bad signature, or an answer
/// for another order or merchant), [`Error::Api`] or [`Error::UnexpectedResponse`] for
/// error statuses, [`Error::Decode`] for a verified body that does not fit,
/// [`Error::BodyTooLarge`] above the cap (by length read or declared).
pub fn parse_response<Op: Operation, B: AsRef<[u8]>>(
    config: &Config,
    op: &Op,
    response: &http::Response<B>,
    now: SystemTime,
) -> Result<Op::Output, Error> {
    let (status, headers, body) = (response.status(), response.headers(), response.body().as_ref());
    let limit = config.max_body_bytes();
    if body.len() > limit || declared_length(headers).is_some_and(|len| len > limit as u64) {
        return Err(Error::BodyTooLarge { limit });
    }
    let request_id = headers.get(HEADER_REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let verify = || {
        verify::signature_headers(headers)
            .and_then(|sig| verify::verify_signature(config.verifier(), &sig, body, now, config.max_clock_skew_secs()))
            .map_err(|failure| {
                let key_ids = match failure {
                    VerificationFailure::UnknownSerial(_) => config.verifier().key_ids(),
                    _ => Vec::new(),
                };
                Error::Verification(VerificationError::new(failure, status, request_id.clone()).with_key_ids(key_ids))
            })
    };
    if status.is_success() {
        if let Some(output) = op.answer_from_status(status) {
            // Binds nothing and only ever leads to a query (PROTOCOL.md §14): verified when signed.
            if verify::has_any_signature_header(headers) {
                verify()?;
            }
            return Ok(output);
        }
        verify()?;
        let output: Op::Output = decode_success(body)
            .map_err(|source| Error::Decode(DecodeError { status, request_id: request_id.clone(), source }))?;
        op.check_answer(config.mchid(), &output)
            .map_err(|failure| Error::Verification(VerificationError::new(failure, status, request_id)))?;
        return Ok(output);
    }
    // Error answers are often unsigned; when any signature header is there, all must verify.
    let verified = if verify::has_any_signature_header(headers) {
        verify()?;
        true
    } else {
        false
    };
    Err(error_from_body(status, body, request_id, verified))
}

/// A verified success body as `T`; an empty body (a `204`) reads as JSON `null`, which
/// only a unit-like output accepts.
fn decode_success<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    if body.is_empty() { serde_json::from_slice(b"null") } else { json::from_slice(body) }
}

/// The `Content-Length` a response declares, when it is a plain number.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
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
    match json::object_from_slice::<ErrorBody>(body) {
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
