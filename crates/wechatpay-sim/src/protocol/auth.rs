//! Checking a request as WeChat Pay does: `Accept`, `User-Agent`, then the `Authorization`
//! signature over `METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n` with the target as received.
//!
//! [`parse_authorization`] is public: it is what a server needs (a client only builds the
//! header), and the fuzz target `authorization` exercises it.

use std::fmt;

use base64::Engine as _;
use serde_json::json;
use wechatpay_core::PublicKey;
use wechatpay_core::wire::{AUTH_SCHEME, MAX_CLOCK_SKEW_SECS};

use crate::credentials::{MCHID, MERCHANT_SERIAL};
use crate::net::http::Request;
use crate::protocol::reply::Reply;

/// How much of the message a `SIGN_ERROR` shows.
const TRUNCATE_AT: usize = 256;

/// Who made a verified request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Caller {
    pub mchid: String,
}

/// Checks headers and signature; the error is the answer to send.
pub(crate) fn verify_request(req: &Request, merchant_key: &PublicKey, now: u64) -> Result<Caller, Reply> {
    if req.header("accept").is_none_or(str::is_empty) {
        return Err(Reply::invalid_request("Http头缺少Accept或User-Agent (missing Accept header)"));
    }
    if req.header("user-agent").is_none_or(str::is_empty) {
        return Err(Reply::invalid_request("Http头缺少Accept或User-Agent (missing User-Agent header)"));
    }
    let format_error = |issue: &str| {
        Reply::error(
            401,
            "SIGN_ERROR",
            "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》",
            Some(json!({ "field": "authorization", "location": "header", "issue": issue })),
        )
    };
    let Some(value) = req.header("authorization") else {
        return Err(format_error("missing, repeated or not UTF-8"));
    };
    let fields = parse_authorization(value).map_err(|e| format_error(e.reason()))?;

    let message = sign_message(req, &fields.timestamp, &fields.nonce_str);
    let sign_error = |issue: &str| sign_error(req, &message, &fields.signature, issue);
    if fields.mchid != MCHID {
        return Err(sign_error("mchid does not match the merchant"));
    }
    if !fields.serial_no.eq_ignore_ascii_case(MERCHANT_SERIAL) {
        return Err(sign_error("serial_no is not the merchant certificate serial"));
    }
    let ts_ok = !fields.timestamp.is_empty()
        && fields.timestamp.len() <= 18
        && fields.timestamp.bytes().all(|b| b.is_ascii_digit())
        && fields.timestamp.parse::<u64>().is_ok_and(|ts| ts.abs_diff(now) <= MAX_CLOCK_SKEW_SECS);
    if !ts_ok {
        return Err(sign_error("timestamp is missing or more than 300 s from the server's clock"));
    }
    if fields.nonce_str.is_empty() {
        return Err(sign_error("nonce_str is empty"));
    }
    let signature = base64::engine::general_purpose::STANDARD.decode(&fields.signature);
    match signature {
        Ok(raw) if merchant_key.verify(&message, &raw).is_ok() => Ok(Caller { mchid: fields.mchid }),
        _ => Err(sign_error("sign not match")),
    }
}

/// The fields of a `WECHATPAY2-SHA256-RSA2048` `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationFields {
    /// The caller's merchant id.
    pub mchid: String,
    /// The nonce.
    pub nonce_str: String,
    /// The Base64 signature.
    pub signature: String,
    /// Unix seconds, as sent.
    pub timestamp: String,
    /// The merchant certificate serial.
    pub serial_no: String,
}

impl fmt::Debug for AuthorizationFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationFields")
            .field("mchid", &self.mchid)
            .field("nonce_str", &self.nonce_str)
            .field("signature", &"[redacted]")
            .field("timestamp", &self.timestamp)
            .field("serial_no", &self.serial_no)
            .finish()
    }
}

/// Why an `Authorization` header could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationError(&'static str);

impl AuthorizationError {
    /// What is wrong.
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for AuthorizationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed Authorization header: {}", self.0)
    }
}

impl std::error::Error for AuthorizationError {}

