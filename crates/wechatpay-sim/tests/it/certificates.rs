//! `GET /v3/certificates`, public-key-only mode, rotation and notifications, over real
//! loopback HTTP, checked with the core (decryption, signature verification, parsing).

use crate::common;

use common::{Response, call, config, send, signed_raw};
use serde_json::Value;
use wechatpay_core::api::QueryOrderByOutTradeNo;
use wechatpay_core::notify::Receiver;
use wechatpay_core::notify::Resource;
use wechatpay_core::{ApiV3Key, EncryptedResource, Error, KeyStore, MchId, OutTradeNo, VerificationFailure, unix_now};
use wechatpay_core::{signature_headers, verify_signature};
use wechatpay_sim::notification::Event;
use wechatpay_sim::{Route, SigningKeyChoice, Simulator};

const KEY: &str = "0123456789abcdefghijABCDEFGHIJ+/";
const BUILTIN_SERIAL: &str = wechatpay_sim::Credentials::builtin().platform_serial();
const PUBLIC_KEY_ID: &str = wechatpay_sim::Credentials::builtin().wechatpay_public_key_id();

/// One listed certificate, decrypted.
struct Listed {
    serial_no: String,
    effective_time: String,
    expire_time: String,
    pem: String,
}

fn download(sim: &Simulator, target: &str) -> Response {
    let config = config(sim);
    send(sim.addr(), &signed_raw(&config, target)).expect("as the simulator sends it")
}

/// Decrypts every item of a `200` answer with `key`, checking the item's shape.
fn decrypt_all(resp: &Response, key: &str) -> Vec<Listed> {
    assert_eq!(resp.status, 200);
    let key = ApiV3Key::new(key).expect("as the simulator sends it");
    let mut out = Vec::new();
    for item in resp.json()["data"].as_array().expect("as the simulator sends it") {
        let e = &item["encrypt_certificate"];
        assert_eq!(e["algorithm"], "AEAD_AES_256_GCM");
        assert_eq!(e["associated_data"], "certificate");
        let nonce = e["nonce"].as_str().expect("as the simulator sends it");
        assert_eq!(nonce.len(), 12);
        let resource = EncryptedResource::new(
            e["ciphertext"].as_str().expect("as the simulator sends it"),
            nonce,
            Some("certificate".to_owned()),
        );
        let text = |name: &str| item[name].as_str().expect("as the simulator sends it").to_owned();
        for time in ["effective_time", "expire_time"] {
            assert!(text(time).ends_with("+08:00") && text(time).len() == 25, "{}", text(time));
        }
        out.push(Listed {
            serial_no: text("serial_no"),
            effective_time: text("effective_time"),
            expire_time: text("expire_time"),
            pem: key.decrypt_certificate(&resource).expect("as the simulator sends it"),
        });
    }
    out
}

/// A key store holding exactly the listed certificates, each under the serial its PEM has.
fn store_of(listed: &[Listed]) -> KeyStore {
    let mut store = KeyStore::new();
    for item in listed {
        assert_eq!(
            store.add_platform_certificates(item.pem.as_bytes()).expect("as the simulator sends it"),
            vec![item.serial_no.clone()]
        );
    }
    store
}

/// Verifies `resp`'s signature with `store`.
fn verifies(resp: &Response, store: &KeyStore) -> Result<(), VerificationFailure> {
    let sig = signature_headers(&resp.headers)?;
    verify_signature(store, &sig, &resp.body, std::time::SystemTime::now(), 300)
}

#[test]
fn the_list_decrypts_and_its_certificate_verifies_the_answer() {
    let sim = Simulator::builder().apiv3_key(KEY).signing(SigningKeyChoice::PlatformCertificate).start().unwrap();
    assert_eq!(sim.apiv3_key(), KEY);
    let resp = download(&sim, "/v3/certificates?algorithm_type=RSA");
    let listed = decrypt_all(&resp, KEY);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].serial_no, BUILTIN_SERIAL);
    assert_eq!(listed[0].pem, sim.credentials().platform_certificate_pem());
    assert_eq!(
        (listed[0].effective_time.as_str(), listed[0].expire_time.as_str()),
        ("2026-11-23T22:06:01+08:00", "2031-11-22T22:06:01+08:00")
    );
    // Bootstrap (PROTOCOL.md §9): the answer's serial is among the listed, and its signature
    // verifies with the certificate just decrypted.
    assert_eq!(resp.header("wechatpay-serial"), Some(BUILTIN_SERIAL));
    verifies(&resp, &store_of(&listed)).unwrap();
    assert_eq!(sim.requests_for(Route::Certificates), 1);

    // Without the query too; another algorithm is a parameter error; a wrong key fails.
    assert_eq!(decrypt_all(&download(&sim, "/v3/certificates"), KEY).len(), 1);
    let bad = download(&sim, "/v3/certificates?algorithm_type=SM2");
    assert_eq!((bad.status.as_u16(), bad.json()["code"].as_str()), (400, Some("PARAM_ERROR")));
    let e = &download(&sim, "/v3/certificates").json()["data"][0]["encrypt_certificate"];
    let resource = EncryptedResource::new(
        e["ciphertext"].as_str().unwrap(),
        e["nonce"].as_str().unwrap(),
        Some("certificate".into()),
    );
    assert!(ApiV3Key::new("X123456789abcdefghijABCDEFGHIJ+/").unwrap().decrypt_certificate(&resource).is_err());
}

