//! Response signature checks, in the order of PROTOCOL.md §3, and why a response was not trusted
//! ([`VerificationFailure`], with the `/v3/certificates` bootstrap rule's [`CertificateError`]).
//!
//! Layer L2: it names only crypto, apiv3_key (`DecryptError`), base64 and wire, below it. A
//! verifier's own error arrives opaquely as [`VerifyError::Other`] and is recognised here by
//! downcasting, so neither crypto nor this module names `certificates`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};

use crate::apiv3_key::DecryptError;
use crate::base64_strict;
use crate::crypto::{OtherError, Verifier, VerifyError};
use crate::wire::{
    AUTH_SCHEME, HEADER_NONCE, HEADER_SERIAL, HEADER_SIGNATURE, HEADER_SIGNATURE_TYPE, HEADER_TIMESTAMP,
    SIGN_TEST_PREFIX,
};

/// The four signature headers of a response (or a notification).
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureHeaders<'a> {
    /// `Wechatpay-Timestamp`.
    pub timestamp: &'a str,
    /// `Wechatpay-Nonce`.
    pub nonce: &'a str,
    /// `Wechatpay-Signature` (Base64).
    pub signature: &'a str,
    /// `Wechatpay-Serial`.
    pub serial: &'a str,
}

impl<'a> SignatureHeaders<'a> {
    /// The headers as read elsewhere (e.g. from another framework's request type).
    pub fn new(timestamp: &'a str, nonce: &'a str, signature: &'a str, serial: &'a str) -> Self {
        Self { timestamp, nonce, signature, serial }
    }
}

impl std::fmt::Debug for SignatureHeaders<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureHeaders")
            .field("timestamp", &self.timestamp)
            .field("nonce", &self.nonce)
            .field("signature", &"[redacted]")
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

/// The four names, then `Wechatpay-Signature-Type`, as `HeaderName` spells them (lower case).
const NAMES: [&str; 5] = [HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE, HEADER_SERIAL, HEADER_SIGNATURE_TYPE];
const DISPLAY_NAMES: [&str; 5] =
    ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial", "Wechatpay-Signature-Type"];

/// Whether any of the four signature headers is present.
pub(crate) fn has_any_signature_header(headers: &HeaderMap) -> bool {
    headers.keys().any(|name| NAMES[..4].contains(&name.as_str()))
}

/// Reads the four signature headers: each present exactly once, non-empty, visible ASCII;
/// and `Wechatpay-Signature-Type`, if present, must be `WECHATPAY2-SHA256-RSA2048`.
///
/// # Errors
/// The first [`VerificationFailure`] found.
pub fn signature_headers(headers: &HeaderMap) -> Result<SignatureHeaders<'_>, VerificationFailure> {
    // One pass over the headers (a handful) rather than a hashed look-up per name.
    let mut found: [(Option<&HeaderValue>, bool); 5] = [(None, false); 5];
    for (name, value) in headers {
        let name = name.as_str();
        if !name.starts_with("wechatpay-") {
            continue;
        }
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            let (first, duplicate) = &mut found[i];
            *duplicate |= first.is_some();
            first.get_or_insert(value);
        }
    }
    let mut values = [""; 4];
    for (i, value) in values.iter_mut().enumerate() {
        *value =
            single_value(found[i], DISPLAY_NAMES[i])?.ok_or(VerificationFailure::MissingHeader(DISPLAY_NAMES[i]))?;
    }
    // The probe is recognised before anything else about the signature is judged.
    if values[2].starts_with(SIGN_TEST_PREFIX) {
        return Err(VerificationFailure::SignTestProbe);
    }
    if single_value(found[4], DISPLAY_NAMES[4])?.is_some_and(|t| t != AUTH_SCHEME) {
        return Err(VerificationFailure::UnsupportedSignatureType);
    }
    Ok(SignatureHeaders { timestamp: values[0], nonce: values[1], signature: values[2], serial: values[3] })
}

