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

    pub(crate) fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        self.0.verify_sig(message, sig).is_ok()
    }
}
