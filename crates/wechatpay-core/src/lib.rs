//! The sans-IO core of a WeChat Pay API v3 (微信支付 APIv3) client.
//!
//! It turns query parameters into signed [`http::Request`]s and response status, headers and
//! raw bytes into typed results or typed errors. It does no I/O: time, nonces and keys are
//! arguments, and adapters (`wechatpay-reqwest`, `wechatpay-ureq`) do the sending.
//!
//! The flow is `prepare → sign → (someone sends it) → verify → parse`:
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use wechatpay_core::{
//!     api::QueryOrderByOutTradeNo, model::TradeState, Config, Host, KeyStore, MchId, Nonce,
//!     OutTradeNo, PrivateKey, SerialNo, Signer, SigningInput,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Keys are parsed once. (These are the repository's throwaway test keys.)
//! let merchant_key = PrivateKey::from_pem(include_bytes!("../tests/data/merchant_key.pem"))?;
//! let mut keys = KeyStore::new();
//! keys.add_public_key("PUB_KEY_ID_0114232019092600000000000000000001",
//!                     include_bytes!("../tests/data/wechatpay_pub.pem"))?;
//! let config = Config::builder(MchId::new("1230000109")?, SerialNo::new("444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0")?)
//!     .signer(merchant_key)
//!     .verifier(keys)
//!     .build()?;
//!
//! // Build and sign. Bad ids cannot even be represented.
//! let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018")? };
//! let input = SigningInput::new(1554208460, Nonce::new("593BEC0C930BF1AFEB40B4A08C8FB242")?);
//! let prepared = wechatpay_core::prepare(&config, &op, Host::Primary, input)?;
//! assert_eq!(prepared.string_to_sign(),
//!     "GET\n/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n");
//! let request = prepared.sign(config.signer().expect("configured"))?;
//! assert!(request.headers()["authorization"].is_sensitive());
//!
//! // ... an adapter sends `request`; here WeChat Pay's answer is signed in place ...
//! let body = br#"{"mchid":"1230000109","out_trade_no":"1217752501201407033233368018","trade_state":"SUCCESS","trade_state_desc":"ok","amount":{"total":100}}"#;
//! let wechatpay_key = PrivateKey::from_pem(include_bytes!("../tests/data/wechatpay_key.pem"))?;
//! let mut message = b"1554208460\nNONCE\n".to_vec();
//! message.extend_from_slice(body);
//! message.push(b'\n');
//! let signature = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, wechatpay_key.sign(&message)?);
//! let mut headers = HeaderMap::new();
//! headers.insert("Wechatpay-Timestamp", "1554208460".parse()?);
//! headers.insert("Wechatpay-Nonce", "NONCE".parse()?);
//! headers.insert("Wechatpay-Signature", signature.parse()?);
//! headers.insert("Wechatpay-Serial", "PUB_KEY_ID_0114232019092600000000000000000001".parse()?);
//!
//! // Verify, then parse the verified bytes.
//! let order = config.parse_response::<QueryOrderByOutTradeNo>(StatusCode::OK, &headers, body, 1554208460 + 5)?;
//! assert_eq!(order.trade_state, TradeState::Success);
//! assert_eq!(order.amount.and_then(|a| a.total).map(|fen| fen.to_string()).as_deref(), Some("1.00"));
//! # Ok(())
//! # }
//! ```
//!
//! # Crypto backends
//!
//! RSA comes from `aws-lc-rs` (feature `aws-lc-rs`, default) or the pure-Rust `rsa` crate
//! (feature `rustcrypto`). Both may be enabled; a key's backend is chosen per key with
//! [`Backend`]. **Security note:** the `rsa` crate carries RUSTSEC-2023-0071 (the Marvin
//! timing side channel on private-key operations; no fixed release exists). The default
//! `aws-lc-rs` backend is not affected; prefer it for signing.
//!
//! # Modules
//!
//! [`auth`] signs requests, [`verify`] checks response signatures, [`keys`] loads keys,
//! [`crypto`] holds the backend traits, [`api`] has one operation per endpoint, [`model`]
//! the response types, [`error`] the error type and [`retry`] the shared retry policy.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod apiv3_key;
pub mod auth;
pub mod config;
pub mod crypto;
mod der;
pub mod error;
pub mod ids;
pub mod keys;
pub mod model;
pub mod notify;
mod pem;
pub mod response;
pub mod retry;
pub mod verify;

pub use api::Operation;
pub use apiv3_key::{ApiV3Key, ApiV3KeyError, DecryptError, EncryptedResource};
pub use auth::{PreparedRequest, SigningInput, prepare, prepare_raw, unix_now};
pub use config::{BaseUrl, Config, ConfigBuilder, Host};
pub use crypto::{Backend, SignError, Signer, Verifier, VerifyError};
pub use error::{ApiError, Error, TransportError, TransportErrorKind, VerificationFailure};
pub use ids::{InvalidInput, MchId, Nonce, OutTradeNo, SerialNo, SubMchId, TransactionId};
pub use keys::{KeyError, KeyStore, PrivateKey, PublicKey};
pub use notify::{Expect, Notification, NotificationError, parse_notification, parse_notification_parts};
pub use response::{parse, parse_as};
pub use retry::{Decision, RetryPolicy};

impl Config {
    /// Prepares `op` for `host` and signs it with the configured signer.
    ///
    /// # Errors
    /// [`Error::NotConfigured`] without a signer, [`Error::InvalidInput`], [`Error::Sign`].
    pub fn signed_request<Op: Operation>(
        &self,
        op: &Op,
        host: Host,
        input: SigningInput,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let signer = self.signer().ok_or(Error::NotConfigured("no signer (merchant private key) configured"))?;
        prepare(self, op, host, input)?.sign(signer)
    }

    /// Verifies and parses the answer to `op` with the configured verifier.
    ///
    /// # Errors
    /// [`Error::NotConfigured`] without a verifier; otherwise as [`response::parse`].
    pub fn parse_response<Op: Operation>(
        &self,
        status: http::StatusCode,
        headers: &http::HeaderMap,
        body: &[u8],
        now: u64,
    ) -> Result<Op::Output, Error> {
        let verifier = self
            .verifier()
            .ok_or(Error::NotConfigured("no WeChat Pay key (public key or platform certificate) configured"))?;
        parse::<Op>(self, verifier, status, headers, body, now)
    }
}
