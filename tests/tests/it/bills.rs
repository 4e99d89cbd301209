//! Bills (spec §17) end to end: apply, download, prove and read through both adapters
//! against the simulator's bills — plain and gzip, BOM, an empty day, not ready, an expired
//! URL, a wrong hash, a synthetic bill of thousands of rows.

use std::time::{Duration, SystemTime};

use serde_json::json;
use wechatpay_core::api::{AccountType, BillDate, FundFlowBill, TradeBill, TradeBillType};
use wechatpay_core::bill::{BillError, BillFetch, BillSink, Direction, FetchError, Record, Summary, Verified};
use wechatpay_core::model::Fen;
use wechatpay_core::{Error, SubMchId};
use wechatpay_sim::{Fault, OrderKind, Route, Simulator, Times};
use wechatpay_tests::*;

/// Everything a download handed out.
#[derive(Default)]
struct Collect {
    raw: Vec<u8>,
    records: Vec<Record>,
}

impl BillSink for Collect {
    fn record(&mut self, record: Record) {
        self.records.push(record);
    }
    fn raw(&mut self, bytes: &[u8]) {
        self.raw.extend_from_slice(bytes);
    }
}

fn yesterday() -> BillDate {
    BillDate::today(SystemTime::now()).previous()
}

/// A simulator with two payments yesterday (direct and partner) and one the day before.
fn sim_with_payments() -> Simulator {
    let sim = sim();
    let day = yesterday();
    let paid = |no: &str, total: i64, hour: u32| {
        json!({ "out_trade_no": no, "trade_state": "SUCCESS", "success_time": format!("{day}T{hour:02}:00:00+08:00"),
                "amount": { "total": total }, "description": "bill,test", "attach": "a1" })
    };
    sim.create_order(OrderKind::Direct, paid("BILL_D_1", 888, 10), None).expect("order is created");
    let mut partner = paid("BILL_P_1", 12_345, 11);
    partner["sub_mchid"] = json!(SUB_MCHID);
    sim.create_order(OrderKind::Partner, partner, None).expect("order is created");
    let earlier = json!({ "out_trade_no": "BILL_OLD", "trade_state": "SUCCESS",
        "success_time": format!("{}T09:00:00+08:00", day.previous()), "amount": { "total": 1 } });
    sim.create_order(OrderKind::Direct, earlier, None).expect("order is created");
    sim
}

fn proved(result: Result<BillFetch, FetchError>) -> Verified {
    match result {
        Ok(BillFetch::Proved(v)) => v,
        other => panic!("not proved: {other:?}"),
    }
}

fn trade_rows(records: &[Record]) -> Vec<&wechatpay_core::bill::TradeRow> {
    records.iter().filter_map(|r| if let Record::Trade(row) = r { Some(row) } else { None }).collect()
}

#[test]
fn trade_bills_download_prove_and_read_plain_and_gzip() {
    for adapter in ADAPTERS {
        let sim = sim_with_payments();
        let client = TestClient::with_defaults(adapter, config(&sim));
        for gzip in [false, true] {
            let op = if gzip { TradeBill::new(yesterday()).gzipped() } else { TradeBill::new(yesterday()) };
            let (mut sink, mut progress) = (Collect::default(), Vec::new());
            let verified = proved(client.bill(&op, &mut sink, &mut progress));
            assert_eq!(verified.rows, 2, "{adapter:?} gzip={gzip}");
            assert_eq!(verified.header.len(), 27);
            assert!(sink.raw.starts_with(b"\xEF\xBB\xBF") && sink.raw.ends_with(b"\r\n"), "{adapter:?}: BOM and CRLF");
            assert_eq!(verified.bytes, sink.raw.len() as u64);
            let rows = trade_rows(&sink.records);
            assert_eq!(rows[0].out_trade_no, "BILL_D_1");
            assert_eq!((rows[0].sub_mchid.as_deref(), rows[0].refund_id.as_deref()), (None, None));
            assert_eq!((rows[0].total, rows[0].settlement_total), (Some(Fen(888)), Some(Fen(888))));
            assert_eq!((rows[0].fee.to_string(), rows[0].rate.as_str()), ("0.05000".to_owned(), "0.60%"));
            assert_eq!(rows[0].description, "bill，test");
            assert_eq!(rows[0].trade_time.to_string(), format!("{} 10:00:00", yesterday()));
            assert_eq!(rows[1].sub_mchid.as_deref(), Some(SUB_MCHID));
            let Summary::Trade(summary) = &verified.summary else { panic!("trade summary") };
            assert_eq!((summary.total_count, summary.total), (2, Some(Fen(13_233))));
            let last = progress.last().copied().unwrap();
            assert!(last.bytes > 0 && progress.first().unwrap().bytes == 0, "{adapter:?}: {progress:?}");
            if !gzip {
                assert_eq!(last.total, Some(last.bytes), "{adapter:?}: a plain download declares its length");
            }
        }
    }
}

