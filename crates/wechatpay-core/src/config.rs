//! Who calls, where, with which keys and limits: plain data. Building a request is
//! [`crate::prepare`], reading an answer [`crate::parse_response`].

use std::fmt;
use std::sync::Arc;

use http::HeaderValue;
use http::uri::{Authority, Scheme};

use crate::crypto::{Signer, Verifier};
use crate::ids::{InvalidInput, MchId, SerialNo};
use crate::wire::MAX_CLOCK_SKEW_SECS;

/// The primary host: the nearest access point.
pub const DEFAULT_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// The backup host: an access point in another city. It is the default backup only while the
/// primary is [`DEFAULT_BASE_URL`]: a configuration pointed anywhere else (a sandbox, a
/// simulator) never fails over to production unless a backup is given.
pub const DEFAULT_BACKUP_URL: &str = "https://api2.mch.weixin.qq.com";
/// Default cap on a response body the core will parse: 4 MiB (query answers are a few KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Which of the two WeChat Pay hosts an attempt goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// `api.mch.weixin.qq.com` by default.
    Primary,
    /// `api2.mch.weixin.qq.com` by default; a configuration without a backup
    /// ([`Config::has_backup`]) sends there what it would send to the primary.
    Backup,
}

impl Host {
    /// The other host.
    pub fn other(self) -> Host {
        match self {
            Host::Primary => Host::Backup,
            Host::Backup => Host::Primary,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Host::Primary => "primary",
            Host::Backup => "backup",
        })
    }
}

/// A validated base URL: `http` or `https`, a host and optional port, nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    scheme: Scheme,
    authority: Authority,
}

impl BaseUrl {
    /// Parses `https://host[:port]` (a trailing `/` is allowed).
    ///
    /// # Errors
    /// [`InvalidInput`] for another scheme, a path, query, user info or a malformed host.
    pub fn parse(field: &'static str, url: &str) -> Result<Self, InvalidInput> {
        const RULE: &str = "http:// or https:// followed by a host and optional port, no path";
        let uri: http::Uri = url.parse().map_err(|_| InvalidInput::new(field, "is not a URL", RULE))?;
        let scheme = uri.scheme().cloned().ok_or_else(|| InvalidInput::new(field, "has no scheme", RULE))?;
        if scheme != Scheme::HTTPS && scheme != Scheme::HTTP {
            return Err(InvalidInput::new(field, format!("has scheme {scheme}"), RULE));
        }
        let authority = uri.authority().cloned().ok_or_else(|| InvalidInput::new(field, "has no host", RULE))?;
        if authority.as_str().contains('@') || authority.host().is_empty() {
            return Err(InvalidInput::new(field, "has user info or an empty host", RULE));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(InvalidInput::new(field, "has a path or query", RULE));
        }
        Ok(Self { scheme, authority })
    }

    /// The scheme.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// Host and port.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

/// Everything the core needs to build requests and check responses for one merchant.
///
/// Build it once and share it (it is `Send + Sync`); keys inside are parsed once. A
/// configuration always has a signer and a verifier: nothing can fail later for lack of one.
#[derive(Clone)]
pub struct Config {
    mchid: MchId,
    serial_no: SerialNo,
    signer: Arc<dyn Signer>,
    verifier: Arc<dyn Verifier>,
    wechatpay_serial: Option<HeaderValue>,
    primary: BaseUrl,
    backup: Option<BaseUrl>,
    user_agent: HeaderValue,
    max_body_bytes: usize,
    max_clock_skew_secs: u64,
}

impl Config {
    /// Starts a configuration for merchant `mchid` whose API certificate has `serial_no`,
    /// signing requests with `signer` (usually a [`crate::PrivateKey`]) and verifying answers
    /// with `verifier` (usually a [`crate::KeyStore`] of WeChat Pay keys).
    pub fn builder(
        mchid: MchId,
        serial_no: SerialNo,
        signer: impl Signer + 'static,
        verifier: impl Verifier + 'static,
    ) -> ConfigBuilder {
        ConfigBuilder {
            mchid,
            serial_no,
            signer: Arc::new(signer),
            verifier: Arc::new(verifier),
            wechatpay_serial: None,
            primary: DEFAULT_BASE_URL.to_owned(),
            backup: None,
            user_agent_suffix: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_clock_skew_secs: MAX_CLOCK_SKEW_SECS,
        }
    }

    /// The caller's merchant id (the service provider's for partner and parking calls).
    pub fn mchid(&self) -> &MchId {
        &self.mchid
    }

    /// The merchant API certificate serial.
    pub fn serial_no(&self) -> &SerialNo {
        &self.serial_no
    }

    /// The signer of requests.
    pub fn signer(&self) -> &dyn Signer {
        &*self.signer
    }

    /// The verifier of answers.
    pub fn verifier(&self) -> &dyn Verifier {
        &*self.verifier
    }

