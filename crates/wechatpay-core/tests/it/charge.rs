//! The payment-code charge through the driver, against closure transports that play WeChat
//! Pay from a script: the codepay is sent exactly once whatever happens to it (a timeout, a
//! `5xx`, a `429`, a forged answer), a `202` is accepted unsigned (and verified when signed),
//! a business `4xx` or a codepay that never arrived ends the charge with nothing charged,
//! and a failing reverse ends unresolved.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use common::*;
use http::{HeaderMap, StatusCode};
use wechatpay_core::api::{AuthCode, Codepay, CodepayOrder, CodepayOutcome, CodepaySceneInfo, CodepayStore};
use wechatpay_core::charge::{ChargeEnd, ChargeEvent, ChargeOutcome, ChargePolicy, ChargeStep};
use wechatpay_core::model::{Fen, Transaction};
use wechatpay_core::retry::RetryPolicy;
use wechatpay_core::transport::Driver;
use wechatpay_core::{AppId, Error, TransportError, TransportErrorKind, unix_now};

type Answer = Result<http::Response<Vec<u8>>, TransportError>;

/// WeChat Pay from a script: each request takes the next answer; method and path recorded.
struct Script {
    answers: RefCell<VecDeque<Answer>>,
    seen: RefCell<Vec<String>>,
}

impl Script {
    fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        Self { answers: RefCell::new(answers.into_iter().collect()), seen: RefCell::default() }
    }

    fn send(&self, request: http::Request<Vec<u8>>) -> Answer {
        let path = request.uri().path().rsplit('/').next().unwrap().to_owned();
        self.seen.borrow_mut().push(format!("{} {path}", request.method()));
        self.answers.borrow_mut().pop_front().unwrap_or_else(|| panic!("no answer scripted for {path}"))
    }

    fn seen(&self) -> Vec<String> {
        self.seen.borrow().clone()
    }
}

const NO: &str = "CHARGE_0001";
const APPID: &str = "wxd678efh567hg6787";

fn signed(status: u16, body: &str) -> Answer {
    let headers = signed_headers(body.as_bytes(), unix_now(), By::PublicKey);
    Ok(response(StatusCode::from_u16(status).unwrap(), &headers, body.as_bytes()))
}

fn unsigned(status: u16, body: &str) -> Answer {
    Ok(response(StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), body.as_bytes()))
}

fn order(state: &str) -> Answer {
    signed(
        200,
        &format!(
            r#"{{"appid":"{APPID}","mchid":"{MCHID}","out_trade_no":"{NO}","transaction_id":"42","trade_type":"MICROPAY","trade_state":"{state}","trade_state_desc":"d"}}"#
        ),
    )
}

