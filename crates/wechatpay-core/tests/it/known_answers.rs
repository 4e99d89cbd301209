//! Known-answer tests against vectors produced by OpenSSL (see tests/data/gen-kat.sh).
#![allow(clippy::unwrap_used)]

use crate::common;

use base64::Engine as _;
use common::*;
use http::StatusCode;
use wechatpay_core::api::*;
use wechatpay_core::{Host, Nonce, OutTradeNo, PrivateKey, SigningInput, SubMchId, TransactionId, crypto::Signer};

fn input() -> SigningInput {
    SigningInput::new(TS, Nonce::new(NONCE).unwrap())
}

fn check<Op: wechatpay_core::api::Operation>(name: &str, op: &Op) {
    let expected_msg = text(&format!("kat/req_{name}.msg"));
    let expected_target = text(&format!("kat/req_{name}.target"));
    let expected_sig = text(&format!("kat/req_{name}.sig"));
    for backend in backends() {
        let config = config_with(backend);
        let prepared = wechatpay_core::prepare(&config, op, Host::Primary, input()).unwrap();
        assert_eq!(prepared.string_to_sign(), expected_msg, "{name}");
        assert_eq!(prepared.path_and_query(), expected_target, "{name}");
        let request = prepared.sign(config.signer()).unwrap();
        assert_eq!(request.uri().to_string(), format!("https://api.mch.weixin.qq.com{expected_target}"));
        let auth = request.headers()["authorization"].to_str().unwrap();
        assert_eq!(
            auth,
            format!(
                "WECHATPAY2-SHA256-RSA2048 mchid=\"{MCHID}\",nonce_str=\"{NONCE}\",signature=\"{expected_sig}\",timestamp=\"{TS}\",serial_no=\"{MERCHANT_SERIAL}\""
            ),
            "{name} with {backend:?}"
        );
        assert!(request.headers()["authorization"].is_sensitive());
        assert_eq!(request.headers()["accept"], "application/json");
        assert!(request.headers()["user-agent"].to_str().unwrap().starts_with("wechatpay-core/"));
        assert!(request.body().is_empty());
    }
}

#[test]
fn every_operation_matches_openssl() {
    let no = OutTradeNo::new("1217752501201407033233368018").unwrap();
    let id = TransactionId::new("4200000985202103031441826014").unwrap();
    let sub = SubMchId::new("1900000109").unwrap();
    check("direct_out_trade_no", &QueryOrderByOutTradeNo { out_trade_no: no.clone() });
    check("direct_id", &QueryOrderByTransactionId { transaction_id: id.clone() });
    check("partner_out_trade_no", &QueryPartnerOrderByOutTradeNo { sub_mchid: sub.clone(), out_trade_no: no });
    check("partner_id", &QueryPartnerOrderByTransactionId { sub_mchid: sub.clone(), transaction_id: id });
    let parking = OutTradeNo::new("20150806125346").unwrap();
    check("parking_sp", &QueryParkingOrder { out_trade_no: parking.clone(), sub_mchid: Some(sub) });
    check("parking_merchant", &QueryParkingOrder { out_trade_no: parking, sub_mchid: None });
    check("direct_pipe", &QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("A|B*c-d_e").unwrap() });
}

#[test]
fn pkcs1_pkcs8_and_der_sign_identically() {
    let msg = data("kat/req_direct_id.msg");
    let expected = base64::engine::general_purpose::STANDARD.decode(text("kat/req_direct_id.sig")).unwrap();
    for backend in backends() {
        for key in [
            PrivateKey::from_pem_with(&data("merchant_key.pem"), backend).unwrap(),
            PrivateKey::from_pem_with(&data("merchant_key_pkcs1.pem"), backend).unwrap(),
            PrivateKey::from_der_with(&data("merchant_key.der"), backend).unwrap(),
        ] {
            assert_eq!(key.bits(), 2048);
            assert_eq!(key.sign(&msg).unwrap(), expected, "{backend:?}");
        }
    }
}

#[cfg(all(feature = "aws-lc-rs", feature = "rustcrypto"))]
#[test]
fn backends_produce_identical_signatures_and_accept_each_other() {
    use wechatpay_core::{PublicKey, crypto::Backend};
    let aws = PrivateKey::from_pem_with(&data("merchant_key.pem"), Backend::AwsLcRs).unwrap();
    let rc = PrivateKey::from_pem_with(&data("merchant_key.pem"), Backend::RustCrypto).unwrap();
    let aws_pub = PublicKey::from_pem_with(&data("merchant_pub.pem"), Backend::AwsLcRs).unwrap();
    let rc_pub = PublicKey::from_pem_with(&data("merchant_pub.pem"), Backend::RustCrypto).unwrap();
    for msg in [&b""[..], b"x", b"GET\n/v3/a\n1\nn\n\n", &[0u8; 5000]] {
        let a = aws.sign(msg).unwrap();
        let r = rc.sign(msg).unwrap();
        assert_eq!(a, r);
        rc_pub.verify(msg, &a).unwrap();
        aws_pub.verify(msg, &r).unwrap();
    }
}

