//! Loading keys: the merchant API private key that signs requests, and the WeChat Pay
//! keys (public keys and platform certificates) that verify responses, held in a
//! [`KeyStore`] by exact serial.
//!
//! Keys are parsed once, when loaded; signing and verifying never parse again.

use std::fmt;
use std::sync::Arc;

use crate::crypto::{Backend, EncryptError, SignError, Signer, Verifier, VerifyError};
use crate::der::{self, Reader};
use crate::pem::{self, PemError};

/// Smallest RSA modulus accepted, in bits (WeChat Pay issues RSA-2048).
pub const MIN_RSA_BITS: usize = 2048;

/// A key could not be loaded. Never carries key material.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyError {
    /// The input is not well-formed PEM or DER; the text says what is wrong.
    Malformed(&'static str),
    /// The key is encrypted (`ENCRYPTED PRIVATE KEY` or a `Proc-Type: 4,ENCRYPTED` header).
    Encrypted,
    /// The key is not an RSA key.
    NotRsa,
    /// The RSA modulus is shorter than [`MIN_RSA_BITS`].
    TooShort {
        /// The modulus length in bits.
        bits: usize,
    },
    /// A different kind of PEM was given than the one expected here (for example a
    /// certificate or public key where the private key belongs).
    WrongKind {
        /// What this function loads.
        expected: &'static str,
        /// The PEM label found.
        found: String,
    },
    /// A WeChat Pay public key id does not look like `PUB_KEY_ID_` followed by
    /// letters, digits or `_`.
    InvalidKeyId,
    /// The crypto backend refused a key that passed this crate's own checks. The backend's
    /// error is kept as the [`source`](std::error::Error::source).
    Rejected {
        /// The backend that refused the key.
        backend: Backend,
        /// The backend's error (it carries no key material).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl KeyError {
    fn rejected(backend: Backend, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        KeyError::Rejected { backend, source: Box::new(source) }
    }
}

impl From<PemError> for KeyError {
    fn from(e: PemError) -> Self {
        match e {
            PemError::Malformed(why) => KeyError::Malformed(why),
            PemError::Encrypted => KeyError::Encrypted,
            PemError::OtherLabel(label) => {
                KeyError::WrongKind { expected: "a key or certificate in PEM", found: label }
            }
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Malformed(why) => write!(f, "malformed key: {why}"),
            KeyError::Encrypted => {
                f.write_str("the private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")
            }
            KeyError::NotRsa => f.write_str("not an RSA key; WeChat Pay API v3 uses RSA-2048"),
            KeyError::TooShort { bits } => {
                write!(f, "RSA key has {bits} bits; at least {MIN_RSA_BITS} are required")
            }
            KeyError::WrongKind { expected, found } => {
                write!(f, "expected {expected}, found a PEM block labelled {found:?}")
            }
            KeyError::InvalidKeyId => {
                f.write_str("invalid WeChat Pay public key id: rule: `PUB_KEY_ID_` followed by 1-64 of [0-9A-Za-z_]")
            }
            KeyError::Rejected { backend, .. } => write!(f, "the {backend:?} crypto backend rejected the key"),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyError::Rejected { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

enum SigningKey {
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(crate::crypto::aws_lc::SigningKey),
    #[cfg(feature = "rustcrypto")]
    RustCrypto(Box<crate::crypto::rustcrypto::SigningKey>),
}

/// The merchant API private key (`apiclient_key.pem`), parsed once.
///
/// It has no `PartialEq`, its `Debug` is redacted, and its material is cleared when dropped.
pub struct PrivateKey {
    key: SigningKey,
    bits: usize,
}

impl PrivateKey {
    /// Loads a PEM private key, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`), with the default backend.
    ///
    /// # Errors
    /// [`KeyError`] for malformed, encrypted, non-RSA or short keys, or a public key or
    /// certificate given in its place.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        Self::from_pem_with(pem, Backend::default())
    }

    /// [`PrivateKey::from_pem`] with a chosen backend.
    ///
    /// # Errors
    /// As [`PrivateKey::from_pem`].
    pub fn from_pem_with(pem: &[u8], backend: Backend) -> Result<Self, KeyError> {
        const EXPECTED: &str = "a private key (BEGIN PRIVATE KEY)";
        let block = pem::parse_one(pem).map_err(|e| match e {
            PemError::OtherLabel(found) => KeyError::WrongKind { expected: EXPECTED, found },
            e => e.into(),
        })?;
        match block.label {
            "PRIVATE KEY" => Self::from_pkcs8(&block.der, backend),
            "RSA PRIVATE KEY" => Self::from_pkcs1(&block.der, backend),
            "EC PRIVATE KEY" => Err(KeyError::NotRsa),
            other => Err(KeyError::WrongKind { expected: EXPECTED, found: other.to_owned() }),
        }
    }

    /// Loads a DER private key, PKCS#8 or PKCS#1 (told apart by structure), with the
    /// default backend.
    ///
    /// # Errors
    /// As [`PrivateKey::from_pem`].
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_der_with(der, Backend::default())
    }

    /// [`PrivateKey::from_der`] with a chosen backend.
    ///
    /// # Errors
    /// As [`PrivateKey::from_pem`].
    pub fn from_der_with(der: &[u8], backend: Backend) -> Result<Self, KeyError> {
        // PKCS#8 has an AlgorithmIdentifier SEQUENCE second; PKCS#1 has INTEGERs only.
        let seq = der::single(der, der::SEQUENCE).map_err(KeyError::Malformed)?;
        let mut r = Reader::new(seq.content);
        r.expect(der::INTEGER).map_err(KeyError::Malformed)?;
        if r.peek_tag() == Some(der::SEQUENCE) {
            Self::from_pkcs8(der, backend)
        } else {
            Self::from_pkcs1(der, backend)
        }
    }

    fn from_pkcs8(der: &[u8], backend: Backend) -> Result<Self, KeyError> {
        let seq = der::single(der, der::SEQUENCE).map_err(|_| KeyError::Malformed("not a PKCS#8 PrivateKeyInfo"))?;
        let mut r = Reader::new(seq.content);
        let parsed = (|| {
            r.expect(der::INTEGER)?;
            let alg = r.expect(der::SEQUENCE)?;
            let oid = Reader::new(alg.content).expect(der::OID)?;
            let key = r.expect(der::OCTET_STRING)?;
            Ok::<_, der::DerError>((oid.content, key.content))
        })();
        let (oid, pkcs1) = parsed.map_err(|_| KeyError::Malformed("not a PKCS#8 PrivateKeyInfo"))?;
        if oid != der::OID_RSA_ENCRYPTION {
            return Err(KeyError::NotRsa);
        }
        Self::from_pkcs1(pkcs1, backend)
    }

    fn from_pkcs1(der: &[u8], backend: Backend) -> Result<Self, KeyError> {
        let bits = (|| {
            let seq = der::single(der, der::SEQUENCE)?;
            let mut r = Reader::new(seq.content);
            r.expect(der::INTEGER)?;
            Ok::<_, der::DerError>(der::integer_bits(r.expect(der::INTEGER)?.content))
        })()
        .map_err(|_| KeyError::Malformed("not a PKCS#1 RSAPrivateKey"))?;
        if bits < MIN_RSA_BITS {
            return Err(KeyError::TooShort { bits });
        }
        let key = match backend {
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLcRs => SigningKey::AwsLc(
                crate::crypto::aws_lc::SigningKey::from_pkcs1_der(der).map_err(|e| KeyError::rejected(backend, e))?,
            ),
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => SigningKey::RustCrypto(Box::new(
                crate::crypto::rustcrypto::SigningKey::from_pkcs1_der(der)
                    .map_err(|e| KeyError::rejected(backend, e))?,
            )),
        };
        Ok(Self { key, bits })
    }

    /// The backend holding this key.
    pub fn backend(&self) -> Backend {
        match self.key {
            #[cfg(feature = "aws-lc-rs")]
            SigningKey::AwsLc(_) => Backend::AwsLcRs,
            #[cfg(feature = "rustcrypto")]
            SigningKey::RustCrypto(_) => Backend::RustCrypto,
        }
    }

    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }
}

impl Signer for PrivateKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.key {
            #[cfg(feature = "aws-lc-rs")]
            SigningKey::AwsLc(k) => k.sign(message),
            #[cfg(feature = "rustcrypto")]
            SigningKey::RustCrypto(k) => k.sign(message),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("backend", &self.backend())
            .field("bits", &self.bits)
            .field("key", &"[redacted]")
            .finish()
    }
}

enum VerifyingKey {
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(crate::crypto::aws_lc::VerifyingKey),
    #[cfg(feature = "rustcrypto")]
    RustCrypto(crate::crypto::rustcrypto::VerifyingKey),
}

/// An RSA public key that verifies WeChat Pay signatures, parsed once.
pub struct PublicKey {
    key: VerifyingKey,
    modulus_len: usize,
    /// The SubjectPublicKeyInfo DER, kept for sensitive-field encryption (public data).
    spki: Vec<u8>,
}

impl PublicKey {
    /// Loads a `BEGIN PUBLIC KEY` (SPKI) PEM with the default backend.
    ///
    /// # Errors
    /// [`KeyError`] for malformed, non-RSA or short keys, or a private key or certificate
    /// given in its place.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        Self::from_pem_with(pem, Backend::default())
    }

    /// [`PublicKey::from_pem`] with a chosen backend.
    ///
    /// # Errors
    /// As [`PublicKey::from_pem`].
    pub fn from_pem_with(pem: &[u8], backend: Backend) -> Result<Self, KeyError> {
        const EXPECTED: &str = "a public key (BEGIN PUBLIC KEY)";
        let block = pem::parse_one(pem).map_err(|e| match e {
            PemError::OtherLabel(found) => KeyError::WrongKind { expected: EXPECTED, found },
            e => e.into(),
        })?;
        if block.label != "PUBLIC KEY" {
            return Err(KeyError::WrongKind { expected: EXPECTED, found: block.label.to_owned() });
        }
        Self::from_spki_der_with(&block.der, backend)
    }

    /// Loads a SubjectPublicKeyInfo DER with a chosen backend.
    ///
    /// # Errors
    /// As [`PublicKey::from_pem`].
    pub fn from_spki_der_with(spki: &[u8], backend: Backend) -> Result<Self, KeyError> {
        let (oid, modulus_bits) = (|| {
            let seq = der::single(spki, der::SEQUENCE)?;
            let mut r = Reader::new(seq.content);
            let alg = r.expect(der::SEQUENCE)?;
            let oid = Reader::new(alg.content).expect(der::OID)?.content;
            let bits = r.expect(der::BIT_STRING)?.content;
            let (&unused, rsa_key) = bits.split_first().ok_or("empty BIT STRING")?;
            if unused != 0 {
                return Err("BIT STRING with unused bits");
            }
            if oid != der::OID_RSA_ENCRYPTION {
                return Ok((oid, 0));
            }
            let seq = der::single(rsa_key, der::SEQUENCE)?;
            Ok((oid, der::integer_bits(Reader::new(seq.content).expect(der::INTEGER)?.content)))
        })()
        .map_err(|_| KeyError::Malformed("not a SubjectPublicKeyInfo"))?;
        if oid != der::OID_RSA_ENCRYPTION {
            return Err(KeyError::NotRsa);
        }
        if modulus_bits < MIN_RSA_BITS {
            return Err(KeyError::TooShort { bits: modulus_bits });
        }
        let key = match backend {
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLcRs => VerifyingKey::AwsLc(
                crate::crypto::aws_lc::VerifyingKey::from_spki_der(spki).map_err(|e| KeyError::rejected(backend, e))?,
            ),
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => VerifyingKey::RustCrypto(
                crate::crypto::rustcrypto::VerifyingKey::from_spki_der(spki)
                    .map_err(|e| KeyError::rejected(backend, e))?,
            ),
        };
        Ok(Self { key, modulus_len: modulus_bits.div_ceil(8), spki: spki.to_vec() })
    }

    /// The modulus length in bytes, which is also the length of every valid signature.
    pub fn modulus_len(&self) -> usize {
        self.modulus_len
    }

    /// The backend that holds the key.
    pub fn backend(&self) -> Backend {
        match &self.key {
            #[cfg(feature = "aws-lc-rs")]
            VerifyingKey::AwsLc(_) => Backend::AwsLcRs,
            #[cfg(feature = "rustcrypto")]
            VerifyingKey::RustCrypto(_) => Backend::RustCrypto,
        }
    }

    /// Encrypts a sensitive field (a bank account, a real name, …; PROTOCOL.md §15) for
    /// WeChat Pay: RSA-OAEP with SHA-1 and MGF1-SHA-1 under this key, Base64 (standard,
    /// padded), on the key's backend. The request that carries it names this key in
    /// `Wechatpay-Serial` (its certificate serial or `PUB_KEY_ID_…`).
    ///
    /// OAEP is randomised: two calls give different ciphertexts, each of which decrypts.
    /// The plaintext is not kept and never appears in an error.
    ///
    /// # Errors
    /// [`EncryptError`]: empty, longer than the key takes (214 bytes for RSA-2048), or
    /// refused by the backend.
    pub fn encrypt_sensitive(&self, plaintext: &[u8]) -> Result<String, EncryptError> {
        use base64::Engine as _;
        let ciphertext = crate::crypto::oaep::encrypt(self.backend(), &self.spki, self.modulus_len, plaintext)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(ciphertext))
    }

    /// Checks an RSASSA-PKCS1-v1_5 SHA-256 signature over `message`.
    ///
    /// # Errors
    /// [`VerifyError::WrongLength`] or [`VerifyError::Mismatch`].
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        self.verify_parts(&[message], signature)
    }

    /// [`PublicKey::verify`] of the concatenation of `parts`, hashed where they are.
    ///
    /// # Errors
    /// As [`PublicKey::verify`].
    pub fn verify_parts(&self, parts: &[&[u8]], signature: &[u8]) -> Result<(), VerifyError> {
        if signature.len() != self.modulus_len {
            return Err(VerifyError::WrongLength { expected: self.modulus_len, actual: signature.len() });
        }
        let ok = match &self.key {
            #[cfg(feature = "aws-lc-rs")]
            VerifyingKey::AwsLc(k) => k.verify(parts, signature),
            #[cfg(feature = "rustcrypto")]
            VerifyingKey::RustCrypto(k) => k.verify(parts, signature),
        };
        if ok { Ok(()) } else { Err(VerifyError::Mismatch) }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("modulus_bits", &(self.modulus_len * 8)).finish_non_exhaustive()
    }
}

