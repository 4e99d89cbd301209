//! Payment notifications (支付通知 / 回调, spec §8): what WeChat Pay `POST`s to a
//! `notify_url`, verified, decrypted and typed, and the answer to give it.
//!
//! [`parse_notification`] takes the request (the **raw** body bytes as received: a framework
//! that re-serialises the JSON breaks the signature), a [`Verifier`], the [`ApiV3Key`], an
//! [`Expect`] saying whose notifications this endpoint receives, and the time. It runs the
//! checks in spec §8's order and stops at the first failure, each its own
//! [`NotificationError`]:
//!
//! 1. the method is `POST`;
//! 2. the four `Wechatpay-*` signature headers, each exactly once and well-formed;
//! 3. the `WECHATPAY/SIGNTEST/` probe;
//! 4. `Wechatpay-Signature-Type`, when present, is `WECHATPAY2-SHA256-RSA2048`;
//! 5. the timestamp within [`MAX_CLOCK_SKEW_SECS`] of `now`, both directions;
//! 6. a key held for exactly `Wechatpay-Serial`;
//! 7. the RSA signature over `timestamp\nnonce\nbody\n`;
//! 8. the verified body is a notification envelope;
//! 9. `resource.algorithm` is `AEAD_AES_256_GCM`;
//! 10. decryption with the APIv3 key (a failure almost always means a wrong or reset key);
//! 11. the plaintext decodes as the resource its event announces;
//! 12. the resource belongs to the expected merchant (spec §11).
//!
//! Nothing of a notification that failed a check is returned: errors carry no body, no
//! plaintext and no header value (except an unknown serial, which names the key to fetch).
//!
//! # Direct, partner or parking: the caller says
//!
//! Direct and partner payment notifications look alike on the wire (same event
//! `TRANSACTION.SUCCESS`, same `original_type`), and so do parking ones. Each kind goes to its
//! own `notify_url`, so the endpoint knows which it serves: [`Expect`] says it, and names the
//! merchant ids the resources must carry. The fields then confirm it: a direct [`Transaction`]
//! requires `mchid`, a [`PartnerTransaction`] requires `sp_mchid` and `sub_mchid`, so a
//! partner notification sent to a direct endpoint (or the reverse) does not decode and is
//! refused ([`NotificationError::Decode`]).
//!
//! | event | [`Expect::Direct`] | [`Expect::Partner`] | [`Expect::Parking`] |
//! |---|---|---|---|
//! | `TRANSACTION.*` | [`Resource::Transaction`] | [`Resource::PartnerTransaction`] | [`Resource::ParkingTransaction`] |
//! | `VEHICLE.ENTRANCE_STATE_CHANGE` | [`Resource::Other`] | [`Resource::Other`] | [`Resource::EntranceStateChange`] |
//! | anything else | [`Resource::Other`] | [`Resource::Other`] | [`Resource::Other`] |
//!
//! A parking resource does not decode as a direct one (no `mchid`); a direct resource read as
//! parking lacks `sp_mchid` and fails the merchant check. The parking order's model is loose
//! (only `out_trade_no` and `trade_state` are required), so a *partner* order misrouted to a
//! parking endpoint of the same service provider would read as a parking order: give each kind
//! its own `notify_url`, as WeChat Pay intends.
//!
//! Merchant check (spec §11): direct `mchid`; partner `sp_mchid`, and `sub_mchid` when
//! [`Expect`] names one; parking `sp_mchid` (present and ours: the parking answer names the
//! merchant `sp_mchid` in merchant mode too), and `sub_mchid` when named. For
//! [`Resource::Other`], each of `mchid`, `sp_mchid` and (when named) `sub_mchid` that is
//! present must be ours.
//!
//! # Answering
//!
//! [`answer`] turns the outcome into the HTTP answer WeChat Pay expects: `204` on success,
//! otherwise a `4xx` with `{"code":"FAIL","message":"notification rejected"}` (a fixed
//! message: it tells a prober nothing). Acknowledge first, work after: WeChat Pay waits 5 s.
//! Handlers must be idempotent on [`Notification::id`] (redeliveries keep it).

use std::borrow::Cow;
use std::fmt;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::apiv3_key::{ApiV3Key, DecryptError};
use crate::crypto::Verifier;
use crate::ids::{MchId, SubMchId};
use crate::json;
use crate::model::open_enum::open_enum;
use crate::model::{EntranceStateChange, ParkingTransaction, PartnerTransaction, Rfc3339, Transaction};
use crate::verify;
use crate::verify::VerificationFailure;

