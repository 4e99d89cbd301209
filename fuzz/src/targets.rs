//! One function per fuzz target. Each takes arbitrary bytes, must never panic, and checks
//! the invariants that make a crash meaningful (round trips, bounds, agreement between
//! equivalent entry points). Shared, via `#[path]`, by the cargo-fuzz crate in `fuzz/`
//! and by the corpus replay test of `wechatpay-core`, so a corpus file means the same in
//! both.
//!
//! The merchant is the simulator's built-in one, `crate::credentials` in both crates (the
//! core's test binary includes the simulator's `credentials.rs` by path).

use std::marker::PhantomData;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wechatpay_core::model::{
    Currency, ErrorCode, ParkingTradeState, ParkingTransaction, PartnerTransaction, PlateColor, PromotionScope,
    PromotionType, Rfc3339, TradeScene, TradeState, TradeType, Transaction, UserRepaid,
};
use wechatpay_core::{
    Config, Error, KeyStore, MchId, Nonce, OutTradeNo, PrivateKey, PublicKey, SerialNo, SubMchId, TransactionId,
    api::Operation, crypto::Backend, crypto::SignError, crypto::Signer, crypto::Verifier, crypto::VerifyError,
};

/// The "now" of every fuzzed response (the fixtures' timestamp).
pub const NOW: u64 = 1554208460;

/// A verifier that knows every serial and accepts every signature, so that the fuzzer gets
/// past the RSA check to the JSON. (The real checks before it still run: headers,
/// timestamp window, Base64.)
#[derive(Debug)]
pub struct AcceptAll;

/// A signer that never signs: the fuzzed configuration only parses.
#[derive(Debug)]
struct NeverSigns;

impl Signer for NeverSigns {
    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, SignError> {
        Err(SignError::new("the fuzzing configuration never signs"))
    }
}

/// An operation whose answer is any `T` and which accepts any answer as its own, so the
/// fuzzer reaches every field of `T` (the binding checks of real operations are unit-tested).
struct AnyAnswer<T>(PhantomData<T>);

impl<T: Serialize + DeserializeOwned> Operation for AnyAnswer<T> {
    type Output = T;
    const NAME: &'static str = "fuzz_any_answer";
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn target(&self, _mchid: &MchId) -> wechatpay_core::api::Target {
        wechatpay_core::api::Target::path(&["v3", "fuzz"])
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// Nothing to bind: a test operation.
    fn check_answer(
        &self,
        _mchid: &MchId,
        _answer: &T,
    ) -> Result<wechatpay_core::api::Binding, wechatpay_core::VerificationFailure> {
        wechatpay_core::api::nothing_to_bind()
    }
}

/// `wechatpay_core::parse_response` of the answer to an [`AnyAnswer<T>`] at [`NOW`].
fn parse_as<T: Serialize + DeserializeOwned>(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Result<T, Error> {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers.clone();
    let now: SystemTime = UNIX_EPOCH + Duration::from_secs(NOW);
    wechatpay_core::parse_response(config(), &AnyAnswer::<T>(PhantomData), &response, now)
}

impl Verifier for AcceptAll {
    fn knows(&self, _serial: &str) -> bool {
        true
    }
    fn verify(&self, _serial: &str, _message: &[u8], _signature: &[u8]) -> Result<(), VerifyError> {
        Ok(())
    }
}

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let mchid = MchId::new(crate::credentials::MCHID).expect("valid mchid");
        let serial = SerialNo::new(crate::credentials::MERCHANT_SERIAL).expect("valid serial");
        Config::builder(mchid, serial, NeverSigns, AcceptAll).build().expect("valid config")
    })
}

/// Headers that pass every check before the RSA one: a fresh timestamp, a nonce, a
/// well-formed 256-byte Base64 signature and a serial.
fn valid_signature_headers(h: &mut HeaderMap) {
    h.insert("wechatpay-timestamp", HeaderValue::from(NOW));
    h.insert("wechatpay-nonce", HeaderValue::from_static("593BEC0C930BF1AFEB40B4A08C8FB242"));
    // 256 zero bytes in Base64: 85 × "AAAA" + "AA==".
    let sig = format!("{}AA==", "AAAA".repeat(85));
    h.insert("wechatpay-signature", HeaderValue::from_str(&sig).expect("base64 is a header value"));
    h.insert("wechatpay-serial", HeaderValue::from_static("PUB_KEY_ID_0114232019092600000000000000000001"));
}

