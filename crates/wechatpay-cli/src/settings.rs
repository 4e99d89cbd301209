//! Turning flags and environment variables into a core `Config` and an HTTP client.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use wechatpay_core::{ApiV3Key, Config, KeyStore, MchId, PrivateKey, SerialNo, transport::Driver};
use zeroize::Zeroize as _;

use crate::args::Settings;
use crate::failure::Failure;

/// Fills every setting not given as a flag from its environment variable: a flag always wins
/// over the environment (an empty variable counts as unset). The APIv3 key is one setting
/// with two spellings: a flag for either (`--apiv3-key`, `--apiv3-key-file`) keeps both
/// variables out, so a flag is never refused for clashing with a variable.
pub(crate) fn fill_from_env(s: &mut Settings) {
    fill_from(s, &|name| std::env::var_os(name).filter(|v| !v.is_empty()));
}

/// [`fill_from_env`] with the variables `var` gives.
fn fill_from(s: &mut Settings, var: &dyn Fn(&str) -> Option<OsString>) {
    let text = |name: &str| var(name).map(|v| v.to_string_lossy().into_owned());
    let path = |name: &str| var(name).map(PathBuf::from);
    s.mchid = s.mchid.take().or_else(|| text("WECHATPAY_MCHID"));
    s.serial_no = s.serial_no.take().or_else(|| text("WECHATPAY_SERIAL_NO"));
    s.private_key = s.private_key.take().or_else(|| path("WECHATPAY_PRIVATE_KEY"));
    s.public_key = s.public_key.take().or_else(|| path("WECHATPAY_PUBLIC_KEY"));
    s.public_key_id = s.public_key_id.take().or_else(|| text("WECHATPAY_PUBLIC_KEY_ID"));
    if s.platform_certs.is_empty() {
        if let Some(list) = var("WECHATPAY_PLATFORM_CERTS") {
            let list = list.to_string_lossy().into_owned();
            s.platform_certs = list.split(',').filter(|p| !p.is_empty()).map(PathBuf::from).collect();
        }
    }
    s.base_url = s.base_url.take().or_else(|| text("WECHATPAY_BASE_URL"));
    s.backup_url = s.backup_url.take().or_else(|| text("WECHATPAY_BACKUP_URL"));
    s.timeout = s.timeout.take().or_else(|| text("WECHATPAY_TIMEOUT"));
    if s.apiv3_key.is_none() && s.apiv3_key_file.is_none() {
        s.apiv3_key = text("WECHATPAY_APIV3_KEY");
        s.apiv3_key_file = path("WECHATPAY_APIV3_KEY_FILE");
    }
}

/// Reads a file named by a setting, with an error naming the setting.
pub(crate) fn read_file(setting: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {setting} file {}: {e}", path.display())))
}

fn required<'a>(value: &'a Option<String>, flag: &str, var: &str, what: &str) -> Result<&'a str, Failure> {
    value.as_deref().ok_or_else(|| Failure::usage(format!("missing {what}: set {var} or pass --{flag}")))
}

/// The WeChat Pay keys configured (public key, platform certificates, or both).
pub(crate) fn key_store(s: &Settings) -> Result<KeyStore, Failure> {
    let keys = configured_keys(s)?;
    if keys.is_empty() {
        return Err(Failure::usage(
            "no WeChat Pay key configured: set WECHATPAY_PUBLIC_KEY and WECHATPAY_PUBLIC_KEY_ID, \
             or WECHATPAY_PLATFORM_CERTS (or pass --public-key/--public-key-id/--platform-certs)",
        ));
    }
    Ok(keys)
}

/// The WeChat Pay keys configured, possibly none (a first certificate download needs none).
pub(crate) fn configured_keys(s: &Settings) -> Result<KeyStore, Failure> {
    let mut keys = KeyStore::new();
    match (&s.public_key, &s.public_key_id) {
        (Some(path), Some(id)) => {
            let pem = read_file("WECHATPAY_PUBLIC_KEY", path)?;
            keys.add_public_key(id, &pem).map_err(|e| {
                Failure::usage(format!("invalid WeChat Pay public key ({} / {id}): {e}", path.display()))
            })?;
        }
        (Some(_), None) => {
            return Err(Failure::usage(
                "WECHATPAY_PUBLIC_KEY is set but WECHATPAY_PUBLIC_KEY_ID (--public-key-id) is not",
            ));
        }
        (None, Some(_)) => {
            return Err(Failure::usage(
                "WECHATPAY_PUBLIC_KEY_ID is set but WECHATPAY_PUBLIC_KEY (--public-key) is not",
            ));
        }
        (None, None) => {}
    }
    for path in &s.platform_certs {
        if path.is_dir() {
            let loaded = wechatpay_core::certificates::load_directory(&mut keys, path)
                .map_err(|e| Failure::usage(format!("WECHATPAY_PLATFORM_CERTS: {e}")))?;
            if loaded.is_empty() {
                return Err(Failure::usage(format!(
                    "WECHATPAY_PLATFORM_CERTS: no .pem certificate in directory {}",
                    path.display()
                )));
            }
            continue;
        }
        let pem = read_file("WECHATPAY_PLATFORM_CERTS", path)?;
        keys.add_platform_certificates(&pem)
            .map_err(|e| Failure::usage(format!("invalid platform certificate {}: {e}", path.display())))?;
    }
    Ok(keys)
}

