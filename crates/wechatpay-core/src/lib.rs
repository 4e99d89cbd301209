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
//!                      OutTradeNo, PrivateKey, SerialNo, Signer, TransportError};
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
//! assert_eq!(order.amount.and_then(|a| a.total).map(|fen| fen.to_string()).as_deref(), Some("1.00"));
//! # Ok(())
//! # }
//! ```
//!
//! The pieces can also be used one by one: [`prepare`] gives a [`PreparedRequest`] whose
//! [`string_to_sign`](PreparedRequest::string_to_sign) is what a `SIGN_ERROR` is debugged
//! with (and which an external HSM/KMS can sign, see [`PreparedRequest::finish`]), and
//! [`Config::parse_response`] verifies and parses any answer.
//!
//! # Crypto backends
//!
//! RSA comes from `aws-lc-rs` (feature `aws-lc-rs`, default) or the pure-Rust `rsa` crate
//! (feature `rustcrypto`). Both may be enabled; a key's backend is chosen per key with
//! [`Backend`]. **Security note:** the `rsa` crate carries RUSTSEC-2023-0071 (the Marvin
//! timing side channel on private-key operations; no fixed release exists). The default
//! `aws-lc-rs` backend is not affected; prefer it for signing.
//!
//! # Shape
//!
//! The core is pure: `prepare → sign → (a transport sends) → verify → check the answer
//! belongs to the question → parse`, with time, nonces and keys as arguments. The call loop
//! around it — a fresh signature per attempt, the [`RetryPolicy`], failover to the backup
//! host, the deadline, the body cap, `tracing` spans — is [`Driver`], written once here and
//! generic over a [`Transport`] (blocking) or an [`AsyncTransport`]; sleeping is passed in. An
//! adapter crate (`wechatpay-reqwest`, `wechatpay-ureq`) is only a transport: it builds its
//! HTTP client, sends, reads the body under the cap and classifies its errors into
//! [`TransportErrorKind`]s.
//!
//! # Modules
//!
//! [`auth`] signs requests, [`verify`] checks response signatures, [`keys`] loads keys,
//! [`crypto`] holds the backend traits, [`api`] has one operation per endpoint (target, body,
//! idempotency, answer binding), [`model`] the response types, [`error`] the error type,
//! [`retry`] the retry policy, [`transport`] the transport traits and the driver,
//! [`untrusted`] the escaping of text from the network, and [`watch`] the policy (and the
//! driver's loop) for asking until an order's state is final.
//!
//! # Features
//!
//! `aws-lc-rs` (default) and `rustcrypto` choose the crypto backends (below); `jiff` adds
//! conversions from [`model::Rfc3339`] to `jiff` date-time types.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod apiv3_key;
pub mod auth;
mod base64_strict;
pub mod certificates;
pub mod config;
pub mod crypto;
mod der;
pub mod error;
pub mod ids;
mod json;
pub mod keys;
pub mod model;
pub mod notify;
mod pem;
mod response;
pub mod retry;
pub mod transport;
pub mod untrusted;
pub mod verify;
pub mod watch;

pub use http;

pub use api::Operation;
pub use apiv3_key::{ApiV3Key, ApiV3KeyError, DecryptError, EncryptedResource};
pub use auth::{PreparedRequest, SigningInput, prepare, prepare_raw, unix_now};
pub use config::{BaseUrl, Config, ConfigBuilder, Host};
pub use crypto::{Backend, SignError, Signer, Verifier, VerifyError};
pub use error::{ApiError, Error, TransportError, TransportErrorKind, VerificationFailure};
pub use ids::{InvalidInput, MchId, Nonce, OutTradeNo, SerialNo, SubMchId, TransactionId};
pub use keys::{KeyError, KeyStore, PrivateKey, PublicKey};
pub use notify::{Notification, NotificationError, Receiver};
pub use retry::{Decision, RetryPolicy};
pub use transport::{AsyncTransport, Driver, Transport};
