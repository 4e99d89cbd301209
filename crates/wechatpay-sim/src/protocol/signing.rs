//! Signing answers the way WeChat Pay does: `Wechatpay-Timestamp`, `-Nonce`, `-Signature`
//! (RSA-SHA256 over `timestamp\nnonce\nbody\n`), `-Serial` and `-Signature-Type`.

use base64::Engine as _;
use wechatpay_core::{KeyError, Nonce, PrivateKey, crypto::Signer};

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::credentials::{PLATFORM_SERIAL, PUBLIC_KEY_ID, WECHATPAY_KEY_PEM};
use crate::protocol::platform::{Platform, PlatformCert};

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

/// One key that signs answers, with the serial it signs under.
pub(crate) struct ResponseKey {
    serial: String,
    key: PrivateKey,
}

impl std::fmt::Debug for ResponseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseKey").field("serial", &self.serial).finish_non_exhaustive()
    }
}

impl ResponseKey {
    pub(crate) fn new(serial: String, key: PrivateKey) -> Self {
        Self { serial, key }
    }

    /// The `Wechatpay-Serial` this key signs under.
    pub(crate) fn serial(&self) -> &str {
        &self.serial
    }

    /// The private key.
    pub(crate) fn private_key(&self) -> &PrivateKey {
        &self.key
    }

    /// The Base64 signature of `body` at `timestamp` with `nonce`.
    pub(crate) fn sign(&self, timestamp: u64, nonce: &str, body: &[u8]) -> String {
        sign_message(&self.key, timestamp, nonce, body)
    }
}

