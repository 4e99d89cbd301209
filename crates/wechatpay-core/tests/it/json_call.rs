//! `api::Json`, the generic call, through the driver and a closure transport: the request is
//! sent and signed as given, the verified answer comes back byte for byte, a `204` is `None`,
//! and bad input is refused before anything is signed.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::cell::RefCell;
use std::time::Duration;

use base64::Engine as _;
use common::*;
use http::{HeaderMap, Method, StatusCode};
use wechatpay_core::api::{Json, JsonText};
use wechatpay_core::retry::RetryPolicy;
use wechatpay_core::transport::Driver;
use wechatpay_core::{Error, PublicKey, TransportError, VerificationFailure, unix_now};

fn driver() -> Driver {
    let config =
        builder_with(wechatpay_core::crypto::Backend::default()).base_url("http://primary.test").build().unwrap();
    Driver::new(config).with_retry_policy(RetryPolicy::default().with_base_delay(Duration::from_millis(1)))
}

fn signed(status: u16, body: &[u8]) -> http::Response<Vec<u8>> {
    response(StatusCode::from_u16(status).unwrap(), &signed_headers(body, unix_now(), By::PublicKey), body)
}

/// Checks the request's `Authorization` signature with the merchant's public key over the
/// string-to-sign rebuilt from what is sent (method, target, timestamp, nonce, body).
fn assert_signed_as_sent(request: &http::Request<Vec<u8>>) {
    let auth = request.headers()["authorization"].to_str().unwrap();
    let field = |name: &str| {
        let start = auth.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        auth[start..].split('"').next().unwrap().to_owned()
    };
    let message = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        request.method(),
        request.uri().path_and_query().unwrap().as_str(),
        field("timestamp"),
        field("nonce_str"),
        std::str::from_utf8(request.body()).unwrap()
    );
    let signature = base64::engine::general_purpose::STANDARD.decode(field("signature")).unwrap();
    PublicKey::from_pem(&data("merchant_pub.pem")).unwrap().verify(message.as_bytes(), &signature).unwrap();
}

#[test]
fn a_json_call_returns_the_verified_answer_byte_for_byte() {
    // Numbers beyond f64 and u64, a decimal with trailing zeros, an unknown nested field,
    // and non-ASCII text: all must come back exactly as signed.
    let answer = r#"{"total":123456789012345678901234567890,"rate":1.50,"neg":-0.0,"extra":{"a":[1,2,{"b":null}]},"name":"粤B12345"}"#;
    let target = "/v3/pay/transactions/out-trade-no/%E7%B2%A4B12345%7C1?mchid=1230000109";
    let seen = RefCell::new(Vec::new());
    let send = |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        assert_signed_as_sent(&request);
        seen.borrow_mut().push(request);
        Ok(signed(200, answer.as_bytes()))
    };
    let op = Json::new(Method::GET, target, None).unwrap();
    let text: JsonText = driver().execute(&send, |_| {}, &op).unwrap();
    assert_eq!(text.as_str(), Some(answer));
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method(), Method::GET);
    assert_eq!(seen[0].uri().to_string(), format!("http://primary.test{target}"));
    assert!(seen[0].body().is_empty());
    assert!(seen[0].headers().get("content-type").is_none());
    // Serialising the answer gives the same text back (the CLI prints it).
    assert_eq!(serde_json::to_string(&text).unwrap(), answer);
}

#[test]
fn a_json_post_sends_its_body_as_given_and_retries_only_when_told() {
    let body = "{ \"mchid\" : \"1230000109\", \"amount\": 100.10 }";
    let target = "/v3/pay/transactions/out-trade-no/X1/close";
    let bodies = RefCell::new(Vec::new());
    let send = |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        assert_signed_as_sent(&request);
        assert_eq!(request.headers()["content-type"], "application/json");
        bodies.borrow_mut().push(request.body().clone());
        Ok(if bodies.borrow().len() == 1 {
            response(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), br#"{"code":"SYSTEM_ERROR","message":"x"}"#)
        } else {
            signed(204, b"")
        })
    };
    // A POST is not repeated after a 500 unless it is declared idempotent.
    let op = Json::new(Method::POST, target, Some(body)).unwrap();
    let err = driver().execute(&send, |_| {}, &op).unwrap_err();
    assert!(matches!(&err, Error::Api(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR), "{err:?}");
    assert_eq!(bodies.borrow().len(), 1);
    bodies.borrow_mut().clear();
    // Declared idempotent, it is repeated, and the 204 is an empty answer.
    let text = driver().execute(&send, |_| {}, &op.idempotent(true)).unwrap();
    assert_eq!(text.as_str(), None);
    assert_eq!(*bodies.borrow(), [body.as_bytes(), body.as_bytes()]);
}

#[test]
fn a_json_answer_is_verified_like_any_other() {
    let answer = br#"{"a":1}"#;
    let send = |_request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        let mut r = signed(200, answer);
        *r.body_mut() = br#"{"a":2}"#.to_vec();
        Ok(r)
    };
    let op = Json::new(Method::GET, "/v3/x", None).unwrap();
    let err = driver().execute(&send, |_| {}, &op).unwrap_err();
    assert!(matches!(&err, Error::Verification(v) if v.failure == VerificationFailure::SignatureMismatch), "{err:?}");
}

#[test]
fn bad_targets_and_bodies_are_refused_before_signing() {
    for target in ["/v2/x", "v3/x", "/v3/a b", "/v3/粤B", "/v3/x#frag", "/v3/%zz", "https://x/v3/y"] {
        let err = Json::new(Method::GET, target, None).unwrap_err();
        assert_eq!(err.field(), "target", "{target}");
        assert!(err.to_string().contains("rule: "), "{err}");
    }
    for body in ["", "{", "{\"a\":1} trailing", "NaN"] {
        let err = Json::new(Method::POST, "/v3/x", Some(body)).unwrap_err();
        assert_eq!(err.field(), "body", "{body:?}");
    }
}

#[test]
fn a_signed_answer_nested_too_deep_is_a_decode_error() {
    let deep = format!(r#"{{"a":1,"unknown":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    let send = |_request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        Ok(signed(200, deep.as_bytes()))
    };
    let op = Json::new(Method::GET, "/v3/x", None).unwrap();
    let err = driver().execute(&send, |_| {}, &op).unwrap_err();
    assert!(matches!(&err, Error::Decode(_)), "{err:?}");
}
