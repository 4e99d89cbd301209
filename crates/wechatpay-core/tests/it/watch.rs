//! Closing an order and watching it, through closure transports that play WeChat Pay from
//! a script: the close's signed body and `204`, the watch loop's every ending, its close
//! rule, and its errors.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use base64::Engine as _;
use common::*;
use http::{HeaderMap, StatusCode};
use wechatpay_core::api::{
    CloseOrder, ClosePartnerOrder, Closed, QueryOrderByOutTradeNo, QueryOrderByTransactionId, QueryParkingOrder,
};
use wechatpay_core::model::{TradeState, Transaction};
use wechatpay_core::transport::Driver;
use wechatpay_core::watch::{StateChange, WatchEnd, WatchPolicy};
use wechatpay_core::{Error, OutTradeNo, PublicKey, SubMchId, TransactionId, retry::RetryPolicy, unix_now};

/// A request as the fake server saw it: method, target, content type, body.
type Seen = (String, String, Option<String>, String);

/// WeChat Pay from a script: each request takes the next answer and is recorded.
struct Script {
    answers: RefCell<VecDeque<http::Response<Vec<u8>>>>,
    seen: RefCell<Vec<Seen>>,
}

impl Script {
    fn new(answers: impl IntoIterator<Item = http::Response<Vec<u8>>>) -> Self {
        Self { answers: RefCell::new(answers.into_iter().collect()), seen: RefCell::default() }
    }

    fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, wechatpay_core::TransportError> {
        check_request_signature(&request);
        let content_type = request.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
        let body = String::from_utf8(request.body().clone()).unwrap();
        let target = request.uri().path_and_query().unwrap().as_str().to_owned();
        self.seen.borrow_mut().push((request.method().to_string(), target, content_type, body));
        Ok(self.answers.borrow_mut().pop_front().expect("the script has an answer for every request"))
    }

    fn methods(&self) -> Vec<String> {
        self.seen.borrow().iter().map(|s| s.0.clone()).collect()
    }
}

/// Verifies the request's `Authorization` with the merchant's public key, over the method,
/// the target and the body exactly as sent.
fn check_request_signature(request: &http::Request<Vec<u8>>) {
    let auth = request.headers()["authorization"].to_str().unwrap();
    let field = |name: &str| {
        let start = auth.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        auth[start..].split('"').next().unwrap().to_owned()
    };
    let target = request.uri().path_and_query().unwrap().as_str();
    let body = std::str::from_utf8(request.body()).unwrap();
    let message = format!("{}\n{target}\n{}\n{}\n{body}\n", request.method(), field("timestamp"), field("nonce_str"));
    let signature = base64::engine::general_purpose::STANDARD.decode(field("signature")).unwrap();
    let key = PublicKey::from_pem(&data("merchant_pub.pem")).unwrap();
    key.verify(message.as_bytes(), &signature).expect("the request is signed over its body");
}

fn signed(status: u16, body: &str) -> http::Response<Vec<u8>> {
    let headers = signed_headers(body.as_bytes(), unix_now(), By::PublicKey);
    response(StatusCode::from_u16(status).unwrap(), &headers, body.as_bytes())
}

fn order(state: &str) -> http::Response<Vec<u8>> {
    let body = format!(
        r#"{{"mchid":"{MCHID}","out_trade_no":"{NO}","transaction_id":"42","trade_state":"{state}","trade_state_desc":"d"}}"#
    );
    signed(200, &body)
}

fn closed_204() -> http::Response<Vec<u8>> {
    signed(204, "")
}

const NO: &str = "SIM_NOTPAY_0001";

fn driver() -> Driver {
    Driver::new(config()).with_retry_policy(RetryPolicy::default().with_base_delay(Duration::from_millis(1)))
}

fn query() -> QueryOrderByOutTradeNo {
    QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new(NO).unwrap() }
}

/// Runs a blocking watch against `script` with `policy`; returns the outcome, the waits
/// asked for and the states reported.
fn watch(
    script: &Script,
    policy: &WatchPolicy,
) -> (Result<wechatpay_core::watch::WatchOutcome<Transaction>, Error>, Vec<Duration>, Vec<String>) {
    let (slept, changes) = (RefCell::new(Vec::new()), RefCell::new(Vec::new()));
    let send = |r| script.send(r);
    let on_change = |c: &StateChange<'_, Transaction>| {
        let previous = c.previous.unwrap_or("-");
        changes.borrow_mut().push(format!("{previous}->{}", c.order.trade_state.as_str()));
    };
    let result = driver().watch(&send, |d| slept.borrow_mut().push(d), &query(), policy, on_change);
    (result, slept.into_inner(), changes.into_inner())
}

