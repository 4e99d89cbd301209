//! Refund notifications (spec §15) against known answers made by Python's `cryptography`
//! package (`tests/data/notifications/make.py`; `python3 make.py` with cryptography 48.0.0),
//! on every backend compiled in: typed as `RefundNotice` by the event alone, whatever AAD
//! the envelope names (`refund`, empty), merchant ids checked, and a refund receiver.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use http::Request;
use serde_json::Value;
use wechatpay_core::model::{Fen, RefundStatus};
use wechatpay_core::notify::{EventType, Kind, Notification, NotificationError, Receiver, Resource};
use wechatpay_core::{ApiV3Key, KeyStore, MchId, SubMchId};

use crate::common::{PLATFORM_SERIAL, PUB_KEY_ID, backends, data};

const NOW: u64 = 1554208460;

fn request(case: &str) -> Request<Vec<u8>> {
    let mut builder = Request::post("/notify");
    for line in String::from_utf8(data(&format!("notifications/{case}.headers"))).unwrap().lines() {
        let (name, value) = line.split_once(": ").unwrap();
        builder = builder.header(name, value);
    }
    builder.body(data(&format!("notifications/{case}.body"))).unwrap()
}

fn plain(case: &str) -> Value {
    serde_json::from_slice(&data(&format!("notifications/{case}.plain"))).unwrap()
}

/// `case` received on every backend by a receiver for merchant `mchid`, restricted to `kind`
/// and `sub` when given; all backends must agree.
fn receive(case: &str, mchid: &str, kind: Option<Kind>, sub: Option<&str>) -> Result<Notification, NotificationError> {
    let outcomes: Vec<_> = backends()
        .into_iter()
        .map(|b| {
            let mut keys = KeyStore::with_backend(b);
            keys.add_public_key(PUB_KEY_ID, &data("wechatpay_pub.pem")).unwrap();
            keys.add_platform_certificates(&data("platform_cert.pem")).unwrap();
            let path = format!("{}/tests/data/notifications/apiv3_key.txt", env!("CARGO_MANIFEST_DIR"));
            let key = ApiV3Key::from_file(path).unwrap().with_backend(b);
            let mut r = Receiver::new(keys, key, MchId::new(mchid).unwrap())
                .clock(|| SystemTime::UNIX_EPOCH + Duration::from_secs(NOW));
            if let Some(kind) = kind {
                r = r.kind(kind);
            }
            if let Some(sub) = sub {
                r = r.sub_merchant(SubMchId::new(sub).unwrap());
            }
            r.receive_request(&request(case))
        })
        .collect();
    for other in &outcomes[1..] {
        assert_eq!(other, &outcomes[0], "the backends disagree");
    }
    outcomes.into_iter().next().unwrap()
}

const OURS: &str = "1230000109";

fn notice(n: &Notification) -> &wechatpay_core::model::RefundNotice {
    match &n.resource {
        Resource::Refund(r) => r,
        other => panic!("not a refund: {other:?}"),
    }
}

#[test]
fn the_documented_refund_notification_is_typed_by_itself() {
    for kind in [None, Some(Kind::Refund)] {
        let n = receive("refund_success", OURS, kind, None).unwrap();
        assert_eq!(n.event_type, EventType::RefundSuccess);
        assert!(n.event_type.is_refund() && !n.event_type.is_transaction());
        assert_eq!((n.original_type.as_deref(), n.summary.as_str()), (Some("refund"), "退款成功"));
        assert_eq!(n.resource.kind(), Some(Kind::Refund));
        let r = notice(&n);
        assert_eq!(r.mchid.as_deref(), Some(OURS));
        assert!(!r.is_partner());
        assert_eq!(r.refund_status, RefundStatus::Success);
        assert_eq!(
            (r.out_trade_no.as_str(), r.transaction_id.as_str()),
            ("ORDER_20230408144355425", "4200001736202304084431828716")
        );
        assert_eq!(
            (r.out_refund_no.as_str(), r.refund_id.as_str()),
            ("REFUND20230412121456353", "50301405352023041233178680856")
        );
        assert_eq!(r.success_time.as_ref().map(|t| t.as_str()), Some("2023-04-12T12:15:06+08:00"));
        assert_eq!(r.user_received_account.as_deref(), Some("支付用户零钱"));
        let a = &r.amount;
        assert_eq!((a.total, a.refund, a.payer_total, a.payer_refund), (Fen(1), Fen(1), Some(Fen(1)), Some(Fen(1))));
        assert_eq!(serde_json::to_value(r).unwrap(), plain("refund_success"));
    }
}

