//! The one call loop, driven through closure transports: signing afresh, retries, failover,
//! deadline, body cap, and a non-idempotent operation never repeated.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::cell::RefCell;
use std::time::Duration;

use common::*;
use http::{HeaderMap, StatusCode};
use wechatpay_core::api::QueryOrderByOutTradeNo;
use wechatpay_core::transport::{Driver, Limits};
use wechatpay_core::{
    Error, Host, MchId, TransportError, TransportErrorKind, api::Operation, retry::RetryPolicy, unix_now,
};

/// What the fake server saw: (host, authorization) of every request.
type Seen = RefCell<Vec<(String, String)>>;

fn driver(policy: RetryPolicy) -> Driver {
    let config = builder_with(wechatpay_core::crypto::Backend::default())
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
fn a_test_configuration_never_fails_over_to_production() {
    // A sandbox primary and no backup: connection and gateway failures retry on the sandbox,
    // never on api2.mch.weixin.qq.com (issue 18), and the error names the primary.
    for failure in
        [Err(TransportError::of_kind(TransportErrorKind::Connect)), Ok(unsigned(502, "<html>bad gateway</html>"))]
    {
        let config =
            builder_with(wechatpay_core::crypto::Backend::default()).base_url("http://sandbox.test").build().unwrap();
        assert!(!config.has_backup());
        let seen = Seen::default();
        let send = |request: http::Request<Vec<u8>>| {
            record(&seen, &request);
            match &failure {
                Err(_) => Err(TransportError::of_kind(TransportErrorKind::Connect)),
                Ok(answer) => Ok(answer.clone()),
            }
        };
        let driver =
            Driver::new(config).with_retry_policy(RetryPolicy::default().with_base_delay(Duration::from_millis(1)));
        let err = driver.execute(&send, |_| {}, &op()).unwrap_err();
        if let Error::Transport(t) = &err {
            assert_eq!(t.host(), Some(Host::Primary));
        }
        let hosts: Vec<_> = seen.into_inner().into_iter().map(|(h, _)| h).collect();
        assert_eq!(hosts, ["sandbox.test", "sandbox.test", "sandbox.test"], "{err:?}");
    }
    // The official primary keeps the official backup.
    let official = builder_with(wechatpay_core::crypto::Backend::default()).build().unwrap();
    assert_eq!(official.base_url(Host::Backup).to_string(), wechatpay_core::DEFAULT_BACKUP_URL);
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
    fn target(&self, _mchid: &MchId) -> wechatpay_core::api::Target {
        wechatpay_core::api::Target::path(&["v3", "test", "charge"])
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

/// A POST whose body would differ each time it is built (a counter in it): the driver must
/// build it once per call, so that every attempt sends and signs the same bytes (a prepay or
/// refund repeated with another body would be another request).
struct CountedBody {
    built: std::cell::Cell<u32>,
}

impl Operation for CountedBody {
    type Output = serde_json::Value;
    const NAME: &'static str = "test_counted_body";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> wechatpay_core::api::Target {
        wechatpay_core::api::Target::path(&["v3", "test", "counted"])
    }
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
        self.built.set(self.built.get() + 1);
        Some(format!(r#"{{"mchid":"{mchid}","build":{}}}"#, self.built.get()).into_bytes())
    }
    fn idempotent(&self) -> bool {
        true
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
fn the_body_is_built_once_and_every_attempt_signs_the_same_bytes() {
    let attempts = RefCell::new(Vec::new());
    let send = |request: http::Request<Vec<u8>>| {
        let auth = request.headers()["authorization"].to_str().unwrap().to_owned();
        attempts.borrow_mut().push((request.body().clone(), auth));
        Ok(if attempts.borrow().len() == 1 {
            unsigned(500, r#"{"code":"SYSTEM_ERROR","message":"x"}"#)
        } else {
            let body = br#"{"ok":true}"#;
            response(StatusCode::OK, &signed_headers(body, unix_now(), By::PublicKey), body)
        })
    };
    let op = CountedBody { built: std::cell::Cell::new(0) };
    let answer = driver(RetryPolicy::default()).execute(&send, |_| {}, &op).unwrap();
    assert_eq!(answer, serde_json::json!({"ok": true}));
    let attempts = attempts.into_inner();
    assert_eq!(attempts.len(), 2, "the 500 is retried");
    let expected: &[u8] = br#"{"mchid":"1230000109","build":1}"#;
    assert_eq!(attempts[0].0, expected);
    assert_eq!(attempts[1].0, expected);
    assert_eq!(op.built.get(), 1, "the body is built once per call");
    // Each attempt is still signed afresh (its own nonce), over the same body.
    assert_ne!(attempts[0].1, attempts[1].1);
    // The async loop builds it once per call too.
    let op = CountedBody { built: std::cell::Cell::new(0) };
    let calls = std::sync::Mutex::new(Vec::new());
    let send_async = |request: http::Request<Vec<u8>>| {
        calls.lock().unwrap().push(request.body().clone());
        let first = calls.lock().unwrap().len() == 1;
        let body = br#"{"ok":true}"#;
        let answer = if first {
            unsigned(500, r#"{"code":"SYSTEM_ERROR","message":"x"}"#)
        } else {
            response(StatusCode::OK, &signed_headers(body, unix_now(), By::PublicKey), body)
        };
        std::future::ready(Ok::<_, TransportError>(answer))
    };
    block_on(driver(RetryPolicy::default()).execute_async(&send_async, |_| std::future::ready(()), &op)).unwrap();
    assert_eq!(*calls.lock().unwrap(), [expected, expected]);
    assert_eq!(op.built.get(), 1);
}

#[test]
fn every_failed_attempt_names_its_host_and_what_happened() {
    // Issue 18: the error names the base URL's host the failing attempt went to, in words.
    let refused = || {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        TransportError::new(TransportErrorKind::Connect, io)
    };
    let err = driver(RetryPolicy::none()).execute(&|_r| Err(refused()), |_| {}, &op()).unwrap_err();
    let Error::Transport(t) = &err else { panic!("{err:?}") };
    assert_eq!(t.authority(), Some("primary.test"));
    assert_eq!(err.to_string(), "connection refused by primary.test (primary host)");

    // After failover, the last attempt's host is named: the backup's.
    let err = driver(RetryPolicy::default().with_max_attempts(2))
        .execute(&|_r| Err(TransportError::of_kind(TransportErrorKind::Dns)), |_| {}, &op())
        .unwrap_err();
    assert_eq!(err.to_string(), "could not resolve host backup.test (backup host)");

    // A timeout says after how long; a port stays in the name where it is not a DNS failure.
    let config =
        builder_with(wechatpay_core::crypto::Backend::default()).base_url("http://127.0.0.1:9").build().unwrap();
    let driver =
        Driver::new(config).with_retry_policy(RetryPolicy::none()).with_attempt_timeout(Duration::from_secs(7));
    let err = driver.execute(&|_r| Err(TransportError::of_kind(TransportErrorKind::Timeout)), |_| {}, &op());
    assert_eq!(err.unwrap_err().to_string(), "timed out after 7 s waiting for 127.0.0.1:9 (primary host)");
    let reset =
        || TransportError::new(TransportErrorKind::Io, std::io::Error::from(std::io::ErrorKind::ConnectionReset));
    let err = driver.execute(&|_r| Err(reset()), |_| {}, &op()).unwrap_err();
    assert_eq!(err.to_string(), "connection reset by 127.0.0.1:9 (primary host)");
}

#[test]
fn an_unknown_serial_names_the_keys_that_are_configured() {
    // Issue 18: the answer's Wechatpay-Serial is not held; the error lists the ids that are.
    let send = |_r: http::Request<Vec<u8>>| {
        let mut answer = seed_answer();
        answer.headers_mut().insert("Wechatpay-Serial", http::HeaderValue::from_static("PUB_KEY_ID_SOMEONE_ELSE"));
        Ok(answer)
    };
    let err = driver(RetryPolicy::none()).execute(&send, |_| {}, &op()).unwrap_err();
    let Error::Verification(v) = &err else { panic!("{err:?}") };
    assert_eq!(v.key_ids, [PUB_KEY_ID.to_owned(), PLATFORM_SERIAL.to_owned()]);
    let text = err.to_string();
    assert!(text.contains("PUB_KEY_ID_SOMEONE_ELSE"), "{text}");
    assert!(text.contains(&format!("the keys configured are {PUB_KEY_ID}, {PLATFORM_SERIAL}")), "{text}");
}
