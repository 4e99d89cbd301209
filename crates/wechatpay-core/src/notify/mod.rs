//! Payment and refund notifications (支付通知 / 退款通知 / 回调, PROTOCOL.md §8, spec §15): what WeChat Pay `POST`s to a
//! `notify_url`, verified, decrypted and typed, and the answer to give it.
//!
//! A [`Receiver`] holds what an endpoint needs — the WeChat Pay keys (a [`Verifier`]), the
//! [`ApiV3Key`], the merchant id its resources must carry, the clock — and
//! [`Receiver::receive`] takes the method, the headers and the **raw** body bytes as received
//! (a framework that re-serialises the JSON breaks the signature):
//!
//! ```
//! # use std::time::{Duration, SystemTime};
//! # use wechatpay_core::{ApiV3Key, KeyStore, MchId};
//! use wechatpay_core::notify::{self, Receiver, Resource};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let data = |name: &str| std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")));
//! let mut keys = KeyStore::new();
//! keys.add_public_key("PUB_KEY_ID_0114232019092600000000000000000001", &data("wechatpay_pub.pem")?)?;
//! keys.add_platform_certificates(&data("platform_cert.pem")?)?;
//! let key = ApiV3Key::from_file(format!("{}/tests/data/notifications/apiv3_key.txt", env!("CARGO_MANIFEST_DIR")))?;
//! let receiver = Receiver::new(keys, key, MchId::new("1230000109")?)
//! #   .clock(|| SystemTime::UNIX_EPOCH + Duration::from_secs(1554208460))
//!     ; // .sub_merchant(..), .kind(..) and .clock(..) when needed
//! # let mut headers = http::HeaderMap::new();
//! # for line in String::from_utf8(data("notifications/partner_success.headers")?)?.lines() {
//! #     let (name, value) = line.split_once(": ").ok_or("a header line")?;
//! #     headers.insert(http::HeaderName::from_bytes(name.as_bytes())?, value.parse()?);
//! # }
//! # let body = data("notifications/partner_success.body")?;
//! // In the handler: method, headers and the raw body bytes.
//! let outcome = receiver.receive(&http::Method::POST, &headers, &body);
//! if let Ok(n) = &outcome {
//!     // Direct, partner, parking: told apart by the resource itself.
//!     assert!(matches!(n.resource, Resource::PartnerTransaction(_)));
//! }
//! let response = notify::answer(&outcome); // 204, or a 4xx with a fixed FAIL body
//! # assert_eq!(response.status(), 204);
//! # Ok(())
//! # }
//! ```
//!
//! It runs the checks in PROTOCOL.md §8's order and stops at the first failure, each its own
//! [`NotificationError`]:
//!
//! 1. the method is `POST`;
//! 2. the four `Wechatpay-*` signature headers, each exactly once and well-formed;
//! 3. the `WECHATPAY/SIGNTEST/` probe;
//! 4. `Wechatpay-Signature-Type`, when present, is `WECHATPAY2-SHA256-RSA2048`;
//! 5. the timestamp within [`MAX_CLOCK_SKEW_SECS`] of the receiver's clock, both directions;
//! 6. a key held for exactly `Wechatpay-Serial`;
//! 7. the RSA signature over `timestamp\nnonce\nbody\n`;
//! 8. the verified body is a notification envelope;
//! 9. `resource.algorithm` is `AEAD_AES_256_GCM`;
//! 10. decryption with the APIv3 key (a failure almost always means a wrong or reset key);
//! 11. the plaintext decodes as the resource its event and fields say it is;
//! 12. the resource belongs to the merchant (PROTOCOL.md §11);
//! 13. when the receiver was told a [`Kind`], the resource is of that kind.
//!
//! Nothing of a notification that failed a check is returned: errors carry no body, no
//! plaintext and no header value (except an unknown serial, which names the key to fetch).
//!
//! # Direct, partner, parking or refund: the event and the resource say
//!
//! Merchants point every kind at one `notify_url`, so the receiver tells the [`Kind`] from
//! the event and the decrypted resource (PROTOCOL.md §15's routing rule, never by trying parsers in
//! turn):
//!
//! | event | resource | kind | typed as |
//! |---|---|---|---|
//! | `TRANSACTION.*` | `trade_scene` `PARKING` or `parking_info` | parking | [`Resource::ParkingTransaction`] |
//! | `TRANSACTION.FAIL`, `TRANSACTION.PAY_BACK` | (any) | parking | [`Resource::ParkingTransaction`] |
//! | `TRANSACTION.*` | `sp_mchid` or `sub_mchid` | partner | [`Resource::PartnerTransaction`] |
//! | `TRANSACTION.*` | `mchid` | direct | [`Resource::Transaction`] |
//! | `TRANSACTION.*` | none of these, or `original_type` not `transaction` | — | [`NotificationError::UnknownKind`] |
//! | `VEHICLE.ENTRANCE_STATE_CHANGE` | | parking | [`Resource::EntranceStateChange`] |
//! | `REFUND.*` | `original_type` absent or `refund` | refund | [`Resource::Refund`] (direct or partner) |
//! | `REFUND.*` | `original_type` another one | — | [`NotificationError::UnknownKind`] |
//! | anything else (`SECURITY_ECHO.SUCCESS`, ...) | | — | [`Resource::Other`] |
//!
//! [`Receiver::kind`] names the kind an endpoint takes; it is then enforced: payment
//! resources are read as that kind's model (a partner order at a direct receiver lacks
//! `mchid` and does not decode, [`NotificationError::Decode`] saying what it looks like), and
//! one that decodes but is of another kind is refused ([`NotificationError::WrongKind`]: a
//! partner order at a parking receiver). Other events at a named receiver are kept untyped
//! ([`Resource::Other`]), an entry-state event at a direct or partner receiver included, and so
//! is a refund at a direct, partner or parking receiver: one `notify_url` for payments and
//! refunds (as merchants usually have) wants a receiver with no kind named. A
//! [`Kind::Refund`] receiver takes refunds (typed) and refuses payments
//! ([`NotificationError::WrongKind`]).
//!
//! Merchant check (PROTOCOL.md §11), with the receiver's merchant id: direct `mchid`; partner
//! `sp_mchid`; parking `sp_mchid` (present and ours: the parking answer names the merchant
//! `sp_mchid` in merchant mode too); refunds: a direct refund's `mchid`, a partner refund's
//! `sp_mchid` (with a `sub_mchid`), each of the two present ours and at least one present.
//! With [`Receiver::sub_merchant`], `sub_mchid` must be that one (so direct payments and
//! refunds, which have none, are refused). For [`Resource::Other`],
//! each of `mchid`, `sp_mchid` and (when restricted) `sub_mchid` that is present must be ours.
//!
//! # Answering
//!
//! [`answer`] turns the outcome into the HTTP answer WeChat Pay expects: `204` on success,
//! otherwise a `4xx` with `{"code":"FAIL","message":"notification rejected"}` (a fixed
//! message: it tells a prober nothing). Acknowledge first, work after: WeChat Pay waits 5 s.
//! Handlers must be idempotent on [`Notification::id`] (redeliveries keep it).

