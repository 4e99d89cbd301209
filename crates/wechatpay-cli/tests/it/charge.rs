//! `order charge`, `partner-order charge`, `order reverse`, `partner-order reverse` against
//! the simulator's test codes, as a till would run them: stdout, stderr step lines and exit
//! codes (0 paid, 7 not paid, 3 refused, 8 unresolved), short intervals.
#![allow(clippy::unwrap_used)]

use std::process::Output;

use serde_json::Value;
use wechatpay_sim::{Fault, Route, Simulator, Times};

use crate::common::SimEnv as Env;

const APPID: &str = "wxd678efh567hg6787";

fn run(env: &Env, args: &[&str]) -> Output {
    env.command(&[]).env("WECHATPAY_APPID", APPID).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The `charge:` lines of stderr without their times.
fn steps(o: &Output) -> Vec<String> {
    text(&o.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("charge: "))
        .map(|l| l.split_once("] ").map_or(l, |(_, rest)| rest).to_owned())
        .collect()
}

fn charge(env: &Env, no: &str, code: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "order",
        "charge",
        "--out-trade-no",
        no,
        "--auth-code",
        code,
        "--total",
        "1200",
        "--description",
        "Coffee",
        "--store-out-id",
        "SZ-001",
        "--device-ip",
        "10.0.0.7",
        "--interval",
        "0.1",
        "--deadline",
        "0.6",
        "--reverse-delay",
        "0",
        "--timeout",
        "1",
    ];
    args.extend_from_slice(extra);
    run(env, &args)
}

fn order(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&o.stdout), text(&o.stderr)))
}

