//! `verify_parse`: verify + parse the direct and parking seed responses on each backend
//! (`wechatpay_core::parse_response`, the whole response path), and the backend's raw RSA verify
//! alone. Ids (stable, see `benches/README.md`):
//!
//! - `verify_parse/<backend>/direct_seed`, `verify_parse/<backend>/parking_seed`
//! - `verify_parse/raw_verify/<backend>/parking_seed`: `PublicKey::verify` of the same
//!   message and signature.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_main};
use http::StatusCode;
use wechatpay_benches::{
    BACKENDS, DIRECT_SEED, PARKING_SEED, PUB_KEY_ID, config, key_store, now, operations, response, response_message,
    signed_response,
};

fn verify_parse(c: &mut Criterion) {
    let (_, direct_headers) = signed_response(DIRECT_SEED);
    let (parking_raw, parking_headers) = signed_response(PARKING_SEED);
    let parking_message = response_message(PARKING_SEED);
    let direct = response(StatusCode::OK, &direct_headers, DIRECT_SEED);
    let parking = response(StatusCode::OK, &parking_headers, PARKING_SEED);
    let ops = operations();
    let mut g = c.benchmark_group("verify_parse");
    for (backend, name) in BACKENDS {
        let config = config(backend);
        g.bench_function(format!("{name}/direct_seed"), |b| {
            b.iter(|| {
                wechatpay_core::parse_response(&config, &ops.by_out_trade_no, black_box(&direct), now())
                    .expect("verified")
            })
        });
        g.bench_function(format!("{name}/parking_seed"), |b| {
            b.iter(|| {
                wechatpay_core::parse_response(&config, &ops.parking, black_box(&parking), now()).expect("verified")
            })
        });
        let keys = key_store(backend);
        let key = keys.get(PUB_KEY_ID).expect("key");
        g.bench_function(format!("raw_verify/{name}/parking_seed"), |b| {
            b.iter(|| key.verify(black_box(&parking_message), black_box(&parking_raw)).expect("verified"))
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
        targets = verify_parse
    }
}
criterion_main!(group::benches);
