//! Platform certificates (PROTOCOL.md §9): the bootstrap rule on Python-made answers
//! (`data/certificates/make.py`), and the driver's downloads, refresh on an unknown serial,
//! rate limit and failure handling through closure transports.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::Engine as _;
use common::*;
use http::{HeaderMap, HeaderValue, StatusCode};
use wechatpay_core::api::DownloadCertificates;
use wechatpay_core::certificates::{
    BootstrapVerifier, CertificateError, CertificateRefresher, RefreshOutcome, SharedKeyStore, load_directory,
    save_directory, verify_download,
};
use wechatpay_core::transport::Driver;
use wechatpay_core::{
    ApiV3Key, Error, KeyStore, PrivateKey, TransportError, TransportErrorKind, VerificationFailure, api::Operation,
    crypto::Signer, crypto::Verifier, retry::RetryPolicy, unix_now,
};

const OLD: &str = PLATFORM_SERIAL;
const NEW: &str = "7A1B2C3D4E5F60718293A4B5C6D7E8F901234567";

/// `secs` Unix seconds as the `SystemTime` the checks take.
fn at(secs: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

fn apiv3_key() -> Arc<ApiV3Key> {
    Arc::new(
        ApiV3Key::from_file(format!("{}/tests/data/notifications/apiv3_key.txt", env!("CARGO_MANIFEST_DIR"))).unwrap(),
    )
}

fn headers_of(name: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    for line in text(&format!("certificates/{name}.headers")).lines() {
        let (k, v) = line.split_once(": ").unwrap();
        h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
    }
    h
}

fn check(name: &str, trusted: Option<Arc<dyn Verifier>>, now: u64) -> Result<Vec<String>, VerificationFailure> {
    let body = data(&format!("certificates/{name}.body"));
    verify_download(&headers_of(name), &body, apiv3_key(), trusted, at(now), 300)
        .map(|certs| certs.into_iter().map(|c| c.serial_no).collect())
}

fn cert_error(r: Result<Vec<String>, VerificationFailure>) -> CertificateError {
    match r {
        Err(VerificationFailure::Certificate(e)) => e,
        other => panic!("expected a certificate refusal, got {other:?}"),
    }
}

#[test]
fn the_bootstrap_rule_accepts_a_listed_signer_and_refuses_each_breach_on_its_own() {
    assert_eq!(check("bootstrap", None, TS).unwrap(), vec![OLD.to_owned(), NEW.to_owned()]);
    assert_eq!(check("signed_by_new", None, TS).unwrap().len(), 2);
    // (c) the timestamp window, both directions.
    assert!(matches!(check("bootstrap", None, TS + 301), Err(VerificationFailure::StaleTimestamp { .. })));
    assert!(matches!(check("bootstrap", None, TS - 301), Err(VerificationFailure::StaleTimestamp { .. })));
    // (a) every item decrypts.
    let e = cert_error(check("wrong_key", None, TS));
    assert!(matches!(&e, CertificateError::Decrypt { serial_no, .. } if serial_no == OLD), "{e:?}");
    assert!(e.to_string().contains("does not decrypt"), "{e}");
    // Each item is the RSA certificate it claims to be.
    let e = cert_error(check("serial_mismatch", None, TS));
    assert_eq!(e, CertificateError::SerialMismatch { serial_no: NEW.into(), actual: OLD.into() });
    let e = cert_error(check("not_rsa", None, TS));
    assert!(
        matches!(&e, CertificateError::NotUsable { serial_no, reason } if serial_no == NEW && reason.contains("RSA"))
    );
    // (b) the signer is listed, and its signature verifies.
    let e = cert_error(check("unlisted_signer", None, TS));
    assert_eq!(e, CertificateError::SignerNotListed { serial: OLD.into() });
    assert_eq!(check("bad_signature", None, TS), Err(VerificationFailure::SignatureMismatch));
    let e = cert_error(check("signed_by_public_key", None, TS));
    assert!(matches!(e, CertificateError::SignerNotListed { .. }));
}

#[test]
fn later_downloads_also_accept_a_trusted_signer_but_still_decrypt_every_item() {
    let trusted: Arc<dyn Verifier> = Arc::new(key_store(wechatpay_core::crypto::Backend::default()));
    assert_eq!(check("signed_by_public_key", Some(trusted.clone()), TS).unwrap(), vec![OLD.to_owned()]);
    // The old certificate is trusted: an answer it signs listing only the new one is fine.
    assert_eq!(check("unlisted_signer", Some(trusted.clone()), TS).unwrap(), vec![NEW.to_owned()]);
    // A trusted signer does not excuse an item that does not decrypt.
    assert!(matches!(cert_error(check("wrong_key", Some(trusted), TS)), CertificateError::Decrypt { .. }));
}

#[test]
fn the_operation_signs_the_target_it_sends() {
    let mchid = wechatpay_core::MchId::new(MCHID).unwrap();
    assert_eq!(DownloadCertificates::default().target(&mchid).to_string(), "/v3/certificates");
    let rsa = DownloadCertificates { algorithm_type_rsa: true };
    assert_eq!(rsa.target(&mchid).to_string(), "/v3/certificates?algorithm_type=RSA");
    let config = config();
    let request = wechatpay_core::prepare(
        &config,
        &rsa,
        wechatpay_core::Host::Primary,
        wechatpay_core::SigningInput::now().unwrap(),
    )
    .unwrap()
    .sign(config.signer())
    .unwrap();
    assert_eq!(request.uri().path_and_query().unwrap().as_str(), "/v3/certificates?algorithm_type=RSA");
    let auth = request.headers()["authorization"].to_str().unwrap();
    assert!(auth.starts_with("WECHATPAY2-SHA256-RSA2048 "));
}

// ---- the driver, with a "server" made of closures ----

/// A `/v3/certificates` body listing `certs` (serial, PEM file, expire_time), encrypted here
/// with the test APIv3 key (the decryption itself is tested against Python above).
fn list_body(certs: &[(&str, &str, &str)]) -> Vec<u8> {
    let key = std::fs::read(format!("{}/tests/data/notifications/apiv3_key.txt", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key[..32]).unwrap();
    let items: Vec<serde_json::Value> = certs
        .iter()
        .enumerate()
        .map(|(i, (serial, file, expire))| {
            let nonce = format!("nonce{i:07}");
            let payload = Payload { msg: &data(file), aad: b"certificate" };
            let sealed = cipher.encrypt(nonce.as_bytes().into(), payload).unwrap();
            serde_json::json!({"serial_no": serial, "effective_time": "2020-01-01T00:00:00+08:00", "expire_time": expire,
                "encrypt_certificate": {"algorithm": "AEAD_AES_256_GCM", "nonce": nonce, "associated_data": "certificate",
                "ciphertext": base64::engine::general_purpose::STANDARD.encode(sealed)}})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "data": items })).unwrap()
}

const FAR: &str = "2099-01-01T00:00:00+08:00";

/// An answer signed now by the key of `serial`.
fn signed(status: u16, body: &[u8], serial: &str) -> http::Response<Vec<u8>> {
    let file = match serial {
        OLD => "platform_key.pem",
        NEW => "certificates/platform2_key.pem",
        _ => "wechatpay_key.pem",
    };
    let ts = unix_now().to_string();
    let message = [ts.as_bytes(), b"\nNONCE\n", body, b"\n"].concat();
    let sig = base64::engine::general_purpose::STANDARD
        .encode(PrivateKey::from_pem(&data(file)).unwrap().sign(&message).unwrap());
    http::Response::builder()
        .status(status)
        .header("Wechatpay-Timestamp", ts)
        .header("Wechatpay-Nonce", "NONCE")
        .header("Wechatpay-Signature", sig)
        .header("Wechatpay-Serial", serial)
        .body(body.to_vec())
        .unwrap()
}

/// The simulated WeChat Pay: `/v3/certificates` answers with `certs()`, queries are
/// answered signed by `*signer`; counts certificate downloads.
struct Server {
    certs: Mutex<Box<dyn Fn() -> http::Response<Vec<u8>> + Send>>,
    signer: Mutex<String>,
    downloads: AtomicUsize,
}

impl Server {
    fn new(certs: impl Fn() -> http::Response<Vec<u8>> + Send + 'static, signer: &str) -> Arc<Self> {
        Arc::new(Self {
            certs: Mutex::new(Box::new(certs)),
            signer: Mutex::new(signer.into()),
            downloads: AtomicUsize::new(0),
        })
    }

    fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        if request.uri().path() == "/v3/certificates" {
            self.downloads.fetch_add(1, Ordering::SeqCst);
            return Ok((self.certs.lock().unwrap())());
        }
        Ok(signed(200, &data("responses/direct_seed.json"), &self.signer.lock().unwrap()))
    }
}

