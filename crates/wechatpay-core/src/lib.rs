//! The sans-IO core of a WeChat Pay API v3 (微信支付 APIv3) client.
//!
//! It turns query parameters into signed [`http::Request`]s and response status, headers and
//! raw bytes into typed results or typed errors. It does no I/O: time, nonces and keys are
//! arguments, and adapters (`wechatpay-reqwest`, `wechatpay-ureq`) do the sending.
//!
//! The flow is `prepare → sign → (someone sends it) → verify → parse`, and one call loop
//! ([`transport::Driver`]) runs it with retries for any transport. A library author's own
//! HTTP stack is a closure; here the "server" is a closure that signs a canned answer:
//!
//! ```
//! use std::time::Duration;
//! use wechatpay_core::transport::Driver;
//! use wechatpay_core::{api::QueryOrderByOutTradeNo, model::TradeState, Config, KeyStore, MchId,
//!                      OutTradeNo, PrivateKey, SerialNo, TransportError, crypto::Signer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Keys are parsed once. (These are the repository's throwaway test keys.)
//! let merchant_key = PrivateKey::from_pem(include_bytes!("../tests/data/merchant_key.pem"))?;
//! let mut wechatpay_keys = KeyStore::new();
//! wechatpay_keys.add_public_key("PUB_KEY_ID_0114232019092600000000000000000001",
//!                               include_bytes!("../tests/data/wechatpay_pub.pem"))?;
//! let config = Config::builder(MchId::new("1230000109")?,
//!                              SerialNo::new("444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0")?,
//!                              merchant_key, wechatpay_keys).build()?;
//! # let wechatpay_key = PrivateKey::from_pem(include_bytes!("../tests/data/wechatpay_key.pem"))?;
//! # let answer = move |body: &'static [u8]| -> Result<http::Response<Vec<u8>>, TransportError> {
//! #     let ts = wechatpay_core::unix_now().to_string();
//! #     let message = [ts.as_bytes(), b"\nNONCE\n", body, b"\n"].concat();
//! #     let signature = base64::Engine::encode(&base64::engine::general_purpose::STANDARD,
//! #         wechatpay_key.sign(&message).map_err(TransportError::other)?);
//! #     Ok(http::Response::builder().status(200)
//! #         .header("Wechatpay-Timestamp", ts).header("Wechatpay-Nonce", "NONCE")
//! #         .header("Wechatpay-Signature", signature)
//! #         .header("Wechatpay-Serial", "PUB_KEY_ID_0114232019092600000000000000000001")
//! #         .body(body.to_vec()).expect("a valid response"))
//! # };
//!
//! // Your HTTP stack: send the signed request, return the response (here: a canned answer).
//! let send = |request: http::Request<Vec<u8>>| {
//!     assert!(request.headers()["authorization"].is_sensitive());
//!     answer(br#"{"mchid":"1230000109","out_trade_no":"1217752501201407033233368018","trade_state":"SUCCESS","trade_state_desc":"ok","amount":{"total":100}}"#)
//! };
//!
//! // The driver signs, sends, verifies, parses, checks the answer is for this order, retries.
//! let driver = Driver::new(config);
//! let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018")? };
//! let order = driver.execute(&send, std::thread::sleep, &op)?;
//! assert_eq!(order.trade_state, TradeState::Success);
//! assert_eq!(order.amount.and_then(|a| a.total).map(|fen| fen.to_yuan_string()).as_deref(), Some("1.00"));
//! # Ok(())
//! # }
//! ```
//!
//! The pieces can also be used one by one: [`prepare`] gives a [`PreparedRequest`] whose
//! [`string_to_sign`](PreparedRequest::string_to_sign) is what a `SIGN_ERROR` is debugged
//! with (and which an external HSM/KMS can sign, see [`PreparedRequest::finish`]), and
//! [`parse_response`] verifies and parses any answer: `prepare(&config, &op, host, input)?.sign(signer)`
//! builds a request, `parse_response(&config, &op, &response, now)` reads its answer, and
//! [`Config`] is plain data that does neither.
//!
//! # An endpoint this crate has no type for yet
//!
//! [`api::Json`] calls any endpoint: a method, a `/v3/…` target (percent-encoded by you,
//! sent and signed as given) and a JSON body (sent byte for byte). It runs through the same
//! [`Driver`](transport::Driver) as every typed operation — a fresh signature per attempt, retries, failover,
//! verification — and returns the verified JSON text exactly as received
//! ([`api::JsonText`], `None` for a `204`):
//!
//! ```
//! # use wechatpay_core::{api::Json, http::Method};
//! let op = Json::new(Method::GET, "/v3/refund/domestic/refunds/R1217752501201407033233368018", None)?;
//! // let text = driver.execute(&transport, std::thread::sleep, &op)?; // text.as_str(): Option<&str>
//! # let _ = op; Ok::<(), wechatpay_core::InvalidInput>(())
//! ```
//!
//! # Crypto backends
//!
//! RSA comes from `aws-lc-rs` (feature `aws-lc-rs`, default) or the pure-Rust `rsa` crate
//! (feature `rustcrypto`). Both may be enabled; a key's backend is chosen per key with
//! [`crypto::Backend`]. **Security note:** the `rsa` crate carries RUSTSEC-2023-0071 (the
//! Marvin timing side channel on private-key operations; no fixed release exists). The
//! default `aws-lc-rs` backend is not affected; prefer it for signing.
//!
//! # Shape
//!
//! The core is pure: `prepare → sign → (a transport sends) → verify → check the answer
//! belongs to the question → parse`, with time, nonces and keys as arguments. The call loop
//! around it — a fresh signature per attempt, the [`retry::RetryPolicy`], failover to the
//! backup host, the deadline, the body cap, `tracing` spans — is [`transport::Driver`],
//! written once here and generic over a [`transport::Transport`] (blocking) or a
//! [`transport::AsyncTransport`]; sleeping is passed in. An adapter crate
//! (`wechatpay-reqwest`, `wechatpay-ureq`) is only a transport: it builds its HTTP client,
//! sends, reads the body under the cap and classifies its errors into [`TransportErrorKind`]s.
//!
//! # Where things are
//!
//! One rule: **every public item has exactly one path.** The core vocabulary sits at the
//! root — [`Config`], [`ConfigBuilder`], [`Host`], [`BaseUrl`], the id types ([`MchId`],
//! [`OutTradeNo`], …), the keys ([`PrivateKey`], [`PublicKey`], [`KeyStore`]), [`ApiV3Key`],
//! [`Error`] and the errors it carries, [`prepare`], [`PreparedRequest`], [`SigningInput`],
//! the signature checks ([`signature_headers`], [`verify_signature`],
//! [`VerificationFailure`]) — re-exported from private modules. Everything else lives in
//! one of the public "family" modules, and only there (none of their items is re-exported
//! at the root):
//!
//! | module | what |
//! |---|---|
//! | [`api`] | one operation per endpoint (target, body, idempotency, answer binding), the [`api::Operation`] trait |
//! | [`model`] | the response types |
//! | [`invoke`] | the signed parameters that open the payment sheet (JSAPI, mini-program, APP) |
//! | [`notify`] | receiving notifications |
//! | [`certificates`] | platform certificates: download, bootstrap rule, refresh |
//! | [`charge`] | the payment-code charge at the till: its pure policy (and the driver's loop) from codepay to paid, not paid or unresolved |
//! | [`watch`] | the policy (and the driver's loop) for asking until an order's state is final |
//! | [`transport`] | the transport traits and the [`transport::Driver`] |
//! | [`retry`] | the retry policy |
//! | [`crypto`] | the [`crypto::Signer`] and [`crypto::Verifier`] traits and the backends |
//! | [`env`](mod@env) | configuration from `WECHATPAY_*` variables and the files they name (the adapters' `Client::from_env()`) |
//! | [`untrusted`] | the escaping of text from the network |
//! | [`wire`] | header names and other constants of the protocol |
//!
//! Time at the public surface is [`std::time::SystemTime`] ("now" arguments, validity,
//! schedules) or [`std::time::Duration`]; only wire values are Unix seconds as `u64`
//! ([`SigningInput`]'s timestamp, `Wechatpay-Timestamp`), and [`unix_now`] gives one.
//!
//! # Features
//!
//! `aws-lc-rs` (default) and `rustcrypto` choose the crypto backends (below); `jiff` adds
//! conversions from [`model::Rfc3339`] to `jiff` date-time types.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The families: each item reachable through exactly one of them.
pub mod api;
pub mod bill;
pub mod certificates;
pub mod charge;
pub mod crypto;
pub mod env;
pub mod invoke;
pub mod model;
pub mod notify;
pub mod retry;
pub mod transport;
pub mod untrusted;
pub mod watch;
pub mod wire;

