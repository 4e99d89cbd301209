//! Response parsing: fixtures for every shape, every check of PROTOCOL.md §3 in order, errors.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::*;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::Value;
use wechatpay_core::api::*;
use wechatpay_core::model::*;
use wechatpay_core::{Config, Error, VerificationFailure};

fn ok<Op: Seed>(config: &Config, body: &[u8]) -> Result<Op::Output, Error> {
    config.parse_at::<Op>(StatusCode::OK, &signed_headers(body, TS, By::PublicKey), body, TS)
}

fn failure(err: Error) -> VerificationFailure {
    match err {
        Error::Verification(v) => v.failure,
        other => panic!("expected a verification error, got {other:?}"),
    }
}

#[test]
fn seed_examples_round_trip_every_field() {
    let config = config();
    let direct = data("responses/direct_seed.json");
    let t = ok::<QueryOrderByOutTradeNo>(&config, &direct).unwrap();
    assert_eq!(t.trade_state, TradeState::Success);
    assert_eq!(t.trade_type, Some(TradeType::Micropay));
    assert_eq!(t.amount.as_ref().unwrap().total, Some(Fen(100)));
    assert_eq!(t.success_time.as_ref().unwrap().offset_minutes(), 480);
    let goods = &t.promotion_detail.as_ref().unwrap()[0].goods_detail.as_ref().unwrap()[0];
    assert_eq!(goods.goods_id.as_deref(), Some("M1006"));
    assert_eq!(serde_json::to_value(&t).unwrap(), serde_json::from_slice::<Value>(&direct).unwrap());

    let parking = data("responses/parking_seed.json");
    let p = ok::<QueryParkingOrder>(&config, &parking).unwrap();
    assert_eq!(p.trade_state, ParkingTradeState::Success);
    assert_eq!(p.trade_state_description.as_deref(), Some("支付失败,请重新下单支付"));
    assert_eq!(p.user_repaid, Some(UserRepaid::Yes));
    let info = p.parking_info.as_ref().unwrap();
    assert_eq!(info.plate_color, Some(PlateColor::Blue));
    assert_eq!(info.charging_duration, Some(3600));
    assert_eq!(p.amount.as_ref().unwrap().discount_total, Some(Fen(100)));
    assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::from_slice::<Value>(&parking).unwrap());
}