#[test]
fn every_test_code_exits_as_the_issue_says() {
    let env = Env::new(Simulator::start().unwrap());
    let o = charge(&env, "CLI_CHARGE_0", "134567890123456780", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        (order(&o)["trade_state"].as_str(), order(&o)["trade_type"].as_str()),
        (Some("SUCCESS"), Some("MICROPAY"))
    );
    assert_eq!(steps(&o), ["codepay: 200 SUCCESS"]);

    let o = charge(&env, "CLI_CHARGE_1", "134567890123456781", &["--attach", "till 3"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(order(&o)["attach"], "till 3");
    assert_eq!(steps(&o), ["codepay: 202 USERPAYING", "USERPAYING -> USERPAYING", "USERPAYING -> SUCCESS"]);

    let o = charge(&env, "CLI_CHARGE_2", "134567890123456782", &[]);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    assert_eq!(order(&o)["trade_state"], "PAYERROR");

    let o = charge(&env, "CLI_CHARGE_3", "134567890123456783", &[]);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    assert_eq!(order(&o)["trade_state"], "REVOKED");
    let s = steps(&o);
    assert_eq!(&s[s.len() - 2..], ["still USERPAYING: reversing", "reversed -> REVOKED"], "{s:?}");

    let o = charge(&env, "CLI_CHARGE_4", "134567890123456784", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    assert!(text(&o.stderr).contains("NOT_ENOUGH"));

    let o = charge(&env, "CLI_CHARGE_5", "134567890123456785", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(steps(&o)[0], "codepay: 500 SYSTEM_ERROR: querying");

    let o = charge(&env, "CLI_CHARGE_6", "134567890123456786", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(order(&o)["trade_state"], "SUCCESS");

    assert_eq!(env.sim.requests_for(Route::CodepayDirect), 7, "one codepay per charge");
    assert_eq!(env.sim.requests_for(Route::ReverseDirect), 1);
}

/// "Paid: stdout the verified order as `order get` prints it"; not paid: that order too.
/// Digits 7-9 pay at once like 0.
#[test]
fn stdout_is_the_order_as_order_get_prints_it() {
    let env = Env::new(Simulator::start().unwrap());
    for (no, code, exit) in [
        ("CLI_GET_0", "134567890123456780", 0),
        ("CLI_GET_7", "134567890123456787", 0),
        ("CLI_GET_8", "134567890123456788", 0),
        ("CLI_GET_9", "134567890123456789", 0),
        ("CLI_GET_1", "134567890123456781", 0),
        ("CLI_GET_2", "134567890123456782", 7),
        ("CLI_GET_3", "134567890123456783", 7),
    ] {
        let o = charge(&env, no, code, &[]);
        assert_eq!(o.status.code(), Some(exit), "{no}: {}", text(&o.stderr));
        if code.ends_with(['7', '8', '9']) {
            assert_eq!(steps(&o), ["codepay: 200 SUCCESS"], "{no}");
        }
        let get = run(&env, &["order", "get", "--out-trade-no", no]);
        assert_eq!(get.status.code(), Some(0), "{}", text(&get.stderr));
        assert_eq!(text(&o.stdout), text(&get.stdout), "{no}");
    }
    assert_eq!(env.sim.requests_for(Route::CodepayDirect), 7, "one codepay per charge");
}

#[test]
fn unresolved_exits_8_with_the_escalation_line_and_nothing_on_stdout() {
    let env = Env::new(Simulator::start().unwrap());
    env.sim.inject(Fault::SystemError, Times::Always, Some(Route::ReverseDirect));
    let o = charge(&env, "CLI_UNRES_3", "134567890123456783", &[]);
    assert_eq!(o.status.code(), Some(8), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    let line = err.lines().find(|l| l.starts_with("charge: UNRESOLVED")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains("query") && line.contains("reverse"), "{line}");
}

/// A partner charge's escalation line names the partner commands (with its `--sub-mchid`),
/// which are the ones that find and reverse a sub-merchant's order.
#[test]
fn a_partner_charge_unresolved_names_the_partner_commands() {
    let env = Env::new(Simulator::start().unwrap());
    env.sim.inject(Fault::SystemError, Times::Always, Some(Route::ReversePartner));
    let sub = wechatpay_sim::Credentials::builtin().sub_mchid();
    let args = [
        "partner-order",
        "charge",
        "--sub-mchid",
        sub,
        "--out-trade-no",
        "CLI_P_UNRES_3",
        "--auth-code",
        "134567890123456783",
        "--total",
        "300",
        "--description",
        "Tea",
        "--store-id",
        "0001",
        "--interval",
        "0.1",
        "--deadline",
        "0.6",
        "--reverse-delay",
        "0",
        "--timeout",
        "1",
    ];
    let o = run(&env, &args);
    assert_eq!(o.status.code(), Some(8), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    let line = err.lines().find(|l| l.starts_with("charge: UNRESOLVED")).unwrap_or_else(|| panic!("{err}"));
    let get = format!("wechatpay partner-order get --out-trade-no CLI_P_UNRES_3 --sub-mchid {sub}");
    let reverse = format!("wechatpay partner-order reverse --out-trade-no CLI_P_UNRES_3 --sub-mchid {sub}");
    assert!(line.contains(&get) && line.contains(&reverse), "{line}");
    // What the line says to run works: the order is found, still paying.
    let o = run(&env, &["partner-order", "get", "--out-trade-no", "CLI_P_UNRES_3", "--sub-mchid", sub]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(order(&o)["trade_state"], "USERPAYING");
}

#[test]
fn input_is_checked_before_anything_is_sent() {
    let env = Env::new(Simulator::start().unwrap());
    let o = charge(&env, "CLI_BAD_0001", "12345", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("auth_code"), "{}", text(&o.stderr));
    let args = [
        "order",
        "charge",
        "--out-trade-no",
        "CLI_BAD_0001",
        "--auth-code",
        "134567890123456780",
        "--total",
        "0",
        "--description",
        "x",
        "--store-id",
        "1",
    ];
    let o = run(&env, &args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("amount.total"), "{}", text(&o.stderr));
    let args = [
        "order",
        "charge",
        "--out-trade-no",
        "CLI_BAD_0002",
        "--auth-code",
        "134567890123456780",
        "--total",
        "1",
        "--description",
        "x",
    ];
    let o = run(&env, &args);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("scene_info.store_info"), "{}", text(&o.stderr));
    // Negative seconds as a user types them (`--deadline -1`): the flag and its rule.
    for flag in ["--deadline", "--interval", "--reverse-delay"] {
        let base = ["order", "charge", "--out-trade-no", "CLI_BAD_0004", "--auth-code", "134567890123456780"];
        let rest = ["--total", "1", "--description", "x", "--store-id", "1", flag, "-1"];
        let o = run(&env, &[&base[..], &rest[..]].concat());
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains(flag) && text(&o.stderr).contains("rule"), "{}", text(&o.stderr));
    }
    let o = env
        .command(&[])
        .env_remove("WECHATPAY_APPID")
        .args(["order", "reverse", "--out-trade-no", "CLI_BAD_0003"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("WECHATPAY_APPID"));
    assert_eq!(env.sim.requests_for(Route::CodepayDirect), 0);
}

#[test]
fn reverse_prints_one_line_and_partner_charges_too() {
    let env = Env::new(Simulator::start().unwrap());
    let sub = wechatpay_sim::Credentials::builtin().sub_mchid();
    let sp_appid = ["--appid", "wx8888888888888888"];
    let mut args = vec![
        "partner-order",
        "charge",
        "--sub-mchid",
        sub,
        "--out-trade-no",
        "CLI_P_CHARGE_1",
        "--auth-code",
        "134567890123456781",
        "--total",
        "300",
        "--description",
        "Tea",
        "--store-id",
        "0001",
        "--interval",
        "0.1",
        "--deadline",
        "0.6",
        "--reverse-delay",
        "0",
    ];
    args.extend_from_slice(&sp_appid);
    let o = run(&env, &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!((order(&o)["sub_mchid"].as_str(), order(&o)["trade_state"].as_str()), (Some(sub), Some("SUCCESS")));

    let o = run(
        &env,
        &[
            "partner-order",
            "reverse",
            "--out-trade-no",
            "CLI_P_CHARGE_1",
            "--sub-mchid",
            sub,
            "--appid",
            "wx8888888888888888",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "{\"out_trade_no\":\"CLI_P_CHARGE_1\",\"reversed\":true}\n");

    // Reversed by the charge already; reversing by hand is reentrant.
    assert_eq!(charge(&env, "CLI_REV_0003", "134567890123456783", &[]).status.code(), Some(7));
    let o = run(&env, &["order", "reverse", "--out-trade-no", "CLI_REV_0003"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "{\"out_trade_no\":\"CLI_REV_0003\",\"reversed\":true}\n");
    let o = run(&env, &["order", "reverse", "--out-trade-no", "CLI_REV_0003"]);
    assert_eq!(o.status.code(), Some(0), "reentrant: {}", text(&o.stderr));
    let o = run(&env, &["order", "close", "--out-trade-no", "CLI_REV_0003"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).contains("INVALID_REQUEST"));
}
