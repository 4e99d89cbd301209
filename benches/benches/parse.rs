//! `parse`: deserialisation alone (serde_json into the core's models), no verification.
//! Ids (stable, see `benches/README.md`):
//!
//! - `parse/direct_seed` (`Transaction`, 1.1 KB), `parse/parking_seed`
//!   (`ParkingTransaction`, 1.4 KB)
//! - `parse/direct_seed_value`: the same bytes into a `serde_json::Value`, for scale.
//! - `parse/error_body`: an error answer (`wechatpay_core::parse_response` of an unsigned 400).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_main};
use http::{HeaderMap, StatusCode};
use wechatpay_benches::{DIRECT_SEED, PARKING_SEED, config, now, operations, response};
use wechatpay_core::crypto::Backend;
use wechatpay_core::model::{ParkingTransaction, Transaction};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.bench_function("direct_seed", |b| {
        b.iter(|| serde_json::from_slice::<Transaction>(black_box(DIRECT_SEED)).expect("parsed"))
    });
    g.bench_function("parking_seed", |b| {
        b.iter(|| serde_json::from_slice::<ParkingTransaction>(black_box(PARKING_SEED)).expect("parsed"))
    });
    g.bench_function("direct_seed_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(DIRECT_SEED)).expect("parsed"))
    });
    let config = config(Backend::AwsLcRs);
    let body: &[u8] = br#"{"code":"PARAM_ERROR","message":"out_trade_no is invalid","detail":{"field":"out_trade_no","location":"uri"}}"#;
    let answer = response(StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
    let op = operations().by_out_trade_no;
    g.bench_function("error_body", |b| {
        b.iter(|| wechatpay_core::parse_response(&config, &op, black_box(&answer), now()).expect_err("an error"))
    });
    g.finish();
}

/// The criterion group (a private module: criterion's macro makes an undocumented `pub fn`).
mod group {
    use super::*;
    criterion::criterion_group! {
        name = benches;
        config = criterion::Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
        targets = parse
    }
}
criterion_main!(group::benches);
