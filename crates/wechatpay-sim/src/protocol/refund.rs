//! The refund routes (spec §15): create, query and abnormal apply, with the request checks
//! WeChat Pay makes; the refunds themselves live in `world/refund.rs`.
//!
//! Abnormal apply decrypts `bank_account` and `real_name` (RSA-OAEP, SHA-1, MGF1-SHA-1,
//! Base64) with the simulated private key that `Wechatpay-Serial` names: the WeChat Pay
//! public key's (`PUB_KEY_ID_…`) or the built-in platform certificate's.

use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use base64::Engine as _;
use serde_json::Value;
use wechatpay_core::{InvalidInput, OutRefundNo, OutTradeNo, RefundId, SubMchId, TransactionId};

use super::reply::Reply;
use super::routes::{Call, Ctx, Query, percent_decode};
use crate::credentials::{PLATFORM_KEY_PEM, PLATFORM_SERIAL, PUBLIC_KEY_ID, WECHATPAY_KEY_PEM};
use crate::world::refund::{CreateRefund, RefundError};

fn refused(e: RefundError) -> Reply {
    Reply::error(e.status, e.code, &e.message, None)
}

fn param(field: &str, issue: &str) -> Reply {
    Reply::param_error(field, "body", issue)
}

fn invalid(e: &InvalidInput, location: &str) -> Reply {
    Reply::param_error(e.field(), location, &format!("{}; rule: {}", e.problem(), e.rule()))
}

/// The JSON object body of a `POST` (with `Content-Type: application/json`).
fn object(call: &Call<'_>) -> Result<serde_json::Map<String, Value>, Reply> {
    if !call.content_type.is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("application/json")) {
        return Err(Reply::invalid_request("Content-Type 必须为 application/json (a JSON body is required)"));
    }
    match serde_json::from_slice(call.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(param("body", "the body must be a JSON object")),
    }
}

/// An optional string field.
fn string(body: &serde_json::Map<String, Value>, name: &str) -> Result<Option<String>, Reply> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(param(name, "must be a string")),
    }
}

/// An optional `sub_mchid`, checked.
fn sub_mchid(body: &serde_json::Map<String, Value>) -> Result<Option<String>, Reply> {
    string(body, "sub_mchid")?
        .map(|s| SubMchId::new(s).map(|s| s.as_str().to_owned()).map_err(|e| invalid(&e, "body")))
        .transpose()
}

/// `POST /v3/refund/domestic/refunds`.
pub(crate) fn create(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let body = object(call)?;
    let sub_mchid = sub_mchid(&body)?;
    if let Some(sub) = &sub_mchid {
        if !ctx.world.is_bound(sub) {
            return Err(Reply::invalid_request("服务商和子商户没有绑定关系"));
        }
    }
    let out_trade_no = string(&body, "out_trade_no")?
        .map(|s| OutTradeNo::new(s).map(|s| s.as_str().to_owned()).map_err(|e| invalid(&e, "body")))
        .transpose()?;
    let transaction_id = string(&body, "transaction_id")?
        .map(|s| TransactionId::new(s).map(|s| s.as_str().to_owned()).map_err(|e| invalid(&e, "body")))
        .transpose()?;
    if out_trade_no.is_some() == transaction_id.is_some() {
        return Err(param("transaction_id", "transaction_id or out_trade_no: exactly one is required"));
    }
    let out_refund_no =
        string(&body, "out_refund_no")?.ok_or_else(|| param("out_refund_no", "缺少参数 out_refund_no"))?;
    let out_refund_no = OutRefundNo::new(out_refund_no).map_err(|e| invalid(&e, "body"))?.as_str().to_owned();
    if string(&body, "reason")?.is_some_and(|r| r.chars().count() > 80) {
        return Err(param("reason", "at most 80 characters"));
    }
    let funds_account = string(&body, "funds_account")?;
    if funds_account.as_deref().is_some_and(|f| !matches!(f, "AVAILABLE" | "UNSETTLED")) {
        return Err(param("funds_account", "AVAILABLE (or, for a partner, UNSETTLED)"));
    }
    let Some(Value::Object(amount)) = body.get("amount") else {
        return Err(param("amount", "缺少参数 amount (an object {refund, total, currency})"));
    };
    let fen = |name: &str| {
        amount
            .get(name)
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
            .ok_or_else(|| param(&format!("amount.{name}"), "a whole number of fen, more than 0"))
    };
    let (refund, total) = (fen("refund")?, fen("total")?);
    if amount.get("currency").and_then(Value::as_str) != Some("CNY") {
        return Err(param("amount.currency", "required: CNY"));
    }
    let from = amount.get("from").cloned();
    if let Some(from) = &from {
        let parts = from.as_array().ok_or_else(|| param("amount.from", "must be an array"))?;
        let mut sum = 0u64;
        for p in parts {
            let account = p.get("account").and_then(Value::as_str);
            if !matches!(account, Some("AVAILABLE" | "UNAVAILABLE")) {
                return Err(param("amount.from.account", "AVAILABLE or UNAVAILABLE"));
            }
            let part = p.get("amount").and_then(Value::as_u64).ok_or_else(|| param("amount.from.amount", "fen"))?;
            sum =
                sum.checked_add(part).ok_or_else(|| param("amount.from", "the parts must add up to amount.refund"))?;
        }
        if sum != refund {
            return Err(param("amount.from", "the parts must add up to amount.refund"));
        }
    }
    let req = CreateRefund {
        sub_mchid,
        by_out_trade_no: out_trade_no,
        by_transaction_id: transaction_id,
        out_refund_no,
        notify_url: string(&body, "notify_url")?,
        funds_account,
        refund,
        total,
        from,
        body: Value::Object(body),
    };
    ctx.world.create_refund(call.caller, req).map(json).map_err(refused)
}

