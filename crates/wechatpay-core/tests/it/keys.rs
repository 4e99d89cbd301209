//! Key loading: accepted formats, clear refusals, key stores, redaction.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::*;
use wechatpay_core::KeyKind;
use wechatpay_core::{KeyError, KeyStore, PrivateKey, PublicKey, crypto::Verifier};

#[test]
fn refuses_unusable_private_keys_clearly() {
    for backend in backends() {
        let load = |name: &str| PrivateKey::from_pem_with(&data(name), backend).unwrap_err();
        assert!(matches!(load("encrypted_key.pem"), KeyError::Encrypted));
        assert!(matches!(load("ec_key.pem"), KeyError::NotRsa));
        assert!(matches!(load("rsa1024_key.pem"), KeyError::TooShort { bits: 1024 }));
        assert!(matches!(load("wechatpay_pub.pem"), KeyError::WrongKind { found, .. } if found == "PUBLIC KEY"));
        assert!(matches!(load("platform_cert.pem"), KeyError::WrongKind { found, .. } if found == "CERTIFICATE"));
        assert!(matches!(PrivateKey::from_pem_with(b"not a key", backend), Err(KeyError::Malformed(_))));
        assert!(matches!(PrivateKey::from_der_with(b"\x30\x03\x02\x01\x00", backend), Err(KeyError::Malformed(_))));
    }
    let msg = KeyError::TooShort { bits: 1024 }.to_string();
    assert!(msg.contains("1024") && msg.contains("2048"), "{msg}");
    assert!(KeyError::Encrypted.to_string().contains("openssl pkey"));
}

#[test]
fn refuses_unusable_public_keys_clearly() {
    assert!(matches!(PublicKey::from_pem(&data("merchant_key.pem")), Err(KeyError::WrongKind { .. })));
    let mut store = KeyStore::new();
    assert!(matches!(store.add_public_key("PUB_KEY_ID_1", &data("ec_pub.pem")), Err(KeyError::NotRsa)));
    assert!(matches!(store.add_public_key("KEY_1", &data("wechatpay_pub.pem")), Err(KeyError::InvalidKeyId)));
    assert!(matches!(store.add_public_key("PUB_KEY_ID_", &data("wechatpay_pub.pem")), Err(KeyError::InvalidKeyId)));
    assert!(store.add_platform_certificates(&data("wechatpay_pub.pem")).is_err());
    assert!(store.is_empty());
}

/// The Base64 body of a one-block PEM fixture, decoded.
fn pem_body(name: &str) -> Vec<u8> {
    let text = text(name);
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap()
}

#[test]
fn pem_armour_errors_are_named() {
    let der = pem_body("merchant_key.pem");
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &der);
    let wrap = |label: &str| format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n");
    // The same DER loads under either private-key label; labels are exact.
    assert!(PrivateKey::from_pem(wrap("PRIVATE KEY").as_bytes()).is_ok());
    let err = PrivateKey::from_pem(wrap("OPENSSH PRIVATE KEY").as_bytes()).unwrap_err();
    assert!(matches!(&err, KeyError::WrongKind { found, .. } if found == "OPENSSH PRIVATE KEY"), "{err:?}");
    assert!(matches!(PrivateKey::from_pem(wrap("EC PRIVATE KEY").as_bytes()), Err(KeyError::NotRsa)));
    let err = PublicKey::from_pem(wrap("PRIVATE KEY").as_bytes()).unwrap_err();
    assert_eq!(err.to_string(), "expected a public key (BEGIN PUBLIC KEY), found a PEM block labelled \"PRIVATE KEY\"");
    // Broken armour says what is broken.
    let unterminated = format!("-----BEGIN PRIVATE KEY-----\n{b64}\n");
    let err = PrivateKey::from_pem(unterminated.as_bytes()).unwrap_err();
    assert_eq!(err.to_string(), "malformed key: PEM block without its END line");
    let err = PrivateKey::from_pem(b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n").unwrap_err();
    assert_eq!(err.to_string(), "malformed key: PEM block is not valid Base64");
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    assert!(matches!(PrivateKey::from_pem(legacy.as_bytes()), Err(KeyError::Encrypted)));
    // Key material never reaches an error message.
    assert!(!err.to_string().contains(&b64[..16]) && !format!("{err:?}").contains(&b64[..16]));
}