fn reversed() -> Answer {
    signed(200, &format!(r#"{{"appid":"{APPID}","mchid":"{MCHID}","out_trade_no":"{NO}"}}"#))
}

fn failed(kind: TransportErrorKind) -> Answer {
    Err(TransportError::of_kind(kind))
}

fn codepay() -> Codepay {
    let scene = CodepaySceneInfo::new(CodepayStore::OutId("SZ-001".into())).unwrap().device_ip("10.0.0.7").unwrap();
    let code = AuthCode::new("134567890123456781").unwrap();
    Codepay {
        appid: AppId::new(APPID).unwrap(),
        order: CodepayOrder::new(NO, "Coffee", Fen(1200), code, scene).unwrap(),
    }
}

/// Short and real: the machine reads the clock.
fn policy() -> ChargePolicy {
    ChargePolicy::default()
        .with_interval(Duration::from_millis(100))
        .with_deadline(Duration::from_millis(250))
        .with_reverse_delay(Duration::ZERO)
        .with_reverse_for(Duration::from_millis(300))
}

fn driver() -> Driver {
    Driver::new(config()).with_retry_policy(RetryPolicy::default().with_base_delay(Duration::from_millis(1)))
}

/// Runs a blocking charge; returns its result and its steps in words.
fn charge(script: &Script) -> (Result<ChargeOutcome<Transaction>, Error>, Vec<String>) {
    let steps = RefCell::new(Vec::new());
    let send = |r| script.send(r);
    let on_step = |s: &ChargeStep<'_, Transaction>| {
        let word = match &s.event {
            ChargeEvent::CodepayAnswered(o) => format!("codepay {}", o.trade_state.as_str()),
            ChargeEvent::CodepayUserPaying => "codepay USERPAYING".to_owned(),
            ChargeEvent::CodepayFailed { refused, .. } => format!("codepay failed refused={refused}"),
            ChargeEvent::Queried { order, previous } => {
                format!("{} -> {}", previous.unwrap_or("-"), order.trade_state.as_str())
            }
            ChargeEvent::QueryFailed(_) => "query failed".to_owned(),
            ChargeEvent::Reversing { state } => format!("still {}: reversing", state.unwrap_or("-")),
            ChargeEvent::ReverseFailed(_) => "reverse failed".to_owned(),
            ChargeEvent::Reversed(r) => format!("reversed ok={}", r.is_ok()),
            ChargeEvent::Confirmed(o) => format!("confirmed {}", o.trade_state.as_str()),
            ChargeEvent::ConfirmFailed(_) => "confirm failed".to_owned(),
            _ => "other".to_owned(),
        };
        steps.borrow_mut().push(word);
    };
    let result = driver().charge(&send, std::thread::sleep, &codepay(), &policy(), on_step);
    (result, steps.into_inner())
}

fn codepays(script: &Script) -> usize {
    script.seen().iter().filter(|s| s.as_str() == "POST codepay").count()
}

#[test]
fn a_200_is_paid_at_once() {
    let script = Script::new([order("SUCCESS")]);
    let (result, steps) = charge(&script);
    assert!(matches!(result.unwrap(), ChargeOutcome::Paid(o) if o.out_trade_no == NO));
    assert_eq!(steps, ["codepay SUCCESS"]);
    assert_eq!(script.seen(), ["POST codepay"]);
}

#[test]
fn an_unsigned_202_leads_to_queries_and_the_paid_answer() {
    let script = Script::new([unsigned(202, r#"{"trade_state":"USERPAYING"}"#), order("USERPAYING"), order("SUCCESS")]);
    let (result, steps) = charge(&script);
    assert_eq!(result.unwrap().end(), ChargeEnd::Paid);
    assert_eq!(steps, ["codepay USERPAYING", "USERPAYING -> USERPAYING", "USERPAYING -> SUCCESS"]);
    assert_eq!(script.seen(), ["POST codepay", "GET CHARGE_0001", "GET CHARGE_0001"]);
}

#[test]
fn a_202_is_verified_when_signed_and_its_body_is_never_data() {
    let op = codepay();
    let cfg = config();
    let ok = |answer: Answer| wechatpay_core::parse_response(&cfg, &op, &answer.unwrap(), std::time::SystemTime::now());
    // Unsigned: whatever its body says, only "still paying".
    assert_eq!(
        ok(unsigned(202, r#"{"trade_state":"SUCCESS","amount":{"total":1}}"#)).unwrap(),
        CodepayOutcome::UserPaying
    );
    assert_eq!(ok(signed(202, r#"{"trade_state":"USERPAYING"}"#)).unwrap(), CodepayOutcome::UserPaying);
    // One signature header present: all must verify.
    let mut headers = HeaderMap::new();
    headers.insert("wechatpay-serial", "PUB_KEY_ID_0000000000000000000000".parse().unwrap());
    let forged = response(StatusCode::ACCEPTED, &headers, br#"{"trade_state":"USERPAYING"}"#);
    assert!(matches!(
        wechatpay_core::parse_response(&cfg, &op, &forged, std::time::SystemTime::now()),
        Err(Error::Verification(_))
    ));
    // A 200 must be signed.
    assert!(matches!(ok(unsigned(200, r#"{"trade_state":"SUCCESS"}"#)), Err(Error::Verification(_))));
    // A 200 for another order is refused.
    let other = signed(
        200,
        &format!(
            r#"{{"appid":"{APPID}","mchid":"{MCHID}","out_trade_no":"OTHER_0001","trade_state":"SUCCESS","trade_state_desc":"d"}}"#
        ),
    );
    assert!(matches!(ok(other), Err(Error::Verification(_))));
}

#[test]
fn the_codepay_is_never_sent_again_after_a_timeout_a_5xx_a_429_or_a_forged_answer() {
    let forged = response(StatusCode::OK, &HeaderMap::new(), b"{}");
    for first in [
        failed(TransportErrorKind::Timeout),
        failed(TransportErrorKind::Io),
        signed(500, r#"{"code":"SYSTEM_ERROR","message":"busy"}"#),
        unsigned(502, "<html>bad gateway</html>"),
        unsigned(429, r#"{"code":"FREQUENCY_LIMITED","message":"slow"}"#),
        Ok(forged),
    ] {
        let script = Script::new([first, order("SUCCESS")]);
        let (result, steps) = charge(&script);
        assert_eq!(result.unwrap().end(), ChargeEnd::Paid, "{steps:?}");
        assert_eq!(steps[0], "codepay failed refused=false");
        assert_eq!(codepays(&script), 1, "{:?}", script.seen());
    }
}

#[test]
fn a_business_4xx_is_final_and_nothing_follows() {
    let script = Script::new([signed(403, r#"{"code":"NOT_ENOUGH","message":"balance"}"#)]);
    let (result, steps) = charge(&script);
    assert!(matches!(result, Err(Error::Api(e)) if e.code.as_str() == "NOT_ENOUGH"));
    assert_eq!(steps, ["codepay failed refused=true"]);
    assert_eq!(script.seen(), ["POST codepay"]);
}

#[test]
fn an_unsigned_4xx_proves_nothing_the_charge_asks_and_finds_the_order_paid() {
    // Anyone on the path can forge an unsigned "NOT_ENOUGH": it is not taken as "nothing was
    // charged" (the error's own rule: an unverified error never decides about money).
    let script = Script::new([unsigned(403, r#"{"code":"NOT_ENOUGH","message":"balance"}"#), order("SUCCESS")]);
    let (result, steps) = charge(&script);
    assert_eq!(result.unwrap().end(), ChargeEnd::Paid, "{steps:?}");
    assert_eq!(steps[0], "codepay failed refused=false");
    assert_eq!(codepays(&script), 1, "{:?}", script.seen());
}

#[test]
fn a_codepay_that_never_arrived_is_refused_after_the_drivers_own_retries() {
    let script = Script::new((0..3).map(|_| failed(TransportErrorKind::Connect)));
    let (result, _) = charge(&script);
    assert!(matches!(result, Err(Error::Transport(_))));
    assert!(script.seen().iter().all(|s| s == "POST codepay"), "{:?}", script.seen());
}

#[test]
fn still_paying_at_the_deadline_is_reversed_then_confirmed() {
    let mut answers = vec![unsigned(202, "{}")];
    answers.extend((0..3).map(|_| order("USERPAYING")));
    answers.extend([reversed(), order("REVOKED")]);
    let script = Script::new(answers);
    let (result, steps) = charge(&script);
    let outcome = result.unwrap();
    assert!(matches!(&outcome, ChargeOutcome::NotPaid(o) if o.trade_state.as_str() == "REVOKED"), "{steps:?}");
    assert_eq!(steps.last().unwrap(), "confirmed REVOKED");
    assert!(steps.contains(&"still USERPAYING: reversing".to_owned()));
    assert_eq!(codepays(&script), 1);
    assert_eq!(script.seen().iter().filter(|s| s.as_str() == "POST reverse").count(), 1);
}

#[test]
fn a_reverse_that_never_answers_is_unresolved() {
    let mut answers = vec![unsigned(202, "{}")];
    answers.extend((0..3).map(|_| order("USERPAYING")));
    answers.extend((0..40).map(|_| signed(500, r#"{"code":"SYSTEM_ERROR","message":"busy"}"#)));
    let script = Script::new(answers);
    let (result, steps) = charge(&script);
    match result.unwrap() {
        ChargeOutcome::Unresolved { last_known, error } => {
            assert_eq!(last_known.unwrap().trade_state.as_str(), "USERPAYING");
            assert_eq!(error.unwrap().api_code(), Some("SYSTEM_ERROR"));
        }
        other => panic!("{other:?}"),
    }
    assert!(steps.iter().filter(|s| s.as_str() == "reverse failed").count() >= 2, "{steps:?}");
    assert_eq!(codepays(&script), 1);
}

#[test]
fn a_reverse_refused_then_a_pending_confirm_is_unresolved_with_the_refusal() {
    let mut answers = vec![unsigned(202, "{}")];
    answers.extend((0..3).map(|_| order("USERPAYING")));
    answers.extend([signed(400, r#"{"code":"INVALID_REQUEST","message":"no"}"#), order("USERPAYING")]);
    let script = Script::new(answers);
    let (result, _) = charge(&script);
    assert!(
        matches!(result.unwrap(), ChargeOutcome::Unresolved { last_known: Some(_), error: Some(e) } if e.api_code() == Some("INVALID_REQUEST"))
    );
}

#[test]
fn the_async_loop_is_the_same_machine() {
    let script = Script::new([unsigned(202, "{}"), order("PAYERROR")]);
    let send = |r| std::future::ready(script.send(r));
    let sleep = |d| {
        std::thread::sleep(d);
        std::future::ready(())
    };
    let result = block_on(driver().charge_async(&send, sleep, &codepay(), &policy(), |_| {}));
    assert!(matches!(result.unwrap(), ChargeOutcome::NotPaid(o) if o.trade_state.as_str() == "PAYERROR"));
    assert_eq!(codepays(&script), 1);
}

#[test]
fn a_200_is_judged_by_its_state_and_one_for_another_order_is_not_believed() {
    // A 200 still USERPAYING is pending, not paid.
    let script = Script::new([order("USERPAYING"), order("SUCCESS")]);
    let (result, steps) = charge(&script);
    assert_eq!(result.unwrap().end(), ChargeEnd::Paid);
    assert_eq!(steps, ["codepay USERPAYING", "USERPAYING -> SUCCESS"]);
    // A verified 200 about another order is a verification failure: the charge queries.
    let other = signed(
        200,
        &format!(
            r#"{{"appid":"{APPID}","mchid":"{MCHID}","out_trade_no":"OTHER_0001","trade_state":"SUCCESS","trade_state_desc":"d"}}"#
        ),
    );
    let script = Script::new([other, order("PAYERROR")]);
    let (result, steps) = charge(&script);
    assert!(matches!(result.unwrap(), ChargeOutcome::NotPaid(_)), "{steps:?}");
    assert_eq!(steps[0], "codepay failed refused=false");
    assert_eq!(codepays(&script), 1);
}
