//! Telling a resource's kind by itself (PROTOCOL.md §15's routing rule), and typing it.
//!
//! The one place that knows the kinds: [`detect`] says what a decrypted resource is from its
//! event and its own fields, [`decode`] reads it as that and checks it is ours. Refunds are
//! told by their event (`REFUND.*`, `original_type` absent or `refund`) and typed as a
//! [`RefundNotice`]. A payment event that says it carries something else, or a refund event
//! that says it carries something other than a refund, is refused
//! ([`NotificationError::UnknownKind`]), never read as what it is not.

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;

use super::{EventType, NotificationError, Resource};
use crate::ids::{MchId, SubMchId};
use crate::json;
use crate::model::{EntranceStateChange, ParkingTransaction, PartnerTransaction, RefundNotice, Transaction};

/// What kind of notifications a resource is: whose payments, the parking service's, or refunds.
///
/// A [`Receiver`](super::Receiver) tells it by itself, so one `notify_url` can take payments
/// and refunds alike. Naming one with [`Receiver::kind`](super::Receiver::kind) makes the
/// receiver refuse typed resources of the other kinds (`WrongKind`); events it does not type
/// for that kind (a refund at a `Direct` receiver, the security echo) come back as
/// [`Resource::Other`], verified and decrypted but untyped. A merchant who points payments
/// and refunds at one URL names no kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A direct merchant's payments: [`Transaction`]s carrying `mchid`.
    Direct,
    /// A service provider's payments for sub-merchants: [`PartnerTransaction`]s carrying
    /// `sp_mchid` and `sub_mchid`.
    Partner,
    /// The parking service (PROTOCOL.md §16): [`ParkingTransaction`]s (`trade_scene` `PARKING`,
    /// `parking_info`, or the events `TRANSACTION.FAIL` / `.PAY_BACK`) and
    /// [`EntranceStateChange`]s (`VEHICLE.*`).
    Parking,
    /// Refunds (`REFUND.*`, spec §15): [`RefundNotice`]s, a direct merchant's (`mchid`) or a
    /// service provider's (`sp_mchid`, `sub_mchid`).
    Refund,
}

impl Kind {
    /// `direct`, `partner`, `parking` or `refund`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Partner => "partner",
            Self::Parking => "parking",
            Self::Refund => "refund",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The merchant ids a receiver accepts.
#[derive(Clone, Debug)]
pub(super) struct Owner {
    /// Direct `mchid`; partner and parking `sp_mchid`.
    pub(super) mchid: MchId,
    /// When set, only this sub-merchant's resources.
    pub(super) sub_mchid: Option<SubMchId>,
}

/// The fields that tell a resource's kind; every one read leniently (presence only, or any
/// JSON value), so a plaintext the typed models accept is always probed.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    mchid: Option<IgnoredAny>,
    #[serde(default)]
    sp_mchid: Option<IgnoredAny>,
    #[serde(default)]
    sub_mchid: Option<IgnoredAny>,
    #[serde(default)]
    trade_scene: Option<Value>,
    #[serde(default)]
    parking_info: Option<IgnoredAny>,
}

fn is_payment(event: &EventType) -> bool {
    event.is_transaction()
}

fn is_refund(event: &EventType) -> bool {
    event.is_refund()
}

fn is_vehicle(event: &EventType) -> bool {
    event.as_str().starts_with("VEHICLE.")
}

/// A payment event must carry a payment: a `resource.original_type` other than
/// `transaction` (a refund, say) is refused, never read as a payment.
///
/// # Errors
/// [`NotificationError::UnknownKind`].
pub(super) fn announced_as_payment(event: &EventType, original_type: Option<&str>) -> Result<(), NotificationError> {
    if is_payment(event) && original_type.is_some_and(|t| t != "transaction") {
        return Err(NotificationError::UnknownKind);
    }
    Ok(())
}

/// The kind of a resource by itself, or `None` for an event no kind owns (the security echo,
/// unknown events): those stay untyped.
///
/// # Errors
/// [`NotificationError::UnknownKind`] for a payment event announcing another
/// `original_type` (or a refund event another than `refund`), or a payment resource naming
/// no merchant; [`NotificationError::Decode`]
/// when the plaintext is not a JSON object.
pub(super) fn detect(
    event: &EventType,
    original_type: Option<&str>,
    plaintext: &[u8],
) -> Result<Option<Kind>, NotificationError> {
    if is_vehicle(event) {
        return Ok(Some(Kind::Parking));
    }
    if is_refund(event) {
        if original_type.is_some_and(|t| t != "refund") {
            return Err(NotificationError::UnknownKind);
        }
        return Ok(Some(Kind::Refund));
    }
    if !is_payment(event) {
        return Ok(None);
    }
    announced_as_payment(event, original_type)?;
    if matches!(event, EventType::TransactionFail | EventType::TransactionPayBack) {
        return Ok(Some(Kind::Parking));
    }
    let probe: Probe = decode_as(plaintext)?;
    let parking_scene = probe.trade_scene.as_ref().and_then(Value::as_str) == Some("PARKING");
    Ok(Some(if parking_scene || probe.parking_info.is_some() {
        Kind::Parking
    } else if probe.sp_mchid.is_some() || probe.sub_mchid.is_some() {
        Kind::Partner
    } else if probe.mchid.is_some() {
        Kind::Direct
    } else {
        return Err(NotificationError::UnknownKind);
    }))
}