/// Reads `name: value` lines (up to an empty line) into a header map, skipping lines that
/// are not valid header names or values. Returns the map and the rest (the body).
fn split_headers(data: &[u8]) -> (HeaderMap, &[u8]) {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (&[][..], data),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let value = line[colon + 1..].strip_prefix(b" ").unwrap_or(&line[colon + 1..]);
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(value)) {
            headers.append(name, value);
        }
    }
    (headers, body)
}

/// Whether a JSON value holds a non-integer number (serde_json's default float parsing is
/// best-effort, so such values need not survive a text round trip bit for bit).
fn has_float(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(a) => a.iter().any(has_float),
        Value::Object(o) => o.values().any(has_float),
        _ => false,
    }
}

/// A parsed response serialises, parses back, and (floats aside) to the same value.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(t: &T) {
    let text = serde_json::to_string(t).expect("a parsed response serialises");
    let again: T = serde_json::from_str(&text).expect("a serialised response parses back");
    let (v1, v2) = (serde_json::to_value(t).expect("to_value"), serde_json::to_value(&again).expect("to_value"));
    if !has_float(&v1) {
        assert_eq!(v1, v2, "round trip changed the value");
        assert_eq!(*t, again, "round trip changed the struct");
    }
}

fn parse_one<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) {
    match parse_as::<T>(status, headers, body) {
        Ok(t) => {
            assert!(status.is_success(), "only a 2xx answer parses into a value");
            round_trips(&t);
        }
        Err(e) => {
            let shown = format!("{e} {e:?}");
            assert!(!shown.is_empty());
            if let Error::UnexpectedResponse(u) = &e {
                assert_bounded_excerpt(&u.excerpt);
            }
        }
    }
}

const STATUSES: [u16; 12] = [200, 200, 200, 201, 204, 400, 401, 403, 404, 429, 500, 502];

/// `parse_response`: status, headers and body through `wechatpay_core::parse_response` with an accepting
/// verifier. Byte 0 chooses: bits 0-3 the status, bit 4 synthesised valid signature
/// headers (else headers are read from the input as `name: value` lines up to a blank
/// line), bits 5-6 the response type (`Transaction`, `PartnerTransaction`,
/// `ParkingTransaction`, `Value`). The rest is headers and/or body.
pub fn parse_response(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let status = StatusCode::from_u16(STATUSES[usize::from(mode & 0x0f) % STATUSES.len()]).expect("valid status");
    let (mut headers, body) = if mode & 0x10 != 0 { (HeaderMap::new(), rest) } else { split_headers(rest) };
    if mode & 0x10 != 0 {
        valid_signature_headers(&mut headers);
    }
    match (mode >> 5) & 0x03 {
        0 => parse_one::<Transaction>(status, &headers, body),
        1 => parse_one::<PartnerTransaction>(status, &headers, body),
        2 => parse_one::<ParkingTransaction>(status, &headers, body),
        _ => parse_one::<Value>(status, &headers, body),
    }
}

/// `error_body`: a non-2xx answer (byte 0 picks the status; bit 7 adds valid signature
/// headers) never parses into a value, and becomes `Api` (a JSON error object with a
/// string `code`) or `UnexpectedResponse`, or a verification error when signed.
pub fn error_body(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else { return };
    let errors = [400u16, 401, 403, 404, 409, 429, 500, 502, 503, 504, 301, 100];
    let status = StatusCode::from_u16(errors[usize::from(mode & 0x7f) % errors.len()]).expect("valid status");
    let mut headers = HeaderMap::new();
    if mode & 0x80 != 0 {
        valid_signature_headers(&mut headers);
    }
    match parse_as::<Transaction>(status, &headers, body) {
        Ok(_) => panic!("an error status parsed into a value"),
        Err(Error::Api(api)) => {
            assert_eq!(api.status, status);
            assert_eq!(api.verified, mode & 0x80 != 0);
            // serde skips unknown fields without validating them (UTF-8 inside an ignored
            // string, for one), so a strict `Value` parse may fail where the error body
            // parsed: compare codes only when it succeeds.
            if let Ok(v) = serde_json::from_slice::<Value>(body) {
                assert_eq!(v.get("code").and_then(Value::as_str), Some(api.code.as_str()), "code kept verbatim");
            }
        }
        Err(Error::UnexpectedResponse(u)) => {
            assert_eq!(u.status, status);
            assert_bounded_excerpt(&u.excerpt);
        }
        Err(Error::Verification(_)) => assert!(mode & 0x80 == 0, "valid-looking headers pass an accepting verifier"),
        Err(other) => panic!("unexpected error kind for an error status: {other:?}"),
    }
}

