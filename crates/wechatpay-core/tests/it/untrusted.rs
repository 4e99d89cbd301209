//! Text and numbers from the network: unknown fields keep their exact JSON text, and error
//! text is escaped, on one line and bounded when displayed.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::*;
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use wechatpay_core::api::*;
use wechatpay_core::model::*;
use wechatpay_core::{Error, untrusted};

const BIG: &str = "123456789012345678901234567890";

#[test]
fn unknown_numbers_keep_their_digits_nested_and_top_level() {
    let config = config();
    let body = format!(
        r#"{{"mchid":"1230000109","out_trade_no":"1217752501201407033233368018","trade_state":"SUCCESS","trade_state_desc":"d","big":{BIG},"exp":1e2,"neg":-0.0,"nested":{{"deep":[{BIG},1e2,1.50]}},"amount":{{"total":5,"fx":{BIG},"rate":1e2}},"promotion_detail":[{{"coupon_id":"c","x":1E+2,"goods_detail":[{{"goods_id":"g","y":{BIG}}}]}}],"payer":{{"openid":"p","z":1e2}}}}"#
    );
    let t = config
        .parse_at::<QueryOrderByOutTradeNo>(
            StatusCode::OK,
            &signed_headers(body.as_bytes(), TS, By::PublicKey),
            body.as_bytes(),
            TS,
        )
        .unwrap();
    assert_eq!(t.extra.get("big").unwrap().get(), BIG);
    assert_eq!(t.extra.get("exp").unwrap().get(), "1e2");
    assert_eq!(t.extra.get_as::<u128>("big").unwrap().unwrap(), 123456789012345678901234567890);
    assert_eq!(t.extra.get("nested").unwrap().get(), format!(r#"{{"deep":[{BIG},1e2,1.50]}}"#));
    assert_eq!(t.amount.as_ref().unwrap().extra.get("fx").unwrap().get(), BIG);
    assert_eq!(t.payer.as_ref().unwrap().extra.get("z").unwrap().get(), "1e2");
    let promotion = &t.promotion_detail.as_ref().unwrap()[0];
    assert_eq!(promotion.extra.get("x").unwrap().get(), "1E+2");
    assert_eq!(promotion.goods_detail.as_ref().unwrap()[0].extra.get("y").unwrap().get(), BIG);
    // Serialising gives back the same text for every field, known or not.
    let out = serde_json::to_string(&t).unwrap();
    for needle in [
        format!(r#""big":{BIG}"#),
        r#""exp":1e2"#.to_owned(),
        r#""neg":-0.0"#.to_owned(),
        format!(r#""deep":[{BIG},1e2,1.50]"#),
        format!(r#""fx":{BIG}"#),
        r#""x":1E+2"#.to_owned(),
        format!(r#""y":{BIG}"#),
    ] {
        assert!(out.contains(&needle), "{needle} missing from {out}");
    }
    assert!(!out.contains("e+29") && !out.contains("100.0"), "{out}");
    // The known fields still read as before, and a parse of the output is equal.
    assert_eq!(t.amount.as_ref().unwrap().total, Some(Fen(5)));
    assert_eq!(serde_json::from_str::<Transaction>(&out).unwrap(), t);
    // `from_value` works too (a `Value` has already rounded the number).
    let v: Value = serde_json::from_str(&body).unwrap();
    let from_value: Transaction = serde_json::from_value(v).unwrap();
    assert_eq!(from_value.extra.get("exp").unwrap().get(), "100.0");
}

#[test]
fn parking_and_partner_orders_keep_numbers_too() {
    let parking = format!(
        r#"{{"out_trade_no":"o","trade_state":"SUCCESS","n":{BIG},"parking_info":{{"plate_color":"BLUE","m":1e2}},"amount":{{"total":1,"k":{BIG}}},"payer":{{"openid":"p","j":1e2}}}}"#
    );
    let p: ParkingTransaction = serde_json::from_str(&parking).unwrap();
    let out = serde_json::to_string(&p).unwrap();
    for needle in [format!(r#""n":{BIG}"#), r#""m":1e2"#.to_owned(), format!(r#""k":{BIG}"#), r#""j":1e2"#.to_owned()] {
        assert!(out.contains(&needle), "{needle} missing from {out}");
    }
    let partner = format!(
        r#"{{"sp_mchid":"1","sub_mchid":"2","out_trade_no":"o","trade_state":"SUCCESS","trade_state_desc":"d","n":{BIG},"scene_info":{{"device_id":"x","q":1e2}}}}"#
    );
    let t: PartnerTransaction = serde_json::from_str(&partner).unwrap();
    assert_eq!(t.scene_info.as_ref().unwrap().extra.get("q").unwrap().get(), "1e2");
    assert!(serde_json::to_string(&t).unwrap().contains(&format!(r#""n":{BIG}"#)));
}

#[test]
fn kept_values_lose_only_whitespace_between_tokens() {
    let body = "{\"out_trade_no\":\"o\",\"trade_state\":\"SUCCESS\",\"w\" : {\"a\" : [1 ,\n 2e0],\r\n\t\"b\":\"x \\\" y\\n\"} }";
    let p: ParkingTransaction = serde_json::from_str(body).unwrap();
    assert_eq!(p.extra.get("w").unwrap().get(), r#"{"a":[1,2e0],"b":"x \" y\n"}"#);
    assert_eq!(serde_json::to_string(&p).unwrap().lines().count(), 1);
}

#[test]
fn duplicate_and_ill_typed_fields_are_rejected() {
    let dup_unknown = r#"{"out_trade_no":"o","trade_state":"SUCCESS","x":1,"x":2}"#;
    let e = serde_json::from_str::<ParkingTransaction>(dup_unknown).unwrap_err();
    assert!(e.to_string().contains("duplicate field `x`"), "{e}");
    let dup_known = r#"{"out_trade_no":"o","trade_state":"SUCCESS","out_trade_no":"p"}"#;
    let e = serde_json::from_str::<ParkingTransaction>(dup_known).unwrap_err();
    assert!(e.to_string().contains("duplicate field `out_trade_no`"), "{e}");
    let wrong = r#"{"out_trade_no":"o","trade_state":"SUCCESS","amount":{"total":"ten"}}"#;
    let e = serde_json::from_str::<ParkingTransaction>(wrong).unwrap_err();
    assert!(e.to_string().contains("invalid type"), "{e}");
    let missing = r#"{"trade_state":"SUCCESS"}"#;
    let e = serde_json::from_str::<ParkingTransaction>(missing).unwrap_err();
    assert!(e.to_string().contains("missing field `out_trade_no`"), "{e}");
    assert!(serde_json::from_str::<ParkingTransaction>("[1]").is_err());
}

#[test]
fn api_error_text_is_escaped_on_one_line_and_bounded() {
    let config = config();
    let long = "x".repeat(3 * 1024 * 1024);
    let body = serde_json::json!({
        "code": "BAD\u{1b}[2J",
        "message": format!("first\nerror: forged\r\u{7}\u{9b}31m{long}"),
        "detail": {"field": "f\nerror: x", "issue": "i\u{1b}]0;title\u{7}"}
    })
    .to_string();
    let err = config
        .parse_at::<QueryOrderByOutTradeNo>(StatusCode::BAD_REQUEST, &HeaderMap::new(), body.as_bytes(), TS)
        .unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    let shown = err.to_string();
    assert!(!shown.chars().any(untrusted::needs_escape), "{shown:.400}");
    assert!(
        shown.starts_with("WeChat Pay answered HTTP 400 BAD\\u{1b}[2J: first\\nerror: forged\\r\\u{7}\\u{9b}31m"),
        "{shown:.400}"
    );
    assert!(shown.contains(&format!("… ({} bytes in all)", 3 * 1024 * 1024 + 26)), "{shown:.800}");
    assert!(shown.len() < 2000, "{} bytes", shown.len());
    assert!(shown.contains("(field f\\nerror: x: i\\u{1b}]0;title\\u{7})"), "{shown}");
}

#[test]
fn unexpected_bodies_are_escaped_with_their_length() {
    let config = config();
    let mut page = b"<html>\x1b[31m\n\xc2\x9b".to_vec();
    page.extend(std::iter::repeat_n(b'y', 100_000));
    let err =
        config.parse_at::<QueryOrderByOutTradeNo>(StatusCode::BAD_GATEWAY, &HeaderMap::new(), &page, TS).unwrap_err();
    let Error::UnexpectedResponse(u) = &err else { panic!("{err:?}") };
    assert!(u.excerpt.starts_with("<html>\\u{1b}[31m\\n\\u{9b}yyy"), "{}", u.excerpt);
    assert!(u.excerpt.ends_with("… (100014 bytes in all)"), "{}", u.excerpt);
    let shown = err.to_string();
    assert!(!shown.chars().any(untrusted::needs_escape), "{shown}");
    assert!(shown.ends_with("… (100014 bytes in all)"), "{shown}");
}