/// A header's value when it was sent (exactly once, non-empty, visible ASCII).
fn single_value<'a>(
    (value, duplicate): (Option<&'a HeaderValue>, bool),
    display: &'static str,
) -> Result<Option<&'a str>, VerificationFailure> {
    let Some(value) = value else { return Ok(None) };
    if duplicate {
        return Err(VerificationFailure::DuplicateHeader(display));
    }
    // One branch-free pass (it vectorises; the signature is 344 bytes), then the `str` view,
    // which for ASCII is a fast check.
    let bytes = value.as_bytes();
    let graphic = bytes.iter().fold(!bytes.is_empty(), |ok, b| ok & b.is_ascii_graphic());
    match std::str::from_utf8(bytes) {
        Ok(s) if graphic => Ok(Some(s)),
        _ => Err(VerificationFailure::InvalidHeader(display)),
    }
}

/// `t` in Unix seconds (negative before 1970), saturating.
fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Verifies a WeChat Pay signature (of a response or a callback) over the raw `body`:
/// probe, timestamp window of `max_skew_secs` seconds around `now`, exact serial, strict
/// Base64, length, RSA. (`Wechatpay-Timestamp` itself is Unix seconds on the wire.)
///
/// # Errors
/// The first [`VerificationFailure`] found.
pub fn verify_signature(
    verifier: &dyn Verifier,
    sig: &SignatureHeaders<'_>,
    body: &[u8],
    now: SystemTime,
    max_skew_secs: u64,
) -> Result<(), VerificationFailure> {
    if sig.signature.starts_with(SIGN_TEST_PREFIX) {
        return Err(VerificationFailure::SignTestProbe);
    }
    let ts = sig.timestamp;
    if ts.is_empty() || ts.len() > 18 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerificationFailure::InvalidTimestamp);
    }
    let ts: i64 = ts.parse().map_err(|_| VerificationFailure::InvalidTimestamp)?;
    let skew = ts.saturating_sub(unix_secs(now));
    if skew.unsigned_abs() > max_skew_secs {
        return Err(VerificationFailure::StaleTimestamp { skew_secs: skew, max_secs: max_skew_secs });
    }
    if !verifier.knows(sig.serial) {
        return Err(VerificationFailure::UnknownSerial(sig.serial.chars().take(80).collect()));
    }
    let raw = base64_strict::decode(sig.signature.as_bytes()).ok_or(VerificationFailure::InvalidBase64)?;
    let message: [&[u8]; 6] = [sig.timestamp.as_bytes(), b"\n", sig.nonce.as_bytes(), b"\n", body, b"\n"];
    verifier.verify_parts(sig.serial, &message, &raw).map_err(|e| match e {
        VerifyError::UnknownSerial => VerificationFailure::UnknownSerial(sig.serial.chars().take(80).collect()),
        VerifyError::WrongLength { expected, actual } => VerificationFailure::WrongSignatureLength { expected, actual },
        VerifyError::Mismatch => VerificationFailure::SignatureMismatch,
        VerifyError::Other(e) => match e.downcast_ref::<CertificateError>() {
            Some(c) => VerificationFailure::Certificate(c.clone()),
            None => VerificationFailure::Verifier(e),
        },
    })
}