#[test]
fn every_trade_state_parses() {
    let config = config();
    for state in ["SUCCESS", "REFUND", "NOTPAY", "CLOSED", "REVOKED", "USERPAYING", "PAYERROR"] {
        let body = format!(
            r#"{{"mchid":"1230000109","out_trade_no":"{DIRECT_SEED_NO}","trade_state":"{state}","trade_state_desc":"d"}}"#
        );
        let t = ok::<QueryOrderByOutTradeNo>(&config, body.as_bytes()).unwrap();
        assert!(t.trade_state.is_known());
        assert_eq!(t.trade_state.as_str(), state);
        assert!(t.transaction_id.is_none() && t.amount.is_none() && t.payer.is_none());
        assert_eq!(serde_json::to_string(&t).unwrap(), body);
    }
    for state in ["SUCCESS", "ACCEPTED", "PAY_FAIL", "REFUND"] {
        let body = format!(r#"{{"out_trade_no":"{PARKING_SEED_NO}","trade_state":"{state}"}}"#);
        let t = ok::<QueryParkingOrder>(&config, body.as_bytes()).unwrap();
        assert!(t.trade_state.is_known(), "{state}");
    }
}

#[test]
fn unknown_values_and_fields_survive() {
    let config = config();
    let body = br#"{"sp_mchid":"1230000109","sub_mchid":"1900000109","out_trade_no":"o","transaction_id":"42","trade_state":"PARTIAL","trade_state_desc":"d","trade_type":"NEWPAY","future":{"a":[1,2]},"amount":{"total":5,"currency":"USD","fx":1},"payer":{"sp_openid":"x","sub_openid":"y"}}"#;
    let t = ok::<QueryPartnerOrderByTransactionId>(&config, body).unwrap();
    assert!(matches!(&t.trade_state, TradeState::Unknown(v) if v.as_str() == "PARTIAL"));
    assert!(matches!(&t.trade_type, Some(TradeType::Unknown(v)) if v.as_str() == "NEWPAY"));
    assert!(matches!(&t.amount.as_ref().unwrap().currency, Some(Currency::Unknown(v)) if v.as_str() == "USD"));
    assert_eq!(t.extra.value("future").unwrap(), serde_json::json!({"a": [1, 2]}));
    assert_eq!(serde_json::to_value(&t).unwrap(), serde_json::from_slice::<Value>(body).unwrap());
    let parking = br#"{"out_trade_no":"20150806125346","trade_state":"WAITING","parking_info":{"plate_color":"PURPLE"},"user_repaid":"?","trade_scene":"AIRPORT"}"#;
    let p = ok::<QueryParkingOrder>(&config, parking).unwrap();
    assert!(matches!(&p.parking_info.unwrap().plate_color, Some(PlateColor::Unknown(v)) if v.as_str() == "PURPLE"));
    assert!(matches!(&p.trade_scene, Some(TradeScene::Unknown(v)) if v.as_str() == "AIRPORT"));
}

#[test]
fn verified_but_ill_typed_body_is_a_decode_error() {
    let config = config();
    for body in [&br#"{not json"#[..], br#"{"mchid":"1"}"#, br#"{"mchid":"1","out_trade_no":"o","trade_state":"SUCCESS","trade_state_desc":"d","amount":{"total":1.5}}"#, br#"{"mchid":"1","out_trade_no":"o","trade_state":"SUCCESS","trade_state_desc":"d","success_time":"yesterday"}"#] {
        match ok::<QueryOrderByOutTradeNo>(&config, body) {
            Err(Error::Decode(e)) => assert_eq!(e.request_id.as_deref(), Some("08F78BB5AF0610D302A2F5BA03-0")),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn both_key_kinds_verify() {
    let config = config();
    let body = data("responses/parking_seed.json");
    for by in [By::PublicKey, By::Platform] {
        config.parse_at::<QueryParkingOrder>(StatusCode::OK, &signed_headers(&body, TS, by), &body, TS).unwrap();
    }
}

#[test]
fn checks_run_in_order_and_fail_closed() {
    let config = config();
    let body = data("responses/direct_seed.json");
    let good = signed_headers(&body, TS, By::PublicKey);
    let run = |h: &HeaderMap, b: &[u8], now: u64| {
        config.parse_at::<QueryOrderByOutTradeNo>(StatusCode::OK, h, b, now).map(|_| ())
    };
    run(&good, &body, TS).unwrap();

    // 1. unsigned 2xx
    for name in ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"] {
        let mut h = good.clone();
        h.remove(name);
        assert_eq!(failure(run(&h, &body, TS).unwrap_err()), VerificationFailure::MissingHeader(name));
    }
    // 2. exactly once, non-empty
    let mut h = good.clone();
    h.append("wechatpay-nonce", HeaderValue::from_static("X"));
    assert_eq!(failure(run(&h, &body, TS).unwrap_err()), VerificationFailure::DuplicateHeader("Wechatpay-Nonce"));
    let mut h = good.clone();
    h.insert("wechatpay-serial", HeaderValue::from_static(""));
    assert_eq!(failure(run(&h, &body, TS).unwrap_err()), VerificationFailure::InvalidHeader("Wechatpay-Serial"));
    // 3. the probe, even with everything else wrong
    let mut h = good.clone();
    h.insert("wechatpay-signature", HeaderValue::from_static("WECHATPAY/SIGNTEST/AAAA"));
    h.insert("wechatpay-timestamp", HeaderValue::from_static("1"));
    assert_eq!(failure(run(&h, &body, TS).unwrap_err()), VerificationFailure::SignTestProbe);
    // 4. signature type
    let mut h = good.clone();
    h.insert("wechatpay-signature-type", HeaderValue::from_static("WECHATPAY2-SM2-WITH-SM3"));
    assert_eq!(failure(run(&h, &body, TS).unwrap_err()), VerificationFailure::UnsupportedSignatureType);
    let mut h = good.clone();
    h.insert("wechatpay-signature-type", HeaderValue::from_static("WECHATPAY2-SHA256-RSA2048"));
    run(&h, &body, TS).unwrap();
    // 5. timestamp: digits only, ±300 s both ways
    for bad in ["+1554208460", "1554208460.0", "0x5CA", " 1554208460"] {
        let mut h = good.clone();
        h.insert("wechatpay-timestamp", HeaderValue::from_str(bad).unwrap());
        let f = failure(run(&h, &body, TS).unwrap_err());
        assert!(
            matches!(f, VerificationFailure::InvalidTimestamp | VerificationFailure::InvalidHeader(_)),
            "{bad}: {f:?}"
        );
    }
    run(&good, &body, TS + 300).unwrap();
    run(&good, &body, TS - 300).unwrap();
    assert_eq!(
        failure(run(&good, &body, TS + 301).unwrap_err()),
        VerificationFailure::StaleTimestamp { skew_secs: -301, max_secs: 300 }
    );
    assert!(matches!(
        failure(run(&good, &body, TS - 301).unwrap_err()),
        VerificationFailure::StaleTimestamp { skew_secs: 301, .. }
    ));
    // 6. exact serial; never try every key
    let mut h = good.clone();
    h.insert("wechatpay-serial", HeaderValue::from_static(PLATFORM_SERIAL));
    assert_eq!(failure(run(&h, &body, TS).unwrap_err()), VerificationFailure::SignatureMismatch);
    h.insert("wechatpay-serial", HeaderValue::from_static("PUB_KEY_ID_0114232019092600000000000000000009"));
    assert!(matches!(failure(run(&h, &body, TS).unwrap_err()), VerificationFailure::UnknownSerial(_)));
    // 7. strict Base64 and length
    let sig = good["wechatpay-signature"].to_str().unwrap().to_owned();
    for bad in [sig.trim_end_matches('='), &sig.replace('+', "-"), "AAAA", &format!("{sig}AAAA")] {
        let mut h = good.clone();
        h.insert("wechatpay-signature", HeaderValue::from_str(bad).unwrap());
        let f = failure(run(&h, &body, TS).unwrap_err());
        assert!(
            matches!(
                f,
                VerificationFailure::InvalidBase64
                    | VerificationFailure::WrongSignatureLength { .. }
                    | VerificationFailure::SignatureMismatch
            ),
            "{f:?}"
        );
    }
    let mut h = good.clone();
    h.insert("wechatpay-signature", HeaderValue::from_static("AAAA"));
    assert_eq!(
        failure(run(&h, &body, TS).unwrap_err()),
        VerificationFailure::WrongSignatureLength { expected: 256, actual: 3 }
    );
    // 8. the raw bytes: re-serialised JSON (same data, other bytes) does not verify
    let reformatted = serde_json::to_vec(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
    assert_eq!(failure(run(&good, &reformatted, TS).unwrap_err()), VerificationFailure::SignatureMismatch);
}

fn error_body(code: &str, message: &str) -> String {
    format!(r#"{{"code":"{code}","message":"{message}"}}"#)
}

#[test]
fn every_seed_error_code_becomes_a_typed_api_error() {
    let config = config();
    let codes = [
        (400, "PARAM_ERROR", ErrorCode::ParamError),
        (400, "INVALID_REQUEST", ErrorCode::InvalidRequest),
        (400, "APPID_MCHID_NOT_MATCH", ErrorCode::AppidMchidNotMatch),
        (400, "MCH_NOT_EXISTS", ErrorCode::MchNotExists),
        (400, "ORDER_CLOSED", ErrorCode::OrderClosed),
        (401, "SIGN_ERROR", ErrorCode::SignError),
        (403, "ACCOUNT_ERROR", ErrorCode::AccountError),
        (403, "NO_AUTH", ErrorCode::NoAuth),
        (403, "NOT_ENOUGH", ErrorCode::NotEnough),
        (403, "OUT_TRADE_NO_USED", ErrorCode::OutTradeNoUsed),
        (403, "RULE_LIMIT", ErrorCode::RuleLimit),
        (403, "TRADE_ERROR", ErrorCode::TradeError),
        (404, "ORDER_NOT_EXIST", ErrorCode::OrderNotExist),
        (404, "NOT_FOUND", ErrorCode::NotFound),
        (429, "FREQUENCY_LIMITED", ErrorCode::FrequencyLimited),
        (429, "RATELIMIT_EXCEEDED", ErrorCode::RatelimitExceeded),
        (500, "SYSTEM_ERROR", ErrorCode::SystemError),
        (500, "SYSTE_MERROR", ErrorCode::SysteMerror),
        (500, "BANK_ERROR", ErrorCode::BankError),
        (500, "INVALID_TRANSACTIONID", ErrorCode::InvalidTransactionid),
        (500, "OPENID_MISMATCH", ErrorCode::OpenidMismatch),
        (400, "SOMETHING_NEW", ErrorCode::from("SOMETHING_NEW")),
    ];
    for (status, code, expected) in codes {
        let status = StatusCode::from_u16(status).unwrap();
        let body = error_body(code, "消息");
        for signed in [false, true] {
            let headers = if signed {
                signed_headers(body.as_bytes(), TS, By::Platform)
            } else {
                let mut h = HeaderMap::new();
                h.insert("request-id", HeaderValue::from_static("RID-1"));
                h
            };
            let err = config.parse_at::<QueryOrderByOutTradeNo>(status, &headers, body.as_bytes(), TS).unwrap_err();
            let Error::Api(api) = err else { panic!("{err:?}") };
            assert_eq!(api.code, expected);
            assert_eq!(api.status, status);
            assert_eq!(api.message, "消息");
            assert_eq!(api.verified, signed);
            assert!(api.request_id.is_some());
            let shown = api.to_string();
            assert!(shown.contains(code) && shown.contains(&status.as_u16().to_string()), "{shown}");
        }
    }
}

#[test]
fn error_detail_getters_and_sign_error_debugging() {
    let config = config();
    let body = br#"{"code":"PARAM_ERROR","message":"bad","detail":{"field":"/amount/total","value":0,"issue":"must be > 0","location":"body"}}"#;
    let Error::Api(e) =
        config.parse_at::<QueryParkingOrder>(StatusCode::BAD_REQUEST, &HeaderMap::new(), body, TS).unwrap_err()
    else {
        panic!()
    };
    assert_eq!((e.field(), e.issue(), e.location()), (Some("/amount/total"), Some("must be > 0"), Some("body")));
    assert_eq!(e.value(), Some(&serde_json::json!(0)));
    assert!(!e.verified);
    let sign = br#"{"code":"SIGN_ERROR","message":"sig","detail":{"detail":{"issue":"sign not match"},"field":"signature","location":"authorization","sign_information":{"method":"GET","sign_message_length":70,"truncated_sign_message":"GET\n/v3/pay/transactions/id/1?mchid=1\n1554208460\nN\n\n","truncated_sign_signature":"abc"}}}"#;
    let Error::Api(e) =
        config.parse_at::<QueryParkingOrder>(StatusCode::UNAUTHORIZED, &HeaderMap::new(), sign, TS).unwrap_err()
    else {
        panic!()
    };
    assert_eq!(e.code, ErrorCode::SignError);
    assert!(e.truncated_sign_message().unwrap().starts_with("GET\n/v3/pay/transactions/id/1"));
    assert!(!format!("{e:?}").contains("truncated_sign"), "Debug keeps the sign information out");
}

#[test]
fn gateway_pages_and_bad_error_signatures() {
    let config = config();
    let html = b"<html><head><title>502 Bad Gateway</title></head>\n<body>\x00 nginx</body></html>";
    let err =
        config.parse_at::<QueryOrderByOutTradeNo>(StatusCode::BAD_GATEWAY, &HeaderMap::new(), html, TS).unwrap_err();
    let Error::UnexpectedResponse(u) = &err else { panic!("{err:?}") };
    assert_eq!(u.status, StatusCode::BAD_GATEWAY);
    assert!(u.excerpt.starts_with("<html><head><title>502 Bad Gateway"), "{}", u.excerpt);
    assert!(!u.excerpt.contains('\n') && !u.excerpt.contains('\0'));
    assert!(!u.verified);
    assert!(err.to_string().contains("502"));
    // An error response carrying signature headers must verify.
    let body = error_body("ORDER_NOT_EXIST", "no");
    let mut h = signed_headers(body.as_bytes(), TS, By::PublicKey);
    h.insert("wechatpay-nonce", HeaderValue::from_static("other"));
    let err = config.parse_at::<QueryOrderByOutTradeNo>(StatusCode::NOT_FOUND, &h, body.as_bytes(), TS).unwrap_err();
    assert_eq!(failure(err), VerificationFailure::SignatureMismatch);
    h.remove("wechatpay-serial");
    let err = config.parse_at::<QueryOrderByOutTradeNo>(StatusCode::NOT_FOUND, &h, body.as_bytes(), TS).unwrap_err();
    assert_eq!(failure(err), VerificationFailure::MissingHeader("Wechatpay-Serial"));
}

#[test]
fn body_cap_is_enforced() {
    let config = builder_with(wechatpay_core::crypto::Backend::default()).max_body_bytes(1024).build().unwrap();
    let body = vec![b' '; 1025];
    let err = config
        .parse_at::<QueryOrderByOutTradeNo>(StatusCode::OK, &signed_headers(&body, TS, By::PublicKey), &body, TS)
        .unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 1024 }));
    // A declared length past the cap is refused too, whatever was read.
    let mut h = signed_headers(b"{}", TS, By::PublicKey);
    h.insert("content-length", HeaderValue::from_static("1025"));
    let err = config.parse_at::<QueryOrderByOutTradeNo>(StatusCode::OK, &h, b"{}", TS).unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 1024 }));
}

