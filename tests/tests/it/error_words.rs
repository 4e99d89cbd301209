//! Issue 18: through both adapters, a transport error names the host its attempt went to and
//! says what happened in words a person reads.

use std::time::Duration;

use wechatpay_core::Error;
use wechatpay_tests::*;

#[test]
fn a_closed_port_is_connection_refused_by_its_host() {
    for adapter in ADAPTERS {
        let sim = sim();
        let closed = closed_url();
        let config = sim.config_builder().base_url(closed.clone()).backup_url(closed.clone()).build().unwrap();
        let client = TestClient::new(adapter, config, fast_retries(), Duration::from_secs(30));
        let err = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap_err();
        assert!(matches!(err, Error::Transport(_)), "{adapter:?}: {err:?}");
        let authority = closed.trim_start_matches("http://");
        assert!(err.to_string().starts_with(&format!("connection refused by {authority} (")), "{adapter:?}: {err}");
    }
}

#[test]
fn a_name_that_does_not_resolve_says_so() {
    for adapter in ADAPTERS {
        let sim = sim();
        let bad = "http://wechatpay-tests.invalid";
        let config = sim.config_builder().base_url(bad).backup_url(bad).build().unwrap();
        let client = TestClient::new(adapter, config, fast_retries(), Duration::from_secs(10));
        let err = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap_err();
        assert!(err.to_string().starts_with("could not resolve host wechatpay-tests.invalid ("), "{adapter:?}: {err}");
    }
}