/// Why a response was not trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationFailure {
    /// A signature header is missing (a 2xx answer without them is forged).
    MissingHeader(&'static str),
    /// A signature header appears more than once.
    DuplicateHeader(&'static str),
    /// A signature header is empty or not visible ASCII.
    InvalidHeader(&'static str),
    /// `Wechatpay-Signature` is a `WECHATPAY/SIGNTEST/` probe: WeChat Pay checking that this
    /// client verifies. Querying again is safe.
    SignTestProbe,
    /// `Wechatpay-Signature-Type` names another algorithm.
    UnsupportedSignatureType,
    /// `Wechatpay-Timestamp` is not a plain decimal number.
    InvalidTimestamp,
    /// `Wechatpay-Timestamp` is further from now than the allowed window.
    StaleTimestamp {
        /// Response time minus local time, in seconds.
        skew_secs: i64,
        /// The window in seconds.
        max_secs: u64,
    },
    /// No key is held for `Wechatpay-Serial`.
    UnknownSerial(String),
    /// `Wechatpay-Signature` is not strict standard Base64.
    InvalidBase64,
    /// The decoded signature is not as long as the key's modulus.
    WrongSignatureLength {
        /// Modulus length in bytes.
        expected: usize,
        /// Decoded length in bytes.
        actual: usize,
    },
    /// The signature does not match the response.
    SignatureMismatch,
    /// A correctly signed answer that is not the answer to the question asked (PROTOCOL.md §11):
    /// `field` (e.g. `out_trade_no`, `mchid`) differs from the request. The answer is
    /// discarded; the signature covers only the body, so only the client can bind it.
    AnswerMismatch {
        /// The field that differs.
        field: &'static str,
    },
    /// A `/v3/certificates` answer broke the bootstrap rule of PROTOCOL.md §9 (an item does not
    /// decrypt or is not the certificate it claims to be, or the signer is not listed).
    Certificate(CertificateError),
    /// The verifier refused for a reason of its own (for example a custom verifier's backend
    /// failed), carried opaquely.
    Verifier(OtherError),
}

/// The one table of names of the verification checks: per failure, the check it failed (what
/// was checked: `timestamp`, `serial`, `signature`, ...) and the failure's own label (what
/// went wrong: `stale timestamp`, `unknown serial`, `signature mismatch`, ...). Every report
/// reads it: [`crate::Error::label`], [`crate::notify::NotificationError::check`], the CLI.
macro_rules! verification_names {
    ($($failure:pat => $check:literal, $label:literal;)*) => {
        impl VerificationFailure {
            /// The check that failed, in a word or two, fixed (`"header"`, `"sign-test probe"`,
            /// `"timestamp"`, `"serial"`, `"Base64"`, `"signature length"`, `"signature"`, ...):
            /// for sentences like "the timestamp check failed".
            pub fn check(&self) -> &'static str {
                match self {
                    $($failure => $check,)*
                }
            }

            /// A short, fixed label of the failure for logs and metrics (`"missing header"`,
            /// `"SIGNTEST probe"`, `"stale timestamp"`, `"unknown serial"`, `"signature
            /// mismatch"`, ...). No header value, no server text.
            pub fn label(&self) -> &'static str {
                match self {
                    $($failure => $label,)*
                }
            }

            /// [`VerificationFailure::label`] as [`crate::Error::label`] gives it.
            pub(crate) fn error_label(&self) -> &'static str {
                match self {
                    $($failure => concat!("verification: ", $label),)*
                }
            }
        }
    };
}

verification_names! {
    Self::MissingHeader(_) => "header", "missing header";
    Self::DuplicateHeader(_) => "header", "duplicate header";
    Self::InvalidHeader(_) => "header", "invalid header";
    Self::SignTestProbe => "sign-test probe", "SIGNTEST probe";
    Self::UnsupportedSignatureType => "header", "unsupported signature type";
    Self::InvalidTimestamp => "timestamp", "invalid timestamp";
    Self::StaleTimestamp { .. } => "timestamp", "stale timestamp";
    Self::UnknownSerial(_) => "serial", "unknown serial";
    Self::InvalidBase64 => "Base64", "invalid signature encoding";
    Self::WrongSignatureLength { .. } => "signature length", "wrong signature length";
    Self::SignatureMismatch => "signature", "signature mismatch";
    Self::AnswerMismatch { .. } => "answer", "answer mismatch";
    Self::Certificate(_) => "certificate", "certificate";
    Self::Verifier(_) => "verifier", "verifier";
}

impl fmt::Display for VerificationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingHeader(h) => write!(f, "missing {h} header"),
            Self::DuplicateHeader(h) => write!(f, "{h} header appears more than once"),
            Self::InvalidHeader(h) => write!(f, "{h} header is empty or not visible ASCII"),
            Self::SignTestProbe => f.write_str("signature is a WECHATPAY/SIGNTEST/ probe"),
            Self::UnsupportedSignatureType => f.write_str("Wechatpay-Signature-Type is not WECHATPAY2-SHA256-RSA2048"),
            Self::InvalidTimestamp => f.write_str("Wechatpay-Timestamp is not a decimal number"),
            Self::StaleTimestamp { skew_secs, max_secs } => {
                write!(f, "Wechatpay-Timestamp is {skew_secs} s from local time (window ±{max_secs} s)")
            }
            Self::UnknownSerial(s) => write!(f, "no WeChat Pay key held for serial {s:?}"),
            Self::InvalidBase64 => f.write_str("Wechatpay-Signature is not valid Base64"),
            Self::WrongSignatureLength { expected, actual } => {
                write!(f, "signature is {actual} bytes; the key needs {expected}")
            }
            Self::SignatureMismatch => f.write_str("signature does not match the response"),
            Self::AnswerMismatch { field } => {
                write!(f, "answer for another order or merchant: {field} is not the one asked for")
            }
            Self::Certificate(e) => e.fmt(f),
            Self::Verifier(e) => write!(f, "the verifier refused the signature: {e}"),
        }
    }
}