/// What a [`KeyStore`] entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// A WeChat Pay public key (微信支付公钥), named by its `PUB_KEY_ID_…`.
    PublicKey,
    /// A platform certificate (平台证书), named by its serial in upper-case hex.
    PlatformCertificate,
}

#[derive(Clone)]
struct Entry {
    serial: String,
    kind: KeyKind,
    key: Arc<PublicKey>,
    /// A platform certificate's `notBefore` as `YYYYMMDDHHMMSS` (UTC), when it says.
    not_before: Option<String>,
}

/// WeChat Pay's verification keys by exact serial: any number of public keys and platform
/// certificates at once (both kinds sign during the migration between them).
///
/// Cloning is cheap: parsed keys are shared, not copied.
#[derive(Clone, Default)]
pub struct KeyStore {
    entries: Vec<Entry>,
    backend: Backend,
}

impl KeyStore {
    /// An empty store using the default backend.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose keys will use `backend`.
    pub fn with_backend(backend: Backend) -> Self {
        Self { entries: Vec::new(), backend }
    }

    /// Adds a WeChat Pay public key (`BEGIN PUBLIC KEY` PEM) under its id `PUB_KEY_ID_…`.
    /// A key already held under that id is replaced.
    ///
    /// # Errors
    /// [`KeyError::InvalidKeyId`] for a malformed id, or the errors of [`PublicKey::from_pem`].
    pub fn add_public_key(&mut self, key_id: &str, pem: &[u8]) -> Result<&mut Self, KeyError> {
        let rest = key_id.strip_prefix("PUB_KEY_ID_").ok_or(KeyError::InvalidKeyId)?;
        if rest.is_empty() || rest.len() > 64 || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(KeyError::InvalidKeyId);
        }
        let key = PublicKey::from_pem_with(pem, self.backend)?;
        self.insert(key_id.to_owned(), KeyKind::PublicKey, key, None);
        Ok(self)
    }

    /// Adds every platform certificate (`BEGIN CERTIFICATE`) in `pem`, each under its serial
    /// number in upper-case hex, and returns those serials.
    ///
    /// # Errors
    /// [`KeyError`] when a block is not a certificate or its key is unusable.
    pub fn add_platform_certificates(&mut self, pem: &[u8]) -> Result<Vec<String>, KeyError> {
        let mut loaded = Vec::new();
        const EXPECTED: &str = "a certificate (BEGIN CERTIFICATE)";
        let blocks = pem::parse_all(pem).map_err(|e| match e {
            PemError::OtherLabel(found) => KeyError::WrongKind { expected: EXPECTED, found },
            e => e.into(),
        })?;
        for block in blocks {
            if block.label != "CERTIFICATE" {
                return Err(KeyError::WrongKind { expected: EXPECTED, found: block.label.to_owned() });
            }
            let cert = parse_certificate(&block.der)?;
            let key = PublicKey::from_spki_der_with(cert.spki, self.backend)?;
            loaded.push((cert.serial, key, cert.not_before));
        }
        Ok(loaded
            .into_iter()
            .map(|(serial, key, not_before)| {
                self.insert(serial.clone(), KeyKind::PlatformCertificate, key, not_before);
                serial
            })
            .collect())
    }

    fn insert(&mut self, serial: String, kind: KeyKind, key: PublicKey, not_before: Option<String>) {
        self.entries.retain(|e| e.serial != serial);
        self.entries.push(Entry { serial, kind, key: Arc::new(key), not_before });
    }

    /// The serial of the newest platform certificate held: the latest `notBefore` (of equal
    /// ones, the one added last). Sensitive fields are encrypted under it when no WeChat Pay
    /// public key is used (spec §15).
    pub fn newest_platform_certificate(&self) -> Option<&str> {
        self.entries
            .iter()
            .filter(|e| e.kind == KeyKind::PlatformCertificate)
            .max_by(|a, b| a.not_before.cmp(&b.not_before))
            .map(|e| e.serial.as_str())
    }

    /// Removes the key held under exactly `serial`; whether one was held.
    pub fn remove(&mut self, serial: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.serial != serial);
        self.entries.len() != before
    }

    /// The serials held, with their kinds.
    pub fn serials(&self) -> impl Iterator<Item = (&str, KeyKind)> {
        self.entries.iter().map(|e| (e.serial.as_str(), e.kind))
    }

    /// The key held under exactly `serial`.
    pub fn get(&self, serial: &str) -> Option<&PublicKey> {
        self.entries.iter().find(|e| e.serial == serial).map(|e| &*e.key)
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Verifier for KeyStore {
    fn knows(&self, serial: &str) -> bool {
        self.get(serial).is_some()
    }

    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        self.get(serial).ok_or(VerifyError::UnknownSerial)?.verify(message, signature)
    }

    fn verify_parts(&self, serial: &str, parts: &[&[u8]], signature: &[u8]) -> Result<(), VerifyError> {
        self.get(serial).ok_or(VerifyError::UnknownSerial)?.verify_parts(parts, signature)
    }

    fn key_ids(&self) -> Vec<String> {
        self.serials().map(|(serial, _)| serial.to_owned()).collect()
    }
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.iter().map(|e| (e.serial.as_str(), e.kind))).finish()
    }
}