/// Reads an `Authorization` header strictly: the scheme, one space, then exactly the five
/// fields `key="value"` separated by commas, in any order, each once.
///
/// # Errors
/// [`AuthorizationError`] saying what is wrong.
pub fn parse_authorization(value: &str) -> Result<AuthorizationFields, AuthorizationError> {
    let params = value
        .strip_prefix(AUTH_SCHEME)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or(AuthorizationError("scheme is not WECHATPAY2-SHA256-RSA2048"))?;
    let mut fields: [Option<&str>; 5] = [None; 5];
    const NAMES: [&str; 5] = ["mchid", "nonce_str", "signature", "timestamp", "serial_no"];
    let mut rest = params;
    while !rest.is_empty() {
        let eq = rest.find("=\"").ok_or(AuthorizationError("expected key=\"value\""))?;
        let key = &rest[..eq];
        let after = &rest[eq + 2..];
        let close = after.find('"').ok_or(AuthorizationError("unterminated quoted value"))?;
        let val = &after[..close];
        let idx = NAMES.iter().position(|n| *n == key).ok_or(AuthorizationError("unknown field"))?;
        if fields[idx].replace(val).is_some() {
            return Err(AuthorizationError("a field appears twice"));
        }
        rest = &after[close + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            if r.is_empty() {
                return Err(AuthorizationError("trailing comma"));
            }
            rest = r;
        } else if !rest.is_empty() {
            return Err(AuthorizationError("fields must be separated by a comma without spaces"));
        }
    }
    let get = |i: usize| fields[i].map(str::to_owned).ok_or(AuthorizationError("a required field is missing"));
    Ok(AuthorizationFields {
        mchid: get(0)?,
        nonce_str: get(1)?,
        signature: get(2)?,
        timestamp: get(3)?,
        serial_no: get(4)?,
    })
}

/// The server's view of the signed message.
fn sign_message(req: &Request, timestamp: &str, nonce: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(req.method.len() + req.target.len() + req.body.len() + 64);
    for part in [req.method.as_bytes(), req.target.as_bytes(), timestamp.as_bytes(), nonce.as_bytes(), &req.body] {
        m.extend_from_slice(part);
        m.push(b'\n');
    }
    m
}

/// `401 SIGN_ERROR` with `sign_information`, as WeChat Pay answers it.
fn sign_error(req: &Request, message: &[u8], signature: &str, issue: &str) -> Reply {
    let mut shown = String::from_utf8_lossy(&message[..message.len().min(TRUNCATE_AT)]).into_owned();
    if message.len() > TRUNCATE_AT {
        shown.push_str("...");
    }
    let sig: String = signature.chars().take(16).collect();
    let detail = json!({
        "detail": { "issue": issue },
        "field": "signature",
        "location": "authorization",
        "sign_information": {
            "method": req.method,
            "sign_message_length": message.len(),
            "truncated_sign_message": shown,
            "truncated_sign_signature": format!("{sig}..."),
        },
    });
    Reply::error(401, "SIGN_ERROR", "签名错误", Some(detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::MERCHANT_PUB_PEM;

    fn request(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            target: "/v3/x?a=1".into(),
            version: 1,
            headers: headers.iter().map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec())).collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn authorization_round_trip_and_strictness() {
        let v = r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="AB""#;
        let f = parse_authorization(v).unwrap();
        assert_eq!((f.mchid.as_str(), f.signature.as_str(), f.serial_no.as_str()), ("1", "s", "AB"));
        assert!(!format!("{f:?}").contains("\"s\""));
        for bad in [
            "Bearer x",
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="2""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1", nonce_str="n",signature="s",timestamp="2",serial_no="AB""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="AB""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="AB","#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="AB",x="y""#,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1"#,
        ] {
            assert!(parse_authorization(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejections() {
        let key = PublicKey::from_pem(MERCHANT_PUB_PEM.as_bytes()).unwrap();
        let status = |r: Request| verify_request(&r, &key, 1554208460).unwrap_err();
        assert_eq!(status(request(&[("User-Agent", "t")])).status, 400);
        assert_eq!(status(request(&[("Accept", "*/*")])).status, 400);
        assert_eq!(status(request(&[("Accept", "*/*"), ("User-Agent", "t")])).status, 401);
        let auth = format!(
            r#"WECHATPAY2-SHA256-RSA2048 mchid="{MCHID}",nonce_str="N",signature="AAAA",timestamp="1554208460",serial_no="{MERCHANT_SERIAL}""#
        );
        let r = status(request(&[("Accept", "*/*"), ("User-Agent", "t"), ("Authorization", &auth)]));
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["detail"]["sign_information"]["truncated_sign_message"], "GET\n/v3/x?a=1\n1554208460\nN\n\n");
        assert_eq!(v["detail"]["detail"]["issue"], "sign not match");
        assert_eq!(v["detail"]["sign_information"]["sign_message_length"], 28);
        let old =
            verify_request(&request(&[("Accept", "*/*"), ("User-Agent", "t"), ("Authorization", &auth)]), &key, 0);
        let v: serde_json::Value = serde_json::from_slice(&old.unwrap_err().body).unwrap();
        assert!(v["detail"]["detail"]["issue"].as_str().unwrap().contains("timestamp"));
    }
}
