//! The merchant's APIv3 key (APIv3密钥) and the AEAD_AES_256_GCM decryption of what it
//! protects: notification `resource`s (PROTOCOL.md §8) and `/v3/certificates` items (PROTOCOL.md §9).
//!
//! The key is the 32 ASCII characters set in the merchant console, used as they are (32
//! bytes; not hex- or Base64-decoded). It has no `PartialEq`, its `Debug` is redacted and
//! its bytes are zeroized when dropped.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::base64_strict;
use crate::crypto::{Backend, GcmKey};
use crate::wire::{AEAD_AES_256_GCM, CERTIFICATE_AAD, GCM_NONCE_LEN, GCM_TAG_LEN};

/// Length of an APIv3 key in bytes.
pub const API_V3_KEY_LEN: usize = 32;

/// The APIv3 key could not be loaded. Never carries the key or a part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiV3KeyError {
    /// The key is not 32 bytes long.
    WrongLength {
        /// Its length in bytes.
        len: usize,
    },
    /// The key holds a byte that is not a visible ASCII character (a space, a line break,
    /// a control character or non-ASCII text).
    NotVisibleAscii,
    /// The key file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        kind: std::io::ErrorKind,
    },
}

impl fmt::Display for ApiV3KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const RULE: &str = "rule: exactly 32 visible ASCII characters, as set in the merchant console, \
                            used as they are (not hex- or Base64-decoded)";
        match self {
            Self::WrongLength { len } => write!(f, "invalid APIv3 key: it is {len} bytes long; {RULE}"),
            Self::NotVisibleAscii => {
                write!(f, "invalid APIv3 key: it holds a space, line break, control or non-ASCII character; {RULE}")
            }
            Self::Io { path, kind } => write!(f, "could not read the APIv3 key file {}: {kind}", path.display()),
        }
    }
}

impl std::error::Error for ApiV3KeyError {}

/// The merchant's APIv3 key: decrypts notification resources and platform certificates.
///
/// Exactly 32 visible ASCII characters. No `PartialEq`, `Debug` prints `[redacted]`, the
/// bytes are zeroized on drop. AES-GCM runs on the key's [`Backend`] (the default one unless
/// [`ApiV3Key::with_backend`] says otherwise); both backends give identical plaintexts.
pub struct ApiV3Key {
    bytes: Zeroizing<[u8; API_V3_KEY_LEN]>,
    /// The key expanded once for its backend (a notification then costs no key schedule).
    gcm: GcmKey,
}

impl ApiV3Key {
    /// The key from its text, exactly as set in the merchant console.
    ///
    /// # Errors
    /// [`ApiV3KeyError::NotVisibleAscii`] for spaces, line breaks, control or non-ASCII
    /// characters, then [`ApiV3KeyError::WrongLength`] unless it is 32 bytes.
    pub fn new(key: &str) -> Result<Self, ApiV3KeyError> {
        Self::from_bytes(key.as_bytes())
    }

    /// The key from its 32 bytes.
    ///
    /// # Errors
    /// As [`ApiV3Key::new`].
    pub fn from_bytes(key: &[u8]) -> Result<Self, ApiV3KeyError> {
        let mut bytes = Zeroizing::new([0u8; API_V3_KEY_LEN]);
        // Stray whitespace (a pasted line break) is the likelier mistake: name it first.
        if !key.iter().all(u8::is_ascii_graphic) {
            return Err(ApiV3KeyError::NotVisibleAscii);
        }
        if key.len() != API_V3_KEY_LEN {
            return Err(ApiV3KeyError::WrongLength { len: key.len() });
        }
        bytes.copy_from_slice(key);
        Ok(Self { gcm: GcmKey::new(Backend::default(), &bytes), bytes })
    }