mod error;
mod kind;

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;

pub use self::error::NotificationError;
pub use self::kind::Kind;
use self::kind::Owner;
use crate::apiv3_key::{ApiV3Key, DecryptError};
use crate::config::Config;
use crate::crypto::Verifier;
use crate::ids::{MchId, SubMchId};
use crate::json;
use crate::model::open_enum::open_enum;
use crate::model::{EntranceStateChange, ParkingTransaction, PartnerTransaction, RefundNotice, Rfc3339, Transaction};
use crate::verify;
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
        /// A refund succeeded (退款成功).
        RefundSuccess = "REFUND.SUCCESS",
        /// Paying a refund out failed (退款异常): it needs an abnormal refund or the console.
        RefundAbnormal = "REFUND.ABNORMAL",
        /// A refund was closed (退款关闭).
        RefundClosed = "REFUND.CLOSED",
    }
}

impl EventType {
    /// Whether this is a payment event (`TRANSACTION.*`), whose resource is an order.
    pub fn is_transaction(&self) -> bool {
        self.as_str().starts_with("TRANSACTION.")
    }

    /// Whether this is a refund event (`REFUND.*`), whose resource is a [`RefundNotice`].
    pub fn is_refund(&self) -> bool {
        self.as_str().starts_with("REFUND.")
    }
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
    /// A refund that reached a final state (`REFUND.SUCCESS`, `.ABNORMAL`, `.CLOSED`), direct
    /// or partner.
    Refund(Box<RefundNotice>),
    /// Any other event (the security echo, ...): the decrypted JSON as it is.
    Other(Value),
}

