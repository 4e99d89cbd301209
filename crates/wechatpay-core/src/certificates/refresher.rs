//! The state kept between downloads, and the key set it keeps fresh.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use super::directory::{DirectoryError, load_directory, save_directory};
use super::schedule::{CertificateValidity, RefreshPlan, RefreshPolicy};
use super::{BootstrapVerifier, PlatformCertificate, decrypt_certificates};
use crate::api::{CertificateList, DownloadCertificates};
use crate::apiv3_key::ApiV3Key;
use crate::crypto::{Verifier, VerifyError};
use crate::error::{Error, VerificationError};
use crate::keys::KeyStore;
use crate::model::ErrorCode;
use crate::verify::VerificationFailure;

/// A [`Verifier`] over a [`KeyStore`] that can be replaced while calls are in flight.
///
/// Each lookup takes the current set whole (an `Arc` clone under a read lock held for no
/// longer than that), so no call ever sees a half-updated set; [`SharedKeyStore::replace`]
/// swaps in a new one. Clones share the set.
#[derive(Clone, Default)]
pub struct SharedKeyStore(Arc<RwLock<Arc<KeyStore>>>);

impl SharedKeyStore {
    /// Shares `keys`.
    pub fn new(keys: KeyStore) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(keys))))
    }

    /// The current set.
    pub fn snapshot(&self) -> Arc<KeyStore> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Makes `keys` the current set.
    pub fn replace(&self, keys: KeyStore) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
    }
}

impl Verifier for SharedKeyStore {
    fn knows(&self, serial: &str) -> bool {
        self.snapshot().knows(serial)
    }

    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        self.snapshot().verify(serial, message, signature)
    }

    fn verify_parts(&self, serial: &str, parts: &[&[u8]], signature: &[u8]) -> Result<(), VerifyError> {
        self.snapshot().verify_parts(serial, parts, signature)
    }

    fn key_ids(&self) -> Vec<String> {
        self.snapshot().key_ids()
    }
}

impl fmt::Debug for SharedKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedKeyStore").field(&*self.snapshot()).finish()
    }
}

/// What a successful download did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshOutcome {
    /// The certificates listed (all decrypted and checked) are now trusted; `dropped` are the
    /// serials removed as past their `expire_time`.
    Installed {
        /// Every certificate the answer listed.
        certificates: Vec<PlatformCertificate>,
        /// Serials dropped from the key set.
        dropped: Vec<String>,
    },
    /// `404 RESOURCE_NOT_EXISTS`: this merchant has no platform certificates; use the WeChat
    /// Pay public key (`PUB_KEY_ID_…`, from the merchant console). Not an error to retry.
    NoPlatformCertificates,
}

#[derive(Debug, Default)]
struct State {
    held: Vec<CertificateValidity>,
    last_success: Option<SystemTime>,
    failures: u32,
    last_failure: Option<SystemTime>,
    last_forced: Option<Instant>,
}

/// Keeps a [`SharedKeyStore`] of WeChat Pay keys fresh from `/v3/certificates`.
///
/// It holds the APIv3 key, the live key set (seeded with the configured public keys and
/// certificates, which it never drops), what the last downloads said, and optionally a
/// directory the certificates are saved to. [`crate::transport::Driver::with_certificate_refresher`]
/// runs downloads through it; adapters run [`crate::transport::Driver::refresh_certificates`] on the
/// [`CertificateRefresher::next_refresh_in`] schedule.
pub struct CertificateRefresher {
    key: Arc<ApiV3Key>,
    keys: SharedKeyStore,
    policy: RefreshPolicy,
    operation: DownloadCertificates,
    directory: Option<PathBuf>,
    state: Mutex<State>,
}

impl CertificateRefresher {
    /// A refresher decrypting with `key`, starting from (and sharing) `keys`.
    pub fn new(key: ApiV3Key, keys: KeyStore) -> Self {
        Self {
            key: Arc::new(key),
            keys: SharedKeyStore::new(keys),
            policy: RefreshPolicy::default(),
            operation: DownloadCertificates::default(),
            directory: None,
            state: Mutex::new(State::default()),
        }
    }

    /// Schedules downloads by `policy`.
    #[must_use]
    pub fn with_policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Downloads with this operation (e.g. sending `algorithm_type=RSA`).
    #[must_use]
    pub fn with_operation(mut self, operation: DownloadCertificates) -> Self {
        self.operation = operation;
        self
    }

    /// Loads the `*.pem` certificates already in `dir` (if it exists) and saves every
    /// download there as `wechatpay_<SERIAL>.pem`, so a restart does not depend on the
    /// network.
    ///
    /// # Errors
    /// [`DirectoryError`] when an existing directory or certificate cannot be read.
    pub fn with_directory(mut self, dir: impl AsRef<Path>) -> Result<Self, DirectoryError> {
        let dir = dir.as_ref().to_owned();
        if dir.is_dir() {
            let mut keys = (*self.keys.snapshot()).clone();
            let loaded = load_directory(&mut keys, &dir)?;
            tracing::debug!(count = loaded.len(), "loaded platform certificates from the directory");
            self.keys.replace(keys);
        }
        self.directory = Some(dir);
        Ok(self)
    }