/// The parts of an X.509 certificate this crate uses.
pub(crate) struct Certificate<'a> {
    /// Serial number, upper-case hex without leading zeros.
    pub serial: String,
    /// The SubjectPublicKeyInfo element.
    pub spki: &'a [u8],
    /// `validity.notBefore` as `YYYYMMDDHHMMSS` (UTC), when it is a UTCTime or
    /// GeneralizedTime in the `Z` form.
    pub not_before: Option<String>,
}

/// Reads the serial and public key of a DER X.509 certificate.
pub(crate) fn parse_certificate(der: &[u8]) -> Result<Certificate<'_>, KeyError> {
    (|| {
        let cert = der::single(der, der::SEQUENCE)?;
        let tbs = Reader::new(cert.content).expect(der::SEQUENCE)?;
        let mut r = Reader::new(tbs.content);
        if r.peek_tag() == Some(der::CONTEXT_0) {
            r.read()?;
        }
        let serial = r.expect(der::INTEGER)?.content;
        r.expect(der::SEQUENCE)?; // signature algorithm
        r.expect(der::SEQUENCE)?; // issuer
        let validity = r.expect(der::SEQUENCE)?;
        let not_before = Reader::new(validity.content).read().ok().and_then(|t| x509_time(t.tag, t.content));
        r.expect(der::SEQUENCE)?; // subject
        let spki = r.expect(der::SEQUENCE)?.raw;
        Ok(Certificate { serial: serial_hex(serial), spki, not_before })
    })()
    .map_err(|_: der::DerError| KeyError::Malformed("not an X.509 certificate"))
}

/// An X.509 `Time` as `YYYYMMDDHHMMSS`: UTCTime (`0x17`, `YYMMDDHHMMSSZ`, years 1950-2049)
/// or GeneralizedTime (`0x18`, `YYYYMMDDHHMMSSZ`); `None` for any other form.
fn x509_time(tag: u8, content: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(content).ok()?.strip_suffix('Z')?;
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match (tag, text.len()) {
        (0x17, 12) => {
            let century = if text < "50" { "20" } else { "19" };
            Some(format!("{century}{text}"))
        }
        (0x18, 14) => Some(text.to_owned()),
        _ => None,
    }
}

/// Upper-case hex of a big-endian integer, without leading zeros (as WeChat Pay prints it).
fn serial_hex(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() { "0".to_owned() } else { trimmed.to_owned() }
}
