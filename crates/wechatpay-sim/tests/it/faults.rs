//! Each injected fault gives the client-side error the core is meant to report.

use crate::common;

use std::io::Write;
use std::time::Duration;

use common::{api_error, call, config, signed};
use wechatpay_core::api::{QueryOrderByOutTradeNo, QueryParkingOrder};
use wechatpay_core::model::ErrorCode;
use wechatpay_core::{Config, Error, OutTradeNo, TransportErrorKind, VerificationFailure};
use wechatpay_sim::{Fault, Route, Simulator, Times};

fn op() -> QueryOrderByOutTradeNo {
    QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018").expect("valid") }
}

fn with_fault(fault: Fault) -> (Simulator, Config, Result<wechatpay_core::model::Transaction, Error>) {
    let sim = Simulator::start().expect("started");
    let config = config(&sim);
    sim.inject(fault, Times::Next(1), Some(Route::DirectByOutTradeNo));
    let result = call(&sim, &config, &op());
    (sim, config, result)
}

fn verification_failure<T: std::fmt::Debug>(result: Result<T, Error>) -> VerificationFailure {
    match result {
        Err(Error::Verification(e)) => e.failure,
        other => panic!("expected a verification error, got {other:?}"),
    }
}

#[test]
fn rate_limited_and_system_error_are_signed_api_errors() {
    let (sim, config, result) = with_fault(Fault::RateLimited);
    let e = api_error(result);
    assert_eq!((e.status.as_u16(), &e.code, e.verified), (429, &ErrorCode::FrequencyLimited, true));
    assert!(e.is_retryable());
    // The fault was used up.
    assert!(call(&sim, &config, &op()).is_ok());

    let (_sim, _config, result) = with_fault(Fault::SystemError);
    let e = api_error(result);
    assert_eq!((e.status.as_u16(), &e.code, e.verified), (500, &ErrorCode::SystemError, true));
}

#[test]
fn html_bad_gateway_is_an_unverified_unexpected_response() {
    let (_sim, _config, result) = with_fault(Fault::HtmlBadGateway);
    match result {
        Err(Error::UnexpectedResponse(e)) => {
            assert_eq!(e.status.as_u16(), 502);
            assert!(!e.verified);
            assert!(e.excerpt.contains("Bad Gateway"));
        }
        other => panic!("expected an unexpected response, got {other:?}"),
    }
}

#[test]
fn tampered_body_is_a_signature_mismatch() {
    let (_sim, _config, result) = with_fault(Fault::TamperedBody);
    assert_eq!(verification_failure(result), VerificationFailure::SignatureMismatch);
}

#[test]
fn sign_test_probe_is_reported_as_such() {
    let (_sim, _config, result) = with_fault(Fault::SignTestProbe);
    assert_eq!(verification_failure(result), VerificationFailure::SignTestProbe);
}

#[test]
fn unknown_serial_is_reported_with_the_serial() {
    let (_sim, _config, result) = with_fault(Fault::UnknownSerial);
    assert!(
        matches!(verification_failure(result), VerificationFailure::UnknownSerial(s) if s.starts_with("PUB_KEY_ID_"))
    );
}

#[test]
fn unsigned_ok_is_a_missing_header() {
    let (_sim, _config, result) = with_fault(Fault::UnsignedOk);
    assert!(matches!(verification_failure(result), VerificationFailure::MissingHeader(_)));
}

#[test]
fn stale_timestamp_is_reported_with_its_skew() {
    let (_sim, _config, result) = with_fault(Fault::StaleTimestamp);
    match verification_failure(result) {
        VerificationFailure::StaleTimestamp { skew_secs, .. } => assert!(skew_secs < -300),
        other => panic!("expected a stale timestamp, got {other:?}"),
    }
}

#[test]
fn invalid_json_is_a_decode_error_after_verification() {
    let (_sim, _config, result) = with_fault(Fault::InvalidJson);
    assert!(matches!(result, Err(Error::Decode(_))), "{result:?}");
}

#[test]
fn oversized_body_hits_the_clients_cap() {
    let sim = Simulator::start().unwrap();
    let config = sim.config_builder().max_body_bytes(64 * 1024).build().unwrap();
    sim.inject(Fault::OversizedBody(8 * 1024 * 1024), Times::Next(1), None);
    let result = call(&sim, &config, &op());
    assert!(matches!(result, Err(Error::BodyTooLarge { limit: 65536 })), "{result:?}");
    // The client hung up mid-body; the simulator carries on.
    assert!(call(&sim, &config, &op()).is_ok());
}

#[test]
fn drop_connection_is_a_transport_error() {
    let (sim, config, result) = with_fault(Fault::DropConnection);
    match result {
        Err(Error::Transport(t)) => assert_eq!(t.kind(), TransportErrorKind::Io),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert_eq!(sim.requests_seen(), 1, "the dropped attempt is counted");
    assert!(call(&sim, &config, &op()).is_ok());
}

#[test]
fn hang_times_out_on_the_client_and_does_not_block_stop() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    sim.inject(Fault::Hang, Times::Always, None);
    let mut stream = common::connect(sim.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    stream.write_all(&common::encode(&signed(&config, &op()))).unwrap();
    let err = common::read_response(&mut stream, usize::MAX - 1).unwrap_err();
    assert!(matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut), "{err:?}");
    assert_eq!(sim.requests_seen(), 1);
    sim.stop();
    // Once stopped, the hung connection is closed.
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(common::read_response(&mut stream, usize::MAX - 1).is_err());
}

#[test]
fn delay_then_answers_normally() {
    let (_sim, _config, result) = with_fault(Fault::Delay(Duration::from_millis(20)));
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn next_n_counts_matching_requests_only_and_always_lasts() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    sim.inject(Fault::RateLimited, Times::Next(2), Some(Route::DirectByOutTradeNo));
    let parking = QueryParkingOrder { out_trade_no: OutTradeNo::new("SIM_PARKING_0001").unwrap(), sub_mchid: None };
    // Another route is not affected and does not use the fault up.
    assert!(call(&sim, &config, &parking).is_ok());
    for _ in 0..2 {
        assert_eq!(api_error(call(&sim, &config, &op())).status.as_u16(), 429);
    }
    assert!(call(&sim, &config, &op()).is_ok());
    assert_eq!(sim.requests_for(Route::DirectByOutTradeNo), 3);
    assert_eq!(sim.requests_seen(), 4);

    sim.inject(Fault::SystemError, Times::Always, None);
    for _ in 0..3 {
        assert_eq!(api_error(call(&sim, &config, &parking)).code, ErrorCode::SystemError);
    }
    sim.clear_faults();
    assert!(call(&sim, &config, &parking).is_ok());

    // Parking rate limits use the parking API's own code.
    sim.inject(Fault::RateLimited, Times::Next(1), Some(Route::Parking));
    assert_eq!(api_error(call(&sim, &config, &parking)).code, ErrorCode::RatelimitExceeded);
    sim.reset_counts();
    assert_eq!(sim.requests_seen(), 0);
}

#[test]
fn faults_apply_after_verification() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    sim.inject(Fault::SystemError, Times::Next(1), None);
    let mut request = signed(&config, &op());
    request.headers_mut().remove("user-agent");
    let resp = common::send(sim.addr(), &request).unwrap();
    assert_eq!(resp.status, 400, "an unverified request is not faulted");
    assert_eq!(api_error(call(&sim, &config, &op())).code, ErrorCode::SystemError);
}
