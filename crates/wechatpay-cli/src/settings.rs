//! Turning flags and environment variables into a core `Config` and an HTTP client.
//!
//! The variables, files, rules and error texts are the core's ([`wechatpay_core::env`], the
//! same the adapters' `Client::from_env()` use); here each flag wins over its variable, and
//! errors name the flag next to the variable.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use wechatpay_core::env::{self, EnvError, EnvErrorKind, Loader};
use wechatpay_core::{ApiV3Key, AppId, Config, KeyStore, MchId, PrivateKey, transport::Driver};

use crate::args::Settings;
use crate::failure::Failure;

/// Each setting's variable and flag: the flag wins over the variable.
const FLAGS: [(&str, &str); 12] = [
    (env::MCHID, "--mchid"),
    (env::SERIAL_NO, "--serial-no"),
    (env::PRIVATE_KEY, "--private-key"),
    (env::PUBLIC_KEY, "--public-key"),
    (env::PUBLIC_KEY_ID, "--public-key-id"),
    (env::PLATFORM_CERTS, "--platform-certs"),
    (env::BASE_URL, "--base-url"),
    (env::BACKUP_URL, "--backup-url"),
    (env::TIMEOUT, "--timeout"),
    (env::APIV3_KEY, "--apiv3-key"),
    (env::APIV3_KEY_FILE, "--apiv3-key-file"),
    (env::APPID, "--appid"),
];

/// The value of setting `name` given as a flag, if it was.
fn flag(s: &Settings, name: &str) -> Option<OsString> {
    let text = |v: &Option<String>| v.as_ref().map(OsString::from);
    let path = |v: &Option<PathBuf>| v.as_ref().map(|p| p.clone().into_os_string());
    match name {
        env::MCHID => text(&s.mchid),
        env::SERIAL_NO => text(&s.serial_no),
        env::PRIVATE_KEY => path(&s.private_key),
        env::PUBLIC_KEY => path(&s.public_key),
        env::PUBLIC_KEY_ID => text(&s.public_key_id),
        env::PLATFORM_CERTS if !s.platform_certs.is_empty() => {
            // clap split the flag at commas already: joined again, the core splits it the same way.
            let mut list = OsString::new();
            for (i, p) in s.platform_certs.iter().enumerate() {
                if i > 0 {
                    list.push(",");
                }
                list.push(p);
            }
            Some(list)
        }
        env::BASE_URL => text(&s.base_url),
        env::BACKUP_URL => text(&s.backup_url),
        env::TIMEOUT => text(&s.timeout),
        env::APIV3_KEY => text(&s.apiv3_key),
        env::APIV3_KEY_FILE => path(&s.apiv3_key_file),
        env::APPID => text(&s.appid),
        _ => None,
    }
}

/// Setting `name`: its flag if given, else its variable from `var`. The APIv3 key is one
/// setting with two spellings: a flag for either (`--apiv3-key`, `--apiv3-key-file`) keeps
/// both variables out, so a flag is never refused for clashing with a variable.
fn lookup(s: &Settings, name: &str, var: &dyn Fn(&str) -> Option<OsString>) -> Option<OsString> {
    let apiv3_flag = s.apiv3_key.is_some() || s.apiv3_key_file.is_some();
    if apiv3_flag && (name == env::APIV3_KEY || name == env::APIV3_KEY_FILE) {
        return flag(s, name);
    }
    flag(s, name).or_else(|| var(name))
}

/// The core's loader over the flags and the process environment.
fn loader(s: &Settings) -> Loader<'_> {
    Loader::new(move |name| lookup(s, name, &|n| std::env::var_os(n)), |path| std::fs::read(path))
        .directories(wechatpay_core::env::list_directory)
}

/// A usage failure from a configuration error, naming the flags next to the variables.
fn usage(e: EnvError) -> Failure {
    let message = e.to_string();
    let (first, rest) = message.split_once('\n').map_or((message.as_str(), None), |(a, b)| (a, Some(b)));
    let named: Vec<&str> = first.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
    let flags: Vec<&str> = FLAGS.iter().filter(|(var, _)| named.contains(var)).map(|(_, flag)| *flag).collect();
    let mut text = first.to_owned();
    if !flags.is_empty() {
        let lead = if e.kind() == EnvErrorKind::Missing { "or pass" } else { "flag" };
        text.push_str(&format!(" ({lead} {})", flags.join("/")));
    }
    if let Some(rest) = rest {
        text.push('\n');
        text.push_str(rest);
    }
    Failure::usage(text)
}