/// An excerpt of an untrusted body shows at most 160 of its characters, each escaped (at most
/// 8 characters, `\u{2069}`), plus `… (N bytes in all)`: bounded, one line, no control left.
fn assert_bounded_excerpt(excerpt: &str) {
    assert!(excerpt.chars().count() <= 160 * 8 + 32, "excerpts are bounded");
    assert!(!excerpt.chars().any(wechatpay_core::untrusted::needs_escape), "excerpts are escaped");
}

#[allow(unused_mut, clippy::vec_init_then_push)]
fn backends() -> Vec<Backend> {
    let mut v = Vec::new();
    #[cfg(feature = "aws-lc-rs")]
    v.push(Backend::AwsLcRs);
    #[cfg(feature = "rustcrypto")]
    v.push(Backend::RustCrypto);
    v
}

/// `keys`: PEM/DER private keys, SPKI public keys, certificate chains and public-key ids,
/// on every backend compiled in. Byte 0 selects the loader. Whatever loads is at least
/// RSA-2048, and a private key that loads can sign.
pub fn keys(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    if rest.len() > 16 * 1024 {
        return; // keys are small; very large inputs only slow the fuzzer down
    }
    for backend in backends() {
        match mode % 5 {
            0 => {
                if let Ok(k) = PrivateKey::from_pem_with(rest, backend) {
                    assert!(k.bits() >= 2048);
                    assert!(!format!("{k:?}").is_empty());
                }
            }
            1 => {
                if let Ok(k) = PrivateKey::from_der_with(rest, backend) {
                    assert!(k.bits() >= 2048);
                }
            }
            2 => {
                if let Ok(k) = PublicKey::from_pem_with(rest, backend) {
                    assert!(k.modulus_len() >= 256);
                    assert!(k.verify(b"message", &[0u8; 8]).is_err());
                }
            }
            3 => {
                let mut store = KeyStore::with_backend(backend);
                if let Ok(serials) = store.add_platform_certificates(rest) {
                    for s in &serials {
                        assert!(!s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
                        assert!(store.knows(s));
                    }
                }
            }
            _ => {
                // "<id>\n<pem>"
                let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                let Ok(id) = std::str::from_utf8(&rest[..split]) else { return };
                let pem = rest.get(split + 1..).unwrap_or_default();
                let mut store = KeyStore::with_backend(backend);
                if store.add_public_key(id, pem).is_ok() {
                    assert!(id.starts_with("PUB_KEY_ID_") && store.knows(id));
                }
            }
        }
    }
}

macro_rules! check_id {
    ($ty:ty, $s:expr, $max:expr) => {{
        let s: &str = $s;
        match <$ty>::new(s) {
            Ok(id) => {
                assert_eq!(id.as_str(), s);
                assert_eq!(id.to_string(), s);
                assert!(!s.is_empty() && s.len() <= $max && s.is_ascii());
                assert_eq!(s.parse::<$ty>().ok(), Some(id));
            }
            Err(e) => {
                assert!(s.parse::<$ty>().is_err());
                assert!(!e.to_string().is_empty());
            }
        }
    }};
}

/// `ids`: every id newtype and `Rfc3339::parse`. Accepted values are kept verbatim and
/// bounded; the constructors and `FromStr` agree; times parse back to themselves.
pub fn ids(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    check_id!(OutTradeNo, s, 32);
    check_id!(TransactionId, s, 32);
    check_id!(MchId, s, 32);
    check_id!(SubMchId, s, 32);
    check_id!(Nonce, s, 32);
    if let Ok(serial) = SerialNo::new(s) {
        assert_eq!(serial.as_str(), s.to_ascii_uppercase(), "serials normalise to upper case");
        assert_eq!(SerialNo::new(serial.as_str()).ok(), Some(serial.clone()));
    }
    match Rfc3339::parse(s) {
        Ok(t) => {
            assert_eq!(t.as_str(), s);
            assert!(t.offset_minutes().abs() < 24 * 60);
            let _ = t.unix_timestamp();
            let json = serde_json::to_string(&t).expect("serialises");
            let back: Rfc3339 = serde_json::from_str(&json).expect("parses back");
            assert_eq!(back, t);
        }
        Err(why) => {
            assert!(!why.is_empty());
            let json = serde_json::to_string(s).expect("a string serialises");
            assert!(serde_json::from_str::<Rfc3339>(&json).is_err(), "serde and parse agree");
        }
    }
}

macro_rules! check_enum {
    ($ty:ty, $s:expr, $json:expr) => {{
        let s: &str = $s;
        let v: $ty = serde_json::from_value(Value::String(s.to_owned())).expect("an open enum takes any string");
        assert_eq!(v.as_str(), s);
        assert_eq!(v, <$ty>::from(s));
        assert_eq!(v, <$ty>::from(s.to_owned()));
        assert_eq!(v.is_known(), <$ty>::KNOWN.contains(&v));
        assert_eq!(serde_json::to_value(&v).expect("serialises"), Value::String(s.to_owned()));
        if let Ok(w) = serde_json::from_slice::<$ty>($json) {
            let back: $ty = serde_json::from_str(&serde_json::to_string(&w).expect("serialises")).expect("parses");
            assert_eq!(back, w);
        }
    }};
}

/// `open_enums`: every open enum takes any string (from JSON or `From`), keeps it verbatim,
/// knows exactly its known values, and round-trips. The input is used both as the string
/// and as raw JSON.
pub fn open_enums(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    check_enum!(TradeType, &s, data);
    check_enum!(TradeState, &s, data);
    check_enum!(ParkingTradeState, &s, data);
    check_enum!(PlateColor, &s, data);
    check_enum!(PromotionScope, &s, data);
    check_enum!(PromotionType, &s, data);
    check_enum!(Currency, &s, data);
    check_enum!(TradeScene, &s, data);
    check_enum!(UserRepaid, &s, data);
    check_enum!(ErrorCode, &s, data);
}

/// `pem`-wraps DER the way `openssl x509 -outform PEM` does (Base64, 64 characters a line).
fn pem_wrap(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("Base64 is ASCII")).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// The same DER with its outermost length re-encoded one byte longer than DER allows: the
/// long form for a length below 128 (`05` → `81 05`), or one leading zero byte in the long
/// form (`82 01 0A` → `83 00 01 0A`). `None` when the header is not even well-formed BER.
fn pad_outer_length(der: &[u8]) -> Option<Vec<u8>> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let mut out = vec![tag];
    if first < 0x80 {
        out.extend([0x81, first]);
        out.extend_from_slice(rest);
    } else {
        out.extend([first + 1, 0x00]);
        out.extend_from_slice(rest);
    }
    Some(out)
}

