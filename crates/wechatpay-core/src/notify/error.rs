//! Why a notification was refused.

use std::fmt;

use http::StatusCode;

use super::Kind;
use crate::verify::VerificationFailure;

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
    /// The decrypted resource does not decode as what its event announces (or, at a receiver
    /// told its [`Kind`], as a resource of that kind).
    Decode {
        /// Where the JSON error is (1-based).
        line: usize,
        /// Column of the JSON error (1-based).
        column: usize,
        /// The required field the resource lacks, when that is the error (a name from the
        /// model, never from the notification): `mchid` for a partner resource sent to a
        /// direct receiver.
        missing_field: Option<String>,
        /// The kind the resource is by its own fields, when that is not the kind the receiver
        /// was told to take (a partner payment at a [`Kind::Direct`] receiver: `Partner`).
        looks_like: Option<Kind>,
    },
    /// The resource's kind cannot be told, so it is not read as any kind: a payment event
    /// whose `resource.original_type` is not `transaction` (a refund, say), or a payment
    /// resource with none of `mchid`, `sp_mchid`, `sub_mchid`, `trade_scene`, `parking_info`.
    UnknownKind,
    /// The resource is of another kind than the one the receiver was told to take (PROTOCOL.md §8,
    /// §16): a partner order at a [`Kind::Parking`] receiver, say.
    WrongKind {
        /// The kind the receiver takes.
        expected: Kind,
        /// The kind the resource is.
        found: Kind,
    },
    /// The resource belongs to another merchant (PROTOCOL.md §11).
    WrongMerchant {
        /// The field that is not ours (`mchid`, `sp_mchid`, `sub_mchid`).
        field: &'static str,
    },
}

impl NotificationError {
    /// A short, fixed name of the check that failed, for logs and metrics (`"SIGNTEST probe"`,
    /// `"stale timestamp"`, `"unknown serial"`, `"signature mismatch"`, `"decryption"`, ...).
    /// A signature check is named by [`VerificationFailure::label`], the one table of those
    /// names.
    pub fn check(&self) -> &'static str {
        match self {
            Self::MethodNotPost => "method",
            Self::Signature(f) => f.label(),
            Self::Envelope { .. } => "envelope",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::InvalidResource(_) => "invalid resource",
            Self::Decryption => "decryption",
            Self::Decode { .. } => "resource does not decode",
            Self::UnknownKind => "unknown kind",
            Self::WrongKind { .. } => "another kind",
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
            Self::Decode { line, column, missing_field, looks_like } => {
                match missing_field {
                    Some(field) => write!(
                        f,
                        "the decrypted resource lacks the required field `{field}` (JSON error at line {line}, column {column})"
                    )?,
                    None => write!(
                        f,
                        "the decrypted resource does not decode (JSON error at line {line}, column {column})"
                    )?,
                }
                match looks_like {
                    Some(kind) => write!(f, "; it is a {kind} resource, not of the kind this receiver takes"),
                    None => Ok(()),
                }
            }
            Self::UnknownKind => f.write_str(
                "the resource's kind cannot be told (a payment event whose original_type is not transaction, \
                 or a payment without merchant ids)",
            ),
            Self::WrongKind { expected, found } => {
                write!(f, "a {found} resource at a receiver of {expected} notifications")
            }
            Self::WrongMerchant { field } => write!(f, "answer for another merchant: its {field} is not ours"),
        }
    }
}

impl std::error::Error for NotificationError {}
