//! `wechatpay_core::env`: the `WECHATPAY_*` configuration, read through given functions
//! (never the process environment: tests run in parallel).
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use wechatpay_core::env::{EnvErrorKind, Loader};

const MCHID: &str = "1230000109";
const SERIAL: &str = "444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0";
const PUB_ID: &str = "PUB_KEY_ID_0114232019092600000000000000000001";
const PLATFORM_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
const APIV3_KEY: &str = "0123456789abcdefghijklmnopqrstuv";

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A complete public-key configuration, with `changes` applied ("" removes a variable).
fn vars(changes: &[(&str, &str)]) -> HashMap<String, OsString> {
    let mut v: HashMap<String, OsString> = [
        ("WECHATPAY_MCHID", MCHID.to_owned()),
        ("WECHATPAY_SERIAL_NO", SERIAL.to_owned()),
        ("WECHATPAY_PRIVATE_KEY", data("merchant_key.pem")),
        ("WECHATPAY_PUBLIC_KEY", data("wechatpay_pub.pem")),
        ("WECHATPAY_PUBLIC_KEY_ID", PUB_ID.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), OsString::from(v)))
    .collect();
    for (k, value) in changes {
        v.insert((*k).to_owned(), OsString::from(value));
    }
    v
}

fn loader(vars: &HashMap<String, OsString>) -> Loader<'_> {
    Loader::new(|name| vars.get(name).cloned(), |path| std::fs::read(path))
}

/// What `std::fs` would say: the regular files of a directory.
fn list(path: &Path) -> io::Result<Option<Vec<PathBuf>>> {
    if !path.is_dir() {
        return Ok(None);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let p = entry?.path();
        if p.is_file() {
            files.push(p);
        }
    }
    Ok(Some(files))
}

fn err(changes: &[(&str, &str)]) -> (EnvErrorKind, &'static str, String) {
    let v = vars(changes);
    let e = loader(&v).directories(list).load().unwrap_err();
    (e.kind(), e.variable(), e.to_string())
}

#[test]
fn a_complete_environment_gives_a_config_asking_for_the_public_key() {
    let v = vars(&[
        ("WECHATPAY_BASE_URL", "http://127.0.0.1:9"),
        ("WECHATPAY_TIMEOUT", "2.5"),
        ("WECHATPAY_APIV3_KEY", APIV3_KEY),
    ]);
    let loaded = loader(&v).load().unwrap();
    assert_eq!(loaded.timeout, Some(Duration::from_millis(2500)));
    assert!(loaded.apiv3_key.is_some());
    let config = loaded.config;
    assert_eq!(config.mchid().as_str(), MCHID);
    assert_eq!(config.serial_no().as_str(), SERIAL);
    assert_eq!(config.wechatpay_serial(), Some(PUB_ID));
    assert_eq!(config.base_url(wechatpay_core::Host::Primary).to_string(), "http://127.0.0.1:9");
    // A test base without a backup never fails over (to production or anywhere).
    assert!(!config.has_backup());
    // Nothing optional set: no key, no timeout; official hosts with the official backup.
    let v = vars(&[]);
    let loaded = loader(&v).load().unwrap();
    assert!(loaded.apiv3_key.is_none() && loaded.timeout.is_none());
    assert!(loaded.config.has_backup());
}