use crate::wire::MAX_CLOCK_SKEW_SECS;

open_enum! {
    /// What happened (`event_type`).
    pub enum EventType {
        /// A payment succeeded (direct, partner and parking).
        TransactionSuccess = "TRANSACTION.SUCCESS",
        /// A parking payment failed.
        TransactionFail = "TRANSACTION.FAIL",
        /// The user repaid a parking order WeChat Pay had advanced.
        TransactionPayBack = "TRANSACTION.PAY_BACK",
        /// A car park entry's parking-service state changed.
        VehicleEntranceStateChange = "VEHICLE.ENTRANCE_STATE_CHANGE",
        /// The answer to a `POST /v3/security/echo` self-test.
        SecurityEchoSuccess = "SECURITY_ECHO.SUCCESS",
    }
}

impl EventType {
    /// Whether this is a payment event (`TRANSACTION.*`), whose resource is an order.
    pub fn is_transaction(&self) -> bool {
        self.as_str().starts_with("TRANSACTION.")
    }
}

/// Which notifications an endpoint receives, and the merchant ids their resources must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expect {
    /// A direct merchant's payments: resources are [`Transaction`]s with this `mchid`.
    Direct {
        /// The merchant's id.
        mchid: MchId,
    },
    /// A service provider's payments for sub-merchants: [`PartnerTransaction`]s.
    Partner {
        /// The service provider's id (`sp_mchid`).
        sp_mchid: MchId,
        /// When set, only this sub-merchant's notifications are accepted.
        sub_mchid: Option<SubMchId>,
    },
    /// The parking service: [`ParkingTransaction`]s and [`EntranceStateChange`]s.
    Parking {
        /// The `sp_mchid` the resources carry: the service provider's id, or the merchant's own
        /// in merchant mode.
        mchid: MchId,
        /// When set, only this sub-merchant's notifications are accepted.
        sub_mchid: Option<SubMchId>,
    },
}

/// The decrypted resource, typed by what it is (see the module docs for the rule).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Resource {
    /// A direct merchant's order.
    Transaction(Box<Transaction>),
    /// A service provider's order for a sub-merchant.
    PartnerTransaction(Box<PartnerTransaction>),
    /// A parking-service order (`TRANSACTION.SUCCESS`, `.FAIL`, `.PAY_BACK`).
    ParkingTransaction(Box<ParkingTransaction>),
    /// A parking entry's state change (`VEHICLE.ENTRANCE_STATE_CHANGE`).
    EntranceStateChange(Box<EntranceStateChange>),
    /// Any other event (refunds, the security echo, ...): the decrypted JSON as it is.
    Other(Value),
}

/// A verified, decrypted notification.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Notification {
    /// The notification id: the same for every redelivery, so the idempotency key.
    pub id: String,
    /// When it was created, as sent (RFC 3339 in practice; see [`Notification::created_at`]).
    pub create_time: String,
    /// What happened.
    pub event_type: EventType,
    /// `encrypt-resource`.
    pub resource_type: String,
    /// A summary for people (`支付成功`).
    pub summary: String,
    /// What the resource is (`transaction`, `refund`, ...), as sent.
    pub original_type: Option<String>,
    /// The decrypted resource.
    pub resource: Resource,
}

impl Notification {
    /// `create_time` as an RFC 3339 time, when it is one.
    pub fn created_at(&self) -> Option<Rfc3339> {
        Rfc3339::parse(&self.create_time).ok()
    }
}

/// Why a notification was refused. Carries no body, plaintext, key or signature.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotificationError {
    /// The request is not a `POST`.
    MethodNotPost,
    /// A signature check failed: a missing, duplicate or malformed header, the SIGNTEST probe,
    /// another signature type, a stale timestamp, an unknown serial, a malformed or wrong
    /// signature. [`NotificationError::check`] names it.
    Signature(VerificationFailure),
    /// The verified body is not a notification envelope (JSON object with `id`,
    /// `event_type` and `resource`).
    Envelope {
        /// Where the JSON error is (1-based).
        line: usize,
        /// Column of the JSON error (1-based).
        column: usize,
    },
    /// `resource.algorithm` is not `AEAD_AES_256_GCM`.
    UnsupportedAlgorithm,
    /// `resource.nonce` or `resource.ciphertext` is malformed.
    InvalidResource(&'static str),
    /// The GCM tag did not verify: almost always a wrong or reset APIv3 key.
    Decryption,
    /// The decrypted resource does not decode as what its event announces (or, for a
    /// direct endpoint, is a partner resource, and the reverse).
    Decode {
        /// Where the JSON error is (1-based).
        line: usize,
        /// Column of the JSON error (1-based).
        column: usize,
        /// The required field the resource lacks, when that is the error (a name from the
        /// model, never from the notification): `mchid` for a partner resource sent to a
        /// direct endpoint.
        missing_field: Option<String>,
    },
    /// The resource belongs to another merchant (spec §11).
    WrongMerchant {
        /// The field that is not ours (`mchid`, `sp_mchid`, `sub_mchid`).
        field: &'static str,
    },
}

