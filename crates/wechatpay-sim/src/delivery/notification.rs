//! Building payment notifications (PROTOCOL.md §8) as WeChat Pay sends them: the envelope, its
//! resource sealed with the APIv3 key (AEAD_AES_256_GCM, a fresh 12-character nonce), and the
//! signature headers of an answer.
//!
//! ```
//! use wechatpay_sim::notification::Event;
//! use wechatpay_sim::Simulator;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = Simulator::start()?;
//! let order = br#"{"mchid":"1230000109","appid":"wxd678efh567hg6787","out_trade_no":"SIM_NOTPAY_0001","trade_state":"SUCCESS"}"#;
//! let signed = sim.notification(&Event::transaction_success(order.to_vec())?)?;
//! let request = signed.to_request("http://127.0.0.1:8080/notify")?; // POST, JSON, signed
//! assert_eq!(request.headers()["wechatpay-serial"], sim.signing_serial().as_str());
//! // Hand `request` to a `wechatpay_core::notify::Receiver`, or send it to a notify_url.
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::io;

use base64::Engine as _;
use serde::Serialize;
use wechatpay_core::crypto::Signer;
use wechatpay_core::http::{self, Method, Request};

use crate::clock;
use crate::protocol::apiv3_key::{self, ALGORITHM};
use crate::protocol::signing::{fresh_nonce, message};

/// One event to notify: the plaintext of a notification.
#[derive(Clone, PartialEq, Eq)]
pub struct Event {
    /// The notification id (UUID-shaped; redeliveries of one event keep it).
    pub id: String,
    /// RFC 3339 creation time (`2026-11-24T10:32:55+08:00`).
    pub create_time: String,
    /// `TRANSACTION.SUCCESS`, `VEHICLE.ENTRANCE_STATE_CHANGE`, ...
    pub event_type: String,
    /// Free text (`支付成功`).
    pub summary: String,
    /// `resource.original_type` (`transaction` for payments).
    pub original_type: String,
    /// `resource.associated_data`, the AAD (`transaction` for payments; `None` leaves the
    /// field out, which means empty AAD).
    pub associated_data: Option<String>,
    /// The resource's plaintext: the JSON that is sealed (for a payment, the order exactly
    /// as the query answers it).
    pub resource: Vec<u8>,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("id", &self.id)
            .field("create_time", &self.create_time)
            .field("event_type", &self.event_type)
            .field("original_type", &self.original_type)
            .field("resource_len", &self.resource.len())
            .finish_non_exhaustive()
    }
}

impl Event {
    /// An event of type `event_type` about `resource` (plaintext JSON), with a fresh
    /// UUID-shaped id, created now, `original_type` and AAD `transaction`.
    ///
    /// # Errors
    /// When the system random generator fails.
    pub fn new(event_type: impl Into<String>, summary: impl Into<String>, resource: Vec<u8>) -> io::Result<Self> {
        Ok(Self {
            id: uuid()?,
            create_time: clock::beijing_rfc3339(clock::now()),
            event_type: event_type.into(),
            summary: summary.into(),
            original_type: "transaction".to_owned(),
            associated_data: Some("transaction".to_owned()),
            resource,
        })
    }

    /// A `TRANSACTION.SUCCESS` (`支付成功`) about the order `resource`.
    ///
    /// # Errors
    /// As [`Event::new`].
    pub fn transaction_success(resource: Vec<u8>) -> io::Result<Self> {
        Self::new("TRANSACTION.SUCCESS", "支付成功", resource)
    }
}

/// A fresh random id shaped like a version-4 UUID.
fn uuid() -> io::Result<String> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| io::Error::other("the system random generator failed"))?;
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}

/// The envelope, in the official examples' field order.
#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    create_time: &'a str,
    resource_type: &'static str,
    event_type: &'a str,
    summary: &'a str,
    resource: Resource<'a>,
}

#[derive(Serialize)]
struct Resource<'a> {
    original_type: &'a str,
    algorithm: &'static str,
    ciphertext: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    associated_data: Option<&'a str>,
    nonce: String,
}

/// A notification request ready to send: the exact body bytes and the headers.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedNotification {
    /// The JSON body, exactly as signed.
    pub body: Vec<u8>,
    /// `Content-Type` and the signature headers (`Wechatpay-Nonce`, `-Serial`, `-Signature`,
    /// `-Signature-Type`, `-Timestamp`).
    pub headers: Vec<(&'static str, String)>,
}

impl fmt::Debug for SignedNotification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(n, v)| (*n, if *n == "Wechatpay-Signature" { "[redacted]" } else { v.as_str() }))
            .collect();
        f.debug_struct("SignedNotification").field("headers", &headers).field("body_len", &self.body.len()).finish()
    }
}

impl SignedNotification {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A `POST` to `uri` with these headers and body.
    ///
    /// # Errors
    /// When `uri` is not a valid URI.
    pub fn to_request(&self, uri: &str) -> Result<Request<Vec<u8>>, http::Error> {
        let mut request = Request::builder().method(Method::POST).uri(uri);
        for (name, value) in &self.headers {
            request = request.header(*name, value.as_str());
        }
        request.body(self.body.clone())
    }
}

