//! A payment-notification endpoint in axum, ready to paste: the handler takes the **raw body
//! bytes** (`axum::body::Bytes`, never a `Json<…>` extractor: re-serialised JSON no longer
//! matches the signature), the headers and the method, hands them to a
//! [`wechatpay_core::notify::Receiver`], and answers with [`wechatpay_core::notify::answer`]
//! (`204`, or a `4xx` with `{"code":"FAIL",…}`). One URL takes every kind: direct, partner and
//! parking payments and parking entry events are told apart by the receiver.
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
use wechatpay_core::notify::{Receiver, answer};

/// Real notifications are a few KiB; refuse anything much larger before reading it all.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The router: notifications are `POST`ed to `path` (other methods are refused by the core).
/// `receiver` holds the WeChat Pay keys, the APIv3 key, the merchant id and the clock.
pub fn app(receiver: Arc<Receiver>, path: &str) -> Router {
    Router::new().route(path, any(notify)).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)).with_state(receiver)
}

/// The handler: raw bytes in, the core's answer out.
async fn notify(State(receiver): State<Arc<Receiver>>, method: Method, headers: HeaderMap, body: Bytes) -> Response {
    let outcome = receiver.receive(&method, &headers, &body);
    match &outcome {
        // Hand it on (a queue, a table keyed by `id`) and answer at once.
        Ok(n) => eprintln!("notification {} ({}) verified", n.id, n.event_type.as_str()),
        // Says which check failed; never prints the body of a refused notification.
        Err(error) => eprintln!("{error}"),
    }
    answer(&outcome).map(Body::from)
}
