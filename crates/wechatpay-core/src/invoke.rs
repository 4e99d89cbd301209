//! The parameters that open the payment sheet (调起支付, PROTOCOL.md §13), built from a
//! [`PrepayId`](crate::model::PrepayId) and signed for the front end.
//!
//! The signed message is four lines, each terminated by `\n` (the last one included):
//! appid, timestamp, nonce, and `prepay_id=…` (JSAPI / mini-program / JS-SDK) or the bare
//! prepay id (APP). It is signed with RSASSA-PKCS1-v1_5 SHA-256 by any
//! [`Signer`] (the merchant key, or an HSM; a partner signs with the
//! `sp_mchid`'s key) and Base64-encoded. A service provider names the app id that actually
//! opens the sheet (`sp_appid`, or the `sub_appid` sent at prepay): there is no default.
//!
//! ```
//! use wechatpay_core::{invoke::JsapiInvoke, AppId, Nonce, PrivateKey};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = PrivateKey::from_pem(include_bytes!("../tests/data/merchant_key.pem"))?;
//! let appid = AppId::new("wx8888888888888888")?;
//! let nonce = Nonce::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?;
//! let invoke = JsapiInvoke::new(&key, &appid, "wx201410272009395522657a690389285100", 1414561699, &nonce)?;
//! assert_eq!(invoke.package, "prepay_id=wx201410272009395522657a690389285100");
//! assert_eq!(invoke.message(), "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n");
//! let json = serde_json::to_value(&invoke)?;
//! assert_eq!(json["timeStamp"], "1414561699"); // a string, never a number
//! assert_eq!(json["signType"], "RSA");
//! # Ok(())
//! # }
//! ```

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::crypto::Signer;
use crate::error::Error;
use crate::ids::AppId;
use crate::ids::{InvalidInput, MchId, Nonce, check};

/// The `package` of the APP object.
pub const APP_PACKAGE: &str = "Sign=WXPay";
/// The `signType` of the JSAPI object.
pub const SIGN_TYPE_RSA: &str = "RSA";

const PREPAY_ID_RULE: &str = "1-64 characters of [0-9A-Za-z_-]";

fn check_prepay_id(prepay_id: &str) -> Result<(), InvalidInput> {
    check("prepay_id", prepay_id, 64, |b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'), PREPAY_ID_RULE)
}

/// The four-line message: every line `\n`-terminated, the last one included.
pub fn message(appid: &str, timestamp: &str, nonce: &str, last_line: &str) -> String {
    let mut m = String::with_capacity(appid.len() + timestamp.len() + nonce.len() + last_line.len() + 4);
    for line in [appid, timestamp, nonce, last_line] {
        m.push_str(line);
        m.push('\n');
    }
    m
}

fn sign_base64<S: Signer + ?Sized>(signer: &S, message: &str) -> Result<String, Error> {
    Ok(base64::engine::general_purpose::STANDARD.encode(signer.sign(message.as_bytes())?))
}

/// The object a JSAPI page (`WeixinJSBridge.invoke('getBrandWCPayRequest', …)`), the JS-SDK
/// or a mini-program (`wx.requestPayment`, which takes it without `appId`) passes on:
/// `{appId, timeStamp, nonceStr, package: "prepay_id=…", signType: "RSA", paySign}`,
/// serialised with exactly those names. `Debug` hides `paySign`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiInvoke {
    /// `appId`: the app id that opens the sheet (signed, even where it is not sent).
    #[serde(rename = "appId")]
    pub app_id: String,
    /// `timeStamp`: Unix seconds, as a string.
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// `nonceStr`.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `package`: `prepay_id=<id>`.
    pub package: String,
    /// `signType`: `RSA` (sent, not signed).
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// `paySign`: the Base64 signature of [`JsapiInvoke::message`].
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

impl JsapiInvoke {
    /// Signs the parameters for `prepay_id` with `signer`, at `timestamp` (Unix seconds) with
    /// `nonce` (fresh from a CSPRNG: [`Nonce::random`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a `prepay_id` outside 1-64 of `[0-9A-Za-z_-]`;
    /// [`Error::Sign`] when the signer fails.
    pub fn new<S: Signer + ?Sized>(
        signer: &S,
        appid: &AppId,
        prepay_id: &str,
        timestamp: u64,
        nonce: &Nonce,
    ) -> Result<JsapiInvoke, Error> {
        check_prepay_id(prepay_id)?;
        let mut invoke = JsapiInvoke {
            app_id: appid.as_str().to_owned(),
            time_stamp: timestamp.to_string(),
            nonce_str: nonce.as_str().to_owned(),
            package: format!("prepay_id={prepay_id}"),
            sign_type: SIGN_TYPE_RSA.to_owned(),
            pay_sign: String::new(),
        };
        invoke.pay_sign = sign_base64(signer, &invoke.message())?;
        Ok(invoke)
    }

    /// [`JsapiInvoke::new`] now, with a fresh random nonce.
    ///
    /// # Errors
    /// As [`JsapiInvoke::new`]; [`Error::Sign`] also when the random source fails.
    pub fn sign_now<S: Signer + ?Sized>(signer: &S, appid: &AppId, prepay_id: &str) -> Result<JsapiInvoke, Error> {
        let nonce = Nonce::random().map_err(crate::crypto::SignError::from)?;
        JsapiInvoke::new(signer, appid, prepay_id, crate::unix_now(), &nonce)
    }

    /// The signed message: `appId\ntimeStamp\nnonceStr\npackage\n`.
    pub fn message(&self) -> String {
        message(&self.app_id, &self.time_stamp, &self.nonce_str, &self.package)
    }
}

impl fmt::Debug for JsapiInvoke {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsapiInvoke")
            .field("app_id", &self.app_id)
            .field("time_stamp", &self.time_stamp)
            .field("nonce_str", &self.nonce_str)
            .field("package", &self.package)
            .field("sign_type", &self.sign_type)
            .field("pay_sign", &"<hidden>")
            .finish()
    }
}

