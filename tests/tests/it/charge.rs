//! Payment code at the till through both adapters against the simulator: every row of its
//! test-code table (the auth code's last digit scripts the payer), direct and partner, with
//! short intervals; the codepay is sent exactly once per `out_trade_no` in every row (the
//! simulator counts it), and an unsigned `202` is taken as "still paying".
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use wechatpay_core::api::{
    AuthCode, Codepay, CodepayOrder, CodepaySceneInfo, CodepayStore, PartnerCodepay, PartnerIds, Reverse,
};
use wechatpay_core::charge::{ChargeOutcome, ChargePolicy};
use wechatpay_core::model::Fen;
use wechatpay_core::{AppId, Error, OutTradeNo, SubMchId};
use wechatpay_tests::*;

const APPID: &str = "wxd678efh567hg6787";
const SP_APPID: &str = "wx8888888888888888";

/// Every 100 ms until 600 ms; the reverse at once after it, retried for 1 s.
fn quick() -> ChargePolicy {
    ChargePolicy::default()
        .with_interval(Duration::from_millis(100))
        .with_deadline(Duration::from_millis(600))
        .with_reverse_delay(Duration::ZERO)
        .with_reverse_for(Duration::from_secs(1))
}

fn order(no: &str, last_digit: char) -> CodepayOrder {
    let code = AuthCode::new(&format!("13456789012345678{last_digit}")).unwrap();
    let scene = CodepaySceneInfo::new(CodepayStore::OutId("SZ-001".into())).unwrap().device_ip("10.0.0.7").unwrap();
    CodepayOrder::new(no, "Coffee", Fen(1200), code, scene).unwrap().attach("till 3").unwrap()
}

fn direct(no: &str, last_digit: char) -> Codepay {
    Codepay { appid: AppId::new(APPID).unwrap(), order: order(no, last_digit) }
}

fn partner(no: &str, last_digit: char) -> PartnerCodepay {
    let ids = PartnerIds {
        sp_appid: AppId::new(SP_APPID).unwrap(),
        sub_mchid: SubMchId::new(SUB_MCHID).unwrap(),
        sub_appid: None,
    };
    PartnerCodepay { ids, order: order(no, last_digit) }
}

/// A client whose attempts give up after 1 s (the `6` row holds its answer 5 s).
fn client(adapter: Adapter, sim: &Simulator) -> TestClient {
    TestClient::new(adapter, config(sim), fast_retries(), Duration::from_secs(1))
}

/// What a direct charge ended with: `paid STATE`, `not paid STATE`, `unresolved`, or the
/// error code.
fn end(result: &Result<ChargeOutcome<wechatpay_core::model::Transaction>, Error>) -> String {
    match result {
        Ok(ChargeOutcome::Paid(o)) => format!("paid {}", o.trade_state.as_str()),
        Ok(ChargeOutcome::NotPaid(o)) => format!("not paid {}", o.trade_state.as_str()),
        Ok(_) => "unresolved".to_owned(),
        Err(e) => format!("refused {}", e.api_code().unwrap_or(e.label())),
    }
}

#[test]
fn every_test_code_row_through_both_adapters() {
    // (last digit, end, steps, reverses)
    let rows: [(char, &str, &[&str], usize); 10] = [
        ('0', "paid SUCCESS", &["codepay 200 SUCCESS"], 0),
        ('7', "paid SUCCESS", &["codepay 200 SUCCESS"], 0),
        ('9', "paid SUCCESS", &["codepay 200 SUCCESS"], 0),
        ('1', "paid SUCCESS", &["codepay 202", "query USERPAYING", "query SUCCESS"], 0),
        ('2', "not paid PAYERROR", &["codepay 202", "query USERPAYING", "query PAYERROR"], 0),
        ('3', "not paid REVOKED", &["codepay 202", "query USERPAYING"], 1),
        ('4', "refused NOT_ENOUGH", &["codepay failed"], 0),
        ('5', "paid SUCCESS", &["codepay failed", "query SUCCESS"], 0),
        ('6', "paid SUCCESS", &["codepay failed", "query SUCCESS"], 0),
        ('8', "paid SUCCESS", &["codepay 200 SUCCESS"], 0),
    ];
    for adapter in ADAPTERS {
        let sim = sim();
        let client = client(adapter, &sim);
        for (i, (digit, expected, first_steps, reverses)) in rows.into_iter().enumerate() {
            let no = format!("TILL{adapter:?}{digit}");
            let (codepays_before, reverses_before) =
                (sim.requests_for(Route::CodepayDirect), sim.requests_for(Route::ReverseDirect));
            let (result, steps) = client.charge(&direct(&no, digit), &quick());
            let what = format!("{adapter:?} row {i} (digit {digit}): {steps:?}");
            assert_eq!(end(&result), expected, "{what}");
            assert!(steps.iter().map(String::as_str).take(first_steps.len()).eq(first_steps.iter().copied()), "{what}");
            assert_eq!(sim.requests_for(Route::CodepayDirect) - codepays_before, 1, "one codepay: {what}");
            assert_eq!(sim.requests_for(Route::ReverseDirect) - reverses_before, reverses, "{what}");
            if reverses == 1 {
                assert_eq!(&steps[steps.len() - 3..], ["reversing", "reversed", "confirmed REVOKED"], "{what}");
            }
            if let Ok(ChargeOutcome::Paid(o) | ChargeOutcome::NotPaid(o)) = &result {
                assert_eq!(
                    (o.out_trade_no.as_str(), o.trade_type.as_ref().map(|t| t.as_str())),
                    (no.as_str(), Some("MICROPAY"))
                );
                assert_eq!(o.amount.as_ref().and_then(|a| a.total), Some(Fen(1200)), "{what}");
                assert_eq!(o.attach.as_deref(), Some("till 3"));
            }
        }
        // Refused (4): nothing was created, nothing was asked.
        let err = client.execute(&by_out_trade_no(&format!("TILL{adapter:?}4"))).unwrap_err();
        assert_eq!(err.api_code(), Some("ORDER_NOT_EXIST"));
        assert!(sim.notifications().as_array().is_some_and(Vec::is_empty), "payment-code orders never notify");
    }
}