// The core vocabulary, re-exported at the root below; and private helpers.
mod apiv3_key;
mod auth;
mod base64_strict;
mod calendar;
mod config;
mod der;
mod error;
mod ids;
mod json;
mod keys;
mod notify_url;
mod pem;
mod percent;
mod response;
mod verify;

pub use http;

pub use apiv3_key::{API_V3_KEY_LEN, ApiV3Key, ApiV3KeyError, DecryptError, EncryptedResource};
pub use auth::{PreparedRequest, SigningInput, prepare, string_to_sign, unix_now};
pub use config::{BaseUrl, Config, ConfigBuilder, DEFAULT_BACKUP_URL, DEFAULT_BASE_URL, DEFAULT_MAX_BODY_BYTES, Host};
pub use error::{
    ApiError, DecodeError, Error, TransportError, TransportErrorKind, UnexpectedResponse, VerificationError,
};
pub use ids::{AppId, OpenId, OutParkingNo, OutRefundNo, ParkingId, RefundId};
pub use ids::{InvalidInput, MchId, Nonce, OutTradeNo, SerialNo, SubMchId, TransactionId};
pub use keys::{KeyError, KeyKind, KeyStore, MIN_RSA_BITS, PrivateKey, PublicKey};
pub use notify_url::NotifyUrl;
pub use response::parse_response;
pub use verify::{SignatureHeaders, VerificationFailure, signature_headers, verify_signature};
