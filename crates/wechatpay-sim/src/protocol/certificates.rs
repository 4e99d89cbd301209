//! `GET /v3/certificates` (PROTOCOL.md §9): every listed platform certificate, its PEM sealed with
//! the APIv3 key (AAD `certificate`, a fresh nonce per item); `404 RESOURCE_NOT_EXISTS` in
//! public-key-only mode.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::clock::beijing_rfc3339;
use crate::protocol::apiv3_key::{self, ALGORITHM};
use crate::protocol::reply::Reply;
use crate::protocol::routes::Query;
use crate::protocol::signing::ResponseKeys;

/// The associated data of a sealed certificate.
const AAD: &str = "certificate";
/// WeChat Pay's message for a merchant without platform certificates.
pub(crate) const NO_CERTIFICATES: &str = "无可用的平台证书，请使用微信支付公钥";

/// The answer to a verified `GET /v3/certificates` with query `query`.
pub(crate) fn answer(query: &str, keys: &ResponseKeys, apiv3_key: &str) -> Reply {
    match list(query, keys, apiv3_key) {
        Ok(reply) | Err(reply) => reply,
    }
}

fn list(query: &str, keys: &ResponseKeys, apiv3_key: &str) -> Result<Reply, Reply> {
    let query = Query::parse(query)?;
    match query.get("algorithm_type") {
        None | Some("RSA") => {}
        Some(_) => return Err(Reply::param_error("algorithm_type", "query", "algorithm_type must be RSA")),
    }
    if keys.public_key_only() {
        return Err(Reply::error(404, "RESOURCE_NOT_EXISTS", NO_CERTIFICATES, None));
    }
    let items: Vec<(String, String, i64, i64)> = keys.with_platform(|p| {
        p.listed().iter().map(|c| (c.serial().to_owned(), c.pem.clone(), c.effective, c.expire)).collect()
    });
    let mut data = Vec::with_capacity(items.len());
    for (serial, pem, effective, expire) in items {
        let sealed = apiv3_key::seal(apiv3_key, AAD, pem.as_bytes())
            .map_err(|_| Reply::error(500, "SYSTEM_ERROR", "系统异常，请稍后重试", None))?;
        data.push(json!({
            "serial_no": serial,
            "effective_time": beijing_rfc3339(effective),
            "expire_time": beijing_rfc3339(expire),
            "encrypt_certificate": {
                "algorithm": ALGORITHM,
                "nonce": sealed.nonce,
                "associated_data": AAD,
                "ciphertext": sealed.ciphertext,
            },
        }));
    }
    let body = serde_json::to_vec(&json!({ "data": Value::Array(data) })).unwrap_or_default();
    Ok(Reply::ok(Arc::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKeyChoice;
    use wechatpay_core::{ApiV3Key, EncryptedResource};

    const KEY: &str = "0123456789abcdefghijABCDEFGHIJ+/";

    #[test]
    fn lists_sealed_certificates_and_checks_the_query() {
        let keys = ResponseKeys::load(Some(SigningKeyChoice::PublicKey), false).unwrap();
        let reply = answer("algorithm_type=RSA", &keys, KEY);
        assert_eq!(reply.status, 200);
        let v: Value = serde_json::from_slice(&reply.body).unwrap();
        let item = &v["data"][0];
        assert_eq!(item["serial_no"], crate::credentials::PLATFORM_SERIAL);
        assert_eq!(item["effective_time"], "2026-11-23T22:06:01+08:00");
        assert_eq!(item["expire_time"], "2031-11-22T22:06:01+08:00");
        let e = &item["encrypt_certificate"];
        let resource = EncryptedResource::new(
            e["ciphertext"].as_str().unwrap(),
            e["nonce"].as_str().unwrap(),
            Some("certificate".to_owned()),
        );
        let pem = ApiV3Key::new(KEY).unwrap().decrypt_certificate(&resource).unwrap();
        assert_eq!(pem, crate::credentials::PLATFORM_CERT_PEM);
        assert_eq!(answer("", &keys, KEY).status, 200);
        assert_eq!(answer("algorithm_type=SM2", &keys, KEY).status, 400);
        let only = ResponseKeys::load(Some(SigningKeyChoice::PublicKey), true).unwrap();
        let reply = answer("", &only, KEY);
        let v: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!((reply.status, v["code"].as_str()), (404, Some("RESOURCE_NOT_EXISTS")));
    }
}
