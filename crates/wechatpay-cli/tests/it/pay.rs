//! `order create`, `partner-order create`, `order invoke` and `refund …`: invalid input exits
//! 2 naming the field and the rule with nothing sent (the simulator counts requests), the
//! invoke object verifies with OpenSSL, and the secrets of an abnormal refund never show.
#![allow(clippy::unwrap_used)]

use std::process::Output;

use serde_json::Value;
use wechatpay_sim::Simulator;

use crate::common::{SimEnv, core_data};

/// The app id every test uses (any valid one: the simulator keeps what the order names).
pub(crate) const APPID: &str = "wxd678efh567hg6787";

pub(crate) fn setup() -> SimEnv {
    SimEnv::new(Simulator::start().unwrap())
}

/// Runs the binary with the simulator's variables and `WECHATPAY_APPID`, `overrides` set
/// over them (an empty value removes one).
pub(crate) fn run(env: &SimEnv, args: &[&str], overrides: &[(&str, &str)]) -> Output {
    let mut cmd = env.command(&[]);
    cmd.env("WECHATPAY_APPID", APPID);
    for (k, v) in overrides {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    cmd.args(args).output().unwrap()
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A failed run: `code`, nothing on stdout, no panic; its stderr.
pub(crate) fn failed(o: &Output, code: i32) -> String {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "stdout: {}\nstderr: {err}", text(&o.stdout));
    assert!(o.stdout.is_empty(), "stdout must stay empty on failure: {}", text(&o.stdout));
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// One JSON document on stdout, exit 0.
pub(crate) fn json(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

const CREATE: [&str; 11] = [
    "order",
    "create",
    "--out-trade-no",
    "CLI_PAY_0001",
    "--description",
    "Image形象店-深圳腾大-QQ公仔",
    "--total",
    "1",
    "--notify-url",
    "http://127.0.0.1:9/notify",
    "--scene",
];

/// `order create` (or `partner-order create` with `partner`) in `scene`, with `changes`:
/// `("--flag", "value")` replaces the flag's value or adds it; `("--flag", "")` adds a
/// bare switch; `("-", "--flag")` removes the flag and its value.
pub(crate) fn create_args(partner: bool, scene: &str, changes: &[(&str, &str)]) -> Vec<String> {
    let mut args: Vec<String> = CREATE.iter().map(|s| (*s).to_owned()).collect();
    args.push(scene.to_owned());
    if partner {
        args[0] = "partner-order".to_owned();
        args.extend(["--sub-mchid".to_owned(), "1900000109".to_owned()]);
    }
    for (flag, value) in changes {
        if *flag == "-" {
            if let Some(i) = args.iter().position(|a| a == value) {
                args.drain(i..i + 2);
            }
        } else if let Some(i) = args.iter().position(|a| a == flag) {
            args[i + 1] = (*value).to_owned();
        } else if value.is_empty() {
            args.push((*flag).to_owned());
        } else {
            args.extend([(*flag).to_owned(), (*value).to_owned()]);
        }
    }
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Every broken order field exits 2 naming it and its rule, before the settings are read
/// (the merchant id and key are removed) and before anything is signed or sent.
#[test]
fn order_create_refuses_invalid_input_naming_the_field_before_anything_is_sent() {
    let env = setup();
    let before = env.sim.requests_seen();
    let no_settings = [("WECHATPAY_MCHID", ""), ("WECHATPAY_PRIVATE_KEY", ""), ("WECHATPAY_APPID", "")];
    let (long_no, long_text, long_attach, long_tag) =
        ("1".repeat(33), "字".repeat(128), "a".repeat(129), "a".repeat(33));
    type Case<'a> = (bool, &'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (false, "native", vec![("--out-trade-no", "12345")], "invalid out_trade_no: is 5 characters long"),
        (false, "native", vec![("--out-trade-no", "a/b/c/d")], "invalid out_trade_no"),
        (false, "native", vec![("--out-trade-no", &long_no)], "invalid out_trade_no"),
        (false, "native", vec![("--description", "")], "invalid description: is empty"),
        (false, "native", vec![("--description", &long_text)], "invalid description"),
        (false, "native", vec![("--total", "0")], "invalid amount.total: is 0"),
        (false, "native", vec![("--total", "-1")], "invalid amount.total"),
        (false, "native", vec![("--total", "1.5")], "invalid amount.total"),
        (false, "native", vec![("--notify-url", "http://example.com/n")], "invalid notify_url"),
        (false, "native", vec![("--notify-url", "https://example.com/n?a=1")], "invalid notify_url"),
        (false, "native", vec![("--notify-url", "/notify")], "invalid notify_url"),
        (false, "native", vec![("--time-expire", "20220421191948")], "invalid time_expire"),
        (false, "native", vec![("--time-expire", "2026-06-08T10:34:56")], "invalid time_expire"),
        (false, "native", vec![("--attach", &long_attach)], "invalid attach"),
        (false, "native", vec![("--goods-tag", &long_tag)], "invalid goods_tag"),
        (false, "native", vec![("--payer-client-ip", "not-an-ip")], "invalid scene_info.payer_client_ip"),
        (false, "jsapi", vec![], "invalid payer.openid: is missing"),
        (false, "jsapi", vec![("--openid", "o/1")], "invalid payer.openid"),
        (false, "app", vec![("--openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")], "invalid payer.openid: is given"),
        (false, "h5", vec![], "invalid scene_info.payer_client_ip: is missing"),
        (false, "h5", vec![("--payer-client-ip", "1.2.3.4")], "invalid scene_info.h5_info.type: is missing"),
        (false, "h5", vec![("--payer-client-ip", "1.2.3.4"), ("--h5-type", "ios")], "invalid scene_info.h5_info.type"),
        (false, "native", vec![("--h5-type", "Wap")], "invalid scene_info.h5_info.type: is given"),
        (false, "app", vec![("--qr", "")], "only with --scene native"),
        (true, "native", vec![("--sub-mchid", "19x")], "invalid sub_mchid"),
        (true, "jsapi", vec![], "invalid payer.sp_openid: is missing"),
        (true, "jsapi", vec![("--sub-openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")], "invalid sub_appid: is missing"),
        (true, "jsapi", vec![("--sp-openid", "o 1")], "invalid payer.sp_openid"),
        (true, "jsapi", vec![("--sp-openid", "o1"), ("--sub-appid", "wx/1")], "invalid sub_appid"),
        (true, "native", vec![("--sp-openid", "o1")], "invalid payer.sp_openid: is given"),
        (true, "h5", vec![("--payer-client-ip", "::1")], "invalid scene_info.h5_info.type: is missing"),
        (true, "native", vec![("--invoke-appid", "wx1")], "invalid invoke appid: is given"),
        (true, "native", vec![("--total", "x")], "invalid amount.total"),
    ];
    for (partner, scene, changes, needle) in cases {
        let args = create_args(partner, scene, &changes);
        let err = failed(&run(&env, &strs(&args), &no_settings), 2);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(err.contains("rule: "), "{args:?}: {err}");
    }
    // Both payers at once is a usage error of its own.
    let args = create_args(true, "jsapi", &[("--sp-openid", "o1"), ("--sub-openid", "o2")]);
    assert!(failed(&run(&env, &strs(&args), &[]), 2).contains("cannot be used with"));
    assert_eq!(env.sim.requests_seen(), before, "nothing may be sent for invalid input");
}

/// Valid input without an app id configured exits 2 naming the variable and the flag.
#[test]
fn order_create_needs_the_appid_setting() {
    let env = setup();
    let before = env.sim.requests_seen();
    let args = create_args(false, "native", &[]);
    let err = failed(&run(&env, &strs(&args), &[("WECHATPAY_APPID", "")]), 2);
    assert!(err.contains("missing app id: set WECHATPAY_APPID (or pass --appid)"), "{err}");
    let err = failed(&run(&env, &strs(&args), &[("WECHATPAY_APPID", "wx 1")]), 2);
    assert!(err.contains("WECHATPAY_APPID: invalid appid"), "{err}");
    let mut flagged = vec!["--appid", "wx!"];
    flagged.extend(strs(&args));
    let err = failed(&run(&env, &flagged, &[]), 2);
    assert!(err.contains("WECHATPAY_APPID: invalid appid") && err.contains("(flag --appid)"), "{err}");
    assert_eq!(env.sim.requests_seen(), before);
}

/// Verifies `signature` (Base64) over `message` with the merchant's public key, by OpenSSL:
/// `openssl dgst -sha256 -verify merchant_pub.pem -signature SIG MESSAGE`.
fn openssl_verifies(message: &str, signature: &str) -> bool {
    use base64::Engine as _;
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("wechatpay-cli-invoke-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (msg, sig) = (dir.join("message"), dir.join("signature"));
    std::fs::write(&msg, message).unwrap();
    std::fs::write(&sig, base64::engine::general_purpose::STANDARD.decode(signature).unwrap()).unwrap();
    let o = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(core_data("merchant_pub.pem"))
        .arg("-signature")
        .arg(&sig)
        .arg(&msg)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    o.status.success()
}

/// The JSAPI invoke object verifies with OpenSSL over its four `\n`-terminated lines (and
/// not without the last `\n`); the APP object over its own four lines.
pub(crate) fn assert_invoke_verifies(invoke: &Value, appid: &str, prepay_id: &str) {
    let s = |k: &str| invoke[k].as_str().unwrap_or_else(|| panic!("{k} in {invoke}")).to_owned();
    if invoke.get("paySign").is_some() {
        let mut keys: Vec<&String> = invoke.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["appId", "nonceStr", "package", "paySign", "signType", "timeStamp"]);
        assert_eq!(
            (s("appId"), s("package"), s("signType")),
            (appid.to_owned(), format!("prepay_id={prepay_id}"), "RSA".to_owned())
        );
        assert!(s("timeStamp").parse::<u64>().is_ok());
        let message = format!("{}\n{}\n{}\n{}\n", s("appId"), s("timeStamp"), s("nonceStr"), s("package"));
        assert!(openssl_verifies(&message, &s("paySign")), "{invoke}");
        assert!(!openssl_verifies(message.trim_end_matches('\n'), &s("paySign")));
    } else {
        let mut keys: Vec<&String> = invoke.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["appid", "noncestr", "package", "partnerid", "prepayid", "sign", "timestamp"]);
        assert_eq!(
            (s("appid"), s("prepayid"), s("package")),
            (appid.to_owned(), prepay_id.to_owned(), "Sign=WXPay".to_owned())
        );
        assert_eq!(s("partnerid"), "1230000109");
        let message = format!("{}\n{}\n{}\n{}\n", s("appid"), s("timestamp"), s("noncestr"), s("prepayid"));
        assert!(openssl_verifies(&message, &s("sign")), "{invoke}");
    }
}

/// `order invoke` signs locally (nothing is sent) with the merchant key; the app id is
/// `--invoke-appid` or else the setting.
#[test]
fn order_invoke_signs_objects_that_openssl_verifies() {
    let env = setup();
    let before = env.sim.requests_seen();
    let prepay_id = "wx201410272009395522657a690389285100";
    let jsapi = json(&run(&env, &["order", "invoke", "--scene", "jsapi", "--prepay-id", prepay_id], &[]));
    assert_invoke_verifies(&jsapi, APPID, prepay_id);
    let app =
        run(&env, &["order", "invoke", "--scene", "app", "--prepay-id", prepay_id, "--invoke-appid", "wxapp1"], &[]);
    assert_invoke_verifies(&json(&app), "wxapp1", prepay_id);
    let err = failed(&run(&env, &["order", "invoke", "--scene", "jsapi", "--prepay-id", "wx1/2"], &[]), 2);
    assert!(err.contains("invalid prepay_id") && err.contains("rule: "), "{err}");
    let err = failed(
        &run(&env, &["order", "invoke", "--scene", "jsapi", "--prepay-id", "wx1", "--invoke-appid", "a b"], &[]),
        2,
    );
    assert!(err.contains("invalid invoke appid"), "{err}");
    let err = failed(
        &run(&env, &["order", "invoke", "--scene", "jsapi", "--prepay-id", "wx1"], &[("WECHATPAY_APPID", "")]),
        2,
    );
    assert!(err.contains("WECHATPAY_APPID"), "{err}");
    let err = failed(&run(&env, &["order", "invoke", "--scene", "h5", "--prepay-id", "wx1"], &[]), 2);
    assert!(err.contains("invalid value 'h5'"), "{err}");
    assert_eq!(env.sim.requests_seen(), before, "order invoke sends nothing");
}

#[test]
fn refund_commands_refuse_invalid_input_naming_the_field_before_anything_is_sent() {
    let env = setup();
    let before = env.sim.requests_seen();
    let dir = std::env::temp_dir().join(format!("wechatpay-cli-refund-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let account = dir.join("account");
    std::fs::write(&account, "6214830000000000001\n").unwrap();
    let empty = dir.join("empty");
    std::fs::write(&empty, " \n").unwrap();
    let account = account.to_str().unwrap();
    let empty = empty.to_str().unwrap();
    let create = |extra: &[&str]| {
        let mut args: Vec<String> =
            ["refund", "create", "--out-refund-no", "R1", "--out-trade-no", "O1"].map(String::from).to_vec();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let abnormal = |extra: &[&str]| {
        let mut args: Vec<String> =
            ["refund", "apply-abnormal", "--refund-id", "50000000382019052709732678859", "--out-refund-no", "R1"]
                .map(String::from)
                .to_vec();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let no_settings = [("WECHATPAY_MCHID", ""), ("WECHATPAY_PRIVATE_KEY", "")];
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            create(&["--refund", "1", "--total", "1"]).iter().map(|s| s.replace("R1", "R 1")).collect(),
            "invalid out_refund_no",
        ),
        (create(&["--refund", "0", "--total", "1"]), "invalid amount.refund: is 0"),
        (create(&["--refund", "2", "--total", "1"]), "invalid amount.refund: 2 exceeds total 1"),
        (create(&["--refund", "1", "--total", "0"]), "invalid amount.total"),
        (create(&["--refund", "x", "--total", "1"]), "invalid amount.refund"),
        (create(&["--refund", "1", "--total", "1", "--reason", "a\u{7}b"]), "invalid reason"),
        (create(&["--refund", "1", "--total", "1", "--notify-url", "http://example.com/r"]), "invalid notify_url"),
        (create(&["--refund", "1", "--total", "1", "--funds-account", "BASIC"]), "invalid funds_account"),
        (create(&["--refund", "1", "--total", "1", "--sub-mchid", "x"]), "invalid sub_mchid"),
        (["refund", "get", "--out-refund-no", "R/1"].map(String::from).to_vec(), "invalid out_refund_no"),
        (
            ["refund", "watch", "--out-refund-no", "R1", "--sub-mchid", "1a"].map(String::from).to_vec(),
            "invalid sub_mchid",
        ),
        (abnormal(&["--type", "MERCHANT_BANK_CARD", "--bank-type", "ICBC_DEBIT"]), "invalid bank_type: is given"),
        (abnormal(&["--type", "USER_BANK_CARD"]), "invalid bank_type: is missing"),
        (abnormal(&["--type", "USER_BANK_CARD", "--bank-type", "icbc"]), "invalid bank_type"),
        (abnormal(&["--type", "USER_BANK_CARD", "--bank-type", "ICBC_DEBIT"]), "invalid bank_account: is missing"),
        (
            abnormal(&["--type", "USER_BANK_CARD", "--bank-type", "ICBC_DEBIT", "--bank-account-file", account]),
            "invalid real_name: is missing",
        ),
        (
            abnormal(&[
                "--type",
                "USER_BANK_CARD",
                "--bank-type",
                "ICBC_DEBIT",
                "--bank-account-file",
                account,
                "--real-name-file",
                empty,
            ]),
            "invalid real_name: is empty",
        ),
        (
            abnormal(&["--type", "MERCHANT_BANK_CARD"]).iter().map(|s| s.replace("5000000038", "5000-")).collect(),
            "invalid refund_id",
        ),
    ];
    for (args, needle) in cases {
        let err = failed(&run(&env, &strs(&args), &no_settings), 2);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(err.contains("rule: "), "{args:?}: {err}");
        assert!(!err.contains("6214830000000000001"), "{err}");
    }
    let err =
        failed(&run(&env, &["refund", "create", "--out-refund-no", "R1", "--refund", "1", "--total", "1"], &[]), 2);
    assert!(err.contains("--out-trade-no") && err.contains("--transaction-id"), "{err}");
    let both = [
        "refund",
        "create",
        "--out-refund-no",
        "R1",
        "--out-trade-no",
        "O",
        "--transaction-id",
        "T",
        "--refund",
        "1",
        "--total",
        "1",
    ];
    assert!(failed(&run(&env, &both, &[]), 2).contains("cannot be used with"));
    // The secrets never come from the command line.
    let err = failed(&run(&env, &strs(&abnormal(&["--type", "USER_BANK_CARD", "--bank-account", "6214"])), &[]), 2);
    assert!(err.contains("unexpected argument '--bank-account'"), "{err}");
    let missing = dir.join("missing");
    let args = abnormal(&[
        "--type",
        "USER_BANK_CARD",
        "--bank-type",
        "ICBC_DEBIT",
        "--bank-account-file",
        missing.to_str().unwrap(),
        "--real-name-file",
        account,
    ]);
    let err = failed(&run(&env, &strs(&args), &[]), 2);
    assert!(err.contains("cannot read --bank-account-file file"), "{err}");
    assert_eq!(env.sim.requests_seen(), before, "nothing may be sent for invalid input");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bank account and the name read from files appear nowhere: not on stdout, not in
/// errors, not in debug logs (here the host is a closed port: transport failure, exit 5).
#[test]
fn abnormal_refund_secrets_never_show_even_in_debug_logs() {
    let env = setup();
    let dir = std::env::temp_dir().join(format!("wechatpay-cli-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (account, name) = (dir.join("account"), dir.join("name"));
    std::fs::write(&account, "6214830000000000001").unwrap();
    std::fs::write(&name, "张三丰\n").unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let args = [
        "-vv",
        "refund",
        "apply-abnormal",
        "--refund-id",
        "50000000382019052709732678859",
        "--out-refund-no",
        "R1",
        "--type",
        "USER_BANK_CARD",
        "--bank-type",
        "ICBC_DEBIT",
        "--bank-account-file",
        account.to_str().unwrap(),
        "--real-name-file",
        name.to_str().unwrap(),
    ];
    let o = run(
        &env,
        &args,
        &[("WECHATPAY_BASE_URL", &closed), ("WECHATPAY_BACKUP_URL", &closed), ("WECHATPAY_TIMEOUT", "2")],
    );
    let err = failed(&o, 5);
    for secret in ["6214830000000000001", "张三丰", "830000000"] {
        assert!(!err.contains(secret), "{secret} in {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
