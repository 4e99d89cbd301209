//! `wechatpay demo`: the simulator in-process, every query type through the real stack
//! (sign, HTTP over loopback, verify, parse), what the client does when things go wrong, the
//! sandbox loop (an order paid through the admin API, its notification verified), and a
//! payment taken: an order created by a signed prepay, paid from its invoke parameters by the
//! simulated WeChat client, notified and confirmed.

use std::time::Duration;

use wechatpay_core::api::*;
use wechatpay_core::{Error, OutTradeNo, SubMchId, TransactionId, VerificationFailure, retry::RetryPolicy};
use wechatpay_sim::{Fault, Route, Simulator, Times};

use super::say;

mod sandbox;
use crate::failure::Failure;

/// Runs the demo; fails if any step does not behave as shown.
pub(crate) fn run() -> Result<(), Failure> {
    let sim = Simulator::start().map_err(|e| Failure::other(format!("cannot start the simulator: {e}")))?;
    let creds = sim.credentials();
    say!("WeChat Pay simulator on {} (loopback, throwaway keys)", sim.base_url());
    say!("  merchant {} (certificate serial {})", creds.mchid(), creds.merchant_serial());
    say!(
        "  WeChat Pay signs with public key {} and platform certificate {}",
        creds.wechatpay_public_key_id(),
        creds.platform_serial()
    );
    let config = sim.config_builder().wechatpay_serial(creds.wechatpay_public_key_id()).build()?;
    let policy = RetryPolicy::default().with_base_delay(Duration::from_millis(20));
    let client = wechatpay_ureq::Client::new(
        wechatpay_core::transport::Driver::new(config.clone())
            .with_attempt_timeout(Duration::from_secs(5))
            .with_retry_policy(policy),
    );
    let sub = SubMchId::new(creds.sub_mchid())?;
    let mut demo = Demo { ok: 0, unexpected: Vec::new() };

    say!("\nEvery query type (each request signed afresh, each answer verified before parsing):");
    let seed_no = OutTradeNo::new("1217752501201407033233368018")?;
    demo.expect_ok(
        "order get --out-trade-no",
        client.execute(&QueryOrderByOutTradeNo { out_trade_no: seed_no.clone() }),
        |t| {
            format!(
                "{} {} paid {} yuan at {}",
                t.out_trade_no,
                t.trade_state,
                yuan(t.amount.as_ref().and_then(|a| a.total)),
                opt(t.success_time.as_ref().map(|s| s.as_str()))
            )
        },
    );
    let tid = TransactionId::new("4200000985202103031441826014")?;
    demo.expect_ok(
        "order get --transaction-id",
        client.execute(&QueryOrderByTransactionId { transaction_id: tid }),
        |t| {
            format!(
                "{} {} via {}",
                opt(t.transaction_id.as_deref()),
                t.trade_state,
                opt(t.trade_type.as_ref().map(|t| t.as_str()))
            )
        },
    );
    demo.expect_ok(
        "partner-order get --out-trade-no",
        client.execute(&QueryPartnerOrderByOutTradeNo { sub_mchid: sub.clone(), out_trade_no: seed_no.clone() }),
        |t| format!("sub-merchant {} order {} {}", t.sub_mchid, t.out_trade_no, t.trade_state),
    );
    let partner_tid = TransactionId::new("4200000991202103031441826020")?;
    demo.expect_ok(
        "partner-order get --transaction-id",
        client.execute(&QueryPartnerOrderByTransactionId { sub_mchid: sub.clone(), transaction_id: partner_tid }),
        |t| format!("sub-merchant {} transaction {} {}", t.sub_mchid, opt(t.transaction_id.as_deref()), t.trade_state),
    );
    demo.expect_ok(
        "parking-order get --sub-mchid",
        client.execute(&QueryParkingOrder { out_trade_no: OutTradeNo::new("20150806125346")?, sub_mchid: Some(sub) }),
        |p| {
            let plate = p.parking_info.as_ref().and_then(|i| i.plate_number.as_deref());
            format!(
                "{} {} for plate {}, {} yuan",
                p.out_trade_no,
                p.trade_state,
                opt(plate),
                yuan(p.amount.as_ref().and_then(|a| a.total))
            )
        },
    );
    demo.expect_ok(
        "parking-order get (merchant)",
        client.execute(&QueryParkingOrder { out_trade_no: OutTradeNo::new("SIM_PARKING_0001")?, sub_mchid: None }),
        |p| format!("{} {}: {}", p.out_trade_no, p.trade_state, opt(p.trade_state_description.as_deref())),
    );

    say!("\nWhen WeChat Pay says no:");
    let missing = client.execute(&QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("NO_SUCH_ORDER")? });
    demo.expect_err(
        "unknown order",
        missing,
        |e| matches!(e, Error::Api(a) if a.code.as_str() == "ORDER_NOT_EXIST" && a.verified),
    );
    match OutTradeNo::new("../refund?mchid=1") {
        Err(e) => {
            demo.ok += 1;
            say!("  ok   {:<40} {e}", "bad input never leaves the process");
        }
        Ok(_) => demo.unexpected.push("a path-traversing out_trade_no was accepted".into()),
    }

    say!("\nWhen the network or the server misbehaves:");
    sim.reset_counts();
    sim.inject(Fault::SystemError, Times::Next(1), Some(Route::DirectByOutTradeNo));
    let retried = client.execute(&QueryOrderByOutTradeNo { out_trade_no: seed_no.clone() });
    let attempts = sim.requests_seen();
    demo.expect_ok("500 SYSTEM_ERROR, then success", retried, |t| {
        format!("{} after {attempts} attempts (re-signed each time)", t.trade_state)
    });
    sim.inject(Fault::SignTestProbe, Times::Next(1), Some(Route::DirectByOutTradeNo));
    let probed = client.execute(&QueryOrderByOutTradeNo { out_trade_no: seed_no.clone() });
    demo.expect_ok("WECHATPAY/SIGNTEST/ probe, then success", probed, |t| {
        format!("{} (probe refused, queried again)", t.trade_state)
    });

    say!("\nWhen an answer is not what WeChat Pay signed, nothing of it is returned:");
    for (what, fault, expected) in [
        ("tampered body", Fault::TamperedBody, VerificationFailure::SignatureMismatch),
        ("unsigned 200", Fault::UnsignedOk, VerificationFailure::MissingHeader("Wechatpay-Timestamp")),
    ] {
        sim.inject(fault, Times::Next(1), Some(Route::DirectByOutTradeNo));
        let result = client.execute(&QueryOrderByOutTradeNo { out_trade_no: seed_no.clone() });
        demo.expect_err(what, result, |e| matches!(e, Error::Verification(v) if v.failure == expected));
    }
    sim.clear_faults();

    say!("\nThe sandbox from any language: the admin API pays an order, its notification arrives:");
    sandbox::run(&mut demo, &client, &config, sim.addr(), sim.admin_token(), sim.apiv3_key());

    say!("\nTake a payment: an order of the demo's own, paid as the WeChat client would:");
    sandbox::pay(&mut demo, &client, &config, sim.addr(), sim.admin_token(), sim.apiv3_key());

    say!();
    if demo.unexpected.is_empty() {
        say!("demo: all {} steps behaved as expected", demo.ok);
        Ok(())
    } else {
        Err(Failure::other(format!(
            "demo: {} step(s) misbehaved: {}",
            demo.unexpected.len(),
            demo.unexpected.join("; ")
        )))
    }
}