impl NotificationError {
    /// A short, fixed name of the check that failed, for logs and metrics (`"SIGNTEST probe"`,
    /// `"stale timestamp"`, `"unknown serial"`, `"signature mismatch"`, `"decryption"`, ...).
    pub fn check(&self) -> &'static str {
        match self {
            Self::MethodNotPost => "method",
            Self::Signature(f) => match f {
                VerificationFailure::MissingHeader(_) => "missing header",
                VerificationFailure::DuplicateHeader(_) => "duplicate header",
                VerificationFailure::InvalidHeader(_) => "invalid header",
                VerificationFailure::SignTestProbe => "SIGNTEST probe",
                VerificationFailure::UnsupportedSignatureType => "unsupported signature type",
                VerificationFailure::InvalidTimestamp => "invalid timestamp",
                VerificationFailure::StaleTimestamp { .. } => "stale timestamp",
                VerificationFailure::UnknownSerial(_) => "unknown serial",
                VerificationFailure::InvalidBase64 => "invalid signature encoding",
                VerificationFailure::WrongSignatureLength { .. } => "wrong signature length",
                VerificationFailure::SignatureMismatch => "signature mismatch",
                VerificationFailure::AnswerMismatch { .. } => "answer mismatch",
                VerificationFailure::Certificate(_) => "certificate",
                VerificationFailure::Verifier(_) => "verifier",
            },
            Self::Envelope { .. } => "envelope",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::InvalidResource(_) => "invalid resource",
            Self::Decryption => "decryption",
            Self::Decode { .. } => "resource does not decode",
            Self::WrongMerchant { .. } => "another merchant",
        }
    }

    /// Whether this is WeChat Pay's `WECHATPAY/SIGNTEST/` probe (count it; refusing it is
    /// the expected answer).
    pub fn is_sign_test_probe(&self) -> bool {
        matches!(self, Self::Signature(VerificationFailure::SignTestProbe))
    }

    /// The HTTP status to answer with: `405` for another method, `401` for a failed
    /// signature check, `400` for the rest.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MethodNotPost => StatusCode::METHOD_NOT_ALLOWED,
            Self::Signature(_) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for NotificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "notification rejected ({}): ", self.check())?;
        match self {
            Self::MethodNotPost => f.write_str("the method is not POST"),
            Self::Signature(failure) => failure.fmt(f),
            Self::Envelope { line, column } => {
                write!(f, "the body is not a notification envelope (JSON error at line {line}, column {column})")
            }
            Self::UnsupportedAlgorithm => f.write_str("resource.algorithm is not AEAD_AES_256_GCM"),
            Self::InvalidResource(why) => f.write_str(why),
            Self::Decryption => f.write_str("decryption failed (wrong or reset APIv3 key?)"),
            Self::Decode { line, column, missing_field: Some(field) } => write!(
                f,
                "the decrypted resource lacks the required field `{field}` (JSON error at line {line}, column {column})"
            ),
            Self::Decode { line, column, missing_field: None } => {
                write!(f, "the decrypted resource does not decode (JSON error at line {line}, column {column})")
            }
            Self::WrongMerchant { field } => write!(f, "answer for another merchant: its {field} is not ours"),
        }
    }
}

impl std::error::Error for NotificationError {}

/// The notification envelope (plaintext JSON). The resource's strings are borrowed from the
/// body where JSON escapes allow (the ciphertext is most of the body).
#[derive(Deserialize)]
struct Envelope<'a> {
    id: String,
    #[serde(default)]
    create_time: String,
    /// Borrowed: a known event needs no copy.
    #[serde(borrow)]
    event_type: Cow<'a, str>,
    #[serde(default)]
    resource_type: String,
    #[serde(default)]
    summary: String,
    #[serde(borrow)]
    resource: RawResource<'a>,
}