fn refresher(keys: KeyStore) -> Arc<CertificateRefresher> {
    let key =
        ApiV3Key::from_file(format!("{}/tests/data/notifications/apiv3_key.txt", env!("CARGO_MANIFEST_DIR"))).unwrap();
    Arc::new(CertificateRefresher::new(key, keys))
}

fn only_old() -> KeyStore {
    let mut keys = KeyStore::new();
    keys.add_platform_certificates(&data("platform_cert.pem")).unwrap();
    keys
}

fn driver_with(refresher: &Arc<CertificateRefresher>) -> Driver {
    Driver::new(config()).with_retry_policy(RetryPolicy::none()).with_certificate_refresher(refresher.clone())
}

fn query() -> wechatpay_core::api::QueryOrderByOutTradeNo {
    wechatpay_core::api::QueryOrderByOutTradeNo {
        out_trade_no: wechatpay_core::OutTradeNo::new(DIRECT_SEED_NO).unwrap(),
    }
}

#[test]
fn a_first_download_bootstraps_from_no_key_at_all() {
    let server = Server::new(|| signed(200, &list_body(&[(OLD, "platform_cert.pem", FAR)]), OLD), OLD);
    let r = refresher(KeyStore::new());
    let driver = driver_with(&r);
    let send = |req| server.send(req);
    let outcome = driver.refresh_certificates(&send, |_| {}).unwrap();
    let RefreshOutcome::Installed { certificates, dropped } = outcome else { panic!("{outcome:?}") };
    assert_eq!((certificates.len(), certificates[0].serial_no.as_str(), dropped.len()), (1, OLD, 0));
    assert!(certificates[0].pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(r.keys().knows(OLD));
    assert_eq!(driver.execute(&send, |_| {}, &query()).unwrap().out_trade_no, DIRECT_SEED_NO);
    // Next download in 6 h.
    let wait = r.next_refresh_in(SystemTime::now());
    assert!(wait > std::time::Duration::from_secs(6 * 3600 - 60) && wait <= std::time::Duration::from_secs(6 * 3600));
}

/// A rotation through the blocking driver: the old certificate alone; the new one listed;
/// answers switching to it; the old one expired and dropped. No query fails.
#[test]
fn a_rotation_never_fails_a_query() {
    let listing = Arc::new(Mutex::new(vec![(OLD, "platform_cert.pem", FAR)]));
    let signer_of_list = Arc::new(Mutex::new(OLD));
    let (l, s) = (listing.clone(), signer_of_list.clone());
    let server = Server::new(move || signed(200, &list_body(&l.lock().unwrap()), *s.lock().unwrap()), OLD);
    let r = refresher(only_old());
    let driver = driver_with(&r);
    let send = |req| server.send(req);
    driver.execute(&send, |_| {}, &query()).unwrap();
    assert_eq!(server.downloads.load(Ordering::SeqCst), 0);
    // The new certificate is listed beside the old; a scheduled refresh picks it up.
    listing.lock().unwrap().push((NEW, "certificates/platform2_cert.pem", FAR));
    driver.refresh_certificates(&send, |_| {}).unwrap();
    assert!(r.keys().knows(NEW) && r.keys().knows(OLD));
    // Answers switch serial: verified with no further download.
    *server.signer.lock().unwrap() = NEW.into();
    driver.execute(&send, |_| {}, &query()).unwrap();
    assert_eq!(server.downloads.load(Ordering::SeqCst), 1);
    // The old certificate's expire_time passes: the next download drops it.
    *listing.lock().unwrap() =
        vec![(OLD, "platform_cert.pem", "2020-06-01T00:00:00+08:00"), (NEW, "certificates/platform2_cert.pem", FAR)];
    *signer_of_list.lock().unwrap() = NEW;
    let RefreshOutcome::Installed { dropped, .. } = driver.refresh_certificates(&send, |_| {}).unwrap() else {
        panic!()
    };
    assert_eq!(dropped, vec![OLD.to_owned()]);
    assert!(!r.keys().knows(OLD) && r.keys().knows(NEW));
    driver.execute(&send, |_| {}, &query()).unwrap();
}

#[test]
fn an_answer_by_an_unknown_serial_refreshes_once_then_verifies_and_the_refresh_is_rate_limited() {
    let list = list_body(&[(OLD, "platform_cert.pem", FAR), (NEW, "certificates/platform2_cert.pem", FAR)]);
    let server = Server::new(move || signed(200, &list, OLD), NEW);
    let r = refresher(only_old());
    let driver = driver_with(&r);
    let send = |req| server.send(req);
    // Signed by NEW, which is not held yet: one download, then it verifies.
    assert_eq!(driver.execute(&send, |_| {}, &query()).unwrap().out_trade_no, DIRECT_SEED_NO);
    assert_eq!(server.downloads.load(Ordering::SeqCst), 1);
    // A serial nobody lists: the query fails as unknown serial, and within the rate limit
    // no further download happens however often it comes.
    *server.signer.lock().unwrap() = "PUB_KEY_ID_0114232019092600000000000000000001".into();
    for _ in 0..3 {
        let err = driver.execute(&send, |_| {}, &query()).unwrap_err();
        assert!(
            matches!(&err, Error::Verification(v) if matches!(v.failure, VerificationFailure::UnknownSerial(_))),
            "{err:?}"
        );
    }
    assert_eq!(server.downloads.load(Ordering::SeqCst), 1);
}

#[test]
fn a_failed_refresh_keeps_the_old_set_and_backs_off() {
    let server = Server::new(|| signed(500, br#"{"code":"SYSTEM_ERROR","message":"busy"}"#, OLD), NEW);
    let r = refresher(only_old());
    let driver = driver_with(&r);
    let send = |req| server.send(req);
    let err = driver.execute(&send, |_| {}, &query()).unwrap_err();
    assert!(matches!(&err, Error::Verification(v) if matches!(v.failure, VerificationFailure::UnknownSerial(_))));
    assert_eq!(server.downloads.load(Ordering::SeqCst), 1);
    assert!(r.keys().knows(OLD));
    *server.signer.lock().unwrap() = OLD.into();
    driver.execute(&send, |_| {}, &query()).unwrap();
    // After one failure: retry in a minute, not six hours.
    let wait = r.next_refresh_in(SystemTime::now());
    assert!(wait <= std::time::Duration::from_secs(60), "{wait:?}");
    // A transport failure of a scheduled refresh is an error, and changes nothing.
    let down = |_req: http::Request<Vec<u8>>| Err(TransportError::of_kind(TransportErrorKind::Connect));
    assert!(matches!(driver.refresh_certificates(&down, |_| {}), Err(Error::Transport(_))));
    assert!(r.keys().knows(OLD));
}

#[test]
fn resource_not_exists_means_use_the_public_key() {
    let body = r#"{"code":"RESOURCE_NOT_EXISTS","message":"无可用的平台证书，请使用微信支付公钥"}"#.as_bytes();
    let r = refresher(key_store(wechatpay_core::crypto::Backend::default()));
    let driver = driver_with(&r);
    let send = |_req: http::Request<Vec<u8>>| {
        let mut resp = http::Response::new(body.to_vec());
        *resp.status_mut() = StatusCode::NOT_FOUND;
        Ok::<_, TransportError>(resp)
    };
    assert_eq!(driver.refresh_certificates(&send, |_| {}).unwrap(), RefreshOutcome::NoPlatformCertificates);
    // Not a failure: the next download is a normal interval away.
    assert!(r.next_refresh_in(SystemTime::now()) > std::time::Duration::from_secs(3600));
}

#[test]
fn the_async_driver_refreshes_on_an_unknown_serial_too() {
    let list = list_body(&[(OLD, "platform_cert.pem", FAR), (NEW, "certificates/platform2_cert.pem", FAR)]);
    let server = Server::new(move || signed(200, &list, OLD), NEW);
    let r = refresher(only_old());
    let driver = driver_with(&r);
    let send = |req| std::future::ready(server.send(req));
    let order = block_on(driver.execute_async(&send, |_| std::future::ready(()), &query())).unwrap();
    assert_eq!(order.out_trade_no, DIRECT_SEED_NO);
    assert_eq!(server.downloads.load(Ordering::SeqCst), 1);
    let outcome = block_on(driver.refresh_certificates_async(&send, |_| std::future::ready(()))).unwrap();
    assert!(matches!(outcome, RefreshOutcome::Installed { .. }));
}

#[test]
fn a_driver_without_a_refresher_says_so() {
    let send = |_req: http::Request<Vec<u8>>| Err(TransportError::of_kind(TransportErrorKind::Connect));
    let err = Driver::new(config()).refresh_certificates(&send, |_| {}).unwrap_err();
    assert!(err.to_string().contains("certificate_refresher"), "{err}");
}

#[test]
fn the_shared_key_set_is_swapped_whole_while_verifying() {
    // Two sets that both hold OLD: a verification by OLD never fails whichever it sees, and
    // one by NEW succeeds only against the set that holds it (never a half-built one).
    let shared = SharedKeyStore::new(only_old());
    let mut both = only_old();
    both.add_platform_certificates(&data("certificates/platform2_cert.pem")).unwrap();
    let message = b"1554208460\nNONCE\n{}\n";
    let sig = PrivateKey::from_pem(&data("platform_key.pem")).unwrap().sign(message).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                for _ in 0..300 {
                    let snapshot = shared.snapshot();
                    assert!(snapshot.verify(OLD, message, &sig).is_ok());
                    assert!(shared.verify(OLD, message, &sig).is_ok());
                }
            });
        }
        scope.spawn(|| {
            for i in 0..300 {
                shared.replace(if i % 2 == 0 { both.clone() } else { only_old() });
            }
        });
    });
    assert!(format!("{shared:?}").contains(OLD));
}

