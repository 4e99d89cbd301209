//! The [`Signer`] and [`Verifier`] traits, and the RSA backends behind them.
//!
//! Two backends implement RSASSA-PKCS1-v1_5 with SHA-256 and produce byte-identical
//! signatures (the scheme is deterministic):
//!
//! | backend | feature | note |
//! |---|---|---|
//! | [`Backend::AwsLcRs`] | `aws-lc-rs` (default) | AWS-LC: constant-time, as fast as OpenSSL |
//! | [`Backend::RustCrypto`] | `rustcrypto` | pure Rust (`rsa` + `sha2`); **the `rsa` crate carries RUSTSEC-2023-0071** (Marvin timing side channel on private-key operations, no fixed release). Prefer the default backend for signing. |
//!
//! Both also decrypt AEAD_AES_256_GCM (AWS-LC's AEAD; RustCrypto's `aes-gcm`) for the
//! resources protected by the APIv3 key ([`crate::ApiV3Key`]), with identical results.
//!
//! Backends are chosen per key, by value, never by a process-wide default.

#[cfg(feature = "aws-lc-rs")]
pub(crate) mod aws_lc;
#[cfg(feature = "rustcrypto")]
pub(crate) mod rustcrypto;

#[cfg(not(any(feature = "aws-lc-rs", feature = "rustcrypto")))]
compile_error!("wechatpay-core needs a crypto backend: enable feature `aws-lc-rs` (default) or `rustcrypto`");

use std::fmt;

/// Which implementation of RSA a key uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// AWS-LC through `aws-lc-rs` (feature `aws-lc-rs`, the default).
    #[cfg(feature = "aws-lc-rs")]
    AwsLcRs,
    /// The pure-Rust `rsa` crate (feature `rustcrypto`). See RUSTSEC-2023-0071.
    #[cfg(feature = "rustcrypto")]
    RustCrypto,
}

impl Default for Backend {
    /// `AwsLcRs` when its feature is on, otherwise `RustCrypto`.
    fn default() -> Self {
        #[cfg(feature = "aws-lc-rs")]
        return Backend::AwsLcRs;
        #[cfg(not(feature = "aws-lc-rs"))]
        return Backend::RustCrypto;
    }
}

/// AEAD_AES_256_GCM decryption on `backend`, in place: `ciphertext_and_tag` is the ciphertext
/// followed by the 16-byte GCM tag and becomes the plaintext. `None` when it does not
/// authenticate under key, nonce and AAD.
pub(crate) fn aes_256_gcm_open(
    backend: Backend,
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    ciphertext_and_tag: Vec<u8>,
) -> Option<Vec<u8>> {
    match backend {
        #[cfg(feature = "aws-lc-rs")]
        Backend::AwsLcRs => aws_lc::aes_256_gcm_open(key, nonce, aad, ciphertext_and_tag),
        #[cfg(feature = "rustcrypto")]
        Backend::RustCrypto => rustcrypto::aes_256_gcm_open(key, nonce, aad, ciphertext_and_tag),
    }
}

/// Signs request messages with the merchant API private key
/// (RSASSA-PKCS1-v1_5, SHA-256).
///
/// [`crate::PrivateKey`] implements it; implement it yourself to sign with an HSM or KMS
/// (or use [`crate::PreparedRequest::finish`] when the signer is asynchronous).
pub trait Signer: Send + Sync {
    /// Returns the raw signature of `message` (256 bytes for RSA-2048).
    ///
    /// # Errors
    /// [`SignError`] when the underlying key or device fails.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// Verifies WeChat Pay signatures with the key named by a serial (`Wechatpay-Serial`).
///
/// [`crate::KeyStore`] implements it. A verifier must look keys up by exact serial and
/// never "try every key".
pub trait Verifier: Send + Sync {
    /// Whether a key with exactly this serial (certificate serial or `PUB_KEY_ID_…`) is held.
    fn knows(&self, serial: &str) -> bool;

    /// Checks `signature` over `message` with the key named `serial`.
    ///
    /// # Errors
    /// [`VerifyError`] saying why the signature was not accepted.
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<(), VerifyError>;
}

impl<T: Signer + ?Sized> Signer for std::sync::Arc<T> {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        (**self).sign(message)
    }
}

impl<T: Verifier + ?Sized> Verifier for std::sync::Arc<T> {
    fn knows(&self, serial: &str) -> bool {
        (**self).knows(serial)
    }
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        (**self).verify(serial, message, signature)
    }
}

/// A signer failed. Carries no key material.
#[derive(Debug)]
pub struct SignError {
    reason: String,
}

impl SignError {
    /// A signing failure described by `reason` (must not contain secrets).
    pub fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into() }
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "signing failed: {}", self.reason)
    }
}

impl std::error::Error for SignError {}

/// Why a [`Verifier`] did not accept a signature.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// No key with that serial is held.
    UnknownSerial,
    /// The decoded signature is not as long as the key's modulus.
    WrongLength {
        /// The modulus length in bytes.
        expected: usize,
        /// The decoded signature's length.
        actual: usize,
    },
    /// The signature does not match the message under that key.
    Mismatch,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::UnknownSerial => f.write_str("no key held for that serial"),
            VerifyError::WrongLength { expected, actual } => {
                write!(f, "signature is {actual} bytes, the key's modulus is {expected}")
            }
            VerifyError::Mismatch => f.write_str("signature does not match"),
        }
    }
}

impl std::error::Error for VerifyError {}

#[cfg(all(test, feature = "aws-lc-rs", feature = "rustcrypto"))]
mod aead_cross_backend {
    //! Each backend opens what the other's implementation sealed, and both give the same
    //! plaintext or both refuse.
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use proptest::prelude::*;

    use super::{Backend, aes_256_gcm_open};

    fn seal_aws_lc(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("32-byte key"));
        let mut buf = plain.to_vec();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), &mut buf).expect("seal");
        buf
    }

    fn seal_rustcrypto(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plain: &[u8]) -> Vec<u8> {
        aes_gcm::Aes256Gcm::new(key.into()).encrypt(nonce.into(), Payload { msg: plain, aad }).expect("seal")
    }

    proptest! {
        #[test]
        fn both_backends_open_both_seals(
            key in any::<[u8; 32]>(),
            nonce in any::<[u8; 12]>(),
            aad in proptest::collection::vec(any::<u8>(), 0..40),
            plain in proptest::collection::vec(any::<u8>(), 0..2000),
            flip in any::<usize>(),
        ) {
            let a = seal_aws_lc(&key, &nonce, &aad, &plain);
            let b = seal_rustcrypto(&key, &nonce, &aad, &plain);
            prop_assert_eq!(&a, &b, "AES-GCM is deterministic: both seals are the same bytes");
            for backend in [Backend::AwsLcRs, Backend::RustCrypto] {
                prop_assert_eq!(aes_256_gcm_open(backend, &key, &nonce, &aad, a.clone()), Some(plain.clone()));
                let mut bad = a.clone();
                let bit = flip % (bad.len() * 8);
                bad[bit / 8] ^= 1 << (bit % 8);
                prop_assert_eq!(aes_256_gcm_open(backend, &key, &nonce, &aad, bad), None);
                let mut other_aad = aad.clone();
                other_aad.push(0);
                prop_assert_eq!(aes_256_gcm_open(backend, &key, &nonce, &other_aad, a.clone()), None);
                prop_assert_eq!(aes_256_gcm_open(backend, &key, &nonce, &aad, a[..a.len().min(15)].to_vec()), None);
            }
        }
    }
}