/// `der`: raw DER straight into the loaders that read it with the core's DER field
/// locator, on every backend compiled in. Byte 0 chooses: 0 a private key
/// (`PrivateKey::from_der_with`, PKCS#8 or PKCS#1), 1 a SubjectPublicKeyInfo
/// (`PublicKey::from_spki_der_with`), 2 an X.509 certificate (wrapped in PEM here, for
/// `KeyStore::add_platform_certificates`). Whatever loads is RSA ≥ 2048, and the same input
/// with its outermost length in a non-minimal form is refused: the locator is strict DER.
pub fn der(data: &[u8]) {
    let Some((&mode, der)) = data.split_first() else { return };
    if der.len() > 16 * 1024 {
        return; // keys and certificates are small
    }
    for backend in backends() {
        let loads = |der: &[u8]| match mode % 3 {
            0 => PrivateKey::from_der_with(der, backend).map(|k| assert!(k.bits() >= 2048)).is_ok(),
            1 => PublicKey::from_spki_der_with(der, backend).map(|k| assert!(k.modulus_len() >= 256)).is_ok(),
            _ => {
                let mut store = KeyStore::with_backend(backend);
                match store.add_platform_certificates(pem_wrap("CERTIFICATE", der).as_bytes()) {
                    Ok(serials) => {
                        assert_eq!(serials.len(), 1);
                        let s = &serials[0];
                        assert!(!s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
                        assert!(store.knows(s));
                        true
                    }
                    Err(_) => false,
                }
            }
        };
        if loads(der) {
            let padded = pad_outer_length(der).expect("accepted DER has a tag and a length");
            assert!(!loads(&padded), "a non-minimal DER length was accepted");
        }
    }
}

/// The APIv3 key of the notification fixtures (throwaway, `tests/data/notifications/`).
pub const NOTIFY_API_V3_KEY: &str = "TestOnlyApiV3Key0123456789abcdef";

/// `event_type\nplaintext` → a notification envelope around `plaintext` encrypted with
/// [`NOTIFY_API_V3_KEY`] (AAD `transaction`), so the fuzzer reaches the resource decoding.
fn sealed_notification(input: &[u8]) -> Vec<u8> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use base64::Engine as _;
    let split = input.iter().position(|&b| b == b'\n').unwrap_or(input.len());
    let event = String::from_utf8_lossy(&input[..split]);
    let plaintext = input.get(split + 1..).unwrap_or_default();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(NOTIFY_API_V3_KEY.as_bytes()).expect("32-byte key");
    let sealed = cipher
        .encrypt(b"0123456789ab".into(), Payload { msg: plaintext, aad: b"transaction" })
        .expect("AES-GCM encryption of a short input");
    serde_json::to_vec(&serde_json::json!({
        "id": "EV-fuzz", "create_time": "2015-05-20T13:29:35+08:00", "event_type": event,
        "resource_type": "encrypt-resource", "summary": "",
        "resource": { "algorithm": "AEAD_AES_256_GCM", "nonce": "0123456789ab", "associated_data": "transaction",
                      "original_type": "transaction",
                      "ciphertext": base64::engine::general_purpose::STANDARD.encode(sealed) }
    }))
    .expect("a JSON value serialises")
}

