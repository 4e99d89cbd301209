//! Platform certificates (平台证书, PROTOCOL.md §9): the `GET /v3/certificates` operation, the
//! bootstrap rule that decides whether to trust its answer, the refresh schedule, and a
//! verifier whose key set is replaced atomically when new certificates arrive.
//!
//! | piece | what it is |
//! |---|---|
//! | [`DownloadCertificates`](crate::api::DownloadCertificates) | the [`Operation`](crate::api::Operation) (in [`crate::api`]); its output is the still-encrypted [`CertificateList`] |
//! | [`decrypt_certificates`] | every item decrypted with the APIv3 key and checked to be the RSA certificate it claims |
//! | [`BootstrapVerifier`], [`verify_download`] | the bootstrap rule: trust the answer only if every item decrypts and the listed certificate named by `Wechatpay-Serial` (or an already-trusted key) verifies it |
//! | [`RefreshPolicy`] | the pure schedule: when to download next, which certificates to drop |
//! | [`SharedKeyStore`] | a [`Verifier`] whose [`KeyStore`] is swapped whole while calls are in flight |
//! | [`CertificateRefresher`] | the state between downloads; [`crate::transport::Driver::with_certificate_refresher`] uses it to refresh when an answer names an unknown serial |
//! | [`save_directory`], [`load_directory`] | `wechatpay_<SERIAL>.pem` files, so a restart does not depend on the network |
//!
//! A `404 RESOURCE_NOT_EXISTS` answer is not an error to retry: the merchant has no platform
//! certificates and must use the WeChat Pay public key (`PUB_KEY_ID_…`); it comes back as
//! [`RefreshOutcome::NoPlatformCertificates`].

mod directory;
mod refresher;
mod schedule;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;

use crate::api::{CertificateList, EncryptedCertificate};
use crate::apiv3_key::ApiV3Key;
use crate::crypto::{Verifier, VerifyError};
use crate::keys::KeyStore;
use crate::model::Rfc3339;
use crate::untrusted::printable;
pub use crate::verify::CertificateError;
use crate::verify::VerificationFailure;

pub use directory::{DirectoryError, file_name, load_directory, save_directory};
pub use refresher::{CertificateRefresher, RefreshOutcome, SharedKeyStore};
pub use schedule::{CertificateValidity, RefreshPlan, RefreshPolicy};

/// A decrypted platform certificate, checked to be an RSA certificate whose serial is
/// `serial_no`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PlatformCertificate {
    /// The certificate's serial, upper-case hex (`Wechatpay-Serial` of what it signs).
    pub serial_no: String,
    /// From when it may sign.
    pub effective_time: Rfc3339,
    /// When to stop trusting it.
    pub expire_time: Rfc3339,
    /// The certificate, PEM (`BEGIN CERTIFICATE`). Public data.
    pub pem: String,
}

impl PlatformCertificate {
    /// Its validity, for the [`RefreshPolicy`].
    pub fn validity(&self) -> CertificateValidity {
        CertificateValidity::new(&self.serial_no, &self.effective_time, &self.expire_time)
    }
}

/// A serial from the network, fit for an error message.
fn shown(serial: &str) -> String {
    printable(serial).max_chars(64).to_string()
}

/// Decrypts every item with `key` and checks each is an RSA certificate whose serial equals
/// its `serial_no`. All must pass.
///
/// # Errors
/// The first item's [`CertificateError`]; [`CertificateError::Empty`] for an empty list.
pub fn decrypt_certificates(
    list: &CertificateList,
    key: &ApiV3Key,
) -> Result<Vec<PlatformCertificate>, CertificateError> {
    if list.data.is_empty() {
        return Err(CertificateError::Empty);
    }
    list.data.iter().map(|item| decrypt_one(item, key).map(|(cert, _)| cert)).collect()
}