#[test]
fn platform_certificates_from_files_and_directories() {
    let dir = std::env::temp_dir().join(format!("wechatpay-env-test-{}", std::process::id()));
    let certs = dir.join("certs");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::copy(data("platform_cert.pem"), certs.join(format!("wechatpay_{PLATFORM_SERIAL}.pem"))).unwrap();
    std::fs::write(certs.join("notes.txt"), "not a .pem: ignored").unwrap();
    std::fs::write(empty.join("notes.txt"), "not a .pem").unwrap();
    let no_public_key = [("WECHATPAY_PUBLIC_KEY", ""), ("WECHATPAY_PUBLIC_KEY_ID", "")];
    for entry in [data("platform_cert.pem"), certs.display().to_string(), format!(",{},", certs.display())] {
        let v = vars(&[no_public_key[0], no_public_key[1], ("WECHATPAY_PLATFORM_CERTS", &entry)]);
        let config = loader(&v).directories(list).config_builder().unwrap().build().unwrap();
        assert_eq!(config.wechatpay_serial(), Some(PLATFORM_SERIAL), "{entry}");
    }
    // An empty directory names the variable and the rule.
    let v = vars(&[no_public_key[0], no_public_key[1], ("WECHATPAY_PLATFORM_CERTS", empty.to_str().unwrap())]);
    let e = loader(&v).directories(list).load().unwrap_err();
    assert_eq!((e.kind(), e.variable()), (EnvErrorKind::Invalid, "WECHATPAY_PLATFORM_CERTS"));
    assert!(e.to_string().contains("no .pem certificate in directory"), "{e}");
    // Without a directory lister, a directory is read as a file, and that fails, named.
    let v = vars(&[no_public_key[0], no_public_key[1], ("WECHATPAY_PLATFORM_CERTS", certs.to_str().unwrap())]);
    let e = loader(&v).load().unwrap_err();
    assert_eq!((e.kind(), e.variable()), (EnvErrorKind::Unreadable, "WECHATPAY_PLATFORM_CERTS"));
    // Both kinds of key: the public key is asked for.
    let v = vars(&[("WECHATPAY_PLATFORM_CERTS", certs.to_str().unwrap())]);
    let keys = loader(&v).directories(list).wechatpay_keys().unwrap();
    assert_eq!(keys.serials().count(), 2);
    let config = loader(&v).directories(list).config_builder().unwrap().build().unwrap();
    assert_eq!(config.wechatpay_serial(), Some(PUB_ID));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn each_missing_or_broken_setting_names_its_variable_and_rule() {
    use wechatpay_core::env::EnvErrorKind::{Conflict, Invalid, Missing, Unreadable};
    type Case<'a> = (&'a [(&'a str, &'a str)], EnvErrorKind, &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        (&[("WECHATPAY_MCHID", "")], Missing, "WECHATPAY_MCHID", "missing merchant id: set WECHATPAY_MCHID"),
        (&[("WECHATPAY_MCHID", "12ab")], Invalid, "WECHATPAY_MCHID", "invalid mchid"),
        (
            &[("WECHATPAY_SERIAL_NO", "")],
            Missing,
            "WECHATPAY_SERIAL_NO",
            "openssl x509 -noout -serial -in apiclient_cert.pem",
        ),
        (
            &[("WECHATPAY_SERIAL_NO", "not hex!")],
            Invalid,
            "WECHATPAY_SERIAL_NO",
            "openssl x509 -noout -serial -in apiclient_cert.pem",
        ),
        (&[("WECHATPAY_PRIVATE_KEY", "")], Missing, "WECHATPAY_PRIVATE_KEY", "set WECHATPAY_PRIVATE_KEY"),
        (
            &[("WECHATPAY_PRIVATE_KEY", "/nonexistent/key.pem")],
            Unreadable,
            "WECHATPAY_PRIVATE_KEY",
            "cannot read WECHATPAY_PRIVATE_KEY file /nonexistent/key.pem",
        ),
        (
            &[("WECHATPAY_PUBLIC_KEY_ID", "")],
            Conflict,
            "WECHATPAY_PUBLIC_KEY_ID",
            "WECHATPAY_PUBLIC_KEY is set but WECHATPAY_PUBLIC_KEY_ID is not",
        ),
        (
            &[("WECHATPAY_PUBLIC_KEY", "")],
            Conflict,
            "WECHATPAY_PUBLIC_KEY",
            "WECHATPAY_PUBLIC_KEY_ID is set but WECHATPAY_PUBLIC_KEY is not",
        ),
        (
            &[("WECHATPAY_PUBLIC_KEY", ""), ("WECHATPAY_PUBLIC_KEY_ID", "")],
            Missing,
            "WECHATPAY_PUBLIC_KEY",
            "no WeChat Pay key configured",
        ),
        (
            &[("WECHATPAY_PUBLIC_KEY_ID", "KEY_1")],
            Invalid,
            "WECHATPAY_PUBLIC_KEY_ID",
            "WECHATPAY_PUBLIC_KEY_ID: invalid WeChat Pay public key",
        ),
        (
            &[("WECHATPAY_PUBLIC_KEY", "/nonexistent/pub.pem")],
            Unreadable,
            "WECHATPAY_PUBLIC_KEY",
            "cannot read WECHATPAY_PUBLIC_KEY file",
        ),
        (
            &[("WECHATPAY_PLATFORM_CERTS", "/nonexistent.pem")],
            Unreadable,
            "WECHATPAY_PLATFORM_CERTS",
            "cannot read WECHATPAY_PLATFORM_CERTS file",
        ),
        (&[("WECHATPAY_BASE_URL", "ftp://x")], Invalid, "WECHATPAY_BASE_URL", "WECHATPAY_BASE_URL: invalid base_url"),
        (
            &[("WECHATPAY_BACKUP_URL", "https://x/v3")],
            Invalid,
            "WECHATPAY_BACKUP_URL",
            "WECHATPAY_BACKUP_URL: invalid backup_url",
        ),
        (
            &[("WECHATPAY_TIMEOUT", "soon")],
            Invalid,
            "WECHATPAY_TIMEOUT",
            "rule: a number of seconds greater than 0, at most 3600",
        ),
        (&[("WECHATPAY_TIMEOUT", "3601")], Invalid, "WECHATPAY_TIMEOUT", "invalid WECHATPAY_TIMEOUT \"3601\""),
        (
            &[("WECHATPAY_APIV3_KEY", APIV3_KEY), ("WECHATPAY_APIV3_KEY_FILE", "k")],
            Conflict,
            "WECHATPAY_APIV3_KEY_FILE",
            "set one",
        ),
        (
            &[("WECHATPAY_APIV3_KEY_FILE", "/nonexistent/apiv3.key")],
            Unreadable,
            "WECHATPAY_APIV3_KEY_FILE",
            "cannot read WECHATPAY_APIV3_KEY_FILE file",
        ),
    ];
    for (changes, kind, variable, needle) in cases {
        let (k, v, message) = err(changes);
        assert_eq!((k, v), (*kind, *variable), "{changes:?}: {message}");
        assert!(message.contains(needle), "{changes:?}: {message}");
    }
    // Keys that are not keys say what they are; the messages name the file.
    for (file, needle) in
        [("platform_cert.pem", "CERTIFICATE"), ("rsa1024_key.pem", "1024"), ("encrypted_key.pem", "encrypted")]
    {
        let (k, v, message) = err(&[("WECHATPAY_PRIVATE_KEY", &data(file))]);
        assert_eq!((k, v), (EnvErrorKind::Invalid, "WECHATPAY_PRIVATE_KEY"), "{message}");
        assert!(message.contains(needle) && message.contains(file), "{message}");
    }
}

