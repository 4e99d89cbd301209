//! Key loading: accepted formats, clear refusals, key stores, redaction.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use wechatpay_core::keys::KeyKind;
use wechatpay_core::{KeyError, KeyStore, PrivateKey, PublicKey, Verifier};

#[test]
fn refuses_unusable_private_keys_clearly() {
    for backend in backends() {
        let load = |name: &str| PrivateKey::from_pem_with(&data(name), backend).unwrap_err();
        assert_eq!(load("encrypted_key.pem"), KeyError::Encrypted);
        assert_eq!(load("ec_key.pem"), KeyError::NotRsa);
        assert_eq!(load("rsa1024_key.pem"), KeyError::TooShort { bits: 1024 });
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
    assert_eq!(store.add_public_key("PUB_KEY_ID_1", &data("ec_pub.pem")).unwrap_err(), KeyError::NotRsa);
    assert_eq!(store.add_public_key("KEY_1", &data("wechatpay_pub.pem")).unwrap_err(), KeyError::InvalidKeyId);
    assert_eq!(store.add_public_key("PUB_KEY_ID_", &data("wechatpay_pub.pem")).unwrap_err(), KeyError::InvalidKeyId);
    assert!(store.add_platform_certificates(&data("wechatpay_pub.pem")).is_err());
    assert!(store.is_empty());
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
