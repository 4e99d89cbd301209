//! The one call loop, driven through closure transports: signing afresh, retries, failover,
//! deadline, body cap, and a non-idempotent operation never repeated.
#![allow(clippy::unwrap_used)]

mod common;

use std::cell::RefCell;
use std::time::Duration;

use common::*;
use http::{HeaderMap, StatusCode};
use wechatpay_core::api::QueryOrderByOutTradeNo;
use wechatpay_core::transport::{Driver, Limits};
use wechatpay_core::{Error, Host, MchId, Operation, RetryPolicy, TransportError, TransportErrorKind, unix_now};

/// What the fake server saw: (host, authorization) of every request.
type Seen = RefCell<Vec<(String, String)>>;

fn driver(policy: RetryPolicy) -> Driver {
    let config = builder_with(wechatpay_core::Backend::default())
        .base_url("http://primary.test")
        .backup_url("http://backup.test")
        .max_body_bytes(4096)
        .build()
        .unwrap();
    Driver::new(config).with_retry_policy(policy.with_base_delay(Duration::from_millis(1)))
}

fn op() -> QueryOrderByOutTradeNo {
    QueryOrderByOutTradeNo::seed()
}

fn seed_answer() -> http::Response<Vec<u8>> {
    let body = data("responses/direct_seed.json");
    let now = unix_now();
    response(StatusCode::OK, &signed_headers(&body, now, By::PublicKey), &body)
}

fn unsigned(status: u16, body: &str) -> http::Response<Vec<u8>> {
    response(StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), body.as_bytes())
}

fn record(seen: &Seen, request: &http::Request<Vec<u8>>) {
    let host = request.uri().host().unwrap().to_owned();
    let auth = request.headers()["authorization"].to_str().unwrap().to_owned();
    seen.borrow_mut().push((host, auth));
}

#[test]
fn retries_sign_afresh_and_stop_on_success() {
    let seen = Seen::default();
    let send = |request: http::Request<Vec<u8>>| {
        record(&seen, &request);
        let limits = request.extensions().get::<Limits>().copied().unwrap();
        assert_eq!(limits.max_body_bytes, 4096);
        assert!(limits.timeout <= Duration::from_secs(30));
        Ok(if seen.borrow().len() < 3 {
            unsigned(500, r#"{"code":"SYSTEM_ERROR","message":"x"}"#)
        } else {
            seed_answer()
        })
    };
    let slept = RefCell::new(Vec::new());
    let order = driver(RetryPolicy::default()).execute(&send, |d| slept.borrow_mut().push(d), &op()).unwrap();
    assert_eq!(order.out_trade_no, DIRECT_SEED_NO);
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 3);
    // A parsed WeChat 500 stays on the same host; every attempt has its own nonce.
    assert!(seen.iter().all(|(host, _)| host == "primary.test"));
    assert_ne!(seen[0].1, seen[1].1);
    assert_eq!(slept.into_inner().len(), 2);
}

#[test]
fn connection_failures_fail_over_and_the_policy_ends_the_call() {
    let seen = Seen::default();
    let send = |request: http::Request<Vec<u8>>| {
        record(&seen, &request);
        Err(TransportError::of_kind(TransportErrorKind::Connect))
    };
    let err = driver(RetryPolicy::default()).execute(&send, |_| {}, &op()).unwrap_err();
    let Error::Transport(t) = &err else { panic!("{err:?}") };
    assert_eq!((t.kind(), t.host()), (TransportErrorKind::Connect, Some(Host::Primary)));
    let hosts: Vec<_> = seen.into_inner().into_iter().map(|(h, _)| h).collect();
    assert_eq!(hosts, ["primary.test", "backup.test", "primary.test"]);
}

#[test]
fn client_errors_and_verification_failures_are_final() {
    for answer in [unsigned(400, r#"{"code":"PARAM_ERROR","message":"x"}"#), {
        let mut forged = seed_answer();
        forged.body_mut().extend_from_slice(b" ");
        forged
    }] {
        let calls = RefCell::new(0);
        let send = |_request: http::Request<Vec<u8>>| {
            *calls.borrow_mut() += 1;
            Ok(answer.clone())
        };
        let err = driver(RetryPolicy::default()).execute(&send, |_| {}, &op()).unwrap_err();
        assert!(matches!(err, Error::Api(_) | Error::Verification(_)), "{err:?}");
        assert_eq!(calls.into_inner(), 1);
    }
}