/// `notification`: a [`Receiver`](wechatpay_core::notify::Receiver) with an accepting
/// verifier and the fixtures' APIv3 key, on every backend compiled in. Byte 0 chooses: bits 0-1
/// the receiver (direct, partner, parking with a sub-merchant, partner with a sub-merchant),
/// bit 2 synthesised valid signature headers (else `name: value` header lines up to a blank
/// line), bit 3 seal mode (the rest is `event_type\nplaintext`, encrypted here), bit 4 a `GET`,
/// bit 5 no kind named (the receiver tells it; the sub-merchant restriction stays). Never
/// panics; every backend agrees; whatever is returned belongs to the expected merchant and is
/// of the named kind; the answer is `204` for a notification and a `4xx` with the fixed body
/// otherwise.
pub fn notification(data: &[u8]) {
    use std::time::{Duration, SystemTime};

    use wechatpay_core::ApiV3Key;
    use wechatpay_core::notify::{self, Kind, Receiver, Resource};

    let Some((&mode, rest)) = data.split_first() else { return };
    let ours = MchId::new(crate::credentials::MCHID).expect("valid mchid");
    let sub = SubMchId::new("1900000109").expect("valid sub_mchid");
    let (kind, sub_mchid) = match mode & 0x03 {
        0 => (Kind::Direct, None),
        1 => (Kind::Partner, None),
        2 => (Kind::Parking, Some(sub)),
        _ => (Kind::Partner, Some(sub)),
    };
    let kind = if mode & 0x40 != 0 { Kind::Refund } else { kind };
    let kind = (mode & 0x20 == 0).then_some(kind);
    let (mut headers, body) = if mode & 0x04 != 0 { (HeaderMap::new(), rest) } else { split_headers(rest) };
    if mode & 0x04 != 0 {
        valid_signature_headers(&mut headers);
    }
    let sealed;
    let body = if mode & 0x08 != 0 {
        sealed = sealed_notification(body);
        &sealed[..]
    } else {
        body
    };
    let method = if mode & 0x10 != 0 { http::Method::GET } else { http::Method::POST };
    let mut outcomes = backends().into_iter().map(|backend| {
        let key = ApiV3Key::new(NOTIFY_API_V3_KEY).expect("valid key").with_backend(backend);
        let mut receiver =
            Receiver::new(AcceptAll, key, ours.clone()).clock(|| SystemTime::UNIX_EPOCH + Duration::from_secs(NOW));
        if let Some(kind) = kind {
            receiver = receiver.kind(kind);
        }
        if let Some(sub) = &sub_mchid {
            receiver = receiver.sub_merchant(sub.clone());
        }
        receiver.receive(&method, &headers, body)
    });
    let first = outcomes.next().expect("a backend");
    for other in outcomes {
        assert_eq!(other, first, "the backends disagree");
    }
    let answer = notify::answer(&first);
    let sub = sub_mchid.as_ref().map(SubMchId::as_str);
    match first {
        Ok(n) => {
            assert_eq!(answer.status(), StatusCode::NO_CONTENT);
            if let (Some(named), Some(typed)) = (kind, n.resource.kind()) {
                assert_eq!(named, typed, "a named kind is the kind of what is returned");
            }
            let is_ours = |v: Option<&str>, id: &str| v.is_none_or(|v| v == id);
            match &n.resource {
                Resource::Transaction(t) => {
                    assert_eq!(t.mchid, ours.as_str());
                    assert!(sub.is_none(), "a direct payment has no sub-merchant");
                }
                Resource::PartnerTransaction(t) => {
                    assert_eq!(t.sp_mchid, ours.as_str());
                    assert!(sub.is_none_or(|s| t.sub_mchid == s));
                }
                Resource::ParkingTransaction(t) => {
                    assert_eq!(t.sp_mchid.as_deref(), Some(ours.as_str()));
                    assert!(sub.is_none_or(|s| t.sub_mchid.as_deref() == Some(s)));
                }
                Resource::EntranceStateChange(e) => {
                    assert_eq!(e.sp_mchid.as_deref(), Some(ours.as_str()));
                    assert!(sub.is_none_or(|s| e.sub_mchid.as_deref() == Some(s)));
                }
                Resource::Refund(r) => {
                    assert!(r.mchid.is_some() || r.sp_mchid.is_some(), "a refund names its merchant");
                    assert!(
                        is_ours(r.mchid.as_deref(), ours.as_str()) && is_ours(r.sp_mchid.as_deref(), ours.as_str())
                    );
                    assert!(sub.is_none_or(|s| r.sub_mchid.as_deref() == Some(s)));
                }
                Resource::Other(v) => {
                    let field = |f: &str| v.get(f).map(|x| x.as_str().unwrap_or("(not a string)"));
                    assert!(is_ours(field("mchid"), ours.as_str()) && is_ours(field("sp_mchid"), ours.as_str()));
                    assert!(sub.is_none_or(|s| is_ours(field("sub_mchid"), s)));
                }
                resource => panic!("{kind:?} gave {resource:?}"),
            }
        }
        Err(e) => {
            assert!(answer.status().is_client_error());
            assert_eq!(answer.body().as_slice(), notify::FAIL_BODY.as_bytes());
            assert!(!e.to_string().is_empty() && !e.check().is_empty());
        }
    }
}

