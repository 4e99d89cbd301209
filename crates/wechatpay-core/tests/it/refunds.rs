//! Refunds through the driver, with a closure transport that plays WeChat Pay from a script:
//! the create's signed body (the same bytes on a retry), the query's target, the answer
//! binding, and the refund watch.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use common::*;
use http::StatusCode;
use wechatpay_core::api::{
    ApplyAbnormalRefund, CreateRefund, QueryRefund, RefundOrder, RefundRequestAmount, SensitiveField,
};
use wechatpay_core::model::{Fen, RefundStatus};
use wechatpay_core::transport::Driver;
use wechatpay_core::watch::{WatchEnd, WatchPolicy};
use wechatpay_core::{
    Error, OutRefundNo, OutTradeNo, RefundId, SubMchId, VerificationError, retry::RetryPolicy, unix_now,
};

/// WeChat Pay from a script: each request takes the next answer; (method, target, body) kept.
struct Script {
    answers: RefCell<VecDeque<http::Response<Vec<u8>>>>,
    seen: RefCell<Vec<(String, String, String)>>,
}

impl Script {
    fn new(answers: impl IntoIterator<Item = http::Response<Vec<u8>>>) -> Self {
        Self { answers: RefCell::new(answers.into_iter().collect()), seen: RefCell::default() }
    }

    fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, wechatpay_core::TransportError> {
        let target = request.uri().path_and_query().unwrap().as_str().to_owned();
        let body = String::from_utf8(request.body().clone()).unwrap();
        self.seen.borrow_mut().push((request.method().to_string(), target, body));
        Ok(self.answers.borrow_mut().pop_front().expect("an answer for every request"))
    }
}

fn signed(status: u16, body: &str) -> http::Response<Vec<u8>> {
    let headers = signed_headers(body.as_bytes(), unix_now(), By::PublicKey);
    response(StatusCode::from_u16(status).unwrap(), &headers, body.as_bytes())
}

fn refund(out_refund_no: &str, out_trade_no: &str, status: &str) -> http::Response<Vec<u8>> {
    signed(
        200,
        &format!(
            r#"{{"refund_id":"50000000382019052709732678859","out_refund_no":"{out_refund_no}","transaction_id":"4200000000000000000000000001","out_trade_no":"{out_trade_no}","channel":"ORIGINAL","user_received_account":"支付用户零钱","create_time":"2026-12-05T14:00:00+08:00","status":"{status}","amount":{{"total":100,"refund":40,"payer_total":100,"payer_refund":40,"settlement_refund":40,"settlement_total":100,"discount_refund":0,"currency":"CNY","refund_fee":0}},"brand_new":[1]}}"#
        ),
    )
}

fn driver() -> Driver {
    Driver::new(config()).with_retry_policy(RetryPolicy::default().with_base_delay(Duration::from_millis(1)))
}

fn create() -> CreateRefund {
    CreateRefund::new(
        RefundOrder::OutTradeNo(OutTradeNo::new(DIRECT_SEED_NO).unwrap()),
        OutRefundNo::new("R20261205@1").unwrap(),
        RefundRequestAmount::new(Fen(40), Fen(100)).unwrap(),
    )
}