#[test]
fn the_deadline_bounds_the_call() {
    let calls = RefCell::new(0);
    let send = |_request: http::Request<Vec<u8>>| {
        *calls.borrow_mut() += 1;
        std::thread::sleep(Duration::from_millis(30));
        Err(TransportError::of_kind(TransportErrorKind::Timeout))
    };
    let policy = RetryPolicy::default().with_max_attempts(100).with_deadline(Duration::from_millis(100));
    let err = driver(policy).execute(&send, std::thread::sleep, &op()).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let calls = calls.into_inner();
    assert!((2..=4).contains(&calls), "{calls} attempts within a 100 ms deadline");
}

#[test]
fn the_body_cap_holds_for_read_and_declared_lengths() {
    let too_long = |_request: http::Request<Vec<u8>>| Ok(unsigned(200, &" ".repeat(4097)));
    let err = driver(RetryPolicy::none()).execute(&too_long, |_| {}, &op()).unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 4096 }), "{err:?}");
    let refused = |_request: http::Request<Vec<u8>>| Err(TransportError::body_too_large(4096));
    let err = driver(RetryPolicy::default()).execute(&refused, |_| {}, &op()).unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 4096 }), "{err:?}");
}

/// A POST that must not be repeated once it may have reached the server.
struct Charge;

impl Operation for Charge {
    type Output = serde_json::Value;
    const NAME: &'static str = "test_charge";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn idempotent(&self) -> bool {
        false
    }
    fn path_and_query(&self, _mchid: &MchId) -> String {
        "/v3/test/charge".to_owned()
    }
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
        Some(format!(r#"{{"mchid":"{mchid}"}}"#).into_bytes())
    }
    /// Nothing to bind: a test operation.
    fn check_answer(
        &self,
        _mchid: &MchId,
        _answer: &serde_json::Value,
    ) -> Result<wechatpay_core::api::Binding, wechatpay_core::VerificationFailure> {
        wechatpay_core::api::nothing_to_bind()
    }
}

#[test]
fn a_non_idempotent_call_is_never_repeated_once_it_may_have_arrived() {
    for kind in [TransportErrorKind::Timeout, TransportErrorKind::Io, TransportErrorKind::Other] {
        let calls = RefCell::new(Vec::new());
        let send = |request: http::Request<Vec<u8>>| {
            calls.borrow_mut().push(request);
            Err(TransportError::of_kind(kind))
        };
        driver(RetryPolicy::default()).execute(&send, |_| {}, &Charge).unwrap_err();
        let calls = calls.into_inner();
        assert_eq!(calls.len(), 1, "{kind:?}");
        // The body is sent as signed, with its content type.
        assert_eq!(calls[0].method(), http::Method::POST);
        assert_eq!(calls[0].body(), br#"{"mchid":"1230000109"}"#);
        assert_eq!(calls[0].headers()["content-type"], "application/json");
    }
    let server_error = |_request: http::Request<Vec<u8>>| Ok(unsigned(500, r#"{"code":"SYSTEM_ERROR","message":"x"}"#));
    let calls = RefCell::new(0);
    let counted = |r: http::Request<Vec<u8>>| {
        *calls.borrow_mut() += 1;
        server_error(r)
    };
    driver(RetryPolicy::default()).execute(&counted, |_| {}, &Charge).unwrap_err();
    assert_eq!(calls.into_inner(), 1);
    // A connection refused proves the call never arrived: it may go again.
    let calls = RefCell::new(0);
    let refused = |_request: http::Request<Vec<u8>>| {
        *calls.borrow_mut() += 1;
        Err(TransportError::of_kind(TransportErrorKind::Connect))
    };
    driver(RetryPolicy::default()).execute(&refused, |_| {}, &Charge).unwrap_err();
    assert_eq!(calls.into_inner(), 3);
}

#[test]
fn the_async_driver_runs_the_same_loop() {
    let seen = std::sync::Mutex::new(0);
    let send = |_request: http::Request<Vec<u8>>| {
        let n = {
            let mut n = seen.lock().unwrap();
            *n += 1;
            *n
        };
        async move { if n < 2 { Err(TransportError::of_kind(TransportErrorKind::Timeout)) } else { Ok(seed_answer()) } }
    };
    let sleeps = std::sync::Mutex::new(0);
    let sleep = |_d: Duration| {
        *sleeps.lock().unwrap() += 1;
        std::future::ready(())
    };
    let order = block_on(driver(RetryPolicy::default()).execute_async(&send, sleep, &op())).unwrap();
    assert_eq!(order.out_trade_no, DIRECT_SEED_NO);
    assert_eq!((*seen.lock().unwrap(), *sleeps.lock().unwrap()), (2, 1));
}