/// Reads a file named by a setting, with an error naming the setting.
pub(crate) fn read_file(setting: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {setting} file {}: {e}", path.display())))
}

/// The WeChat Pay keys configured (public key, platform certificates, or both).
pub(crate) fn key_store(s: &Settings) -> Result<KeyStore, Failure> {
    loader(s).required_wechatpay_keys().map_err(usage)
}

/// The WeChat Pay keys configured, possibly none (a first certificate download needs none).
pub(crate) fn configured_keys(s: &Settings) -> Result<KeyStore, Failure> {
    loader(s).wechatpay_keys().map_err(usage)
}

/// A configuration that can sign; with `verify`, also one that can check answers.
pub(crate) fn config(s: &Settings, verify: bool) -> Result<Config, Failure> {
    // Without `verify` (the `sign` command) the configuration only signs: its key store
    // trusts no WeChat Pay key, so nothing could ever verify with it.
    let keys = if verify { key_store(s)? } else { KeyStore::new() };
    config_with(s, keys, verify)
}

/// A configuration verifying with `keys`; with `prefer`, asking for answers signed by the
/// public key (or else the first certificate) held.
pub(crate) fn config_with(s: &Settings, keys: KeyStore, prefer: bool) -> Result<Config, Failure> {
    let builder = loader(s).config_builder_with(keys, prefer).map_err(usage)?;
    let builder = builder.user_agent_suffix(format!("wechatpay-cli/{}", env!("CARGO_PKG_VERSION")));
    builder.build().map_err(|e| Failure::usage(e.to_string()))
}

/// The per-attempt timeout, if set.
pub(crate) fn timeout(s: &Settings) -> Result<Option<Duration>, Failure> {
    loader(s).timeout().map_err(usage)
}

/// The blocking client for queries.
pub(crate) fn client(s: &Settings) -> Result<wechatpay_ureq::Client, Failure> {
    Ok(wechatpay_ureq::Client::new(driver(s, config(s, true)?)?))
}

/// The call loop for `config`, with the configured per-attempt timeout.
pub(crate) fn driver(s: &Settings, config: Config) -> Result<Driver, Failure> {
    let mut driver = Driver::new(config);
    if let Some(t) = timeout(s)? {
        driver = driver.with_attempt_timeout(t);
    }
    Ok(driver)
}

/// The merchant's APIv3 key, from `WECHATPAY_APIV3_KEY` (`--apiv3-key`) or the file named by
/// `WECHATPAY_APIV3_KEY_FILE` (`--apiv3-key-file`; whitespace around the key is ignored).
/// Errors name the setting and the rule, never the key.
pub(crate) fn apiv3_key(s: &Settings) -> Result<ApiV3Key, Failure> {
    loader(s).apiv3_key().map_err(usage)
}

/// The merchant's app id (`WECHATPAY_APPID`, `--appid`; a service provider's `sp_appid`).
pub(crate) fn appid(s: &Settings) -> Result<AppId, Failure> {
    loader(s).appid().map_err(usage)
}

/// The merchant private key (`WECHATPAY_PRIVATE_KEY`, `--private-key`), for signing the
/// parameters that open the payment sheet.
pub(crate) fn private_key(s: &Settings) -> Result<PrivateKey, Failure> {
    loader(s).private_key().map_err(usage)
}