fn json(v: Value) -> Reply {
    Reply::ok(serde_json::to_vec(&v).unwrap_or_default().into())
}

/// `GET /v3/refund/domestic/refunds/{out_refund_no}[?sub_mchid=]`.
pub(crate) fn query(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let query = Query::parse(call.target.query)?;
    let sub = query
        .get("sub_mchid")
        .map(|s| SubMchId::new(s).map(|s| s.as_str().to_owned()).map_err(|e| invalid(&e, "query")))
        .transpose()?;
    let no = percent_decode(call.target.id)
        .ok_or_else(|| Reply::param_error("out_refund_no", "path", "invalid percent-encoding or not UTF-8"))?;
    let no = OutRefundNo::new(no).map_err(|e| invalid(&e, "path"))?;
    ctx.world.query_refund(call.caller, no.as_str(), sub.as_deref()).map(json).map_err(refused)
}

/// `POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund`.
pub(crate) fn apply_abnormal(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let refund_id = percent_decode(call.target.id)
        .ok_or_else(|| Reply::param_error("refund_id", "path", "invalid percent-encoding or not UTF-8"))?;
    let refund_id = RefundId::new(refund_id).map_err(|e| invalid(&e, "path"))?;
    let body = object(call)?;
    let sub = sub_mchid(&body)?;
    let out_refund_no =
        string(&body, "out_refund_no")?.ok_or_else(|| param("out_refund_no", "缺少参数 out_refund_no"))?;
    let out_refund_no = OutRefundNo::new(out_refund_no).map_err(|e| invalid(&e, "body"))?;
    let account = match string(&body, "type")?.as_deref() {
        Some("USER_BANK_CARD") => {
            let bank_type =
                string(&body, "bank_type")?.ok_or_else(|| param("bank_type", "required for USER_BANK_CARD"))?;
            if bank_type.is_empty() || bank_type.len() > 16 {
                return Err(param("bank_type", "1 to 16 characters (CMB_DEBIT, ICBC_DEBIT, ...)"));
            }
            let serial = call.serial.ok_or_else(|| {
                Reply::param_error(
                    "Wechatpay-Serial",
                    "header",
                    "required: the serial of the key the fields are encrypted with",
                )
            })?;
            let key = decrypting_key(serial).ok_or_else(|| {
                Reply::param_error("Wechatpay-Serial", "header", "names no key of this (simulated) WeChat Pay")
            })?;
            let account = decrypt(&key, &body, "bank_account")?;
            decrypt(&key, &body, "real_name")?;
            if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(param("bank_account", "the decrypted account number must be digits"));
            }
            // Only the last four digits, as WeChat Pay shows it (`招商银行信用卡0403`).
            format!("{bank_type}{}", &account[account.len().saturating_sub(4)..])
        }
        Some("MERCHANT_BANK_CARD") => "商户基本账户".to_owned(),
        _ => return Err(param("type", "USER_BANK_CARD or MERCHANT_BANK_CARD")),
    };
    ctx.world
        .apply_abnormal_refund(call.caller, refund_id.as_str(), out_refund_no.as_str(), sub.as_deref(), account)
        .map(json)
        .map_err(refused)
}

/// The private key of the simulated WeChat Pay key named `serial`.
fn decrypting_key(serial: &str) -> Option<OaepPrivateDecryptingKey> {
    let pem = if serial == PUBLIC_KEY_ID {
        WECHATPAY_KEY_PEM
    } else if serial.eq_ignore_ascii_case(PLATFORM_SERIAL) {
        PLATFORM_KEY_PEM
    } else {
        return None;
    };
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    OaepPrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(&der).ok()?).ok()
}

/// The field `name`, Base64 of an RSA-OAEP ciphertext under `key`, decrypted (UTF-8).
/// Errors name the field, never its content.
fn decrypt(key: &OaepPrivateDecryptingKey, body: &serde_json::Map<String, Value>, name: &str) -> Result<String, Reply> {
    let b64 =
        string(body, name)?.ok_or_else(|| param(name, "required for USER_BANK_CARD (RSA-OAEP encrypted, Base64)"))?;
    if b64.len() > 1024 {
        return Err(param(name, "at most 1024 characters"));
    }
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| param(name, "not Base64 of an RSA-OAEP ciphertext"))?;
    let mut out = vec![0u8; key.min_output_size()];
    let plain = key
        .decrypt(&OAEP_SHA1_MGF1SHA1, &ciphertext, &mut out, None)
        .map_err(|_| param(name, "does not decrypt (RSA-OAEP SHA-1) with the key Wechatpay-Serial names"))?;
    String::from_utf8(plain.to_vec()).map_err(|_| param(name, "the decrypted text is not UTF-8"))
}
