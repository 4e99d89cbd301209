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
        (json!({"bill_date": day.to_string(), "rows": 3, "bill_type": "REFUND"}), "bill_type"),
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

    let (status, fault) =
        admin(&sim, "POST", "/sim/faults", &json!({"fault": "wrong_bill_hash", "times": 1, "route": "trade_bill"}));
    assert_eq!(status, 200, "{fault}");
    match client.bill(&op, &mut |_: Record| {}, |_| {}) {
        Err(FetchError::Bill(BillError::HashMismatch { .. })) => {}
        other => panic!("{other:?}"),
    }
}
