//! The `wechatpay-sim` binary: first line, state directory, serving, bad arguments.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use wechatpay_core::api::QueryOrderByOutTradeNo;
use wechatpay_core::{Config, KeyStore, MchId, OutTradeNo, PrivateKey, SerialNo};

use common::{BIN, Killed};

fn state_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wechatpay-sim-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn env_map(text: &str) -> std::collections::HashMap<String, String> {
    wechatpay_sim::cli::parse_env(text).into_iter().collect()
}

#[test]
fn prints_the_listening_line_writes_the_state_and_serves() {
    let dir = state_dir("serve");
    let child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0", "--state-dir"])
        .arg(&dir)
        .args(["--sign-with", "platform-cert"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let mut first = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("listening on ").expect("first line").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let env = env_map(&std::fs::read_to_string(dir.join("env")).unwrap());
    assert_eq!(env["WECHATPAY_MCHID"], "1230000109");
    assert_eq!(env["WECHATPAY_SERIAL_NO"], "444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0");
    assert_eq!(env["WECHATPAY_PUBLIC_KEY_ID"], "PUB_KEY_ID_0114232019092600000000000000000001");
    assert_eq!(env["WECHATPAY_BASE_URL"], url);
    assert_eq!(env["WECHATPAY_BACKUP_URL"], url);
    assert_eq!(env["WECHATPAY_APPID"], "wxd678efh567hg6787");
    for key in ["WECHATPAY_PRIVATE_KEY", "WECHATPAY_PUBLIC_KEY", "WECHATPAY_PLATFORM_CERTS"] {
        assert!(PathBuf::from(&env[key]).is_absolute(), "{key}");
    }

    // A client built only from the state directory talks to the running binary.
    let key = PrivateKey::from_pem(&std::fs::read(&env["WECHATPAY_PRIVATE_KEY"]).unwrap()).unwrap();
    let mut store = KeyStore::new();
    store
        .add_public_key(&env["WECHATPAY_PUBLIC_KEY_ID"], &std::fs::read(&env["WECHATPAY_PUBLIC_KEY"]).unwrap())
        .unwrap();
    store.add_platform_certificates(&std::fs::read(&env["WECHATPAY_PLATFORM_CERTS"]).unwrap()).unwrap();
    let config = Config::builder(
        MchId::new(env["WECHATPAY_MCHID"].as_str()).unwrap(),
        SerialNo::new(env["WECHATPAY_SERIAL_NO"].as_str()).unwrap(),
        key,
        store,
    )
    .base_url(&env["WECHATPAY_BASE_URL"])
    .build()
    .unwrap();
    let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018").unwrap() };
    let addr = url.strip_prefix("http://").unwrap().parse().unwrap();
    let resp = common::send(addr, &common::signed(&config, &op)).unwrap();
    assert_eq!(resp.header("wechatpay-serial"), Some("5157F09EFDC096DE15EBE81A47057A7232F1B8E1"));
    let order = wechatpay_core::parse_response(&config, &op, &resp.to_http(), std::time::SystemTime::now());
    assert_eq!(order.unwrap().out_trade_no, "1217752501201407033233368018");

    drop(child);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_print_usage_and_exit_2() {
    for args in [&["--state-dir"][..], &["--bogus"], &[], &["--state-dir", "x", "--sign-with", "nope"]] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage: wechatpay-sim"), "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn an_unreadable_orders_file_fails_to_start() {
    let dir = state_dir("orders");
    let out = Command::new(BIN)
        .args(["--state-dir"])
        .arg(&dir)
        .args(["--orders", "/nonexistent/orders.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("orders"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts the binary with `args` and a state directory; the first line's URL, the `env`
/// map and the child.
fn spawn(name: &str, args: &[&str]) -> (String, std::collections::HashMap<String, String>, PathBuf, Killed) {
    let dir = state_dir(name);
    let child = Command::new(BIN)
        .arg("--state-dir")
        .arg(&dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("as the simulator writes it");
    let mut child = Killed(child);
    let mut first = String::new();
    BufReader::new(child.0.stdout.take().expect("as the simulator writes it"))
        .read_line(&mut first)
        .expect("as the simulator writes it");
    let url = first.trim().strip_prefix("listening on ").expect("first line").to_owned();
    let env = env_map(&std::fs::read_to_string(dir.join("env")).expect("as the simulator writes it"));
    (url, env, dir, child)
}

/// A client built from the state directory's `env` (the public key only).
fn client_from(env: &std::collections::HashMap<String, String>) -> Config {
    let key = PrivateKey::from_pem(&std::fs::read(&env["WECHATPAY_PRIVATE_KEY"]).expect("as the simulator writes it"))
        .expect("as the simulator writes it");
    let mut store = KeyStore::new();
    store
        .add_public_key(
            &env["WECHATPAY_PUBLIC_KEY_ID"],
            &std::fs::read(&env["WECHATPAY_PUBLIC_KEY"]).expect("as the simulator writes it"),
        )
        .expect("as the simulator writes it");
    let mchid = MchId::new(env["WECHATPAY_MCHID"].as_str()).expect("as the simulator writes it");
    let serial = SerialNo::new(env["WECHATPAY_SERIAL_NO"].as_str()).expect("as the simulator writes it");
    Config::builder(mchid, serial, key, store)
        .base_url(&env["WECHATPAY_BASE_URL"])
        .build()
        .expect("as the simulator writes it")
}

#[test]
fn writes_the_apiv3_key_and_serves_certificates_sealed_with_it() {
    let (url, env, dir, child) = spawn("apiv3", &[]);
    let key = &env["WECHATPAY_APIV3_KEY"];
    let key = wechatpay_core::ApiV3Key::new(key).expect("a valid random key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("env")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "env holds the APIv3 key: owner only");
    }
    let config = client_from(&env);
    let addr = url.strip_prefix("http://").unwrap().parse().unwrap();
    let resp = common::send(addr, &common::signed_raw(&config, "/v3/certificates")).unwrap();
    assert_eq!(resp.status, 200);
    let e = &resp.json()["data"][0]["encrypt_certificate"];
    let item = wechatpay_core::EncryptedResource::new(
        e["ciphertext"].as_str().unwrap(),
        e["nonce"].as_str().unwrap(),
        Some("certificate".to_owned()),
    );
    let pem = key.decrypt_certificate(&item).unwrap();
    assert_eq!(pem, std::fs::read_to_string(&env["WECHATPAY_PLATFORM_CERTS"]).unwrap());
    drop(child);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn honours_apiv3_key_and_public_key_only() {
    let given = "0123456789abcdefghijABCDEFGHIJ+/";
    let (url, env, dir, child) =
        spawn("pubonly", &["--apiv3-key", given, "--public-key-only", "--sign-with", "platform-cert"]);
    assert_eq!(env["WECHATPAY_APIV3_KEY"], given);
    assert!(!env.contains_key("WECHATPAY_PLATFORM_CERTS"), "no platform certificate in public-key-only mode");
    let config = client_from(&env);
    let addr = url.strip_prefix("http://").unwrap().parse().unwrap();
    let resp = common::send(addr, &common::signed_raw(&config, "/v3/certificates")).unwrap();
    assert_eq!((resp.status.as_u16(), resp.json()["code"].as_str()), (404, Some("RESOURCE_NOT_EXISTS")));
    assert_eq!(resp.header("wechatpay-serial"), Some(env["WECHATPAY_PUBLIC_KEY_ID"].as_str()));
    // The 404 is signed: the core verifies it before typing the error.
    let sig = wechatpay_core::signature_headers(&resp.headers).unwrap();
    wechatpay_core::verify_signature(config.verifier(), &sig, &resp.body, std::time::SystemTime::now(), 300).unwrap();
    drop(child);
    std::fs::remove_dir_all(&dir).unwrap();

    let out = Command::new(BIN).args(["--state-dir", "x", "--apiv3-key", "short"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--apiv3-key"));
}

/// `. STATE_DIR/env` exports every variable with its exact value, even an APIv3 key full of
/// shell metacharacters or holding a quote; what the shell sees is what `parse_env` (the
/// dotenv reading) sees.
#[cfg(unix)]
#[test]
fn env_is_sourceable_and_exports_every_variable() {
    for (name, key) in
        [("env-meta", "0123456789abcdefghij$\"\\`#!&;|<>*"), ("env-quote", "it's0123456789abcdefghij$\"\\`#!&;")]
    {
        assert_eq!(key.len(), 32);
        let (_url, env, dir, child) = spawn(name, &["--apiv3-key", key]);
        assert_eq!(env["WECHATPAY_APIV3_KEY"], key);
        let text = std::fs::read_to_string(dir.join("env")).unwrap();
        assert!(text.lines().all(|l| l.starts_with("export WECHATPAY_")), "{text}");
        // A child of the sourcing shell sees the variables: they are exported.
        let out =
            Command::new("sh").args(["-c", ". \"$1\" && env", "sh"]).arg(dir.join("env")).env_clear().output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let seen: std::collections::HashMap<String, String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("WECHATPAY_"))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(seen, env);
        drop(child);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
