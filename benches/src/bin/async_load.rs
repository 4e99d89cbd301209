//! `async_load`: N direct-order queries through `wechatpay-reqwest` with C in flight, against
//! a running simulator whose state directory's `env` has been sourced (the `WECHATPAY_*`
//! variables `wechatpay sim --state-dir` writes). Run it under `/usr/bin/time -v` for the
//! client's CPU and peak memory; it prints one JSON line with the counts and wall time.
//!
//! Usage: `async_load ORDERS_FILE [IN_FLIGHT]` (default 64 in flight).

use std::time::Instant;

use wechatpay_core::api::QueryOrderByOutTradeNo;
use wechatpay_core::{Config, KeyStore, MchId, OutTradeNo, PrivateKey, SerialNo};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: source the simulator's env file"))
}

fn read(name: &str) -> Vec<u8> {
    let path = env(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{name}={path}: {e}"))
}

fn config() -> Config {
    let key = PrivateKey::from_pem(&read("WECHATPAY_PRIVATE_KEY")).expect("private key");
    let mut keys = KeyStore::new();
    keys.add_public_key(&env("WECHATPAY_PUBLIC_KEY_ID"), &read("WECHATPAY_PUBLIC_KEY")).expect("public key");
    let mchid = MchId::new(env("WECHATPAY_MCHID")).expect("mchid");
    let serial = SerialNo::new(env("WECHATPAY_SERIAL_NO")).expect("serial");
    Config::builder(mchid, serial, key, keys)
        .wechatpay_serial(env("WECHATPAY_PUBLIC_KEY_ID"))
        .base_url(env("WECHATPAY_BASE_URL"))
        .backup_url(env("WECHATPAY_BASE_URL"))
        .build()
        .expect("config")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let orders_file = args.next().expect("usage: async_load ORDERS_FILE [IN_FLIGHT]");
    let in_flight: usize = args.next().map_or(64, |n| n.parse().expect("IN_FLIGHT is a number"));
    let text = std::fs::read_to_string(&orders_file).expect("orders file");
    let ops: Vec<QueryOrderByOutTradeNo> =
        text.lines().map(|l| QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new(l.trim()).expect("id") }).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let client = wechatpay_reqwest::Client::new(config()).expect("client");
    let started = Instant::now();
    let (ok, failed) = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        let (mut ok, mut failed) = (0u64, 0u64);
        let mut count = |done: Result<bool, tokio::task::JoinError>| {
            if done.unwrap_or(false) { ok += 1 } else { failed += 1 }
        };
        for op in ops {
            // At most `in_flight` queries at once; finished ones are reaped as we go.
            while tasks.len() >= in_flight {
                if let Some(done) = tasks.join_next().await {
                    count(done);
                }
            }
            let client = client.clone();
            tasks.spawn(async move { client.execute(&op).await.is_ok() });
        }
        while let Some(done) = tasks.join_next().await {
            count(done);
        }
        (ok, failed)
    });
    let wall = started.elapsed();
    println!(
        r#"{{"queries":{},"ok":{ok},"failed":{failed},"in_flight":{in_flight},"wall_ms":{}}}"#,
        ok + failed,
        wall.as_millis()
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
