//! `sign`: prepare + sign + build the request for each operation on each backend, and the
//! backend's raw RSA signature of the same message, so the SDK's overhead over the RSA
//! operation is visible. Ids (stable, see `benches/README.md`):
//!
//! - `sign/prepare_sign/<backend>/<operation>`: `prepare(..)?.sign(signer)` with a fixed
//!   timestamp and nonce.
//! - `sign/prepare_sign_now/<backend>`: the same for `query_order_by_out_trade_no` with
//!   `SigningInput::now()` (system clock and a 32-character nonce from the OS CSPRNG), as a
//!   client does it.
//! - `sign/raw/<backend>`: `PrivateKey::sign` of the `query_order_by_out_trade_no`
//!   string-to-sign.
//! - `sign/prepare_only/<operation>`: `prepare` alone (no RSA), and
//!   `sign/finish_only`: building the request from a ready signature.
//! - `sign/prepare_sign/<backend>/prepay_jsapi`: the same for a JSAPI prepay (the JSON
//!   body built, then signed).
//! - `sign/invoke/<backend>/jsapi`, `sign/invoke/<backend>/app`: the front end's invoke
//!   parameters (`invoke::JsapiInvoke::new`, `invoke::AppInvoke::new`): the four-line
//!   message, its RSA signature, Base64.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_main};
use wechatpay_benches::{
    APPID, BACKENDS, MCHID, NONCE, PREPAY_ID, TS, config, jsapi_prepay, merchant_key, operations, query_message,
    signing_input,
};
use wechatpay_core::invoke::{AppInvoke, JsapiInvoke};
use wechatpay_core::{
    AppId, Config, Host, MchId, Nonce, SigningInput, api::Operation, crypto::Backend, crypto::Signer, prepare,
};

fn bench_op<Op: Operation>(c: &mut Criterion, op: &Op, configs: &[(Config, &str)]) {
    let mut g = c.benchmark_group("sign");
    for (config, backend) in configs {
        g.bench_function(format!("prepare_sign/{backend}/{}", Op::NAME), |b| {
            b.iter(|| {
                wechatpay_core::prepare(config, black_box(op), Host::Primary, signing_input())
                    .expect("signed")
                    .sign(config.signer())
                    .expect("signed")
            })
        });
    }
    g.bench_function(format!("prepare_only/{}", Op::NAME), |b| {
        b.iter(|| prepare(&configs[0].0, black_box(op), Host::Primary, signing_input()).expect("prepared"))
    });
    g.finish();
}

fn sign(c: &mut Criterion) {
    let configs: Vec<(Config, &str)> = BACKENDS.iter().map(|&(b, name)| (config(b), name)).collect();
    let ops = operations();

    let message = query_message();
    {
        let mut g = c.benchmark_group("sign");
        for (backend, name) in BACKENDS {
            let key = merchant_key(backend);
            g.bench_function(format!("raw/{name}"), |b| {
                b.iter(|| key.sign(black_box(message.as_bytes())).expect("sig"))
            });
        }
        for (config, name) in &configs {
            g.bench_function(format!("prepare_sign_now/{name}"), |b| {
                b.iter(|| {
                    let input = SigningInput::now().expect("nonce");
                    wechatpay_core::prepare(config, black_box(&ops.by_out_trade_no), Host::Primary, input)
                        .expect("signed")
                        .sign(config.signer())
                        .expect("signed")
                })
            });
        }
        let signature = merchant_key(Backend::AwsLcRs).sign(message.as_bytes()).expect("sig");
        g.bench_function("finish_only", |b| {
            b.iter_batched(
                || prepare(&configs[0].0, &ops.by_out_trade_no, Host::Primary, signing_input()).expect("prepared"),
                |prepared| prepared.finish(black_box(&signature)),
                criterion::BatchSize::SmallInput,
            )
        });
        g.finish();
    }

    bench_op(c, &ops.by_out_trade_no, &configs);
    bench_op(c, &ops.by_transaction_id, &configs);
    bench_op(c, &ops.partner_by_out_trade_no, &configs);
    bench_op(c, &ops.partner_by_transaction_id, &configs);
    bench_op(c, &ops.parking, &configs);
    bench_op(c, &jsapi_prepay(), &configs);

    let mut g = c.benchmark_group("sign");
    let appid = AppId::new(APPID).expect("appid");
    let nonce = Nonce::new(NONCE).expect("nonce");
    let partner = MchId::new(MCHID).expect("mchid");
    for (backend, name) in BACKENDS {
        let key = merchant_key(backend);
        g.bench_function(format!("invoke/{name}/jsapi"), |b| {
            b.iter(|| JsapiInvoke::new(&key, &appid, black_box(PREPAY_ID), TS, &nonce).expect("signed"))
        });
        g.bench_function(format!("invoke/{name}/app"), |b| {
            b.iter(|| AppInvoke::new(&key, &appid, &partner, black_box(PREPAY_ID), TS, &nonce).expect("signed"))
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
        targets = sign
    }
}
criterion_main!(group::benches);
