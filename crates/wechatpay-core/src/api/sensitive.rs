//! [`SensitiveField`]: a value encrypted for WeChat Pay (bank account numbers, real names,
//! identity numbers), with the serial of the key that encrypted it.

use std::fmt;

use crate::crypto::EncryptError;
use crate::keys::PublicKey;

/// A sensitive field encrypted for WeChat Pay (RSA-OAEP, SHA-1, MGF1-SHA-1, Base64;
/// PROTOCOL.md §15) together with the serial of the key that encrypted it, which the request
/// sends as `Wechatpay-Serial`. `Debug` shows the serial only.
#[derive(Clone, PartialEq, Eq)]
pub struct SensitiveField {
    serial: String,
    ciphertext: String,
}

impl SensitiveField {
    /// Encrypts `plaintext` under `key`, the WeChat Pay public key or platform certificate
    /// named `serial` (its `PUB_KEY_ID_…` or certificate serial; use the newest:
    /// [`KeyStore::newest_platform_certificate`](crate::KeyStore::newest_platform_certificate)). The
    /// plaintext is not kept.
    ///
    /// # Errors
    /// [`EncryptError`] (it never carries the plaintext).
    pub fn encrypt(serial: &str, key: &PublicKey, plaintext: &[u8]) -> Result<Self, EncryptError> {
        Ok(Self { serial: serial.to_owned(), ciphertext: key.encrypt_sensitive(plaintext)? })
    }

    /// The serial of the key that encrypted it.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The Base64 ciphertext, as sent.
    pub fn ciphertext(&self) -> &str {
        &self.ciphertext
    }
}

impl fmt::Debug for SensitiveField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SensitiveField").field("serial", &self.serial).finish_non_exhaustive()
    }
}