#[test]
fn an_empty_associated_data_is_the_aad_used() {
    let envelope: Value = serde_json::from_slice(request("refund_empty_aad").body()).unwrap();
    assert_eq!(envelope["resource"]["associated_data"], "");
    let n = receive("refund_empty_aad", OURS, None, None).unwrap();
    assert_eq!(serde_json::to_value(notice(&n)).unwrap(), plain("refund_empty_aad"));
    // Same plaintext as the `refund` AAD case: only the AAD differs.
    assert_eq!(plain("refund_empty_aad"), plain("refund_success"));
}

#[test]
fn every_final_state_and_the_partner_shape_parse_with_extras_kept() {
    let n = receive("refund_partner_abnormal", OURS, None, Some("1900000109")).unwrap();
    assert_eq!(n.event_type, EventType::RefundAbnormal);
    let r = notice(&n);
    assert!(r.is_partner());
    assert_eq!(
        (r.sp_mchid.as_deref(), r.sub_mchid.as_deref(), r.mchid.as_deref()),
        (Some(OURS), Some("1900000109"), None)
    );
    assert_eq!((r.refund_status.clone(), r.success_time.clone()), (RefundStatus::Abnormal, None));
    assert_eq!(r.extra.get("fund_source").map(|v| v.get()), Some(r#""REFUND_SOURCE_UNSETTLED_FUNDS""#));
    assert_eq!(r.amount.extra.get("new_amount").map(|v| v.get()), Some("4"));
    assert_eq!(serde_json::to_value(r).unwrap(), plain("refund_partner_abnormal"));
    // Signed with the platform certificate's key.
    assert_eq!(request("refund_partner_abnormal").headers()["wechatpay-serial"], PLATFORM_SERIAL);

    let n = receive("refund_closed", OURS, Some(Kind::Refund), None).unwrap();
    assert_eq!(
        (n.event_type.clone(), notice(&n).refund_status.clone()),
        (EventType::RefundClosed, RefundStatus::Closed)
    );
    assert_eq!(notice(&n).success_time, None);
}

#[test]
fn refunds_of_another_merchant_are_refused() {
    let wrong = |field| Err(NotificationError::WrongMerchant { field });
    for kind in [None, Some(Kind::Refund)] {
        assert_eq!(receive("refund_other_merchant", OURS, kind, None), wrong("mchid"));
        assert_eq!(receive("refund_success", "1230000110", kind, None), wrong("mchid"));
        assert_eq!(receive("refund_partner_abnormal", "1230000110", kind, None), wrong("sp_mchid"));
        // Restricted to a sub-merchant: another one's refund, and a direct refund, are refused.
        assert_eq!(receive("refund_partner_abnormal", OURS, kind, Some("1900000110")), wrong("sub_mchid"));
        assert_eq!(receive("refund_success", OURS, kind, Some("1900000109")), wrong("sub_mchid"));
    }
}

#[test]
fn a_refund_receiver_refuses_payments_and_payment_receivers_keep_refunds_untyped() {
    for case in ["direct_success", "partner_success", "parking_success"] {
        let e = receive(case, OURS, Some(Kind::Refund), None).unwrap_err();
        assert!(matches!(e, NotificationError::WrongKind { expected: Kind::Refund, .. }), "{case}: {e:?}");
    }
    assert_eq!(
        receive("direct_success", OURS, Some(Kind::Refund), None).unwrap_err().to_string(),
        "notification rejected (another kind): a direct resource at a receiver of refund notifications"
    );
    // Events of no kind stay untyped there too.
    let n = receive("security_echo", OURS, Some(Kind::Refund), None).unwrap();
    assert_eq!(n.resource, Resource::Other(plain("security_echo")));
    // A receiver of one payment kind keeps refunds as the JSON they are (its merchant checked).
    let n = receive("refund_success", OURS, Some(Kind::Direct), None).unwrap();
    assert_eq!(n.resource, Resource::Other(plain("refund_success")));
    // One notify_url for both: an unnamed receiver takes the payment and the refund, typed.
    assert!(matches!(receive("direct_success", OURS, None, None).unwrap().resource, Resource::Transaction(_)));
    assert!(matches!(receive("refund_success", OURS, None, None).unwrap().resource, Resource::Refund(_)));
    assert_eq!(Kind::Refund.to_string(), "refund");
}