/// Why a `/v3/certificates` answer or one of its items was refused. Names the item by its
/// (escaped, cut) `serial_no`; never carries key material or plaintext.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// The signed body is not a `{"data": [...]}` certificate list.
    Malformed,
    /// The list is empty: nothing to trust.
    Empty,
    /// An item did not decrypt with the APIv3 key (GCM authenticates it).
    Decrypt {
        /// The item's `serial_no`.
        serial_no: String,
        /// Why.
        error: DecryptError,
    },
    /// An item decrypted to something that is not a usable RSA certificate.
    NotUsable {
        /// The item's `serial_no`.
        serial_no: String,
        /// Why (the key loader's message).
        reason: String,
    },
    /// An item decrypted to a certificate whose serial is not its `serial_no`.
    SerialMismatch {
        /// The item's `serial_no`.
        serial_no: String,
        /// The certificate's own serial.
        actual: String,
    },
    /// The answer's `Wechatpay-Serial` names neither a listed certificate nor a trusted key.
    SignerNotListed {
        /// The `Wechatpay-Serial`.
        serial: String,
    },
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("the /v3/certificates answer is not a certificate list"),
            Self::Empty => f.write_str("the /v3/certificates answer lists no certificate"),
            Self::Decrypt { serial_no, error } => {
                write!(f, "certificate {serial_no:?} does not decrypt with the APIv3 key: {error}")
            }
            Self::NotUsable { serial_no, reason } => {
                write!(f, "certificate {serial_no:?} is not a usable RSA certificate: {reason}")
            }
            Self::SerialMismatch { serial_no, actual } => {
                write!(f, "certificate listed as {serial_no:?} has serial {actual:?}")
            }
            Self::SignerNotListed { serial } => write!(
                f,
                "the answer is signed by {serial:?}, which is neither among the certificates listed nor a trusted key"
            ),
        }
    }
}

impl std::error::Error for CertificateError {}

impl From<CertificateError> for VerifyError {
    fn from(e: CertificateError) -> Self {
        VerifyError::Other(OtherError::new(e))
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderName, HeaderValue};
    use proptest::prelude::*;

    use super::*;

