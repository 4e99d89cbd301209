//! Runs the built `wechatpay` binary against the simulator, as a user would, for every
//! command and every exit code. The simulator runs in this process; the binary gets only
//! the variables written by the simulator (the environment is otherwise cleared).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use wechatpay_sim::{Fault, OrderKind, Route, Simulator, Times};

const BIN: &str = env!("CARGO_BIN_EXE_wechatpay");

struct Env {
    sim: Simulator,
    dir: PathBuf,
    vars: Vec<(String, String)>,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn core_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wechatpay-core/tests/data").join(name)
}

fn setup() -> Env {
    static N: AtomicUsize = AtomicUsize::new(0);
    let sim = Simulator::start().unwrap();
    let dir = std::env::temp_dir().join(format!(
        "wechatpay-cli-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    wechatpay_sim::cli::write_state(&dir, &sim).unwrap();
    let vars = std::fs::read_to_string(dir.join("env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    Env { sim, dir, vars }
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], overrides: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.env_clear().envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
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
    assert!(err.contains("GET\\n\n/v3/pay/transactions/out-trade-no/SIM_NOTPAY_0001?mchid=1230000109\\n"), "{err}");
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
        "all 12 steps behaved as expected",
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