/// Builds the notification of `event`: the resource sealed with `apiv3_key` (its 32 ASCII
/// bytes), the envelope serialised once, and `timestamp\nnonce\nbody\n` signed by `signer`
/// (RSA-SHA256) under `serial` (a platform certificate serial or a `PUB_KEY_ID_…`).
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] when `apiv3_key` is not 32 visible ASCII characters or
/// `serial` is empty or not visible ASCII; another kind when randomness, sealing or signing
/// fails.
pub fn build(
    event: &Event,
    apiv3_key: &str,
    signer: &dyn Signer,
    serial: &str,
    timestamp: u64,
) -> io::Result<SignedNotification> {
    if serial.is_empty() || !serial.bytes().all(|b| b.is_ascii_graphic()) {
        let message = "serial: must be a non-empty run of visible ASCII characters";
        return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    }
    let aad = event.associated_data.as_deref();
    let sealed = apiv3_key::seal(apiv3_key, aad.unwrap_or(""), &event.resource)?;
    let envelope = Envelope {
        id: &event.id,
        create_time: &event.create_time,
        resource_type: "encrypt-resource",
        event_type: &event.event_type,
        summary: &event.summary,
        resource: Resource {
            original_type: &event.original_type,
            algorithm: ALGORITHM,
            ciphertext: sealed.ciphertext,
            associated_data: aad,
            nonce: sealed.nonce,
        },
    };
    let body = serde_json::to_vec(&envelope).map_err(io::Error::other)?;
    let nonce = fresh_nonce();
    let signature = signer
        .sign(&message(timestamp, &nonce, &body))
        .map_err(|e| io::Error::other(format!("signing the notification: {e}")))?;
    let headers = vec![
        ("Content-Type", "application/json".to_owned()),
        ("Wechatpay-Nonce", nonce),
        ("Wechatpay-Serial", serial.to_owned()),
        ("Wechatpay-Signature", base64::engine::general_purpose::STANDARD.encode(signature)),
        ("Wechatpay-Signature-Type", wechatpay_core::wire::AUTH_SCHEME.to_owned()),
        ("Wechatpay-Timestamp", timestamp.to_string()),
    ];
    Ok(SignedNotification { body, headers })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{MCHID, PUBLIC_KEY_ID, WECHATPAY_KEY_PEM, WECHATPAY_PUB_PEM};
    use std::time::{Duration, SystemTime};

    use wechatpay_core::notify::{Receiver, Resource as Typed};
    use wechatpay_core::{ApiV3Key, KeyStore, MchId, PrivateKey};

    const KEY: &str = "0123456789abcdefghijABCDEFGHIJ+/";
    const ORDER: &str = r#"{"mchid":"1230000109","appid":"wxd678efh567hg6787","out_trade_no":"1217752501201407033233368018","transaction_id":"4200000985202103031441826014","trade_state":"SUCCESS","trade_state_desc":"支付成功"}"#;

    #[test]
    fn the_core_accepts_what_is_built() {
        let signer = PrivateKey::from_pem(WECHATPAY_KEY_PEM.as_bytes()).unwrap();
        let event = Event::transaction_success(ORDER.as_bytes().to_vec()).unwrap();
        assert_eq!(event.id.len(), 36);
        let now = 1_800_000_000;
        let signed = build(&event, KEY, &signer, PUBLIC_KEY_ID, now).unwrap();
        assert!(!format!("{signed:?}").contains(signed.header("wechatpay-signature").unwrap()));
        let mut store = KeyStore::new();
        store.add_public_key(PUBLIC_KEY_ID, WECHATPAY_PUB_PEM.as_bytes()).unwrap();
        let request = signed.to_request("http://127.0.0.1/notify").unwrap();
        let receiver = |key: &str| {
            Receiver::new(store.clone(), ApiV3Key::new(key).unwrap(), MchId::new(MCHID).unwrap())
                .clock(move || SystemTime::UNIX_EPOCH + Duration::from_secs(now))
        };
        let n = receiver(KEY).receive_request(&request).unwrap();
        assert_eq!(n.id, event.id);
        assert!(matches!(&n.resource, Typed::Transaction(t) if t.out_trade_no == "1217752501201407033233368018"));

        let v: serde_json::Value = serde_json::from_slice(&signed.body).unwrap();
        assert_eq!(v["resource_type"], "encrypt-resource");
        assert_eq!(v["resource"]["associated_data"], "transaction");
        let text = String::from_utf8(signed.body.clone()).unwrap();
        assert!(text.starts_with(r#"{"id":""#), "{text}");
        // Another APIv3 key fails at decryption, a tampered body at the signature.
        assert!(receiver("X123456789abcdefghijABCDEFGHIJ+/").receive_request(&request).is_err());
        let mut tampered = request;
        tampered.body_mut()[10] ^= 1;
        assert!(receiver(KEY).receive_request(&tampered).is_err());
    }

    #[test]
    fn bad_inputs_are_named() {
        let signer = PrivateKey::from_pem(WECHATPAY_KEY_PEM.as_bytes()).unwrap();
        let event = Event::transaction_success(b"{}".to_vec()).unwrap();
        let e = build(&event, "short", &signer, PUBLIC_KEY_ID, 1).unwrap_err();
        assert!(e.to_string().contains("APIv3 key"), "{e}");
        let e = build(&event, KEY, &signer, "a b", 1).unwrap_err();
        assert!(e.to_string().contains("serial"), "{e}");
    }
}
