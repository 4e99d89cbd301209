//! Runs the notification endpoint of this example.
//!
//! ```sh
//! WECHATPAY_MCHID=1230000109 WECHATPAY_PUBLIC_KEY=pub.pem WECHATPAY_PUBLIC_KEY_ID=PUB_KEY_ID_… \
//! WECHATPAY_APIV3_KEY_FILE=apiv3.key cargo run -p axum-notify -- 127.0.0.1:8080
//! ```
//! then set `notify_url` to `https://<your host>/wechatpay/notify` (behind a TLS proxy).

use std::sync::Arc;

use axum_notify::app;
use wechatpay_core::notify::Receiver;
use wechatpay_core::{ApiV3Key, KeyStore, MchId};

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

fn receiver() -> Result<Receiver, String> {
    let mchid = MchId::new(var("WECHATPAY_MCHID")?).map_err(|e| e.to_string())?;
    let pem = std::fs::read(var("WECHATPAY_PUBLIC_KEY")?).map_err(|e| format!("WECHATPAY_PUBLIC_KEY: {e}"))?;
    let mut keys = KeyStore::new();
    keys.add_public_key(&var("WECHATPAY_PUBLIC_KEY_ID")?, &pem).map_err(|e| e.to_string())?;
    let apiv3_key = ApiV3Key::from_file(var("WECHATPAY_APIV3_KEY_FILE")?).map_err(|e| e.to_string())?;
    // Every kind (direct, partner, parking) is told apart; `.kind(..)` would take only one.
    Ok(Receiver::new(keys, apiv3_key, mchid))
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let receiver = Arc::new(receiver()?);
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| format!("bind {addr}: {e}"))?;
    eprintln!("listening on http://{addr}/wechatpay/notify");
    axum::serve(listener, app(receiver, "/wechatpay/notify")).await.map_err(|e| e.to_string())
}