/// [`crate::EncryptedResource`], borrowed.
#[derive(Deserialize)]
struct RawResource<'a> {
    #[serde(borrow)]
    algorithm: Cow<'a, str>,
    #[serde(borrow)]
    ciphertext: Cow<'a, str>,
    #[serde(borrow)]
    nonce: Cow<'a, str>,
    #[serde(default, borrow)]
    associated_data: Option<Cow<'a, str>>,
    #[serde(default)]
    original_type: Option<String>,
}

/// Verifies, decrypts and types a notification request (see the module docs for the checks
/// and the typing rule). `request`'s body must be the raw bytes as received; `now` is Unix
/// seconds (inject it in tests).
///
/// # Errors
/// The first [`NotificationError`] found.
pub fn parse_notification<B: AsRef<[u8]>>(
    request: &Request<B>,
    verifier: &dyn Verifier,
    key: &ApiV3Key,
    expect: &Expect,
    now: u64,
) -> Result<Notification, NotificationError> {
    parse_notification_parts(request.method(), request.headers(), request.body().as_ref(), verifier, key, expect, now)
}

/// [`parse_notification`] from the method, headers and raw body bytes.
///
/// # Errors
/// As [`parse_notification`].
pub fn parse_notification_parts(
    method: &Method,
    headers: &http::HeaderMap,
    body: &[u8],
    verifier: &dyn Verifier,
    key: &ApiV3Key,
    expect: &Expect,
    now: u64,
) -> Result<Notification, NotificationError> {
    if method != Method::POST {
        return Err(NotificationError::MethodNotPost);
    }
    let sig = verify::signature_headers(headers).map_err(NotificationError::Signature)?;
    verify::verify_signature(
        verifier,
        &sig,
        body,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(now),
        MAX_CLOCK_SKEW_SECS,
    )
    .map_err(NotificationError::Signature)?;
    let envelope: Envelope<'_> = json::object_from_slice(body)
        .map_err(|e| NotificationError::Envelope { line: e.line(), column: e.column() })?;
    let r = &envelope.resource;
    let plaintext = key.decrypt_parts(&r.algorithm, &r.nonce, &r.ciphertext, r.associated_data.as_deref()).map_err(
        |e| match e {
            DecryptError::UnsupportedAlgorithm => NotificationError::UnsupportedAlgorithm,
            DecryptError::InvalidNonce => NotificationError::InvalidResource("resource.nonce is not 12 bytes"),
            DecryptError::Authentication => NotificationError::Decryption,
            // (`decrypt_parts` checks no AAD and returns bytes, so only the first can occur.)
            DecryptError::InvalidCiphertext | DecryptError::UnexpectedAssociatedData { .. } | DecryptError::NotText => {
                NotificationError::InvalidResource(
                    "resource.ciphertext is not standard Base64 of at least the 16-byte tag",
                )
            }
        },
    )?;
    let event_type = match envelope.event_type {
        Cow::Borrowed(name) => EventType::from(name),
        Cow::Owned(name) => EventType::from(name),
    };
    let resource = decode_resource(&event_type, expect, &plaintext)?;
    Ok(Notification {
        id: envelope.id,
        create_time: envelope.create_time,
        event_type,
        resource_type: envelope.resource_type,
        summary: envelope.summary,
        original_type: envelope.resource.original_type,
        resource,
    })
}

fn decode<T: DeserializeOwned>(plaintext: &[u8]) -> Result<T, NotificationError> {
    json::object_from_slice(plaintext).map_err(decode_error)
}

fn decode_error(e: serde_json::Error) -> NotificationError {
    NotificationError::Decode { line: e.line(), column: e.column(), missing_field: missing_field(&e) }
}

/// The field of a "missing field" error. serde names only fields the model declares, so the
/// name is ours; other messages (which may quote the resource's values) are not looked at.
fn missing_field(e: &serde_json::Error) -> Option<String> {
    if !e.is_data() {
        return None;
    }
    let message = e.to_string();
    let name = message.strip_prefix("missing field `")?.split('`').next()?;
    let plain = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    (plain && !name.is_empty() && name.len() <= 64).then(|| name.to_owned())
}

fn ensure(ok: bool, field: &'static str) -> Result<(), NotificationError> {
    if ok { Ok(()) } else { Err(NotificationError::WrongMerchant { field }) }
}

