//! `keys`: loading keys, to show why they are parsed once (in `Config`) and never per
//! request. Ids (stable, see `benches/README.md`):
//!
//! - `keys/private_key_pem/<backend>`: `PrivateKey::from_pem_with` (PKCS#8 PEM)
//! - `keys/private_key_der/<backend>`: `PrivateKey::from_der_with`
//! - `keys/public_key_pem/<backend>`: `PublicKey::from_pem_with`
//! - `keys/platform_cert/<backend>`: `KeyStore::add_platform_certificates` (one certificate)

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_main};
use wechatpay_benches::{BACKENDS, MERCHANT_KEY_DER, MERCHANT_KEY_PEM, PLATFORM_CERT_PEM, WECHATPAY_PUB_PEM};
use wechatpay_core::{KeyStore, PrivateKey, PublicKey};

fn keys(c: &mut Criterion) {
    let mut g = c.benchmark_group("keys");
    for (backend, name) in BACKENDS {
        g.bench_function(format!("private_key_pem/{name}"), |b| {
            b.iter(|| PrivateKey::from_pem_with(black_box(MERCHANT_KEY_PEM), backend).expect("key"))
        });
        g.bench_function(format!("private_key_der/{name}"), |b| {
            b.iter(|| PrivateKey::from_der_with(black_box(MERCHANT_KEY_DER), backend).expect("key"))
        });
        g.bench_function(format!("public_key_pem/{name}"), |b| {
            b.iter(|| PublicKey::from_pem_with(black_box(WECHATPAY_PUB_PEM), backend).expect("key"))
        });
        g.bench_function(format!("platform_cert/{name}"), |b| {
            b.iter(|| {
                let mut store = KeyStore::with_backend(backend);
                store.add_platform_certificates(black_box(PLATFORM_CERT_PEM)).expect("cert");
                store
            })
        });
    }
    g.finish();
}

/// The criterion group (a private module: criterion's macro makes an undocumented `pub fn`).
mod group {
    use super::*;
    criterion::criterion_group! {
        name = benches;
        config = criterion::Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
        targets = keys
    }
}
criterion_main!(group::benches);
