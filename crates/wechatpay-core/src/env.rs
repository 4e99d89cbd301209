//! Configuration from `WECHATPAY_*` variables and the files they name, in one place.
//!
//! The same variables, files, rules and error texts serve the `wechatpay` command and both
//! adapters' `Client::from_env()`. A [`Loader`] is given a variable lookup, a file reader and,
//! to take a directory of platform certificates, a directory lister, so tests and services
//! can feed it anything; [`Loader::from_process`] is the one over the process's environment
//! and file system (`std::env::var_os`, `std::fs::read`, [`list_directory`]). An empty
//! variable counts as unset.
//!
//! | variable | what |
//! |---|---|
//! | `WECHATPAY_MCHID` | the merchant id (required) |
//! | `WECHATPAY_SERIAL_NO` | the merchant API certificate's serial (required) |
//! | `WECHATPAY_PRIVATE_KEY` | path to the merchant private key PEM (required) |
//! | `WECHATPAY_PUBLIC_KEY`, `WECHATPAY_PUBLIC_KEY_ID` | the WeChat Pay public key PEM path and its `PUB_KEY_ID_…` (both or neither) |
//! | `WECHATPAY_PLATFORM_CERTS` | platform certificate PEM paths, comma-separated; a directory adds every `.pem` in it |
//! | `WECHATPAY_BASE_URL`, `WECHATPAY_BACKUP_URL` | hosts (see [`ConfigBuilder::backup_url`]: no failover from a non-official base unless a backup is given) |
//! | `WECHATPAY_TIMEOUT` | per-attempt timeout in seconds, greater than 0, at most 3600 |
//! | `WECHATPAY_APIV3_KEY` or `WECHATPAY_APIV3_KEY_FILE` | the APIv3 key, or a file holding it (whitespace around it ignored); one, not both |
//! | `WECHATPAY_APPID` | the merchant's app id (for partner calls the `sp_appid`), for creating orders and the parameters that open the payment sheet (optional) |
//!
//! Errors name the variable and the rule, never a secret:
//!
//! ```
//! use std::ffi::OsString;
//! use wechatpay_core::env::{EnvErrorKind, Loader};
//!
//! let vars = [("WECHATPAY_MCHID", "1230000109")];
//! let lookup = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v));
//! let loader = Loader::new(lookup, |path| std::fs::read(path));
//! assert_eq!(loader.mchid()?.as_str(), "1230000109");
//! let err = loader.serial_no().unwrap_err();
//! assert_eq!((err.kind(), err.variable()), (EnvErrorKind::Missing, "WECHATPAY_SERIAL_NO"));
//! assert!(err.to_string().contains("WECHATPAY_SERIAL_NO"));
//! assert!(err.to_string().contains("openssl x509 -noout -serial -in apiclient_cert.pem"));
//! # Ok::<(), wechatpay_core::env::EnvError>(())
//! ```

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroize as _;

use crate::apiv3_key::ApiV3Key;
use crate::config::{BaseUrl, Config, ConfigBuilder};
use crate::ids::{AppId, MchId, SerialNo};
use crate::keys::{KeyError, KeyStore, PrivateKey};

/// `WECHATPAY_MCHID`: the merchant id.
pub const MCHID: &str = "WECHATPAY_MCHID";
/// `WECHATPAY_SERIAL_NO`: the merchant API certificate's serial.
pub const SERIAL_NO: &str = "WECHATPAY_SERIAL_NO";
/// `WECHATPAY_PRIVATE_KEY`: path to the merchant private key PEM.
pub const PRIVATE_KEY: &str = "WECHATPAY_PRIVATE_KEY";
/// `WECHATPAY_PUBLIC_KEY`: path to the WeChat Pay public key PEM.
pub const PUBLIC_KEY: &str = "WECHATPAY_PUBLIC_KEY";
/// `WECHATPAY_PUBLIC_KEY_ID`: the WeChat Pay public key's id (`PUB_KEY_ID_…`).
pub const PUBLIC_KEY_ID: &str = "WECHATPAY_PUBLIC_KEY_ID";
/// `WECHATPAY_PLATFORM_CERTS`: platform certificate paths, comma-separated (a directory adds every `.pem` in it).
pub const PLATFORM_CERTS: &str = "WECHATPAY_PLATFORM_CERTS";
/// `WECHATPAY_BASE_URL`: the primary host.
pub const BASE_URL: &str = "WECHATPAY_BASE_URL";
/// `WECHATPAY_BACKUP_URL`: the backup host.
pub const BACKUP_URL: &str = "WECHATPAY_BACKUP_URL";
/// `WECHATPAY_TIMEOUT`: the per-attempt timeout in seconds.
pub const TIMEOUT: &str = "WECHATPAY_TIMEOUT";
/// `WECHATPAY_APIV3_KEY`: the APIv3 key itself.
pub const APIV3_KEY: &str = "WECHATPAY_APIV3_KEY";
/// `WECHATPAY_APIV3_KEY_FILE`: a file holding the APIv3 key.
pub const APIV3_KEY_FILE: &str = "WECHATPAY_APIV3_KEY_FILE";

