//! Issue 18: what `-v`/`-vv` log, errors that say where and how to fix, and Ctrl-C. The
//! built binary runs against the simulator (in this process) with only its variables.
#![allow(clippy::unwrap_used)]

use std::process::Output;

use wechatpay_sim::{Fault, Route, Simulator, Times};

use crate::common;

use common::{SimEnv as Env, core_data};

fn setup() -> Env {
    Env::new(Simulator::start().unwrap())
}

fn run(env: &Env, args: &[&str], overrides: &[(&str, &str)]) -> Output {
    let mut cmd = env.command(&[]);
    cmd.envs(overrides.iter().copied());
    cmd.args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Nothing secret in logs: no private key line, no Authorization, no signature, no body.
fn assert_no_secrets(text: &str) {
    let pem = std::fs::read_to_string(core_data("merchant_key.pem")).unwrap();
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!text.contains(&line[..20.min(line.len())]), "private key material in output");
    }
    let lower = text.to_lowercase();
    for word in ["authorization", "signature=", "wechatpay-signature", "oupf8umuajo", "trade_state"] {
        assert!(!lower.contains(word), "{word} in logs: {text}");
    }
}

/// The base URL of a port nothing listens on.
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

#[test]
fn v_logs_one_line_per_call_with_method_path_host_status_request_id_attempts_elapsed() {
    let env = setup();
    let o = run(&env, &["-v", "order", "get", "--out-trade-no", "SIM_NOTPAY_0001"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert_no_secrets(&err);
    let calls: Vec<&str> = err.lines().filter(|l| l.contains("attempts=")).collect();
    assert_eq!(calls.len(), 1, "{err}");
    let line = calls[0];
    let base = env.var("WECHATPAY_BASE_URL").unwrap();
    let host = base.trim_start_matches("http://").trim_start_matches("https://");
    for part in [
        "method=\"GET\"",
        "path=\"/v3/pay/transactions/out-trade-no/SIM_NOTPAY_0001\"",
        &format!("host=\"{host}\""),
        "status=200",
        "request_id=",
        "attempts=1",
        "elapsed_ms=",
    ] {
        assert!(line.contains(part), "{part} missing from {line}");
    }
    // `-v` does not show attempts; that is `-vv`.
    assert!(!err.contains("attempt="), "{err}");
}

#[test]
fn vv_also_logs_each_attempt_and_each_retry_decision_with_its_reason() {
    let env = setup();
    env.sim.inject(Fault::SystemError, Times::Next(1), Some(Route::DirectByOutTradeNo));
    let o = run(&env, &["-vv", "order", "get", "--out-trade-no", "SIM_NOTPAY_0001"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert_no_secrets(&err);
    let attempts: Vec<&str> = err.lines().filter(|l| l.contains("outcome=")).collect();
    assert_eq!(attempts.len(), 2, "{err}");
    assert!(attempts[0].contains("attempt=1") && attempts[0].contains("status=500"), "{err}");
    assert!(attempts[1].contains("attempt=2") && attempts[1].contains("status=200"), "{err}");
    let retry = err.lines().find(|l| l.contains("retrying")).unwrap_or_else(|| panic!("no retry line: {err}"));
    assert!(
        retry.contains("SYSTEM_ERROR")
            && retry.contains("delay_ms=")
            && retry.contains("next_host=")
            && retry.contains("why=\"a temporary server error: trying again\""),
        "{retry}"
    );
    assert_eq!(err.lines().filter(|l| l.contains("attempts=")).count(), 1, "{err}");
}

#[test]
fn transport_errors_name_the_host_in_words_and_v_shows_it() {
    let env = setup();
    let closed = closed_port();
    let base = format!("http://{closed}");
    let o = run(
        &env,
        &["-v", "order", "get", "--out-trade-no", "SIM_NOTPAY_0001"],
        &[("WECHATPAY_BASE_URL", &base), ("WECHATPAY_BACKUP_URL", &base), ("WECHATPAY_TIMEOUT", "2")],
    );
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let err = stderr(&o);
    let last = err.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("{err}"));
    assert!(last.contains(&format!("connection refused by {closed}")), "{err}");
    let call = err.lines().find(|l| l.contains("attempts=")).unwrap_or_else(|| panic!("{err}"));
    assert!(call.contains(&format!("host=\"{closed}\"")) && call.contains("connection refused"), "{call}");

    // A name that cannot resolve (`.invalid` never does, RFC 6761).
    let o = run(
        &env,
        &["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"],
        &[
            ("WECHATPAY_BASE_URL", "http://wechatpay-cli-test.invalid"),
            ("WECHATPAY_BACKUP_URL", "http://wechatpay-cli-test.invalid"),
            ("WECHATPAY_TIMEOUT", "5"),
        ],
    );
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("could not resolve host wechatpay-cli-test.invalid"), "{}", stderr(&o));
}

#[test]
fn sign_error_names_the_usual_causes_and_shows_the_string_to_sign() {
    let env = setup();
    // A key the simulator does not trust: it answers 401 SIGN_ERROR.
    let wrong = core_data("platform_key.pem");
    let o = run(
        &env,
        &["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"],
        &[("WECHATPAY_PRIVATE_KEY", wrong.to_str().unwrap())],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert_no_secrets(&err);
    assert!(err.contains("SIGN_ERROR") && err.contains("    GET\\n\n"), "{err}");
    for cause in ["WECHATPAY_MCHID", "WECHATPAY_SERIAL_NO", "openssl x509 -noout -serial", "another certificate"] {
        assert!(err.contains(cause), "{cause} missing: {err}");
    }
}

#[test]
fn an_unknown_serial_names_the_configured_key_ids() {
    let env = setup();
    env.sim.inject(Fault::UnknownSerial, Times::Always, Some(Route::DirectByOutTradeNo));
    let o = run(&env, &["order", "get", "--out-trade-no", "SIM_NOTPAY_0001"], &[]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert_no_secrets(&err);
    let id = env.var("WECHATPAY_PUBLIC_KEY_ID").unwrap();
    assert!(err.contains(&format!("the keys configured are {id}")), "{err}");
    assert!(err.contains("WECHATPAY_PUBLIC_KEY_ID"), "{err}");
}

/// Starts the binary with `args`, waits `after`, sends SIGINT, and returns its output.
#[cfg(unix)]
fn interrupt_after(env: &Env, args: &[&str], after: std::time::Duration) -> Output {
    use std::process::Stdio;
    let child = env.command(&[]).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(after);
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_watch_says_the_last_verified_state_and_exits_130() {
    let env = setup();
    let o = interrupt_after(
        &env,
        &["order", "watch", "--out-trade-no", "SIM_NOTPAY_0001", "--deadline", "60", "--interval", "0.2"],
        std::time::Duration::from_millis(1500),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(o.stdout.is_empty(), "{}", String::from_utf8_lossy(&o.stdout));
    let stops: Vec<&str> = err.lines().filter(|l| l.contains("interrupted")).collect();
    assert_eq!(stops.len(), 1, "{err}");
    assert!(stops[0].contains("the last verified state was NOTPAY"), "{err}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_get_many_says_how_many_lines_were_done_and_leaves_complete_lines() {
    let env = setup();
    let input = env.dir.join("many.txt");
    let lines: Vec<String> = (0..200).map(|_| "SIM_NOTPAY_0001".to_owned()).collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    env.sim.inject(Fault::Delay(std::time::Duration::from_millis(100)), Times::Always, None);
    let o = interrupt_after(
        &env,
        &["order", "get-many", "--input", input.to_str().unwrap(), "--concurrency", "2"],
        std::time::Duration::from_millis(1500),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    assert!(out.is_empty() || out.ends_with('\n'), "a cut line: {out:?}");
    let printed = out.lines().count();
    assert!(printed > 0 && printed < 200, "{printed} lines: {err}");
    for line in out.lines() {
        let order: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(order["trade_state"], "NOTPAY");
    }
    let stops: Vec<&str> = err.lines().filter(|l| l.contains("interrupted")).collect();
    assert_eq!(stops.len(), 1, "{err}");
    assert!(stops[0].contains(&format!("get-many stopped after {printed} lines answered and printed")), "{err}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_listen_says_how_many_notifications_were_printed_and_refused() {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::process::Stdio;
    let env = setup();
    let mut child = env
        .command(&[])
        .args(["notification", "listen", "--addr", "127.0.0.1:0", "--path", "/notify"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{first:?}")).to_owned();
    // One request that is refused (not the notification path): counted, not printed.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.write_all(b"POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.is_empty(), "{rest}");
    let stops: Vec<&str> = err.lines().filter(|l| l.contains("interrupted")).collect();
    assert_eq!(stops, ["interrupted: listen stopped after 0 notifications printed, 1 request refused"], "{err}");
}