#[test]
fn a_bootstrap_verifier_never_says_a_serial_is_unknown_before_reading_the_body() {
    let v = BootstrapVerifier::new(apiv3_key(), None);
    assert!(v.knows("ANYTHING"));
    let err = v.verify("X", b"no body here", &[0; 256]).unwrap_err();
    match &err {
        wechatpay_core::crypto::VerifyError::Other(other) => {
            assert_eq!(other.downcast_ref::<CertificateError>(), Some(&CertificateError::Malformed));
        }
        other => panic!("expected the certificate refusal carried opaquely, got {other:?}"),
    }
}

#[test]
fn certificates_are_saved_to_and_loaded_from_a_directory() {
    let dir = std::env::temp_dir().join(format!("wechatpay-certs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let headers = headers_of("bootstrap");
    let certs =
        verify_download(&headers, &data("certificates/bootstrap.body"), apiv3_key(), None, at(TS), 300).unwrap();
    let paths = save_directory(&dir.join("sub"), &certs).unwrap();
    assert_eq!(paths[0].file_name().unwrap().to_str().unwrap(), format!("wechatpay_{OLD}.pem"));
    let mut keys = KeyStore::new();
    let mut loaded = load_directory(&mut keys, &dir.join("sub")).unwrap();
    loaded.sort();
    assert_eq!(loaded, vec![OLD.to_owned(), NEW.to_owned()]);
    // A refresher started on that directory trusts them without the network.
    let key =
        ApiV3Key::from_file(format!("{}/tests/data/notifications/apiv3_key.txt", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let r = CertificateRefresher::new(key, KeyStore::new()).with_directory(dir.join("sub")).unwrap();
    assert!(r.keys().knows(NEW));
    std::fs::write(dir.join("sub").join("junk.pem"), "not a certificate").unwrap();
    assert!(load_directory(&mut KeyStore::new(), &dir.join("sub")).unwrap_err().to_string().contains("junk.pem"));
    std::fs::remove_dir_all(&dir).unwrap();
}