#[test]
fn close_signs_its_json_body_and_takes_a_signed_204() {
    let script = Script::new([closed_204()]);
    let op = CloseOrder { out_trade_no: OutTradeNo::new("SIM|PIPE*0001").unwrap() };
    let out: Closed = driver().execute(&|r| script.send(r), |_| {}, &op).unwrap();
    assert_eq!(out, Closed);
    let seen = script.seen.into_inner();
    assert_eq!(
        seen,
        [(
            "POST".to_owned(),
            "/v3/pay/transactions/out-trade-no/SIM%7CPIPE*0001/close".to_owned(),
            Some("application/json".to_owned()),
            r#"{"mchid":"1230000109"}"#.to_owned()
        )]
    );
}

#[test]
fn partner_close_names_both_merchants_in_order() {
    let script = Script::new([closed_204()]);
    let op = ClosePartnerOrder {
        sub_mchid: SubMchId::new("1900000109").unwrap(),
        out_trade_no: OutTradeNo::new(NO).unwrap(),
    };
    driver().execute(&|r| script.send(r), |_| {}, &op).unwrap();
    let seen = script.seen.into_inner();
    assert_eq!(seen[0].1, "/v3/pay/partner/transactions/out-trade-no/SIM_NOTPAY_0001/close");
    assert_eq!(seen[0].3, r#"{"sp_mchid":"1230000109","sub_mchid":"1900000109"}"#);
}

#[test]
fn a_close_answer_must_be_signed_and_may_carry_json() {
    let op = CloseOrder { out_trade_no: OutTradeNo::new(NO).unwrap() };
    let close = |answer| {
        let script = Script::new([answer]);
        driver().execute(&|r| script.send(r), |_| {}, &op)
    };
    // A 204 without signature headers is not trusted, even with nothing to forge.
    let unsigned = response(StatusCode::NO_CONTENT, &HeaderMap::new(), b"");
    assert!(matches!(close(unsigned), Err(Error::Verification(_))));
    // A signed 2xx with a JSON body (none is expected) still means closed.
    assert_eq!(close(signed(200, r#"{"note":"closed"}"#)).unwrap(), Closed);
    // A signed 2xx body that is not JSON is not an answer WeChat Pay gives.
    assert!(matches!(close(signed(200, "<html>")), Err(Error::Decode(_))));
    // Errors are as for queries.
    let err = close(signed(400, r#"{"code":"ORDER_PAID","message":"paid"}"#)).unwrap_err();
    assert_eq!(err.api_code(), Some("ORDER_PAID"));
}

#[test]
fn a_close_is_retried_like_a_query() {
    let busy = signed(500, r#"{"code":"SYSTEM_ERROR","message":"busy"}"#);
    let script = Script::new([busy, closed_204()]);
    let op = CloseOrder { out_trade_no: OutTradeNo::new(NO).unwrap() };
    driver().execute(&|r| script.send(r), |_| {}, &op).unwrap();
    assert_eq!(script.methods(), ["POST", "POST"]);
}

#[test]
fn pending_then_final_ends_with_the_final_answer() {
    let script = Script::new([order("NOTPAY"), order("USERPAYING"), order("USERPAYING"), order("SUCCESS")]);
    let (result, slept, changes) = watch(&script, &WatchPolicy::default());
    let outcome = result.unwrap();
    assert_eq!((outcome.end, outcome.queries), (WatchEnd::Final, 4));
    assert_eq!(outcome.order.trade_state, TradeState::Success);
    // The fake sleep takes no time, so the watch stays young: 5 s steps throughout.
    assert_eq!(slept, [Duration::from_secs(5); 3]);
    assert_eq!(changes, ["-->NOTPAY", "NOTPAY->USERPAYING", "USERPAYING->SUCCESS"]);
    assert_eq!(script.methods(), ["GET"; 4]);
}

#[test]
fn an_unknown_state_stops_the_watch_at_once() {
    let script = Script::new([order("NOTPAY"), order("PARTIAL_REFUND")]);
    let (result, _, changes) = watch(&script, &WatchPolicy::default().with_close_if_unpaid(true));
    let outcome = result.unwrap();
    assert_eq!((outcome.end, outcome.order.trade_state.as_str()), (WatchEnd::Unknown, "PARTIAL_REFUND"));
    assert_eq!(changes.len(), 2);
}

#[test]
fn the_deadline_ends_a_pending_watch_with_the_last_answer() {
    let script = Script::new([order("NOTPAY")]);
    let (result, slept, _) = watch(&script, &WatchPolicy::default().with_deadline(Duration::ZERO));
    let outcome = result.unwrap();
    assert_eq!((outcome.end, outcome.queries, outcome.order.trade_state), (WatchEnd::Deadline, 1, TradeState::NotPay));
    assert!(slept.is_empty());
}

#[test]
fn a_real_deadline_is_kept() {
    // Real sleeping, 100 ms apart, for 300 ms: a handful of queries, then the deadline.
    let script = Script::new((0..20).map(|_| order("NOTPAY")));
    let policy = WatchPolicy::default().with_deadline(Duration::from_millis(300)).with_fixed_interval(Duration::ZERO);
    let send = |r| script.send(r);
    let outcome = driver().watch(&send, std::thread::sleep, &query(), &policy, |_| {}).unwrap();
    assert_eq!(outcome.end, WatchEnd::Deadline);
    assert!((3..=5).contains(&outcome.queries), "{} queries", outcome.queries);
    assert!(outcome.elapsed >= Duration::from_millis(300) && outcome.elapsed < Duration::from_secs(2));
}

#[test]
fn an_unpaid_order_is_closed_at_the_deadline_then_confirmed() {
    let script = Script::new([order("NOTPAY"), closed_204(), order("CLOSED")]);
    let policy = WatchPolicy::default().with_deadline(Duration::ZERO).with_close_if_unpaid(true);
    let (result, _, changes) = watch(&script, &policy);
    let outcome = result.unwrap();
    assert_eq!((outcome.end, outcome.queries, outcome.order.trade_state), (WatchEnd::Closed, 2, TradeState::Closed));
    assert_eq!(script.methods(), ["GET", "POST", "GET"]);
    assert_eq!(changes, ["-->NOTPAY", "NOTPAY->CLOSED"]);
}

#[test]
fn the_confirming_answer_is_the_result_even_when_paid_meanwhile() {
    // The close succeeded but the user had paid: the confirmation says so.
    let script = Script::new([order("NOTPAY"), closed_204(), order("SUCCESS")]);
    let policy = WatchPolicy::default().with_deadline(Duration::ZERO).with_close_if_unpaid(true);
    let outcome = watch(&script, &policy).0.unwrap();
    assert_eq!((outcome.end, outcome.order.trade_state), (WatchEnd::Closed, TradeState::Success));

    // The close was refused because the user had paid: the confirmation is final.
    let refused = signed(400, r#"{"code":"ORDER_PAID","message":"paid"}"#);
    let script = Script::new([order("NOTPAY"), refused.clone(), order("SUCCESS")]);
    let outcome = watch(&script, &policy).0.unwrap();
    assert_eq!((outcome.end, outcome.order.trade_state), (WatchEnd::Final, TradeState::Success));

    // Refused and still unpaid: the close's error, not a pending order dressed as a result.
    let script = Script::new([order("NOTPAY"), refused, order("NOTPAY")]);
    let err = watch(&script, &policy).0.unwrap_err();
    assert_eq!(err.api_code(), Some("ORDER_PAID"));
    assert_eq!(script.methods(), ["GET", "POST", "GET"]);
}

#[test]
fn only_notpay_is_ever_closed() {
    let policy = WatchPolicy::default().with_deadline(Duration::ZERO).with_close_if_unpaid(true);
    let script = Script::new([order("USERPAYING")]);
    let outcome = watch(&script, &policy).0.unwrap();
    assert_eq!((outcome.end, outcome.order.trade_state), (WatchEnd::Deadline, TradeState::UserPaying));
    for state in ["SUCCESS", "CLOSED", "REFUND", "REVOKED", "PAYERROR", "SOMETHING_NEW"] {
        let script = Script::new([order(state)]);
        watch(&script, &policy).0.unwrap();
        assert_eq!(script.methods(), ["GET"], "{state}");
    }
}

#[test]
fn a_failed_query_ends_the_watch_with_its_error() {
    let missing = signed(404, r#"{"code":"ORDER_NOT_EXIST","message":"no"}"#);
    let script = Script::new([order("NOTPAY"), missing]);
    let err = watch(&script, &WatchPolicy::default()).0.unwrap_err();
    assert_eq!(err.api_code(), Some("ORDER_NOT_EXIST"));
    // An answer for another order is a verification failure, never a state.
    let other =
        signed(200, r#"{"mchid":"1230000109","out_trade_no":"OTHER","trade_state":"SUCCESS","trade_state_desc":"d"}"#);
    let script = Script::new([other]);
    assert!(matches!(watch(&script, &WatchPolicy::default()).0, Err(Error::Verification(_))));
    // A close answer that fails verification ends the watch: it is not an answer to trust.
    let script = Script::new([order("NOTPAY"), response(StatusCode::NO_CONTENT, &HeaderMap::new(), b"")]);
    let policy = WatchPolicy::default().with_deadline(Duration::ZERO).with_close_if_unpaid(true);
    assert!(matches!(watch(&script, &policy).0, Err(Error::Verification(_))));
}

#[test]
fn a_watch_by_transaction_id_closes_by_the_answers_order_number() {
    let script = Script::new([order("NOTPAY"), closed_204(), order("CLOSED")]);
    let policy = WatchPolicy::default().with_deadline(Duration::ZERO).with_close_if_unpaid(true);
    let op = QueryOrderByTransactionId { transaction_id: TransactionId::new("42").unwrap() };
    let send = |r| script.send(r);
    let outcome = driver().watch(&send, |_| {}, &op, &policy, |_| {}).unwrap();
    assert_eq!(outcome.end, WatchEnd::Closed);
    let seen = script.seen.into_inner();
    assert_eq!(seen[1].1, format!("/v3/pay/transactions/out-trade-no/{NO}/close"));
}

#[test]
fn parking_orders_are_watched_but_never_closed() {
    let parking =
        |state: &str| signed(200, &format!(r#"{{"out_trade_no":"{PARKING_SEED_NO}","trade_state":"{state}"}}"#));
    let script = Script::new([parking("ACCEPTED"), parking("ACCEPTED")]);
    let policy = WatchPolicy::default().with_deadline(Duration::ZERO).with_close_if_unpaid(true);
    let send = |r| script.send(r);
    let op = QueryParkingOrder::seed();
    let outcome = driver().watch(&send, |_| {}, &op, &policy, |_| {}).unwrap();
    assert_eq!((outcome.end, outcome.order.trade_state.as_str()), (WatchEnd::Deadline, "ACCEPTED"));
    let script = Script::new([parking("ACCEPTED"), parking("PAY_FAIL")]);
    let send = |r| script.send(r);
    let outcome = driver().watch(&send, |_| {}, &op, &WatchPolicy::default(), |_| {}).unwrap();
    assert_eq!((outcome.end, outcome.order.trade_state.as_str()), (WatchEnd::Final, "PAY_FAIL"));
}

#[test]
fn the_async_watch_runs_the_same_loop() {
    let script = std::sync::Mutex::new(Script::new([order("NOTPAY"), closed_204(), order("CLOSED")]));
    let send = |r| std::future::ready(script.lock().unwrap().send(r));
    let sleeps = std::sync::Mutex::new(0);
    let sleep = |_d: Duration| {
        *sleeps.lock().unwrap() += 1;
        std::future::ready(())
    };
    let policy = WatchPolicy::default().with_deadline(Duration::ZERO).with_close_if_unpaid(true);
    let changes = RefCell::new(0);
    let outcome =
        block_on(driver().watch_async(&send, sleep, &query(), &policy, |_| *changes.borrow_mut() += 1)).unwrap();
    assert_eq!((outcome.end, outcome.order.trade_state), (WatchEnd::Closed, TradeState::Closed));
    assert_eq!(script.lock().unwrap().methods(), ["GET", "POST", "GET"]);
    assert_eq!((*sleeps.lock().unwrap(), changes.into_inner()), (0, 2));
}