#[test]
fn partner_rows_paid_later_and_reversed() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = client(adapter, &sim);
        let (result, steps) = client.charge(&partner(&format!("PTILL{adapter:?}1"), '1'), &quick());
        match result {
            Ok(ChargeOutcome::Paid(o)) => {
                assert_eq!((o.sub_mchid.as_str(), o.trade_state.as_str()), (SUB_MCHID, "SUCCESS"))
            }
            other => panic!("{adapter:?}: {other:?} {steps:?}"),
        }
        let (result, steps) = client.charge(&partner(&format!("PTILL{adapter:?}3"), '3'), &quick());
        assert!(
            matches!(&result, Ok(ChargeOutcome::NotPaid(o)) if o.trade_state.as_str() == "REVOKED"),
            "{adapter:?}: {steps:?}"
        );
        assert_eq!(sim.requests_for(Route::CodepayPartner), 2, "{adapter:?}");
        assert_eq!(sim.requests_for(Route::ReversePartner), 1, "{adapter:?}");
    }
}

#[test]
fn an_unsigned_202_is_still_paying_and_a_reverse_that_fails_is_unresolved() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = client(adapter, &sim);
        sim.inject(Fault::UnsignedOk, Times::Next(1), Some(Route::CodepayDirect));
        let (result, steps) = client.charge(&direct(&format!("UTILL{adapter:?}1"), '1'), &quick());
        assert!(matches!(result, Ok(ChargeOutcome::Paid(_))), "{adapter:?}: {steps:?}");
        assert_eq!(steps[0], "codepay 202", "{adapter:?}");

        // The reverse never gets through: unresolved, with the last known state.
        sim.inject(Fault::SystemError, Times::Always, Some(Route::ReverseDirect));
        let (result, steps) = client.charge(&direct(&format!("UTILL{adapter:?}3"), '3'), &quick());
        match result {
            Ok(ChargeOutcome::Unresolved { last_known, error }) => {
                assert_eq!(last_known.unwrap().trade_state.as_str(), "USERPAYING", "{adapter:?}");
                assert_eq!(error.unwrap().api_code(), Some("SYSTEM_ERROR"), "{adapter:?}");
            }
            other => panic!("{adapter:?}: {other:?} {steps:?}"),
        }
        assert!(steps.contains(&"reverse failed".to_owned()), "{adapter:?}: {steps:?}");
        assert_eq!(sim.requests_for(Route::CodepayDirect), 2, "{adapter:?}");
    }
}

#[test]
fn reverse_by_hand_is_reentrant_and_close_refuses_a_payment_code_order() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = client(adapter, &sim);
        let no = format!("HTILL{adapter:?}3");
        let answer = client.execute(&direct(&no, '3')).unwrap();
        assert_eq!(answer, wechatpay_core::api::CodepayOutcome::UserPaying, "{adapter:?}");
        let reverse = Reverse { appid: AppId::new(APPID).unwrap(), out_trade_no: OutTradeNo::new(&no).unwrap() };
        client.execute(&reverse).unwrap();
        client.execute(&reverse).unwrap();
        assert_eq!(client.execute(&by_out_trade_no(&no)).unwrap().trade_state.as_str(), "REVOKED");
        let close = wechatpay_core::api::CloseOrder { out_trade_no: OutTradeNo::new(&no).unwrap() };
        assert_eq!(client.close(&close).unwrap_err().api_code(), Some("INVALID_REQUEST"), "{adapter:?}");
        let missing =
            Reverse { appid: AppId::new(APPID).unwrap(), out_trade_no: OutTradeNo::new("NO_SUCH_0001").unwrap() };
        assert_eq!(client.execute(&missing).unwrap_err().api_code(), Some("ORDER_NOT_EXIST"));
    }
}

#[test]
fn a_held_answer_is_waited_for_with_the_default_timeout() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(30));
        let started = std::time::Instant::now();
        let (result, steps) = client.charge(&direct(&format!("HELD{adapter:?}6"), '6'), &quick());
        assert!(started.elapsed() >= Duration::from_secs(5), "{adapter:?}: held 5 s");
        assert_eq!(end(&result), "paid SUCCESS", "{adapter:?}: {steps:?}");
        assert_eq!(steps, ["codepay 200 SUCCESS"], "{adapter:?}");
        assert_eq!(sim.requests_for(Route::CodepayDirect), 1, "{adapter:?}");
    }
}
