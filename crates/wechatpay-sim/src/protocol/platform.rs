//! The simulated platform certificates (平台证书, PROTOCOL.md §9) and their rotation.
//!
//! At start there is one: the built-in certificate of `testdata/`. A rotation has two steps
//! ([`Platform::begin_rotation`] then [`Platform::finish_rotation`]): the first adds a new
//! throwaway certificate (RSA-2048, generated at runtime, a fresh 40-hex-digit serial) that is
//! listed but does not sign yet, and shortens the old one's `expire_time` to 24 h from then;
//! the second makes the new certificate the one that signs. The next rotation drops every
//! certificate but the signing one before adding its own.

use std::sync::Arc;

use rcgen::{CertificateParams, DnType, KeyPair, PKCS_RSA_SHA256, RsaKeySize, SerialNumber};
use wechatpay_core::PrivateKey;

use crate::clock;
use crate::credentials::{PLATFORM_CERT_PEM, PLATFORM_KEY_PEM, PLATFORM_SERIAL};
use crate::protocol::signing::ResponseKey;

/// `notBefore` of the built-in certificate, Unix seconds
/// (`openssl x509 -in testdata/platform_cert.pem -noout -dates`: Nov 23 14:06:01 2026 GMT).
const BUILTIN_EFFECTIVE: i64 = 1_795_442_761;
/// `notAfter` of the built-in certificate (Nov 22 14:06:01 2031 GMT).
const BUILTIN_EXPIRE: i64 = 1_953_122_761;
/// How long a platform certificate lasts (5 years of 365 days and one leap day).
const LIFETIME_SECS: i64 = (5 * 365 + 1) * 86_400;
/// How long the old certificate stays listed after a replacement is announced.
const OVERLAP_SECS: i64 = 24 * 3600;

/// One platform certificate.
#[derive(Debug)]
pub(crate) struct PlatformCert {
    /// The PEM (`BEGIN CERTIFICATE`).
    pub pem: String,
    /// Its key, under its serial.
    pub key: Arc<ResponseKey>,
    /// `effective_time`, Unix seconds.
    pub effective: i64,
    /// `expire_time`, Unix seconds (shortened when a replacement is announced).
    pub expire: i64,
}

impl PlatformCert {
    /// The certificate serial (40 upper-case hex digits).
    pub(crate) fn serial(&self) -> &str {
        self.key.serial()
    }

    /// A new throwaway certificate, valid from `now` for 5 years.
    pub(crate) fn generate(now: i64) -> Result<Self, String> {
        let fail = |what: &str, e: &dyn std::fmt::Display| format!("new platform certificate: {what}: {e}");
        let key_pair = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).map_err(|e| fail("key", &e))?;
        let mut serial = [0u8; 20];
        aws_lc_rs::rand::fill(&mut serial).map_err(|e| fail("serial", &e))?;
        // Positive, and a non-zero first nibble: 40 hex digits, as WeChat Pay's.
        serial[0] = 0x10 | (serial[0] & 0x6F);
        let mut params = CertificateParams::default();
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        // rcgen's date-time type (from the `time` crate) is only reached through this helper.
        let instant = |unix: i64| {
            let (year, month, day, time_of_day) = civil_date(unix);
            rcgen::date_time_ymd(year, month, day) + time_of_day
        };
        params.not_before = instant(now);
        params.not_after = instant(now + LIFETIME_SECS);
        for (kind, value) in [
            (DnType::CountryName, "CN"),
            (DnType::OrganizationName, "Tenpay.com (TEST ONLY)"),
            (DnType::OrganizationalUnitName, "Tenpay.com CA Center (TEST ONLY, wechatpay-sim rotation)"),
            (DnType::CommonName, "Tenpay.com Root CA (TEST ONLY)"),
        ] {
            params.distinguished_name.push(kind, value);
        }
        let cert = params.self_signed(&key_pair).map_err(|e| fail("certificate", &e))?;
        let key = PrivateKey::from_der(&key_pair.serialize_der()).map_err(|e| fail("key", &e))?;
        let serial: String = serial.iter().map(|b| format!("{b:02X}")).collect();
        Ok(Self {
            pem: cert.pem(),
            key: Arc::new(ResponseKey::new(serial, key)),
            effective: now,
            expire: now + LIFETIME_SECS,
        })
    }
}

