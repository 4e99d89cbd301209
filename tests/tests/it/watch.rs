//! Closing and watching orders through both adapters against the simulator, whose orders
//! change state over time: pending → final, pending → deadline, pending → closed at the
//! deadline, paid before the deadline, an unknown state, and the close endpoints themselves.

use std::time::Duration;

use wechatpay_core::api::{CloseOrder, ClosePartnerOrder};
use wechatpay_core::watch::{WatchEnd, WatchPolicy};
use wechatpay_core::{Error, OutTradeNo, SubMchId};
use wechatpay_tests::*;

const NOTPAY: &str = "SIM_NOTPAY_0001";

/// Quick watches: asked every 100 ms (the floor) for at most `deadline_ms`.
fn quick(deadline_ms: u64) -> WatchPolicy {
    WatchPolicy::default()
        .with_fixed_interval(Duration::from_millis(100))
        .with_deadline(Duration::from_millis(deadline_ms))
}

fn close_op(no: &str) -> CloseOrder {
    CloseOrder { out_trade_no: OutTradeNo::new(no).expect("valid out_trade_no") }
}

#[test]
fn close_closes_an_unpaid_order_and_refuses_a_paid_one() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::with_defaults(adapter, config(&sim));
        client.close(&close_op(NOTPAY)).unwrap();
        let order = client.execute(&by_out_trade_no(NOTPAY)).unwrap();
        assert_eq!(order.trade_state.as_str(), "CLOSED", "{adapter:?}");
        // Reentrant: closing again is fine.
        client.close(&close_op(NOTPAY)).unwrap();

        let err = client.close(&close_op(SEED_OUT_TRADE_NO)).unwrap_err();
        assert_eq!(err.api_code(), Some("ORDER_PAID"), "{adapter:?}");
        let err = client.close(&close_op("NO_SUCH_ORDER")).unwrap_err();
        assert_eq!(err.api_code(), Some("ORDER_NOT_EXIST"), "{adapter:?}");

        let partner = ClosePartnerOrder {
            sub_mchid: SubMchId::new(SUB_MCHID).unwrap(),
            out_trade_no: OutTradeNo::new(SEED_OUT_TRADE_NO).unwrap(),
        };
        assert!(matches!(client.close(&partner), Err(Error::Api(e)) if e.code.as_str() == "ORDER_PAID"), "{adapter:?}");
        assert_eq!(sim.requests_for(Route::CloseDirect), 4, "{adapter:?}");
        assert_eq!(sim.requests_for(Route::ClosePartner), 1, "{adapter:?}");
    }
}

#[test]
fn a_close_that_hits_a_busy_server_is_retried() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(5));
        sim.inject(Fault::SystemError, Times::Next(1), Some(Route::CloseDirect));
        client.close(&close_op(NOTPAY)).unwrap();
        assert_eq!(sim.requests_for(Route::CloseDirect), 2, "{adapter:?}: closing is idempotent, so retried");
    }
}

#[test]
fn pending_becomes_final() {
    for adapter in ADAPTERS {
        let sim = sim();
        sim.pay_after_queries(OrderKind::Direct, NOTPAY, 2).unwrap();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let (outcome, states) = client.watch(&by_out_trade_no(NOTPAY), &quick(10_000));
        let outcome = outcome.unwrap();
        assert_eq!((outcome.end, outcome.queries), (WatchEnd::Final, 3), "{adapter:?}");
        assert_eq!(outcome.order.trade_state.as_str(), "SUCCESS");
        assert!(outcome.order.transaction_id.is_some(), "a paid order has a transaction id");
        assert_eq!(states, ["NOTPAY", "SUCCESS"], "{adapter:?}");
    }
}

#[test]
fn pending_until_the_deadline() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let outcome = client.watch(&by_out_trade_no(NOTPAY), &quick(300)).0.unwrap();
        assert_eq!((outcome.end, outcome.order.trade_state.as_str()), (WatchEnd::Deadline, "NOTPAY"), "{adapter:?}");
        assert!(outcome.queries >= 3, "{adapter:?}: {} queries", outcome.queries);
        assert!(outcome.elapsed < Duration::from_secs(5), "{adapter:?}");
        assert_eq!(sim.requests_for(Route::CloseDirect), 0, "{adapter:?}: never closed unless asked");
    }
}

