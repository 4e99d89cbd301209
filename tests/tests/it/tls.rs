//! TLS end to end: both adapters against the simulator in HTTPS mode. A trusted CA gets
//! verified answers; a certificate for another name or from an untrusted CA is a transport
//! error on the primary, never an answer, and nothing reaches the server.
//!
//! A TLS failure is `TransportErrorKind::Tls` and fails over like a connect error. (Both
//! adapters once got this wrong: reqwest's rustls `InvalidData` error sits inside the payload
//! of an outer `io::Error`, which `Error::source` skips; ureq returns `Error::Io` wrapping the
//! `rustls::Error`, not `Error::Rustls`.)

use std::time::Duration;

use wechatpay_core::{Error, Host, TransportErrorKind, retry::RetryPolicy};
use wechatpay_tests::*;

fn tls_sim() -> Simulator {
    Simulator::builder().tls(true).start().expect("HTTPS simulator starts")
}

fn ca(sim: &Simulator) -> &str {
    sim.ca_certificate_pem().expect("a CA in HTTPS mode")
}

/// `https://localhost:PORT`: the simulator's certificate names only `127.0.0.1`.
fn wrong_name_url(sim: &Simulator) -> String {
    format!("https://localhost:{}", sim.addr().port())
}

/// Asserts a transport error on the primary host (whatever its kind): never an answer.
fn assert_refused<T: std::fmt::Debug>(adapter: Adapter, what: &str, result: Result<T, Error>) {
    match result {
        Err(Error::Transport(t)) => assert_eq!(t.host(), Some(Host::Primary), "{adapter:?} {what}"),
        other => panic!("{adapter:?} {what}: expected a transport error, got {other:?}"),
    }
}

/// Asserts a TLS transport error on the primary host.
fn assert_tls_error<T: std::fmt::Debug>(adapter: Adapter, what: &str, result: Result<T, Error>) {
    match result {
        Err(Error::Transport(t)) => {
            assert_eq!(t.kind(), TransportErrorKind::Tls, "{adapter:?} {what}: {t:?}");
            assert_eq!(t.host(), Some(Host::Primary), "{adapter:?} {what}");
            assert!(t.kind().is_connection_level(), "{adapter:?} {what}");
        }
        other => panic!("{adapter:?} {what}: expected a TLS error, got {other:?}"),
    }
}

#[test]
fn a_trusted_ca_gets_verified_answers() {
    for adapter in ADAPTERS {
        let sim = tls_sim();
        assert!(sim.base_url().starts_with("https://127.0.0.1:"));
        let client =
            TestClient::trusting(adapter, config(&sim), RetryPolicy::none(), Duration::from_secs(10), &[ca(&sim)]);
        let order = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).expect("query over TLS");
        assert_eq!(order.trade_state.as_str(), "SUCCESS", "{adapter:?}");
        let again = client.execute(&parking("SIM_PARKING_0001", None)).expect("second query over TLS");
        assert_eq!(again.out_trade_no, "SIM_PARKING_0001", "{adapter:?}");
        assert_eq!(sim.requests_seen(), 2, "{adapter:?}");
    }
}

#[test]
fn a_bad_certificate_is_never_an_answer() {
    for adapter in ADAPTERS {
        let sim = tls_sim();
        let other = tls_sim();
        let op = by_out_trade_no(SEED_OUT_TRADE_NO);
        let timeout = Duration::from_secs(10);
        let url = wrong_name_url(&sim);
        let wrong_name = sim.config_builder().base_url(&url).backup_url(&url).build().expect("config");
        let client = TestClient::trusting(adapter, wrong_name, RetryPolicy::none(), timeout, &[ca(&sim)]);
        assert_refused(adapter, "wrong name", client.execute(&op));
        let client = TestClient::trusting(adapter, config(&sim), RetryPolicy::none(), timeout, &[ca(&other)]);
        assert_refused(adapter, "another CA", client.execute(&op));
        let client = TestClient::new(adapter, config(&sim), RetryPolicy::none(), timeout);
        assert_refused(adapter, "public roots only", client.execute(&op));
        assert_eq!(sim.requests_seen(), 0, "{adapter:?}: nothing crossed a failed handshake");
    }
}

#[test]
fn a_certificate_for_another_name_is_a_tls_error() {
    for adapter in ADAPTERS {
        let sim = tls_sim();
        let url = wrong_name_url(&sim);
        let config = sim.config_builder().base_url(&url).backup_url(&url).build().expect("config");
        let client = TestClient::trusting(adapter, config, RetryPolicy::none(), Duration::from_secs(10), &[ca(&sim)]);
        assert_tls_error(adapter, "wrong name", client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)));
        assert_eq!(sim.requests_seen(), 0, "{adapter:?}: nothing crossed a failed handshake");
    }
}

#[test]
fn an_untrusted_ca_is_a_tls_error() {
    for adapter in ADAPTERS {
        let sim = tls_sim();
        let other = tls_sim();
        let trusting_other =
            TestClient::trusting(adapter, config(&sim), RetryPolicy::none(), Duration::from_secs(10), &[ca(&other)]);
        assert_tls_error(adapter, "another CA", trusting_other.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)));
        // The adapter's own client, with only the public roots.
        let default = TestClient::new(adapter, config(&sim), RetryPolicy::none(), Duration::from_secs(10));
        assert_tls_error(adapter, "public roots only", default.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)));
        assert_eq!(sim.requests_seen(), 0, "{adapter:?}: nothing crossed a failed handshake");
    }
}

#[test]
fn a_tls_failure_fails_over_like_a_connect_error() {
    for adapter in ADAPTERS {
        let sim = tls_sim();
        let config =
            sim.config_builder().base_url(wrong_name_url(&sim)).backup_url(sim.base_url()).build().expect("config");
        let client =
            TestClient::trusting(adapter, config.clone(), fast_retries(), Duration::from_secs(10), &[ca(&sim)]);
        let order = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO));
        assert!(order.is_ok(), "{adapter:?}: {order:?}");
        assert_eq!(sim.requests_seen(), 1, "{adapter:?}: only the backup saw a request");

        // Without failover the retry stays on the primary and the TLS error is final.
        let client = TestClient::trusting(
            adapter,
            config,
            fast_retries().without_failover(),
            Duration::from_secs(10),
            &[ca(&sim)],
        );
        assert_tls_error(adapter, "no failover", client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)));
        assert_eq!(sim.requests_seen(), 1, "{adapter:?}");
    }
}
