//! `wechatpay bill trade|fundflow|reconcile` against the simulator: files appear only when
//! proved; no bill, not ready and a wrong hash exit 3, 3 and 4 leaving nothing behind;
//! reconcile prints one JSON line per difference and exits 9 (0 when nothing differs).
#![allow(clippy::unwrap_used)]

use std::process::Output;
use std::time::SystemTime;

use serde_json::{Value, json};
use wechatpay_core::api::BillDate;
use wechatpay_sim::{Fault, OrderKind, Route, Simulator, Times};

use crate::common::SimEnv;

fn yesterday() -> BillDate {
    BillDate::today(SystemTime::now()).previous()
}

fn setup() -> SimEnv {
    let sim = Simulator::start().unwrap();
    let day = yesterday();
    for (no, total, hour) in [("CLI_BILL_1", 100, 9), ("CLI_BILL_2", 2_50, 10)] {
        let order = json!({ "out_trade_no": no, "trade_state": "SUCCESS",
            "success_time": format!("{day}T{hour:02}:00:00+08:00"), "amount": { "total": total } });
        sim.create_order(OrderKind::Direct, order, None).unwrap();
    }
    SimEnv::new(sim)
}

fn run(env: &SimEnv, args: &[&str]) -> Output {
    env.command(&[]).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Nothing but `keep` in the directory (no partial file left behind).
fn only(dir: &std::path::Path, keep: &[&str]) {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, keep.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
}

#[test]
fn trade_and_fund_bills_are_written_once_proved_in_each_format() {
    let env = setup();
    let out = env.dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let day = yesterday().to_string();
    let raw = out.join("trade.csv");
    let o = run(&env, &["bill", "trade", "--date", &day, "--output", raw.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let bytes = std::fs::read(&raw).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF") && bytes.windows(2).any(|w| w == b"\r\n"));
    assert!(text(&o.stderr).contains("bill proved"), "{}", text(&o.stderr));

    let csv = out.join("rows.csv");
    let o = run(
        &env,
        &["bill", "trade", "--date", &day, "--type", "SUCCESS", "--output", csv.to_str().unwrap(), "--format", "csv"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = csv_text.lines();
    assert!(lines.next().unwrap().starts_with("trade_time,appid,mchid,sub_mchid,"));
    assert_eq!(lines.clone().count(), 2);
    assert!(lines.next().unwrap().contains(",CLI_BILL_1,"));

    let jsonl = out.join("fund.jsonl");
    let o = run(&env, &["bill", "fundflow", "--date", &day, "--output", jsonl.to_str().unwrap(), "--format", "jsonl"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let records: Vec<Value> =
        std::fs::read_to_string(&jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records[0]["record"], "fund");
    assert_eq!(records[0]["amount"], 100);
    let summary = records.last().unwrap();
    assert_eq!((summary["record"].as_str(), summary["income"].as_i64()), (Some("fund_summary"), Some(350)));
    only(&out, &["fund.jsonl", "rows.csv", "trade.csv"]);
}

#[test]
fn no_bill_not_ready_and_a_wrong_hash_leave_nothing_behind() {
    let env = setup();
    let out = env.dir.join("none");
    std::fs::create_dir_all(&out).unwrap();
    let file = out.join("bill.csv");
    let file = file.to_str().unwrap();
    let empty = yesterday().previous().previous().to_string();
    let o = run(&env, &["bill", "trade", "--date", &empty, "--output", file]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("NO_STATEMENT_EXIST"));

    let today = BillDate::today(SystemTime::now()).to_string();
    let o = run(&env, &["bill", "trade", "--date", &today, "--output", file]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("STATEMENT_CREATING") && err.contains("try again after 10:00 Beijing time"), "{err}");

    env.sim.inject(Fault::WrongBillHash, Times::Next(1), Some(Route::TradeBill));
    let o = run(&env, &["bill", "trade", "--date", &yesterday().to_string(), "--output", file, "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("hash mismatch"));
    only(&out, &[]);

    // An existing directory as --output is refused before anything is sent (it was found out
    // only after the download, at the rename: exit 1).
    let requests = env.sim.requests_seen();
    let o = run(&env, &["bill", "trade", "--date", &yesterday().to_string(), "--output", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--output") && text(&o.stderr).contains("is a directory"), "{}", text(&o.stderr));
    assert_eq!(env.sim.requests_seen(), requests, "nothing was sent");
    only(&out, &[]);

    let o = run(&env, &["bill", "trade", "--date", "2000-01-01", "--output", file]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("bill_date"));
}

#[test]
fn reconcile_prints_each_difference() {
    let env = setup();
    let day = yesterday().to_string();
    let orders = env.dir.join("orders.csv");
    std::fs::write(&orders, "out_trade_no,total\nCLI_BILL_1,100\nCLI_BILL_2,250\n").unwrap();
    let o = run(&env, &["bill", "reconcile", "--date", &day, "--orders", orders.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    assert!(text(&o.stderr).contains("0 differences"));

    std::fs::write(&orders, "out_trade_no,total_fen\nCLI_BILL_1,101\nMINE_ONLY,5\n").unwrap();
    let o = run(&env, &["bill", "reconcile", "--date", &day, "--orders", orders.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(9), "{}", text(&o.stderr));
    let lines: Vec<Value> = text(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["difference"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["amount_differs", "missing_in_bill", "missing_in_orders"]);
    assert_eq!((lines[0]["orders_total"].as_i64(), lines[0]["bill_total"].as_i64()), (Some(101), Some(100)));
    assert_eq!(lines[2]["out_trade_no"], "CLI_BILL_2");

    // `order get-many --format csv` output reads as it is: a failed query's row (no total) is
    // skipped and said so; before, the empty total stopped everything with exit 2.
    let ids = env.dir.join("ids.txt");
    std::fs::write(&ids, "CLI_BILL_1\nCLI_BILL_2\nCLI_BILL_NONE\n").unwrap();
    let o = run(&env, &["order", "get-many", "--input", ids.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    std::fs::write(&orders, &o.stdout).unwrap();
    assert!(text(&o.stdout).contains(",error,"), "{}", text(&o.stdout));
    let o = run(&env, &["bill", "reconcile", "--date", &day, "--orders", orders.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("line 4: skipped: result \"error\"") && err.contains("CLI_BILL_NONE"), "{err}");
    assert!(err.contains("2 orders") && err.contains("0 differences"), "{err}");
    // A bad total in a row whose query succeeded is still refused.
    std::fs::write(&orders, "out_trade_no,result,total_fen\nCLI_BILL_1,ok,\n").unwrap();
    let o = run(&env, &["bill", "reconcile", "--date", &day, "--orders", orders.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("line 2: total"), "{}", text(&o.stderr));
}

#[test]
fn reconcile_reports_a_refund_of_the_day() {
    let env = setup();
    let day = yesterday().to_string();
    let o = run(
        &env,
        &[
            "refund",
            "create",
            "--out-refund-no",
            "CLI_BILL_R1",
            "--out-trade-no",
            "CLI_BILL_1",
            "--refund",
            "100",
            "--total",
            "100",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    // A refund is in the bills of the day it was created: move it to yesterday.
    let (create, success) = (format!("{day}T11:00:00+08:00"), format!("{day}T11:00:05+08:00"));
    env.sim.set_refund_status("CLI_BILL_R1", "SUCCESS").unwrap();
    env.sim.set_refund_times("CLI_BILL_R1", Some(&create), Some(&success)).unwrap();
    let refund_id = env.sim.refund("CLI_BILL_R1").unwrap()["refund_id"].as_str().unwrap().to_owned();

    let orders = env.dir.join("orders.csv");
    std::fs::write(&orders, "out_trade_no,total\nCLI_BILL_1,100\nCLI_BILL_2,250\n").unwrap();
    let o = run(&env, &["bill", "reconcile", "--date", &day, "--orders", orders.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(9), "{}", text(&o.stderr));
    let lines: Vec<Value> = text(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!((line["difference"].as_str(), line["out_trade_no"].as_str()), (Some("refunded"), Some("CLI_BILL_1")));
    assert_eq!(
        (line["out_refund_no"].as_str(), line["refund_id"].as_str()),
        (Some("CLI_BILL_R1"), Some(refund_id.as_str()))
    );
    assert_eq!((line["refund"].as_i64(), line["refund_status"].as_str()), (Some(100), Some("SUCCESS")));
    assert!(
        text(&o.stderr).contains("3 bill rows") && text(&o.stderr).contains("1 differences"),
        "{}",
        text(&o.stderr)
    );

    // The REFUND bill holds it alone, as csv with the refund columns named.
    let csv = env.dir.join("refunds.csv");
    let o = run(
        &env,
        &["bill", "trade", "--date", &day, "--type", "REFUND", "--output", csv.to_str().unwrap(), "--format", "csv"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = csv_text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(lines.next(), None);
    let at = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!((at("out_refund_no"), at("refund"), at("refund_status")), ("CLI_BILL_R1", "100", "SUCCESS"));
    // The fee given back is a number the program wrote, not text neutralised as a formula.
    assert_eq!((at("fee"), at("trade_state"), at("total")), ("-0.01000", "REFUND", "0"));
    assert_eq!(at("refund_success_time"), success);
}