#[test]
fn a_refund_is_created_and_a_retry_resends_the_same_body() {
    let script = Script::new([
        signed(500, r#"{"code":"SYSTEM_ERROR","message":"请不要更换商户退款单号"}"#),
        refund("R20261205@1", DIRECT_SEED_NO, "PROCESSING"),
    ]);
    let send = |r| script.send(r);
    let created = driver().execute(&send, |_| {}, &create()).unwrap();
    assert_eq!(created.status, RefundStatus::Processing);
    assert_eq!(created.extra.get("brand_new").map(|v| v.get()), Some("[1]"));
    let seen = script.seen.borrow();
    assert_eq!(seen.len(), 2, "a 500 is retried: the create is idempotent");
    let expected = format!(
        r#"{{"out_trade_no":"{DIRECT_SEED_NO}","out_refund_no":"R20261205@1","amount":{{"refund":40,"total":100,"currency":"CNY"}}}}"#
    );
    for (method, target, body) in seen.iter() {
        assert_eq!(
            (method.as_str(), target.as_str(), body.as_str()),
            ("POST", "/v3/refund/domestic/refunds", expected.as_str())
        );
    }
}

#[test]
fn an_answer_for_another_refund_or_order_is_refused() {
    for answer in [refund("R20261205@2", DIRECT_SEED_NO, "PROCESSING"), refund("R20261205@1", "OTHER", "PROCESSING")] {
        let script = Script::new([answer]);
        let send = |r| script.send(r);
        let err = driver().execute(&send, |_| {}, &create()).unwrap_err();
        assert!(matches!(err, Error::Verification(VerificationError { .. })), "{err:?}");
    }
}

#[test]
fn a_partner_query_names_the_sub_merchant_and_a_watch_ends_on_a_final_status() {
    let no = "R20261205@1";
    let script = Script::new([
        refund(no, DIRECT_SEED_NO, "PROCESSING"),
        refund(no, DIRECT_SEED_NO, "PROCESSING"),
        refund(no, DIRECT_SEED_NO, "ABNORMAL"),
    ]);
    let send = |r| script.send(r);
    let op = QueryRefund::new(OutRefundNo::new(no).unwrap()).with_sub_mchid(SubMchId::new("1900000109").unwrap());
    let slept = RefCell::new(Vec::new());
    let policy = WatchPolicy::default().with_deadline(Duration::from_secs(3600)).with_close_if_unpaid(true);
    let outcome = driver().watch(&send, |d| slept.borrow_mut().push(d), &op, &policy, |_| {}).unwrap();
    assert_eq!(
        (outcome.end, outcome.order.status.clone(), outcome.queries),
        (WatchEnd::Final, RefundStatus::Abnormal, 3)
    );
    // A minute apart (PROTOCOL.md §15); the clock is real and the sleeps fake, so the waits
    // are the rhythm's minute less the time the test took.
    let slept = slept.into_inner();
    assert_eq!(slept.len(), 2);
    assert!(slept.iter().all(|d| *d > Duration::from_secs(59) && *d <= Duration::from_secs(60)), "{slept:?}");
    for (method, target, body) in script.seen.borrow().iter() {
        assert_eq!(
            (method.as_str(), target.as_str(), body.as_str()),
            ("GET", "/v3/refund/domestic/refunds/R20261205%401?sub_mchid=1900000109", "")
        );
    }
}

#[test]
fn a_refund_still_processing_at_the_deadline_is_reported_never_closed() {
    let script = Script::new([refund("R1", DIRECT_SEED_NO, "PROCESSING")]);
    let send = |r| script.send(r);
    let op = QueryRefund::new(OutRefundNo::new("R1").unwrap());
    let policy = WatchPolicy::default().with_deadline(Duration::ZERO).with_close_if_unpaid(true);
    let outcome = driver().watch(&send, |_| {}, &op, &policy, |_| {}).unwrap();
    assert_eq!((outcome.end, outcome.order.status), (WatchEnd::Deadline, RefundStatus::Processing));
    assert_eq!(script.seen.borrow().len(), 1, "no close is sent");
}

#[test]
fn an_abnormal_refund_sends_encrypted_fields_and_names_their_key() {
    for serial in [PLATFORM_SERIAL, PUB_KEY_ID] {
        let keys = key_store(wechatpay_core::crypto::Backend::default());
        let key = keys.get(serial).unwrap();
        let account = SensitiveField::encrypt(serial, key, b"6214830000000000001").unwrap();
        let name = SensitiveField::encrypt(serial, key, "张三".as_bytes()).unwrap();
        let (account_b64, name_b64) = (account.ciphertext().to_owned(), name.ciphertext().to_owned());
        let op = ApplyAbnormalRefund::user_bank_card(
            RefundId::new("50000000382019052709732678859").unwrap(),
            OutRefundNo::new("R1").unwrap(),
            "ICBC_DEBIT",
            account,
            name,
        )
        .unwrap()
        .with_sub_mchid(SubMchId::new("1900000109").unwrap());
        let shown = format!("{op:?}");
        assert!(!shown.contains("6214") && !shown.contains(&account_b64), "{shown}");

        let seen = RefCell::new(None);
        let send = |request: http::Request<Vec<u8>>| {
            let header = request.headers()["wechatpay-serial"].to_str().unwrap().to_owned();
            let target = request.uri().path().to_owned();
            *seen.borrow_mut() = Some((header, target, String::from_utf8(request.body().clone()).unwrap()));
            Ok(refund("R1", DIRECT_SEED_NO, "PROCESSING"))
        };
        // The configuration names the public key; the call names the key it encrypted with.
        let config =
            builder_with(wechatpay_core::crypto::Backend::default()).wechatpay_serial(PUB_KEY_ID).build().unwrap();
        let answer = Driver::new(config).execute(&send, |_| {}, &op).unwrap();
        assert_eq!(answer.status, RefundStatus::Processing);
        let (header, target, body) = seen.into_inner().unwrap();
        assert_eq!(header, serial);
        assert_eq!(target, "/v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund");
        assert_eq!(
            body,
            format!(
                r#"{{"sub_mchid":"1900000109","out_refund_no":"R1","type":"USER_BANK_CARD","bank_type":"ICBC_DEBIT","bank_account":"{account_b64}","real_name":"{name_b64}"}}"#
            )
        );
        // The ciphertexts decrypt with OpenSSL: tests/oaep.rs.
    }
}

#[test]
fn an_abnormal_refund_to_the_merchant_card_encrypts_nothing_and_keys_must_agree() {
    let op = ApplyAbnormalRefund::merchant_bank_card(
        RefundId::new("50000000382019052709732678859").unwrap(),
        OutRefundNo::new("R1").unwrap(),
    );
    let seen = RefCell::new(None);
    let send = |request: http::Request<Vec<u8>>| {
        *seen.borrow_mut() = Some(String::from_utf8(request.body().clone()).unwrap());
        Ok(refund("R1", DIRECT_SEED_NO, "PROCESSING"))
    };
    driver().execute(&send, |_| {}, &op).unwrap();
    assert_eq!(seen.into_inner().unwrap(), r#"{"out_refund_no":"R1","type":"MERCHANT_BANK_CARD"}"#);
    // An answer for another refund is refused.
    let send = |_r: http::Request<Vec<u8>>| Ok(refund("R2", DIRECT_SEED_NO, "PROCESSING"));
    assert!(matches!(driver().execute(&send, |_| {}, &op), Err(Error::Verification(_))));

    let keys = key_store(wechatpay_core::crypto::Backend::default());
    let a = SensitiveField::encrypt(PUB_KEY_ID, keys.get(PUB_KEY_ID).unwrap(), b"1").unwrap();
    let b = SensitiveField::encrypt(PLATFORM_SERIAL, keys.get(PLATFORM_SERIAL).unwrap(), b"2").unwrap();
    let id = || RefundId::new("5").unwrap();
    let no = || OutRefundNo::new("R1").unwrap();
    let err = ApplyAbnormalRefund::user_bank_card(id(), no(), "ICBC_DEBIT", a.clone(), b).unwrap_err();
    assert_eq!(err.field(), "real_name");
    let err = ApplyAbnormalRefund::user_bank_card(id(), no(), "icbc debit", a.clone(), a).unwrap_err();
    assert_eq!(err.field(), "bank_type");
}
