//! Shared helpers for the core's integration tests: throwaway keys, a config, and a
//! response signer standing in for WeChat Pay.
#![allow(dead_code, clippy::unwrap_used, clippy::vec_init_then_push)]

use base64::Engine as _;
use http::{HeaderMap, HeaderValue};
use wechatpay_core::{Backend, Config, KeyStore, MchId, PrivateKey, SerialNo, Signer};

pub(crate) const MCHID: &str = "1230000109";
pub(crate) const MERCHANT_SERIAL: &str = "444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0";
pub(crate) const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232019092600000000000000000001";
pub(crate) const PLATFORM_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
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
    Config::builder(MchId::new(MCHID).unwrap(), SerialNo::new(MERCHANT_SERIAL).unwrap())
        .signer(PrivateKey::from_pem_with(&data("merchant_key.pem"), backend).unwrap())
        .verifier(key_store(backend))
        .build()
        .unwrap()
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
