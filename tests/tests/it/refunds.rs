//! Refunds end to end through both adapters against the simulator (issue 20): create, query,
//! watch to `SUCCESS`, the `REFUND.SUCCESS` notification received on loopback and parsed by
//! the core's `Receiver` at one `notify_url` with payments, and `ABNORMAL` → abnormal apply
//! (fields OAEP-encrypted by the core) → `SUCCESS`; direct and partner.

use std::time::Duration;

use serde_json::json;
use wechatpay_core::api::{
    ApplyAbnormalRefund, CreateRefund, QueryRefund, RefundOrder, RefundRequestAmount, SensitiveField,
};
use wechatpay_core::model::{Fen, RefundStatus};
use wechatpay_core::notify::{EventType, Receiver, Resource};
use wechatpay_core::watch::{WatchEnd, WatchPolicy};
use wechatpay_core::{ApiV3Key, NotifyUrl, OutRefundNo, PublicKey, RefundId, SubMchId};
use wechatpay_sim::{NotifySink, RefundMode};
use wechatpay_tests::*;

fn refund_sim(mode: RefundMode) -> Simulator {
    Simulator::builder().notify_time_scale(0.01).refunds(mode).start().expect("simulator starts")
}

/// A paid order for 200 fen: direct, or partner for [`SUB_MCHID`].
fn paid(sim: &Simulator, partner: bool, no: &str) {
    let mut order = json!({"out_trade_no": no, "trade_state": "SUCCESS", "amount": {"total": 200, "currency": "CNY"}});
    let kind = if partner {
        order["sub_mchid"] = SUB_MCHID.into();
        OrderKind::Partner
    } else {
        OrderKind::Direct
    };
    sim.create_order(kind, order, None).expect("order");
}

fn sub() -> SubMchId {
    SubMchId::new(SUB_MCHID).expect("sub_mchid")
}

fn quick() -> WatchPolicy {
    WatchPolicy::default().with_fixed_interval(Duration::from_millis(100)).with_deadline(Duration::from_secs(10))
}

#[test]
fn create_watch_and_notification_in_both_modes_through_both_adapters() {
    for adapter in ADAPTERS {
        for partner in [false, true] {
            let sim = refund_sim(RefundMode::Auto);
            let cfg = config(&sim);
            let client = TestClient::with_defaults(adapter, cfg.clone());
            paid(&sim, partner, "E2E_REFUND_1");
            let got = NotifySink::start().unwrap();
            let url = got.url().to_owned();
            let mut op = CreateRefund::new(
                RefundOrder::OutTradeNo("E2E_REFUND_1".parse().expect("no")),
                OutRefundNo::new("E2E-R-1").expect("no"),
                RefundRequestAmount::new(Fen(50), Fen(200)).expect("amount"),
            )
            .with_notify_url(NotifyUrl::new(url).expect("url"));
            let mut query = QueryRefund::new(OutRefundNo::new("E2E-R-1").expect("no"));
            if partner {
                op = op.with_sub_mchid(sub());
                query = query.with_sub_mchid(sub());
            }
            let created = client.execute(&op).expect("created");
            assert_eq!(created.status, RefundStatus::Processing, "{adapter:?} partner={partner}");
            // A retry of the identical body is the same refund.
            assert_eq!(client.execute(&op).expect("again").refund_id, created.refund_id);

            let (outcome, _) = client.watch(&query, &quick());
            let outcome = outcome.expect("watched");
            assert_eq!(outcome.end, WatchEnd::Final, "{adapter:?} partner={partner}");
            assert_eq!(outcome.order.status, RefundStatus::Success);
            assert_eq!(client.execute(&query).expect("query").refund_id, created.refund_id);
            assert_eq!(
                sim.order(if partner { OrderKind::Partner } else { OrderKind::Direct }, "E2E_REFUND_1").expect("order")
                    ["trade_state"],
                "REFUND"
            );

            // One receiver, no kind named, as for payments at the same notify_url.
            let receiver = Receiver::from_config(&cfg, ApiV3Key::new(sim.apiv3_key()).expect("key"));
            let request = got.next(Duration::from_secs(10)).expect("a refund notification");
            let n = receiver.receive_request(&request).expect("verified");
            assert_eq!(n.event_type, EventType::RefundSuccess);
            let Resource::Refund(notice) = &n.resource else { panic!("{:?}", n.resource) };
            assert_eq!(notice.is_partner(), partner);
            assert_eq!((notice.refund_id.as_str(), notice.amount.refund), (created.refund_id.as_str(), Fen(50)));
        }
    }
}

#[test]
fn an_abnormal_refund_is_applied_for_and_then_succeeds_through_both_adapters() {
    for adapter in ADAPTERS {
        for partner in [false, true] {
            let sim = refund_sim(RefundMode::Manual);
            let client = TestClient::with_defaults(adapter, config(&sim));
            paid(&sim, partner, "E2E_REFUND_2");
            let mut op = CreateRefund::new(
                RefundOrder::OutTradeNo("E2E_REFUND_2".parse().expect("no")),
                OutRefundNo::new("E2E-R-2").expect("no"),
                RefundRequestAmount::new(Fen(200), Fen(200)).expect("amount"),
            );
            let mut query = QueryRefund::new(OutRefundNo::new("E2E-R-2").expect("no"));
            if partner {
                op = op.with_sub_mchid(sub());
                query = query.with_sub_mchid(sub());
            }
            let created = client.execute(&op).expect("created");
            sim.set_refund_status("E2E-R-2", "ABNORMAL").expect("abnormal");
            let (outcome, _) = client.watch(&query, &quick());
            assert_eq!(outcome.expect("watched").order.status, RefundStatus::Abnormal, "{adapter:?}");

            let creds = sim.credentials();
            let key = PublicKey::from_pem(creds.wechatpay_public_key_pem().as_bytes()).expect("key");
            let field = |t: &str| {
                SensitiveField::encrypt(creds.wechatpay_public_key_id(), &key, t.as_bytes()).expect("encrypted")
            };
            let mut apply = ApplyAbnormalRefund::user_bank_card(
                RefundId::new(created.refund_id.clone()).expect("id"),
                OutRefundNo::new("E2E-R-2").expect("no"),
                "CMB_DEBIT",
                field("6214830000000403"),
                field("李四"),
            )
            .expect("apply");
            if partner {
                apply = apply.with_sub_mchid(sub());
            }
            let applied = client.execute(&apply).expect("applied");
            assert_eq!(
                (applied.status, applied.user_received_account.as_deref()),
                (RefundStatus::Processing, Some("CMB_DEBIT0403"))
            );
            sim.set_refund_status("E2E-R-2", "SUCCESS").expect("success");
            let (outcome, _) = client.watch(&query, &quick());
            let done = outcome.expect("watched").order;
            assert_eq!(done.status, RefundStatus::Success, "{adapter:?} partner={partner}");
            assert!(done.success_time.is_some());
        }
    }
}
