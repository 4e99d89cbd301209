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
//! Both also encrypt sensitive fields with RSA-OAEP (SHA-1, MGF1-SHA-1; PROTOCOL.md §15)
//! under a WeChat Pay key ([`crate::PublicKey::encrypt_sensitive`], errors [`EncryptError`]).
//!
//! Both also decrypt AEAD_AES_256_GCM (AWS-LC's AEAD; RustCrypto's `aes-gcm`) for the
//! resources protected by the APIv3 key ([`crate::ApiV3Key`]), with identical results.
//!
//! Backends are chosen per key, by value, never by a process-wide default.

#[cfg(feature = "aws-lc-rs")]
pub(crate) mod aws_lc;
pub(crate) mod oaep;
#[cfg(feature = "rustcrypto")]
pub(crate) mod rustcrypto;

pub use oaep::EncryptError;

#[cfg(not(any(feature = "aws-lc-rs", feature = "rustcrypto")))]
compile_error!("wechatpay-core needs a crypto backend: enable feature `aws-lc-rs` (default) or `rustcrypto`");

use std::fmt;
use std::sync::Arc;

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

/// An AEAD_AES_256_GCM key on one backend, its schedule expanded once (each backend clears
/// it when dropped).
pub(crate) enum GcmKey {
    #[cfg(feature = "aws-lc-rs")]
    AwsLcRs(aws_lc::GcmKey),
    #[cfg(feature = "rustcrypto")]
    RustCrypto(rustcrypto::GcmKey),
}

impl GcmKey {
    pub(crate) fn new(backend: Backend, key: &[u8; 32]) -> Self {
        match backend {
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLcRs => Self::AwsLcRs(aws_lc::GcmKey::new(key)),
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => Self::RustCrypto(rustcrypto::GcmKey::new(key)),
        }
    }

    /// The backend that holds the key.
    pub(crate) fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            Self::AwsLcRs(_) => Backend::AwsLcRs,
            #[cfg(feature = "rustcrypto")]
            Self::RustCrypto(_) => Backend::RustCrypto,
        }
    }

    /// Decryption in place: `ciphertext_and_tag` is the ciphertext followed by the 16-byte GCM
    /// tag and becomes the plaintext. `None` when it does not authenticate under key, nonce
    /// and AAD.
    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], ciphertext_and_tag: Vec<u8>) -> Option<Vec<u8>> {
        match self {
            #[cfg(feature = "aws-lc-rs")]
            Self::AwsLcRs(key) => key.open(nonce, aad, ciphertext_and_tag),
            #[cfg(feature = "rustcrypto")]
            Self::RustCrypto(key) => key.open(nonce, aad, ciphertext_and_tag),
        }
    }
}

/// Signs request messages with the merchant API private key
/// (RSASSA-PKCS1-v1_5, SHA-256).
///
/// [`crate::PrivateKey`] implements it; implement it yourself to sign with an HSM or KMS
/// (or use [`crate::PreparedRequest::finish`] when the signer is asynchronous). `Debug` is
/// required so that configurations holding a signer can be shown; it must not print
/// secrets.
pub trait Signer: Send + Sync + fmt::Debug {
    /// Returns the raw signature of `message` (256 bytes for RSA-2048).
    ///
    /// # Errors
    /// [`SignError`] when the underlying key or device fails.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// Verifies WeChat Pay signatures with the key named by a serial (`Wechatpay-Serial`).
///
/// [`crate::KeyStore`] implements it. A verifier must look keys up by exact serial and
/// never "try every key". `Debug` is required so that configurations holding a verifier can
/// be shown.
pub trait Verifier: Send + Sync + fmt::Debug {
    /// Whether a key with exactly this serial (certificate serial or `PUB_KEY_ID_…`) is held.
    fn knows(&self, serial: &str) -> bool;

    /// Checks `signature` over `message` with the key named `serial`.
    ///
    /// # Errors
    /// [`VerifyError`] saying why the signature was not accepted.
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<(), VerifyError>;

    /// Checks `signature` over the concatenation of `parts` (a signed message as it arrives:
    /// `timestamp`, `\n`, `nonce`, `\n`, body, `\n`). The default joins them and calls
    /// [`Verifier::verify`]; [`crate::KeyStore`] hashes them where they are, with no copy.
    ///
    /// # Errors
    /// As [`Verifier::verify`].
    fn verify_parts(&self, serial: &str, parts: &[&[u8]], signature: &[u8]) -> Result<(), VerifyError> {
        self.verify(serial, &parts.concat(), signature)
    }

