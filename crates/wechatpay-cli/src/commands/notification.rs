//! `wechatpay notification parse`: verify, decrypt and print one captured notification; and
//! what `parse` and `listen` share (the receiver and the printed document).
//!
//! Which notifications: without `--kind`, every kind, told apart by the notification itself
//! (the core's `notify::Receiver`): a direct merchant's, whose `mchid` must be
//! `WECHATPAY_MCHID`; a service provider's, whose `sp_mchid` must be it; the parking
//! service's, whose `sp_mchid` must be it; refunds (`REFUND.*`), whose `mchid` or `sp_mchid`
//! must be it, printed with the plaintext's field names (`refund_status`). `--kind direct|partner|parking` takes only that
//! kind. `--sub-mchid` accepts only that sub-merchant's (so no direct payments).
//!
//! Exit codes: 0 printed; 2 invalid input or configuration; 4 a check failed (signature,
//! timestamp, serial, algorithm, decryption, merchant, kind), stderr naming it; 1 the verified
//! body or decrypted resource does not decode, or its kind cannot be told. Nothing is printed
//! unless every check passed.

use std::path::Path;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde_json::Value;
use wechatpay_core::model::{EntranceStateChange, ParkingTransaction, PartnerTransaction, RefundNotice, Transaction};
use wechatpay_core::notify::{self, Notification, NotificationError, Receiver, Resource};
use wechatpay_core::{SubMchId, untrusted};

use super::print_json;
use crate::args::{Kind, NotificationKind, NotificationParseArgs, Settings};
use crate::failure::{Failure, OTHER, VERIFICATION};
use crate::settings;

/// The receiver configured by the settings and `--kind`/`--sub-mchid` (exit 2 when anything
/// is missing or invalid), judging timestamps as if it were `now` (Unix seconds) when given.
pub(crate) fn receiver(s: &Settings, kind: &NotificationKind, now: Option<u64>) -> Result<Receiver, Failure> {
    let mchid = settings::mchid(s)?;
    let sub_mchid = kind.sub_mchid.as_deref().map(SubMchId::new).transpose()?;
    if kind.kind == Some(Kind::Direct) && sub_mchid.is_some() {
        return Err(Failure::usage("--sub-mchid needs --kind partner or --kind parking (or no --kind)"));
    }
    let mut receiver = Receiver::new(settings::key_store(s)?, settings::apiv3_key(s)?, mchid);
    if let Some(kind) = kind.kind {
        receiver = receiver.kind(match kind {
            Kind::Direct => notify::Kind::Direct,
            Kind::Partner => notify::Kind::Partner,
            Kind::Parking => notify::Kind::Parking,
        });
    }
    if let Some(sub_mchid) = sub_mchid {
        receiver = receiver.sub_merchant(sub_mchid);
    }
    if let Some(now) = now {
        receiver = receiver.clock(move || SystemTime::UNIX_EPOCH + Duration::from_secs(now));
    }
    Ok(receiver)
}

/// The exit code and stderr message of a refused notification. The message names the check
/// (core's wording: `SIGNTEST probe`, `stale timestamp`, `unknown serial`, `signature
/// mismatch`, `decryption failed (wrong or reset APIv3 key?)`, `answer for another
/// merchant`, ...) and is escaped, since an unknown serial quotes the sender.
pub(crate) fn refused(error: &NotificationError) -> Failure {
    let code = match error {
        NotificationError::Envelope { .. } | NotificationError::Decode { .. } | NotificationError::UnknownKind => OTHER,
        _ => VERIFICATION,
    };
    Failure { code, message: untrusted::printable(&error.to_string()).max_chars(2000).to_string() }
}

/// The printed document: the envelope's fields and the decrypted resource, with the API's
/// field names.
#[derive(Debug, Serialize)]
pub(crate) struct Document<'a> {
    id: &'a str,
    create_time: &'a str,
    event_type: &'a str,
    resource_type: &'a str,
    summary: &'a str,
    original_type: Option<&'a str>,
    resource: ResourceDoc<'a>,
}

/// The resource as it is typed.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ResourceDoc<'a> {
    Transaction(&'a Transaction),
    Partner(&'a PartnerTransaction),
    Parking(&'a ParkingTransaction),
    Entrance(&'a EntranceStateChange),
    Refund(&'a RefundNotice),
    Other(&'a Value),
}

impl<'a> Document<'a> {
    /// The document of a verified notification.
    pub(crate) fn new(n: &'a Notification) -> Result<Self, Failure> {
        let resource = match &n.resource {
            Resource::Transaction(t) => ResourceDoc::Transaction(t),
            Resource::PartnerTransaction(t) => ResourceDoc::Partner(t),
            Resource::ParkingTransaction(t) => ResourceDoc::Parking(t),
            Resource::EntranceStateChange(e) => ResourceDoc::Entrance(e),
            Resource::Refund(r) => ResourceDoc::Refund(r),
            Resource::Other(v) => ResourceDoc::Other(v),
            _ => return Err(Failure::other("a resource of a kind this program does not know")),
        };
        Ok(Self {
            id: &n.id,
            create_time: &n.create_time,
            event_type: n.event_type.as_str(),
            resource_type: &n.resource_type,
            summary: &n.summary,
            original_type: n.original_type.as_deref(),
            resource,
        })
    }
}

/// `wechatpay notification parse`
pub(crate) fn parse(s: &Settings, args: &NotificationParseArgs) -> Result<(), Failure> {
    let receiver = receiver(s, &args.kind, args.now)?;
    let body = settings::read_file("--body-file", &args.body_file)?;
    let headers = match &args.headers_file {
        Some(path) => headers_file(path)?,
        None => flag_headers(args)?,
    };
    let notification = receiver.receive(&Method::POST, &headers, &body).map_err(|e| refused(&e))?;
    print_json(&Document::new(&notification)?)
}

/// The headers of a `--headers-file`: every `Name: value` line whose name is a valid header
/// name, up to the first blank line after them (the end of a captured head); other lines
/// (a request line, a status line, comments) are ignored. Repeated names stay repeated.
fn headers_file(path: &Path) -> Result<HeaderMap, Failure> {
    let bytes = settings::read_file("--headers-file", path)?;
    let mut headers = HeaderMap::new();
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.trim_ascii().is_empty() {
            if headers.is_empty() {
                continue;
            }
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let Ok(name) = HeaderName::from_bytes(&line[..colon]) else { continue };
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).map_err(|_| {
            Failure::usage(format!(
                "--headers-file {}: the value of {name} holds a control character (rule: header values are visible text)",
                path.display()
            ))
        })?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// The four signature headers from `--timestamp`, `--nonce`, `--signature`, `--serial`.
fn flag_headers(args: &NotificationParseArgs) -> Result<HeaderMap, Failure> {
    let mut headers = HeaderMap::new();
    for (name, flag, value) in [
        ("wechatpay-timestamp", "--timestamp", &args.timestamp),
        ("wechatpay-nonce", "--nonce", &args.nonce),
        ("wechatpay-signature", "--signature", &args.signature),
        ("wechatpay-serial", "--serial", &args.serial),
    ] {
        let value = value.as_deref().ok_or_else(|| Failure::usage(format!("missing {flag} (or --headers-file)")))?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            Failure::usage(format!("invalid {flag}: it holds a control or non-ASCII character (rule: visible ASCII)"))
        })?;
        headers.insert(HeaderName::from_static(name), value);
    }
    Ok(headers)
}