#[test]
fn layouts_filters_and_fund_bills() {
    for adapter in ADAPTERS {
        let sim = sim_with_payments();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let sub = SubMchId::new(SUB_MCHID).unwrap();
        let op = TradeBill::new(yesterday()).with_bill_type(TradeBillType::Success).with_sub_mchid(sub);
        let mut sink = Collect::default();
        let verified = proved(client.bill(&op, &mut sink, &mut Vec::new()));
        assert_eq!((verified.rows, verified.header.len()), (1, 20), "{adapter:?}");
        assert_eq!(trade_rows(&sink.records)[0].out_trade_no, "BILL_P_1");

        let mut sink = Collect::default();
        let verified = proved(client.bill(&FundFlowBill::new(yesterday()).gzipped(), &mut sink, &mut Vec::new()));
        let Summary::Fund(summary) = &verified.summary else { panic!("fund summary") };
        assert_eq!((summary.income_count, summary.income), (2, Fen(13_233)), "{adapter:?}");
        assert_eq!((summary.expense_count, summary.expense), (2, Fen(5 + 74)), "{adapter:?}");
        let fund: Vec<_> =
            sink.records.iter().filter_map(|r| if let Record::Fund(f) = r { Some(f) } else { None }).collect();
        assert_eq!(
            (fund[0].direction, fund[0].amount, fund[1].direction),
            (Direction::Income, Fen(888), Direction::Expense)
        );

        let none = client.bill(
            &FundFlowBill::new(yesterday()).with_account_type(AccountType::Fees),
            &mut Collect::default(),
            &mut Vec::new(),
        );
        assert!(matches!(none, Ok(BillFetch::NoStatement)), "{adapter:?}: {none:?}");
    }
}

