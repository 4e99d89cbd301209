//! A payment-notification endpoint in axum, ready to paste: the handler takes the **raw body
//! bytes** (`axum::body::Bytes`, never a `Json<…>` extractor: re-serialised JSON no longer
//! matches the signature), the headers and the method, hands them to
//! [`wechatpay_core::notify::parse_notification_parts`], and answers with
//! [`wechatpay_core::notify::answer`] (`204`, or a `4xx` with `{"code":"FAIL",…}`).
//!
//! Acknowledge first, work after: WeChat Pay waits 5 s, so hand the verified notification to
//! a queue (here, a log line) and be idempotent on its `id` (redeliveries keep it).

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::any;
use wechatpay_core::notify::answer;
use wechatpay_core::{ApiV3Key, KeyStore, notify::Expect, notify::parse_notification_parts};

/// Real notifications are a few KiB; refuse anything much larger before reading it all.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the endpoint needs to verify and decrypt.
#[derive(Debug)]
pub struct Endpoint {
    /// The WeChat Pay keys (public key and/or platform certificates).
    pub keys: KeyStore,
    /// The merchant's APIv3 key.
    pub apiv3_key: ApiV3Key,
    /// Whose notifications arrive here (direct merchant, service provider, parking).
    pub expect: Expect,
    /// The clock, Unix seconds (`wechatpay_core::unix_now` outside tests).
    pub now: fn() -> u64,
}

/// The router: notifications are `POST`ed to `path` (other methods are refused by the core).
pub fn app(endpoint: Arc<Endpoint>, path: &str) -> Router {
    Router::new().route(path, any(notify)).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)).with_state(endpoint)
}

/// The handler: raw bytes in, the core's answer out.
async fn notify(State(endpoint): State<Arc<Endpoint>>, method: Method, headers: HeaderMap, body: Bytes) -> Response {
    let e = &*endpoint;
    let outcome = parse_notification_parts(&method, &headers, &body, &e.keys, &e.apiv3_key, &e.expect, (e.now)());
    match &outcome {
        // Hand it on (a queue, a table keyed by `id`) and answer at once.
        Ok(n) => eprintln!("notification {} ({}) verified", n.id, n.event_type.as_str()),
        // Says which check failed; never prints the body of a refused notification.
        Err(error) => eprintln!("{error}"),
    }
    answer(&outcome).map(Body::from)
}
