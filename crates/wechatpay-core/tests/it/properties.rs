//! Property tests: ids, parse robustness, tamper detection, enums. (That a signed request's
//! `Authorization` verifies over the request target is checked by the simulator's
//! `tests/it/properties.rs`, where the server-side header parser lives.)
#![allow(clippy::unwrap_used)]

use crate::common;

use common::*;
use http::{HeaderMap, HeaderValue, StatusCode};
use proptest::prelude::*;
use wechatpay_core::api::*;
use wechatpay_core::model::{ErrorCode, ParkingTradeState, PlateColor, TradeState, TradeType};
use wechatpay_core::{KeyStore, MchId, OutTradeNo, PrivateKey, SubMchId, TransactionId, crypto::Verifier};

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
        let _ = config.parse_at::<QueryOrderByOutTradeNo>(status, &map, &body, now);
        let _ = config.parse_at::<QueryParkingOrder>(status, &map, &body, now);
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
        let result = config.parse_at::<QueryParkingOrder>(StatusCode::OK, &h, &body, TS);
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
    let store = key_store(wechatpay_core::crypto::Backend::default());
    assert!(store.verify("PUB_KEY_ID_X", b"m", &[0; 256]).is_err());
}

// Jiff's own RFC 3339 parser is an implementation independent of `Rfc3339::parse`: on
// generated date-times (every day 1-31 of every month, so invalid dates too; offsets up to
// ±23:59; fractions of 1-9 digits), both accept the same texts, read the same instant and
// keep the same offset, and the wire text is kept as it was.
#[cfg(feature = "jiff")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn rfc3339_agrees_with_jiffs_parser(
        y in 1i32..=9998, mo in 1u8..=12, d in 1u8..=31, h in 0u8..=23, mi in 0u8..=59, s in 0u8..=59,
        frac in proptest::option::of("[0-9]{1,9}"), off in -(23 * 60 + 59)..=(23 * 60 + 59i32), zulu in any::<bool>(),
    ) {
        let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
        let zone = if zulu {
            "Z".to_owned()
        } else {
            format!("{}{:02}:{:02}", if off < 0 { '-' } else { '+' }, off.abs() / 60, off.abs() % 60)
        };
        let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}");
        let ours = wechatpay_core::model::Rfc3339::parse(&text);
        let theirs = text.parse::<jiff::Timestamp>();
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{}", text);
        if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
            prop_assert_eq!(ours.to_jiff_timestamp().unwrap(), theirs);
            // `unix_timestamp` drops the fraction towards the past (floor); Jiff's seconds
            // and nanoseconds share a sign (truncation towards zero).
            prop_assert_eq!(ours.unix_timestamp(), theirs.as_second() - i64::from(theirs.subsec_nanosecond() < 0));
            let offset_secs = if zulu { 0 } else { off * 60 };
            prop_assert_eq!(ours.to_jiff_zoned().unwrap().offset().seconds(), offset_secs);
            prop_assert_eq!(ours.as_str(), text.as_str());
        }
    }
}
