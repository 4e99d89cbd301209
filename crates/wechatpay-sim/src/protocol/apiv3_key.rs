//! The simulated merchant's APIv3 key and sealing with it (AEAD_AES_256_GCM, PROTOCOL.md §8): the
//! side WeChat Pay runs, which the core (only ever a receiver) does not have.

use std::io;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use base64::Engine as _;

/// Characters of random keys and nonces (WeChat Pay's nonces are alphanumeric).
const ALPHANUMERIC: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The algorithm name of every encrypted resource (the core's constant: one copy).
pub(crate) use wechatpay_core::wire::AEAD_AES_256_GCM as ALGORITHM;

/// `n` random characters of `[0-9A-Za-z]`.
pub(crate) fn random_alphanumeric(n: usize) -> io::Result<String> {
    let mut bytes = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| io::Error::other("the system random generator failed"))?;
    // 62 does not divide 256: the slight bias does not matter for throwaway test values.
    Ok(bytes.iter().map(|b| char::from(ALPHANUMERIC[usize::from(*b) % ALPHANUMERIC.len()])).collect())
}

/// Checks `key` the way the core's `ApiV3Key` does (exactly 32 visible ASCII characters).
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] naming the rule.
pub(crate) fn validate(key: &str) -> io::Result<()> {
    wechatpay_core::ApiV3Key::new(key)
        .map(drop)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("APIv3 key: {e}")))
}

/// A fresh random APIv3 key (32 alphanumeric characters).
pub(crate) fn random_key() -> io::Result<String> {
    random_alphanumeric(32)
}

/// A sealed resource: the 12-character nonce and standard Base64 of ciphertext ‖ tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sealed {
    pub nonce: String,
    pub ciphertext: String,
}

/// Encrypts `plaintext` with `key` (its 32 ASCII bytes) and associated data `aad`, under a
/// fresh random 12-character nonce.
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] for a key that is not 32 visible ASCII characters; other
/// kinds when the random generator or the cipher fails.
pub(crate) fn seal(key: &str, aad: &str, plaintext: &[u8]) -> io::Result<Sealed> {
    validate(key)?;
    let cipher = UnboundKey::new(&AES_256_GCM, key.as_bytes()).map_err(|_| io::Error::other("AES-256-GCM key"))?;
    let cipher = LessSafeKey::new(cipher);
    let nonce = random_alphanumeric(12)?;
    let nonce_bytes: [u8; 12] = nonce.as_bytes().try_into().map_err(|_| io::Error::other("nonce length"))?;
    let mut data = plaintext.to_vec();
    cipher
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(aad.as_bytes()), &mut data)
        .map_err(|_| io::Error::other("AES-256-GCM seal failed"))?;
    Ok(Sealed { nonce, ciphertext: base64::engine::general_purpose::STANDARD.encode(data) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechatpay_core::{ApiV3Key, EncryptedResource};

    const KEY: &str = "0123456789abcdefghijABCDEFGHIJ+/";

    #[test]
    fn what_is_sealed_the_core_opens() {
        let sealed = seal(KEY, "transaction", b"{\"a\":1}").unwrap();
        assert_eq!(sealed.nonce.len(), 12);
        let key = ApiV3Key::new(KEY).unwrap();
        let item = EncryptedResource::new(sealed.ciphertext.clone(), sealed.nonce.clone(), Some("transaction".into()));
        assert_eq!(key.decrypt(&item).unwrap(), b"{\"a\":1}");
        let wrong_aad = EncryptedResource::new(sealed.ciphertext, sealed.nonce, Some("certificate".into()));
        assert!(key.decrypt(&wrong_aad).is_err());
        assert_ne!(seal(KEY, "", b"x").unwrap().nonce, seal(KEY, "", b"x").unwrap().nonce, "fresh nonces");
    }

    #[test]
    fn keys_are_checked_and_random_ones_are_valid() {
        assert!(seal("short", "", b"x").unwrap_err().to_string().contains("APIv3 key"));
        assert!(validate(&format!("{KEY} ")).is_err());
        let k = random_key().unwrap();
        validate(&k).unwrap();
        assert_ne!(k, random_key().unwrap());
    }
}
