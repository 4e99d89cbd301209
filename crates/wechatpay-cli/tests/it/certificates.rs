//! `wechatpay certificates download` and certificate directories, through the built binary
//! against the simulator (its `env` file gives every variable; the environment is otherwise
//! cleared).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;
use wechatpay_sim::{SigningKeyChoice, Simulator};

use crate::common;

/// The simulator environment of `common`, with this module's way of running the binary
/// (one test binary: `cli`'s `run` on `SimEnv` takes other arguments).
struct Env(common::SimEnv);

impl std::ops::Deref for Env {
    type Target = common::SimEnv;
    fn deref(&self) -> &common::SimEnv {
        &self.0
    }
}

fn setup() -> Env {
    setup_signing(SigningKeyChoice::PublicKey)
}

/// A simulator whose answers (to requests naming no key) are signed by `key`.
fn setup_signing(key: SigningKeyChoice) -> Env {
    Env::new(Simulator::builder().signing(key).start().unwrap())
}

impl Env {
    fn new(sim: Simulator) -> Self {
        Self(common::SimEnv::new(sim))
    }

    /// Runs the binary with the simulator's variables, minus `remove`, plus `set`.
    fn run(&self, args: &[&str], remove: &[&str], set: &[(&str, &str)]) -> Output {
        self.command(remove).envs(set.iter().copied()).args(args).output().unwrap()
    }
}

/// No WeChat Pay key at all: a download must bootstrap.
const NO_WECHATPAY_KEYS: &[&str] = &["WECHATPAY_PUBLIC_KEY", "WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_PLATFORM_CERTS"];

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn exit(o: &Output, code: i32) -> String {
    assert_eq!(o.status.code(), Some(code), "stdout: {}\nstderr: {}", text(&o.stdout), text(&o.stderr));
    if code != 0 {
        assert!(o.stdout.is_empty(), "stdout must stay empty on failure: {}", text(&o.stdout));
    }
    text(&o.stderr)
}

#[test]
fn download_needs_an_apiv3_key_and_an_output_dir() {
    let env = setup();
    let out = env.dir.join("certs");
    let o =
        env.run(&["certificates", "download", "--output-dir", out.to_str().unwrap()], &["WECHATPAY_APIV3_KEY"], &[]);
    assert!(exit(&o, 2).contains("WECHATPAY_APIV3_KEY"));
    let o = env.run(&["certificates", "download", "--output-dir", "x"], &[], &[("WECHATPAY_APIV3_KEY", "too short")]);
    let err = exit(&o, 2);
    assert!(err.contains("exactly 32") && !err.contains("too short"), "{err}");
    let o = env.run(&["certificates", "download"], &[], &[]);
    exit(&o, 2);
    assert!(!out.exists());
}

#[test]
fn download_transport_failures_exit_5() {
    let env = setup();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let set = [
        ("WECHATPAY_BASE_URL", url.as_str()),
        ("WECHATPAY_BACKUP_URL", url.as_str()),
        ("WECHATPAY_APIV3_KEY", "0123456789abcdefghijklmnopqrstuv"),
    ];
    let out = env.dir.join("certs");
    let o = env.run(&["certificates", "download", "--output-dir", out.to_str().unwrap()], &[], &set);
    exit(&o, 5);
}

#[test]
fn platform_certs_may_name_a_directory_of_pem_files() {
    let env = setup();
    let dir = env.dir.join("platform");
    std::fs::create_dir_all(&dir).unwrap();
    let cert = std::fs::read(env.var("WECHATPAY_PLATFORM_CERTS").unwrap()).unwrap();
    std::fs::write(dir.join("wechatpay_5157F09EFDC096DE15EBE81A47057A7232F1B8E1.pem"), cert).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a certificate, and not a .pem: ignored").unwrap();
    let d = dir.to_str().unwrap();
    let args = ["order", "get", "--out-trade-no", "1217752501201407033233368018"];
    let o = env.run(&args, NO_WECHATPAY_KEYS, &[("WECHATPAY_PLATFORM_CERTS", d)]);
    exit(&o, 0);
    let order: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(order["out_trade_no"], "1217752501201407033233368018");
    // An empty directory is a usage error, named.
    let empty = env.dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = env.run(&args, NO_WECHATPAY_KEYS, &[("WECHATPAY_PLATFORM_CERTS", empty.to_str().unwrap())]);
    assert!(exit(&o, 2).contains("no .pem certificate"));
}