impl Resource {
    /// The kind of a typed resource (`None` for [`Resource::Other`]).
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Self::Transaction(_) => Some(Kind::Direct),
            Self::PartnerTransaction(_) => Some(Kind::Partner),
            Self::ParkingTransaction(_) | Self::EntranceStateChange(_) => Some(Kind::Parking),
            Self::Refund(_) => Some(Kind::Refund),
            Self::Other(_) => None,
        }
    }
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

/// The clock of a [`Receiver`].
type Clock = Box<dyn Fn() -> SystemTime + Send + Sync>;

/// A notification endpoint: the WeChat Pay keys, the APIv3 key, whose notifications it takes,
/// and the clock. Build it once, share it (it is `Send + Sync`; put it in an `Arc`), and call
/// [`Receiver::receive`] per request. `Debug` shows no key.
pub struct Receiver {
    verifier: Box<dyn Verifier>,
    key: ApiV3Key,
    owner: Owner,
    kind: Option<Kind>,
    clock: Clock,
}

impl Receiver {
    /// A receiver verifying with `verifier` (a [`crate::KeyStore`], a shared refreshable
    /// store, an `Arc` of either), decrypting with `api_v3_key`, taking the notifications of
    /// merchant `mchid`: a direct merchant's `mchid`, or the service provider's (`sp_mchid`)
    /// for partner and parking notifications. Every kind is accepted and told apart; the
    /// clock is [`SystemTime::now`].
    pub fn new(verifier: impl Verifier + 'static, api_v3_key: ApiV3Key, mchid: MchId) -> Self {
        Self {
            verifier: Box::new(verifier),
            key: api_v3_key,
            owner: Owner { mchid, sub_mchid: None },
            kind: None,
            clock: Box::new(SystemTime::now),
        }
    }

    /// A receiver for `config`'s merchant (its `mchid`: the direct merchant's, or the service
    /// provider's `sp_mchid`), verifying with the same WeChat Pay keys as its answers.
    pub fn from_config(config: &Config, api_v3_key: ApiV3Key) -> Self {
        Self::new(config.shared_verifier(), api_v3_key, config.mchid().clone())
    }

    /// Accepts only this sub-merchant's notifications (`sub_mchid`); direct payments, which
    /// have none, are then refused.
    #[must_use]
    pub fn sub_merchant(mut self, sub_mchid: SubMchId) -> Self {
        self.owner.sub_mchid = Some(sub_mchid);
        self
    }

