//! Sensitive-field encryption (PROTOCOL.md §15): RSA-OAEP with SHA-1 and MGF1-SHA-1 under a
//! WeChat Pay public key or platform certificate, on either backend.

use std::fmt;

use super::Backend;

/// Encrypting a sensitive field failed. Never carries the plaintext (nor its length).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptError {
    /// The plaintext is longer than RSA-OAEP-SHA-1 fits under this key
    /// (`modulus bytes − 42`: 214 bytes for RSA-2048).
    TooLong {
        /// The most this key takes, in bytes.
        max: usize,
    },
    /// The plaintext is empty: WeChat Pay has nothing to decrypt.
    Empty,
    /// The backend refused the key or failed to encrypt.
    Backend(Backend),
}

impl fmt::Display for EncryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncryptError::TooLong { max } => {
                write!(f, "sensitive field too long for RSA-OAEP under this key (at most {max} bytes)")
            }
            EncryptError::Empty => f.write_str("sensitive field is empty"),
            EncryptError::Backend(backend) => write!(f, "RSA-OAEP encryption failed in the {backend:?} backend"),
        }
    }
}

impl std::error::Error for EncryptError {}

/// The bytes OAEP with SHA-1 adds: two digests and two bytes.
const OAEP_SHA1_OVERHEAD: usize = 2 * 20 + 2;

/// Encrypts `plaintext` under the RSA public key `spki` (SubjectPublicKeyInfo DER) with
/// RSA-OAEP, SHA-1 and MGF1-SHA-1, on `backend`. `modulus_len` is the key's size in bytes.
pub(crate) fn encrypt(
    backend: Backend,
    spki: &[u8],
    modulus_len: usize,
    plaintext: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    if plaintext.is_empty() {
        return Err(EncryptError::Empty);
    }
    let max = modulus_len.saturating_sub(OAEP_SHA1_OVERHEAD);
    if plaintext.len() > max {
        return Err(EncryptError::TooLong { max });
    }
    match backend {
        #[cfg(feature = "aws-lc-rs")]
        Backend::AwsLcRs => super::aws_lc::oaep_sha1_encrypt(spki, plaintext).ok_or(EncryptError::Backend(backend)),
        #[cfg(feature = "rustcrypto")]
        Backend::RustCrypto => {
            super::rustcrypto::oaep_sha1_encrypt(spki, plaintext).ok_or(EncryptError::Backend(backend))
        }
    }
}

#[cfg(test)]
mod tests {
    //! Both backends against OpenSSL's ciphertexts (tests/data/gen-oaep.sh) and each other:
    //! what one encrypts, the other's private-key side (test-only) decrypts.
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn data(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn der(name: &str) -> Vec<u8> {
        crate::pem::parse_one(&data(name)).unwrap().der.to_vec()
    }

    fn b64(name: &str) -> Vec<u8> {
        use base64::Engine as _;
        let text = String::from_utf8(data(name)).unwrap();
        base64::engine::general_purpose::STANDARD.decode(text.trim()).unwrap()
    }

    fn backends() -> Vec<Backend> {
        vec![
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLcRs,
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto,
        ]
    }

    /// Test-only decryption with each backend (the crate itself never decrypts OAEP).
    fn decrypt(backend: Backend, pkcs8: &[u8], ciphertext: &[u8]) -> Vec<u8> {
        match backend {
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLcRs => {
                use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, PrivateDecryptingKey};
                let key = OaepPrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(pkcs8).unwrap()).unwrap();
                let mut out = vec![0u8; key.min_output_size()];
                key.decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut out, None).unwrap().to_vec()
            }
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => {
                use rsa::pkcs8::DecodePrivateKey;
                let key = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8).unwrap();
                key.decrypt(rsa::Oaep::new::<sha1::Sha1>(), ciphertext).unwrap()
            }
        }
    }

    #[test]
    fn openssl_ciphertexts_decrypt_on_every_backend() {
        let plain = data("kat/oaep_plain.txt");
        for backend in backends() {
            let got = decrypt(backend, &der("wechatpay_key.pem"), &b64("kat/oaep_wechatpay_pub.b64"));
            assert_eq!(got, plain, "{backend:?}");
            let got = decrypt(backend, &der("platform_key.pem"), &b64("kat/oaep_platform.b64"));
            assert_eq!(got, plain, "{backend:?}");
        }
    }

    #[test]
    fn each_backend_decrypts_what_every_backend_encrypts() {
        let spki = der("wechatpay_pub.pem");
        let key = der("wechatpay_key.pem");
        for enc in backends() {
            let a = encrypt(enc, &spki, 256, b"secret name").unwrap();
            let b = encrypt(enc, &spki, 256, b"secret name").unwrap();
            assert_eq!(a.len(), 256);
            assert_ne!(a, b, "OAEP is randomised");
            for dec in backends() {
                assert_eq!(decrypt(dec, &key, &a), b"secret name", "{enc:?} -> {dec:?}");
            }
        }
    }

    #[test]
    fn refusals_carry_no_plaintext() {
        let spki = der("wechatpay_pub.pem");
        for backend in backends() {
            assert!(encrypt(backend, &spki, 256, &[b'x'; 214]).is_ok());
            let err = encrypt(backend, &spki, 256, &[b'x'; 215]).unwrap_err();
            assert_eq!(err, EncryptError::TooLong { max: 214 });
            assert!(!err.to_string().contains("xxx"));
            assert_eq!(encrypt(backend, &spki, 256, b"").unwrap_err(), EncryptError::Empty);
            assert_eq!(encrypt(backend, b"not a key", 256, b"x").unwrap_err(), EncryptError::Backend(backend));
        }
    }
}
