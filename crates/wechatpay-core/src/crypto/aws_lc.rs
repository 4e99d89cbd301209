//! The AWS-LC backend (`aws-lc-rs`).

use aws_lc_rs::error::KeyRejected;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaKeyPair};

use super::SignError;

/// A parsed RSA private key held by AWS-LC (which clears it when freed).
pub(crate) struct SigningKey(RsaKeyPair);

impl SigningKey {
    /// From a PKCS#1 `RSAPrivateKey` DER.
    pub(crate) fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyRejected> {
        RsaKeyPair::from_der(der).map(Self)
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut sig = vec![0u8; self.0.public_modulus_len()];
        self.0
            .sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
            .map_err(|e| SignError::with_context("AWS-LC RSA signing failed", e))?;
        Ok(sig)
    }
}

/// A parsed RSA public key, parsed once and reused for every verification.
pub(crate) struct VerifyingKey(ParsedPublicKey);

impl VerifyingKey {
    /// From a SubjectPublicKeyInfo DER.
    pub(crate) fn from_spki_der(der: &[u8]) -> Result<Self, KeyRejected> {
        ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der).map(Self)
    }

    /// Verifies `sig` over the concatenation of `parts`: SHA-256 over the parts where they
    /// are, then the RSA check of the digest (what `verify_sig` does, without a joined copy).
    pub(crate) fn verify(&self, parts: &[&[u8]], sig: &[u8]) -> bool {
        let mut hash = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for part in parts {
            hash.update(part);
        }
        self.0.verify_digest_sig(&hash.finish(), sig).is_ok()
    }
}

/// An AEAD_AES_256_GCM key (RFC 5116), expanded once; AWS-LC clears it when freed.
pub(crate) struct GcmKey(aws_lc_rs::aead::LessSafeKey);

impl GcmKey {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        use aws_lc_rs::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
        // Only a key of another length than the algorithm's is refused, and this one is 32 bytes.
        Self(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte key is an AES-256 key")))
    }

    /// Decryption in place: `buf` holds the ciphertext followed by the 16-byte tag and becomes
    /// the plaintext. `None` when the key, nonce, AAD and tag do not authenticate it.
    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], mut buf: Vec<u8>) -> Option<Vec<u8>> {
        use aws_lc_rs::aead::{Aad, Nonce};
        let len = self.0.open_in_place(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), &mut buf).ok()?.len();
        buf.truncate(len);
        Some(buf)
    }
}

/// RSA-OAEP (SHA-1, MGF1-SHA-1) of `plaintext` under the SubjectPublicKeyInfo DER `spki`;
/// `None` when AWS-LC refuses the key or the length.
pub(crate) fn oaep_sha1_encrypt(spki: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
    let key = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(spki).ok()?).ok()?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key.encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut out, None).ok()?.len();
    out.truncate(len);
    Some(out)
}