    /// The live key set (the verifier a driver with this refresher uses).
    pub fn keys(&self) -> &SharedKeyStore {
        &self.keys
    }

    /// The schedule.
    pub fn policy(&self) -> &RefreshPolicy {
        &self.policy
    }

    /// The download operation.
    pub fn operation(&self) -> &DownloadCertificates {
        &self.operation
    }

    /// The verifier of a download: the bootstrap rule, also trusting the live key set.
    pub fn bootstrap_verifier(&self) -> BootstrapVerifier {
        BootstrapVerifier::new(self.key.clone(), Some(Arc::new(self.keys.clone())))
    }

    /// The schedule's plan at `now`.
    pub fn plan(&self, now: SystemTime) -> RefreshPlan {
        let s = self.lock();
        self.policy.plan(&s.held, s.last_success, s.failures, s.last_failure, now)
    }

    /// How long from `now` until the next scheduled download.
    pub fn next_refresh_in(&self, now: SystemTime) -> Duration {
        self.plan(now).delay(now)
    }

    /// Whether an answer signed by an unknown serial may cause a download now (at most one
    /// per [`RefreshPolicy::unknown_serial_min_interval`]); if so, the time is taken.
    pub fn allow_unknown_serial_refresh(&self) -> bool {
        let mut s = self.lock();
        let now = Instant::now();
        if s.last_forced.is_some_and(|t| now.duration_since(t) < self.policy.unknown_serial_min_interval) {
            return false;
        }
        s.last_forced = Some(now);
        true
    }

    /// Takes the result of running [`CertificateRefresher::operation`] with
    /// [`CertificateRefresher::bootstrap_verifier`]: decrypts and checks every certificate,
    /// installs them in the live set (dropping expired ones), saves them to the directory,
    /// and records success or failure for the schedule. A failure is logged (its label only)
    /// and leaves the key set as it was.
    ///
    /// # Errors
    /// The download's [`Error`], or [`Error::Verification`] with
    /// [`VerificationFailure::Certificate`] when a certificate does not decrypt or check.
    pub fn install(&self, answer: Result<CertificateList, Error>, now: SystemTime) -> Result<RefreshOutcome, Error> {
        let result = answer.and_then(|list| {
            decrypt_certificates(&list, &self.key).map_err(|e| {
                Error::Verification(VerificationError::new(
                    VerificationFailure::Certificate(e),
                    http::StatusCode::OK,
                    None,
                ))
            })
        });
        let certificates = match result {
            Ok(certificates) => certificates,
            Err(Error::Api(api)) if api.code == ErrorCode::ResourceNotExists => {
                tracing::info!("no platform certificates for this merchant: use the WeChat Pay public key");
                let mut s = self.lock();
                (s.last_success, s.failures) = (Some(now), 0);
                return Ok(RefreshOutcome::NoPlatformCertificates);
            }
            Err(err) => {
                let mut s = self.lock();
                s.failures = s.failures.saturating_add(1);
                s.last_failure = Some(now);
                tracing::warn!(error = err.label(), failures = s.failures, "platform certificate download failed");
                return Err(err);
            }
        };
        let dropped = self.install_certificates(&certificates, now);
        if let Some(dir) = &self.directory {
            if let Err(e) = save_directory(dir, &certificates) {
                tracing::warn!(error = %e, "could not save the platform certificates");
            }
        }
        Ok(RefreshOutcome::Installed { certificates, dropped })
    }

    /// Swaps in the live set plus `certificates`, minus what the plan drops.
    fn install_certificates(&self, certificates: &[PlatformCertificate], now: SystemTime) -> Vec<String> {
        let mut s = self.lock();
        for cert in certificates {
            s.held.retain(|c| c.serial_no != cert.serial_no);
            s.held.push(cert.validity());
        }
        (s.last_success, s.failures, s.last_failure) = (Some(now), 0, None);
        let plan = self.policy.plan(&s.held, s.last_success, 0, None, now);
        if let Some(serial) = &plan.keeping_expired {
            tracing::warn!(serial = %serial, "every platform certificate is past its expire_time; keeping the last");
        }
        let mut keys = (*self.keys.snapshot()).clone();
        for cert in certificates {
            // Checked when decrypted: it loads.
            let _ = keys.add_platform_certificates(cert.pem.as_bytes());
        }
        for serial in &plan.drop {
            keys.remove(serial);
        }
        s.held.retain(|c| !plan.drop.contains(&c.serial_no));
        self.keys.replace(keys);
        tracing::info!(listed = certificates.len(), dropped = plan.drop.len(), "platform certificates refreshed");
        plan.drop
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for CertificateRefresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateRefresher")
            .field("keys", &self.keys)
            .field("policy", &self.policy)
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}