#[test]
fn an_empty_day_and_today_are_typed_outcomes() {
    for adapter in ADAPTERS {
        let sim = sim_with_payments();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let empty = yesterday().previous().previous();
        let got = client.bill(&TradeBill::new(empty), &mut Collect::default(), &mut Vec::new());
        assert!(matches!(got, Ok(BillFetch::NoStatement)), "{adapter:?}: {got:?}");
        let today = BillDate::today(SystemTime::now());
        let got = client.bill(&TradeBill::new(today), &mut Collect::default(), &mut Vec::new());
        assert!(matches!(got, Ok(BillFetch::NotReady)), "{adapter:?}: {got:?}");
        assert_eq!(sim.requests_seen(), 2, "{adapter:?}: neither is retried");
        // Out of range for the simulator (the client's BillDate rules would refuse them first).
        let next_month = BillDate::today(SystemTime::now()).months_back(-1);
        for date in [BillDate::parse("2000-01-01").unwrap(), next_month] {
            assert!(BillDate::new(&date.to_string(), SystemTime::now()).is_err());
            match client.bill(&TradeBill::new(date), &mut Collect::default(), &mut Vec::new()) {
                Err(FetchError::Call(Error::Api(e))) => {
                    assert_eq!((e.status.as_u16(), e.code.as_str()), (400, "INVALID_REQUEST"), "{adapter:?} {date}");
                }
                other => panic!("{adapter:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_wrong_hash_is_an_error_that_says_so() {
    for adapter in ADAPTERS {
        let sim = sim_with_payments();
        let client = TestClient::with_defaults(adapter, config(&sim));
        sim.inject(Fault::WrongBillHash, Times::Next(1), Some(Route::TradeBill));
        let mut sink = Collect::default();
        match client.bill(&TradeBill::new(yesterday()).gzipped(), &mut sink, &mut Vec::new()) {
            Err(FetchError::Bill(e @ BillError::HashMismatch { .. })) => {
                assert!(e.to_string().contains("hash mismatch"), "{adapter:?}: {e}");
            }
            other => panic!("{adapter:?}: {other:?}"),
        }
        // Provisional rows came out; nothing proved them.
        assert_eq!(trade_rows(&sink.records).len(), 2);
        // The next application is right again.
        proved(client.bill(&TradeBill::new(yesterday()), &mut Collect::default(), &mut Vec::new()));
    }
}

#[test]
fn an_expired_download_url_applies_again_once() {
    for adapter in ADAPTERS {
        // A time scale of 0: every download URL has expired when it is used.
        let sim = Simulator::builder().notify_time_scale(0.0).start().unwrap();
        let day = yesterday();
        let order = json!({ "out_trade_no": "BILL_X", "trade_state": "SUCCESS",
            "success_time": format!("{day}T10:00:00+08:00"), "amount": { "total": 100 } });
        sim.create_order(OrderKind::Direct, order, None).unwrap();
        let client = TestClient::with_defaults(adapter, config(&sim));
        match client.bill(&TradeBill::new(day), &mut Collect::default(), &mut Vec::new()) {
            Err(FetchError::Call(err @ Error::Api(_))) => {
                assert!(wechatpay_core::api::is_expired_download(&err), "{adapter:?}: {err}");
            }
            other => panic!("{adapter:?}: {other:?}"),
        }
        // apply, download (expired), apply again, download (expired): then it gives up.
        assert_eq!(sim.requests_seen(), 4, "{adapter:?}");
    }
}

#[test]
fn a_synthetic_bill_streams_thousands_of_rows() {
    for adapter in ADAPTERS {
        let sim = sim();
        let day = yesterday();
        let made = sim.synthetic_bill(&day.to_string(), 20_000, "ALL").unwrap();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(60));
        for gzip in [false, true] {
            let op = if gzip { TradeBill::new(day).gzipped() } else { TradeBill::new(day) };
            let mut rows = 0u64;
            let mut sink = |record: Record| rows += u64::from(matches!(record, Record::Trade(_)));
            let mut sink = Records(&mut sink);
            let mut progress = Vec::new();
            let verified = proved(client.bill(&op, &mut sink, &mut progress));
            assert_eq!((verified.rows, rows), (20_000, 20_000), "{adapter:?} gzip={gzip}");
            assert_eq!(verified.hash.to_string(), made["hash_value"].as_str().unwrap());
            assert_eq!(verified.bytes, made["bytes"].as_u64().unwrap());
            assert!(progress.len() > 2, "{adapter:?}: progress reported as it streams");
        }
    }
}

/// A closure as a sink of records.
struct Records<'a>(&'a mut (dyn FnMut(Record) + Send));

impl BillSink for Records<'_> {
    fn record(&mut self, record: Record) {
        (self.0)(record)
    }
}

#[test]
fn bills_download_over_https_too() {
    for adapter in ADAPTERS {
        let sim = Simulator::builder().tls(true).start().unwrap();
        let day = yesterday();
        let order = json!({ "out_trade_no": "BILL_TLS", "trade_state": "SUCCESS",
            "success_time": format!("{day}T10:00:00+08:00"), "amount": { "total": 100 } });
        sim.create_order(OrderKind::Direct, order, None).unwrap();
        let ca = sim.ca_certificate_pem().unwrap().to_owned();
        let client = TestClient::trusting(adapter, config(&sim), fast_retries(), Duration::from_secs(10), &[&ca]);
        for op in [TradeBill::new(day), TradeBill::new(day).gzipped()] {
            let mut sink = Collect::default();
            let verified = proved(client.bill(&op, &mut sink, &mut Vec::new()));
            assert_eq!(verified.rows, 1, "{adapter:?}");
            assert_eq!(trade_rows(&sink.records)[0].out_trade_no, "BILL_TLS");
        }
    }
}

#[test]
fn a_url_that_expired_on_the_way_is_applied_for_again_and_then_proved() {
    for adapter in ADAPTERS {
        // Tokens live 300 s × 0.002 = 0.6 s; the first download waits 1 s before it is
        // looked at (a delay fault), so its URL has expired: 400 INVALID_REQUEST.
        let sim = Simulator::builder().notify_time_scale(0.002).start().unwrap();
        let day = yesterday();
        let order = json!({ "out_trade_no": "BILL_LATE", "trade_state": "SUCCESS",
            "success_time": format!("{day}T10:00:00+08:00"), "amount": { "total": 100 } });
        sim.create_order(OrderKind::Direct, order, None).unwrap();
        sim.inject(Fault::Delay(Duration::from_secs(1)), Times::Next(1), Some(Route::BillDownload));
        let client = TestClient::with_defaults(adapter, config(&sim));
        let verified = proved(client.bill(&TradeBill::new(day).gzipped(), &mut Collect::default(), &mut Vec::new()));
        assert_eq!(verified.rows, 1, "{adapter:?}");
        let statuses: Vec<Option<u64>> =
            sim.requests().as_array().unwrap().iter().map(|r| r["status"].as_u64()).collect();
        assert_eq!(statuses, [Some(200), Some(400), Some(200), Some(200)], "{adapter:?}: apply, expired, apply, file");
    }
}

/// Refunds order `no` (`amounts`: refund and order total, fen) as `out_refund_no` (partner:
/// for [`SUB_MCHID`]) through the API.
fn refunded(client: &TestClient, no: &str, out_refund_no: &str, amounts: (i64, i64), partner: bool) {
    use wechatpay_core::OutRefundNo;
    use wechatpay_core::api::{CreateRefund, RefundOrder, RefundRequestAmount};
    let mut op = CreateRefund::new(
        RefundOrder::OutTradeNo(no.parse().expect("no")),
        OutRefundNo::new(out_refund_no).expect("no"),
        RefundRequestAmount::new(Fen(amounts.0), Fen(amounts.1)).expect("amount"),
    );
    if partner {
        op = op.with_sub_mchid(SubMchId::new(SUB_MCHID).expect("sub"));
    }
    client.execute(&op).expect("refund created");
}

#[test]
fn the_days_refunds_are_rows_of_the_all_and_refund_bills_and_outflows_of_the_fund_bill() {
    let day = yesterday();
    for adapter in ADAPTERS {
        let sim = sim_with_payments();
        let client = TestClient::with_defaults(adapter, config(&sim));
        // A direct refund of yesterday's order and a partner one; one of the day before's
        // order refunded yesterday too; a refund created the day before is in no bill of ours.
        refunded(&client, "BILL_D_1", "BILL_R_D", (300, 888), false);
        refunded(&client, "BILL_P_1", "BILL_R_P", (12_345, 12_345), true);
        refunded(&client, "BILL_OLD", "BILL_R_OLD", (1, 1), false);
        refunded(&client, "BILL_D_1", "BILL_R_EARLY", (8, 888), false);
        let at = |h: u32| format!("{day}T{h:02}:30:00+08:00");
        sim.set_refund_status("BILL_R_D", "SUCCESS").expect("status");
        sim.set_refund_times("BILL_R_D", Some(&at(12)), Some(&at(13))).expect("times");
        sim.set_refund_status("BILL_R_P", "PROCESSING").expect("status");
        sim.set_refund_times("BILL_R_P", Some(&at(14)), None).expect("times");
        sim.set_refund_status("BILL_R_OLD", "CLOSED").expect("status");
        sim.set_refund_times("BILL_R_OLD", Some(&at(15)), None).expect("times");
        let early = format!("{}T23:00:00+08:00", day.previous());
        sim.set_refund_times("BILL_R_EARLY", Some(&early), None).expect("times");

        // ALL: two payments and three refunds, by time.
        let mut sink = Collect::default();
        let verified = proved(client.bill(&TradeBill::new(day).gzipped(), &mut sink, &mut Vec::new()));
        assert_eq!(verified.rows, 5, "{adapter:?}");
        let rows = trade_rows(&sink.records);
        let nos: Vec<_> = rows.iter().map(|r| (r.out_trade_no.as_str(), r.out_refund_no.as_deref())).collect();
        assert_eq!(
            nos,
            [
                ("BILL_D_1", None),
                ("BILL_P_1", None),
                ("BILL_D_1", Some("BILL_R_D")),
                ("BILL_P_1", Some("BILL_R_P")),
                ("BILL_OLD", Some("BILL_R_OLD"))
            ],
            "{adapter:?}"
        );
        let r = rows[2];
        let held = sim.refund("BILL_R_D").expect("refund");
        assert_eq!(r.refund_id.as_deref(), held["refund_id"].as_str());
        assert_eq!((r.trade_state.as_str(), r.refund_status.as_deref()), ("REFUND", Some("SUCCESS")));
        assert_eq!(
            (r.refund, r.refund_request, r.refund_type.as_deref()),
            (Some(Fen(300)), Some(Fen(300)), Some("ORIGINAL"))
        );
        assert_eq!((r.settlement_total, r.total), (Some(Fen(0)), Some(Fen(0))));
        assert_eq!(r.fee.to_string(), "-0.02000");
        assert_eq!(r.trade_time.to_string(), format!("{day} 12:30:00"));
        assert_eq!((r.sub_mchid.as_deref(), r.transaction_id.is_empty()), (None, false));
        assert_eq!(
            (rows[3].sub_mchid.as_deref(), rows[3].refund_status.as_deref()),
            (Some(SUB_MCHID), Some("PROCESSING"))
        );
        assert_eq!(rows[4].refund_status.as_deref(), Some("CLOSED"));
        let Summary::Trade(summary) = &verified.summary else { panic!("trade summary") };
        assert_eq!(
            (summary.total_count, summary.total, summary.refund),
            (5, Some(Fen(13_233)), Some(Fen(300 + 12_345 + 1)))
        );

        // REFUND: the refunds alone, with their create and success times; a sub-merchant's alone.
        let mut sink = Collect::default();
        let op = TradeBill::new(day).with_bill_type(TradeBillType::Refund);
        let verified = proved(client.bill(&op, &mut sink, &mut Vec::new()));
        assert_eq!((verified.rows, verified.header.len()), (3, 29), "{adapter:?}");
        let rows = trade_rows(&sink.records);
        assert_eq!(rows[0].refund_create_time.map(|t| t.to_string()), Some(format!("{day} 12:30:00")));
        assert_eq!(rows[0].refund_success_time.map(|t| t.to_string()), Some(format!("{day} 13:30:00")));
        assert_eq!(rows[1].refund_success_time, None);
        let mut sink = Collect::default();
        let op = op.with_sub_mchid(SubMchId::new(SUB_MCHID).expect("sub"));
        let verified = proved(client.bill(&op, &mut sink, &mut Vec::new()));
        assert_eq!(verified.rows, 1, "{adapter:?}");
        assert_eq!(trade_rows(&sink.records)[0].out_refund_no.as_deref(), Some("BILL_R_P"));
        // SUCCESS has no refund rows; a REFUND bill of a day without refunds is no bill.
        let op = TradeBill::new(day).with_bill_type(TradeBillType::Success);
        assert_eq!(proved(client.bill(&op, &mut Collect::default(), &mut Vec::new())).rows, 2);
        let op = TradeBill::new(day.previous().previous()).with_bill_type(TradeBillType::Refund);
        let none = client.bill(&op, &mut Collect::default(), &mut Vec::new());
        assert!(matches!(none, Ok(BillFetch::NoStatement)), "{adapter:?}: {none:?}");

        // Fund: the refunds not closed flow out.
        let mut sink = Collect::default();
        let verified = proved(client.bill(&FundFlowBill::new(day), &mut sink, &mut Vec::new()));
        let Summary::Fund(summary) = &verified.summary else { panic!("fund summary") };
        assert_eq!((summary.expense_count, summary.expense), (4, Fen(5 + 74 + 300 + 12_345)), "{adapter:?}");
        let refunds: Vec<_> = sink
            .records
            .iter()
            .filter_map(|r| if let Record::Fund(f) = r { Some(f) } else { None })
            .filter(|f| f.business_type == "退款")
            .map(|f| (f.direction, f.amount))
            .collect();
        assert_eq!(refunds, [(Direction::Expense, Fen(300)), (Direction::Expense, Fen(12_345))], "{adapter:?}");
    }
}