    /// The key from a file holding it; one line ending (`\n` or `\r\n`) after it is allowed.
    /// The buffer read is zeroized too.
    ///
    /// # Errors
    /// [`ApiV3KeyError::Io`] when the file cannot be read; otherwise as [`ApiV3Key::new`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ApiV3KeyError> {
        let path = path.as_ref();
        let content = Zeroizing::new(
            std::fs::read(path).map_err(|e| ApiV3KeyError::Io { path: path.to_owned(), kind: e.kind() })?,
        );
        let key = content.strip_suffix(b"\n").map_or(&content[..], |k| k.strip_suffix(b"\r").unwrap_or(k));
        Self::from_bytes(key)
    }

    /// The same key, decrypting on `backend`.
    #[must_use]
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.gcm = GcmKey::new(backend, &self.bytes);
        self
    }

    /// The backend that decrypts with this key.
    pub fn backend(&self) -> Backend {
        self.gcm.backend()
    }

    /// Decrypts `resource` (AEAD_AES_256_GCM; AAD = `associated_data`, absent = empty).
    ///
    /// # Errors
    /// [`DecryptError::UnsupportedAlgorithm`] for any other `algorithm`,
    /// [`DecryptError::InvalidNonce`], [`DecryptError::InvalidCiphertext`] for a malformed
    /// resource, [`DecryptError::Authentication`] when the tag does not verify (almost always
    /// a wrong or reset APIv3 key).
    pub fn decrypt(&self, resource: &EncryptedResource) -> Result<Vec<u8>, DecryptError> {
        self.decrypt_parts(
            &resource.algorithm,
            &resource.nonce,
            &resource.ciphertext,
            resource.associated_data.as_deref(),
        )
    }

    /// [`ApiV3Key::decrypt`] from borrowed parts (the notification path parses the envelope
    /// without copying the ciphertext).
    pub(crate) fn decrypt_parts(
        &self,
        algorithm: &str,
        nonce: &str,
        ciphertext: &str,
        associated_data: Option<&str>,
    ) -> Result<Vec<u8>, DecryptError> {
        if algorithm != AEAD_AES_256_GCM {
            return Err(DecryptError::UnsupportedAlgorithm);
        }
        let nonce: &[u8; GCM_NONCE_LEN] = nonce.as_bytes().try_into().map_err(|_| DecryptError::InvalidNonce)?;
        let ciphertext = base64_strict::decode(ciphertext.as_bytes()).ok_or(DecryptError::InvalidCiphertext)?;
        if ciphertext.len() < GCM_TAG_LEN {
            return Err(DecryptError::InvalidCiphertext);
        }
        let aad = associated_data.unwrap_or_default().as_bytes();
        self.gcm.open(nonce, aad, ciphertext).ok_or(DecryptError::Authentication)
    }

    /// Decrypts a `/v3/certificates` item's `encrypt_certificate` into the PEM text of the
    /// platform certificate. The item's `associated_data` must be `certificate`, so that no
    /// other kind of resource can pass for a certificate.
    ///
    /// # Errors
    /// [`DecryptError::UnexpectedAssociatedData`] for another AAD, [`DecryptError::NotText`]
    /// when the plaintext is not UTF-8; otherwise as [`ApiV3Key::decrypt`].
    pub fn decrypt_certificate(&self, item: &EncryptedResource) -> Result<String, DecryptError> {
        if item.associated_data.as_deref() != Some(CERTIFICATE_AAD) {
            return Err(DecryptError::UnexpectedAssociatedData { expected: CERTIFICATE_AAD });
        }
        String::from_utf8(self.decrypt(item)?).map_err(|_| DecryptError::NotText)
    }
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiV3Key").field("key", &"[redacted]").field("backend", &self.backend()).finish()
    }
}

impl std::str::FromStr for ApiV3Key {
    type Err = ApiV3KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// An AES-256-GCM encrypted object as WeChat Pay sends it: a notification's `resource`, or a
/// `/v3/certificates` item's `encrypt_certificate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EncryptedResource {
    /// `AEAD_AES_256_GCM` (the only value accepted).
    pub algorithm: String,
    /// Standard Base64 of ciphertext ‖ 16-byte tag.
    pub ciphertext: String,
    /// 12 ASCII characters, used as the 12-byte nonce.
    pub nonce: String,
    /// The AAD; absent means empty. Payments send `transaction`, certificates `certificate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_data: Option<String>,
    /// What the plaintext is (`transaction`, `refund`, ...); notifications only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_type: Option<String>,
}

impl EncryptedResource {
    /// An AEAD_AES_256_GCM resource from its parts.
    pub fn new(ciphertext: impl Into<String>, nonce: impl Into<String>, associated_data: Option<String>) -> Self {
        Self {
            algorithm: AEAD_AES_256_GCM.to_owned(),
            ciphertext: ciphertext.into(),
            nonce: nonce.into(),
            associated_data,
            original_type: None,
        }
    }
}

/// An encrypted resource could not be decrypted. Carries no key and no plaintext.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptError {
    /// `algorithm` is not `AEAD_AES_256_GCM`.
    UnsupportedAlgorithm,
    /// `nonce` is not 12 bytes.
    InvalidNonce,
    /// `ciphertext` is not standard Base64, or is shorter than the 16-byte tag.
    InvalidCiphertext,
    /// The GCM tag did not verify: a wrong or reset APIv3 key, or a damaged resource.
    Authentication,
    /// `associated_data` is not what this kind of resource carries.
    UnexpectedAssociatedData {
        /// The AAD required.
        expected: &'static str,
    },
    /// The plaintext is not UTF-8 text.
    NotText,
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedAlgorithm => write!(f, "unsupported algorithm: only {AEAD_AES_256_GCM} is accepted"),
            Self::InvalidNonce => f.write_str("invalid resource: nonce is not 12 bytes"),
            Self::InvalidCiphertext => {
                f.write_str("invalid resource: ciphertext is not standard Base64 of at least the 16-byte tag")
            }
            Self::Authentication => f.write_str("decryption failed (wrong or reset APIv3 key?)"),
            Self::UnexpectedAssociatedData { expected } => {
                write!(f, "invalid resource: associated_data is not {expected:?}")
            }
            Self::NotText => f.write_str("decrypted resource is not UTF-8 text"),
        }
    }
}

