//! The example's router against the core's Python-made notification fixtures (throwaway
//! keys), without a network: `tower::ServiceExt::oneshot`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum_notify::app;
use tower::ServiceExt as _;
use wechatpay_core::notify::Receiver;
use wechatpay_core::{ApiV3Key, KeyStore, MchId};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../crates/wechatpay-core/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn receiver() -> Arc<Receiver> {
    let mut keys = KeyStore::new();
    keys.add_public_key("PUB_KEY_ID_0114232019092600000000000000000001", &data("wechatpay_pub.pem")).unwrap();
    keys.add_platform_certificates(&data("platform_cert.pem")).unwrap();
    let apiv3_key = ApiV3Key::from_bytes(data("notifications/apiv3_key.txt").trim_ascii()).unwrap();
    Arc::new(
        Receiver::new(keys, apiv3_key, MchId::new("1230000109").unwrap())
            // The fixtures were signed at this time.
            .clock(|| SystemTime::UNIX_EPOCH + Duration::from_secs(1554208460)),
    )
}

/// The fixture `case` as WeChat Pay would POST it, with `body` instead of its own if given.
fn request(case: &str, method: &str, body: Option<Vec<u8>>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri("/wechatpay/notify");
    for line in String::from_utf8(data(&format!("notifications/{case}.headers"))).unwrap().lines() {
        let (name, value) = line.split_once(": ").unwrap();
        builder = builder.header(name, value);
    }
    builder.body(Body::from(body.unwrap_or_else(|| data(&format!("notifications/{case}.body"))))).unwrap()
}

async fn status_and_body(request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = app(receiver(), "/wechatpay/notify").oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    (status, body.to_vec())
}

#[tokio::test]
async fn a_verified_notification_gets_204() {
    let (status, body) = status_and_body(request("direct_success", "POST", None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(body.is_empty());
}

#[tokio::test]
async fn every_kind_is_received_at_one_url() {
    for case in [
        "partner_success",
        "parking_success",
        "parking_fail",
        "parking_pay_back",
        "parking_entrance",
        "refund_other",
        "security_echo",
    ] {
        assert_eq!(status_and_body(request(case, "POST", None)).await, (StatusCode::NO_CONTENT, Vec::new()), "{case}");
    }
}

#[tokio::test]
async fn refused_notifications_get_4xx_and_fail() {
    let fail = br#"{"code":"FAIL","message":"notification rejected"}"#.to_vec();
    // The same JSON, re-serialised (as a `Json<Value>` extractor would): the signature breaks.
    let value: serde_json::Value = serde_json::from_slice(&data("notifications/direct_success.body")).unwrap();
    let reserialised = serde_json::to_vec_pretty(&value).unwrap();
    assert_eq!(
        status_and_body(request("direct_success", "POST", Some(reserialised))).await,
        (StatusCode::UNAUTHORIZED, fail.clone())
    );
    assert_eq!(status_and_body(request("signtest", "POST", None)).await, (StatusCode::UNAUTHORIZED, fail.clone()));
    assert_eq!(status_and_body(request("wrong_key", "POST", None)).await, (StatusCode::BAD_REQUEST, fail.clone()));
    assert_eq!(status_and_body(request("other_merchant", "POST", None)).await, (StatusCode::BAD_REQUEST, fail));
    assert_eq!(status_and_body(request("direct_success", "GET", None)).await.0, StatusCode::METHOD_NOT_ALLOWED);
    let huge = vec![b' '; axum_notify::MAX_BODY_BYTES + 1];
    assert_eq!(status_and_body(request("direct_success", "POST", Some(huge))).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}
