//! Sensitive-field encryption interoperates with OpenSSL: what each backend encrypts under
//! the WeChat Pay public key and the platform certificate, `openssl pkeyutl -decrypt
//! -pkeyopt rsa_padding_mode:oaep` (SHA-1 and MGF1-SHA-1, OpenSSL's defaults) decrypts with
//! the matching private key. (The other way, OpenSSL's ciphertexts decrypting on both
//! backends, is `crypto::oaep`'s unit test over tests/data/kat/oaep_*.b64.)
#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use common::*;
use wechatpay_core::PublicKey;
use wechatpay_core::crypto::EncryptError;

/// `openssl pkeyutl -decrypt` of `ciphertext` with `key_file`; `None` (said loudly) when
/// `openssl` is not installed.
fn openssl_decrypt(key_file: &str, ciphertext: &[u8]) -> Option<Vec<u8>> {
    let key = format!("{}/tests/data/{key_file}", env!("CARGO_MANIFEST_DIR"));
    let child = Command::new("openssl")
        .args(["pkeyutl", "-decrypt", "-inkey", &key, "-pkeyopt", "rsa_padding_mode:oaep"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIPPED: `openssl` is not installed; the OAEP cross-test against OpenSSL did not run");
            return None;
        }
        Err(e) => panic!("running openssl: {e}"),
    };
    child.stdin.take().unwrap().write_all(ciphertext).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl refused: {}", String::from_utf8_lossy(&out.stderr));
    Some(out.stdout)
}

#[test]
fn openssl_decrypts_what_every_backend_encrypts() {
    let secret = "张三 6214830000000000001".as_bytes();
    for backend in backends() {
        let keys = key_store(backend);
        for (serial, private_key) in [(PUB_KEY_ID, "wechatpay_key.pem"), (PLATFORM_SERIAL, "platform_key.pem")] {
            let key = keys.get(serial).unwrap();
            assert_eq!(key.backend(), backend);
            let b64 = key.encrypt_sensitive(secret).unwrap();
            let ciphertext = base64::engine::general_purpose::STANDARD.decode(&b64).unwrap();
            assert_eq!(ciphertext.len(), 256);
            let Some(plain) = openssl_decrypt(private_key, &ciphertext) else { return };
            assert_eq!(plain, secret, "{backend:?} {serial}");
        }
    }
}

#[test]
fn a_key_from_pem_encrypts_and_errors_show_no_plaintext() {
    for backend in backends() {
        let key = PublicKey::from_pem_with(&data("wechatpay_pub.pem"), backend).unwrap();
        let b64 = key.encrypt_sensitive(b"Li Si").unwrap();
        assert_ne!(b64, key.encrypt_sensitive(b"Li Si").unwrap(), "randomised");
        assert!(!format!("{key:?}").contains("Li Si"));
        let long = vec![b'9'; 215];
        let err = key.encrypt_sensitive(&long).unwrap_err();
        assert_eq!(err, EncryptError::TooLong { max: 214 });
        assert!(!format!("{err} {err:?}").contains("999"));
        if let Some(plain) =
            openssl_decrypt("wechatpay_key.pem", &base64::engine::general_purpose::STANDARD.decode(b64).unwrap())
        {
            assert_eq!(plain, b"Li Si");
        }
    }
}

#[test]
fn openssl_decrypts_the_fields_of_an_abnormal_refund() {
    use wechatpay_core::api::{ApplyAbnormalRefund, Operation, SensitiveField};
    use wechatpay_core::{MchId, OutRefundNo, RefundId};
    for backend in backends() {
        let keys = key_store(backend);
        let key = keys.get(PLATFORM_SERIAL).unwrap();
        let op = ApplyAbnormalRefund::user_bank_card(
            RefundId::new("50000000382019052709732678859").unwrap(),
            OutRefundNo::new("R1").unwrap(),
            "CMB_DEBIT",
            SensitiveField::encrypt(PLATFORM_SERIAL, key, b"6214830000000000001").unwrap(),
            SensitiveField::encrypt(PLATFORM_SERIAL, key, "张三".as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(op.wechatpay_serial(), Some(PLATFORM_SERIAL));
        let body: serde_json::Value = serde_json::from_slice(&op.body(&MchId::new(MCHID).unwrap()).unwrap()).unwrap();
        for (field, expected) in [("bank_account", "6214830000000000001"), ("real_name", "张三")] {
            let ciphertext = base64::engine::general_purpose::STANDARD.decode(body[field].as_str().unwrap()).unwrap();
            let Some(plain) = openssl_decrypt("platform_key.pem", &ciphertext) else { return };
            assert_eq!(String::from_utf8(plain).unwrap(), expected, "{backend:?} {field}");
        }
    }
}
