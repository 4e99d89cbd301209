//! Refunds against the simulator over real loopback HTTP (spec §15): create with every refusal
//! the issue names, idempotency, query, `--refunds auto` completion and `manual` steering
//! through the admin API, `REFUND.*` notifications verified and parsed by the core's
//! `Receiver`, and abnormal apply with fields OAEP-encrypted by the core.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};
use wechatpay_core::api::{
    ApplyAbnormalRefund, CreateRefund, Json, QueryRefund, RefundOrder, RefundRequestAmount, SensitiveField,
};
use wechatpay_core::model::{Fen, RefundStatus};
use wechatpay_core::notify::{EventType, Receiver, Resource};
use wechatpay_core::{ApiV3Key, NotifyUrl, OutRefundNo, PublicKey, RefundId, SubMchId};
use wechatpay_sim::{NotifySink, OrderKind, RefundMode, Simulator};

use crate::common::{self, api_error, call, config};

fn sim(mode: RefundMode) -> Simulator {
    Simulator::builder().notify_time_scale(0.001).refunds(mode).start().unwrap()
}

/// A paid order of `kind` for 100 fen.
fn paid(sim: &Simulator, kind: OrderKind, out_trade_no: &str) -> Value {
    let mut order =
        json!({"out_trade_no": out_trade_no, "trade_state": "SUCCESS", "amount": {"total": 100, "currency": "CNY"}});
    if kind == OrderKind::Partner {
        order["sub_mchid"] = "1900000109".into();
    }
    sim.create_order(kind, order, None).unwrap()
}

fn create(out_trade_no: &str, out_refund_no: &str, refund: i64, total: i64) -> CreateRefund {
    CreateRefund::new(
        RefundOrder::OutTradeNo(out_trade_no.parse().unwrap()),
        OutRefundNo::new(out_refund_no).unwrap(),
        RefundRequestAmount::new(Fen(refund), Fen(total)).unwrap(),
    )
}

fn sub() -> SubMchId {
    SubMchId::new("1900000109").unwrap()
}

/// An admin call over HTTP.
fn admin(sim: &Simulator, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        sim.addr(),
        sim.admin_token(),
        body.len()
    );
    let resp = common::send_raw(sim.addr(), raw.as_bytes()).unwrap();
    (resp.status.as_u16(), serde_json::from_slice(&resp.body).unwrap())
}

fn receiver(sim: &Simulator) -> Receiver {
    Receiver::from_config(&config(sim), ApiV3Key::new(sim.apiv3_key()).unwrap())
}

#[test]
fn a_direct_refund_is_created_completes_by_itself_and_is_notified() {
    let sim = sim(RefundMode::Auto);
    let cfg = config(&sim);
    let order = paid(&sim, OrderKind::Direct, "RF_DIRECT_1");
    let got = NotifySink::start().unwrap();
    let url = got.url().to_owned();
    let op = create("RF_DIRECT_1", "RF-D-1|a@b", 40, 100).with_notify_url(NotifyUrl::new(url.clone()).unwrap());
    let r = call(&sim, &cfg, &op).unwrap();
    assert_eq!(
        (r.status.clone(), r.out_refund_no.as_str(), r.out_trade_no.as_str()),
        (RefundStatus::Processing, "RF-D-1|a@b", "RF_DIRECT_1")
    );
    assert_eq!(r.transaction_id, order["transaction_id"].as_str().unwrap());
    assert_eq!((r.amount.refund, r.amount.total), (Fen(40), Fen(100)));
    assert_eq!(r.refund_id.len(), 29);
    // The order shows the refund.
    assert_eq!(sim.order(OrderKind::Direct, "RF_DIRECT_1").unwrap()["trade_state"], "REFUND");

    // 1 s x 0.001 later it is SUCCESS, notified with AAD `refund` and parsed by the core.
    let request = got.next(Duration::from_secs(10)).expect("a refund notification");
    let envelope: Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(envelope["resource"]["original_type"], "refund");
    assert_eq!(envelope["resource"]["associated_data"], "refund");
    let n = receiver(&sim).receive_request(&request).unwrap();
    assert_eq!((n.event_type.clone(), n.summary.as_str()), (EventType::RefundSuccess, "退款成功"));
    let Resource::Refund(notice) = &n.resource else { panic!("{:?}", n.resource) };
    assert_eq!((notice.mchid.as_deref(), notice.sp_mchid.as_deref()), (Some("1230000109"), None));
    assert_eq!((notice.out_refund_no.as_str(), notice.refund_id.as_str()), ("RF-D-1|a@b", r.refund_id.as_str()));
    assert_eq!(notice.refund_status, RefundStatus::Success);
    assert!(notice.success_time.is_some() && notice.user_received_account.is_some());
    assert_eq!((notice.amount.total, notice.amount.refund), (Fen(100), Fen(40)));

    let q = call(&sim, &cfg, &QueryRefund::new(OutRefundNo::new("RF-D-1|a@b").unwrap())).unwrap();
    assert_eq!(q.status, RefundStatus::Success);
    assert!(q.success_time.is_some());
    assert_eq!(q.user_received_account.as_deref(), Some("支付用户零钱"));

    // The admin log names the refund.
    let (_, log) = admin(&sim, "GET", "/sim/notifications", None);
    let entry = log.as_array().unwrap().iter().find(|e| e["event_type"] == "REFUND.SUCCESS").unwrap();
    assert_eq!(
        (entry["out_refund_no"].as_str(), entry["out_trade_no"].as_str()),
        (Some("RF-D-1|a@b"), Some("RF_DIRECT_1"))
    );
    assert_eq!(entry["id"], n.id.as_str());
}