#[test]
fn each_item_gets_a_fresh_nonce_and_the_default_key_is_random() {
    let sim = Simulator::start().unwrap();
    assert_eq!(sim.apiv3_key().len(), 32);
    ApiV3Key::new(sim.apiv3_key()).unwrap();
    assert_ne!(sim.apiv3_key(), Simulator::start().unwrap().apiv3_key());
    let nonce = |r: &Response| r.json()["data"][0]["encrypt_certificate"]["nonce"].as_str().unwrap().to_owned();
    let (a, b) = (download(&sim, "/v3/certificates"), download(&sim, "/v3/certificates"));
    assert_ne!(nonce(&a), nonce(&b));
    assert_eq!(decrypt_all(&a, sim.apiv3_key())[0].pem, decrypt_all(&b, sim.apiv3_key())[0].pem);
    // By default (issue 18) a listed platform certificate signs the download, as WeChat Pay
    // does for merchants that have them, so a client holding no key can bootstrap; other
    // answers are signed by the public key.
    assert_eq!(a.header("wechatpay-serial"), Some(BUILTIN_SERIAL));
    let mut platform_only = KeyStore::new();
    platform_only.add_platform_certificates(sim.platform_certificates_pem().as_bytes()).unwrap();
    verifies(&a, &platform_only).unwrap();
    let query = send(
        sim.addr(),
        &signed_raw(&config(&sim), "/v3/pay/transactions/out-trade-no/SIM_NOTPAY_0001?mchid=1230000109"),
    );
    assert_eq!(query.unwrap().header("wechatpay-serial"), Some(PUBLIC_KEY_ID));
    // A signing key chosen explicitly signs the download like any answer.
    let chosen = Simulator::builder().signing(SigningKeyChoice::PublicKey).start().unwrap();
    assert_eq!(download(&chosen, "/v3/certificates").header("wechatpay-serial"), Some(PUBLIC_KEY_ID));

    let err = Simulator::builder().apiv3_key("too short").start().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("APIv3 key"), "{err}");
}

#[test]
fn public_key_only_answers_a_signed_404_and_signs_with_the_public_key() {
    let sim =
        Simulator::builder().public_key_only(true).signing(SigningKeyChoice::PlatformCertificate).start().unwrap();
    assert!(sim.is_public_key_only() && sim.platform_serials().is_empty());
    let resp = download(&sim, "/v3/certificates");
    let body = resp.json();
    assert_eq!((resp.status.as_u16(), body["code"].as_str()), (404, Some("RESOURCE_NOT_EXISTS")));
    assert_eq!(body["message"], "无可用的平台证书，请使用微信支付公钥");
    assert_eq!(resp.header("wechatpay-serial"), Some(PUBLIC_KEY_ID));
    let mut public_only = KeyStore::new();
    public_only.add_public_key(PUBLIC_KEY_ID, sim.credentials().wechatpay_public_key_pem().as_bytes()).unwrap();
    verifies(&resp, &public_only).unwrap();

    // A request asking for the platform certificate still gets the public key.
    let asking = sim.config_builder().wechatpay_serial(BUILTIN_SERIAL).build().unwrap();
    let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018").unwrap() };
    let resp = send(sim.addr(), &common::signed(&asking, &op)).unwrap();
    assert_eq!(resp.header("wechatpay-serial"), Some(PUBLIC_KEY_ID));
    assert!(sim.rotate_certificate().is_err());
}

