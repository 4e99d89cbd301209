//! Interoperability with an independent implementation: the Python `wechatpayv3` package
//! (installed from PyPI into a virtualenv under the target directory) queries the simulator.
//! The simulator must accept its signatures, it must accept the simulator's signed answers
//! and reject a tampered one, and its view of each order must equal ours.
//!
//! Python and the package must be installable (PyPI reachable): a test that cannot install
//! them fails, saying why.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use wechatpay_core::api::*;
use wechatpay_core::{OutTradeNo, SubMchId, TransactionId};
use wechatpay_sim::{Fault, NotifySink, Route, Simulator, Times};

/// A virtualenv with `wechatpayv3` (installed from PyPI on first use). Panics saying why when
/// there is none: these tests are the interop proof the issues ask of CI, never silently
/// skipped.
fn python_with_wechatpayv3() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wechatpayv3-venv");
    let python = venv.join("bin").join("python");
    let has_package = |python: &Path| {
        Command::new(python).args(["-c", "import wechatpayv3"]).output().is_ok_and(|o| o.status.success())
    };
    if python.exists() && has_package(&python) {
        return python;
    }
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).output().expect("python3 runs");
    assert!(made.status.success(), "python3 -m venv failed: {}", String::from_utf8_lossy(&made.stderr));
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "wechatpayv3>=2,<3"])
        .output()
        .expect("pip runs");
    assert!(
        pip.status.success() && has_package(&python),
        "pip install wechatpayv3 failed (is PyPI reachable?): {}",
        String::from_utf8_lossy(&pip.stderr)
    );
    python
}

