//! Signing answers the way WeChat Pay does: `Wechatpay-Timestamp`, `-Nonce`, `-Signature`
//! (RSA-SHA256 over `timestamp\nnonce\nbody\n`), `-Serial` and `-Signature-Type`.

use base64::Engine as _;
use wechatpay_core::{KeyError, Nonce, PrivateKey, Signer};

use crate::credentials::{PLATFORM_KEY_PEM, PLATFORM_SERIAL, PUBLIC_KEY_ID, WECHATPAY_KEY_PEM};

/// Which simulated WeChat Pay key signs answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SigningKeyChoice {
    /// The WeChat Pay public key (微信支付公钥), `Wechatpay-Serial: PUB_KEY_ID_…`.
    #[default]
    PublicKey,
    /// The platform certificate (平台证书), `Wechatpay-Serial:` the certificate serial.
    PlatformCertificate,
}

impl SigningKeyChoice {
    /// The `Wechatpay-Serial` this choice signs under.
    pub fn serial(self) -> &'static str {
        match self {
            SigningKeyChoice::PublicKey => PUBLIC_KEY_ID,
            SigningKeyChoice::PlatformCertificate => PLATFORM_SERIAL,
        }
    }

    /// The choice whose serial is `serial`, if any.
    pub fn from_serial(serial: &str) -> Option<Self> {
        [SigningKeyChoice::PublicKey, SigningKeyChoice::PlatformCertificate].into_iter().find(|c| c.serial() == serial)
    }
}

/// A serial no client holds (used by the `UnknownSerial` fault).
pub(crate) const UNKNOWN_SERIAL: &str = "PUB_KEY_ID_0114232019092600000000000000009999";

/// The two private keys that sign answers.
pub(crate) struct ResponseKeys {
    wechatpay: PrivateKey,
    platform: PrivateKey,
}

impl ResponseKeys {
    pub(crate) fn load() -> Result<Self, KeyError> {
        Ok(Self {
            wechatpay: PrivateKey::from_pem(WECHATPAY_KEY_PEM.as_bytes())?,
            platform: PrivateKey::from_pem(PLATFORM_KEY_PEM.as_bytes())?,
        })
    }

    /// The Base64 signature of `body` at `timestamp` with `nonce` under `choice`'s key.
    pub(crate) fn sign(&self, choice: SigningKeyChoice, timestamp: u64, nonce: &str, body: &[u8]) -> String {
        let key = match choice {
            SigningKeyChoice::PublicKey => &self.wechatpay,
            SigningKeyChoice::PlatformCertificate => &self.platform,
        };
        let mut message = Vec::with_capacity(body.len() + nonce.len() + 24);
        message.extend_from_slice(timestamp.to_string().as_bytes());
        message.push(b'\n');
        message.extend_from_slice(nonce.as_bytes());
        message.push(b'\n');
        message.extend_from_slice(body);
        message.push(b'\n');
        // Signing with a loaded key does not fail in practice; an empty signature would
        // simply not verify, which is what a client must cope with anyway.
        let raw = key.sign(&message).unwrap_or_default();
        base64::engine::general_purpose::STANDARD.encode(raw)
    }
}

/// The values of the signature headers of one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignatureHeaders {
    pub timestamp: u64,
    pub nonce: String,
    pub signature: String,
    pub serial: String,
}

impl SignatureHeaders {
    /// Signs `body` now (or at `timestamp`) under `choice`.
    pub(crate) fn new(keys: &ResponseKeys, choice: SigningKeyChoice, timestamp: u64, body: &[u8]) -> Self {
        let nonce = fresh_nonce();
        let signature = keys.sign(choice, timestamp, &nonce, body);
        Self { timestamp, nonce, signature, serial: choice.serial().to_owned() }
    }

    /// The headers, in WeChat Pay's order.
    pub(crate) fn to_headers(&self) -> [(&'static str, String); 5] {
        [
            ("Wechatpay-Nonce", self.nonce.clone()),
            ("Wechatpay-Serial", self.serial.clone()),
            ("Wechatpay-Signature", self.signature.clone()),
            ("Wechatpay-Signature-Type", wechatpay_core::auth::AUTH_SCHEME.to_owned()),
            ("Wechatpay-Timestamp", self.timestamp.to_string()),
        ]
    }
}

/// 32 random characters of `[0-9A-Za-z]`, upper-cased like WeChat Pay's.
fn fresh_nonce() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    match Nonce::random() {
        Ok(n) => n.as_str().to_ascii_uppercase(),
        Err(_) => format!("{:032X}", COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechatpay_core::KeyStore;
    use wechatpay_core::verify::{self, SignatureHeaders as CoreHeaders};

    #[test]
    fn both_keys_sign_what_the_core_verifies() {
        let keys = ResponseKeys::load().unwrap();
        let mut store = KeyStore::new();
        store.add_public_key(PUBLIC_KEY_ID, crate::credentials::WECHATPAY_PUB_PEM.as_bytes()).unwrap();
        store.add_platform_certificates(crate::credentials::PLATFORM_CERT_PEM.as_bytes()).unwrap();
        for choice in [SigningKeyChoice::PublicKey, SigningKeyChoice::PlatformCertificate] {
            assert_eq!(SigningKeyChoice::from_serial(choice.serial()), Some(choice));
            let h = SignatureHeaders::new(&keys, choice, 1_700_000_000, b"{}");
            let ts = h.timestamp.to_string();
            let core = CoreHeaders::new(&ts, &h.nonce, &h.signature, &h.serial);
            verify::verify_signature(&store, &core, b"{}", 1_700_000_000, 300).unwrap();
            assert!(verify::verify_signature(&store, &core, b"{ }", 1_700_000_000, 300).is_err());
        }
        assert_eq!(SigningKeyChoice::from_serial(UNKNOWN_SERIAL), None);
    }
}