#[test]
fn rotation_lists_the_new_certificate_then_signs_with_it() {
    let sim = Simulator::builder().apiv3_key(KEY).signing(SigningKeyChoice::PlatformCertificate).start().unwrap();
    let config = config(&sim);
    let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018").unwrap() };
    assert_eq!(sim.platform_serials(), [BUILTIN_SERIAL]);
    assert_eq!(sim.signing_serial(), BUILTIN_SERIAL);

    // Step 1: announced. Both listed, the old one expiring within a day, still signing.
    let new = sim.rotate_certificate().unwrap();
    assert!(sim.rotation_pending());
    assert_ne!(new, BUILTIN_SERIAL);
    assert_eq!(sim.platform_serials(), [BUILTIN_SERIAL, new.as_str()]);
    let resp = download(&sim, "/v3/certificates");
    let listed = decrypt_all(&resp, KEY);
    assert_eq!(listed.iter().map(|l| l.serial_no.as_str()).collect::<Vec<_>>(), [BUILTIN_SERIAL, new.as_str()]);
    let expire = wechatpay_core::model::Rfc3339::parse(&listed[0].expire_time).unwrap().unix_timestamp();
    let in_a_day = i64::try_from(unix_now()).unwrap() + 24 * 3600;
    assert!((in_a_day - 60..=in_a_day + 60).contains(&expire), "shortened to a day: {}", listed[0].expire_time);
    assert!(listed[1].expire_time > listed[0].expire_time);
    assert_eq!(listed[1].pem, sim.platform_certificates_pem().split_at(listed[0].pem.len()).1);
    assert_eq!(resp.header("wechatpay-serial"), Some(BUILTIN_SERIAL));
    call(&sim, &config, &op).unwrap();

    // Step 2: the new certificate signs; a client holding only the old one cannot verify,
    // one holding the downloaded list can.
    assert_eq!(sim.rotate_certificate().unwrap(), new);
    assert!(!sim.rotation_pending());
    assert_eq!(sim.signing_serial(), new);
    match call(&sim, &config, &op) {
        Err(Error::Verification(e)) => assert_eq!(e.failure, VerificationFailure::UnknownSerial(new.clone())),
        other => panic!("expected an unknown serial, got {other:?}"),
    }
    let refreshed = sim.config_builder().verifier(store_of(&listed)).build().unwrap();
    assert_eq!(call(&sim, &refreshed, &op).unwrap().out_trade_no, "1217752501201407033233368018");
    // Naming the old serial does not bring it back; naming the public key does.
    let asking_old = sim.config_builder().verifier(store_of(&listed)).wechatpay_serial(BUILTIN_SERIAL).build().unwrap();
    let resp = send(sim.addr(), &common::signed(&asking_old, &op)).unwrap();
    assert_eq!(resp.header("wechatpay-serial"), Some(new.as_str()));
    let asking_public = sim.config_builder().wechatpay_serial(PUBLIC_KEY_ID).build().unwrap();
    assert!(call(&sim, &asking_public, &op).is_ok());

    // Step 3: the next rotation drops the certificate that no longer signs.
    let third = sim.rotate_certificate().unwrap();
    assert_eq!(sim.platform_serials(), [new.as_str(), third.as_str()]);
}

#[test]
fn a_built_notification_passes_the_core() {
    let sim = Simulator::builder().apiv3_key(KEY).signing(SigningKeyChoice::PlatformCertificate).start().unwrap();
    let order = r#"{"mchid":"1230000109","appid":"wxd678efh567hg6787","out_trade_no":"SIM_NOTPAY_0001","transaction_id":"4200000985202103031441826015","trade_state":"SUCCESS","trade_state_desc":"支付成功","amount":{"total":100,"currency":"CNY"}}"#;
    let event = Event::transaction_success(order.as_bytes().to_vec()).unwrap();
    let signed = sim.notification(&event).unwrap();
    assert_eq!(signed.header("wechatpay-serial"), Some(BUILTIN_SERIAL));
    assert_eq!(signed.header("wechatpay-signature-type"), Some("WECHATPAY2-SHA256-RSA2048"));
    let envelope: Value = serde_json::from_slice(&signed.body).unwrap();
    assert_eq!(envelope["event_type"], "TRANSACTION.SUCCESS");
    assert_eq!(envelope["resource"]["original_type"], "transaction");
    assert!(envelope["create_time"].as_str().unwrap().ends_with("+08:00"));

    let request = signed.to_request("http://127.0.0.1:9/notify").unwrap();
    let config = config(&sim);
    let receiver = |mchid: &str| {
        let key = ApiV3Key::new(sim.apiv3_key()).unwrap();
        Receiver::new(config.shared_verifier(), key, MchId::new(mchid).unwrap())
    };
    let n = receiver("1230000109").receive_request(&request).unwrap();
    assert_eq!(n.id, event.id);
    match n.resource {
        Resource::Transaction(t) => assert_eq!(t.out_trade_no, "SIM_NOTPAY_0001"),
        other => panic!("expected a transaction, got {other:?}"),
    }
    // Another merchant's endpoint refuses it.
    assert!(receiver("1230000110").receive_request(&request).is_err());
}
