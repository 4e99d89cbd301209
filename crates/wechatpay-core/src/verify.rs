//! Response signature checks, in the order of spec §3.

use http::{HeaderMap, HeaderValue};

use crate::base64_strict;
use crate::crypto::{Verifier, VerifyError};
use crate::error::VerificationFailure;
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

/// Verifies a WeChat Pay signature (of a response or a callback) over the raw `body`:
/// probe, timestamp window around `now`, exact serial, strict Base64, length, RSA.
///
/// # Errors
/// The first [`VerificationFailure`] found.
pub fn verify_signature(
    verifier: &dyn Verifier,
    sig: &SignatureHeaders<'_>,
    body: &[u8],
    now: u64,
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
    let skew = ts - i64::try_from(now).unwrap_or(i64::MAX);
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
        VerifyError::Certificate(e) => VerificationFailure::Certificate(e),
    })
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

    proptest! {
        #[test]
        fn one_pass_reading_agrees_with_a_lookup_per_name(headers in header_maps()) {
            prop_assert_eq!(signature_headers(&headers), by_lookups(&headers));
            let any = NAMES[..4].iter().any(|n| headers.contains_key(*n));
            prop_assert_eq!(has_any_signature_header(&headers), any);
        }
    }
}
