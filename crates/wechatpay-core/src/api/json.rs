//! The generic call: any method, any `/v3/…` target, any JSON body — for an endpoint this
//! crate has no type for yet.
//!
//! Its docs are on [`Json`].

use std::fmt;

use http::Method;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Binding, Operation, Target, nothing_to_bind};
use crate::ids::{InvalidInput, MchId};
use crate::verify::VerificationFailure;

/// The rule for [`Json::new`]'s `target`.
const TARGET_RULE: &str = "an origin-form target starting with /v3/, already percent-encoded \
                           (RFC 3986 characters only, % followed by two hex digits), no fragment";

/// The rule for [`Json::new`]'s `body`.
const BODY_RULE: &str = "one JSON document (sent byte for byte as given)";

/// A call to any endpoint: method, target and JSON body as given; the answer is the verified
/// JSON text ([`JsonText`]). The way to call an endpoint this crate has no type for yet.
///
/// [`Json`] is an [`Operation`] like every other, so it runs through the same
/// [`Driver`](crate::transport::Driver): a fresh signature per attempt, the retry policy
/// (a `GET`/`HEAD` may be repeated, anything else only when it certainly never arrived,
/// unless [`Json::idempotent`] says otherwise), failover, and the verification of the
/// answer's signature. What it returns is the verified answer as received, as [`JsonText`]:
/// numbers keep every digit, unknown fields are all there. Nothing in the answer is
/// compared with the question (the crate does not know what the endpoint returns), so
/// binding the answer to the request is the caller's job.
///
/// ```
/// use wechatpay_core::api::{Json, JsonText};
/// use wechatpay_core::http::Method;
///
/// // The target is sent and signed exactly as given: percent-encode it yourself.
/// let op = Json::new(Method::GET, "/v3/refund/domestic/refunds/1217752501201407033233368018", None)?;
/// // A POST body is sent byte for byte (and signed) as given; it must be JSON.
/// let close = Json::new(Method::POST, "/v3/pay/transactions/out-trade-no/X1/close", Some(r#"{"mchid":"1230000109"}"#))?
///     .idempotent(true); // closing is reentrant: let the driver retry it
/// // let answer: JsonText = driver.execute(&transport, std::thread::sleep, &op)?;
/// // answer.as_str(): Some(verified JSON text), or None for a 204
/// # let _ = (op, close);
/// # Ok::<(), wechatpay_core::InvalidInput>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Json {
    method: Method,
    target: String,
    body: Option<String>,
    idempotent: bool,
}

impl Json {
    /// A call of `method` to `target` with `body`.
    ///
    /// `target` must start with `/v3/` and be an origin-form request target (`/path[?query]`),
    /// already percent-encoded: it is sent and signed exactly as given. `body`, if any, must
    /// be one valid JSON document and is sent byte for byte (with
    /// `Content-Type: application/json`). A `GET` or `HEAD` may be repeated by the retry
    /// policy; any other method only when it certainly never arrived (see
    /// [`Json::idempotent`]).
    ///
    /// # Errors
    /// [`InvalidInput`] naming the field (`target` or `body`) and its rule; nothing is
    /// signed or sent.
    pub fn new(method: Method, target: &str, body: Option<&str>) -> Result<Json, InvalidInput> {
        check_target(target)?;
        if let Some(body) = body {
            serde_json::from_str::<IgnoredAny>(body)
                .map_err(|e| InvalidInput::new("body", format!("is not JSON ({e})"), BODY_RULE))?;
        }
        let idempotent = method == Method::GET || method == Method::HEAD;
        Ok(Json { method, target: target.to_owned(), body: body.map(str::to_owned), idempotent })
    }

    /// Says whether the call may be repeated freely (`GET`/`HEAD` may by default, other
    /// methods may not). Say `true` only for an endpoint whose repeats are harmless.
    #[must_use]
    pub fn idempotent(self, yes: bool) -> Json {
        Json { idempotent: yes, ..self }
    }

    /// The request target, as it is sent and signed.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The body, as it is sent and signed.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }
}

impl fmt::Debug for Json {
    /// The method, the target and the body's length (a body may carry personal data).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Json")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("body_len", &self.body.as_ref().map(String::len))
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

/// Checks `target` against [`TARGET_RULE`].
fn check_target(target: &str) -> Result<(), InvalidInput> {
    let refuse = |problem: &str| Err(InvalidInput::new("target", problem.to_owned(), TARGET_RULE));
    if !target.starts_with("/v3/") {
        return refuse("does not start with /v3/");
    }
    let bytes = target.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                if !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
                {
                    return refuse("has a % not followed by two hex digits");
                }
                i += 3;
                continue;
            }
            b'#' => return refuse("has a fragment (#)"),
            b if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&b) => {}
            _ => return refuse("has a character that must be percent-encoded (a space, a non-ASCII letter, ...)"),
        }
        i += 1;
    }
    // The same check http::Uri makes when the request is built, so that nothing fails later.
    match http::uri::PathAndQuery::try_from(target) {
        Ok(pq) if pq.as_str() == target => Ok(()),
        _ => refuse("is not a valid request target"),
    }
}

