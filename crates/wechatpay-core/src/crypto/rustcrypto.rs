//! The pure-Rust backend (`rsa` + `sha2`). The `rsa` crate carries RUSTSEC-2023-0071.

use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use sha2::Sha256;

use super::SignError;

/// A parsed RSA private key (the `rsa` crate zeroizes it on drop).
pub(crate) struct SigningKey(rsa::pkcs1v15::SigningKey<Sha256>);

impl SigningKey {
    /// From a PKCS#1 `RSAPrivateKey` DER.
    pub(crate) fn from_pkcs1_der(der: &[u8]) -> Result<Self, rsa::pkcs1::Error> {
        let key = rsa::RsaPrivateKey::from_pkcs1_der(der)?;
        Ok(Self(rsa::pkcs1v15::SigningKey::new(key)))
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        // Blinded signing (the randomness only blinds; PKCS#1 v1.5 output stays deterministic).
        let sig = self
            .0
            .try_sign_with_rng(&mut rsa::rand_core::OsRng, message)
            .map_err(|e| SignError::with_context("rsa crate RSA signing failed", e))?;
        Ok(sig.to_vec())
    }
}

/// A parsed RSA public key.
pub(crate) struct VerifyingKey(rsa::pkcs1v15::VerifyingKey<Sha256>);

impl VerifyingKey {
    /// From a SubjectPublicKeyInfo DER.
    pub(crate) fn from_spki_der(der: &[u8]) -> Result<Self, rsa::pkcs8::spki::Error> {
        let key = rsa::RsaPublicKey::from_public_key_der(der)?;
        Ok(Self(rsa::pkcs1v15::VerifyingKey::new(key)))
    }

    /// Verifies `sig` over the concatenation of `parts`, hashed where they are.
    pub(crate) fn verify(&self, parts: &[&[u8]], sig: &[u8]) -> bool {
        use rsa::signature::hazmat::PrehashVerifier;
        use sha2::Digest;
        let mut hash = Sha256::new();
        for part in parts {
            hash.update(part);
        }
        match rsa::pkcs1v15::Signature::try_from(sig) {
            Ok(sig) => self.0.verify_prehash(&hash.finalize(), &sig).is_ok(),
            Err(_) => false,
        }
    }
}

/// An AEAD_AES_256_GCM key (RFC 5116) for the `aes-gcm` crate, expanded once; zeroized when
/// dropped (feature `zeroize`).
pub(crate) struct GcmKey(Box<aes_gcm::Aes256Gcm>);

impl GcmKey {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        use aes_gcm::aead::KeyInit;
        Self(Box::new(aes_gcm::Aes256Gcm::new(key.into())))
    }

    /// Decryption in place: `buf` holds the ciphertext followed by the 16-byte tag and becomes
    /// the plaintext. `None` when it does not authenticate.
    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], mut buf: Vec<u8>) -> Option<Vec<u8>> {
        use aes_gcm::aead::AeadInPlace;
        self.0.decrypt_in_place(nonce.into(), aad, &mut buf).ok()?;
        Some(buf)
    }
}

/// RSA-OAEP (SHA-1, MGF1-SHA-1) of `plaintext` under the SubjectPublicKeyInfo DER `spki`;
/// `None` when the `rsa` crate refuses the key or the length.
pub(crate) fn oaep_sha1_encrypt(spki: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    let key = rsa::RsaPublicKey::from_public_key_der(spki).ok()?;
    key.encrypt(&mut rsa::rand_core::OsRng, rsa::Oaep::new::<sha1::Sha1>(), plaintext).ok()
}