/// The civil date of `unix` (UTC) and the seconds into that day, in rcgen's types.
fn civil_date(unix: i64) -> (i32, u8, u8, std::time::Duration) {
    let (year, month, day, secs) = clock::civil(unix);
    (i32::try_from(year).unwrap_or(9999), month, day, std::time::Duration::from_secs(u64::from(secs)))
}

/// The listed certificates and which one signs.
#[derive(Debug)]
pub(crate) struct Platform {
    certs: Vec<PlatformCert>,
    /// The index of the certificate that signs.
    signing: usize,
    /// The index of an announced replacement that does not sign yet.
    pending: Option<usize>,
}

impl Platform {
    /// The built-in certificate alone.
    pub(crate) fn builtin() -> Result<Self, wechatpay_core::KeyError> {
        let key = PrivateKey::from_pem(PLATFORM_KEY_PEM.as_bytes())?;
        let cert = PlatformCert {
            pem: PLATFORM_CERT_PEM.to_owned(),
            key: Arc::new(ResponseKey::new(PLATFORM_SERIAL.to_owned(), key)),
            effective: BUILTIN_EFFECTIVE,
            expire: BUILTIN_EXPIRE,
        };
        Ok(Self { certs: vec![cert], signing: 0, pending: None })
    }

    /// The certificates listed by `GET /v3/certificates`, oldest first.
    pub(crate) fn listed(&self) -> &[PlatformCert] {
        &self.certs
    }

    /// The key of the certificate that signs.
    pub(crate) fn signing_key(&self) -> Arc<ResponseKey> {
        Arc::clone(&self.certs[self.signing].key)
    }

    /// Whether a replacement is announced and not yet signing.
    pub(crate) fn rotation_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Announces `new` as the replacement at `now`: only the signing certificate is kept,
    /// its `expire_time` shortened to 24 h from `now`, and `new` listed after it.
    pub(crate) fn begin_rotation(&mut self, new: PlatformCert, now: i64) {
        let mut old = self.certs.swap_remove(self.signing);
        old.expire = old.expire.min(now + OVERLAP_SECS);
        self.certs = vec![old, new];
        self.signing = 0;
        self.pending = Some(1);
    }

    /// The announced replacement signs from now on; its serial (`None` if none was announced).
    pub(crate) fn finish_rotation(&mut self) -> Option<String> {
        let new = self.pending.take()?;
        self.signing = new;
        Some(self.certs[new].serial().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechatpay_core::KeyStore;

    #[test]
    fn a_generated_certificate_loads_in_the_core_under_its_serial() {
        let cert = PlatformCert::generate(1_795_442_761).unwrap();
        assert_eq!(cert.serial().len(), 40);
        assert!(cert.serial().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
        let mut store = KeyStore::new();
        assert_eq!(store.add_platform_certificates(cert.pem.as_bytes()).unwrap(), vec![cert.serial().to_owned()]);
        assert_eq!(cert.expire - cert.effective, LIFETIME_SECS);
    }

    #[test]
    fn rotation_lists_then_switches_then_drops() {
        let mut p = Platform::builtin().unwrap();
        let now = 1_800_000_000;
        p.begin_rotation(PlatformCert::generate(now).unwrap(), now);
        assert!(p.rotation_pending());
        assert_eq!(p.listed().len(), 2);
        assert_eq!(p.signing_key().serial(), PLATFORM_SERIAL);
        assert_eq!(p.listed()[0].expire, now + OVERLAP_SECS);
        let new = p.finish_rotation().unwrap();
        assert_eq!(p.signing_key().serial(), new);
        assert_eq!(p.finish_rotation(), None);
        p.begin_rotation(PlatformCert::generate(now).unwrap(), now + 10);
        let serials: Vec<_> = p.listed().iter().map(PlatformCert::serial).collect();
        assert_eq!((serials.len(), serials[0]), (2, new.as_str()));
    }
}