struct Demo {
    ok: usize,
    unexpected: Vec<String>,
}

impl Demo {
    fn expect_ok<T>(&mut self, step: &str, result: Result<T, Error>, show: impl FnOnce(&T) -> String) {
        match result {
            Ok(value) => {
                self.ok += 1;
                say!("  ok   {step:<40} {}", show(&value));
            }
            Err(e) => {
                say!("  FAIL {step:<40} {e}");
                self.unexpected.push(format!("{step}: {e}"));
            }
        }
    }

    /// A step checked by the demo itself: `Ok` is what to show, `Err` what went wrong.
    fn check(&mut self, step: &str, result: Result<String, String>) {
        match result {
            Ok(shown) => {
                self.ok += 1;
                say!("  ok   {step:<40} {shown}");
            }
            Err(why) => {
                say!("  FAIL {step:<40} {why}");
                self.unexpected.push(format!("{step}: {why}"));
            }
        }
    }

    fn expect_err<T>(&mut self, step: &str, result: Result<T, Error>, expected: impl FnOnce(&Error) -> bool) {
        match result {
            Err(e) if expected(&e) => {
                self.ok += 1;
                say!("  ok   {step:<40} {e}");
            }
            Err(e) => {
                say!("  FAIL {step:<40} unexpected error: {e}");
                self.unexpected.push(format!("{step}: {e}"));
            }
            Ok(_) => {
                say!("  FAIL {step:<40} succeeded but should not have");
                self.unexpected.push(format!("{step}: succeeded"));
            }
        }
    }
}

fn yuan(fen: Option<wechatpay_core::model::Fen>) -> String {
    fen.map_or_else(|| "?".to_owned(), |f| f.to_yuan_string())
}

fn opt(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}