/// Where the merchant certificate serial comes from, for errors about it.
const SERIAL_HINT: &str = "\nThe serial is that of the merchant API certificate (apiclient_cert.pem, downloaded \
     with the key from the merchant platform): `openssl x509 -noout -serial -in apiclient_cert.pem` prints it as \
     serial=… (use the hex digits after the =).";

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
    let mchid = MchId::new(required(&s.mchid, "mchid", "WECHATPAY_MCHID", "merchant id")?)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let serial = SerialNo::new(
        required(&s.serial_no, "serial-no", "WECHATPAY_SERIAL_NO", "certificate serial").map_err(|mut e| {
            e.message.push_str(SERIAL_HINT);
            e
        })?,
    )
    .map_err(|e| Failure::usage(format!("{e}{SERIAL_HINT}")))?;
    let key_path = s
        .private_key
        .as_deref()
        .ok_or_else(|| Failure::usage("missing private key: set WECHATPAY_PRIVATE_KEY or pass --private-key"))?;
    let pem = read_file("WECHATPAY_PRIVATE_KEY", key_path)?;
    let key = PrivateKey::from_pem(&pem)
        .map_err(|e| Failure::usage(format!("invalid private key {}: {e}", key_path.display())))?;
    // Ask for answers signed by the public key when one is configured (as the official
    // SDKs do during the move to public-key mode), else by the first certificate.
    let preferred = s.public_key_id.clone().or_else(|| keys.serials().next().map(|(id, _)| id.to_owned()));
    let mut builder = Config::builder(mchid, serial, key, keys);
    if let Some(serial) = preferred.filter(|_| prefer) {
        builder = builder.wechatpay_serial(serial);
    }
    if let Some(url) = &s.base_url {
        builder = builder.base_url(url.clone());
    }
    if let Some(url) = &s.backup_url {
        builder = builder.backup_url(url.clone());
    }
    builder = builder.user_agent_suffix(format!("wechatpay-cli/{}", env!("CARGO_PKG_VERSION")));
    builder.build().map_err(|e| Failure::usage(e.to_string()))
}

/// The per-attempt timeout, if set.
pub(crate) fn timeout(s: &Settings) -> Result<Option<Duration>, Failure> {
    let Some(text) = &s.timeout else { return Ok(None) };
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 3600.0 => Ok(Some(Duration::from_secs_f64(secs))),
        _ => Err(Failure::usage(format!(
            "invalid WECHATPAY_TIMEOUT/--timeout {text:?}: rule: a number of seconds greater than 0, at most 3600"
        ))),
    }
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
    let invalid = |setting: &str, e: wechatpay_core::ApiV3KeyError| Failure::usage(format!("{setting}: {e}"));
    match (&s.apiv3_key, &s.apiv3_key_file) {
        (Some(_), Some(_)) => Err(Failure::usage(
            "both WECHATPAY_APIV3_KEY and WECHATPAY_APIV3_KEY_FILE are set (--apiv3-key, --apiv3-key-file): set one",
        )),
        (Some(key), None) => ApiV3Key::new(key).map_err(|e| invalid("WECHATPAY_APIV3_KEY/--apiv3-key", e)),
        (None, Some(path)) => {
            let mut bytes = read_file("WECHATPAY_APIV3_KEY_FILE", path)?;
            let key = ApiV3Key::from_bytes(bytes.trim_ascii())
                .map_err(|e| invalid(&format!("WECHATPAY_APIV3_KEY_FILE {}", path.display()), e));
            bytes.zeroize();
            key
        }
        (None, None) => Err(Failure::usage(
            "missing APIv3 key: set WECHATPAY_APIV3_KEY or WECHATPAY_APIV3_KEY_FILE (or pass --apiv3-key/--apiv3-key-file)",
        )),
    }
}

/// The merchant id (`WECHATPAY_MCHID`, `--mchid`).
pub(crate) fn mchid(s: &Settings) -> Result<MchId, Failure> {
    MchId::new(required(&s.mchid, "mchid", "WECHATPAY_MCHID", "merchant id")?)
        .map_err(|e| Failure::usage(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(flags: Settings, vars: &[(&str, &str)]) -> Settings {
        let mut s = flags;
        fill_from(&mut s, &|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v)));
        s
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
        ];
        let s = filled(Settings::default(), &vars);
        assert_eq!(s.mchid.as_deref(), Some("1"));
        assert_eq!(s.platform_certs, [PathBuf::from("a.pem"), PathBuf::from("b.pem")]);
        assert_eq!(
            (s.apiv3_key.as_deref(), s.apiv3_key_file.as_deref()),
            (Some("env-key"), Some(Path::new("env.key")))
        );
        let flags = Settings {
            mchid: Some("2".into()),
            platform_certs: vec![PathBuf::from("c.pem")],
            timeout: Some("1".into()),
            apiv3_key_file: Some(PathBuf::from("flag.key")),
            ..Settings::default()
        };
        let s = filled(flags, &vars);
        assert_eq!(
            (s.mchid.as_deref(), s.serial_no.as_deref(), s.timeout.as_deref()),
            (Some("2"), Some("S"), Some("1"))
        );
        assert_eq!(s.platform_certs, [PathBuf::from("c.pem")]);
        // A key-file flag keeps WECHATPAY_APIV3_KEY out (and the other way round).
        assert_eq!((s.apiv3_key.as_deref(), s.apiv3_key_file.as_deref()), (None, Some(Path::new("flag.key"))));
        let s = filled(Settings { apiv3_key: Some("flag-key".into()), ..Settings::default() }, &vars);
        assert_eq!((s.apiv3_key.as_deref(), s.apiv3_key_file), (Some("flag-key"), None));
    }
}
