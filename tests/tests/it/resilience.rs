//! Retries, failover, timeouts and the body cap, through both adapters over loopback HTTP.

use std::time::Duration;

use wechatpay_core::DEFAULT_MAX_BODY_BYTES;
use wechatpay_core::{Error, Host, TransportErrorKind, retry::RetryPolicy};
use wechatpay_tests::*;

#[test]
fn two_system_errors_then_success_takes_three_attempts() {
    for adapter in ADAPTERS {
        let sim = sim();
        // The real default policy: 3 attempts, 200 ms base backoff.
        let client = TestClient::with_defaults(adapter, config(&sim));
        sim.inject(Fault::SystemError, Times::Next(2), None);
        let order = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap();
        assert_eq!(order.trade_state.as_str(), "SUCCESS", "{adapter:?}");
        assert_eq!(sim.requests_seen(), 3, "{adapter:?}");
    }
}

#[test]
fn three_system_errors_exhaust_the_attempts() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(30));
        sim.inject(Fault::SystemError, Times::Always, None);
        let err = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap_err();
        assert!(matches!(&err, Error::Api(e) if e.status.as_u16() == 500), "{adapter:?}: {err:?}");
        assert_eq!(sim.requests_seen(), 3, "{adapter:?}");
    }
}

#[test]
fn rate_limits_gateway_pages_and_dropped_connections_are_retried() {
    for adapter in ADAPTERS {
        for fault in [Fault::RateLimited, Fault::HtmlBadGateway, Fault::DropConnection] {
            let sim = sim();
            let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(30));
            sim.inject(fault.clone(), Times::Next(1), None);
            let order = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO));
            assert!(order.is_ok(), "{adapter:?} {fault:?}: {order:?}");
            assert_eq!(sim.requests_seen(), 2, "{adapter:?} {fault:?}");
        }
    }
}

#[test]
fn a_dropped_connection_is_an_io_error() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), RetryPolicy::none(), Duration::from_secs(30));
        sim.inject(Fault::DropConnection, Times::Next(1), None);
        match client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)) {
            Err(Error::Transport(t)) => {
                assert_eq!(t.kind(), TransportErrorKind::Io, "{adapter:?}: {t:?}");
                assert_eq!(t.host(), Some(Host::Primary), "{adapter:?}");
            }
            other => panic!("{adapter:?}: expected a transport error, got {other:?}"),
        }
    }
}

#[test]
fn client_errors_are_never_retried() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(30));
        let err = client.execute(&by_out_trade_no("NO_SUCH_ORDER")).unwrap_err();
        assert!(matches!(&err, Error::Api(e) if e.status.as_u16() == 404), "{adapter:?}: {err:?}");
        assert_eq!(sim.requests_seen(), 1, "{adapter:?}");
    }
}

#[test]
fn a_closed_primary_fails_over_to_the_backup() {
    for adapter in ADAPTERS {
        let sim = sim();
        let config = sim.config_builder().base_url(closed_url()).backup_url(sim.base_url()).build().unwrap();
        let client = TestClient::with_defaults(adapter, config);
        let order = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap();
        assert_eq!(order.trade_state.as_str(), "SUCCESS", "{adapter:?}");
        assert_eq!(sim.requests_seen(), 1, "{adapter:?}: only the backup saw a request");
    }
}

#[test]
fn without_failover_a_closed_primary_is_a_connect_error() {
    for adapter in ADAPTERS {
        let sim = sim();
        let config = sim.config_builder().base_url(closed_url()).backup_url(sim.base_url()).build().unwrap();
        let client = TestClient::new(adapter, config, fast_retries().without_failover(), Duration::from_secs(30));
        match client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)) {
            Err(Error::Transport(t)) => {
                assert_eq!(t.kind(), TransportErrorKind::Connect, "{adapter:?}: {t:?}");
                assert_eq!(t.host(), Some(Host::Primary), "{adapter:?}");
            }
            other => panic!("{adapter:?}: expected a connect error, got {other:?}"),
        }
        assert_eq!(sim.requests_seen(), 0, "{adapter:?}");
    }
}

#[test]
fn a_hang_is_cut_by_the_attempt_timeout() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), RetryPolicy::none(), Duration::from_millis(300));
        sim.inject(Fault::Hang, Times::Next(1), None);
        let err = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap_err();
        assert!(err.is_timeout(), "{adapter:?}: {err:?}");
    }
}

#[test]
fn a_hang_fails_over_and_the_backup_answers() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_millis(300));
        sim.inject(Fault::Hang, Times::Next(1), None);
        let order = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO));
        assert!(order.is_ok(), "{adapter:?}: {order:?}");
        assert_eq!(sim.requests_seen(), 2, "{adapter:?}");
    }
}

#[test]
fn the_policy_deadline_bounds_the_whole_call() {
    for adapter in ADAPTERS {
        let sim = sim();
        let policy = fast_retries().with_deadline(Duration::from_millis(300));
        // The per-attempt timeout alone would wait 30 s; the deadline cuts it.
        let client = TestClient::new(adapter, config(&sim), policy, Duration::from_secs(30));
        sim.inject(Fault::Hang, Times::Always, None);
        let err = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap_err();
        assert!(err.is_timeout(), "{adapter:?}: {err:?}");
        assert_eq!(sim.requests_seen(), 1, "{adapter:?}: no retry starts after the deadline");
    }
}

#[test]
fn an_oversized_body_is_refused() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), RetryPolicy::none(), Duration::from_secs(30));
        sim.inject(Fault::OversizedBody(64 << 20), Times::Next(1), None);
        let err = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit: DEFAULT_MAX_BODY_BYTES }), "{adapter:?}: {err:?}");
        // The client still works afterwards.
        assert!(client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).is_ok(), "{adapter:?}");
    }
}

#[test]
fn a_body_over_a_small_cap_is_refused() {
    for adapter in ADAPTERS {
        let sim = sim();
        let config = sim.config_builder().max_body_bytes(64).build().unwrap();
        let client = TestClient::new(adapter, config, RetryPolicy::none(), Duration::from_secs(30));
        let err = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit: 64 }), "{adapter:?}: {err:?}");
    }
}