    /// The rule read one name at a time with `get_all` (how it was written before the one-pass
    /// reading): each of the four present exactly once and visible ASCII, in order; then the
    /// probe; then the signature type.
    fn by_lookups(headers: &HeaderMap) -> Result<SignatureHeaders<'_>, VerificationFailure> {
        let one = |i: usize| -> Result<Option<&str>, VerificationFailure> {
            let mut all = headers.get_all(NAMES[i]).iter();
            let Some(value) = all.next() else { return Ok(None) };
            if all.next().is_some() {
                return Err(VerificationFailure::DuplicateHeader(DISPLAY_NAMES[i]));
            }
            match value.to_str() {
                Ok(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(s)),
                _ => Err(VerificationFailure::InvalidHeader(DISPLAY_NAMES[i])),
            }
        };
        let mut values = [""; 4];
        for (i, value) in values.iter_mut().enumerate() {
            *value = one(i)?.ok_or(VerificationFailure::MissingHeader(DISPLAY_NAMES[i]))?;
        }
        if values[2].starts_with(SIGN_TEST_PREFIX) {
            return Err(VerificationFailure::SignTestProbe);
        }
        if one(4)?.is_some_and(|t| t != AUTH_SCHEME) {
            return Err(VerificationFailure::UnsupportedSignatureType);
        }
        Ok(SignatureHeaders { timestamp: values[0], nonce: values[1], signature: values[2], serial: values[3] })
    }

    fn header_maps() -> impl Strategy<Value = HeaderMap> {
        let name = prop_oneof![
            4 => proptest::sample::select(NAMES.to_vec()),
            1 => proptest::sample::select(vec!["content-type", "wechatpay-other", "request-id", "wechatpay-serial-x"]),
        ];
        let value = prop_oneof![
            4 => proptest::sample::select(vec![
                "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", "WECHATPAY/SIGNTEST/abc", "PUB_KEY_ID_01",
                "WECHATPAY2-SHA256-RSA2048", "Zm9vYmFy",
            ]),
            1 => proptest::sample::select(vec!["", "a b", "caf\u{e9}", "x\ty"]),
        ];
        proptest::collection::vec((name, value), 0..9).prop_map(|pairs| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                let value = HeaderValue::from_bytes(value.as_bytes()).expect("no control bytes but tab");
                map.append(HeaderName::from_static(name), value);
            }
            map
        })
    }

    /// A custom verifier whose backend (an HSM, say) fails with an error of its own.
    #[derive(Debug)]
    struct DownVerifier;

    #[derive(Debug)]
    struct BackendDown;

    impl fmt::Display for BackendDown {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("verification backend unavailable")
        }
    }

    impl std::error::Error for BackendDown {}

    impl Verifier for DownVerifier {
        fn knows(&self, _serial: &str) -> bool {
            true
        }
        fn verify(&self, _serial: &str, _message: &[u8], _signature: &[u8]) -> Result<(), VerifyError> {
            Err(VerifyError::Other(OtherError::new(BackendDown)))
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_secs(secs)
    }

    #[test]
    fn the_window_is_read_against_a_system_time_in_both_directions() {
        let sig = SignatureHeaders::new("1700000000", "N", "Zm9vYmFy", "SERIAL");
        // Inside the window the check goes on to the verifier (which refuses here).
        assert!(matches!(
            verify_signature(&DownVerifier, &sig, b"{}", at(1_700_000_300), 300),
            Err(VerificationFailure::Verifier(_))
        ));
        assert!(matches!(
            verify_signature(&DownVerifier, &sig, b"{}", at(1_699_999_700), 300),
            Err(VerificationFailure::Verifier(_))
        ));
        assert_eq!(
            verify_signature(&DownVerifier, &sig, b"{}", at(1_700_000_301), 300),
            Err(VerificationFailure::StaleTimestamp { skew_secs: -301, max_secs: 300 })
        );
        assert_eq!(
            verify_signature(&DownVerifier, &sig, b"{}", at(1_699_999_699), 300),
            Err(VerificationFailure::StaleTimestamp { skew_secs: 301, max_secs: 300 })
        );
        // A clock before 1970 is far off, not a panic.
        let before = UNIX_EPOCH - std::time::Duration::from_secs(10);
        assert_eq!(
            verify_signature(&DownVerifier, &sig, b"{}", before, 300),
            Err(VerificationFailure::StaleTimestamp { skew_secs: 1_700_000_010, max_secs: 300 })
        );
    }

    #[test]
    fn another_layers_error_travels_opaquely_and_a_certificate_refusal_is_recognised() {
        let sig = SignatureHeaders::new("1700000000", "N", "Zm9vYmFy", "SERIAL");
        let failure = verify_signature(&DownVerifier, &sig, b"{}", at(1_700_000_000), 300).unwrap_err();
        match &failure {
            VerificationFailure::Verifier(e) => assert!(e.downcast_ref::<BackendDown>().is_some()),
            other => panic!("expected the verifier's own error, got {other:?}"),
        }
        assert_eq!(failure.to_string(), "the verifier refused the signature: verification backend unavailable");
        assert_eq!(failure.clone(), failure, "a clone of the same error is equal");

        // The bootstrap verifier's refusal goes down as `Other` and comes back typed.
        let down = VerifyError::from(CertificateError::Empty);
        assert!(std::error::Error::source(&down).is_some_and(|s| s.is::<CertificateError>()));
        #[derive(Debug)]
        struct Refuses;
        impl Verifier for Refuses {
            fn knows(&self, _serial: &str) -> bool {
                true
            }
            fn verify(&self, _serial: &str, _message: &[u8], _signature: &[u8]) -> Result<(), VerifyError> {
                Err(CertificateError::Malformed.into())
            }
        }
        let failure = verify_signature(&Refuses, &sig, b"{}", at(1_700_000_000), 300).unwrap_err();
        assert_eq!(failure, VerificationFailure::Certificate(CertificateError::Malformed));
    }

    proptest! {
        #[test]
        fn one_pass_reading_agrees_with_a_lookup_per_name(headers in header_maps()) {
            prop_assert_eq!(signature_headers(&headers), by_lookups(&headers));
            let any = NAMES[..4].iter().any(|n| headers.contains_key(*n));
            prop_assert_eq!(has_any_signature_header(&headers), any);
        }
    }
}
