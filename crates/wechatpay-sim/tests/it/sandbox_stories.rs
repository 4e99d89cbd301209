//! The sandbox from other languages: the `wechatpay-sim` process driven only through its
//! state directory and admin API, by independent clients installed from their registries.
//!
//! Python (`wechatpayv3` from PyPI, in a virtualenv under the target directory) creates an
//! order through the admin API, queries it, makes it pay, receives the notification on its
//! own `http.server` (refusing the first delivery, so the simulator redelivers) and verifies
//! and decrypts it with `wechatpayv3`'s `callback`. Node (`wechatpay-axios-plugin` from npm)
//! then verifies and decrypts the same notification with its own helpers.
//!
//! These run in CI, which has Python 3 and Node: a missing interpreter or an unreachable
//! registry FAILS the test with a message saying which, it never passes silently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::common;

use common::{BIN, Killed};

fn tmp() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
}

fn stories() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("stories")
}

fn run(what: &str, cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{what}: cannot run ({e}); CI installs it, install it locally to run this test"))
}

/// A virtualenv with `wechatpayv3` (shared with the interop test's location and version).
fn python_with_wechatpayv3() -> PathBuf {
    let venv = tmp().join("wechatpayv3-venv");
    let python = venv.join("bin").join("python");
    let has_package = |python: &Path| {
        Command::new(python).args(["-c", "import wechatpayv3"]).output().is_ok_and(|o| o.status.success())
    };
    if python.exists() && has_package(&python) {
        return python;
    }
    let made = run("python3", Command::new("python3").args(["-m", "venv"]).arg(&venv));
    assert!(made.status.success(), "python3 -m venv failed: {}", String::from_utf8_lossy(&made.stderr));
    let pip = run(
        "pip",
        Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "wechatpayv3>=2,<3",
        ]),
    );
    assert!(
        pip.status.success() && has_package(&python),
        "pip install wechatpayv3 failed (is PyPI reachable?): {}",
        String::from_utf8_lossy(&pip.stderr)
    );
    python
}

/// A `node_modules` with `wechatpay-axios-plugin` (the version the benchmarks compare with).
fn node_modules_with_axios_plugin() -> PathBuf {
    let dir = tmp().join("node-wechatpay-axios-plugin");
    let modules = dir.join("node_modules");
    if modules.join("wechatpay-axios-plugin").join("package.json").exists() {
        return modules;
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("package.json"), "{\"name\":\"sandbox-story\",\"private\":true}\n").unwrap();
    let npm = run(
        "npm",
        Command::new("npm").current_dir(&dir).args([
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "wechatpay-axios-plugin@0.9.6",
        ]),
    );
    assert!(
        npm.status.success(),
        "npm install wechatpay-axios-plugin failed (is the npm registry reachable?): {}",
        String::from_utf8_lossy(&npm.stderr)
    );
    modules
}

/// Starts the process with a fresh state directory; the directory and the child.
fn start_simulator(name: &str, args: &[&str]) -> (PathBuf, Killed) {
    let dir = tmp().join(format!("sandbox-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0", "--state-dir"])
        .arg(&dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    // Keep reading, so whatever the process prints later never meets a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    assert!(first.starts_with("listening on http://127.0.0.1:"), "first line: {first:?}");
    (dir, child)
}

fn json_line(what: &str, out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what} printed no JSON ({e}): {out:?}"))
}

#[test]
fn python_and_node_teams_run_a_whole_payment_story_against_the_process() {
    let python = python_with_wechatpayv3();
    let node_modules = node_modules_with_axios_plugin();
    let (dir, sim) = start_simulator("story", &["--notify-time-scale", "0.001"]);
    let notification = dir.join("notification.json");

    let py =
        run("python story", Command::new(&python).arg(stories().join("sandbox_story.py")).arg(&dir).arg(&notification));
    let story = json_line("python story", &py);
    assert_eq!(story["event_type"], "TRANSACTION.SUCCESS", "{story}");
    assert_eq!(story["trade_state"], "SUCCESS", "{story}");
    // The first delivery was refused (503) and the simulator delivered again.
    assert_eq!(story["deliveries"], 2, "{story}");

    let node = run(
        "node",
        Command::new("node")
            .arg(stories().join("verify_notification.js"))
            .arg(&dir)
            .arg(&notification)
            .env("NODE_PATH", &node_modules),
    );
    let checked = json_line("node check", &node);
    assert_eq!(checked["out_trade_no"], story["out_trade_no"], "{checked}");
    assert_eq!(checked["trade_state"], "SUCCESS");
    assert_eq!(checked["associated_data"], "transaction");
    eprintln!("python: {story}\nnode: {checked}");

    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}