/// `bill_reader`: byte 0 picks the bill kind (bit 0), whether the expected hash is the
/// bytes' own (bit 1) and the chunk size (bits 2–7, + 1); the rest is the file (plain or
/// gzip). The reader never panics, the records and the verdict do not depend on how the
/// bytes are chunked, a proved file's row count is the rows handed out, and a wrong hash is
/// never proved.
pub fn bill_reader(data: &[u8]) {
    use wechatpay_core::bill::{BillError, BillHash, BillKind, BillReader, Record};
    let Some((&mode, file)) = data.split_first() else { return };
    let kind = if mode & 1 == 0 { BillKind::Trade } else { BillKind::FundFlow };
    let own = BillHash::sha1_of(file);
    let expected = if mode & 2 == 0 { own } else { BillHash::sha1_of(b"not this file") };
    let chunk = usize::from(mode >> 2) + 1;
    let run = |size: usize| {
        let mut records: Vec<Record> = Vec::new();
        let mut reader = BillReader::new(kind, expected);
        for part in file.chunks(size) {
            if let Err(e) = reader.feed(part, &mut |r| records.push(r)) {
                return (records, Err(e));
            }
        }
        let verdict = reader.finish(&mut |r| records.push(r));
        (records, verdict)
    };
    let (records, verdict) = run(chunk);
    let (whole_records, whole_verdict) = run(file.len().max(1));
    assert_eq!(verdict.is_ok(), whole_verdict.is_ok(), "verdict depends on chunking");
    if let Ok(v) = &verdict {
        assert_eq!(records, whole_records);
        assert_eq!(expected, own, "a wrong hash was proved");
        let rows = records.iter().filter(|r| matches!(r, Record::Trade(_) | Record::Fund(_))).count();
        assert_eq!(v.rows, rows as u64);
        assert!(matches!(records.last(), Some(Record::TradeSummary(_) | Record::FundSummary(_))));
    }
    if let Err(BillError::HashMismatch { expected: e, actual }) = &verdict {
        assert_ne!(e, actual);
    }
}