/// The merchant id (`WECHATPAY_MCHID`, `--mchid`).
pub(crate) fn mchid(s: &Settings) -> Result<MchId, Failure> {
    loader(s).mchid().map_err(usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the core's loader sees for each variable, given `flags` and the environment `vars`.
    fn seen(flags: &Settings, vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| {
            let var = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| OsString::from(v));
            lookup(flags, name, &var).map(|v| v.to_string_lossy().into_owned())
        }
    }

    #[test]
    fn flags_win_over_the_environment_for_every_setting() {
        let vars = [
            ("WECHATPAY_MCHID", "1"),
            ("WECHATPAY_SERIAL_NO", "S"),
            ("WECHATPAY_PLATFORM_CERTS", "a.pem,b.pem"),
            ("WECHATPAY_TIMEOUT", "9"),
            ("WECHATPAY_APIV3_KEY", "env-key"),
            ("WECHATPAY_APIV3_KEY_FILE", "env.key"),
            ("WECHATPAY_APPID", "wxenv"),
        ];
        let none = Settings::default();
        let s = seen(&none, &vars);
        assert_eq!(s("WECHATPAY_MCHID").as_deref(), Some("1"));
        assert_eq!(s("WECHATPAY_PLATFORM_CERTS").as_deref(), Some("a.pem,b.pem"));
        assert_eq!(s("WECHATPAY_APPID").as_deref(), Some("wxenv"));
        assert_eq!(
            (s("WECHATPAY_APIV3_KEY").as_deref(), s("WECHATPAY_APIV3_KEY_FILE").as_deref()),
            (Some("env-key"), Some("env.key"))
        );
        let flags = Settings {
            mchid: Some("2".into()),
            platform_certs: vec![PathBuf::from("c.pem")],
            timeout: Some("1".into()),
            apiv3_key_file: Some(PathBuf::from("flag.key")),
            appid: Some("wxflag".into()),
            ..Settings::default()
        };
        let s = seen(&flags, &vars);
        assert_eq!(s("WECHATPAY_APPID").as_deref(), Some("wxflag"));
        assert_eq!(
            (s("WECHATPAY_MCHID").as_deref(), s("WECHATPAY_SERIAL_NO").as_deref(), s("WECHATPAY_TIMEOUT").as_deref()),
            (Some("2"), Some("S"), Some("1"))
        );
        assert_eq!(s("WECHATPAY_PLATFORM_CERTS").as_deref(), Some("c.pem"));
        // A key-file flag keeps WECHATPAY_APIV3_KEY out (and the other way round).
        assert_eq!(
            (s("WECHATPAY_APIV3_KEY").as_deref(), s("WECHATPAY_APIV3_KEY_FILE").as_deref()),
            (None, Some("flag.key"))
        );
        let key_flag = Settings { apiv3_key: Some("flag-key".into()), ..Settings::default() };
        let s = seen(&key_flag, &vars);
        assert_eq!((s("WECHATPAY_APIV3_KEY").as_deref(), s("WECHATPAY_APIV3_KEY_FILE")), (Some("flag-key"), None));
        // Several platform-certificate flags reach the core as one list it splits again.
        let two = Settings { platform_certs: vec![PathBuf::from("c.pem"), PathBuf::from("d")], ..Settings::default() };
        assert_eq!(seen(&two, &vars)("WECHATPAY_PLATFORM_CERTS").as_deref(), Some("c.pem,d"));
    }

    #[test]
    fn configuration_errors_name_the_flag_next_to_the_variable() {
        let none = Settings::default();
        let vars: [(&str, &str); 0] = [];
        let s = seen(&none, &vars);
        let loader = Loader::new(|name| s(name).map(OsString::from), |path| std::fs::read(path));
        let e = usage(loader.mchid().unwrap_err());
        assert_eq!(e.message, "missing merchant id: set WECHATPAY_MCHID (or pass --mchid)");
        let e = usage(loader.appid().unwrap_err());
        assert_eq!(e.message, "missing app id: set WECHATPAY_APPID (or pass --appid)");
        let e = usage(loader.serial_no().unwrap_err());
        let (first, hint) = e.message.split_once('\n').unwrap();
        assert_eq!(first, "missing certificate serial: set WECHATPAY_SERIAL_NO (or pass --serial-no)");
        assert!(hint.contains("openssl x509 -noout -serial -in apiclient_cert.pem"), "{hint}");
        let e = usage(loader.required_wechatpay_keys().unwrap_err());
        assert!(e.message.ends_with("(or pass --public-key/--public-key-id/--platform-certs)"), "{}", e.message);
        let both = [("WECHATPAY_APIV3_KEY", "k"), ("WECHATPAY_APIV3_KEY_FILE", "f")];
        let s = seen(&none, &both);
        let loader = Loader::new(|name| s(name).map(OsString::from), |path| std::fs::read(path));
        let e = usage(loader.apiv3_key().unwrap_err());
        assert!(e.message.contains("set one (flag --apiv3-key/--apiv3-key-file)"), "{}", e.message);
    }
}
