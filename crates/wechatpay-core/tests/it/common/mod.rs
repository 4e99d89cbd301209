//! Shared helpers for the core's integration tests: throwaway keys, a config, and a
//! response signer standing in for WeChat Pay.
#![allow(dead_code, clippy::unwrap_used, clippy::vec_init_then_push)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http::{HeaderMap, HeaderValue, StatusCode};
use wechatpay_core::api::{QueryOrderByOutTradeNo, QueryParkingOrder, QueryPartnerOrderByTransactionId};
use wechatpay_core::{
    Config, Error, KeyStore, MchId, OutTradeNo, PrivateKey, SerialNo, SubMchId, TransactionId, api::Operation,
    crypto::Backend, crypto::Signer,
};

// The throwaway merchant: the simulator's built-in one (`crate::credentials`); its PEM files
// in `tests/data` are the simulator's, byte for byte (`crate::merchant`).
pub(crate) use crate::credentials::{MCHID, MERCHANT_SERIAL, PLATFORM_SERIAL, PUBLIC_KEY_ID as PUB_KEY_ID};
pub(crate) const TS: u64 = 1554208460;
pub(crate) const NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";

pub(crate) fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

pub(crate) fn text(name: &str) -> String {
    String::from_utf8(data(name)).unwrap()
}

/// Every backend compiled in.
pub(crate) fn backends() -> Vec<Backend> {
    let mut v = Vec::new();
    #[cfg(feature = "aws-lc-rs")]
    v.push(Backend::AwsLcRs);
    #[cfg(feature = "rustcrypto")]
    v.push(Backend::RustCrypto);
    v
}

pub(crate) fn key_store(backend: Backend) -> KeyStore {
    let mut keys = KeyStore::with_backend(backend);
    keys.add_public_key(PUB_KEY_ID, &data("wechatpay_pub.pem")).unwrap();
    assert_eq!(keys.add_platform_certificates(&data("platform_cert.pem")).unwrap(), vec![PLATFORM_SERIAL.to_owned()]);
    keys
}

pub(crate) fn config_with(backend: Backend) -> Config {
    builder_with(backend).build().unwrap()
}

pub(crate) fn builder_with(backend: Backend) -> wechatpay_core::ConfigBuilder {
    Config::builder(
        MchId::new(MCHID).unwrap(),
        SerialNo::new(MERCHANT_SERIAL).unwrap(),
        PrivateKey::from_pem_with(&data("merchant_key.pem"), backend).unwrap(),
        key_store(backend),
    )
}

/// The out_trade_no of the direct seed answer (`responses/direct_seed.json`).
pub(crate) const DIRECT_SEED_NO: &str = "1217752501201407033233368018";
/// The out_trade_no of the parking seed answer (`responses/parking_seed.json`).
pub(crate) const PARKING_SEED_NO: &str = "20150806125346";

/// The request whose answer a fixture is.
pub(crate) trait Seed: Operation + Sized {
    fn seed() -> Self;
}

impl Seed for QueryOrderByOutTradeNo {
    fn seed() -> Self {
        Self { out_trade_no: OutTradeNo::new(DIRECT_SEED_NO).unwrap() }
    }
}

impl Seed for QueryPartnerOrderByTransactionId {
    fn seed() -> Self {
        Self { sub_mchid: SubMchId::new("1900000109").unwrap(), transaction_id: TransactionId::new("42").unwrap() }
    }
}

impl Seed for QueryParkingOrder {
    fn seed() -> Self {
        Self { out_trade_no: OutTradeNo::new(PARKING_SEED_NO).unwrap(), sub_mchid: None }
    }
}

/// Unix seconds as a `SystemTime` (saturating: property tests pass any `u64`).
pub(crate) fn at(unix: u64) -> SystemTime {
    UNIX_EPOCH.checked_add(Duration::from_secs(unix)).unwrap_or(UNIX_EPOCH + Duration::from_secs(1 << 40))
}

/// A response of status, headers and body.
pub(crate) fn response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> http::Response<Vec<u8>> {
    let mut r = http::Response::new(body.to_vec());
    *r.status_mut() = status;
    *r.headers_mut() = headers.clone();
    r
}

/// `wechatpay_core::parse_response` of a fixture answer to its seed request, at Unix time `now`.
pub(crate) trait ParseAt {
    fn parse_at<Op: Seed>(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        now: u64,
    ) -> Result<Op::Output, Error>;
}

impl ParseAt for Config {
    fn parse_at<Op: Seed>(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        now: u64,
    ) -> Result<Op::Output, Error> {
        wechatpay_core::parse_response(self, &Op::seed(), &response(status, headers, body), at(now))
    }
}

pub(crate) fn config() -> Config {
    config_with(Backend::default())
}

/// Which WeChat Pay key signs a test response.
#[derive(Clone, Copy, Debug)]
pub(crate) enum By {
    PublicKey,
    Platform,
}

/// Signs `body` as WeChat Pay would and returns the four signature headers plus Request-ID.
pub(crate) fn signed_headers(body: &[u8], ts: u64, by: By) -> HeaderMap {
    let (key, serial) = match by {
        By::PublicKey => ("wechatpay_key.pem", PUB_KEY_ID),
        By::Platform => ("platform_key.pem", PLATFORM_SERIAL),
    };
    let key = PrivateKey::from_pem(&data(key)).unwrap();
    let mut msg = format!("{ts}\n{NONCE}\n").into_bytes();
    msg.extend_from_slice(body);
    msg.push(b'\n');
    let sig = base64::engine::general_purpose::STANDARD.encode(key.sign(&msg).unwrap());
    let mut h = HeaderMap::new();
    h.insert("Wechatpay-Timestamp", HeaderValue::from_str(&ts.to_string()).unwrap());
    h.insert("Wechatpay-Nonce", HeaderValue::from_static(NONCE));
    h.insert("Wechatpay-Signature", HeaderValue::from_str(&sig).unwrap());
    h.insert("Wechatpay-Serial", HeaderValue::from_static(serial));
    h.insert("Request-ID", HeaderValue::from_static("08F78BB5AF0610D302A2F5BA03-0"));
    h
}

/// Polls a future that never waits on I/O to completion.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