/// `WECHATPAY_APPID`: the merchant's app id (the `sp_appid` for partner calls).
pub const APPID: &str = "WECHATPAY_APPID";

/// Every variable a [`Loader`] reads.
pub const VARIABLES: [&str; 12] = [
    MCHID,
    SERIAL_NO,
    PRIVATE_KEY,
    PUBLIC_KEY,
    PUBLIC_KEY_ID,
    PLATFORM_CERTS,
    BASE_URL,
    BACKUP_URL,
    TIMEOUT,
    APIV3_KEY,
    APIV3_KEY_FILE,
    APPID,
];

/// Where the merchant certificate serial comes from, for errors about it.
const SERIAL_HINT: &str = "\nThe serial is that of the merchant API certificate (apiclient_cert.pem, downloaded \
     with the key from the merchant platform): `openssl x509 -noout -serial -in apiclient_cert.pem` prints it as \
     serial=… (use the hex digits after the =).";

/// The longest per-attempt timeout accepted, in seconds.
const MAX_TIMEOUT_SECS: f64 = 3600.0;

type Lookup<'a> = Box<dyn Fn(&str) -> Option<OsString> + 'a>;
type Reader<'a> = Box<dyn Fn(&Path) -> io::Result<Vec<u8>> + 'a>;
type Lister<'a> = Box<dyn Fn(&Path) -> io::Result<Option<Vec<PathBuf>>> + 'a>;

/// Reads the `WECHATPAY_*` configuration through the functions it is given.
pub struct Loader<'a> {
    var: Lookup<'a>,
    read: Reader<'a>,
    list: Lister<'a>,
}

impl fmt::Debug for Loader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loader").finish_non_exhaustive()
    }
}

/// What [`Loader::load`] gives: everything a client needs.
#[derive(Debug)]
#[non_exhaustive]
pub struct Loaded {
    /// The configuration: merchant, keys, hosts, and the WeChat Pay key answers are asked
    /// to be signed with (the public key if configured, else the first certificate). To
    /// change more of it, start from [`Loader::config_builder`] instead.
    pub config: Config,
    /// The APIv3 key, when one of its variables is set.
    pub apiv3_key: Option<ApiV3Key>,
    /// The per-attempt timeout, when `WECHATPAY_TIMEOUT` is set.
    pub timeout: Option<Duration>,
    /// The merchant's app id, when `WECHATPAY_APPID` is set.
    pub appid: Option<AppId>,
}

impl<'a> Loader<'a> {
    /// A loader reading variables with `var` (`std::env::var_os`) and files with `read`
    /// (`std::fs::read`). Without [`Loader::directories`], every platform certificate path
    /// is read as a file.
    pub fn new(var: impl Fn(&str) -> Option<OsString> + 'a, read: impl Fn(&Path) -> io::Result<Vec<u8>> + 'a) -> Self {
        Loader { var: Box::new(var), read: Box::new(read), list: Box::new(|_| Ok(None)) }
    }

