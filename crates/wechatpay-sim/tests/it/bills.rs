//! Bills over the admin API: `POST /sim/bills/synthetic` (bad input named) and the
//! `wrong_bill_hash` fault by name, then the bill applied for, downloaded and proved.
#![allow(clippy::unwrap_used)]

use std::time::SystemTime;

use serde_json::{Value, json};
use wechatpay_core::api::{BillDate, TradeBill, TradeBillType};
use wechatpay_core::bill::{BillError, BillFetch, FetchError, Record};
use wechatpay_sim::Simulator;

use crate::common;

fn admin(sim: &Simulator, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        sim.addr(),
        sim.admin_token(),
        body.len()
    );
    let resp = common::send_raw(sim.addr(), raw.as_bytes()).unwrap();
    (resp.status.as_u16(), serde_json::from_slice(&resp.body).expect("a JSON answer"))
}

#[test]
fn a_synthetic_bill_and_the_wrong_hash_fault_over_http() {
    let sim = Simulator::start().unwrap();
    let day = BillDate::today(SystemTime::now()).previous();
    for (body, field) in [
        (json!({"rows": 3}), "bill_date"),
        (json!({"bill_date": "2024-02-30", "rows": 3}), "bill_date"),
        (json!({"bill_date": day.to_string()}), "rows"),
        (json!({"bill_date": day.to_string(), "rows": -1}), "rows"),
        (json!({"bill_date": day.to_string(), "rows": 3, "bill_type": "RECHARGE_REFUND"}), "bill_type"),
    ] {
        let (status, answer) = admin(&sim, "POST", "/sim/bills/synthetic", &body);
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(field), "{body}: {answer}");
    }
    let (status, made) = admin(
        &sim,
        "POST",
        "/sim/bills/synthetic",
        &json!({"bill_date": day.to_string(), "rows": 500, "bill_type": "SUCCESS"}),
    );
    assert_eq!(status, 200, "{made}");
    assert_eq!((made["rows"].as_u64(), made["bill_type"].as_str()), (Some(500), Some("SUCCESS")));

    let client = wechatpay_ureq::Client::new(sim.config_builder().build().unwrap());
    let op = TradeBill::new(day).with_bill_type(TradeBillType::Success).gzipped();
    let mut rows = 0;
    match client.bill(&op, &mut |r: Record| rows += u32::from(matches!(r, Record::Trade(_))), |_| {}) {
        Ok(BillFetch::Proved(v)) => {
            assert_eq!((v.rows, rows, v.header.len()), (500, 500, 20));
            assert_eq!(v.hash.to_string(), made["hash_value"].as_str().unwrap());
        }
        other => panic!("{other:?}"),
    }

    // A synthetic REFUND bill: whole refunds in the 29-column layout.
    let body = json!({"bill_date": day.to_string(), "rows": 50, "bill_type": "REFUND"});
    let (status, made) = admin(&sim, "POST", "/sim/bills/synthetic", &body);
    assert_eq!(status, 200, "{made}");
    let refunds = TradeBill::new(day).with_bill_type(TradeBillType::Refund);
    let mut refunded = Vec::new();
    let keep = &mut |r: Record| {
        if let Record::Trade(row) = r {
            refunded.push((row.trade_state, row.refund_id.is_some(), row.refund.map(|f| f.get()), row.refund_request));
        }
    };
    match client.bill(&refunds, keep, |_| {}) {
        Ok(BillFetch::Proved(v)) => {
            assert_eq!((v.rows, v.header.len()), (50, 29));
            assert_eq!(v.hash.to_string(), made["hash_value"].as_str().unwrap());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(refunded.len(), 50);
    assert!(refunded.iter().all(|(state, id, refund, request)| state == "REFUND"
        && *id
        && refund.is_some_and(|f| f > 0)
        && request.map(|f| f.get()) == *refund));

    let (status, fault) =
        admin(&sim, "POST", "/sim/faults", &json!({"fault": "wrong_bill_hash", "times": 1, "route": "trade_bill"}));
    assert_eq!(status, 200, "{fault}");
    match client.bill(&op, &mut |_: Record| {}, |_| {}) {
        Err(FetchError::Bill(BillError::HashMismatch { .. })) => {}
        other => panic!("{other:?}"),
    }
}

/// The raw bytes of a proved bill.
#[derive(Default)]
struct Raw(Vec<u8>);

impl wechatpay_core::bill::BillSink for Raw {
    fn record(&mut self, _: Record) {}
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

#[test]
fn a_refund_back_dated_over_http_is_a_row_of_that_days_bills_in_the_real_layout() {
    use wechatpay_core::api::{CreateRefund, FundFlowBill, RefundOrder, RefundRequestAmount};
    use wechatpay_core::model::Fen;
    use wechatpay_core::{OutRefundNo, SubMchId};
    let sim = Simulator::start().unwrap();
    let day = BillDate::today(SystemTime::now()).previous();
    let order = json!({"kind": "partner", "order": {"out_trade_no": "SIM_BILL_P", "sub_mchid": "1900000109",
        "trade_state": "SUCCESS", "success_time": format!("{day}T08:00:00+08:00"), "amount": {"total": 1000}}});
    let (status, answer) = admin(&sim, "POST", "/sim/orders", &order);
    assert_eq!(status, 201, "{answer}");
    let config = common::config(&sim);
    let op = CreateRefund::new(
        RefundOrder::OutTradeNo("SIM_BILL_P".parse().unwrap()),
        OutRefundNo::new("SIM_BILL_R").unwrap(),
        RefundRequestAmount::new(Fen(250), Fen(1000)).unwrap(),
    )
    .with_sub_mchid(SubMchId::new("1900000109").unwrap());
    let created = common::call(&sim, &config, &op).unwrap();

    let path = "/sim/refunds/SIM_BILL_R/state";
    for (body, field) in [
        (json!({"status": "SUCCESS", "create_time": format!("{day} 09:00:00")}), "create_time"),
        (json!({"status": "SUCCESS", "success_time": 5}), "success_time"),
    ] {
        let (status, answer) = admin(&sim, "POST", path, &body);
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(field), "{body}: {answer}");
    }
    let body = json!({"status": "SUCCESS", "create_time": format!("{day}T09:00:00+08:00"),
        "success_time": format!("{day}T01:00:07Z")});
    let (status, answer) = admin(&sim, "POST", path, &body);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["status"].as_str(), answer["create_time"].as_str(), answer["success_time"].as_str()),
        (
            Some("SUCCESS"),
            Some(format!("{day}T09:00:00+08:00").as_str()),
            Some(format!("{day}T09:00:07+08:00").as_str())
        )
    );

    let client = wechatpay_ureq::Client::new(sim.config_builder().build().unwrap());
    let mut raw = Raw::default();
    let op = TradeBill::new(day).with_bill_type(TradeBillType::Refund);
    assert!(matches!(client.bill(&op, &mut raw, |_| {}), Ok(BillFetch::Proved(_))));
    let text = String::from_utf8(raw.0).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
    let refund_id = created.refund_id.to_string();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].contains(",退款申请时间,退款成功时间,微信退款单号,"), "{}", lines[0]);
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(row.len(), 29, "{}", lines[1]);
    assert_eq!(row[0], format!("`{day} 09:00:00"));
    assert_eq!((row[3], row[6], row[9]), ("`1900000109", "`SIM_BILL_P", "`REFUND"));
    assert_eq!((row[12], row[13]), ("`0.00", "`0.00"));
    assert_eq!((row[14], row[15]), (format!("`{day} 09:00:00").as_str(), format!("`{day} 09:00:07").as_str()));
    assert_eq!((row[16], row[17], row[18]), (format!("`{refund_id}").as_str(), "`SIM_BILL_R", "`2.50"));
    assert_eq!((row[20], row[21]), ("`ORIGINAL", "`SUCCESS"));
    assert_eq!((row[24], row[25], row[26], row[27]), ("`-0.02000", "`0.60%", "`0.00", "`2.50"));
    assert_eq!(
        lines[2],
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    );
    assert_eq!(lines[3], "`1,`0.00,`2.50,`0.00,`-0.02000,`0.00,`2.50");
    assert_eq!(lines[4], "");

    let mut raw = Raw::default();
    assert!(matches!(client.bill(&FundFlowBill::new(day), &mut raw, |_| {}), Ok(BillFetch::Proved(_))));
    let text = String::from_utf8(raw.0).unwrap();
    let refund_line = text.split("\r\n").find(|l| l.contains("`退款,")).unwrap_or_else(|| panic!("{text}"));
    assert!(
        refund_line.starts_with(&format!("`{day} 09:00:00,`{refund_id},`"))
            && refund_line.contains(",`退款,`退款,`支出,`2.50,"),
        "{refund_line}"
    );
}
