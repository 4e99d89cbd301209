//! Each verification fault surfaces as `Error::Verification` with the right failure, and
//! never as data.

use std::time::Duration;

use wechatpay_core::{Error, VerificationFailure, retry::RetryPolicy};
use wechatpay_tests::*;

fn failure(adapter: Adapter, fault: Fault) -> VerificationFailure {
    let sim = sim();
    let client = TestClient::new(adapter, config(&sim), RetryPolicy::none(), Duration::from_secs(30));
    sim.inject(fault.clone(), Times::Next(1), None);
    match client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)) {
        Err(Error::Verification(v)) => {
            assert_eq!(v.status.as_u16(), 200, "{adapter:?} {fault:?}");
            assert!(v.request_id.is_some(), "{adapter:?} {fault:?}: no Request-ID");
            v.failure
        }
        other => panic!("{adapter:?} {fault:?}: expected a verification error, got {other:?}"),
    }
}

#[test]
fn tampered_body_is_a_signature_mismatch() {
    for adapter in ADAPTERS {
        assert_eq!(failure(adapter, Fault::TamperedBody), VerificationFailure::SignatureMismatch, "{adapter:?}");
    }
}

#[test]
fn stale_timestamp_is_refused() {
    for adapter in ADAPTERS {
        let f = failure(adapter, Fault::StaleTimestamp);
        assert!(matches!(f, VerificationFailure::StaleTimestamp { max_secs: 300, .. }), "{adapter:?}: {f:?}");
    }
}

#[test]
fn sign_test_probe_is_its_own_failure() {
    for adapter in ADAPTERS {
        assert_eq!(failure(adapter, Fault::SignTestProbe), VerificationFailure::SignTestProbe, "{adapter:?}");
    }
}

#[test]
fn unknown_serial_is_refused() {
    for adapter in ADAPTERS {
        let f = failure(adapter, Fault::UnknownSerial);
        assert!(matches!(f, VerificationFailure::UnknownSerial(_)), "{adapter:?}: {f:?}");
    }
}

#[test]
fn unsigned_success_is_forged() {
    for adapter in ADAPTERS {
        let f = failure(adapter, Fault::UnsignedOk);
        assert!(matches!(f, VerificationFailure::MissingHeader(_)), "{adapter:?}: {f:?}");
    }
}

#[test]
fn a_sign_test_probe_is_queried_again_by_default() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(30));
        sim.inject(Fault::SignTestProbe, Times::Next(1), None);
        let order = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap();
        assert_eq!(order.trade_state.as_str(), "SUCCESS", "{adapter:?}");
        assert_eq!(sim.requests_seen(), 2, "{adapter:?}");
    }
}

#[test]
fn other_verification_failures_are_never_retried() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(30));
        sim.inject(Fault::TamperedBody, Times::Always, None);
        let err = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap_err();
        assert!(matches!(err, Error::Verification(_)), "{adapter:?}: {err:?}");
        assert_eq!(sim.requests_seen(), 1, "{adapter:?}");
    }
}

#[test]
fn a_signed_body_that_is_not_json_is_a_decode_error() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), RetryPolicy::none(), Duration::from_secs(30));
        sim.inject(Fault::InvalidJson, Times::Next(1), None);
        let err = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{adapter:?}: {err:?}");
    }
}

/// Spec §11: a correctly signed answer about another order is not the answer; nothing of it
/// comes back, and it is not asked again (the server answered: asking again will not help).
#[test]
fn a_signed_answer_for_another_order_is_a_verification_failure() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(30));
        sim.inject(Fault::AnswerForAnotherOrder, Times::Always, None);
        let err = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap_err();
        let Error::Verification(v) = &err else { panic!("{adapter:?}: {err:?}") };
        assert_eq!(v.failure, VerificationFailure::AnswerMismatch { field: "out_trade_no" }, "{adapter:?}");
        assert!(!err.to_string().contains(SEED_OUT_TRADE_NO), "{adapter:?}: {err}");
        assert_eq!(sim.requests_seen(), 1, "{adapter:?}");
        let err = client.execute(&by_transaction_id(SEED_TRANSACTION_ID)).unwrap_err();
        let Error::Verification(v) = &err else { panic!("{adapter:?}: {err:?}") };
        assert_eq!(v.failure, VerificationFailure::AnswerMismatch { field: "transaction_id" }, "{adapter:?}");
        sim.clear_faults();
        client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap();
    }
}
