//! Runs the built `wechatpay` binary against the simulator, as a user would, for every
//! command and every exit code. The simulator runs in this process; the binary gets only
//! the variables written by the simulator (the environment is otherwise cleared).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use wechatpay_sim::{Fault, OrderKind, Route, Simulator, Times};

use crate::common;

use common::{BIN, SimEnv as Env, core_data};

fn setup() -> Env {
    Env::new(Simulator::start().unwrap())
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// Runs with `overrides` set over the simulator's variables (an empty value removes one).
    fn run_with(&self, args: &[&str], overrides: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(&[]);
        for (k, v) in overrides {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        cmd.args(args).output().unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A failed run: the exit code, nothing on stdout, and stderr for further checks.
fn failed(o: &Output, code: i32) -> String {
    assert_eq!(o.status.code(), Some(code), "stdout: {}\nstderr: {}", stdout(o), stderr(o));
    assert!(o.stdout.is_empty(), "stdout must stay empty on failure: {}", stdout(o));
    let err = stderr(o);
    assert!(!err.contains("panicked"), "{err}");
    assert_no_secrets(&err);
    err
}

/// One JSON document on stdout, exit 0.
fn json(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn assert_no_secrets(text: &str) {
    let pem = std::fs::read_to_string(core_data("merchant_key.pem")).unwrap();
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!text.contains(&line[..20.min(line.len())]), "private key material in output");
    }
    assert!(!text.contains("signature=\""), "an Authorization header in output: {text}");
}

#[test]
fn every_query_prints_one_json_document() {
    let env = setup();
    let order = json(&env.run(&["order", "get", "--out-trade-no", "1217752501201407033233368018"]));
    assert_eq!(order["trade_state"], "SUCCESS");
    assert_eq!(order["promotion_detail"][0]["goods_detail"][0]["goods_id"], "M1006");
    let order = json(&env.run(&["order", "get", "--transaction-id", "4200000985202103031441826014"]));
    assert_eq!(order["out_trade_no"], "1217752501201407033233368018");
    let partner = json(&env.run(&[
        "partner-order",
        "get",
        "--out-trade-no",
        "1217752501201407033233368018",
        "--sub-mchid",
        "1900000109",
    ]));
    assert_eq!(partner["sub_mchid"], "1900000109");
    let partner = json(&env.run(&[
        "partner-order",
        "get",
        "--transaction-id",
        "4200000991202103031441826020",
        "--sub-mchid",
        "1900000109",
    ]));
    assert_eq!(partner["transaction_id"], "4200000991202103031441826020");
    let parking =
        json(&env.run(&["parking-order", "get", "--out-trade-no", "20150806125346", "--sub-mchid", "1900000109"]));
    assert_eq!(parking["parking_info"]["plate_color"], "BLUE");
    let parking = json(&env.run(&["parking-order", "get", "--out-trade-no", "SIM_PARKING_0001"]));
    assert_eq!(parking["trade_state"], "ACCEPTED");
    // Flags win over the environment: a wrong env value is overridden by the flag.
    let mchid = env.vars.iter().find(|(k, _)| k == "WECHATPAY_MCHID").unwrap().1.clone();
    let o = env.run_with(
        &["--mchid", &mchid, "order", "get", "--out-trade-no", "SIM_NOTPAY_0001"],
        &[("WECHATPAY_MCHID", "999")],
    );
    assert_eq!(json(&o)["trade_state"], "NOTPAY");
}

#[test]
fn unknown_values_and_fields_are_kept_in_the_output() {
    let env = setup();
    let order = serde_json::json!({
        "mchid": "1230000109", "out_trade_no": "CLI_FUTURE_1", "trade_state": "SOMETHING_NEW",
        "trade_state_desc": "新", "trade_type": "WALLET", "brand_new": {"nested": [1, "two"]},
        "amount": {"total": 7, "currency": "HKD", "rate": "1.0"}
    });
    env.sim.add_order(OrderKind::Direct, order.clone()).unwrap();
    let out = json(&env.run(&["order", "get", "--out-trade-no", "CLI_FUTURE_1"]));
    assert_eq!(out, order);
}

#[test]
fn invalid_input_exits_2_naming_field_and_rule_before_anything_is_sent() {
    let env = setup();
    let before = env.sim.requests_seen();
    for (args, needle) in [
        (vec!["order", "get", "--out-trade-no", "../x"], "invalid out_trade_no"),
        (vec!["order", "get", "--out-trade-no", "a?mchid=1"], "rule: 1-32 characters"),
        (vec!["order", "get", "--transaction-id", "42 00"], "invalid transaction_id"),
        (vec!["partner-order", "get", "--out-trade-no", "1", "--sub-mchid", "abc"], "invalid sub_mchid"),
        (vec!["parking-order", "get", "--out-trade-no", &"9".repeat(33)], "33 characters long"),
        (vec!["order", "get"], "required"),
        (vec!["order", "get", "--out-trade-no", "1", "--transaction-id", "2"], "cannot be used with"),
        (vec!["order", "frobnicate"], "unrecognized subcommand"),
        (vec!["--timeout", "soon", "order", "get", "--out-trade-no", "1"], "WECHATPAY_TIMEOUT"),
        (vec!["sign", "--method", "G T", "--url", "/v3/x"], "invalid method"),
        (vec!["sign", "--method", "GET", "--url", "/v3/x", "--nonce", "no-nce"], "invalid nonce"),
        (vec!["sign", "--method", "GET", "--url", "v3/x y"], "invalid url"),
    ] {
        let err = failed(&env.run(&args), 2);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(env.sim.requests_seen(), before, "nothing may be sent for invalid input");
}

/// Every subcommand checks its ids while parsing the command line (exit 2 naming the field
/// and the rule), with the configuration missing too: nothing is read, signed or sent.
#[test]
fn every_command_checks_its_ids_before_anything_else() {
    let env = setup();
    let before = env.sim.requests_seen();
    for (args, needle) in [
        (vec!["order", "watch", "--out-trade-no", "a b"], "invalid out_trade_no"),
        (vec!["order", "watch", "--transaction-id", "x-1"], "invalid transaction_id"),
        (vec!["order", "close", "--out-trade-no", "中"], "invalid out_trade_no"),
        (vec!["partner-order", "close", "--out-trade-no", "1", "--sub-mchid", "1a"], "invalid sub_mchid"),
        (vec!["partner-order", "watch", "--transaction-id", "1", "--sub-mchid", ""], "invalid sub_mchid"),
        (vec!["partner-order", "get", "--transaction-id", "4/2", "--sub-mchid", "1"], "rule: 1-32 characters"),
        (vec!["parking-order", "watch", "--out-trade-no", "a.b"], "invalid out_trade_no"),
        (vec!["parking-order", "get", "--out-trade-no", "1", "--sub-mchid", "x"], "rule: 1-32 digits"),
    ] {
        let o = env.run_with(&args, &[("WECHATPAY_MCHID", ""), ("WECHATPAY_PRIVATE_KEY", "")]);
        let err = failed(&o, 2);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(env.sim.requests_seen(), before, "nothing may be sent for invalid input");
}

/// A setting given by its environment variable is not shown as a required flag in a usage
/// line, and every flag beats its variable.
#[test]
fn usage_lines_do_not_list_settings_from_the_environment() {
    let env = setup();
    let err = failed(&env.run(&["order", "get"]), 2);
    let usage = err.lines().find(|l| l.starts_with("Usage:")).unwrap();
    assert_eq!(usage, "Usage: wechatpay order get <--out-trade-no <OUT_TRADE_NO>|--transaction-id <TRANSACTION_ID>>");
    let err = failed(&env.run(&["api"]), 2);
    assert!(!err.contains("--mchid") && !err.contains("--private-key"), "{err}");
    // The help still names each variable.
    let o = env.run(&["order", "get", "--help"]);
    assert!(stdout(&o).contains("[env: WECHATPAY_SERIAL_NO]"), "{}", stdout(&o));
    // Every flag wins: broken variables, good flags.
    let good = |name: &str| env.var(name).unwrap().to_owned();
    let flags = [
        ("--mchid", "WECHATPAY_MCHID", good("WECHATPAY_MCHID"), "999"),
        ("--serial-no", "WECHATPAY_SERIAL_NO", good("WECHATPAY_SERIAL_NO"), "bad serial"),
        ("--private-key", "WECHATPAY_PRIVATE_KEY", good("WECHATPAY_PRIVATE_KEY"), "/nonexistent/key.pem"),
        ("--public-key", "WECHATPAY_PUBLIC_KEY", good("WECHATPAY_PUBLIC_KEY"), "/nonexistent/pub.pem"),
        ("--public-key-id", "WECHATPAY_PUBLIC_KEY_ID", good("WECHATPAY_PUBLIC_KEY_ID"), "PUB_KEY_ID_0"),
        ("--base-url", "WECHATPAY_BASE_URL", good("WECHATPAY_BASE_URL"), "ftp://x"),
        ("--backup-url", "WECHATPAY_BACKUP_URL", good("WECHATPAY_BASE_URL"), "ftp://y"),
        ("--timeout", "WECHATPAY_TIMEOUT", "5".to_owned(), "soon"),
        ("--platform-certs", "WECHATPAY_PLATFORM_CERTS", good("WECHATPAY_PLATFORM_CERTS"), "/nonexistent.pem"),
    ];
    let mut args: Vec<&str> = Vec::new();
    for (flag, _, value, _) in &flags {
        args.extend([*flag, value.as_str()]);
    }
    args.extend(["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"]);
    let broken: Vec<(&str, &str)> = flags.iter().map(|(_, name, _, bad)| (*name, *bad)).collect();
    let o = env.run_with(&args, &broken);
    assert_eq!(json(&o)["trade_state"], "NOTPAY");
    // The same broken variables alone fail, as they should.
    failed(&env.run_with(&["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"], &broken), 2);
}

#[test]
fn missing_or_broken_configuration_exits_2() {
    let env = setup();
    let q = ["order", "get", "--out-trade-no", "1"];
    for (overrides, needle) in [
        (vec![("WECHATPAY_MCHID", "")], "WECHATPAY_MCHID"),
        (vec![("WECHATPAY_SERIAL_NO", "")], "WECHATPAY_SERIAL_NO"),
        (vec![("WECHATPAY_PRIVATE_KEY", "")], "WECHATPAY_PRIVATE_KEY"),
        (vec![("WECHATPAY_PRIVATE_KEY", "/nonexistent/key.pem")], "cannot read"),
        (vec![("WECHATPAY_PUBLIC_KEY_ID", "")], "WECHATPAY_PUBLIC_KEY_ID"),
        (
            vec![("WECHATPAY_PUBLIC_KEY", ""), ("WECHATPAY_PUBLIC_KEY_ID", ""), ("WECHATPAY_PLATFORM_CERTS", "")],
            "no WeChat Pay key",
        ),
        (vec![("WECHATPAY_PLATFORM_CERTS", "/nonexistent.pem")], "cannot read"),
        (vec![("WECHATPAY_MCHID", "12ab")], "invalid mchid"),
        (vec![("WECHATPAY_BASE_URL", "ftp://x")], "base_url"),
    ] {
        let err = failed(&env.run_with(&q, &overrides), 2);
        assert!(err.contains(needle), "{overrides:?}: {err}");
    }
    // A missing or invalid serial says where it comes from.
    for serial in ["", "not hex!"] {
        let err = failed(&env.run_with(&q, &[("WECHATPAY_SERIAL_NO", serial)]), 2);
        assert!(err.contains("openssl x509 -noout -serial -in apiclient_cert.pem"), "{err}");
    }
    let not_a_key = core_data("platform_cert.pem");
    let err = failed(&env.run_with(&q, &[("WECHATPAY_PRIVATE_KEY", not_a_key.to_str().unwrap())]), 2);
    assert!(err.contains("CERTIFICATE"), "{err}");
    let short = core_data("rsa1024_key.pem");
    let err = failed(&env.run_with(&q, &[("WECHATPAY_PRIVATE_KEY", short.to_str().unwrap())]), 2);
    assert!(err.contains("1024"), "{err}");
    let encrypted = core_data("encrypted_key.pem");
    let err = failed(&env.run_with(&q, &[("WECHATPAY_PRIVATE_KEY", encrypted.to_str().unwrap())]), 2);
    assert!(err.contains("encrypted"), "{err}");
}

#[test]
fn wechat_pay_errors_exit_3_with_status_code_and_request_id() {
    let env = setup();
    let err = failed(&env.run(&["order", "get", "--out-trade-no", "NO_SUCH_ORDER"]), 3);
    assert!(err.contains("404") && err.contains("ORDER_NOT_EXIST") && err.contains("Request-ID"), "{err}");
    let err = failed(&env.run(&["parking-order", "get", "--out-trade-no", "NO_SUCH_ORDER"]), 3);
    assert!(err.contains("NOT_FOUND"), "{err}");
    let err = failed(&env.run(&["partner-order", "get", "--out-trade-no", "1", "--sub-mchid", "1900000999"]), 3);
    assert!(err.contains("400") && err.contains("INVALID_REQUEST"), "{err}");
}

#[test]
fn sign_error_shows_the_servers_string_to_sign() {
    let env = setup();
    // A key the simulator does not trust: it answers 401 SIGN_ERROR with its view of the message.
    let wrong = core_data("platform_key.pem");
    let o = env.run_with(
        &["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"],
        &[("WECHATPAY_PRIVATE_KEY", wrong.to_str().unwrap())],
    );
    let err = failed(&o, 3);
    assert!(err.contains("401") && err.contains("SIGN_ERROR"), "{err}");
    assert!(
        err.contains("    GET\\n\n    /v3/pay/transactions/out-trade-no/SIM_NOTPAY_0001?mchid=1230000109\\n\n"),
        "{err}"
    );
}

#[test]
fn verification_failures_exit_4_and_print_no_data() {
    let env = setup();
    for fault in [Fault::TamperedBody, Fault::UnsignedOk, Fault::UnknownSerial, Fault::StaleTimestamp] {
        env.sim.inject(fault.clone(), Times::Always, Some(Route::DirectByOutTradeNo));
        let err = failed(&env.run(&["order", "get", "--out-trade-no", "1217752501201407033233368018"]), 4);
        assert!(err.contains("verification failed"), "{fault:?}: {err}");
        assert!(!err.contains("oUpF8uMuAJO"), "no response data on a failed verification: {err}");
        env.sim.clear_faults();
    }
}

/// Spec §11: a signed answer about another order exits 4 and prints nothing of it; in
/// `get-many` it is that line's error, and the other lines are still answered.
#[test]
fn an_answer_for_another_order_exits_4() {
    let env = setup();
    env.sim.inject(Fault::AnswerForAnotherOrder, Times::Always, Some(Route::DirectByOutTradeNo));
    let err = failed(&env.run(&["order", "get", "--out-trade-no", "1217752501201407033233368018"]), 4);
    assert!(err.contains("out_trade_no is not the one asked for"), "{err}");
    assert!(!err.contains("oUpF8uMuAJO"), "no response data: {err}");
    env.sim.clear_faults();
    env.sim.inject(Fault::AnswerForAnotherOrder, Times::Always, Some(Route::DirectById));
    let err = failed(&env.run(&["order", "get", "--transaction-id", "4200000985202103031441826014"]), 4);
    assert!(err.contains("transaction_id is not the one asked for"), "{err}");
    env.sim.clear_faults();

    // In bulk: line B's answer is about another order; A and C are answered.
    let input = env.dir.join("abc.txt");
    std::fs::write(&input, "SIM_NOTPAY_0001\nSIM_CLOSED_0001\nSIM_REFUND_0001\n").unwrap();
    env.sim.inject(Fault::Delay(std::time::Duration::from_millis(1)), Times::Next(1), None);
    env.sim.inject(Fault::AnswerForAnotherOrder, Times::Next(1), None);
    let o = env.run(&["order", "get-many", "--input", input.to_str().unwrap(), "--concurrency", "1"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["out_trade_no"], "SIM_NOTPAY_0001");
    assert_eq!(lines[0]["trade_state"], "NOTPAY");
    assert_eq!(lines[1]["out_trade_no"], "SIM_CLOSED_0001");
    assert!(lines[1]["error"].is_object(), "{}", lines[1]);
    assert!(lines[1].get("trade_state").is_none(), "{}", lines[1]);
    assert_eq!(lines[2]["out_trade_no"], "SIM_REFUND_0001");
    assert_eq!(lines[2]["trade_state"], "REFUND");
}

#[test]
fn undecodable_answers_exit_1() {
    let env = setup();
    env.sim.inject(Fault::InvalidJson, Times::Always, None);
    let err = failed(&env.run(&["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"]), 1);
    assert!(err.contains("decode"), "{err}");
}

#[test]
fn transport_failures_exit_5_after_failover() {
    let env = setup();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let o = env.run_with(
        &["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"],
        &[("WECHATPAY_BASE_URL", &closed), ("WECHATPAY_BACKUP_URL", &closed), ("WECHATPAY_TIMEOUT", "2")],
    );
    let err = failed(&o, 5);
    assert!(err.contains("connect"), "{err}");
    // A dead primary with a live backup succeeds.
    let o = env.run_with(&["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"], &[("WECHATPAY_BASE_URL", &closed)]);
    assert_eq!(json(&o)["trade_state"], "NOTPAY");
}

#[test]
fn sign_is_deterministic_and_matches_openssl() {
    let env = setup();
    let target = std::fs::read_to_string(core_data("kat/req_direct_id.target")).unwrap();
    let args = [
        "sign",
        "--method",
        "GET",
        "--url",
        &target,
        "--timestamp",
        "1554208460",
        "--nonce",
        "593BEC0C930BF1AFEB40B4A08C8FB242",
    ];
    let first = env.run(&args);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(first.stdout, env.run(&args).stdout);
    let out = stdout(&first);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        &lines[1..6],
        ["GET\\n", &format!("{target}\\n"), "1554208460\\n", "593BEC0C930BF1AFEB40B4A08C8FB242\\n", "\\n"]
    );
    let openssl = std::fs::read_to_string(core_data("kat/req_direct_id.sig")).unwrap();
    let last = lines.last().unwrap();
    assert!(last.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\""), "{last}");
    assert!(last.contains(&format!("signature=\"{openssl}\"")), "{last}");
    // A full URL is accepted; only its path and query are signed.
    let full = env.run(&[
        "sign",
        "--method",
        "get",
        "--url",
        &format!("https://api.mch.weixin.qq.com{target}"),
        "--timestamp",
        "1554208460",
        "--nonce",
        "593BEC0C930BF1AFEB40B4A08C8FB242",
    ]);
    assert_eq!(full.stdout, first.stdout);
}

#[test]
fn verify_names_the_failed_check() {
    let env = setup();
    let body = core_data("responses/parking_seed.json");
    let sig = std::fs::read_to_string(core_data("kat/resp_parking_pubkey.sig")).unwrap();
    let id = "PUB_KEY_ID_0114232019092600000000000000000001";
    let base = |sig: &str, serial: &str, body: &Path, now: Option<&str>| {
        let mut args = vec![
            "verify".to_owned(),
            "--timestamp".into(),
            "1554208460".into(),
            "--nonce".into(),
            "593BEC0C930BF1AFEB40B4A08C8FB242".into(),
            "--signature".into(),
            sig.into(),
            "--serial".into(),
            serial.into(),
            "--body-file".into(),
            body.to_str().unwrap().into(),
        ];
        if let Some(now) = now {
            args.extend(["--now".into(), now.into()]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        env.run(&refs)
    };
    let ok = base(&sig, id, &body, Some("1554208460"));
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).starts_with("valid"));
    let cert_sig = std::fs::read_to_string(core_data("kat/resp_parking_cert.sig")).unwrap();
    let ok = base(&cert_sig, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", &body, Some("1554208460"));
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(failed(&base(&sig, id, &body, None), 4).contains("timestamp check failed"));
    assert!(failed(&base(&sig, "PUB_KEY_ID_0000", &body, Some("1554208460")), 4).contains("serial check failed"));
    assert!(failed(&base(&cert_sig, id, &body, Some("1554208460")), 4).contains("signature check failed"));
    assert!(failed(&base("WECHATPAY/SIGNTEST/x", id, &body, Some("1554208460")), 4).contains("probe"));
    assert!(failed(&base("%%%", id, &body, Some("1554208460")), 4).contains("Base64"));
    let tampered = env.dir.join("tampered.json");
    let mut bytes = std::fs::read(&body).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&tampered, bytes).unwrap();
    assert!(failed(&base(&sig, id, &tampered, Some("1554208460")), 4).contains("signature check failed"));
    failed(&base(&sig, id, Path::new("/nonexistent"), None), 2);
}

#[test]
fn get_many_answers_in_input_order() {
    let env = setup();
    let ids = [
        "SIM_NOTPAY_0001",
        "NO_SUCH_1",
        "1217752501201407033233368018",
        "SIM_CLOSED_0001",
        "../bad",
        "SIM_REFUND_0001",
    ];
    let lines: Vec<&str> = (0..300).map(|i| ids[i % ids.len()]).collect();
    let input = env.dir.join("input.txt");
    std::fs::write(&input, lines.join("\n") + "\n\n").unwrap();
    let o = env.run(&["order", "get-many", "--input", input.to_str().unwrap(), "--concurrency", "8"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = stdout(&o);
    let got: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got.len(), 300);
    for (line, expected) in got.iter().zip(&lines) {
        assert_eq!(line["out_trade_no"], *expected);
        if expected.starts_with("NO_SUCH") {
            assert_eq!(line["error"]["code"], "ORDER_NOT_EXIST");
            assert!(line["error"]["request_id"].is_string());
        }
    }
    assert!(stderr(&o).contains("300 orders, 200 ok, 100 failed"), "{}", stderr(&o));

    let good = env.dir.join("good.txt");
    std::fs::write(&good, "SIM_NOTPAY_0001\nSIM_CLOSED_0001\n").unwrap();
    let o = env.run(&["order", "get-many", "--input", good.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().collect();
    assert!(rows[0].starts_with("out_trade_no,result,trade_state"));
    assert!(rows[1].starts_with("SIM_NOTPAY_0001,ok,NOTPAY,"));
    assert!(rows[2].starts_with("SIM_CLOSED_0001,ok,CLOSED,"));
    let err = failed(&env.run(&["order", "get-many", "--input", "/nonexistent"]), 2);
    assert!(err.contains("cannot read --input"), "{err}");
}

#[test]
fn demo_runs_every_query_type() {
    let o = Command::new(BIN).env_clear().arg("demo").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for step in [
        "order get --out-trade-no",
        "order get --transaction-id",
        "partner-order get --out-trade-no",
        "partner-order get --transaction-id",
        "parking-order get --sub-mchid",
        "parking-order get (merchant)",
        "admin API without its token",
        "admin: POST /sim/orders",
        "notification received and verified",
        "order get confirms it",
        "order create --scene jsapi",
        "invoke parameters signed",
        "admin: POST /sim/request-payment",
        "payment notification verified",
        "order get confirms the payment",
        "all 22 steps behaved as expected",
    ] {
        assert!(out.contains(step), "{step} missing from:\n{out}");
    }
    assert_no_secrets(&out);
}

#[test]
fn verbose_logs_go_to_stderr_without_secrets() {
    let env = setup();
    let o = env.run(&["-vv", "order", "get", "--out-trade-no", "SIM_NOTPAY_0001"]);
    assert_eq!(json(&o)["trade_state"], "NOTPAY");
    let err = stderr(&o);
    assert!(!err.is_empty(), "-vv should log something");
    assert_no_secrets(&err);
    assert!(!err.to_lowercase().contains("authorization"), "{err}");
}

#[test]
fn sim_subcommand_behaves_like_the_simulator_binary() {
    let o = Command::new(BIN).env_clear().args(["sim", "--bogus"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--bogus"));
    let dir = std::env::temp_dir().join(format!("wechatpay-cli-sim-{}", std::process::id()));
    let mut child = Command::new(BIN)
        .args(["sim", "--addr", "127.0.0.1:0", "--state-dir", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.starts_with("listening on http://127.0.0.1:"), "{first}");
    let env = std::fs::read_to_string(dir.join("env")).unwrap();
    assert!(env.contains("WECHATPAY_MCHID=") && env.contains("WECHATPAY_BASE_URL=http://127.0.0.1:"));
    let _ = std::fs::remove_dir_all(dir);
}

// ---- Hostile servers, hostile input, closed pipes ----

/// What a [`serve`]d connection gets: status, extra headers, body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// A loopback HTTP server answering every request with `respond(path)` (test code: the
/// simulator cannot send these bodies). Runs until the test process ends.
fn serve(respond: impl Fn(&str) -> Answer + Send + 'static) -> String {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let _ = reader.read_line(&mut head);
            let path = head.split(' ').nth(1).unwrap_or("").to_owned();
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let (status, headers, body) = respond(&path);
            let mut out = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let _ = stream.write_all(out.as_bytes()).and_then(|()| stream.write_all(&body));
        }
    });
    url
}

/// The four signature headers, signed with the simulator's throwaway WeChat Pay key.
fn signed(body: &[u8]) -> Vec<(String, String)> {
    use base64::Engine as _;
    use wechatpay_core::crypto::Signer as _;
    let pem = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../wechatpay-sim/testdata/wechatpay_key.pem"))
        .unwrap();
    let key = wechatpay_core::PrivateKey::from_pem(&pem).unwrap();
    let ts = wechatpay_core::unix_now().to_string();
    let mut msg = format!("{ts}\nNONCE\n").into_bytes();
    msg.extend_from_slice(body);
    msg.push(b'\n');
    let sig = base64::engine::general_purpose::STANDARD.encode(key.sign(&msg).unwrap());
    vec![
        ("Wechatpay-Timestamp".into(), ts),
        ("Wechatpay-Nonce".into(), "NONCE".into()),
        ("Wechatpay-Signature".into(), sig),
        ("Wechatpay-Serial".into(), "PUB_KEY_ID_0114232019092600000000000000000001".into()),
        ("Request-ID".into(), "HOSTILE-1".into()),
    ]
}

/// Raw bytes a terminal would act on.
fn assert_no_raw_controls(text: &str) {
    for c in ['\u{1b}', '\u{7}', '\u{9b}', '\u{85}', '\r', '\u{7f}', '\u{202e}'] {
        assert!(!text.contains(c), "raw {c:?} in output: {text:.300}");
    }
}

const MIB3: usize = 3 * 1024 * 1024;

fn hostile_errors(path: &str) -> Answer {
    let message = format!("bad\nerror: forged line\r\u{1b}[2J\u{7}\u{9b}31m\u{202e}{}", "m".repeat(MIB3));
    let body = if path.contains("SIGN") {
        serde_json::json!({"code": "SIGN_ERROR", "message": "sig", "detail": {"field": "signature",
            "sign_information": {"truncated_sign_message": "GET\nerror: forged\n\u{1b}]0;pwned\u{7}\u{9b}1m\n\n"}}})
    } else {
        serde_json::json!({"code": "PARAM_ERROR\u{1b}[31m", "message": message,
            "detail": {"field": "f\nerror: x", "issue": "\u{1b}[1mi"}})
    };
    (if path.contains("SIGN") { 401 } else { 400 }, vec![], body.to_string().into_bytes())
}

#[test]
fn hostile_error_text_is_escaped_on_one_line_and_cut() {
    let env = setup();
    let url = serve(hostile_errors);
    let hosts = [("WECHATPAY_BASE_URL", url.as_str()), ("WECHATPAY_BACKUP_URL", url.as_str())];
    let err = failed(&env.run_with(&["order", "get", "--out-trade-no", "HOSTILE_1"], &hosts), 3);
    assert_no_raw_controls(&err);
    assert_eq!(err.lines().filter(|l| l.starts_with("error")).count(), 1, "{err:.600}");
    assert!(err.starts_with("error: WeChat Pay answered HTTP 400 PARAM_ERROR\\u{1b}[31m: bad\\nerror: forged line\\r\\u{1b}[2J\\u{7}\\u{9b}31m\\u{202e}mmm"), "{err:.600}");
    assert!(err.contains(&format!("… ({} bytes in all)", MIB3 + 36)), "{err:.900}");
    assert!(err.len() < 4096, "{} bytes of stderr for a 3 MiB message", err.len());

    let err = failed(&env.run_with(&["order", "get", "--out-trade-no", "SIGN_1"], &hosts), 3);
    assert_no_raw_controls(&err);
    assert_eq!(err.lines().filter(|l| l.starts_with("error")).count(), 1, "{err}");
    assert!(err.contains("    GET\\n\n    error: forged\\n\n    \\u{1b}]0;pwned\\u{7}\\u{9b}1m\\n\n"), "{err}");

    // get-many: the message is JSON-escaped (C1 included) or CSV-escaped, and cut.
    let input = env.dir.join("hostile.txt");
    std::fs::write(&input, "HOSTILE_2\nSIGN_2\n").unwrap();
    let o = env.run_with(&["order", "get-many", "--input", input.to_str().unwrap()], &hosts);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = stdout(&o);
    assert_no_raw_controls(&out);
    assert_no_raw_controls(&stderr(&o));
    assert_eq!(out.lines().count(), 2, "{out:.600}");
    assert!(out.len() < 4096, "{} bytes of output", out.len());
    assert!(out.contains(r"bad\nerror: forged line\r\u001b[2J\u0007\u009b31m\u202emmm"), "{out:.600}");
    let first: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert!(first["error"]["message"].as_str().unwrap().ends_with(&format!("… ({} bytes in all)", MIB3 + 36)));
    let o = env.run_with(&["order", "get-many", "--input", input.to_str().unwrap(), "--format", "csv"], &hosts);
    let out = stdout(&o);
    assert_no_raw_controls(&out);
    assert_eq!(out.lines().count(), 3, "{out:.600}");
    assert!(out.contains(r"bad\nerror: forged line\r\u{1b}[2J\u{7}\u{9b}31m\u{202e}mmm"), "{out:.600}");
}

#[test]
fn csv_cells_are_quoted_and_never_formulas() {
    let env = setup();
    let order = serde_json::json!({
        "mchid": "1230000109", "out_trade_no": "-CSV_1", "trade_state": "=HYPERLINK(\"http://x\",\"y\")",
        "trade_state_desc": "desc\u{9b}\u{85}", "transaction_id": "@SUM(1+1)*cmd|' /C calc'!A0",
        "amount": {"total": 7}
    });
    env.sim.add_order(OrderKind::Direct, order).unwrap();
    let input = env.dir.join("csv.txt");
    std::fs::write(&input, "-CSV_1\n=1+1\n+SUM(1)\n").unwrap();
    let o = env.run(&["order", "get-many", "--input", input.to_str().unwrap(), "--format", "csv"]);
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 4, "{out}");
    assert_eq!(
        rows[1],
        "'-CSV_1,ok,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'@SUM(1+1)*cmd|' /C calc'!A0,7,,200,,,"
    );
    assert!(rows[2].starts_with("'=1+1,error,,,,,,INVALID_INPUT,,"), "{}", rows[2]);
    assert!(rows[3].starts_with("'+SUM(1),error,"), "{}", rows[3]);
    // JSON Lines escape the C1 controls that serde_json would leave raw.
    let o = env.run(&["order", "get-many", "--input", input.to_str().unwrap()]);
    let out = stdout(&o);
    assert_no_raw_controls(&out);
    assert!(out.contains(r#""trade_state_desc":"desc\u009b\u0085""#), "{out}");
    let o = env.run(&["order", "get", "--out-trade-no=-CSV_1"]);
    assert_eq!(json(&o)["trade_state_desc"], "desc\u{9b}\u{85}");
    assert!(stdout(&o).contains(r#""desc\u009b\u0085""#));
}

#[test]
fn unknown_numbers_keep_their_digits() {
    let env = setup();
    let body = r#"{"mchid":"1230000109","out_trade_no":"BIG_1","trade_state":"SUCCESS","trade_state_desc":"ok","big":123456789012345678901234567890,"exp":1e2,"nested":{"n":[123456789012345678901234567890, 1e2]},"amount":{"total":1,"fx":1e2}}"#;
    let url = serve(move |_| (200, signed(body.as_bytes()), body.as_bytes().to_vec()));
    let hosts = [("WECHATPAY_BASE_URL", url.as_str()), ("WECHATPAY_BACKUP_URL", url.as_str())];
    let o = env.run_with(&["order", "get", "--out-trade-no", "BIG_1"], &hosts);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        r#""big": 123456789012345678901234567890"#,
        r#""exp": 1e2"#,
        r#""nested": {"n":[123456789012345678901234567890,1e2]}"#,
        r#""fx": 1e2"#,
    ] {
        assert!(out.contains(needle), "{needle} missing: {out}");
    }
    let input = env.dir.join("big.txt");
    std::fs::write(&input, "BIG_1\n").unwrap();
    let o = env.run_with(&["order", "get-many", "--input", input.to_str().unwrap()], &hosts);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains(r#""big":123456789012345678901234567890,"#), "{out}");
    assert!(out.contains(r#""nested":{"n":[123456789012345678901234567890,1e2]}"#), "{out}");
    assert!(out.contains(r#""exp":1e2"#) && out.contains(r#""fx":1e2"#), "{out}");
}

/// Runs get-many over `lines` with stdout piped, reads one line, closes the pipe, and
/// returns how long the process took to end after that, its exit status and its stderr.
fn read_one_line_then_close(env: &Env, lines: &[&str]) -> (std::time::Duration, Option<i32>, String) {
    read_one_line_then_close_of(env, &["order", "get-many"], lines)
}

/// [`read_one_line_then_close`] for any `get-many` command (`command` before `--input`).
fn read_one_line_then_close_of(
    env: &Env,
    command: &[&str],
    lines: &[&str],
) -> (std::time::Duration, Option<i32>, String) {
    use std::io::{BufRead as _, BufReader, Read as _};
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let input = env.dir.join("many.txt");
    std::fs::write(&input, lines.join("\n")).unwrap();
    let mut child = Command::new(BIN)
        .env_clear()
        .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .args(command)
        .args(["--input", input.to_str().unwrap(), "--concurrency", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.contains("INVALID_INPUT"), "{first}");
    drop(out);
    let closed = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if closed.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = closed.elapsed();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (took, status.and_then(|s| s.code()), err)
}

#[test]
fn get_many_ends_quietly_when_stdout_closes_even_after_a_slow_answer() {
    use std::time::Duration;
    let env = setup();
    // Line 1 is never sent (an invalid id), so it prints at once and the reader closes.
    // Slow: line 2 is the only order sent and answers slowly (a delay, or a 429 and a
    // retry), while the other worker runs through the never-sent lines into the reorder
    // window and waits there: the printer meets the closed pipe only when line 2 arrives.
    let mut slow = vec!["../bad", "SIM_NOTPAY_0001"];
    slow.extend(std::iter::repeat_n("../bad", 400));
    // Fast: every line answered at once.
    let mut fast = vec!["../bad"];
    fast.extend((0..400).map(|i| ["SIM_NOTPAY_0001", "SIM_CLOSED_0001", "NO_SUCH_1"][i % 3]));
    for (fault, lines) in [
        (None, &fast),
        (Some(Fault::Delay(Duration::from_millis(800))), &slow),
        (Some(Fault::RateLimited), &slow),
        // Never answered: the closed pipe is noticed without a line to write.
        (Some(Fault::Hang), &slow),
    ] {
        env.sim.clear_faults();
        if let Some(fault) = fault.clone() {
            env.sim.inject(fault, Times::Next(1), Some(Route::DirectByOutTradeNo));
        }
        let (took, code, err) = read_one_line_then_close(&env, lines);
        eprintln!("{fault:?}: ended {took:?} after stdout closed");
        assert!(took < Duration::from_secs(2), "{fault:?}: still running {took:?} after stdout closed");
        assert_eq!(code, Some(0), "{fault:?}: {err}");
        assert!(err.is_empty(), "{fault:?}: a closed pipe is not an error: {err}");
    }
}

#[test]
fn get_many_input_bom_bad_lines_blank_lines_and_directories() {
    let env = setup();
    let mut input = b"\xEF\xBB\xBFSIM_NOTPAY_0001\r\n\n# a comment\nNO_SUCH_1\n\xff\xfe\xfd\n".to_vec();
    input.extend(std::iter::repeat_n(b'9', 10_000));
    input.extend(b"\n   \nSIM_CLOSED_0001\n");
    let path = env.dir.join("edge.txt");
    std::fs::write(&path, &input).unwrap();
    let o = env.run(&["order", "get-many", "--input", path.to_str().unwrap()]);
    let out = stdout(&o);
    let got: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got.len(), 5, "{out}");
    assert_eq!(got[0]["trade_state"], "NOTPAY", "the BOM is ignored: {out}");
    assert_eq!(got[1]["error"]["code"], "ORDER_NOT_EXIST");
    assert_eq!(got[2]["error"]["code"], "INVALID_INPUT");
    assert_eq!(got[2]["error"]["message"], "line 5: not valid UTF-8 (at byte 0)");
    assert_eq!(got[2]["error"]["exit_code"], 2);
    assert_eq!(got[3]["error"]["code"], "INVALID_INPUT");
    assert!(
        got[3]["error"]["message"].as_str().unwrap().starts_with("line 6: longer than 4096 bytes (10000 bytes)"),
        "{out}"
    );
    assert!(out.lines().nth(3).unwrap().len() < 400, "a long line is not echoed whole");
    assert_eq!(got[4]["trade_state"], "CLOSED", "lines after bad ones are still queried");
    let err = stderr(&o);
    assert!(err.contains("5 orders, 2 ok, 3 failed"), "{err}");
    assert!(err.contains("3 blank or comment line(s) skipped"), "{err}");
    assert_eq!(o.status.code(), Some(3), "{err}");
    // A directory is a usage error, like a missing file.
    let err = failed(&env.run(&["order", "get-many", "--input", env.dir.to_str().unwrap()]), 2);
    assert!(err.contains("cannot read --input") && err.contains("directory"), "{err}");
}

#[cfg(target_os = "linux")]
#[test]
fn get_many_memory_stays_bounded_on_a_huge_line() {
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::process::Stdio;
    let env = setup();
    let mut child = Command::new(BIN)
        .env_clear()
        .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .args(["order", "get-many", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'7'; 1 << 20];
        for _ in 0..64 {
            stdin.write_all(&chunk).unwrap();
        }
        stdin.write_all(b"\nSIM_NOTPAY_0001\n").unwrap();
        stdin
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    // Both lines are answered while stdin is still open: read the peak resident size now.
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let peak_kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    drop(writer.join().unwrap());
    assert_eq!(child.wait().unwrap().code(), Some(2), "a bad line exits 2");
    assert!(first.len() < 400, "the 64 MiB line is not echoed: {} bytes", first.len());
    assert!(first.contains("longer than 4096 bytes (67108864 bytes)"), "{first:.300}");
    assert!(second.contains("NOTPAY"), "{second}");
    eprintln!("peak resident size {peak_kib} KiB after a 64 MiB line");
    assert!(peak_kib < 48 * 1024, "peak resident size {peak_kib} KiB for a 64 MiB line");
}

/// The state lines a watch wrote on stderr, without the `watch: [N s] ` prefix.
fn watch_lines(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter_map(|l| l.strip_prefix("watch: ["))
        .map(|l| l.split_once("] ").unwrap().1.to_owned())
        .collect()
}

#[test]
fn close_prints_exactly_one_line_of_json() {
    let env = setup();
    let o = env.run(&["order", "close", "--out-trade-no", "SIM_NOTPAY_0001"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"out_trade_no\":\"SIM_NOTPAY_0001\",\"closed\":true}\n");
    assert_eq!(json(&env.run(&["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"]))["trade_state"], "CLOSED");
    // Reentrant.
    assert_eq!(json(&env.run(&["order", "close", "--out-trade-no", "SIM_NOTPAY_0001"]))["closed"], true);
    assert_eq!(env.sim.requests_for(Route::CloseDirect), 2);

    let order = serde_json::json!({"sp_mchid": "1230000109", "sub_mchid": "1900000109", "out_trade_no": "P|1",
        "trade_state": "NOTPAY", "trade_state_desc": "未支付"});
    env.sim.add_order(OrderKind::Partner, order).unwrap();
    let o = env.run(&["partner-order", "close", "--out-trade-no", "P|1", "--sub-mchid", "1900000109"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"out_trade_no\":\"P|1\",\"closed\":true}\n");
    assert_eq!(env.sim.requests_for(Route::ClosePartner), 1);

    let err = failed(&env.run(&["order", "close", "--out-trade-no", "1217752501201407033233368018"]), 3);
    assert!(err.contains("ORDER_PAID"), "{err}");
    let err = failed(&env.run(&["order", "close", "--out-trade-no", "NO_SUCH_ORDER"]), 3);
    assert!(err.contains("ORDER_NOT_EXIST"), "{err}");
    let args = ["partner-order", "close", "--out-trade-no", "P|1", "--sub-mchid", "1900000999"];
    assert!(failed(&env.run(&args), 3).contains("INVALID_REQUEST"));
    failed(&env.run(&["order", "close", "--out-trade-no", "../x"]), 2);
    failed(&env.run(&["partner-order", "close", "--out-trade-no", "A"]), 2);
    // An empty body leaves nothing to tamper with; an old signature is refused all the same.
    env.sim.inject(Fault::StaleTimestamp, Times::Next(1), Some(Route::CloseDirect));
    failed(&env.run(&["order", "close", "--out-trade-no", "SIM_NOTPAY_0001"]), 4);
    let o = env.run_with(
        &["order", "close", "--out-trade-no", "SIM_NOTPAY_0001", "--timeout", "1"],
        &[("WECHATPAY_BASE_URL", "http://127.0.0.1:9"), ("WECHATPAY_BACKUP_URL", "http://127.0.0.1:9")],
    );
    failed(&o, 5);
}

#[test]
fn watch_prints_the_final_order_as_get_does() {
    let env = setup();
    env.sim.pay_after_queries(OrderKind::Direct, "SIM_NOTPAY_0001", 2).unwrap();
    let o = env.run(&["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--interval", "0.1"]);
    let order = json(&o);
    assert_eq!(order["trade_state"], "SUCCESS");
    assert_eq!(watch_lines(&o), ["NOTPAY", "NOTPAY -> SUCCESS"]);
    let get = env.run(&["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"]);
    assert_eq!(stdout(&o), stdout(&get), "watch prints the order exactly as get does");
    // By transaction id, a final order is one query and no wait.
    let o = env.run(&["order", "watch", "--transaction-id", "4200000985202103031441826014"]);
    assert_eq!(json(&o)["trade_state"], "SUCCESS");
    assert_eq!(watch_lines(&o), ["SUCCESS"]);
}

#[test]
fn watch_exits_6_at_the_deadline_with_the_last_order() {
    let env = setup();
    let start = std::time::Instant::now();
    let o = env.run(&["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--deadline", "0.3", "--interval", "0.1"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let order: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(order["trade_state"], "NOTPAY");
    assert_eq!(watch_lines(&o), ["NOTPAY"], "one line per change, not per query");
    assert!(stderr(&o).contains("still pending"), "{}", stderr(&o));
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(env.sim.requests_for(Route::CloseDirect), 0);
    // USERPAYING is never closed, even when asked to.
    let args = ["order", "watch", "--out-trade-no", "SIM_USERPAYING_0001", "--deadline", "0", "--close-if-unpaid"];
    let o = env.run(&args);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert_eq!(env.sim.requests_for(Route::CloseDirect), 0);
}

#[test]
fn watch_closes_an_unpaid_order_at_the_deadline_when_asked() {
    let env = setup();
    let args = [
        "order",
        "watch",
        "--out-trade-no",
        "SIM_NOTPAY_0001",
        "--deadline",
        "0.2",
        "--interval",
        "0.1",
        "--close-if-unpaid",
    ];
    let o = env.run(&args);
    assert_eq!(json(&o)["trade_state"], "CLOSED");
    assert_eq!(watch_lines(&o), ["NOTPAY", "NOTPAY -> CLOSED"]);
    assert_eq!(env.sim.requests_for(Route::CloseDirect), 1);
}

#[test]
fn watch_sees_a_payment_before_the_deadline() {
    let env = setup();
    let order = serde_json::json!({"sp_mchid": "1230000109", "sub_mchid": "1900000109", "out_trade_no": "P2",
        "trade_state": "NOTPAY", "trade_state_desc": "未支付"});
    env.sim.add_order(OrderKind::Partner, order).unwrap();
    env.sim.pay_after(OrderKind::Partner, "P2", std::time::Duration::from_millis(300)).unwrap();
    let args = [
        "partner-order",
        "watch",
        "--out-trade-no",
        "P2",
        "--sub-mchid",
        "1900000109",
        "--deadline",
        "20",
        "--interval",
        "0.1",
        "--close-if-unpaid",
    ];
    let o = env.run(&args);
    let order = json(&o);
    assert_eq!((order["trade_state"].as_str(), order["sub_mchid"].as_str()), (Some("SUCCESS"), Some("1900000109")));
    assert!(order["transaction_id"].is_string());
    assert_eq!(watch_lines(&o), ["NOTPAY", "NOTPAY -> SUCCESS"]);
    assert_eq!(env.sim.requests_for(Route::ClosePartner), 0);
}

#[test]
fn watch_stops_on_an_unknown_state_and_escapes_it() {
    let env = setup();
    env.sim.schedule(OrderKind::Direct, "SIM_NOTPAY_0001", "NEW\u{1b}[2J", wechatpay_sim::After::Queries(1)).unwrap();
    let o = env.run(&["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--interval", "0.1", "--close-if-unpaid"]);
    assert_eq!(json(&o)["trade_state"], "NEW\u{1b}[2J");
    assert_eq!(watch_lines(&o), ["NOTPAY", "NOTPAY -> NEW\\u{1b}[2J"]);
    assert_no_raw_controls(&stderr(&o));
}

#[test]
fn parking_orders_are_watched_and_never_closed() {
    let env = setup();
    env.sim.pay_after_queries(OrderKind::Parking, "SIM_PARKING_0001", 1).unwrap();
    let o = env.run(&["parking-order", "watch", "--out-trade-no", "SIM_PARKING_0001", "--interval", "0.1"]);
    assert_eq!(json(&o)["trade_state"], "SUCCESS");
    assert_eq!(watch_lines(&o), ["ACCEPTED", "ACCEPTED -> SUCCESS"]);
    let o = env.run(&["parking-order", "watch", "--out-trade-no", "20150806125346", "--sub-mchid", "1900000109"]);
    assert_eq!(json(&o)["trade_state"], "SUCCESS");
    failed(&env.run(&["parking-order", "watch", "--out-trade-no", "SIM_PARKING_0001", "--close-if-unpaid"]), 2);
}

#[test]
fn watch_failures_keep_their_exit_codes_and_an_empty_stdout() {
    let env = setup();
    for bad in [
        &["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--interval", "0.05"][..],
        &["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--interval", "abc"],
        &["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--interval", "NaN"],
        &["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--deadline", "-1"],
        &["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--deadline", "inf"],
        &["order", "watch"],
        &["order", "watch", "--out-trade-no", "../x"],
        &["partner-order", "watch", "--out-trade-no", "A"],
        &["partner-order", "watch", "--out-trade-no", "A", "--sub-mchid", "x"],
    ] {
        failed(&env.run(bad), 2);
    }
    assert_eq!(env.sim.requests_seen(), 0, "nothing is sent on invalid input");
    let err = failed(&env.run(&["order", "watch", "--out-trade-no", "NO_SUCH_ORDER"]), 3);
    assert!(err.contains("ORDER_NOT_EXIST"), "{err}");
    failed(&env.run(&["parking-order", "watch", "--out-trade-no", "NO_SUCH_ORDER"]), 3);
    env.sim.inject(Fault::TamperedBody, Times::Always, Some(Route::DirectByOutTradeNo));
    failed(&env.run(&["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--interval", "0.1"]), 4);
    let o = env.run_with(
        &["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--timeout", "1"],
        &[("WECHATPAY_BASE_URL", "http://127.0.0.1:9"), ("WECHATPAY_BACKUP_URL", "http://127.0.0.1:9")],
    );
    failed(&o, 5);
}

/// Runs a `get-many` command over `lines` (written to a file) with `extra` flags.
fn get_many(env: &Env, command: &[&str], lines: &[&str], extra: &[&str]) -> Output {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let input = env.dir.join(format!("bulk-{n}.txt"));
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let mut args: Vec<&str> = command.to_vec();
    args.extend(["--input", input.to_str().unwrap()]);
    args.extend(extra);
    env.run(&args)
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn order_get_many_by_transaction_id() {
    let env = setup();
    let lines = ["4200000985202103031441826014", "4200000000000000000000000000", "x-1", "4200000987202103031441826016"];
    let o = get_many(&env, &["order", "get-many", "--by", "transaction-id"], &lines, &["--concurrency", "3"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let got = json_lines(&o);
    assert_eq!(got.len(), 4, "{}", stdout(&o));
    assert_eq!(got[0]["out_trade_no"], "1217752501201407033233368018");
    assert_eq!(got[0]["transaction_id"], lines[0]);
    assert_eq!(got[1]["transaction_id"], lines[1], "error lines are keyed by the input's field");
    assert_eq!(got[1]["error"]["code"], "ORDER_NOT_EXIST");
    assert!(got[1].get("out_trade_no").is_none(), "{}", got[1]);
    assert_eq!(got[2]["transaction_id"], "x-1");
    assert_eq!(got[2]["error"]["code"], "INVALID_INPUT");
    assert!(got[2]["error"]["message"].as_str().unwrap().contains("invalid transaction_id"), "{}", got[2]);
    assert_eq!(got[3]["out_trade_no"], "SIM_REFUND_0001");
    assert!(stderr(&o).contains("get-many: 4 orders, 2 ok, 2 failed"), "{}", stderr(&o));
    // CSV: the same columns; a failed transaction id sits in its own column.
    let o = get_many(&env, &["order", "get-many", "--by", "transaction-id"], &lines[..2], &["--format", "csv"]);
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().collect();
    assert!(rows[0].starts_with("out_trade_no,result,trade_state,transaction_id,total_fen"), "{out}");
    assert!(rows[1].starts_with("1217752501201407033233368018,ok,SUCCESS,4200000985202103031441826014,"), "{out}");
    assert!(rows[2].starts_with(",error,,4200000000000000000000000000,,,404,ORDER_NOT_EXIST,"), "{out}");
    // A line too long to be an id names the field.
    let long = "4".repeat(5000);
    let o = get_many(&env, &["order", "get-many", "--by", "transaction-id"], &[&long], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stdout(&o).contains("a transaction_id has at most 32"), "{}", stdout(&o));
    // By out_trade_no, the default, is still the default.
    let o = get_many(&env, &["order", "get-many", "--by", "out-trade-no"], &["SIM_NOTPAY_0001"], &[]);
    assert_eq!(json_lines(&o)[0]["trade_state"], "NOTPAY");
}

#[test]
fn partner_order_get_many() {
    let env = setup();
    let cmd = ["partner-order", "get-many", "--sub-mchid", "1900000109"];
    let lines = ["1217752501201407033233368018", "NO_SUCH_1", "SIM_PARTNER_NOTPAY_0001", "../x"];
    let o = get_many(&env, &cmd, &lines, &["--concurrency", "4"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let got = json_lines(&o);
    assert_eq!(got.len(), 4, "{}", stdout(&o));
    assert_eq!(got[0]["sub_mchid"], "1900000109");
    assert_eq!(got[0]["sp_mchid"], env.var("WECHATPAY_MCHID").unwrap());
    assert_eq!(got[0]["out_trade_no"], lines[0]);
    assert_eq!(got[1]["out_trade_no"], "NO_SUCH_1");
    assert_eq!(got[1]["error"]["code"], "ORDER_NOT_EXIST");
    assert_eq!(got[2]["trade_state"], "NOTPAY");
    assert_eq!(got[3]["error"]["code"], "INVALID_INPUT");
    assert_eq!(got[3]["error"]["exit_code"], 2);
    // By transaction id, in CSV.
    let mut by_id = cmd.to_vec();
    by_id.extend(["--by", "transaction-id"]);
    let o = get_many(&env, &by_id, &["4200000991202103031441826020"], &["--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.lines().nth(1).unwrap().contains(",ok,") && out.contains("4200000991202103031441826020"), "{out}");
    // A forged answer is that line's verification failure: exit 4, the other lines answered.
    env.sim.inject(Fault::TamperedBody, Times::Next(1), Some(Route::PartnerByOutTradeNo));
    let o = get_many(&env, &cmd, &lines[..1], &[]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(json_lines(&o)[0]["error"]["code"], "VERIFICATION_FAILED");
    assert!(!stdout(&o).contains("oUpF8u"), "no data of a forged answer: {}", stdout(&o));
    // An invalid --sub-mchid is refused while parsing: nothing is sent.
    let before = env.sim.requests_seen();
    let err = failed(&get_many(&env, &["partner-order", "get-many", "--sub-mchid", "1a"], &lines, &[]), 2);
    assert!(err.contains("invalid sub_mchid"), "{err}");
    let err = failed(&get_many(&env, &["partner-order", "get-many"], &lines, &[]), 2);
    assert!(err.contains("--sub-mchid"), "{err}");
    assert_eq!(env.sim.requests_seen(), before);
}

#[test]
fn parking_order_get_many() {
    let env = setup();
    // As a service provider, with --sub-mchid.
    let lines = ["20150806125346", "NO_SUCH_PARKING", "=1+1"];
    let o = get_many(&env, &["parking-order", "get-many", "--sub-mchid", "1900000109"], &lines, &["--format", "csv"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 4, "{out}");
    assert!(rows[1].starts_with("20150806125346,ok,"), "{out}");
    assert!(rows[2].starts_with("NO_SUCH_PARKING,error,"), "{out}");
    assert!(rows[3].starts_with("'=1+1,error,,,,,,INVALID_INPUT,"), "a formula is neutralised: {out}");
    // As a merchant: JSON Lines, input order kept, the parking fields printed whole.
    let lines = ["SIM_PARKING_0001", "SIM_PARKING_BPA_0001", "SIM_PARKING_0001"];
    let o = get_many(&env, &["parking-order", "get-many"], &lines, &["--concurrency", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = json_lines(&o);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0]["trade_state"], "ACCEPTED");
    assert_eq!(got[0]["parking_info"]["plate_color"], "GREEN");
    assert_eq!(got[1]["bank_type"], "BPA");
    assert_eq!(got[2]["out_trade_no"], "SIM_PARKING_0001");
    assert!(stderr(&o).contains("get-many: 3 orders, 3 ok, 0 failed"), "{}", stderr(&o));
    // Transport failures are exit 5 and each line says so.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let input = env.dir.join("parking.txt");
    std::fs::write(&input, "SIM_PARKING_0001\n").unwrap();
    let o = env.run_with(
        &["parking-order", "get-many", "--input", input.to_str().unwrap()],
        &[("WECHATPAY_BASE_URL", &closed), ("WECHATPAY_BACKUP_URL", &closed), ("WECHATPAY_TIMEOUT", "2")],
    );
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(json_lines(&o)[0]["error"]["code"], "TRANSPORT_FAILED");
}

#[test]
fn every_get_many_ends_quietly_when_stdout_closes() {
    let env = setup();
    let mut lines = vec!["../bad"];
    lines.extend(std::iter::repeat_n("SIM_PARKING_0001", 300));
    let (took, code, err) = read_one_line_then_close_of(&env, &["parking-order", "get-many"], &lines);
    assert!(took < std::time::Duration::from_secs(2), "still running {took:?} after stdout closed");
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let mut lines = vec!["x-1"];
    lines.extend(std::iter::repeat_n("4200000991202103031441826020", 300));
    let (took, code, err) = read_one_line_then_close_of(
        &env,
        &["partner-order", "get-many", "--sub-mchid", "1900000109", "--by", "transaction-id"],
        &lines,
    );
    assert!(took < std::time::Duration::from_secs(2), "still running {took:?} after stdout closed");
    assert_eq!((code, err.as_str()), (Some(0), ""));
}

// ---- wechatpay api ----

#[test]
fn api_get_prints_the_verified_answer_indented_and_post_close_prints_nothing() {
    let env = setup();
    let mchid = env.var("WECHATPAY_MCHID").unwrap().to_owned();
    let target = format!("/v3/pay/transactions/out-trade-no/SIM_NOTPAY_0001?mchid={mchid}");
    let o = env.run(&["api", "GET", &target]);
    let answer = json(&o);
    assert_eq!(answer["out_trade_no"], "SIM_NOTPAY_0001");
    assert_eq!(answer["trade_state"], "NOTPAY");
    let out = stdout(&o);
    assert!(out.starts_with("{\n  \"") && out.ends_with("\n}\n"), "pretty, one document: {out}");
    // The same document `order get` prints, field for field.
    let typed = json(&env.run(&["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"]));
    assert_eq!(answer, typed);
    // A query string of several parameters, percent-encoded as given (`|` is %7C).
    let partner =
        format!("/v3/pay/partner/transactions/id/4200000991202103031441826020?sp_mchid={mchid}&sub_mchid=1900000109");
    assert_eq!(json(&env.run(&["api", "get", &partner]))["sub_mchid"], "1900000109");
    let pipe = format!("/v3/pay/transactions/out-trade-no/SIM%7CPIPE*0001?mchid={mchid}");
    assert_eq!(json(&env.run(&["api", "GET", &pipe]))["out_trade_no"], "SIM|PIPE*0001");

    // POST close: 204, nothing on stdout, and the order is closed.
    let close = "/v3/pay/transactions/out-trade-no/SIM_NOTPAY_0001/close";
    let body = format!("{{\"mchid\": \"{mchid}\"}}");
    let o = env.run(&["api", "POST", close, "--body", &body]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "a 204 prints nothing: {:?}", stdout(&o));
    assert_eq!(json(&env.run(&["api", "GET", &target]))["trade_state"], "CLOSED");
    // --body-file, and - for standard input.
    for no in ["API_NOTPAY_1", "API_NOTPAY_2"] {
        let order = serde_json::json!({"mchid": mchid, "out_trade_no": no, "trade_state": "NOTPAY",
            "trade_state_desc": "未支付", "amount": {"total": 1}});
        env.sim.add_order(OrderKind::Direct, order).unwrap();
    }
    let file = env.dir.join("close.json");
    std::fs::write(&file, &body).unwrap();
    let close2 = "/v3/pay/transactions/out-trade-no/API_NOTPAY_1/close";
    let o = env.run(&["api", "POST", close2, "--body-file", file.to_str().unwrap()]);
    assert_eq!((o.status.code(), o.stdout.len()), (Some(0), 0), "{}", stderr(&o));
    let mut child = env
        .command(&[])
        .args(["api", "POST", "/v3/pay/transactions/out-trade-no/API_NOTPAY_2/close", "--body-file", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), body.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!((o.status.code(), o.stdout.len()), (Some(0), 0), "{}", stderr(&o));
    for no in ["API_NOTPAY_1", "API_NOTPAY_2"] {
        let state = json(&env.run(&["order", "get", "--out-trade-no", no]))["trade_state"].clone();
        assert_eq!(state, "CLOSED", "{no}");
    }

    // WeChat Pay's errors: exit 3 with the code, as for every command.
    let err = failed(&env.run(&["api", "GET", &format!("/v3/pay/transactions/out-trade-no/NOPE?mchid={mchid}")]), 3);
    assert!(err.contains("404") && err.contains("ORDER_NOT_EXIST"), "{err}");
}

#[test]
fn api_refuses_invalid_input_with_exit_2_before_anything_is_sent() {
    let env = setup();
    let before = env.sim.requests_seen();
    let file = env.dir.join("not.json");
    std::fs::write(&file, b"{\"mchid\":\xff}").unwrap();
    for (args, needle) in [
        (vec!["api", "GET", "/v2/pay"], "invalid target"),
        (vec!["api", "GET", "v3/pay"], "starting with /v3/"),
        (vec!["api", "GET", "/v3/pay transactions"], "percent-encoded"),
        (vec!["api", "GET", "/v3/粤B"], "invalid target"),
        (vec!["api", "GET", "/v3/x%zz"], "two hex digits"),
        (vec!["api", "GET", "https://api.mch.weixin.qq.com/v3/x"], "invalid target"),
        (vec!["api", "POST", "/v3/x", "--body", "{\"a\":"], "invalid body"),
        (vec!["api", "POST", "/v3/x", "--body", "mchid=1"], "rule: one JSON document"),
        (vec!["api", "POST", "/v3/x", "--body", "{} {}"], "invalid body"),
        (vec!["api", "POST", "/v3/x", "--body-file", file.to_str().unwrap()], "not UTF-8"),
        (vec!["api", "POST", "/v3/x", "--body-file", "/nonexistent.json"], "cannot read"),
        (vec!["api", "POST", "/v3/x", "--body", "{}", "--body-file", "x"], "cannot be used with"),
        (vec!["api", "G T", "/v3/x"], "invalid method"),
        (vec!["api", "GET"], "required"),
    ] {
        let err = failed(&env.run(&args), 2);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Checked before the configuration is read.
    let err = failed(&env.run_with(&["api", "GET", "/v2/x"], &[("WECHATPAY_MCHID", "")]), 2);
    assert!(err.contains("invalid target"), "{err}");
    assert_eq!(env.sim.requests_seen(), before, "nothing may be sent for invalid input");
}

#[test]
fn api_answers_are_verified_like_any_other() {
    let env = setup();
    let mchid = env.var("WECHATPAY_MCHID").unwrap().to_owned();
    let target = format!("/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid={mchid}");
    for fault in [Fault::TamperedBody, Fault::UnsignedOk, Fault::UnknownSerial, Fault::StaleTimestamp] {
        env.sim.inject(fault.clone(), Times::Always, Some(Route::DirectByOutTradeNo));
        let err = failed(&env.run(&["api", "GET", &target]), 4);
        assert!(err.contains("verification failed"), "{fault:?}: {err}");
        assert!(!err.contains("oUpF8uMuAJO"), "no response data on a failed verification: {err}");
        env.sim.clear_faults();
    }
    // An unsigned 204 to a close is not a close.
    env.sim.inject(Fault::UnsignedOk, Times::Always, Some(Route::CloseDirect));
    let body = format!("{{\"mchid\":\"{mchid}\"}}");
    let close = "/v3/pay/transactions/out-trade-no/SIM_NOTPAY_0001/close";
    failed(&env.run(&["api", "POST", close, "--body", &body]), 4);
    env.sim.clear_faults();
    env.sim.inject(Fault::InvalidJson, Times::Always, None);
    failed(&env.run(&["api", "GET", &target]), 1);
    env.sim.clear_faults();

    // A hostile server: unsigned answers exit 4 and print nothing; a signed one is printed
    // with every digit, its text escaped.
    let unsigned = serve(|_| (200, vec![], br#"{"trade_state":"SUCCESS","forged":1}"#.to_vec()));
    let hosts = [("WECHATPAY_BASE_URL", unsigned.as_str()), ("WECHATPAY_BACKUP_URL", unsigned.as_str())];
    let err = failed(&env.run_with(&["api", "GET", "/v3/anything"], &hosts), 4);
    assert!(!err.contains("forged"), "{err}");
    let body =
        "{\"big\":123456789012345678901234567890,\"exp\":1e2,\"n\":[1.50,-0],\"m\":\"a\u{9b}2J\u{202e}\\u001b\"}";
    let url = serve(move |_| (200, signed(body.as_bytes()), body.as_bytes().to_vec()));
    let hosts = [("WECHATPAY_BASE_URL", url.as_str()), ("WECHATPAY_BACKUP_URL", url.as_str())];
    let o = env.run_with(&["api", "GET", "/v3/anything?x=%E7%B2%A4"], &hosts);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_no_raw_controls(&out);
    assert_eq!(
        out,
        "{\n  \"big\": 123456789012345678901234567890,\n  \"exp\": 1e2,\n  \"n\": [\n    1.50,\n    -0\n  ],\n  \"m\": \"a\\u009b2J\\u202e\\u001b\"\n}\n"
    );
    // A signed answer that is not JSON is an undecodable answer (exit 1), never printed.
    let url = serve(|_| (200, signed(b"<html>"), b"<html>".to_vec()));
    let hosts = [("WECHATPAY_BASE_URL", url.as_str()), ("WECHATPAY_BACKUP_URL", url.as_str())];
    failed(&env.run_with(&["api", "GET", "/v3/anything"], &hosts), 1);
}

// ---- get-many: CSV input and chosen CSV columns ----

#[test]
fn get_many_reads_a_csv_export() {
    let env = setup();
    // A spreadsheet export: BOM, CRLF, quoted fields (one with a comma, one spanning lines).
    let export = "\u{feff}交易时间,商户订单号,\"备注, 含逗号\"\r\n\
                  2024-01-01,SIM_NOTPAY_0001,\"a \"\"quote\"\"\"\r\n\
                  2024-01-02,\"SIM_CLOSED_0001\",\"two\r\nlines\"\r\n\
                  2024-01-03,NO_SUCH_1,x\r\n";
    let path = env.dir.join("export.csv");
    std::fs::write(&path, export).unwrap();
    let input = path.to_str().unwrap();
    let o = env.run(&["order", "get-many", "--input", input, "--column", "商户订单号"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let got = json_lines(&o);
    assert_eq!(got.len(), 3, "{}", stdout(&o));
    assert_eq!(got[0]["trade_state"], "NOTPAY");
    assert_eq!(got[1]["trade_state"], "CLOSED");
    assert_eq!(got[2]["error"]["code"], "ORDER_NOT_EXIST");
    assert!(stderr(&o).contains("3 orders, 2 ok, 1 failed"), "{}", stderr(&o));
    // A column that is not there: exit 2 before anything is sent.
    let before = env.sim.requests_seen();
    let err = failed(&env.run(&["order", "get-many", "--input", input, "--column", "out_trade_no"]), 2);
    assert!(err.contains("--column out_trade_no: no such column"), "{err}");
    assert_eq!(env.sim.requests_seen(), before);

    // Without --column, a header naming the field is used as such (here from stdin).
    let csv = "time,out_trade_no,amount\n1,SIM_REFUND_0001,3\n2,\"SIM_NOTPAY_0001\",4\n";
    let mut child = env
        .command(&[])
        .args(["order", "get-many", "--input", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), csv.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = json_lines(&o);
    assert_eq!((got[0]["trade_state"].as_str(), got[1]["trade_state"].as_str()), (Some("REFUND"), Some("NOTPAY")));
    // transaction_id with --by transaction-id, for partner orders too.
    let o = get_many(
        &env,
        &["partner-order", "get-many", "--sub-mchid", "1900000109", "--by", "transaction-id"],
        &["out_trade_no,transaction_id", "x,4200000991202103031441826020"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json_lines(&o)[0]["transaction_id"], "4200000991202103031441826020");
}

#[test]
fn get_many_fields_choose_the_csv_columns() {
    let env = setup();
    let lines = ["1217752501201407033233368018", "NO_SUCH_1", "=1+1"];
    let fields = "out_trade_no,trade_state,amount.total,amount.currency,payer.openid,result,error_code";
    let o = get_many(&env, &["order", "get-many"], &lines, &["--format", "csv", "--fields", fields]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 4, "{out}");
    assert_eq!(rows[0], fields);
    assert!(rows[1].starts_with("1217752501201407033233368018,SUCCESS,"), "{out}");
    assert!(rows[1].ends_with(",CNY,oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,ok,"), "{out}");
    assert_eq!(rows[2], "NO_SUCH_1,,,,,error,ORDER_NOT_EXIST");
    assert_eq!(rows[3], "'=1+1,,,,,error,INVALID_INPUT");
    // Parking orders have their own fields.
    let o = get_many(
        &env,
        &["parking-order", "get-many"],
        &["SIM_PARKING_0001"],
        &["--format", "csv", "--fields", "out_trade_no,parking_info.plate_number,trade_scene"],
    );
    assert_eq!(stdout(&o), "out_trade_no,parking_info.plate_number,trade_scene\nSIM_PARKING_0001,粤B123456,PARKING\n");
    // Refused before anything is sent: --fields without CSV, a name that is not one.
    let before = env.sim.requests_seen();
    let err = failed(&get_many(&env, &["order", "get-many"], &lines, &["--fields", "out_trade_no"]), 2);
    assert!(err.contains("--format csv"), "{err}");
    let err = failed(&get_many(&env, &["order", "get-many"], &lines, &["--format", "csv", "--fields", "a,=b"]), 2);
    assert!(err.contains("invalid --fields"), "{err}");
    assert_eq!(env.sim.requests_seen(), before);
}