#[test]
fn refusals_are_the_ones_wechatpay_gives() {
    let sim = sim(RefundMode::Manual);
    let cfg = config(&sim);
    paid(&sim, OrderKind::Direct, "RF_DIRECT_2");
    paid(&sim, OrderKind::Partner, "RF_PARTNER_2");
    sim.create_order(OrderKind::Direct, json!({"out_trade_no": "RF_UNPAID_2", "amount": {"total": 100}}), None)
        .unwrap();
    let refused = |op: &CreateRefund| {
        let e = api_error(call(&sim, &cfg, op));
        (Some(e.status.as_u16()), Some(e.code.as_str().to_owned()))
    };
    let code = |status: u16, code: &str| (Some(status), Some(code.to_owned()));
    assert_eq!(refused(&create("RF_NO_SUCH_ORDER", "R2-0", 1, 100)), code(404, "RESOURCE_NOT_EXISTS"));
    assert_eq!(refused(&create("RF_UNPAID_2", "R2-1", 1, 100)), code(400, "INVALID_REQUEST"));
    assert_eq!(refused(&create("RF_DIRECT_2", "R2-2", 1, 99)), code(400, "INVALID_REQUEST"));
    assert_eq!(refused(&create("RF_DIRECT_2", "R2-3", 1, 100).with_sub_mchid(sub())), code(400, "PARAM_ERROR"));
    assert_eq!(refused(&create("RF_PARTNER_2", "R2-4", 1, 100)), code(400, "PARAM_ERROR"));

    // Over-refund: 60 + 50 > 100.
    call(&sim, &cfg, &create("RF_DIRECT_2", "R2-5", 60, 100)).unwrap();
    assert_eq!(refused(&create("RF_DIRECT_2", "R2-6", 50, 100)), code(400, "INVALID_REQUEST"));
    // A closed refund gives its money back to refund again.
    sim.set_refund_status("R2-5", "CLOSED").unwrap();
    call(&sim, &cfg, &create("RF_DIRECT_2", "R2-6", 50, 100)).unwrap();

    // Idempotency: the identical body answers the same refund; another body is refused.
    let first = call(&sim, &cfg, &create("RF_DIRECT_2", "R2-7", 10, 100)).unwrap();
    let again = call(&sim, &cfg, &create("RF_DIRECT_2", "R2-7", 10, 100)).unwrap();
    assert_eq!(first.refund_id, again.refund_id);
    assert_eq!(refused(&create("RF_DIRECT_2", "R2-7", 11, 100)), code(400, "INVALID_REQUEST"));

    // Partner: with its sub_mchid; the query needs it too.
    let p = call(&sim, &cfg, &create("RF_PARTNER_2", "R2-8", 100, 100).with_sub_mchid(sub())).unwrap();
    assert_eq!(p.status, RefundStatus::Processing);
    let q = call(&sim, &cfg, &QueryRefund::new(OutRefundNo::new("R2-8").unwrap()).with_sub_mchid(sub())).unwrap();
    assert_eq!(q.refund_id, p.refund_id);
    let e = api_error(call(&sim, &cfg, &QueryRefund::new(OutRefundNo::new("R2-8").unwrap())));
    assert_eq!((Some(e.status.as_u16()), Some(e.code.as_str())), (Some(404), Some("RESOURCE_NOT_EXISTS")));
    let e = api_error(call(&sim, &cfg, &QueryRefund::new(OutRefundNo::new("R2-NONE").unwrap())));
    assert_eq!((Some(e.status.as_u16()), Some(e.code.as_str())), (Some(404), Some("RESOURCE_NOT_EXISTS")));
    // Manual: it stays PROCESSING.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(sim.refund("R2-8").unwrap()["status"], "PROCESSING");
}