    /// Accepts only notifications of this kind (see the module docs for what is enforced).
    #[must_use]
    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Judges timestamps by `clock` instead of [`SystemTime::now`] (tests, replays of old
    /// captures).
    #[must_use]
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// The merchant id resources must carry.
    pub fn mchid(&self) -> &MchId {
        &self.owner.mchid
    }

    /// The sub-merchant restriction, if any.
    pub fn sub_mchid(&self) -> Option<&SubMchId> {
        self.owner.sub_mchid.as_ref()
    }

    /// The kind this receiver is restricted to (`None`: every kind, told apart).
    pub fn expected_kind(&self) -> Option<Kind> {
        self.kind
    }

    /// Verifies, decrypts and types a request given as `http::Request` (its body the raw
    /// bytes as received).
    ///
    /// # Errors
    /// As [`Receiver::receive`].
    pub fn receive_request<B: AsRef<[u8]>>(&self, request: &Request<B>) -> Result<Notification, NotificationError> {
        self.receive(request.method(), request.headers(), request.body().as_ref())
    }

    /// Verifies, decrypts and types a notification from the method, headers and raw body
    /// bytes (see the module docs for the checks and the typing rule).
    ///
    /// # Errors
    /// The first [`NotificationError`] found.
    pub fn receive(
        &self,
        method: &Method,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, NotificationError> {
        if method != Method::POST {
            return Err(NotificationError::MethodNotPost);
        }
        let sig = verify::signature_headers(headers).map_err(NotificationError::Signature)?;
        verify::verify_signature(&*self.verifier, &sig, body, (self.clock)(), MAX_CLOCK_SKEW_SECS)
            .map_err(NotificationError::Signature)?;
        let envelope: Envelope<'_> = json::object_from_slice(body)
            .map_err(|e| NotificationError::Envelope { line: e.line(), column: e.column() })?;
        let r = &envelope.resource;
        let plaintext = self
            .key
            .decrypt_parts(&r.algorithm, &r.nonce, &r.ciphertext, r.associated_data.as_deref())
            .map_err(decrypt_error)?;
        let event_type = match envelope.event_type {
            Cow::Borrowed(name) => EventType::from(name),
            Cow::Owned(name) => EventType::from(name),
        };
        let original_type = envelope.resource.original_type;
        let resource = self.resource(&event_type, original_type.as_deref(), &plaintext)?;
        Ok(Notification {
            id: envelope.id,
            create_time: envelope.create_time,
            event_type,
            resource_type: envelope.resource_type,
            summary: envelope.summary,
            original_type,
            resource,
        })
    }

    /// Tells, types and checks the resource: by itself, or as the named kind and then the
    /// kind it is by itself must agree.
    fn resource(
        &self,
        event: &EventType,
        original_type: Option<&str>,
        plaintext: &[u8],
    ) -> Result<Resource, NotificationError> {
        let Some(expected) = self.kind else {
            let found = kind::detect(event, original_type, plaintext)?;
            return kind::decode(event, found, plaintext, &self.owner);
        };
        if expected == Kind::Refund {
            // Refunds are told by their event: a payment here is of another kind; other
            // events stay untyped, as at every named receiver.
            return match kind::detect(event, original_type, plaintext)? {
                Some(Kind::Refund) => kind::decode(event, Some(Kind::Refund), plaintext, &self.owner),
                Some(found) if event.is_transaction() => Err(NotificationError::WrongKind { expected, found }),
                _ => kind::decode(event, None, plaintext, &self.owner),
            };
        }
        kind::announced_as_payment(event, original_type)?;
        let typed = kind::decode(event, Some(expected), plaintext, &self.owner).map_err(|e| match e {
            NotificationError::Decode { line, column, missing_field, .. } => {
                let found = kind::detect(event, original_type, plaintext).ok().flatten();
                let looks_like = found.filter(|k| *k != expected);
                NotificationError::Decode { line, column, missing_field, looks_like }
            }
            other => other,
        })?;
        if typed.kind().is_some() {
            match kind::detect(event, original_type, plaintext)? {
                Some(found) if found != expected => return Err(NotificationError::WrongKind { expected, found }),
                _ => {}
            }
        }
        Ok(typed)
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("verifier", &self.verifier)
            .field("api_v3_key", &"[redacted]")
            .field("mchid", &self.owner.mchid)
            .field("sub_mchid", &self.owner.sub_mchid)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

fn decrypt_error(e: DecryptError) -> NotificationError {
    match e {
        DecryptError::UnsupportedAlgorithm => NotificationError::UnsupportedAlgorithm,
        DecryptError::InvalidNonce => NotificationError::InvalidResource("resource.nonce is not 12 bytes"),
        DecryptError::Authentication => NotificationError::Decryption,
        // (`decrypt_parts` checks no AAD and returns bytes, so only the first can occur.)
        DecryptError::InvalidCiphertext | DecryptError::UnexpectedAssociatedData { .. } | DecryptError::NotText => {
            NotificationError::InvalidResource("resource.ciphertext is not standard Base64 of at least the 16-byte tag")
        }
    }
}

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

/// The body of every failure answer: fixed, so it tells a prober nothing.
pub const FAIL_BODY: &str = r#"{"code":"FAIL","message":"notification rejected"}"#;
/// The body of [`answer_retry_later`].
pub const RETRY_LATER_BODY: &str = r#"{"code":"FAIL","message":"try again later"}"#;

/// The answer WeChat Pay expects for `outcome`: `204 No Content` on success; on failure the
/// error's [`NotificationError::status`] with [`FAIL_BODY`]. WeChat Pay redelivers anything
/// but a 2xx.
///
/// `T` is whatever the handler made of the notification, so
/// `answer(&receiver.receive(..).map(handle))` works.
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
