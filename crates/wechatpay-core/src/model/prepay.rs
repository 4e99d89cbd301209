//! The answers to creating an order (prepay, PROTOCOL.md §12): one opaque artefact each.

use serde::{Deserialize, Serialize};

use super::Extra;
use super::extra::keep_unknown_fields;

/// The answer to a JSAPI / mini-program or APP prepay: `{"prepay_id":"wx…"}`, valid for
/// 2 hours. Hand it to [`crate::invoke`] to build the parameters that open the payment sheet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct PrepayId {
    /// The prepay id (opaque).
    pub prepay_id: String,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// The answer to a Native prepay: `{"code_url":"weixin://wxpay/bizpayurl?pr=…"}`, valid for
/// 2 hours; render it as a QR code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct CodeUrl {
    /// The URL to draw as a QR code (opaque).
    pub code_url: String,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// The answer to an H5 prepay: `{"h5_url":"https://wx.tenpay.com/…"}`, valid for **5
/// minutes** (the same request again renews it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct H5Url {
    /// The cashier URL the mobile browser opens (opaque; append `&redirect_url=…`).
    pub h5_url: String,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

keep_unknown_fields!(PrepayId, CodeUrl, H5Url);
