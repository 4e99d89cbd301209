//! The validated `notify_url` of a request body: where WeChat Pay sends notifications.

use std::fmt;
use std::str::FromStr;

use crate::ids::InvalidInput;

/// A notification URL (`notify_url`): an absolute `https://` URL (`http://` only for a
/// loopback host: `localhost`, `127.x.x.x`, `[::1]`), with a host, no query string, no
/// fragment, no whitespace or control characters, at most 255 characters.
///
/// ```
/// use wechatpay_core::NotifyUrl;
/// assert!(NotifyUrl::new("https://example.com/wechatpay/notify").is_ok());
/// assert!(NotifyUrl::new("http://127.0.0.1:8080/notify").is_ok());
/// assert_eq!(NotifyUrl::new("http://example.com/notify").unwrap_err().field(), "notify_url");
/// assert!(NotifyUrl::new("https://example.com/notify?a=1").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NotifyUrl(String);

impl NotifyUrl {
    /// The rule a `notify_url` must follow.
    pub const RULE: &'static str = "an absolute https:// URL (http:// only for a loopback host) \
        with a host, no query string or fragment, at most 255 characters";

    /// Validates a `notify_url`.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `notify_url`, the problem and the rule.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
        let value = value.into();
        let refuse = |problem: &str| Err(InvalidInput::new("notify_url", problem, Self::RULE));
        if value.len() > 255 {
            return Err(InvalidInput::new("notify_url", format!("is {} bytes long", value.len()), Self::RULE));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return refuse("contains whitespace or a control character");
        }
        if value.contains('?') {
            return refuse("has a query string");
        }
        if value.contains('#') {
            return refuse("has a fragment");
        }
        let lower = value.to_ascii_lowercase();
        let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = lower.strip_prefix("http://") {
            (false, rest)
        } else {
            return refuse("is not an absolute https:// URL");
        };
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            return refuse("has user information");
        }
        let host = if let Some(v6) = authority.strip_prefix('[') {
            match v6.split_once(']') {
                Some((host, _)) => host,
                None => return refuse("has an unterminated IPv6 host"),
            }
        } else {
            authority.split(':').next().unwrap_or_default()
        };
        if host.is_empty() {
            return refuse("has no host");
        }
        if !secure && !is_loopback(host) {
            return refuse("uses http:// for a host that is not loopback");
        }
        Ok(Self(value))
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `localhost`, an IPv4 address in `127.0.0.0/8`, or `::1`.
fn is_loopback(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    false
}

impl FromStr for NotifyUrl {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, InvalidInput> {
        Self::new(s)
    }
}

impl TryFrom<&str> for NotifyUrl {
    type Error = InvalidInput;
    fn try_from(s: &str) -> Result<Self, InvalidInput> {
        Self::new(s)
    }
}

impl AsRef<str> for NotifyUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NotifyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NotifyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotifyUrl({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_loopback_http() {
        for ok in [
            "https://example.com/notify",
            "HTTPS://Example.com:8443/a/b",
            "http://localhost/n",
            "http://127.0.0.1:9000/n",
            "http://[::1]:9000/n",
            "https://example.com",
        ] {
            assert_eq!(NotifyUrl::new(ok).unwrap().as_str(), ok);
        }
        let long = format!("https://example.com/{}", "a".repeat(255 - 20));
        assert_eq!(long.len(), 255);
        assert!(NotifyUrl::new(long).is_ok());
    }

    #[test]
    fn refuses_naming_field_and_problem() {
        for (bad, problem) in [
            ("ftp://example.com/n", "is not an absolute https:// URL"),
            ("/notify", "is not an absolute https:// URL"),
            ("", "is not an absolute https:// URL"),
            ("https://example.com/n?x=1", "has a query string"),
            ("https://example.com/n#f", "has a fragment"),
            ("https:///n", "has no host"),
            ("https://:443/n", "has no host"),
            ("https://u@example.com/n", "has user information"),
            ("http://example.com/n", "uses http:// for a host that is not loopback"),
            ("http://128.0.0.1/n", "uses http:// for a host that is not loopback"),
            ("http://localhost.example.com/n", "uses http:// for a host that is not loopback"),
            ("https://example.com/a b", "contains whitespace or a control character"),
        ] {
            let err = NotifyUrl::new(bad).unwrap_err();
            assert_eq!(err.field(), "notify_url");
            assert_eq!(err.problem(), problem, "{bad}");
            assert_eq!(err.rule(), NotifyUrl::RULE);
        }
        let err = NotifyUrl::new(format!("https://example.com/{}", "a".repeat(236))).unwrap_err();
        assert_eq!(err.problem(), "is 256 bytes long");
    }
}