/// One item, decrypted and checked, with a key store holding just it.
fn decrypt_one(
    item: &EncryptedCertificate,
    key: &ApiV3Key,
) -> Result<(PlatformCertificate, KeyStore), CertificateError> {
    let pem = key
        .decrypt_certificate(&item.encrypt_certificate)
        .map_err(|error| CertificateError::Decrypt { serial_no: shown(&item.serial_no), error })?;
    let mut store = KeyStore::with_backend(key.backend());
    let serials = store
        .add_platform_certificates(pem.as_bytes())
        .map_err(|e| CertificateError::NotUsable { serial_no: shown(&item.serial_no), reason: e.to_string() })?;
    match serials.as_slice() {
        [one] if *one == item.serial_no => {}
        [one] => {
            return Err(CertificateError::SerialMismatch { serial_no: shown(&item.serial_no), actual: one.clone() });
        }
        _ => {
            return Err(CertificateError::NotUsable {
                serial_no: shown(&item.serial_no),
                reason: format!("{} certificates in one item", serials.len()),
            });
        }
    }
    let cert = PlatformCertificate {
        serial_no: item.serial_no.clone(),
        effective_time: item.effective_time.clone(),
        expire_time: item.expire_time.clone(),
        pem,
    };
    Ok((cert, store))
}

/// The verifier of a `/v3/certificates` answer (PROTOCOL.md §9 bootstrap rule).
///
/// A signature by a key of `trusted` is checked with it. Otherwise the signed body is read
/// as a certificate list: every item must decrypt with the APIv3 key and be the RSA
/// certificate it claims, the one whose `serial_no` is the answer's `Wechatpay-Serial` must
/// be among them, and the signature must verify with it. The timestamp window is checked
/// before, as for any answer. Only use it for [`DownloadCertificates`](crate::api::DownloadCertificates).
#[derive(Clone)]
pub struct BootstrapVerifier {
    key: Arc<ApiV3Key>,
    trusted: Option<Arc<dyn Verifier>>,
}

impl BootstrapVerifier {
    /// Decrypts with `key`; accepts signatures by `trusted` keys too (later downloads).
    pub fn new(key: Arc<ApiV3Key>, trusted: Option<Arc<dyn Verifier>>) -> Self {
        Self { key, trusted }
    }
}

impl fmt::Debug for BootstrapVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootstrapVerifier").field("trusted", &self.trusted).finish_non_exhaustive()
    }
}

impl Verifier for BootstrapVerifier {
    /// Always `true`: whether the signer is listed can only be told from the body, in
    /// [`Verifier::verify`].
    fn knows(&self, _serial: &str) -> bool {
        true
    }

    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        if let Some(trusted) = self.trusted.as_ref().filter(|t| t.knows(serial)) {
            return trusted.verify(serial, message, signature);
        }
        let list: CertificateList = signed_body(message)
            .and_then(|body| serde_json::from_slice(body).ok())
            .ok_or(CertificateError::Malformed)?;
        if list.data.is_empty() {
            return Err(CertificateError::Empty.into());
        }
        let mut signer = None;
        for item in &list.data {
            let (_, store) = decrypt_one(item, &self.key)?;
            if item.serial_no == serial {
                signer = Some(store);
            }
        }
        let signer = signer.ok_or_else(|| CertificateError::SignerNotListed { serial: shown(serial) })?;
        signer.verify(serial, message, signature)
    }
}

/// The body inside a signed message `timestamp\nnonce\nbody\n` (header values hold no line
/// break).
fn signed_body(message: &[u8]) -> Option<&[u8]> {
    let mut parts = message.splitn(3, |&b| b == b'\n');
    let (_, _, rest) = (parts.next()?, parts.next()?, parts.next()?);
    rest.strip_suffix(b"\n")
}

/// The bootstrap rule as one pure function over an answer's headers and raw body: the
/// signature headers, the timestamp window around `now`, the signer (listed
/// or `trusted`), then every item decrypted and checked.
///
/// # Errors
/// The first [`VerificationFailure`]: [`VerificationFailure::StaleTimestamp`],
/// [`VerificationFailure::SignatureMismatch`], or [`VerificationFailure::Certificate`] with
/// the [`CertificateError`] of the refusal.
pub fn verify_download(
    headers: &http::HeaderMap,
    body: &[u8],
    key: Arc<ApiV3Key>,
    trusted: Option<Arc<dyn Verifier>>,
    now: SystemTime,
    max_skew_secs: u64,
) -> Result<Vec<PlatformCertificate>, VerificationFailure> {
    let sig = crate::verify::signature_headers(headers)?;
    let verifier = BootstrapVerifier::new(key.clone(), trusted);
    crate::verify::verify_signature(&verifier, &sig, body, now, max_skew_secs)?;
    let list: CertificateList =
        serde_json::from_slice(body).map_err(|_| VerificationFailure::Certificate(CertificateError::Malformed))?;
    decrypt_certificates(&list, &key).map_err(VerificationFailure::Certificate)
}
