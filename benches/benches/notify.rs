//! `notify`: a direct payment notification (the Python-made fixture
//! `tests/data/notifications/direct_success`: 1.5 KB body, 0.8 KB resource) through
//! `notify::Receiver::receive_request` on each backend: header checks, timestamp window,
//! RSA-2048 verify, envelope JSON, AES-256-GCM decryption, the kind told from the resource,
//! `Transaction` JSON, merchant check. Ids (stable, see `benches/README.md`):
//!
//! - `notify/<backend>/direct`: the whole of `Receiver::receive_request` (no kind named).
//! - `notify/decrypt_only/<backend>/direct`: `ApiV3Key::decrypt` of its resource (Base64 + AES-GCM).
//! - `notify/raw_verify/<backend>/direct`: `PublicKey::verify` of its signature alone.
//! - `notify/headers_only/direct`: `verify::signature_headers` of its request (the four
//!   `Wechatpay-*` headers read and checked).
//! - `notify/decode_only/direct`: `serde_json::from_slice::<Transaction>` of its plaintext.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use criterion::{Criterion, criterion_main};
use http::Request;
use wechatpay_benches::{BACKENDS, MCHID, PUB_KEY_ID, TS, key_store};
use wechatpay_core::notify::Receiver;
use wechatpay_core::{ApiV3Key, EncryptedResource, MchId};

const HEADERS: &str = include_str!("../../crates/wechatpay-core/tests/data/notifications/direct_success.headers");
const BODY: &[u8] = include_bytes!("../../crates/wechatpay-core/tests/data/notifications/direct_success.body");
const PLAIN: &[u8] = include_bytes!("../../crates/wechatpay-core/tests/data/notifications/direct_success.plain");
const API_V3_KEY: &str = include_str!("../../crates/wechatpay-core/tests/data/notifications/apiv3_key.txt");

fn request() -> Request<Vec<u8>> {
    let mut builder = Request::post("/notify");
    for line in HEADERS.lines() {
        let (name, value) = line.split_once(": ").expect("a header line");
        builder = builder.header(name, value);
    }
    builder.body(BODY.to_vec()).expect("a request")
}

fn header<'a>(request: &'a Request<Vec<u8>>, name: &str) -> &'a str {
    request.headers()[name].to_str().expect("ASCII header")
}

fn notify(c: &mut Criterion) {
    let request = request();
    let envelope: serde_json::Value = serde_json::from_slice(BODY).expect("JSON");
    let resource: EncryptedResource = serde_json::from_value(envelope["resource"].clone()).expect("resource");
    let mut message =
        format!("{}\n{}\n", header(&request, "wechatpay-timestamp"), header(&request, "wechatpay-nonce")).into_bytes();
    message.extend_from_slice(BODY);
    message.push(b'\n');
    let signature = base64::engine::general_purpose::STANDARD
        .decode(header(&request, "wechatpay-signature"))
        .expect("Base64 signature");
    let mut g = c.benchmark_group("notify");
    g.bench_function("headers_only/direct", |b| {
        b.iter(|| wechatpay_core::signature_headers(black_box(request.headers())).expect("headers").serial.len())
    });
    g.bench_function("decode_only/direct", |b| {
        b.iter(|| serde_json::from_slice::<wechatpay_core::model::Transaction>(black_box(PLAIN)).expect("decoded"))
    });
    for (backend, name) in BACKENDS {
        let keys = key_store(backend);
        let key = ApiV3Key::new(API_V3_KEY.trim_end()).expect("fixture key").with_backend(backend);
        let receiver = Receiver::new(
            keys.clone(),
            ApiV3Key::new(API_V3_KEY.trim_end()).expect("fixture key").with_backend(backend),
            MchId::new(MCHID).expect("mchid"),
        )
        .clock(|| SystemTime::UNIX_EPOCH + Duration::from_secs(TS));
        g.bench_function(format!("{name}/direct"), |b| {
            b.iter(|| receiver.receive_request(black_box(&request)).expect("verified"))
        });
        g.bench_function(format!("decrypt_only/{name}/direct"), |b| {
            b.iter(|| key.decrypt(black_box(&resource)).expect("decrypted"))
        });
        let public = keys.get(PUB_KEY_ID).expect("key");
        g.bench_function(format!("raw_verify/{name}/direct"), |b| {
            b.iter(|| public.verify(black_box(&message), black_box(&signature)).expect("verified"))
        });
    }
    g.finish();
}

/// The criterion group (a private module: criterion's macro makes an undocumented `pub fn`).
mod group {
    use super::*;
    criterion::criterion_group! {
        name = benches;
        config = criterion::Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
        targets = notify
    }
}
criterion_main!(group::benches);