    /// The loader of the running process: its environment (`std::env::var_os`), files read
    /// with `std::fs::read`, directories listed with [`list_directory`] — what the adapters'
    /// `Client::from_env()` use. (The module's one use of the process's environment and file
    /// system; everything else goes through the functions a [`Loader::new`] is given.)
    pub fn from_process() -> Loader<'static> {
        Loader::new(|name| std::env::var_os(name), |path| std::fs::read(path)).directories(list_directory)
    }

    /// Lets a `WECHATPAY_PLATFORM_CERTS` entry be a directory: `list(path)` gives
    /// `Ok(None)` when `path` is not a directory, else the regular files in it (the loader
    /// takes those ending in `.pem`, sorted by name).
    pub fn directories(mut self, list: impl Fn(&Path) -> io::Result<Option<Vec<PathBuf>>> + 'a) -> Self {
        self.list = Box::new(list);
        self
    }

    /// A variable's value; an empty one counts as unset.
    fn var(&self, name: &str) -> Option<OsString> {
        (self.var)(name).filter(|v| !v.is_empty())
    }

    fn text(&self, name: &str) -> Option<String> {
        self.var(name).map(|v| v.to_string_lossy().into_owned())
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        self.var(name).map(PathBuf::from)
    }

    fn read(&self, variable: &'static str, path: &Path) -> Result<Vec<u8>, EnvError> {
        (self.read)(path).map_err(|e| {
            let message = format!("cannot read {variable} file {}: {e}", path.display());
            EnvError { variable, kind: EnvErrorKind::Unreadable, message, source: Some(e) }
        })
    }

    /// Everything: [`Loader::config_builder`], the APIv3 key if set, the timeout if set.
    ///
    /// # Errors
    /// The first setting missing or broken.
    pub fn load(&self) -> Result<Loaded, EnvError> {
        let config = self.config_builder()?.build().map_err(|e| {
            // The hosts were checked already: what is left from the environment is the
            // serial answers are asked for (`WECHATPAY_PUBLIC_KEY_ID`).
            let variable = match e.field() {
                "base_url" => BASE_URL,
                "backup_url" => BACKUP_URL,
                _ => PUBLIC_KEY_ID,
            };
            EnvError::invalid(variable, format!("{variable}: {e}"))
        })?;
        let apiv3_key = match self.apiv3_key() {
            Ok(key) => Some(key),
            Err(e) if e.kind == EnvErrorKind::Missing => None,
            Err(e) => return Err(e),
        };
        let appid = match self.appid() {
            Ok(appid) => Some(appid),
            Err(e) if e.kind == EnvErrorKind::Missing => None,
            Err(e) => return Err(e),
        };
        Ok(Loaded { config, apiv3_key, timeout: self.timeout()?, appid })
    }

    /// The configuration of a client that signs and verifies: at least one WeChat Pay key is
    /// required, and answers are asked to be signed by the public key (if configured) or else
    /// the first certificate.
    ///
    /// # Errors
    /// The first setting missing or broken.
    pub fn config_builder(&self) -> Result<ConfigBuilder, EnvError> {
        let keys = self.required_wechatpay_keys()?;
        self.config_builder_with(keys, true)
    }

    /// The configuration verifying with `keys` (possibly empty, e.g. for a first
    /// certificate download); with `prefer`, asking for answers signed by the public key
    /// (`WECHATPAY_PUBLIC_KEY_ID`) or else the first key in `keys`.
    ///
    /// # Errors
    /// The merchant id, serial, private key or a host missing or broken.
    pub fn config_builder_with(&self, keys: KeyStore, prefer: bool) -> Result<ConfigBuilder, EnvError> {
        let mchid = self.mchid()?;
        let serial = self.serial_no()?;
        let key = self.private_key()?;
        let preferred = self.text(PUBLIC_KEY_ID).or_else(|| keys.serials().next().map(|(id, _)| id.to_owned()));
        let mut builder = Config::builder(mchid, serial, key, keys);
        if let Some(serial) = preferred.filter(|_| prefer) {
            builder = builder.wechatpay_serial(serial);
        }
        for (variable, field) in [(BASE_URL, "base_url"), (BACKUP_URL, "backup_url")] {
            let Some(url) = self.text(variable) else { continue };
            BaseUrl::parse(field, &url).map_err(|e| EnvError::invalid(variable, format!("{variable}: {e}")))?;
            builder = if variable == BASE_URL { builder.base_url(url) } else { builder.backup_url(url) };
        }
        Ok(builder)
    }

    /// The merchant id (`WECHATPAY_MCHID`).
    ///
    /// # Errors
    /// Unset or invalid.
    pub fn mchid(&self) -> Result<MchId, EnvError> {
        let text =
            self.text(MCHID).ok_or_else(|| EnvError::missing(MCHID, "missing merchant id: set WECHATPAY_MCHID"))?;
        MchId::new(&text).map_err(|e| EnvError::invalid(MCHID, format!("{MCHID}: {e}")))
    }

    /// The merchant's app id (`WECHATPAY_APPID`): the `appid` of a direct merchant's orders,
    /// the `sp_appid` of a service provider's, and the app id the payment sheet is opened
    /// with unless another is named.
    ///
    /// # Errors
    /// Unset ([`EnvErrorKind::Missing`]) or invalid.
    pub fn appid(&self) -> Result<AppId, EnvError> {
        let text = self.text(APPID).ok_or_else(|| EnvError::missing(APPID, "missing app id: set WECHATPAY_APPID"))?;
        AppId::new(&text).map_err(|e| EnvError::invalid(APPID, format!("{APPID}: {e}")))
    }

    /// The merchant API certificate's serial (`WECHATPAY_SERIAL_NO`); errors say where it comes from.
    ///
    /// # Errors
    /// Unset or invalid.
    pub fn serial_no(&self) -> Result<SerialNo, EnvError> {
        let text = self.text(SERIAL_NO).ok_or_else(|| {
            EnvError::missing(SERIAL_NO, format!("missing certificate serial: set WECHATPAY_SERIAL_NO{SERIAL_HINT}"))
        })?;
        SerialNo::new(&text).map_err(|e| EnvError::invalid(SERIAL_NO, format!("{SERIAL_NO}: {e}{SERIAL_HINT}")))
    }

    /// The merchant private key, from the PEM file `WECHATPAY_PRIVATE_KEY` names.
    ///
    /// # Errors
    /// Unset, unreadable or not a usable key (the error never holds the key).
    pub fn private_key(&self) -> Result<PrivateKey, EnvError> {
        let path = self
            .path(PRIVATE_KEY)
            .ok_or_else(|| EnvError::missing(PRIVATE_KEY, "missing private key: set WECHATPAY_PRIVATE_KEY"))?;
        let mut pem = self.read(PRIVATE_KEY, &path)?;
        let key = PrivateKey::from_pem(&pem).map_err(|e| {
            EnvError::invalid(PRIVATE_KEY, format!("{PRIVATE_KEY}: invalid private key {}: {e}", path.display()))
        });
        pem.zeroize();
        key
    }

    /// The WeChat Pay keys configured (public key, platform certificates, both, or none).
    ///
    /// # Errors
    /// A key or certificate unreadable or invalid; a public key without its id or the other way round.
    pub fn wechatpay_keys(&self) -> Result<KeyStore, EnvError> {
        let mut keys = KeyStore::new();
        match (self.path(PUBLIC_KEY), self.text(PUBLIC_KEY_ID)) {
            (Some(path), Some(id)) => {
                let pem = self.read(PUBLIC_KEY, &path)?;
                keys.add_public_key(&id, &pem).map_err(|e| {
                    let variable = if matches!(e, KeyError::InvalidKeyId) { PUBLIC_KEY_ID } else { PUBLIC_KEY };
                    let message = format!("{variable}: invalid WeChat Pay public key ({} / {id}): {e}", path.display());
                    EnvError::invalid(variable, message)
                })?;
            }
            (Some(_), None) => {
                return Err(EnvError::conflict(
                    PUBLIC_KEY_ID,
                    "WECHATPAY_PUBLIC_KEY is set but WECHATPAY_PUBLIC_KEY_ID is not",
                ));
            }
            (None, Some(_)) => {
                return Err(EnvError::conflict(
                    PUBLIC_KEY,
                    "WECHATPAY_PUBLIC_KEY_ID is set but WECHATPAY_PUBLIC_KEY is not",
                ));
            }
            (None, None) => {}
        }
        let list = self.text(PLATFORM_CERTS).unwrap_or_default();
        for path in list.split(',').filter(|p| !p.is_empty()).map(PathBuf::from) {
            let listed = (self.list)(&path).map_err(|e| {
                let message = format!("{PLATFORM_CERTS}: {}: {e}", path.display());
                EnvError { variable: PLATFORM_CERTS, kind: EnvErrorKind::Unreadable, message, source: Some(e) }
            })?;
            let Some(mut files) = listed else {
                let pem = self.read(PLATFORM_CERTS, &path)?;
                keys.add_platform_certificates(&pem).map_err(|e| {
                    EnvError::invalid(PLATFORM_CERTS, format!("invalid platform certificate {}: {e}", path.display()))
                })?;
                continue;
            };
            files.retain(|f| f.extension().is_some_and(|e| e == "pem"));
            files.sort();
            if files.is_empty() {
                let message = format!("{PLATFORM_CERTS}: no .pem certificate in directory {}", path.display());
                return Err(EnvError::invalid(PLATFORM_CERTS, message));
            }
            for file in files {
                let pem = self.read(PLATFORM_CERTS, &file)?;
                keys.add_platform_certificates(&pem).map_err(|e| {
                    let message = format!("{PLATFORM_CERTS}: invalid platform certificate {}: {e}", file.display());
                    EnvError::invalid(PLATFORM_CERTS, message)
                })?;
            }
        }
        Ok(keys)
    }

    /// [`Loader::wechatpay_keys`], at least one.
    ///
    /// # Errors
    /// As [`Loader::wechatpay_keys`], and none configured.
    pub fn required_wechatpay_keys(&self) -> Result<KeyStore, EnvError> {
        let keys = self.wechatpay_keys()?;
        if keys.is_empty() {
            return Err(EnvError::missing(
                PUBLIC_KEY,
                "no WeChat Pay key configured: set WECHATPAY_PUBLIC_KEY and WECHATPAY_PUBLIC_KEY_ID, \
                 or WECHATPAY_PLATFORM_CERTS",
            ));
        }
        Ok(keys)
    }

    /// The merchant's APIv3 key, from `WECHATPAY_APIV3_KEY` or the file named by
    /// `WECHATPAY_APIV3_KEY_FILE` (whitespace around the key is ignored); one, not both.
    ///
    /// # Errors
    /// Neither set ([`EnvErrorKind::Missing`]), both set, the file unreadable, or not a key.
    /// The error never holds the key.
    pub fn apiv3_key(&self) -> Result<ApiV3Key, EnvError> {
        match (self.var(APIV3_KEY), self.path(APIV3_KEY_FILE)) {
            (Some(_), Some(_)) => Err(EnvError::conflict(
                APIV3_KEY_FILE,
                "both WECHATPAY_APIV3_KEY and WECHATPAY_APIV3_KEY_FILE are set: set one",
            )),
            (Some(key), None) => {
                let mut bytes = key.into_encoded_bytes();
                let key =
                    ApiV3Key::from_bytes(&bytes).map_err(|e| EnvError::invalid(APIV3_KEY, format!("{APIV3_KEY}: {e}")));
                bytes.zeroize();
                key
            }
            (None, Some(path)) => {
                let mut bytes = self.read(APIV3_KEY_FILE, &path)?;
                let key = ApiV3Key::from_bytes(bytes.trim_ascii()).map_err(|e| {
                    EnvError::invalid(APIV3_KEY_FILE, format!("{APIV3_KEY_FILE} {}: {e}", path.display()))
                });
                bytes.zeroize();
                key
            }
            (None, None) => Err(EnvError::missing(
                APIV3_KEY,
                "missing APIv3 key: set WECHATPAY_APIV3_KEY or WECHATPAY_APIV3_KEY_FILE",
            )),
        }
    }

    /// The per-attempt timeout (`WECHATPAY_TIMEOUT`, seconds), if set.
    ///
    /// # Errors
    /// Not a number of seconds greater than 0, at most 3600.
    pub fn timeout(&self) -> Result<Option<Duration>, EnvError> {
        let Some(text) = self.text(TIMEOUT) else { return Ok(None) };
        match text.trim().parse::<f64>() {
            Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT_SECS => {
                Ok(Some(Duration::from_secs_f64(secs)))
            }
            _ => Err(EnvError::invalid(
                TIMEOUT,
                format!("invalid WECHATPAY_TIMEOUT {text:?}: rule: a number of seconds greater than 0, at most 3600"),
            )),
        }
    }
}