#[test]
fn backend_refusals_keep_the_backend_error_as_source() {
    use std::error::Error as _;
    // The PKCS#1 merchant key with its public exponent changed from 65537 (02 03 01 00 01)
    // to 65539: well-formed, 2048 bits, so it passes this crate's checks, but `d` no longer
    // inverts `e` and both backends' consistency checks refuse it.
    let mut der = pem_body("merchant_key_pkcs1.pem");
    let at = der.windows(5).position(|w| w == [0x02, 0x03, 0x01, 0x00, 0x01]).unwrap();
    der[at + 4] = 0x03;
    for backend in backends() {
        let err = PrivateKey::from_der_with(&der, backend).unwrap_err();
        let KeyError::Rejected { backend: by, source } = &err else { panic!("{backend:?}: {err:?}") };
        assert_eq!(*by, backend);
        assert!(!source.to_string().is_empty());
        assert!(err.source().is_some(), "{backend:?}: the backend's error is the source");
        assert_eq!(err.to_string(), format!("the {backend:?} crypto backend rejected the key"));
    }
}

#[test]
fn key_store_holds_both_kinds_by_exact_serial() {
    for backend in backends() {
        let store = key_store(backend);
        let serials: Vec<_> = store.serials().collect();
        assert_eq!(serials, vec![(PUB_KEY_ID, KeyKind::PublicKey), (PLATFORM_SERIAL, KeyKind::PlatformCertificate)]);
        assert!(store.knows(PUB_KEY_ID));
        assert!(store.knows(PLATFORM_SERIAL));
        assert!(!store.knows(&PLATFORM_SERIAL.to_lowercase()));
        assert!(!store.knows("PUB_KEY_ID_0114232019092600000000000000000002"));
        assert_eq!(store.get(PUB_KEY_ID).unwrap().modulus_len(), 256);
    }
    // A bundle with two certificates loads both; re-adding replaces.
    let bundle = format!("{}\n# comment\n{}", text("platform_cert.pem"), text("platform_cert.pem"));
    let mut store = KeyStore::new();
    assert_eq!(store.add_platform_certificates(bundle.as_bytes()).unwrap().len(), 2);
    assert_eq!(store.serials().count(), 1);
}

#[test]
fn secrets_stay_out_of_debug() {
    let key = PrivateKey::from_pem(&data("merchant_key.pem")).unwrap();
    let shown = format!("{key:?}");
    assert!(shown.contains("[redacted]"), "{shown}");
    let pem = text("merchant_key.pem");
    let body_line = pem.lines().nth(1).unwrap();
    assert!(!shown.contains(&body_line[..16]));
    let config = config();
    let shown = format!("{config:?}");
    assert!(shown.contains("[redacted]") && !shown.contains(&body_line[..16]), "{shown}");
}

/// The newest platform certificate is the one with the latest `notBefore`, whatever the
/// order they were added in. Dates from `openssl x509 -noout -serial -startdate -in F`:
/// platform_cert.pem 5157F09E… notBefore=Nov 23 14:06:01 2026 GMT,
/// certificates/platform2_cert.pem 7A1B2C3D… notBefore=Nov 24 02:37:07 2026 GMT.
#[test]
fn the_newest_platform_certificate_is_told_by_not_before() {
    const OLD: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
    const NEW: &str = "7A1B2C3D4E5F60718293A4B5C6D7E8F901234567";
    for backend in backends() {
        for order in [
            ["platform_cert.pem", "certificates/platform2_cert.pem"],
            ["certificates/platform2_cert.pem", "platform_cert.pem"],
        ] {
            let mut store = KeyStore::with_backend(backend);
            assert_eq!(store.newest_platform_certificate(), None);
            store.add_public_key("PUB_KEY_ID_1", &data("wechatpay_pub.pem")).unwrap();
            assert_eq!(store.newest_platform_certificate(), None, "a public key is no certificate");
            for name in order {
                store.add_platform_certificates(&data(name)).unwrap();
            }
            assert_eq!(store.newest_platform_certificate(), Some(NEW), "{order:?}");
            store.remove(NEW);
            assert_eq!(store.newest_platform_certificate(), Some(OLD));
        }
    }
}