fn decode_resource(event: &EventType, expect: &Expect, plaintext: &[u8]) -> Result<Resource, NotificationError> {
    match expect {
        Expect::Direct { mchid } if event.is_transaction() => {
            let t: Transaction = decode(plaintext)?;
            ensure(t.mchid == mchid.as_str(), "mchid")?;
            Ok(Resource::Transaction(Box::new(t)))
        }
        Expect::Partner { sp_mchid, sub_mchid } if event.is_transaction() => {
            let t: PartnerTransaction = decode(plaintext)?;
            ensure(t.sp_mchid == sp_mchid.as_str(), "sp_mchid")?;
            ensure(sub_mchid.as_ref().is_none_or(|s| t.sub_mchid == s.as_str()), "sub_mchid")?;
            Ok(Resource::PartnerTransaction(Box::new(t)))
        }
        Expect::Parking { mchid, sub_mchid } if event.is_transaction() => {
            let t: ParkingTransaction = decode(plaintext)?;
            parking_owner(t.sp_mchid.as_deref(), t.sub_mchid.as_deref(), mchid, sub_mchid.as_ref())?;
            Ok(Resource::ParkingTransaction(Box::new(t)))
        }
        Expect::Parking { mchid, sub_mchid } if *event == EventType::VehicleEntranceStateChange => {
            let e: EntranceStateChange = decode(plaintext)?;
            parking_owner(e.sp_mchid.as_deref(), e.sub_mchid.as_deref(), mchid, sub_mchid.as_ref())?;
            Ok(Resource::EntranceStateChange(Box::new(e)))
        }
        _ => {
            let v: Value = json::from_slice(plaintext).map_err(decode_error)?;
            other_owner(&v, expect)?;
            Ok(Resource::Other(v))
        }
    }
}

fn parking_owner(
    owner: Option<&str>,
    sub: Option<&str>,
    mchid: &MchId,
    sub_mchid: Option<&SubMchId>,
) -> Result<(), NotificationError> {
    ensure(owner == Some(mchid.as_str()), "sp_mchid")?;
    ensure(sub_mchid.is_none_or(|s| sub == Some(s.as_str())), "sub_mchid")
}

/// For an untyped resource: each merchant field that is present must be ours.
fn other_owner(v: &Value, expect: &Expect) -> Result<(), NotificationError> {
    let matches =
        |field: &'static str, ours: &str| ensure(v.get(field).is_none_or(|x| x.as_str() == Some(ours)), field);
    match expect {
        Expect::Direct { mchid } => matches("mchid", mchid.as_str()),
        Expect::Partner { sp_mchid, sub_mchid } => {
            matches("sp_mchid", sp_mchid.as_str())?;
            sub_mchid.as_ref().map_or(Ok(()), |s| matches("sub_mchid", s.as_str()))
        }
        Expect::Parking { mchid, sub_mchid } => {
            matches("sp_mchid", mchid.as_str())?;
            matches("mchid", mchid.as_str())?;
            sub_mchid.as_ref().map_or(Ok(()), |s| matches("sub_mchid", s.as_str()))
        }
    }
}

/// The body of every failure answer: fixed, so it tells a prober nothing.
pub const FAIL_BODY: &str = r#"{"code":"FAIL","message":"notification rejected"}"#;
/// The body of [`answer_retry_later`].
pub const RETRY_LATER_BODY: &str = r#"{"code":"FAIL","message":"try again later"}"#;

/// The answer WeChat Pay expects for `outcome`: `204 No Content` on success; on failure the
/// error's [`NotificationError::status`] with [`FAIL_BODY`]. WeChat Pay redelivers anything
/// but a 2xx.
///
/// `T` is whatever the handler made of the notification, so
/// `answer(&parse_notification(..).map(handle))` works.
pub fn answer<T>(outcome: &Result<T, NotificationError>) -> Response<Vec<u8>> {
    match outcome {
        Ok(_) => answer_success(),
        Err(e) => failure(e.status(), FAIL_BODY),
    }
}

/// `204 No Content`: the notification was received (acknowledge first, work after).
pub fn answer_success() -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// `500` with [`RETRY_LATER_BODY`]: the notification verified but could not be handled now
/// (storage down, ...); WeChat Pay will deliver it again.
pub fn answer_retry_later() -> Response<Vec<u8>> {
    failure(StatusCode::INTERNAL_SERVER_ERROR, RETRY_LATER_BODY)
}

fn failure(status: StatusCode, body: &'static str) -> Response<Vec<u8>> {
    let mut response = Response::new(body.as_bytes().to_vec());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
