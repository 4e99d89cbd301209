//! Shared fixtures of the `wechatpay-benches` criterion benchmarks: the repository's
//! throwaway test keys and seed responses, a [`Config`] per backend, responses signed as
//! WeChat Pay would sign them, and the operations measured. See `README.md` for the bench
//! ids.
//!
//! Everything here is loaded once, outside the measured loops.

use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Method};
use wechatpay_core::api::{JsapiPrepay, Order};
use wechatpay_core::api::{
    QueryOrderByOutTradeNo, QueryOrderByTransactionId, QueryParkingOrder, QueryPartnerOrderByOutTradeNo,
    QueryPartnerOrderByTransactionId,
};
use wechatpay_core::model::Fen;
use wechatpay_core::{
    AppId, Config, Host, KeyStore, MchId, Nonce, OpenId, OutTradeNo, PrivateKey, SerialNo, SigningInput, SubMchId,
    TransactionId, crypto::Backend, crypto::Signer,
};

/// The throwaway merchant's one definition, the simulator's built-in credentials, included
/// by path (the benchmarks measure the core and do not depend on the simulator).
#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/wechatpay-sim/src/credentials.rs"]
mod credentials;

/// Merchant id of the fixtures.
pub const MCHID: &str = credentials::MCHID;
/// Merchant certificate serial of the fixtures.
pub const MERCHANT_SERIAL: &str = credentials::MERCHANT_SERIAL;
/// WeChat Pay public key id of the fixtures.
pub const PUB_KEY_ID: &str = credentials::PUBLIC_KEY_ID;
/// A fixed request/response timestamp.
pub const TS: u64 = 1554208460;
/// A fixed nonce.
pub const NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";

/// The merchant private key (PKCS#8 PEM, throwaway).
pub const MERCHANT_KEY_PEM: &[u8] = credentials::MERCHANT_KEY_PEM.as_bytes();
/// The merchant private key (PKCS#8 DER, throwaway; the core's test data, which holds the
/// same key as PEM).
pub const MERCHANT_KEY_DER: &[u8] = include_bytes!("../../crates/wechatpay-core/tests/data/merchant_key.der");
/// The private half of the WeChat Pay public key (signs the test responses).
pub const WECHATPAY_KEY_PEM: &[u8] = credentials::WECHATPAY_KEY_PEM.as_bytes();
/// The WeChat Pay public key (SPKI PEM).
pub const WECHATPAY_PUB_PEM: &[u8] = credentials::WECHATPAY_PUB_PEM.as_bytes();
/// A platform certificate (X.509 PEM).
pub const PLATFORM_CERT_PEM: &[u8] = credentials::PLATFORM_CERT_PEM.as_bytes();
/// The direct-merchant seed response (the official example order, 1.1 KB).
pub const DIRECT_SEED: &[u8] = include_bytes!("../../crates/wechatpay-core/tests/data/responses/direct_seed.json");
/// The parking seed response (1.4 KB).
pub const PARKING_SEED: &[u8] = include_bytes!("../../crates/wechatpay-core/tests/data/responses/parking_seed.json");

/// Both backends with the name used in bench ids.
pub const BACKENDS: [(Backend, &str); 2] = [(Backend::AwsLcRs, "aws-lc-rs"), (Backend::RustCrypto, "rustcrypto")];

/// A key store holding the WeChat Pay public key and the platform certificate on `backend`.
///
/// # Panics
/// If a fixture does not load (it always does).
pub fn key_store(backend: Backend) -> KeyStore {
    let mut keys = KeyStore::with_backend(backend);
    keys.add_public_key(PUB_KEY_ID, WECHATPAY_PUB_PEM).expect("fixture public key");
    keys.add_platform_certificates(PLATFORM_CERT_PEM).expect("fixture certificate");
    keys
}

/// The merchant key on `backend`.
///
/// # Panics
/// If the fixture does not load (it always does).
pub fn merchant_key(backend: Backend) -> PrivateKey {
    PrivateKey::from_pem_with(MERCHANT_KEY_PEM, backend).expect("fixture private key")
}

/// A signing and verifying configuration whose keys all use `backend`.
///
/// # Panics
/// If a fixture does not load (it always does).
pub fn config(backend: Backend) -> Config {
    Config::builder(
        MchId::new(MCHID).expect("mchid"),
        SerialNo::new(MERCHANT_SERIAL).expect("serial"),
        merchant_key(backend),
        key_store(backend),
    )
    .wechatpay_serial(PUB_KEY_ID)
    .build()
    .expect("config")
}

/// The fixed signing input of the benches (the nonce clone is part of what is measured,
/// as it would be for a caller).
///
/// # Panics
/// Never: the nonce is valid.
pub fn signing_input() -> SigningInput {
    SigningInput::new(TS, Nonce::new(NONCE).expect("nonce"))
}

/// One operation of each kind the core knows, with the name used in bench ids.
#[derive(Debug)]
pub struct Operations {
    /// `query_order_by_out_trade_no`.
    pub by_out_trade_no: QueryOrderByOutTradeNo,
    /// `query_order_by_transaction_id`.
    pub by_transaction_id: QueryOrderByTransactionId,
    /// `query_partner_order_by_out_trade_no`.
    pub partner_by_out_trade_no: QueryPartnerOrderByOutTradeNo,
    /// `query_partner_order_by_transaction_id`.
    pub partner_by_transaction_id: QueryPartnerOrderByTransactionId,
    /// `query_parking_order` (service provider mode).
    pub parking: QueryParkingOrder,
}