#[test]
fn python_wechatpayv3_and_the_simulator_accept_each_other() {
    let python = python_with_wechatpayv3();
    let sim = Simulator::start().unwrap();
    let creds = sim.credentials();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("interop-{}", std::process::id()));
    let run = |args: &[&str]| run_python(&python, &sim, &dir, args, &[]);
    let results = run(&[]);
    // The simulator verified every Python signature (a bad one would be 401 SIGN_ERROR)...
    for name in [
        "direct_out_trade_no",
        "direct_transaction_id",
        "partner_out_trade_no",
        "partner_transaction_id",
        "parking_sub_mchid",
        "parking_merchant",
    ] {
        assert_eq!(results[name]["status"], 200, "{name}: {}", results[name]);
    }
    // ...and wechatpayv3 verified every answer (it raises otherwise), error answers included.
    assert_eq!(results["unknown_order"]["status"], 404);
    assert_eq!(results["unknown_order"]["body"]["code"], "ORDER_NOT_EXIST");

    // Both clients see the same orders, field for field.
    let config = sim.config_builder().build().unwrap();
    let ours = wechatpay_ureq::Client::new(config);
    let sub = SubMchId::new(creds.sub_mchid()).unwrap();
    let seed = OutTradeNo::new("1217752501201407033233368018").unwrap();
    let same = |name: &str, ours: Value| assert_eq!(results[name]["body"], ours, "{name}");
    same(
        "direct_out_trade_no",
        serde_json::to_value(ours.execute(&QueryOrderByOutTradeNo { out_trade_no: seed.clone() }).unwrap()).unwrap(),
    );
    let tid = TransactionId::new("4200000985202103031441826014").unwrap();
    same(
        "direct_transaction_id",
        serde_json::to_value(ours.execute(&QueryOrderByTransactionId { transaction_id: tid }).unwrap()).unwrap(),
    );
    let op = QueryPartnerOrderByOutTradeNo { sub_mchid: sub.clone(), out_trade_no: seed };
    same("partner_out_trade_no", serde_json::to_value(ours.execute(&op).unwrap()).unwrap());
    let op = QueryParkingOrder { out_trade_no: OutTradeNo::new("20150806125346").unwrap(), sub_mchid: Some(sub) };
    same("parking_sub_mchid", serde_json::to_value(ours.execute(&op).unwrap()).unwrap());

    // Payment code: wechatpayv3's pay(pay_type=CODEPAY) and codepay_reverse() against the
    // simulator's test codes; its verifier accepts the signed 200, 202 and reverse answers.
    let codes = run(&["codepay"]);
    let codes = &codes;
    let status = |name: &str| codes[name]["status"].as_u64().unwrap_or_else(|| panic!("{name}: {codes}"));
    assert_eq!((status("paid"), &codes["paid"]["body"]["trade_state"]), (200, &Value::from("SUCCESS")), "{codes}");
    assert_eq!(codes["paid"]["body"]["trade_type"], "MICROPAY");
    assert_eq!((status("paying"), &codes["paying"]["body"]), (202, &serde_json::json!({"trade_state": "USERPAYING"})));
    assert_eq!((status("not_enough"), &codes["not_enough"]["body"]["code"]), (403, &Value::from("NOT_ENOUGH")));
    assert_eq!(status("reverse"), 200);
    assert_eq!(codes["reverse"]["body"]["out_trade_no"], "PY_CODEPAY_3");
    assert_eq!(codes["reversed"]["body"]["trade_state"], "REVOKED");
    assert_eq!(status("partner_paying"), 202);
    assert_eq!(
        (status("partner_reverse"), &codes["partner_reverse"]["body"]["sub_mchid"]),
        (200, &Value::from(creds.sub_mchid()))
    );
    // Our client sees what Python did.
    let paid =
        ours.execute(&QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("PY_CODEPAY_0").unwrap() }).unwrap();
    assert_eq!(codes["paid"]["body"], serde_json::to_value(paid).unwrap());
    assert_eq!(sim.requests_for(Route::CodepayDirect), 3);

    // Bills: wechatpayv3's trade_bill() and download_bill() work against the simulator, and
    // the bytes hash to the simulator's hash_value, which our reader proves too.
    let day = BillDate::today(std::time::SystemTime::now()).previous();
    let paid = serde_json::json!({ "out_trade_no": "PY_BILL_1", "trade_state": "SUCCESS",
        "success_time": format!("{day}T12:00:00+08:00"), "amount": { "total": 321 } });
    sim.create_order(wechatpay_sim::OrderKind::Direct, paid, None).unwrap();
    // (wechatpayv3 always sends tar_type; GZIP is the one value WeChat Pay defines.)
    let bill = run(&["bill", &day.to_string(), "GZIP"]);
    assert_eq!((bill["apply_status"].as_u64(), bill["download_status"].as_u64()), (Some(200), Some(200)), "{bill}");
    assert_eq!(bill["sha1"], bill["answer"]["hash_value"], "{bill}");
    assert_eq!(bill["bom"], true);
    let mut rows = 0;
    match ours.bill(&TradeBill::new(day), &mut |_: wechatpay_core::bill::Record| rows += 1, |_| {}) {
        Ok(wechatpay_core::bill::BillFetch::Proved(v)) => {
            assert_eq!(Some(v.bytes), bill["bytes"].as_u64());
            assert_eq!(v.hash.to_string(), bill["sha1"].as_str().unwrap());
            assert_eq!(rows, 2, "one row and the summary");
        }
        other => panic!("{other:?}"),
    }

    // A tampered answer is refused by wechatpayv3's verifier too.
    sim.inject(Fault::TamperedBody, Times::Always, Some(Route::DirectByOutTradeNo));
    let tampered = run(&["tampered"]);
    assert!(tampered["tampered"]["rejected"].as_str().is_some_and(|m| m.contains("verify")), "{tampered}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the Python client with `args` and the `extra` variables against `sim` (keys written
/// under `dir`): its JSON.
fn run_python(python: &Path, sim: &Simulator, dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Value {
    let creds = sim.credentials();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("merchant_key.pem"), creds.merchant_private_key_pem()).unwrap();
    std::fs::write(dir.join("wechatpay_pub.pem"), creds.wechatpay_public_key_pem()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop").join("wechatpayv3_client.py");
    let out = Command::new(python)
        .arg(&script)
        .args(args)
        .env("SIM_BASE_URL", sim.base_url())
        .env("SIM_MCHID", creds.mchid())
        .env("SIM_SERIAL_NO", creds.merchant_serial())
        .env("SIM_PRIVATE_KEY", dir.join("merchant_key.pem"))
        .env("SIM_PUBLIC_KEY", dir.join("wechatpay_pub.pem"))
        .env("SIM_PUBLIC_KEY_ID", creds.wechatpay_public_key_id())
        .env("SIM_SUB_MCHID", creds.sub_mchid())
        .env("SIM_APIV3_KEY", sim.apiv3_key())
        .envs(extra.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Unix second `unix` as RFC 3339 in Beijing time (the core's one formatter).
fn beijing(unix: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    wechatpay_core::model::Rfc3339::beijing(time).as_str().to_owned()
}

/// The parking flow (PROTOCOL.md §16) from Python: `parking_enter()` and `parking_order()`
/// are accepted (and equal to what our client reads back), and `parking_service_find()` with
/// a Chinese plate is refused `401 SIGN_ERROR`, as WeChat Pay refuses it: wechatpayv3 signs
/// the raw plate but sends it percent-encoded.
#[test]
fn python_wechatpayv3_parking_enter_and_order_but_not_find() {
    let python = python_with_wechatpayv3();
    let sim = Simulator::start().unwrap();
    let creds = sim.credentials();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("interop-parking-{}", std::process::id()));
    let now = wechatpay_core::unix_now();
    let results = run_python(&python, &sim, &dir, &["parking", &beijing(now - 3600), &beijing(now)], &[]);

    for name in ["find_direct", "find_partner"] {
        assert_eq!(results[name]["status"], 401, "{name}: {}", results[name]);
        assert_eq!(results[name]["body"]["code"], "SIGN_ERROR", "{name}");
    }
    let ours = wechatpay_ureq::Client::new(sim.config_builder().build().unwrap());
    for (name, sub) in [("direct", None), ("partner", Some(SubMchId::new(creds.sub_mchid()).unwrap()))] {
        let enter = &results[format!("enter_{name}")];
        assert_eq!(enter["status"], 200, "{name}: {enter}");
        let id = enter["body"]["id"].as_str().unwrap();
        assert!(id.len() >= 16, "{id}");
        // No plate service was opened: the entrance exists, blocked.
        assert_eq!(enter["body"]["state"], "BLOCKED", "{name}");
        let order = &results[format!("order_{name}")];
        assert_eq!(order["status"], 200, "{name}: {order}");
        assert_eq!(order["body"]["trade_state"], "ACCEPTED", "{name}");
        assert_eq!(order["body"]["parking_info"]["parking_id"], id, "{name}");
        let op = QueryParkingOrder { out_trade_no: OutTradeNo::new(format!("PY-{name}")).unwrap(), sub_mchid: sub };
        assert_eq!(order["body"], serde_json::to_value(ours.execute(&op).unwrap()).unwrap(), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `wechatpayv3`'s own `pay()` creates orders in every scene it has, direct and partner:
/// the simulator verifies its signatures, it verifies the simulator's answers, the orders
/// exist `NOTPAY` with the artefact it received; the JSAPI invoke parameters it signs with
/// its own `sign()` are accepted by `request-payment`, which pays the order.
#[test]
fn python_wechatpayv3_creates_orders_with_its_pay() {
    let python = python_with_wechatpayv3();
    let sim = Simulator::start().unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("interop-prepay-{}", std::process::id()));
    let results = run_python(&python, &sim, &dir, &["prepay"], &[]);
    use wechatpay_sim::OrderKind::{Direct, Partner};
    for (name, kind, no, trade_type) in [
        ("direct_native", Direct, "PY_NATIVE_1", "NATIVE"),
        ("direct_jsapi", Direct, "PY_JSAPI_1", "JSAPI"),
        ("direct_app", Direct, "PY_APP_1", "APP"),
        ("direct_h5", Direct, "PY_H5_1", "MWEB"),
        ("partner_native", Partner, "PY_P_NATIVE_1", "NATIVE"),
        ("partner_jsapi", Partner, "PY_P_JSAPI_1", "JSAPI"),
    ] {
        // A status means wechatpayv3 verified the answer's signature (it raises otherwise).
        assert_eq!(results[name]["status"], 200, "{name}: {}", results[name]);
        let doc = sim.order(kind, no).unwrap_or_else(|| panic!("{name}: no order {no}"));
        assert_eq!((doc["trade_state"].as_str(), doc["trade_type"].as_str()), (Some("NOTPAY"), Some(trade_type)));
        assert_eq!((doc["attach"].as_str(), doc["amount"]["total"].as_i64()), (Some("from python"), Some(1)));
        let body = &results[name]["body"];
        let prepay_id = doc["prepay_id"].as_str().unwrap();
        match trade_type {
            "NATIVE" => assert_eq!(body["code_url"], doc["code_url"], "{name}"),
            "MWEB" => assert_eq!(body["h5_url"], format!("{}/sim/cashier/{prepay_id}", sim.base_url()), "{name}"),
            _ => assert_eq!(body["prepay_id"], prepay_id, "{name}"),
        }
    }
    let partner = sim.order(Partner, "PY_P_JSAPI_1").unwrap();
    assert_eq!(
        (partner["sub_appid"].as_str(), partner["payer"]["sub_openid"].as_str()),
        (Some("wx9999999999999999"), Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
    );

    // The invoke parameters wechatpayv3 signed open the payment sheet, and pay.
    let answer = crate::prepay::request_payment(&sim, results["invoke"].clone());
    assert_eq!(answer["order"]["out_trade_no"], "PY_JSAPI_1");
    let ours = wechatpay_ureq::Client::new(sim.config_builder().build().unwrap());
    let paid = ours.execute(&QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("PY_JSAPI_1").unwrap() }).unwrap();
    assert_eq!(paid.trade_state.as_str(), "SUCCESS");
}

/// `wechatpayv3`'s `refund()` and `query_refund()` against the simulator (direct and partner),
/// and a simulated `REFUND.SUCCESS` notification verified and decrypted by its own
/// `callback()`, agreeing with the core's `Receiver`.
#[test]
fn python_wechatpayv3_refunds_queries_refunds_and_verifies_a_refund_notification() {
    use wechatpay_core::notify::{Receiver, Resource};
    let python = python_with_wechatpayv3();
    let sim = Simulator::builder().notify_time_scale(0.001).start().unwrap();
    let creds = sim.credentials();
    for (kind, no) in
        [(wechatpay_sim::OrderKind::Direct, "PY_REFUND_D"), (wechatpay_sim::OrderKind::Partner, "PY_REFUND_P")]
    {
        let mut order = serde_json::json!({"out_trade_no": no, "trade_state": "SUCCESS", "amount": {"total": 100}});
        if kind == wechatpay_sim::OrderKind::Partner {
            order["sub_mchid"] = creds.sub_mchid().into();
        }
        sim.create_order(kind, order, None).unwrap();
    }
    let got = NotifySink::start().unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("interop-refunds-{}", std::process::id()));
    let extra = [
        ("SIM_NOTIFY_URL", got.url()),
        ("SIM_REFUND_ORDER", "PY_REFUND_D"),
        ("SIM_REFUND_PARTNER_ORDER", "PY_REFUND_P"),
    ];
    let run = |args: &[&str]| run_python(&python, &sim, &dir, args, &extra);

    let r = run(&["refunds"]);
    for name in ["refund", "refund_again", "partner_refund", "query_refund", "partner_query_refund"] {
        assert_eq!(r[name]["status"], 200, "{name}: {}", r[name]);
    }
    assert_eq!(r["refund"]["body"]["status"], "PROCESSING");
    assert_eq!(r["refund_again"]["body"]["refund_id"], r["refund"]["body"]["refund_id"]);
    assert_eq!(r["partner_query_refund"]["body"]["refund_id"], r["partner_refund"]["body"]["refund_id"]);
    assert_eq!(
        (r["over_refund"]["status"].as_u64(), r["over_refund"]["body"]["code"].as_str()),
        (Some(400), Some("INVALID_REQUEST"))
    );
    assert_eq!(
        (r["unknown_refund"]["status"].as_u64(), r["unknown_refund"]["body"]["code"].as_str()),
        (Some(404), Some("RESOURCE_NOT_EXISTS"))
    );

    // Our query sees what Python's saw (asked after it; the refund may have completed since).
    let ours = wechatpay_ureq::Client::new(sim.config_builder().build().unwrap());
    let q = ours.execute(&QueryRefund::new(wechatpay_core::OutRefundNo::new("PY-R-1").unwrap())).unwrap();
    assert_eq!(q.refund_id, r["query_refund"]["body"]["refund_id"].as_str().unwrap());
    assert_eq!(serde_json::to_value(&q.amount).unwrap(), r["query_refund"]["body"]["amount"]);

    // A refund notification: wechatpayv3's callback verifies and decrypts it like our Receiver.
    let request = got.next(std::time::Duration::from_secs(10)).expect("a refund notification");
    let headers: serde_json::Map<String, Value> = request
        .headers()
        .iter()
        .map(|(k, v)| {
            // wechatpayv3 looks headers up by their canonical names (`Wechatpay-Signature`).
            let name = k.as_str().split('-').map(|p| p[..1].to_uppercase() + &p[1..]).collect::<Vec<_>>().join("-");
            (name, Value::from(v.to_str().unwrap()))
        })
        .collect();
    std::fs::write(dir.join("headers.json"), serde_json::to_vec(&headers).unwrap()).unwrap();
    std::fs::write(dir.join("body"), request.body()).unwrap();
    let headers_path = dir.join("headers.json");
    let body_path = dir.join("body");
    let cb = run(&["callback", headers_path.to_str().unwrap(), body_path.to_str().unwrap()]);
    let cb = &cb["callback"];
    assert_eq!(cb["event_type"], "REFUND.SUCCESS", "{cb}");
    let config = sim.config_builder().build().unwrap();
    let n = Receiver::from_config(&config, wechatpay_core::ApiV3Key::new(sim.apiv3_key()).unwrap())
        .receive_request(&request)
        .unwrap();
    let Resource::Refund(notice) = &n.resource else { panic!("{:?}", n.resource) };
    assert_eq!(cb["resource"], serde_json::to_value(notice).unwrap());
    assert_eq!(cb["id"], n.id.as_str());
    let _ = std::fs::remove_dir_all(&dir);
}