    /// The verifier of answers, shared: for a value that must own it, such as a
    /// [`crate::notify::Receiver`] checking notifications with the same WeChat Pay keys.
    pub fn shared_verifier(&self) -> Arc<dyn Verifier> {
        Arc::clone(&self.verifier)
    }

    /// The same configuration verifying answers with `verifier` instead (for example the
    /// shared, refreshable key store of [`crate::certificates::CertificateRefresher`]).
    #[must_use]
    pub fn with_verifier(&self, verifier: impl Verifier + 'static) -> Config {
        Config { verifier: Arc::new(verifier), ..self.clone() }
    }

    /// The serial sent as `Wechatpay-Serial`, if set.
    pub fn wechatpay_serial(&self) -> Option<&str> {
        self.wechatpay_serial.as_ref().and_then(|v| v.to_str().ok())
    }

    pub(crate) fn wechatpay_serial_header(&self) -> Option<&HeaderValue> {
        self.wechatpay_serial.as_ref()
    }

    /// The base URL of `host`. Without a backup ([`Config::has_backup`]), the backup is the
    /// primary: nothing is ever sent to a host that was not configured.
    pub fn base_url(&self, host: Host) -> &BaseUrl {
        match (host, &self.backup) {
            (Host::Backup, Some(backup)) => backup,
            _ => &self.primary,
        }
    }

    /// Whether there is a backup host to fail over to: the one given with
    /// [`ConfigBuilder::backup_url`], or [`DEFAULT_BACKUP_URL`] when the primary is the
    /// official [`DEFAULT_BASE_URL`]. The driver stays on the primary when there is none.
    pub fn has_backup(&self) -> bool {
        self.backup.is_some()
    }

    /// The `User-Agent` sent.
    pub fn user_agent(&self) -> &HeaderValue {
        &self.user_agent
    }

    /// Largest response body parsed, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Allowed distance between a response's timestamp and local time, in seconds.
    pub fn max_clock_skew_secs(&self) -> u64 {
        self.max_clock_skew_secs
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("mchid", &self.mchid)
            .field("serial_no", &self.serial_no)
            .field("signer", &"[redacted]")
            .field("verifier", &self.verifier)
            .field("wechatpay_serial", &self.wechatpay_serial())
            .field("primary", &self.primary.to_string())
            .field("backup", &self.backup.as_ref().map(BaseUrl::to_string))
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_clock_skew_secs", &self.max_clock_skew_secs)
            .finish()
    }
}

/// Builds a [`Config`]; see [`Config::builder`].
#[must_use]
pub struct ConfigBuilder {
    mchid: MchId,
    serial_no: SerialNo,
    signer: Arc<dyn Signer>,
    verifier: Arc<dyn Verifier>,
    wechatpay_serial: Option<String>,
    primary: String,
    backup: Option<String>,
    user_agent_suffix: Option<String>,
    max_body_bytes: usize,
    max_clock_skew_secs: u64,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("mchid", &self.mchid)
            .field("serial_no", &self.serial_no)
            .field("signer", &"[redacted]")
            .field("verifier", &self.verifier)
            .field("wechatpay_serial", &self.wechatpay_serial)
            .field("primary", &self.primary)
            .field("backup", &self.backup)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_clock_skew_secs", &self.max_clock_skew_secs)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// Replaces the signer given to [`Config::builder`].
    pub fn signer(mut self, signer: impl Signer + 'static) -> Self {
        self.signer = Arc::new(signer);
        self
    }

    /// Replaces the verifier given to [`Config::builder`].
    pub fn verifier(mut self, verifier: impl Verifier + 'static) -> Self {
        self.verifier = Arc::new(verifier);
        self
    }

    /// Sends `Wechatpay-Serial: serial` to say which WeChat Pay key should sign answers
    /// (a platform certificate serial or a `PUB_KEY_ID_…`).
    pub fn wechatpay_serial(mut self, serial: impl Into<String>) -> Self {
        self.wechatpay_serial = Some(serial.into());
        self
    }

    /// Overrides the primary base URL (tests point it at a local simulator).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.primary = url.into();
        self
    }

    /// Sets the backup base URL that connection and gateway failures fail over to. Without
    /// it, the backup is [`DEFAULT_BACKUP_URL`] if the primary is the official
    /// [`DEFAULT_BASE_URL`], and there is no failover at all otherwise.
    pub fn backup_url(mut self, url: impl Into<String>) -> Self {
        self.backup = Some(url.into());
        self
    }

    /// Appends a product token to the `User-Agent` (adapters name themselves here).
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Caps the response bodies the core parses (default [`DEFAULT_MAX_BODY_BYTES`]).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Narrows the timestamp window (at most [`MAX_CLOCK_SKEW_SECS`]).
    pub fn max_clock_skew_secs(mut self, secs: u64) -> Self {
        self.max_clock_skew_secs = secs;
        self
    }

