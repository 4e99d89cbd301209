//! `Client::from_env()` of both adapters: the `WECHATPAY_*` variables and files the
//! simulator writes (its `STATE_DIR/env`), over real loopback HTTP. The variables are handed
//! in through the loader's lookup closure (tests run in parallel: the process environment is
//! never changed), except in one child process that runs `from_env()` itself.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use wechatpay_core::env::{EnvErrorKind, Loader};
use wechatpay_tests::*;

/// The child test's marker variable.
const CHILD: &str = "WECHATPAY_TESTS_FROM_ENV_CHILD";

/// The simulator's state directory (keys, certificate, `env`) and the variables of its `env`.
fn state(sim: &Simulator, name: &str) -> (PathBuf, HashMap<String, OsString>) {
    let dir = std::env::temp_dir().join(format!("wechatpay-from-env-{name}-{}", std::process::id()));
    wechatpay_sim::cli::write_state(&dir, sim).expect("state written");
    let text = std::fs::read_to_string(dir.join("env")).expect("env written");
    let vars = wechatpay_sim::cli::parse_env(&text).into_iter().map(|(k, v)| (k, OsString::from(v))).collect();
    (dir, vars)
}

fn loader(vars: &HashMap<String, OsString>) -> Loader<'_> {
    Loader::new(|name| vars.get(name).cloned(), |path| std::fs::read(path))
}

fn query_seed_ureq(client: &wechatpay_ureq::Client) -> String {
    client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).expect("query").trade_state.as_str().to_owned()
}

fn query_seed_reqwest(client: &wechatpay_reqwest::Client) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let order = runtime.block_on(client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO))).expect("query");
    order.trade_state.as_str().to_owned()
}

#[test]
fn both_adapters_build_a_working_client_from_the_simulators_env() {
    let sim = sim();
    let (dir, mut vars) = state(&sim, "loader");
    vars.insert("WECHATPAY_TIMEOUT".into(), "7".into());
    let client = wechatpay_ureq::Client::from_loader(&loader(&vars)).expect("ureq from env");
    assert_eq!(client.driver().attempt_timeout(), Duration::from_secs(7));
    assert_eq!(client.driver().config().wechatpay_serial(), vars["WECHATPAY_PUBLIC_KEY_ID"].to_str());
    assert_eq!(query_seed_ureq(&client), "SUCCESS");
    let client = wechatpay_reqwest::Client::from_loader(&loader(&vars)).expect("reqwest from env");
    assert_eq!(client.driver().attempt_timeout(), Duration::from_secs(7));
    assert_eq!(query_seed_reqwest(&client), "SUCCESS");
    assert_eq!(sim.requests_seen(), 2);
    std::fs::remove_dir_all(dir).expect("cleanup");
}

#[test]
fn both_adapters_name_the_variable_and_the_rule_and_send_nothing() {
    let sim = sim();
    let (dir, vars) = state(&sim, "errors");
    let mut without_serial = vars.clone();
    without_serial.remove("WECHATPAY_SERIAL_NO");
    let e = wechatpay_ureq::Client::from_loader(&loader(&without_serial)).expect_err("no serial");
    assert_eq!((e.kind(), e.variable()), (EnvErrorKind::Missing, "WECHATPAY_SERIAL_NO"));
    assert!(e.to_string().contains("openssl x509 -noout -serial -in apiclient_cert.pem"), "{e}");
    let e = wechatpay_reqwest::Client::from_loader(&loader(&without_serial)).expect_err("no serial");
    assert!(matches!(&e, wechatpay_reqwest::FromEnvError::Env(e) if e.variable() == "WECHATPAY_SERIAL_NO"), "{e}");
    // A broken APIv3 key fails at start, not at the first notification, and is never shown.
    let mut short_key = vars.clone();
    short_key.insert("WECHATPAY_APIV3_KEY".into(), "s3cret".into());
    let e = wechatpay_ureq::Client::from_loader(&loader(&short_key)).expect_err("short key");
    assert_eq!((e.kind(), e.variable()), (EnvErrorKind::Invalid, "WECHATPAY_APIV3_KEY"));
    assert!(!format!("{e} {e:?}").contains("s3cret"), "{e:?}");
    let mut bad_timeout = vars;
    bad_timeout.insert("WECHATPAY_TIMEOUT".into(), "0".into());
    let e = wechatpay_reqwest::Client::from_loader(&loader(&bad_timeout)).expect_err("zero timeout");
    assert!(e.to_string().contains("WECHATPAY_TIMEOUT") && e.to_string().contains("greater than 0"), "{e}");
    assert_eq!(sim.requests_seen(), 0, "nothing is sent for a broken configuration");
    std::fs::remove_dir_all(dir).expect("cleanup");
}

/// `from_env()` reading the real process environment: this test runs itself again as a
/// child process holding exactly the simulator's `env` variables.
#[test]
fn from_env_reads_the_process_environment() {
    let sim = sim();
    let (dir, vars) = state(&sim, "process");
    let mut child = Command::new(std::env::current_exe().expect("test binary"));
    child.args(["--exact", "from_env::from_env_child", "--include-ignored", "--test-threads", "1"]);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WECHATPAY_") {
            child.env_remove(name);
        }
    }
    child.envs(&vars).env(CHILD, "1");
    let out = child.output().expect("child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("test from_env::from_env_child ... ok"), "the child ran the test: {stdout}");
    assert_eq!(sim.requests_seen(), 2, "one query per adapter");
    std::fs::remove_dir_all(dir).expect("cleanup");
}

/// The child of [`from_env_reads_the_process_environment`] (does nothing elsewhere).
#[test]
#[ignore = "run by from_env_reads_the_process_environment in a child process"]
fn from_env_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let client = wechatpay_ureq::Client::from_env().expect("ureq from_env");
    assert_eq!(query_seed_ureq(&client), "SUCCESS");
    let client = wechatpay_reqwest::Client::from_env().expect("reqwest from_env");
    assert_eq!(query_seed_reqwest(&client), "SUCCESS");
    // The APIv3 key (for notifications) comes from the same loader.
    wechatpay_ureq::env_loader().apiv3_key().expect("the APIv3 key of the simulator's env");
    // The platform certificate file of the simulator's env was read too.
    let keys = wechatpay_reqwest::env_loader().wechatpay_keys().expect("keys");
    assert_eq!(keys.serials().count(), 2);
}