impl Operation for Json {
    type Output = JsonText;
    const NAME: &'static str = "json";

    fn method(&self) -> Method {
        self.method.clone()
    }

    fn idempotent(&self) -> bool {
        self.idempotent
    }

    fn target(&self, _mchid: &MchId) -> Target {
        Target::verbatim(&self.target)
    }

    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        self.body.as_ref().map(|b| b.as_bytes().to_vec())
    }

    /// Nothing to bind: this crate does not know what the endpoint answers, so it cannot
    /// compare the answer with the question. The answer's signature is still verified.
    fn check_answer(&self, _mchid: &MchId, _answer: &JsonText) -> Result<Binding, VerificationFailure> {
        nothing_to_bind()
    }
}

/// The verified answer to a [`Json`] call, exactly as received: `None` for an empty body
/// (a `204 No Content`), otherwise the JSON text (every digit of every number, every field,
/// in order; only whitespace around the whole document is not kept).
///
/// A body that is the JSON literal `null` also reads as `None` (WeChat Pay never sends one).
/// A document nested deeper than 128 levels is refused as a decode error (as
/// serde_json refuses it for every typed answer), so that printing or parsing it again
/// cannot exhaust a stack.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(transparent)]
pub struct JsonText(Option<Box<RawValue>>);

/// The deepest nesting of arrays and objects a [`JsonText`] may have: 128, serde_json's own
/// limit for typed values.
const MAX_DEPTH: usize = 128;

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Option::<Box<RawValue>>::deserialize(deserializer)?;
        if let Some(raw) = &raw {
            if depth(raw.get()) > MAX_DEPTH {
                return Err(serde::de::Error::custom(format_args!(
                    "the JSON document is nested deeper than {MAX_DEPTH} levels"
                )));
            }
        }
        Ok(JsonText(raw))
    }
}

/// The deepest nesting of arrays and objects in `json`, a valid JSON text.
fn depth(json: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for byte in json.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

impl JsonText {
    /// The JSON text, or `None` for an empty answer.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref().map(RawValue::get)
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for JsonText {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_follow_the_rule() {
        for good in ["/v3/x", "/v3/pay/transactions/id/1?mchid=1&a=%E7%B2%A4", "/v3/a*b", "/v3/x?"] {
            assert!(Json::new(Method::GET, good, None).is_ok(), "{good}");
        }
        for bad in [
            "/v2/x",
            "v3/x",
            "https://api.mch.weixin.qq.com/v3/x",
            "/v3/a b",
            "/v3/粤",
            "/v3/x#f",
            "/v3/%E",
            "/v3/%GG",
            "/v3/a|b",
            "/v3/\"x\"",
        ] {
            let err = Json::new(Method::GET, bad, None).unwrap_err();
            assert_eq!(err.field(), "target", "{bad}");
        }
    }

    #[test]
    fn answers_nested_too_deep_are_refused() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let text: JsonText = serde_json::from_str(&nested(MAX_DEPTH)).unwrap();
        assert_eq!(text.as_str().map(str::len), Some(2 * MAX_DEPTH));
        assert!(serde_json::from_str::<JsonText>(&nested(MAX_DEPTH + 1)).is_err());
        assert!(serde_json::from_str::<JsonText>(&nested(10_000)).is_err());
        let objects = format!("{}1{}", r#"{"a":"#.repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1));
        assert!(serde_json::from_str::<JsonText>(&objects).is_err());
        // Brackets inside strings (escaped quotes too) are text, not nesting.
        let in_strings = format!(r#"{{"a":"{}\"{}","b":[1]}}"#, "[".repeat(500), "{".repeat(500));
        let text: JsonText = serde_json::from_str(&in_strings).unwrap();
        assert_eq!(text.as_str(), Some(in_strings.as_str()));
        assert_eq!(depth(r#"{"a":"\\","b":[[1]]}"#), 3);
        assert_eq!(serde_json::from_str::<JsonText>("null").unwrap().as_str(), None);
    }

    #[test]
    fn bodies_must_be_json_and_idempotency_follows_the_method() {
        assert_eq!(Json::new(Method::POST, "/v3/x", Some("{\"a\":")).unwrap_err().field(), "body");
        assert_eq!(Json::new(Method::POST, "/v3/x", Some("")).unwrap_err().field(), "body");
        assert_eq!(Json::new(Method::POST, "/v3/x", Some("{} {}")).unwrap_err().field(), "body");
        let post = Json::new(Method::POST, "/v3/x", Some(" {\"n\": 1.50} ")).unwrap();
        assert_eq!(post.body(), Some(" {\"n\": 1.50} "));
        assert!(!post.idempotent);
        assert!(post.idempotent(true).idempotent);
        assert!(Json::new(Method::GET, "/v3/x", None).unwrap().idempotent);
        assert!(Json::new(Method::HEAD, "/v3/x", None).unwrap().idempotent);
        assert!(!Json::new(Method::DELETE, "/v3/x", None).unwrap().idempotent);
    }
}
