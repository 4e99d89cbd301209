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