#[test]
fn unpaid_at_the_deadline_is_closed_and_confirmed() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let (outcome, states) = client.watch(&by_out_trade_no(NOTPAY), &quick(200).with_close_if_unpaid(true));
        let outcome = outcome.unwrap();
        assert_eq!((outcome.end, outcome.order.trade_state.as_str()), (WatchEnd::Closed, "CLOSED"), "{adapter:?}");
        assert_eq!(states, ["NOTPAY", "CLOSED"], "{adapter:?}");
        assert_eq!(sim.requests_for(Route::CloseDirect), 1, "{adapter:?}");
    }
}

#[test]
fn paid_before_the_deadline_is_final_and_never_closed() {
    for adapter in ADAPTERS {
        let sim = sim();
        sim.add_order(
            OrderKind::Partner,
            serde_json::json!({"sp_mchid": "1230000109", "sub_mchid": SUB_MCHID, "out_trade_no": "SIM_P_NOTPAY",
                "trade_state": "NOTPAY", "trade_state_desc": "未支付"}),
        )
        .unwrap();
        sim.pay_after(OrderKind::Partner, "SIM_P_NOTPAY", Duration::from_millis(250)).unwrap();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let policy = quick(5_000).with_close_if_unpaid(true);
        let (outcome, states) = client.watch(&partner_by_out_trade_no(SUB_MCHID, "SIM_P_NOTPAY"), &policy);
        let outcome = outcome.unwrap();
        assert_eq!((outcome.end, outcome.order.trade_state.as_str()), (WatchEnd::Final, "SUCCESS"), "{adapter:?}");
        assert_eq!(states, ["NOTPAY", "SUCCESS"], "{adapter:?}");
        // The delay runs from scheduling, before the client existed: only the bound is sure.
        assert!(outcome.elapsed < Duration::from_secs(4), "{adapter:?}");
        assert_eq!(sim.requests_for(Route::ClosePartner), 0, "{adapter:?}");
    }
}

#[test]
fn an_unknown_state_stops_the_watch() {
    for adapter in ADAPTERS {
        let sim = sim();
        sim.schedule(OrderKind::Direct, NOTPAY, "SOMETHING_NEW", After::Queries(1)).unwrap();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let outcome = client.watch(&by_out_trade_no(NOTPAY), &quick(10_000).with_close_if_unpaid(true)).0.unwrap();
        assert_eq!((outcome.end, outcome.order.trade_state.as_str()), (WatchEnd::Unknown, "SOMETHING_NEW"));
        assert_eq!(sim.requests_for(Route::DirectByOutTradeNo), 2, "{adapter:?}");
    }
}

#[test]
fn parking_and_transaction_id_watches() {
    for adapter in ADAPTERS {
        let sim = sim();
        sim.pay_after_queries(OrderKind::Parking, "SIM_PARKING_0001", 1).unwrap();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let outcome = client.watch(&parking("SIM_PARKING_0001", None), &quick(10_000).with_close_if_unpaid(true)).0;
        let outcome = outcome.unwrap();
        assert_eq!((outcome.end, outcome.order.trade_state.as_str()), (WatchEnd::Final, "SUCCESS"), "{adapter:?}");

        // A watch by transaction id of a final order is one query.
        let outcome = client.watch(&by_transaction_id("4200000985202103031441826014"), &quick(10_000)).0.unwrap();
        assert_eq!((outcome.end, outcome.queries), (WatchEnd::Final, 1), "{adapter:?}");
    }
}

#[test]
fn a_query_error_ends_the_watch() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let err = client.watch(&by_out_trade_no("NO_SUCH_ORDER"), &quick(10_000)).0.unwrap_err();
        assert_eq!(err.api_code(), Some("ORDER_NOT_EXIST"), "{adapter:?}");
        sim.inject(Fault::TamperedBody, Times::Always, Some(Route::DirectByOutTradeNo));
        let err = client.watch(&by_out_trade_no(NOTPAY), &quick(10_000)).0.unwrap_err();
        assert!(matches!(err, Error::Verification(_)), "{adapter:?}: {err:?}");
    }
}