/// What is wrong with a setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvErrorKind {
    /// A required setting is unset (or empty).
    Missing,
    /// A setting's value breaks its rule (or its file holds no usable key).
    Invalid,
    /// A file a setting names cannot be read.
    Unreadable,
    /// Settings that go together disagree: one without its partner, or two spellings of one.
    Conflict,
}

/// A `WECHATPAY_*` setting missing or broken: names the variable and the rule, never a secret.
#[derive(Debug)]
pub struct EnvError {
    variable: &'static str,
    kind: EnvErrorKind,
    message: String,
    source: Option<io::Error>,
}

impl EnvError {
    fn missing(variable: &'static str, message: impl Into<String>) -> Self {
        EnvError { variable, kind: EnvErrorKind::Missing, message: message.into(), source: None }
    }

    fn invalid(variable: &'static str, message: impl Into<String>) -> Self {
        EnvError { variable, kind: EnvErrorKind::Invalid, message: message.into(), source: None }
    }

    fn conflict(variable: &'static str, message: impl Into<String>) -> Self {
        EnvError { variable, kind: EnvErrorKind::Conflict, message: message.into(), source: None }
    }

    /// The variable at fault (one of [`VARIABLES`]; the message may name others too).
    pub fn variable(&self) -> &'static str {
        self.variable
    }

    /// What is wrong.
    pub fn kind(&self) -> EnvErrorKind {
        self.kind
    }
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EnvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// The regular files in `path` when it is a directory (`Ok(None)` when it is not): the lister
/// [`Loader::directories`] takes, over `std::fs`.
///
/// # Errors
/// The directory cannot be read.
pub fn list_directory(path: &Path) -> io::Result<Option<Vec<PathBuf>>> {
    if !path.is_dir() {
        return Ok(None);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let file = entry?.path();
        if file.is_file() {
            files.push(file);
        }
    }
    Ok(Some(files))
}
