//! Transport faults the simulator does not produce (a closed port, unsigned errors,
//! oversized and chunked bodies, redirects, a silent server), served byte for byte by the
//! canned server of `wechatpay_tests::canned`, through every adapter.

use std::sync::atomic::Ordering;
use std::time::Duration;

use wechatpay_core::{Error, Host, TransportErrorKind, retry::RetryPolicy};
use wechatpay_tests::canned::{
    hang, huge_chunked, huge_content_length, query, redirect, serve, transport_config, unsigned_400, unsigned_500,
};
use wechatpay_tests::{ADAPTERS, Adapter, TestClient, closed_url};

fn client(adapter: Adapter, base: &str, backup: &str, policy: RetryPolicy) -> TestClient {
    TestClient::new(adapter, transport_config(base, backup, 1024), policy, Duration::from_secs(10))
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().with_base_delay(Duration::from_millis(1))
}

#[test]
fn closed_port_is_a_connect_error_on_the_primary() {
    for adapter in ADAPTERS {
        let c = client(adapter, &closed_url(), &closed_url(), RetryPolicy::none());
        let err = c.execute(&query()).unwrap_err();
        let Error::Transport(t) = &err else { panic!("{adapter:?}: {err:?}") };
        assert_eq!(t.kind(), TransportErrorKind::Connect, "{adapter:?}: {err:?}");
        assert_eq!(t.host(), Some(Host::Primary), "{adapter:?}");
    }
}

#[test]
fn connect_errors_fail_over_and_end_on_the_policy() {
    for adapter in ADAPTERS {
        let c = client(adapter, &closed_url(), &closed_url(), quick_retries());
        let err = c.execute(&query()).unwrap_err();
        let Error::Transport(t) = &err else { panic!("{adapter:?}: {err:?}") };
        assert_eq!(t.kind(), TransportErrorKind::Connect, "{adapter:?}: {err:?}");
        // 3 attempts: primary, backup, primary.
        assert_eq!(t.host(), Some(Host::Primary), "{adapter:?}");
    }
}

#[test]
fn system_errors_are_retried_until_attempts_run_out() {
    for adapter in ADAPTERS {
        let (url, count) = serve(3, unsigned_500);
        let c = client(adapter, &url, &url, quick_retries());
        let err = c.execute(&query()).unwrap_err();
        let Error::Api(api) = &err else { panic!("{adapter:?}: {err:?}") };
        assert_eq!((api.status.as_u16(), api.code.as_str(), api.verified), (500, "SYSTEM_ERROR", false), "{adapter:?}");
        assert_eq!(api.request_id.as_deref(), Some("rid-500"), "{adapter:?}");
        assert_eq!(count.load(Ordering::SeqCst), 3, "{adapter:?}");
    }
}

#[test]
fn client_errors_are_not_retried() {
    for adapter in ADAPTERS {
        let (url, count) = serve(1, unsigned_400);
        let c = client(adapter, &url, &url, RetryPolicy::default());
        let err = c.execute(&query()).unwrap_err();
        let Error::Api(api) = &err else { panic!("{adapter:?}: {err:?}") };
        assert_eq!((api.status.as_u16(), api.field()), (400, Some("mchid")), "{adapter:?}");
        assert_eq!(count.load(Ordering::SeqCst), 1, "{adapter:?}");
    }
}

#[test]
fn a_large_content_length_is_refused() {
    for adapter in ADAPTERS {
        let (url, _) = serve(1, huge_content_length);
        let c = client(adapter, &url, &url, RetryPolicy::none());
        let err = c.execute(&query()).unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit: 1024 }), "{adapter:?}: {err:?}");
    }
}

#[test]
fn a_large_chunked_body_is_refused_while_reading() {
    for adapter in ADAPTERS {
        let (url, _) = serve(1, huge_chunked);
        let c = client(adapter, &url, &url, RetryPolicy::none());
        let err = c.execute(&query()).unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit: 1024 }), "{adapter:?}: {err:?}");
    }
}

#[test]
fn redirects_are_not_followed() {
    for adapter in ADAPTERS {
        let (url, count) = serve(1, redirect);
        let c = client(adapter, &url, &url, RetryPolicy::none());
        let err = c.execute(&query()).unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(302), "{adapter:?}: {err:?}");
        assert_eq!(count.load(Ordering::SeqCst), 1, "{adapter:?}");
    }
}

#[test]
fn a_hang_is_cut_by_the_attempt_timeout() {
    for adapter in ADAPTERS {
        let (url, _) = serve(1, hang);
        let c = TestClient::new(
            adapter,
            transport_config(&url, &url, 1024),
            RetryPolicy::none(),
            Duration::from_millis(300),
        );
        let err = c.execute(&query()).unwrap_err();
        assert!(err.is_timeout(), "{adapter:?}: {err:?}");
    }
}

#[test]
fn debug_shows_no_secrets() {
    for adapter in ADAPTERS {
        let c = client(adapter, &closed_url(), &closed_url(), RetryPolicy::none());
        let text = c.debug_text();
        assert!(text.contains("[redacted]") && text.contains("1230000109"), "{adapter:?}: {text}");
    }
}