/// Spec §11: a correctly signed answer for another order or merchant is not the answer.
#[test]
fn answers_must_belong_to_their_question() {
    let config = config();
    let direct = data("responses/direct_seed.json");
    let seed: Value = serde_json::from_slice(&direct).unwrap();
    let answer = |edit: &dyn Fn(&mut Value)| {
        let mut v = seed.clone();
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let parse = |op: &dyn Fn(&[u8]) -> Result<(), Error>, body: Vec<u8>| op(&body);
    let by_no = |no: &str| {
        let op = QueryOrderByOutTradeNo { out_trade_no: wechatpay_core::OutTradeNo::new(no).unwrap() };
        let config = config.clone();
        move |body: &[u8]| {
            let h = signed_headers(body, TS, By::PublicKey);
            wechatpay_core::parse_response(&config, &op, &response(StatusCode::OK, &h, body), at(TS)).map(|_| ())
        }
    };
    let mismatch = |r: Result<(), Error>| failure(r.unwrap_err());
    parse(&by_no(DIRECT_SEED_NO), direct.clone()).unwrap();
    assert_eq!(
        mismatch(parse(&by_no("OTHER_ORDER"), direct.clone())),
        VerificationFailure::AnswerMismatch { field: "out_trade_no" }
    );
    let other_merchant = answer(&|v| v["mchid"] = "1900000000".into());
    assert_eq!(
        mismatch(parse(&by_no(DIRECT_SEED_NO), other_merchant)),
        VerificationFailure::AnswerMismatch { field: "mchid" }
    );
    // By transaction id: the id must match, and an answer without one does not.
    let tid = seed["transaction_id"].as_str().unwrap().to_owned();
    let by_id = |id: &str| {
        let op = QueryOrderByTransactionId { transaction_id: wechatpay_core::TransactionId::new(id).unwrap() };
        let config = config.clone();
        move |body: &[u8]| {
            let h = signed_headers(body, TS, By::PublicKey);
            wechatpay_core::parse_response(&config, &op, &response(StatusCode::OK, &h, body), at(TS)).map(|_| ())
        }
    };
    parse(&by_id(&tid), direct.clone()).unwrap();
    assert_eq!(
        mismatch(parse(&by_id("4200000000000000000000000000"), direct.clone())),
        VerificationFailure::AnswerMismatch { field: "transaction_id" }
    );
    let unpaid = answer(&|v| {
        v.as_object_mut().unwrap().remove("transaction_id");
    });
    assert_eq!(mismatch(parse(&by_id(&tid), unpaid)), VerificationFailure::AnswerMismatch { field: "transaction_id" });
    // The error names the field and never the other order's data.
    let err = parse(&by_no("OTHER_ORDER"), direct.clone()).unwrap_err().to_string();
    assert!(err.contains("out_trade_no") && !err.contains(DIRECT_SEED_NO), "{err}");
}

/// Partner and parking answers are bound to sp_mchid, sub_mchid and the order number.
#[test]
fn partner_and_parking_answers_are_bound() {
    let config = config();
    let partner = |sp: &str, sub: &str, no: &str| {
        serde_json::to_vec(&serde_json::json!({
            "sp_mchid": sp, "sub_mchid": sub, "out_trade_no": no,
            "trade_state": "NOTPAY", "trade_state_desc": "x"
        }))
        .unwrap()
    };
    let ask = QueryPartnerOrderByOutTradeNo {
        sub_mchid: wechatpay_core::SubMchId::new("1900000109").unwrap(),
        out_trade_no: wechatpay_core::OutTradeNo::new("NO1").unwrap(),
    };
    let run = |body: Vec<u8>| {
        let h = signed_headers(&body, TS, By::PublicKey);
        wechatpay_core::parse_response(&config, &ask, &response(StatusCode::OK, &h, &body), at(TS)).map(|_| ())
    };
    run(partner(MCHID, "1900000109", "NO1")).unwrap();
    for (body, field) in [
        (partner("1900000000", "1900000109", "NO1"), "sp_mchid"),
        (partner(MCHID, "1900000999", "NO1"), "sub_mchid"),
        (partner(MCHID, "1900000109", "NO2"), "out_trade_no"),
    ] {
        assert_eq!(failure(run(body).unwrap_err()), VerificationFailure::AnswerMismatch { field });
    }
    let parking = data("responses/parking_seed.json");
    let seed: Value = serde_json::from_slice(&parking).unwrap();
    let sub = seed["sub_mchid"].as_str().unwrap();
    let h = signed_headers(&parking, TS, By::PublicKey);
    let ask = |sub_mchid: Option<&str>, no: &str| QueryParkingOrder {
        out_trade_no: wechatpay_core::OutTradeNo::new(no).unwrap(),
        sub_mchid: sub_mchid.map(|s| wechatpay_core::SubMchId::new(s).unwrap()),
    };
    let resp = response(StatusCode::OK, &h, &parking);
    wechatpay_core::parse_response(&config, &ask(Some(sub), PARKING_SEED_NO), &resp, at(TS)).unwrap();
    wechatpay_core::parse_response(&config, &ask(None, PARKING_SEED_NO), &resp, at(TS)).unwrap();
    let err =
        wechatpay_core::parse_response(&config, &ask(Some("1900000999"), PARKING_SEED_NO), &resp, at(TS)).unwrap_err();
    assert_eq!(failure(err), VerificationFailure::AnswerMismatch { field: "sub_mchid" });
    let err = wechatpay_core::parse_response(&config, &ask(None, "OTHER"), &resp, at(TS)).unwrap_err();
    assert_eq!(failure(err), VerificationFailure::AnswerMismatch { field: "out_trade_no" });
}

#[test]
fn a_signed_answer_nesting_an_unknown_field_too_deep_is_a_decode_error() {
    let config = config();
    let body = |levels: usize| {
        format!(
            r#"{{"mchid":"1230000109","out_trade_no":"{DIRECT_SEED_NO}","trade_state":"SUCCESS","trade_state_desc":"d","x":{}0{}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        )
    };
    let t = ok::<QueryOrderByOutTradeNo>(&config, body(128).as_bytes()).unwrap();
    assert_eq!(t.extra.get("x").map(|v| v.get().len()), Some(2 * 128 + 1), "kept whole");
    for levels in [129, 10_000] {
        match ok::<QueryOrderByOutTradeNo>(&config, body(levels).as_bytes()) {
            Err(Error::Decode(e)) => assert!(e.to_string().contains("nested deeper than 128"), "{e}"),
            other => panic!("{levels} levels: expected a decode error, got {other:?}"),
        }
    }
}
