//! Platform certificates through both adapters against the simulator: bootstrap, a whole
//! rotation with no failed query, background refresh, and the public-key-only merchant.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use wechatpay_core::certificates::{CertificateRefresher, RefreshOutcome};
use wechatpay_core::{ApiV3Key, KeyStore, crypto::Verifier, retry::RetryPolicy, transport::Driver};
use wechatpay_sim::{SigningKeyChoice, Simulator};
use wechatpay_tests::{Adapter, by_out_trade_no};

const SEED: &str = "1217752501201407033233368018";

fn platform_sim() -> Simulator {
    Simulator::builder().signing(SigningKeyChoice::PlatformCertificate).start().unwrap()
}

fn refresher(sim: &Simulator, keys: KeyStore) -> Arc<CertificateRefresher> {
    Arc::new(CertificateRefresher::new(ApiV3Key::new(sim.apiv3_key()).unwrap(), keys))
}

/// Either adapter, with the blocking calls a test needs.
enum Client {
    Reqwest(wechatpay_reqwest::Client, tokio::runtime::Runtime),
    Ureq(wechatpay_ureq::Client),
}

impl Client {
    fn new(adapter: Adapter, driver: Driver) -> Self {
        match adapter {
            Adapter::Reqwest => Client::Reqwest(
                wechatpay_reqwest::Client::new(driver).unwrap(),
                tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
            ),
            Adapter::Ureq => Client::Ureq(wechatpay_ureq::Client::new(driver)),
        }
    }

    fn query(&self) -> Result<(), wechatpay_core::Error> {
        let op = by_out_trade_no(SEED);
        match self {
            Client::Reqwest(c, rt) => rt.block_on(c.execute(&op)).map(drop),
            Client::Ureq(c) => c.execute(&op).map(drop),
        }
    }

    fn refresh(&self) -> Result<RefreshOutcome, wechatpay_core::Error> {
        match self {
            Client::Reqwest(c, rt) => rt.block_on(c.refresh_certificates()),
            Client::Ureq(c) => c.refresh_certificates(),
        }
    }
}

fn driver(sim: &Simulator, refresher: &Arc<CertificateRefresher>) -> Driver {
    let config = sim.config_builder().wechatpay_serial(sim.signing_serial()).build().unwrap();
    Driver::new(config).with_retry_policy(RetryPolicy::none()).with_certificate_refresher(refresher.clone())
}

#[test]
fn a_rotation_fails_no_query_through_either_adapter() {
    for adapter in wechatpay_tests::ADAPTERS {
        let sim = platform_sim();
        // Bootstrap from nothing.
        let r = refresher(&sim, KeyStore::new());
        let client = Client::new(adapter, driver(&sim, &r));
        assert!(matches!(client.refresh().unwrap(), RefreshOutcome::Installed { .. }), "{adapter:?}");
        let old = sim.signing_serial();
        assert!(r.keys().knows(&old));
        client.query().unwrap();
        // A new certificate is listed beside the old, which still signs.
        let new = sim.rotate_certificate().unwrap();
        client.query().unwrap();
        // The new one signs: the first answer names an unknown serial, the driver downloads
        // once and verifies it. No query fails.
        sim.rotate_certificate().unwrap();
        assert!(!r.keys().knows(&new));
        for _ in 0..3 {
            client.query().unwrap_or_else(|e| panic!("{adapter:?}: {e}"));
        }
        assert!(r.keys().knows(&new), "{adapter:?}");
    }
}

#[test]
fn a_public_key_only_merchant_is_told_to_use_the_public_key() {
    for adapter in wechatpay_tests::ADAPTERS {
        let sim = Simulator::builder().public_key_only(true).start().unwrap();
        let mut keys = KeyStore::new();
        keys.add_public_key(
            sim.credentials().wechatpay_public_key_id(),
            sim.credentials().wechatpay_public_key_pem().as_bytes(),
        )
        .unwrap();
        let r = refresher(&sim, keys);
        let client = Client::new(adapter, driver(&sim, &r));
        assert_eq!(client.refresh().unwrap(), RefreshOutcome::NoPlatformCertificates, "{adapter:?}");
        client.query().unwrap();
    }
}

#[test]
fn the_background_refresh_downloads_at_once_and_stops_with_its_handle() {
    let sim = platform_sim();
    // Reqwest: a task on the runtime.
    let r = refresher(&sim, KeyStore::new());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let client = wechatpay_reqwest::Client::new(driver(&sim, &r)).unwrap();
    let task = rt.block_on(async { client.spawn_certificate_refresh() }).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !r.keys().knows(&sim.signing_serial()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(r.keys().knows(&sim.signing_serial()));
    drop(task);
    // Ureq: a thread.
    let r = refresher(&sim, KeyStore::new());
    let client = wechatpay_ureq::Client::new(driver(&sim, &r));
    let thread = client.spawn_certificate_refresh().unwrap().unwrap();
    while !r.keys().knows(&sim.signing_serial()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(r.keys().knows(&sim.signing_serial()));
    drop(thread);
}