/// The Base64 signature by `key` of [`message`].
pub(crate) fn sign_message(key: &dyn Signer, timestamp: u64, nonce: &str, body: &[u8]) -> String {
    // Signing with a loaded key does not fail in practice; an empty signature would
    // simply not verify, which is what a client must cope with anyway.
    let raw = key.sign(&message(timestamp, nonce, body)).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// What WeChat Pay signs: `timestamp\nnonce\nbody\n`.
pub(crate) fn message(timestamp: u64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(body.len() + nonce.len() + 24);
    message.extend_from_slice(timestamp.to_string().as_bytes());
    message.push(b'\n');
    message.extend_from_slice(nonce.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// The keys that sign answers: the WeChat Pay public key's and the platform certificates'
/// (which rotate), and the rule that picks one for an answer.
#[derive(Debug)]
pub(crate) struct ResponseKeys {
    public: Arc<ResponseKey>,
    platform: RwLock<Platform>,
    /// Serialises rotations (a new certificate is generated outside the `platform` lock).
    rotation: Mutex<()>,
    /// The key chosen explicitly ([`crate::SimBuilder::signing`]), if any.
    default: Option<SigningKeyChoice>,
    public_key_only: bool,
}

impl ResponseKeys {
    /// The built-in keys; `default` signs when a request names no known key (`None`: the
    /// public key, but a platform certificate for the certificate download);
    /// `public_key_only` leaves the public key as the only signer.
    pub(crate) fn load(default: Option<SigningKeyChoice>, public_key_only: bool) -> Result<Self, KeyError> {
        let public = ResponseKey::new(PUBLIC_KEY_ID.to_owned(), PrivateKey::from_pem(WECHATPAY_KEY_PEM.as_bytes())?);
        Ok(Self {
            public: Arc::new(public),
            platform: RwLock::new(Platform::builtin()?),
            rotation: Mutex::new(()),
            default,
            public_key_only,
        })
    }

    /// Whether only the WeChat Pay public key signs (no platform certificate exists).
    pub(crate) fn public_key_only(&self) -> bool {
        self.public_key_only
    }

    /// The key for an answer to a request whose `Wechatpay-Serial` is `requested`: naming the
    /// public key picks it; naming any listed platform certificate picks the platform
    /// certificate that currently signs (which one is WeChat Pay's choice, not the client's);
    /// anything else picks the default. In public-key-only mode always the public key.
    pub(crate) fn choose(&self, requested: Option<&str>) -> Arc<ResponseKey> {
        self.choose_or(requested, SigningKeyChoice::PublicKey)
    }

    /// The key for the answer to a certificate download: as [`ResponseKeys::choose`], but
    /// unless a key was chosen explicitly, a request naming none gets the platform
    /// certificate that signs — as WeChat Pay answers merchants that have platform
    /// certificates, so that a client holding none can bootstrap from the download.
    pub(crate) fn choose_for_certificates(&self, requested: Option<&str>) -> Arc<ResponseKey> {
        self.choose_or(requested, SigningKeyChoice::PlatformCertificate)
    }

    fn choose_or(&self, requested: Option<&str>, fallback: SigningKeyChoice) -> Arc<ResponseKey> {
        if self.public_key_only {
            return Arc::clone(&self.public);
        }
        let platform = self.platform.read().unwrap_or_else(PoisonError::into_inner);
        let choice = match requested {
            Some(s) if s == self.public.serial => SigningKeyChoice::PublicKey,
            Some(s) if platform.listed().iter().any(|c| c.serial() == s) => SigningKeyChoice::PlatformCertificate,
            _ => self.default.unwrap_or(fallback),
        };
        match choice {
            SigningKeyChoice::PublicKey => Arc::clone(&self.public),
            SigningKeyChoice::PlatformCertificate => platform.signing_key(),
        }
    }

    /// Runs `f` on the platform certificates.
    pub(crate) fn with_platform<T>(&self, f: impl FnOnce(&Platform) -> T) -> T {
        f(&self.platform.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// One rotation step (see [`Platform`]): announces a new certificate, or, when one is
    /// announced, makes it sign. Returns the new certificate's serial.
    pub(crate) fn rotate(&self, now: i64) -> Result<String, String> {
        let _one_at_a_time = self.rotation.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(serial) = self.platform.write().unwrap_or_else(PoisonError::into_inner).finish_rotation() {
            return Ok(serial);
        }
        // Generating an RSA key takes a moment: answers keep being signed meanwhile.
        let new = PlatformCert::generate(now)?;
        let serial = new.serial().to_owned();
        self.platform.write().unwrap_or_else(PoisonError::into_inner).begin_rotation(new, now);
        Ok(serial)
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
    /// Signs `body` at `timestamp` with `key`.
    pub(crate) fn new(key: &ResponseKey, timestamp: u64, body: &[u8]) -> Self {
        let nonce = fresh_nonce();
        let signature = key.sign(timestamp, &nonce, body);
        Self { timestamp, nonce, signature, serial: key.serial.clone() }
    }

    /// The headers, in WeChat Pay's order and with its capitalisation on the wire (the names
    /// are `wechatpay_core::wire`'s, which spells them in lower case; a test holds them equal).
    pub(crate) fn to_headers(&self) -> [(&'static str, String); 5] {
        [
            ("Wechatpay-Nonce", self.nonce.clone()),
            ("Wechatpay-Serial", self.serial.clone()),
            ("Wechatpay-Signature", self.signature.clone()),
            ("Wechatpay-Signature-Type", wechatpay_core::wire::AUTH_SCHEME.to_owned()),
            ("Wechatpay-Timestamp", self.timestamp.to_string()),
        ]
    }
}

/// 32 random characters of `[0-9A-Za-z]`, upper-cased like WeChat Pay's.
pub(crate) fn fresh_nonce() -> String {
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
    use wechatpay_core::{SignatureHeaders as CoreHeaders, verify_signature};

    #[test]
    fn header_names_are_the_cores() {
        use wechatpay_core::wire;
        let names: Vec<String> =
            SignatureHeaders { timestamp: 0, nonce: String::new(), signature: String::new(), serial: String::new() }
                .to_headers()
                .iter()
                .map(|(name, _)| name.to_ascii_lowercase())
                .collect();
        let core = [
            wire::HEADER_NONCE,
            wire::HEADER_SERIAL,
            wire::HEADER_SIGNATURE,
            wire::HEADER_SIGNATURE_TYPE,
            wire::HEADER_TIMESTAMP,
        ];
        assert_eq!(names, core);
    }

    #[test]
    fn both_keys_sign_what_the_core_verifies() {
        let keys = ResponseKeys::load(Some(SigningKeyChoice::PublicKey), false).unwrap();
        let mut store = KeyStore::new();
        store.add_public_key(PUBLIC_KEY_ID, crate::credentials::WECHATPAY_PUB_PEM.as_bytes()).unwrap();
        store.add_platform_certificates(crate::credentials::PLATFORM_CERT_PEM.as_bytes()).unwrap();
        for choice in [SigningKeyChoice::PublicKey, SigningKeyChoice::PlatformCertificate] {
            assert_eq!(SigningKeyChoice::from_serial(choice.serial()), Some(choice));
            let key = keys.choose(Some(choice.serial()));
            assert_eq!(key.serial(), choice.serial());
            let h = SignatureHeaders::new(&key, 1_700_000_000, b"{}");
            let ts = h.timestamp.to_string();
            let core = CoreHeaders::new(&ts, &h.nonce, &h.signature, &h.serial);
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
            verify_signature(&store, &core, b"{}", at, 300).unwrap();
            assert!(verify_signature(&store, &core, b"{ }", at, 300).is_err());
        }
        assert_eq!(SigningKeyChoice::from_serial(UNKNOWN_SERIAL), None);
        assert_eq!(keys.choose(Some(UNKNOWN_SERIAL)).serial(), PUBLIC_KEY_ID);
        assert_eq!(keys.choose(None).serial(), PUBLIC_KEY_ID);
    }

    #[test]
    fn public_key_only_ignores_the_request_and_the_default() {
        let keys = ResponseKeys::load(Some(SigningKeyChoice::PlatformCertificate), true).unwrap();
        assert_eq!(keys.choose(None).serial(), PUBLIC_KEY_ID);
        assert_eq!(keys.choose(Some(PLATFORM_SERIAL)).serial(), PUBLIC_KEY_ID);
    }

    #[test]
    fn after_a_rotation_the_new_certificate_signs_for_any_listed_serial() {
        let keys = ResponseKeys::load(Some(SigningKeyChoice::PlatformCertificate), false).unwrap();
        let new = keys.rotate(1_800_000_000).unwrap();
        assert_eq!(keys.choose(Some(&new)).serial(), PLATFORM_SERIAL, "announced, not signing yet");
        assert_eq!(keys.rotate(1_800_000_001).unwrap(), new);
        assert_eq!(keys.choose(None).serial(), new);
        assert_eq!(keys.choose(Some(PLATFORM_SERIAL)).serial(), new);
        assert_eq!(keys.choose(Some(PUBLIC_KEY_ID)).serial(), PUBLIC_KEY_ID);
    }
}
