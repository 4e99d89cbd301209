//! A JSON answer before signing: a status and the exact body bytes.

use std::sync::Arc;

use serde_json::{Value, json};

/// A status and the body it is served with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Arc<[u8]>,
}

impl Reply {
    /// `200` with a stored order.
    pub(crate) fn ok(body: Arc<[u8]>) -> Self {
        Self { status: 200, body }
    }

    /// `204 No Content`: an empty body (still signed).
    pub(crate) fn no_content() -> Self {
        Self { status: 204, body: Arc::from(&b""[..]) }
    }

    /// A WeChat Pay error body `{"code","message"[,"detail"]}`.
    pub(crate) fn error(status: u16, code: &str, message: &str, detail: Option<Value>) -> Self {
        let mut body = json!({ "code": code, "message": message });
        if let Some(detail) = detail {
            body["detail"] = detail;
        }
        Self { status, body: serde_json::to_vec(&body).unwrap_or_default().into() }
    }

    /// `400 PARAM_ERROR` naming a field in `location`.
    pub(crate) fn param_error(field: &str, location: &str, issue: &str) -> Self {
        Self::error(
            400,
            "PARAM_ERROR",
            &format!("参数错误: {field}"),
            Some(json!({ "field": field, "location": location, "issue": issue })),
        )
    }

    /// `400 INVALID_REQUEST`.
    pub(crate) fn invalid_request(message: &str) -> Self {
        Self::error(400, "INVALID_REQUEST", message, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_wechatpay_shaped() {
        let r = Reply::param_error("mchid", "query", "missing");
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!((r.status, v["code"].as_str()), (400, Some("PARAM_ERROR")));
        assert_eq!(v["detail"]["location"], "query");
        let v: Value = serde_json::from_slice(&Reply::invalid_request("x").body).unwrap();
        assert!(v.get("detail").is_none());
    }
}