/// The operations of the seed orders.
///
/// # Panics
/// Never: the ids are valid.
pub fn operations() -> Operations {
    let no = || OutTradeNo::new("1217752501201407033233368018").expect("out_trade_no");
    let tid = || TransactionId::new("4200000985202103031441826014").expect("transaction_id");
    let sub = || SubMchId::new(credentials::SUB_MCHID).expect("sub_mchid");
    Operations {
        by_out_trade_no: QueryOrderByOutTradeNo { out_trade_no: no() },
        by_transaction_id: QueryOrderByTransactionId { transaction_id: tid() },
        partner_by_out_trade_no: QueryPartnerOrderByOutTradeNo { sub_mchid: sub(), out_trade_no: no() },
        partner_by_transaction_id: QueryPartnerOrderByTransactionId { sub_mchid: sub(), transaction_id: tid() },
        parking: QueryParkingOrder {
            out_trade_no: OutTradeNo::new("20150806125346").expect("out_trade_no"),
            sub_mchid: Some(sub()),
        },
    }
}

/// A JSAPI prepay as a shop sends it (the official example's fields): the request whose body is
/// built, signed and sent before a user can pay.
///
/// # Panics
/// Never: the fields are valid.
pub fn jsapi_prepay() -> JsapiPrepay {
    let order = Order::new(
        "1217752501201407033233368018",
        "Image形象店-深圳腾大-QQ公仔",
        Fen(1),
        "https://www.weixin.qq.com/wxpay/pay.php",
    )
    .and_then(|o| o.time_expire("2018-06-08T10:34:56+08:00"))
    .and_then(|o| o.attach("自定义数据说明"))
    .and_then(|o| o.goods_tag("WXG"))
    .expect("order");
    JsapiPrepay {
        appid: AppId::new(APPID).expect("appid"),
        openid: OpenId::new("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o").expect("openid"),
        order,
    }
}

/// The app id of the invoke benches and the prepay.
pub const APPID: &str = "wxd678efh567hg6787";
/// A prepay id as the simulator issues them (`wx` + 14 digits + hex).
pub const PREPAY_ID: &str = "wx201410272009395522657a690389285100";

/// The string-to-sign of `query_order_by_out_trade_no` at [`TS`]/[`NONCE`]: the message the
/// raw-sign benches sign, so raw and prepared signing sign the same bytes.
///
/// # Panics
/// Never for the fixtures.
pub fn query_message() -> String {
    let config = config(Backend::AwsLcRs);
    let prepared = wechatpay_core::prepare(&config, &operations().by_out_trade_no, Host::Primary, signing_input())
        .expect("prepare");
    debug_assert!(prepared.string_to_sign().starts_with(Method::GET.as_str()));
    prepared.string_to_sign().to_owned()
}

/// The message WeChat Pay signs for a response `body` at [`TS`]/[`NONCE`].
pub fn response_message(body: &[u8]) -> Vec<u8> {
    let mut msg = format!("{TS}\n{NONCE}\n").into_bytes();
    msg.extend_from_slice(body);
    msg.push(b'\n');
    msg
}

/// A response of `status`, `headers` and `body` (borrowed: building it copies no body).
pub fn response<'b>(status: http::StatusCode, headers: &HeaderMap, body: &'b [u8]) -> http::Response<&'b [u8]> {
    let mut r = http::Response::new(body);
    *r.status_mut() = status;
    *r.headers_mut() = headers.clone();
    r
}

/// [`TS`] as a `SystemTime`: the "now" of every parse.
pub fn now() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(TS)
}

/// `body` signed by the WeChat Pay key: the raw signature, and the response headers.
///
/// # Panics
/// Never for the fixtures.
pub fn signed_response(body: &[u8]) -> (Vec<u8>, HeaderMap) {
    let key = PrivateKey::from_pem_with(WECHATPAY_KEY_PEM, Backend::AwsLcRs).expect("fixture key");
    let raw = key.sign(&response_message(body)).expect("sign");
    let sig = base64::engine::general_purpose::STANDARD.encode(&raw);
    let mut h = HeaderMap::new();
    h.insert("Wechatpay-Timestamp", HeaderValue::from_str(&TS.to_string()).expect("header"));
    h.insert("Wechatpay-Nonce", HeaderValue::from_static(NONCE));
    h.insert("Wechatpay-Signature", HeaderValue::from_str(&sig).expect("header"));
    h.insert("Wechatpay-Serial", HeaderValue::from_static(PUB_KEY_ID));
    h.insert("Request-ID", HeaderValue::from_static("08F78BB5AF0610D302A2F5BA03-0"));
    h.insert("Content-Type", HeaderValue::from_static("application/json"));
    (raw, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use wechatpay_core::crypto::Verifier;

    #[test]
    fn fixtures_load_and_verify_on_both_backends() {
        let ops = operations();
        for (backend, _) in BACKENDS {
            let config = config(backend);
            let request = wechatpay_core::prepare(&config, &ops.by_out_trade_no, Host::Primary, signing_input())
                .and_then(|p| p.sign(config.signer()));
            assert!(request.is_ok());
            for (body, parking) in [(DIRECT_SEED, false), (PARKING_SEED, true)] {
                let (raw, headers) = signed_response(body);
                let answer = response(StatusCode::OK, &headers, body);
                let ok = if parking {
                    wechatpay_core::parse_response(&config, &ops.parking, &answer, now()).is_ok()
                } else {
                    wechatpay_core::parse_response(&config, &ops.by_out_trade_no, &answer, now()).is_ok()
                };
                assert!(ok);
                assert!(key_store(backend).verify(PUB_KEY_ID, &response_message(body), &raw).is_ok());
            }
        }
        assert!(query_message().starts_with("GET\n/v3/pay/transactions/out-trade-no/"));
    }
}