#[test]
fn openssl_signed_responses_verify_and_parse() {
    for backend in backends() {
        let config = config_with(backend);
        for (name, body, serial) in [
            ("direct_pubkey", "responses/direct_seed.json", PUB_KEY_ID),
            ("parking_pubkey", "responses/parking_seed.json", PUB_KEY_ID),
            ("parking_cert", "responses/parking_seed.json", PLATFORM_SERIAL),
        ] {
            let body = data(body);
            let mut headers = http::HeaderMap::new();
            headers.insert("wechatpay-timestamp", TS.to_string().parse().unwrap());
            headers.insert("wechatpay-nonce", NONCE.parse().unwrap());
            headers.insert("wechatpay-signature", text(&format!("kat/resp_{name}.sig")).parse().unwrap());
            headers.insert("wechatpay-serial", serial.parse().unwrap());
            if name.starts_with("direct") {
                let t = config.parse_at::<QueryOrderByOutTradeNo>(StatusCode::OK, &headers, &body, TS).unwrap();
                assert_eq!(t.out_trade_no, "1217752501201407033233368018");
            } else {
                let t = config.parse_at::<QueryParkingOrder>(StatusCode::OK, &headers, &body, TS + 299).unwrap();
                assert_eq!(t.out_trade_no, "20150806125346");
            }
        }
    }
}

#[test]
fn an_external_signature_finishes_the_same_request() {
    // As with an HSM or KMS: read the string-to-sign, sign elsewhere (here: OpenSSL's
    // answer), and finish. The result equals signing in-process.
    let config = config();
    let op = QueryOrderByTransactionId { transaction_id: TransactionId::new("4200000985202103031441826014").unwrap() };
    let prepared = wechatpay_core::prepare(&config, &op, Host::Backup, input()).unwrap();
    assert_eq!(prepared.string_to_sign(), text("kat/req_direct_id.msg"));
    let external = base64::engine::general_purpose::STANDARD.decode(text("kat/req_direct_id.sig")).unwrap();
    let finished = prepared.finish(&external);
    let signed = wechatpay_core::prepare(&config, &op, Host::Backup, input()).unwrap().sign(config.signer()).unwrap();
    assert_eq!(finished.headers()["authorization"], signed.headers()["authorization"]);
    assert_eq!(finished.uri(), signed.uri());
    assert_eq!(finished.uri().host(), Some("api2.mch.weixin.qq.com"));
    assert!(!format!("{finished:?}").contains(&text("kat/req_direct_id.sig")[..40]), "Debug hides the signature");
}

#[test]
fn a_signed_message_verifies_from_its_parts_however_split() {
    use wechatpay_core::{crypto::Verifier, crypto::VerifyError};

    /// A verifier that only has `verify`: the trait's default `verify_parts` joins the parts.
    #[derive(Debug)]
    struct JoinsParts(wechatpay_core::KeyStore);
    impl Verifier for JoinsParts {
        fn knows(&self, serial: &str) -> bool {
            self.0.knows(serial)
        }
        fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
            self.0.verify(serial, message, signature)
        }
    }

    // OpenSSL's signature of a response's message (see tests/data/gen-kat.sh).
    let message = data("kat/resp_direct_pubkey.msg");
    let signature = base64::engine::general_purpose::STANDARD.decode(text("kat/resp_direct_pubkey.sig")).unwrap();
    for backend in backends() {
        let store = key_store(backend);
        let joins = JoinsParts(key_store(backend));
        for cut in [0, 1, 10, message.len() / 2, message.len()] {
            let (a, b) = message.split_at(cut);
            for verifier in [&store as &dyn Verifier, &joins] {
                verifier.verify_parts(PUB_KEY_ID, &[a, b], &signature).unwrap();
                verifier.verify_parts(PUB_KEY_ID, &[a, b"", b], &signature).unwrap();
                assert_eq!(
                    verifier.verify_parts(PUB_KEY_ID, &[a, b"x", b], &signature),
                    Err(VerifyError::Mismatch),
                    "{backend:?}, cut at {cut}"
                );
                assert_eq!(
                    verifier.verify_parts("PUB_KEY_ID_other", &[a, b], &signature),
                    Err(VerifyError::UnknownSerial)
                );
            }
        }
    }
}