#[test]
fn the_apiv3_key_comes_from_one_variable_and_never_shows() {
    let dir = std::env::temp_dir().join(format!("wechatpay-env-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("apiv3.key");
    std::fs::write(&file, format!("  {APIV3_KEY}\r\n")).unwrap();
    let v = vars(&[("WECHATPAY_APIV3_KEY_FILE", file.to_str().unwrap())]);
    assert!(loader(&v).apiv3_key().is_ok());
    // Neither set: missing (and `load` gives none).
    let v = vars(&[]);
    let e = loader(&v).apiv3_key().unwrap_err();
    assert_eq!((e.kind(), e.variable()), (EnvErrorKind::Missing, "WECHATPAY_APIV3_KEY"));
    // A wrong key: the rule, never the key, in Display and Debug.
    let short = "s3cret-too-short";
    std::fs::write(&file, short).unwrap();
    for v in [vars(&[("WECHATPAY_APIV3_KEY", short)]), vars(&[("WECHATPAY_APIV3_KEY_FILE", file.to_str().unwrap())])] {
        let e = loader(&v).load().unwrap_err();
        assert_eq!(e.kind(), EnvErrorKind::Invalid);
        let shown = format!("{e} {e:?}");
        assert!(shown.contains("exactly 32") && !shown.contains("s3cret"), "{shown}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empty_variables_count_as_unset() {
    let v = vars(&[("WECHATPAY_BASE_URL", ""), ("WECHATPAY_TIMEOUT", ""), ("WECHATPAY_APIV3_KEY", "")]);
    let loaded = loader(&v).load().unwrap();
    assert!(loaded.timeout.is_none() && loaded.apiv3_key.is_none());
    assert_eq!(loaded.config.base_url(wechatpay_core::Host::Primary).to_string(), "https://api.mch.weixin.qq.com");
}

#[test]
fn the_appid_is_optional_and_checked_when_set() {
    let v = vars(&[]);
    assert_eq!(loader(&v).load().unwrap().appid, None);
    let e = loader(&v).appid().unwrap_err();
    assert_eq!((e.kind(), e.variable()), (EnvErrorKind::Missing, "WECHATPAY_APPID"));
    assert_eq!(e.to_string(), "missing app id: set WECHATPAY_APPID");
    let v = vars(&[("WECHATPAY_APPID", "wxd678efh567hg6787")]);
    assert_eq!(loader(&v).load().unwrap().appid.unwrap().as_str(), "wxd678efh567hg6787");
    assert_eq!(loader(&v).appid().unwrap().as_str(), "wxd678efh567hg6787");
    let (kind, variable, message) = err(&[("WECHATPAY_APPID", "wx/../x")]);
    assert_eq!((kind, variable), (EnvErrorKind::Invalid, "WECHATPAY_APPID"));
    assert!(message.starts_with("WECHATPAY_APPID: ") && message.contains("appid"), "{message}");
    assert!(wechatpay_core::env::VARIABLES.contains(&"WECHATPAY_APPID"));
}
