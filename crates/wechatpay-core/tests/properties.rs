//! Property tests: ids, parse robustness, tamper detection, enums. (That a signed request's
//! `Authorization` verifies over the request target is checked by the simulator's
//! `tests/properties.rs`, where the server-side header parser lives.)
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use http::{HeaderMap, HeaderValue, StatusCode};
use proptest::prelude::*;
use wechatpay_core::api::*;
use wechatpay_core::model::{ErrorCode, ParkingTradeState, PlateColor, TradeState, TradeType};
use wechatpay_core::{KeyStore, MchId, OutTradeNo, PrivateKey, SubMchId, TransactionId, Verifier};

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn invalid_ids_are_rejected_naming_the_field(s in "\\PC{0,40}") {
        let valid_no = !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-|*".contains(&b));
        match OutTradeNo::new(s.clone()) {
            Ok(_) => prop_assert!(valid_no),
            Err(e) => { prop_assert!(!valid_no); prop_assert_eq!(e.field(), "out_trade_no"); }
        }
        let valid_id = !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric());
        prop_assert_eq!(TransactionId::new(s.clone()).is_ok(), valid_id);
        let valid_mch = !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_digit());
        prop_assert_eq!(MchId::new(s.clone()).is_ok(), valid_mch);
        prop_assert_eq!(SubMchId::new(s).is_ok(), valid_mch);
    }

    #[test]
    fn parse_never_panics(
        status in 100u16..600,
        headers in proptest::collection::vec(("(?i)(wechatpay-(timestamp|nonce|signature|serial|signature-type)|request-id|x)", "[ -~]{0,64}"), 0..8),
        body in proptest::collection::vec(any::<u8>(), 0..512),
        now in any::<u64>(),
    ) {
        let config = config();
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(k), HeaderValue::from_str(&v)) {
                map.append(name, value);
            }
        }
        let status = StatusCode::from_u16(status).unwrap();
        let _ = config.parse_response::<QueryOrderByOutTradeNo>(status, &map, &body, now);
        let _ = config.parse_response::<QueryParkingOrder>(status, &map, &body, now);
        let _ = PrivateKey::from_der(&body);
        let _ = PrivateKey::from_pem(&body);
        let _ = KeyStore::new().add_platform_certificates(&body);
    }

    #[test]
    fn any_single_change_fails_verification(which in 0usize..5, pos in any::<usize>(), delta in 1u8..=255) {
        let config = config();
        let mut body = data("responses/parking_seed.json");
        let mut h = signed_headers(&body, TS, By::PublicKey);
        let flip = |s: &str| {
            let mut b = s.as_bytes().to_vec();
            let i = pos % b.len();
            // Stay within visible ASCII so the header stays a valid value.
            b[i] = b'!' + ((b[i] - b'!' + delta % 94) % 94);
            if b == s.as_bytes() { b[i] = if b[i] == b'A' { b'B' } else { b'A' }; }
            HeaderValue::from_bytes(&b).unwrap()
        };
        match which {
            0 => { let i = pos % body.len(); body[i] ^= delta; }
            1 => { let v = flip(h["wechatpay-timestamp"].to_str().unwrap()); h.insert("wechatpay-timestamp", v); }
            2 => { let v = flip(h["wechatpay-nonce"].to_str().unwrap()); h.insert("wechatpay-nonce", v); }
            3 => { let v = flip(h["wechatpay-serial"].to_str().unwrap()); h.insert("wechatpay-serial", v); }
            _ => { let v = flip(h["wechatpay-signature"].to_str().unwrap()); h.insert("wechatpay-signature", v); }
        }
        let result = config.parse_response::<QueryParkingOrder>(StatusCode::OK, &h, &body, TS);
        prop_assert!(matches!(result, Err(wechatpay_core::Error::Verification(_))), "{:?}", result.map(|_| ()));
    }

    #[test]
    fn open_enums_round_trip(s in "[A-Z_]{1,20}") {
        let json = serde_json::to_string(&s).unwrap();
        prop_assert_eq!(serde_json::to_string(&serde_json::from_str::<TradeState>(&json).unwrap()).unwrap(), json.clone());
        prop_assert_eq!(serde_json::to_string(&serde_json::from_str::<TradeType>(&json).unwrap()).unwrap(), json.clone());
        prop_assert_eq!(serde_json::to_string(&serde_json::from_str::<ParkingTradeState>(&json).unwrap()).unwrap(), json.clone());
        prop_assert_eq!(serde_json::to_string(&serde_json::from_str::<PlateColor>(&json).unwrap()).unwrap(), json.clone());
        let code = ErrorCode::from(s.as_str());
        prop_assert_eq!(code.as_str(), s.as_str());
    }
}

#[test]
fn verifier_is_only_asked_for_the_named_serial() {
    let store = key_store(wechatpay_core::Backend::default());
    assert!(store.verify("PUB_KEY_ID_X", b"m", &[0; 256]).is_err());
}