#[test]
fn an_abnormal_refund_is_applied_for_with_encrypted_fields_and_completes() {
    let sim = sim(RefundMode::Manual);
    let cfg = config(&sim);
    paid(&sim, OrderKind::Partner, "RF_PARTNER_3");
    let got = NotifySink::start().unwrap();
    let url = got.url().to_owned();
    let op =
        create("RF_PARTNER_3", "R3-1", 30, 100).with_sub_mchid(sub()).with_notify_url(NotifyUrl::new(url).unwrap());
    let r = call(&sim, &cfg, &op).unwrap();
    let refund_id = RefundId::new(r.refund_id.clone()).unwrap();
    let pub_key = PublicKey::from_pem(sim.credentials().wechatpay_public_key_pem().as_bytes()).unwrap();
    let pub_id = sim.credentials().wechatpay_public_key_id();
    let field = |text: &str| SensitiveField::encrypt(pub_id, &pub_key, text.as_bytes()).unwrap();
    let apply = || {
        ApplyAbnormalRefund::user_bank_card(
            refund_id.clone(),
            OutRefundNo::new("R3-1").unwrap(),
            "ICBC_DEBIT",
            field("6222021234567890123"),
            field("张三"),
        )
        .unwrap()
        .with_sub_mchid(sub())
    };
    // Not ABNORMAL yet: refused.
    let e = api_error(call(&sim, &cfg, &apply()));
    assert_eq!((Some(e.status.as_u16()), Some(e.code.as_str())), (Some(400), Some("INVALID_REQUEST")));

    // The admin API makes it ABNORMAL: REFUND.ABNORMAL to the partner's receiver.
    let (status, abnormal) = admin(&sim, "POST", "/sim/refunds/R3-1/state", Some(json!({"status": "ABNORMAL"})));
    assert_eq!((status, abnormal["status"].as_str()), (200, Some("ABNORMAL")));
    let n = receiver(&sim).receive_request(&got.next(Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(n.event_type, EventType::RefundAbnormal);
    let Resource::Refund(notice) = &n.resource else { panic!("{:?}", n.resource) };
    assert_eq!(
        (notice.sp_mchid.as_deref(), notice.sub_mchid.as_deref(), notice.mchid.as_deref()),
        (Some("1230000109"), Some("1900000109"), None)
    );
    assert_eq!((notice.refund_status.clone(), notice.success_time.clone()), (RefundStatus::Abnormal, None));

    // Fields under another key than Wechatpay-Serial names: PARAM_ERROR.
    let wrong = ApplyAbnormalRefund::user_bank_card(
        refund_id.clone(),
        OutRefundNo::new("R3-1").unwrap(),
        "ICBC_DEBIT",
        SensitiveField::encrypt(sim.credentials().platform_serial(), &pub_key, b"6222021234567890123").unwrap(),
        SensitiveField::encrypt(sim.credentials().platform_serial(), &pub_key, "张三".as_bytes()).unwrap(),
    )
    .unwrap()
    .with_sub_mchid(sub());
    let e = api_error(call(&sim, &cfg, &wrong));
    assert_eq!((Some(e.status.as_u16()), Some(e.code.as_str())), (Some(400), Some("PARAM_ERROR")));
    // Without its sub_mchid: PARAM_ERROR.
    let no_sub = ApplyAbnormalRefund::merchant_bank_card(refund_id.clone(), OutRefundNo::new("R3-1").unwrap());
    let e = api_error(call(&sim, &cfg, &no_sub));
    assert_eq!((Some(e.status.as_u16()), Some(e.code.as_str())), (Some(400), Some("PARAM_ERROR")));

    // The right key: PROCESSING again, paid to the card (last digits only).
    let back = call(&sim, &cfg, &apply()).unwrap();
    assert_eq!(back.status, RefundStatus::Processing);
    assert_eq!(back.user_received_account.as_deref(), Some("ICBC_DEBIT0123"));
    let (status, done) = admin(&sim, "POST", "/sim/refunds/R3-1/state", Some(json!({"status": "SUCCESS"})));
    assert_eq!((status, done["status"].as_str()), (200, Some("SUCCESS")));
    let n = receiver(&sim).receive_request(&got.next(Duration::from_secs(10)).unwrap()).unwrap();
    let Resource::Refund(notice) = &n.resource else { panic!("{:?}", n.resource) };
    assert_eq!(
        (notice.refund_status.clone(), notice.user_received_account.as_deref()),
        (RefundStatus::Success, Some("ICBC_DEBIT0123"))
    );
    let (status, got_back) = admin(&sim, "GET", "/sim/refunds/R3-1", None);
    assert_eq!((status, got_back["status"].as_str()), (200, Some("SUCCESS")));
}

#[test]
fn the_admin_refund_paths_check_their_input() {
    let sim = sim(RefundMode::Manual);
    let (status, e) = admin(&sim, "GET", "/sim/refunds/NOPE", None);
    assert_eq!((status, e["code"].as_str()), (404, Some("RESOURCE_NOT_EXISTS")));
    paid(&sim, OrderKind::Direct, "RF_DIRECT_4");
    call(&sim, &config(&sim), &create("RF_DIRECT_4", "R4-1", 1, 100)).unwrap();
    let (status, e) = admin(&sim, "POST", "/sim/refunds/R4-1/state", Some(json!({"status": "DONE"})));
    assert_eq!((status, e["code"].as_str()), (400, Some("PARAM_ERROR")));
    let (status, _) = admin(&sim, "POST", "/sim/refunds/R4-1/state", Some(json!({})));
    assert_eq!(status, 400);
    let (status, _) = admin(&sim, "DELETE", "/sim/refunds/R4-1", None);
    assert_eq!(status, 405);
    let (status, r) = admin(&sim, "POST", "/sim/refunds/R4-1/state", Some(json!({"status": "CLOSED"})));
    assert_eq!((status, r["status"].as_str(), r["out_refund_no"].as_str()), (200, Some("CLOSED"), Some("R4-1")));
}

/// Amounts whose product overflows 64 bits (a 10^10-fen order, refunded in full and in part,
/// with a user share below the total) are answered, never a panic of the simulator; `from`
/// parts adding up beyond 64 bits are refused naming the field.
#[test]
fn large_amounts_are_refunded_without_overflow() {
    let sim = sim(RefundMode::Manual);
    let cfg = config(&sim);
    let total = 9_999_999_999_i64;
    let order = json!({"out_trade_no": "RF_LARGE_1", "trade_state": "SUCCESS",
        "amount": {"total": total, "payer_total": total - 1, "currency": "CNY"}});
    sim.create_order(OrderKind::Direct, order, None).unwrap();
    let r = call(&sim, &cfg, &create("RF_LARGE_1", "R-LARGE-1", total - 1, total)).unwrap();
    assert_eq!((r.amount.refund, r.amount.total), (Fen(total - 1), Fen(total)));
    // (total - 1) * (total - 1) / total = total - 2 (floor), computed without overflow.
    assert_eq!(r.amount.payer_refund, Some(Fen(total - 2)));
    let q = call(&sim, &cfg, &QueryRefund::new(OutRefundNo::new("R-LARGE-1").unwrap())).unwrap();
    assert_eq!(q.refund_id, r.refund_id);
    // A second refund beyond what is left is refused, not overflowed.
    let e = api_error(call(&sim, &cfg, &create("RF_LARGE_1", "R-LARGE-2", total, total)));
    assert_eq!((e.status.as_u16(), e.code.as_str()), (400, "INVALID_REQUEST"));

    // Raw: two `from` parts summing past u64::MAX.
    let body = json!({"out_trade_no": "RF_LARGE_1", "out_refund_no": "R-LARGE-3",
        "amount": {"refund": 1, "total": total, "currency": "CNY",
                   "from": [{"account": "AVAILABLE", "amount": u64::MAX}, {"account": "AVAILABLE", "amount": 2}]}});
    let op = Json::new(http::Method::POST, "/v3/refund/domestic/refunds", Some(&body.to_string())).unwrap();
    let e = api_error(call(&sim, &cfg, &op));
    assert_eq!((e.status.as_u16(), e.code.as_str()), (400, "PARAM_ERROR"));
    assert!(e.message.contains("amount.from"), "{}", e.message);
}