/// Types `plaintext` as `kind` says for this event and checks it is `owner`'s. No kind, or an
/// event the kind has no model for: the JSON as it is, each merchant field present ours.
pub(super) fn decode(
    event: &EventType,
    kind: Option<Kind>,
    plaintext: &[u8],
    owner: &Owner,
) -> Result<Resource, NotificationError> {
    let sub = owner.sub_mchid.as_ref();
    match kind {
        Some(Kind::Direct) if is_payment(event) => {
            let t: Transaction = decode_as(plaintext)?;
            ensure(t.mchid == owner.mchid.as_str(), "mchid")?;
            // A direct payment has no sub-merchant, so a receiver restricted to one refuses it.
            ensure(sub.is_none(), "sub_mchid")?;
            Ok(Resource::Transaction(Box::new(t)))
        }
        Some(Kind::Partner) if is_payment(event) => {
            let t: PartnerTransaction = decode_as(plaintext)?;
            ensure(t.sp_mchid == owner.mchid.as_str(), "sp_mchid")?;
            ensure(sub.is_none_or(|s| t.sub_mchid == s.as_str()), "sub_mchid")?;
            Ok(Resource::PartnerTransaction(Box::new(t)))
        }
        Some(Kind::Parking) if is_payment(event) => {
            let t: ParkingTransaction = decode_as(plaintext)?;
            parking_owner(t.sp_mchid.as_deref(), t.sub_mchid.as_deref(), owner)?;
            Ok(Resource::ParkingTransaction(Box::new(t)))
        }
        Some(Kind::Refund) if is_refund(event) => {
            let n: RefundNotice = decode_as(plaintext)?;
            refund_owner(&n, owner)?;
            Ok(Resource::Refund(Box::new(n)))
        }
        Some(Kind::Parking) if *event == EventType::VehicleEntranceStateChange => {
            let e: EntranceStateChange = decode_as(plaintext)?;
            parking_owner(e.sp_mchid.as_deref(), e.sub_mchid.as_deref(), owner)?;
            Ok(Resource::EntranceStateChange(Box::new(e)))
        }
        _ => {
            let v: Value = json::from_slice(plaintext).map_err(|e| decode_error(&e))?;
            other_owner(&v, owner)?;
            Ok(Resource::Other(v))
        }
    }
}

/// Reads `plaintext` as `T`, a JSON object.
fn decode_as<T: DeserializeOwned>(plaintext: &[u8]) -> Result<T, NotificationError> {
    json::object_from_slice(plaintext).map_err(|e| decode_error(&e))
}

fn decode_error(e: &serde_json::Error) -> NotificationError {
    NotificationError::Decode { line: e.line(), column: e.column(), missing_field: missing_field(e), looks_like: None }
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

/// Parking resources name the merchant `sp_mchid`, in merchant mode too: it must be present
/// and ours.
fn parking_owner(sp: Option<&str>, sub: Option<&str>, owner: &Owner) -> Result<(), NotificationError> {
    ensure(sp == Some(owner.mchid.as_str()), "sp_mchid")?;
    ensure(owner.sub_mchid.as_ref().is_none_or(|s| sub == Some(s.as_str())), "sub_mchid")
}

/// A refund names `mchid` (direct) or `sp_mchid` and `sub_mchid` (partner): at least one of
/// `mchid` and `sp_mchid`, each present ours; a partner refund has its `sub_mchid`; a receiver
/// restricted to a sub-merchant takes only that one's (so no direct refund).
fn refund_owner(n: &RefundNotice, owner: &Owner) -> Result<(), NotificationError> {
    let ours = owner.mchid.as_str();
    ensure(n.mchid.is_some() || n.sp_mchid.is_some(), "mchid")?;
    ensure(n.mchid.as_deref().is_none_or(|m| m == ours), "mchid")?;
    ensure(n.sp_mchid.as_deref().is_none_or(|m| m == ours), "sp_mchid")?;
    ensure(n.sp_mchid.is_none() || n.sub_mchid.is_some(), "sub_mchid")?;
    ensure(owner.sub_mchid.as_ref().is_none_or(|s| n.sub_mchid.as_deref() == Some(s.as_str())), "sub_mchid")
}

/// For an untyped resource: each of `mchid`, `sp_mchid` and (when the receiver is restricted
/// to a sub-merchant) `sub_mchid` that is present must be ours.
fn other_owner(v: &Value, owner: &Owner) -> Result<(), NotificationError> {
    let matches =
        |field: &'static str, ours: &str| ensure(v.get(field).is_none_or(|x| x.as_str() == Some(ours)), field);
    matches("mchid", owner.mchid.as_str())?;
    matches("sp_mchid", owner.mchid.as_str())?;
    owner.sub_mchid.as_ref().map_or(Ok(()), |s| matches("sub_mchid", s.as_str()))
}
