//! Wire constants of WeChat Pay API v3, written once: the signature and `Request-ID` header
//! names, the authorization scheme, the signature probe prefix, the clock-skew window, and
//! the algorithm, AAD and lengths of encrypted resources.
//!
//! Header names are spelled as [`http::HeaderName`] spells them (lower case); HTTP header
//! names are case-insensitive, and WeChat Pay writes them `Wechatpay-Timestamp`, `Request-ID`,
//! and so on. The simulator (`wechatpay-sim`) uses these same constants.

/// `Wechatpay-Timestamp`: Unix seconds when the answer or notification was signed.
pub const HEADER_TIMESTAMP: &str = "wechatpay-timestamp";
/// `Wechatpay-Nonce`: the signer's random string.
pub const HEADER_NONCE: &str = "wechatpay-nonce";
/// `Wechatpay-Signature`: the Base64 RSA signature.
pub const HEADER_SIGNATURE: &str = "wechatpay-signature";
/// `Wechatpay-Serial`: on an answer, which WeChat Pay key signed it; on a request, which key
/// should sign the answer.
pub const HEADER_SERIAL: &str = "wechatpay-serial";
/// `Wechatpay-Signature-Type`: the signature algorithm, [`AUTH_SCHEME`] when present.
pub const HEADER_SIGNATURE_TYPE: &str = "wechatpay-signature-type";
/// `Request-ID`: WeChat Pay's id of the call (what its support asks for).
pub const HEADER_REQUEST_ID: &str = "request-id";

/// The `Authorization` scheme of requests, and the only `Wechatpay-Signature-Type` accepted.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// Prefix of the signatures WeChat Pay injects to probe that clients verify.
pub const SIGN_TEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// The widest allowed distance between a signed timestamp and local time, in seconds (WeChat
/// Pay's own window, for answers and notifications alike).
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// The only `algorithm` of an encrypted resource (notifications, certificates).
pub const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";
/// The `associated_data` of every `/v3/certificates` item.
pub const CERTIFICATE_AAD: &str = "certificate";
/// Length of a GCM nonce in bytes (`nonce` is 12 ASCII characters).
pub const GCM_NONCE_LEN: usize = 12;
/// Length of a GCM tag in bytes (the end of every ciphertext).
pub const GCM_TAG_LEN: usize = 16;