/// The object an app passes to the OpenSDK (`PayReq`):
/// `{appid, partnerid, prepayid, package: "Sign=WXPay", noncestr, timestamp, sign}`,
/// serialised with exactly those names. `Debug` hides `sign`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInvoke {
    /// The mobile app's app id (signed).
    pub appid: String,
    /// The merchant id: `mchid` (direct) or `sp_mchid` (partner); not signed.
    pub partnerid: String,
    /// The prepay id (signed, bare).
    pub prepayid: String,
    /// `Sign=WXPay`.
    pub package: String,
    /// The nonce (signed).
    pub noncestr: String,
    /// Unix seconds, as a string (signed).
    pub timestamp: String,
    /// The Base64 signature of [`AppInvoke::message`].
    pub sign: String,
}

impl AppInvoke {
    /// Signs the APP parameters for `prepay_id` with `signer`; `partnerid` is the caller's
    /// merchant id (`sp_mchid` for a partner).
    ///
    /// # Errors
    /// As [`JsapiInvoke::new`].
    pub fn new<S: Signer + ?Sized>(
        signer: &S,
        appid: &AppId,
        partnerid: &MchId,
        prepay_id: &str,
        timestamp: u64,
        nonce: &Nonce,
    ) -> Result<AppInvoke, Error> {
        check_prepay_id(prepay_id)?;
        let mut invoke = AppInvoke {
            appid: appid.as_str().to_owned(),
            partnerid: partnerid.as_str().to_owned(),
            prepayid: prepay_id.to_owned(),
            package: APP_PACKAGE.to_owned(),
            noncestr: nonce.as_str().to_owned(),
            timestamp: timestamp.to_string(),
            sign: String::new(),
        };
        invoke.sign = sign_base64(signer, &invoke.message())?;
        Ok(invoke)
    }

    /// [`AppInvoke::new`] now, with a fresh random nonce.
    ///
    /// # Errors
    /// As [`AppInvoke::new`]; [`Error::Sign`] also when the random source fails.
    pub fn sign_now<S: Signer + ?Sized>(
        signer: &S,
        appid: &AppId,
        partnerid: &MchId,
        prepay_id: &str,
    ) -> Result<AppInvoke, Error> {
        let nonce = Nonce::random().map_err(crate::crypto::SignError::from)?;
        AppInvoke::new(signer, appid, partnerid, prepay_id, crate::unix_now(), &nonce)
    }

    /// The signed message: `appid\ntimestamp\nnoncestr\nprepayid\n`.
    pub fn message(&self) -> String {
        message(&self.appid, &self.timestamp, &self.noncestr, &self.prepayid)
    }
}

impl fmt::Debug for AppInvoke {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppInvoke")
            .field("appid", &self.appid)
            .field("partnerid", &self.partnerid)
            .field("prepayid", &self.prepayid)
            .field("package", &self.package)
            .field("noncestr", &self.noncestr)
            .field("timestamp", &self.timestamp)
            .field("sign", &"<hidden>")
            .finish()
    }
}