#[test]
fn download_bootstraps_writes_one_pem_each_and_feeds_later_queries() {
    // The answer is signed by a platform certificate it lists (signed by the public key, a
    // bootstrap without that key must refuse it: see the next test).
    let env = setup_signing(SigningKeyChoice::PlatformCertificate);
    let out = env.dir.join("downloaded");
    let o = env.run(&["certificates", "download", "--output-dir", out.to_str().unwrap()], NO_WECHATPAY_KEYS, &[]);
    exit(&o, 0);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let certs = doc["certificates"].as_array().unwrap();
    assert!(!certs.is_empty());
    for c in certs {
        let serial = c["serial_no"].as_str().unwrap();
        assert!(c["effective_time"].is_string() && c["expire_time"].is_string());
        let path = PathBuf::from(c["path"].as_str().unwrap());
        assert_eq!(path, out.join(format!("wechatpay_{serial}.pem")));
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    }
    // The directory is what later commands trust.
    let args = ["order", "get", "--out-trade-no", "1217752501201407033233368018"];
    let o = env.run(&args, NO_WECHATPAY_KEYS, &[("WECHATPAY_PLATFORM_CERTS", out.to_str().unwrap())]);
    exit(&o, 0);
    // With the configured keys present the download works too (they may vouch for it).
    let o = env.run(&["certificates", "download", "--output-dir", out.to_str().unwrap()], &[], &[]);
    exit(&o, 0);
}

#[test]
fn an_answer_signed_by_an_unconfigured_public_key_fails_the_bootstrap_rule_with_exit_4() {
    let env = setup();
    let out = env.dir.join("downloaded");
    let o = env.run(&["certificates", "download", "--output-dir", out.to_str().unwrap()], NO_WECHATPAY_KEYS, &[]);
    assert!(exit(&o, 4).contains("neither among the certificates listed nor a trusted key"));
    assert!(!out.exists());
}

#[test]
fn a_wrong_apiv3_key_fails_the_bootstrap_rule_with_exit_4() {
    let env = setup();
    let out = env.dir.join("downloaded");
    let set = [("WECHATPAY_APIV3_KEY", "ZYXWVUTSRQPONMLKJIHGFEDCBA987654")];
    let o = env.run(&["certificates", "download", "--output-dir", out.to_str().unwrap()], NO_WECHATPAY_KEYS, &set);
    let err = exit(&o, 4);
    assert!(err.contains("does not decrypt") && !err.contains("ZYXWVU"), "{err}");
    assert!(!out.exists());
}

/// Flags win over the environment: an APIv3 key flag (either spelling) is used even when the
/// environment holds the other spelling, with a wrong key.
#[test]
fn an_apiv3_key_flag_wins_over_the_environment() {
    let env = setup_signing(SigningKeyChoice::PlatformCertificate);
    let key = env.var("WECHATPAY_APIV3_KEY").unwrap().to_owned();
    let good = env.dir.join("apiv3.key");
    std::fs::write(&good, format!("{key}\n")).unwrap();
    let wrong = env.dir.join("wrong.key");
    std::fs::write(&wrong, "ZYXWVUTSRQPONMLKJIHGFEDCBA987654").unwrap();
    let out = env.dir.join("certs");
    let download = ["certificates", "download", "--output-dir", out.to_str().unwrap()];
    fn with<'a>(download: &[&'a str], flags: &[&'a str]) -> Vec<&'a str> {
        [download, flags].concat()
    }
    let o = env.run(
        &with(&download, &["--apiv3-key-file", good.to_str().unwrap()]),
        NO_WECHATPAY_KEYS,
        &[("WECHATPAY_APIV3_KEY", "ZYXWVUTSRQPONMLKJIHGFEDCBA987654")],
    );
    exit(&o, 0);
    let o = env.run(
        &with(&download, &["--apiv3-key", &key]),
        &["WECHATPAY_APIV3_KEY"],
        &[("WECHATPAY_APIV3_KEY_FILE", wrong.to_str().unwrap())],
    );
    exit(&o, 0);
    // The environment alone still decides when no flag is given: the wrong key fails.
    let o = env.run(&download, NO_WECHATPAY_KEYS, &[("WECHATPAY_APIV3_KEY", "ZYXWVUTSRQPONMLKJIHGFEDCBA987654")]);
    exit(&o, 4);
    // Both spellings in the environment, or both as flags: set one.
    let o = env.run(&download, &[], &[("WECHATPAY_APIV3_KEY_FILE", good.to_str().unwrap())]);
    assert!(exit(&o, 2).contains("set one"));
    let o = env.run(&with(&download, &["--apiv3-key", &key, "--apiv3-key-file", good.to_str().unwrap()]), &[], &[]);
    assert!(exit(&o, 2).contains("set one"));
}
