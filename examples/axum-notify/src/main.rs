//! Runs the notification endpoint of this example.
//!
//! ```sh
//! WECHATPAY_MCHID=1230000109 WECHATPAY_PUBLIC_KEY=pub.pem WECHATPAY_PUBLIC_KEY_ID=PUB_KEY_ID_… \
//! WECHATPAY_APIV3_KEY_FILE=apiv3.key cargo run -p axum-notify -- 127.0.0.1:8080
//! ```
//! then set `notify_url` to `https://<your host>/wechatpay/notify` (behind a TLS proxy).

use std::sync::Arc;

use axum_notify::app;
use wechatpay_core::env::Loader;
use wechatpay_core::notify::Receiver;

/// The receiver configured by the `WECHATPAY_*` variables the `wechatpay` command reads
/// (`WECHATPAY_MCHID`, the WeChat Pay keys, `WECHATPAY_APIV3_KEY` or `_FILE`), with the
/// same errors naming the variable and its rule.
fn receiver() -> Result<Receiver, String> {
    let env = Loader::new(|name| std::env::var_os(name), |path| std::fs::read(path));
    let mchid = env.mchid().map_err(|e| e.to_string())?;
    let keys = env.required_wechatpay_keys().map_err(|e| e.to_string())?;
    let apiv3_key = env.apiv3_key().map_err(|e| e.to_string())?;
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