impl std::error::Error for DecryptError {}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    const KEY: &str = "0123456789abcdefghijklmnopqrstuv";

    #[test]
    fn key_is_exactly_32_visible_ascii_bytes() {
        assert!(ApiV3Key::new(KEY).is_ok());
        assert_eq!(ApiV3Key::new(&KEY[..31]).unwrap_err(), ApiV3KeyError::WrongLength { len: 31 });
        assert_eq!(ApiV3Key::new(&format!("{KEY}x")).unwrap_err(), ApiV3KeyError::WrongLength { len: 33 });
        // The hex form of a 32-byte key is a common mistake: 64 characters.
        assert_eq!(ApiV3Key::new(&"ab".repeat(32)).unwrap_err(), ApiV3KeyError::WrongLength { len: 64 });
        assert_eq!(ApiV3Key::new(&format!("{}\n", &KEY[..31])).unwrap_err(), ApiV3KeyError::NotVisibleAscii);
        assert_eq!(ApiV3Key::new(&format!("{}é", &KEY[..30])).unwrap_err(), ApiV3KeyError::NotVisibleAscii);
        let e = ApiV3Key::new("short").unwrap_err().to_string();
        assert!(e.contains("5 bytes") && e.contains("exactly 32"), "{e}");
        assert!("bad".parse::<ApiV3Key>().is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let key = ApiV3Key::new(KEY).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("[redacted]") && !shown.contains("0123"), "{shown}");
        let err = format!("{:?} {}", ApiV3Key::new(&KEY[..31]).unwrap_err(), ApiV3Key::new(&KEY[..31]).unwrap_err());
        assert!(!err.contains("0123"), "{err}");
    }

    #[test]
    fn loads_from_a_file_with_or_without_one_line_ending() {
        let dir = std::env::temp_dir().join(format!("wechatpay-apiv3-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, content) in [("plain", KEY.to_owned()), ("lf", format!("{KEY}\n")), ("crlf", format!("{KEY}\r\n"))] {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap();
            assert!(ApiV3Key::from_file(&path).is_ok(), "{name}");
        }
        let two = dir.join("two-lines");
        std::fs::write(&two, format!("{KEY}\n\n")).unwrap();
        assert_eq!(ApiV3Key::from_file(&two).unwrap_err(), ApiV3KeyError::NotVisibleAscii);
        let missing = dir.join("missing");
        let e = ApiV3Key::from_file(&missing).unwrap_err();
        assert!(matches!(e, ApiV3KeyError::Io { kind: std::io::ErrorKind::NotFound, .. }), "{e:?}");
        assert!(e.to_string().contains("missing"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_resources_are_refused_before_decryption() {
        let key = ApiV3Key::new(KEY).unwrap();
        let ok_ct = base64::engine::general_purpose::STANDARD.encode([0u8; 16]);
        let mut r = EncryptedResource::new(ok_ct.clone(), "0123456789ab", None);
        assert_eq!(key.decrypt(&r), Err(DecryptError::Authentication));
        r.algorithm = "AEAD_CHACHA20_POLY1305".into();
        assert_eq!(key.decrypt(&r), Err(DecryptError::UnsupportedAlgorithm));
        let r = EncryptedResource::new(ok_ct.clone(), "0123456789a", None);
        assert_eq!(key.decrypt(&r), Err(DecryptError::InvalidNonce));
        let r =
            EncryptedResource::new(base64::engine::general_purpose::STANDARD.encode([0u8; 15]), "0123456789ab", None);
        assert_eq!(key.decrypt(&r), Err(DecryptError::InvalidCiphertext));
        let r = EncryptedResource::new("not base64!", "0123456789ab", None);
        assert_eq!(key.decrypt(&r), Err(DecryptError::InvalidCiphertext));
        let r = EncryptedResource::new(ok_ct, "0123456789ab", Some("transaction".into()));
        assert_eq!(
            key.decrypt_certificate(&r),
            Err(DecryptError::UnexpectedAssociatedData { expected: CERTIFICATE_AAD })
        );
        assert!(DecryptError::Authentication.to_string().contains("wrong or reset APIv3 key?"));
    }
}