    /// The serials (certificate serials, `PUB_KEY_ID_…`) of the keys held, for an error that
    /// says which are configured when an answer names another. Public identifiers only; the
    /// default says nothing.
    fn key_ids(&self) -> Vec<String> {
        Vec::new()
    }
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
    fn verify_parts(&self, serial: &str, parts: &[&[u8]], signature: &[u8]) -> Result<(), VerifyError> {
        (**self).verify_parts(serial, parts, signature)
    }
    fn key_ids(&self) -> Vec<String> {
        (**self).key_ids()
    }
}

/// A signer failed. Carries no key material.
///
/// Its `Display` is fixed text (`signing failed`, plus the static message when one was
/// given); the underlying error of an HSM, a KMS or a crypto backend is kept, unprinted, as
/// the [`source`](std::error::Error::source), where error reporters and `downcast_ref`
/// find it.
#[derive(Debug)]
pub struct SignError {
    message: Option<&'static str>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SignError {
    /// A signing failure caused by `source` (for example an HSM or KMS client's error),
    /// kept as the [`source`](std::error::Error::source). It must not hold secrets.
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { message: None, source: Some(source.into()) }
    }

    /// A signing failure described by a fixed message, without an underlying error.
    pub fn msg(message: &'static str) -> Self {
        Self { message: Some(message), source: None }
    }

    /// A signing failure described by a fixed message and caused by `source`.
    pub fn with_context(message: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { message: Some(message), source: Some(source.into()) }
    }
}

/// The operating system's random source failed (for a nonce): `signing failed: the OS random
/// source failed`, the I/O error kept as the source.
impl From<std::io::Error> for SignError {
    fn from(e: std::io::Error) -> Self {
        Self::with_context("the OS random source failed", e)
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message {
            Some(message) => write!(f, "signing failed: {message}"),
            None => f.write_str("signing failed"),
        }
    }
}

impl std::error::Error for SignError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}

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
    /// The verifier refused for a reason of its own, carried opaquely (as rustls's
    /// `Error::Other`): for example the bootstrap verifier of `/v3/certificates` refusing an
    /// answer (its error is a `certificates::CertificateError`, found with
    /// [`OtherError::downcast_ref`]), or a custom verifier's backend failing.
    Other(OtherError),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::UnknownSerial => f.write_str("no key held for that serial"),
            VerifyError::WrongLength { expected, actual } => {
                write!(f, "signature is {actual} bytes, the key's modulus is {expected}")
            }
            VerifyError::Mismatch => f.write_str("signature does not match"),
            VerifyError::Other(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VerifyError::Other(e) => Some(e.get_ref()),
            _ => None,
        }
    }
}

/// An error of another layer (or another crate) carried through this one without naming
/// its type, the way rustls's `Error::Other` does. Cloning shares it.
///
/// Two `OtherError`s are equal only when they are clones of the same error. The error must
/// not hold secrets: its `Display` and `Debug` are shown.
#[derive(Clone)]
pub struct OtherError(Arc<dyn std::error::Error + Send + Sync>);

impl OtherError {
    /// Wraps `error`.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(Arc::from(error.into()))
    }

    /// The error carried.
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }

    /// The error carried, if it is a `T`.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }
}

impl PartialEq for OtherError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OtherError {}

impl fmt::Debug for OtherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OtherError").field(&self.0).finish()
    }
}

impl fmt::Display for OtherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for OtherError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// An HSM client's error, as an external signer would return it.
    #[derive(Debug)]
    struct HsmError {
        slot: u32,
    }

    impl fmt::Display for HsmError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "HSM slot {} is locked", self.slot)
        }
    }

    impl std::error::Error for HsmError {}

    #[test]
    fn sign_error_keeps_the_signers_error_as_source() {
        let e = SignError::new(HsmError { slot: 7 });
        assert_eq!(e.to_string(), "signing failed");
        let source = e.source().expect("the HSM error is the source");
        assert_eq!(source.downcast_ref::<HsmError>().map(|h| h.slot), Some(7));

        let e = SignError::with_context("KMS call failed", HsmError { slot: 1 });
        assert_eq!(e.to_string(), "signing failed: KMS call failed");
        assert!(e.source().is_some_and(|s| s.is::<HsmError>()));

        let e = SignError::msg("the OS random source failed");
        assert_eq!(e.to_string(), "signing failed: the OS random source failed");
        assert!(e.source().is_none());

        // Through the crate's error type the chain continues with the signer's error.
        let e = crate::Error::from(SignError::new(HsmError { slot: 2 }));
        assert_eq!(e.to_string(), "signing failed");
        assert!(e.source().is_some_and(|s| s.is::<HsmError>()));
    }
}

#[cfg(all(test, feature = "aws-lc-rs", feature = "rustcrypto"))]
mod aead_cross_backend {
    //! Each backend opens what the other's implementation sealed, and both give the same
    //! plaintext or both refuse.
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use proptest::prelude::*;

    use super::{Backend, GcmKey};

    fn aes_256_gcm_open(
        backend: Backend,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: Vec<u8>,
    ) -> Option<Vec<u8>> {
        GcmKey::new(backend, key).open(nonce, aad, buf)
    }

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