    /// Checks everything and builds the configuration.
    ///
    /// # Errors
    /// [`InvalidInput`] naming the setting and its rule.
    pub fn build(self) -> Result<Config, InvalidInput> {
        let wechatpay_serial = match self.wechatpay_serial {
            None => None,
            Some(s) => {
                crate::ids::check(
                    "wechatpay_serial",
                    &s,
                    64,
                    |b| b.is_ascii_alphanumeric() || b == b'_',
                    "1-64 characters of [0-9A-Za-z_]",
                )?;
                Some(
                    HeaderValue::from_str(&s)
                        .map_err(|_| InvalidInput::new("wechatpay_serial", "is not a header value", "visible ASCII"))?,
                )
            }
        };
        if self.max_clock_skew_secs > MAX_CLOCK_SKEW_SECS {
            return Err(InvalidInput::new(
                "max_clock_skew_secs",
                format!("is {}", self.max_clock_skew_secs),
                "at most 300 (WeChat Pay's own window)",
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(InvalidInput::new("max_body_bytes", "is 0", "at least 1"));
        }
        let mut ua = format!("wechatpay-core/{} (Rust)", env!("CARGO_PKG_VERSION"));
        if let Some(suffix) = &self.user_agent_suffix {
            ua.push(' ');
            ua.push_str(suffix);
        }
        let user_agent = HeaderValue::from_str(&ua)
            .map_err(|_| InvalidInput::new("user_agent", "is not a header value", "visible ASCII"))?;
        let primary = BaseUrl::parse("base_url", &self.primary)?;
        let backup = match &self.backup {
            Some(url) => Some(BaseUrl::parse("backup_url", url)?),
            None if primary == BaseUrl::parse("base_url", DEFAULT_BASE_URL)? => {
                Some(BaseUrl::parse("backup_url", DEFAULT_BACKUP_URL)?)
            }
            None => None,
        };
        Ok(Config {
            primary,
            backup,
            mchid: self.mchid,
            serial_no: self.serial_no,
            signer: self.signer,
            verifier: self.verifier,
            wechatpay_serial,
            user_agent,
            max_body_bytes: self.max_body_bytes,
            max_clock_skew_secs: self.max_clock_skew_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_strict() {
        assert_eq!(BaseUrl::parse("base_url", "http://127.0.0.1:8080/").unwrap().to_string(), "http://127.0.0.1:8080");
        for bad in ["ftp://x", "https://x/v3", "https://x?y", "api.mch.weixin.qq.com", "https://u@x", ""] {
            let err = BaseUrl::parse("base_url", bad).unwrap_err();
            assert_eq!(err.field(), "base_url", "{bad}");
        }
    }

    fn builder() -> ConfigBuilder {
        let key = crate::PrivateKey::from_pem(include_bytes!("../tests/data/merchant_key.pem")).unwrap();
        Config::builder(MchId::new("1").unwrap(), SerialNo::new("AB").unwrap(), key, crate::KeyStore::new())
    }

    #[test]
    fn the_official_backup_is_the_default_only_for_the_official_primary() {
        let official = builder().build().unwrap();
        assert!(official.has_backup());
        assert_eq!(official.base_url(Host::Primary).to_string(), DEFAULT_BASE_URL);
        assert_eq!(official.base_url(Host::Backup).to_string(), DEFAULT_BACKUP_URL);
        // The official primary spelled with a trailing slash is still the official primary.
        let slash = builder().base_url("https://api.mch.weixin.qq.com/").build().unwrap();
        assert_eq!(slash.base_url(Host::Backup).to_string(), DEFAULT_BACKUP_URL);

        // A sandbox without a backup never reaches production: both hosts are the sandbox.
        let sandbox = builder().base_url("http://127.0.0.1:8080").build().unwrap();
        assert!(!sandbox.has_backup());
        for host in [Host::Primary, Host::Backup] {
            assert_eq!(sandbox.base_url(host).to_string(), "http://127.0.0.1:8080");
        }
        assert!(!format!("{sandbox:?}").contains("api2"));

        // A backup given explicitly is used, with any primary.
        let both = builder().base_url("http://127.0.0.1:8080").backup_url("http://127.0.0.1:8081").build().unwrap();
        assert!(both.has_backup());
        assert_eq!(both.base_url(Host::Backup).to_string(), "http://127.0.0.1:8081");
        assert_eq!(builder().backup_url("ftp://x").build().unwrap_err().field(), "backup_url");
    }

    #[test]
    fn clock_skew_only_narrows() {
        let key = || crate::PrivateKey::from_pem(include_bytes!("../tests/data/merchant_key.pem")).unwrap();
        let b =
            || Config::builder(MchId::new("1").unwrap(), SerialNo::new("AB").unwrap(), key(), crate::KeyStore::new());
        assert!(b().max_clock_skew_secs(60).build().is_ok());
        assert_eq!(b().max_clock_skew_secs(301).build().unwrap_err().field(), "max_clock_skew_secs");
        assert_eq!(b().wechatpay_serial("a\nb").build().unwrap_err().field(), "wechatpay_serial");
    }
}
