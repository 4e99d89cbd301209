//! The payment-code routes (PROTOCOL.md §14): `POST …/codepay` (direct and partner) and
//! `POST …/out-trade-no/{out_trade_no}/reverse`. The payer is scripted by the auth code's
//! last digit ([`crate::world::codepay`]; the table is in the simulator's README).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use wechatpay_core::{AppId, InvalidInput, MchId, OutTradeNo, SubMchId};

use super::reply::Reply;
use super::routes::{Call, Ctx, Route, percent_decode};
use crate::world::OrderKind;
use crate::world::codepay::{CodepayAnswer, CodepayRequest, HOLD, ReverseResult};

/// How long the answer to this request is held before it is sent: a codepay whose auth
/// code ends in `6` (its order is paid at once, its answer comes late).
pub(crate) fn hold(route: Route, body: &[u8]) -> Option<Duration> {
    if !matches!(route, Route::CodepayDirect | Route::CodepayPartner) {
        return None;
    }
    let body: Value = serde_json::from_slice(body).ok()?;
    let code = body.get("payer")?.get("auth_code")?.as_str()?;
    (is_auth_code(code) && code.ends_with('6')).then_some(HOLD)
}

fn is_auth_code(code: &str) -> bool {
    code.len() == 18 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The JSON object body of a `POST`, after its `Content-Type`.
fn object_body(call: &Call<'_>) -> Result<Map<String, Value>, Reply> {
    let json = call.content_type.is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Err(Reply::invalid_request("Content-Type 必须为 application/json (a JSON body is required)"));
    }
    if !call.target.query.is_empty() {
        return Err(Reply::param_error("query", "query", "this call takes its parameters in the JSON body"));
    }
    match serde_json::from_slice(call.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Reply::param_error("body", "body", "the body must be a JSON object")),
    }
}

fn missing(name: &str) -> Reply {
    Reply::param_error(name, "body", &format!("缺少参数 {name} (missing required field)"))
}

fn invalid(e: &InvalidInput, field: &str) -> Reply {
    Reply::param_error(field, "body", &format!("{}; rule: {}", e.problem(), e.rule()))
}

fn string<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, Reply> {
    body.get(name).and_then(Value::as_str).ok_or_else(|| missing(name))
}

fn opt_string<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, Reply> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Reply::param_error(name, "body", "must be a string")),
    }
}

/// Whose call it is: `(appid-ish fields for the stored order, sub_mchid)`, checked against
/// the caller.
fn merchant(
    call: &Call<'_>,
    ctx: &Ctx<'_>,
    body: &Map<String, Value>,
    partner: bool,
) -> Result<(Map<String, Value>, Option<String>), Reply> {
    let mut ids = Map::new();
    if partner {
        let sp_appid = string(body, "sp_appid")?;
        AppId::new(sp_appid).map_err(|e| invalid(&e, "sp_appid"))?;
        let sp_mchid = string(body, "sp_mchid")?;
        MchId::new(sp_mchid).map_err(|e| invalid(&e, "sp_mchid"))?;
        if sp_mchid != call.caller {
            return Err(Reply::param_error("sp_mchid", "body", "sp_mchid与Authorization中的商户号不一致"));
        }
        let sub_mchid = string(body, "sub_mchid")?;
        SubMchId::new(sub_mchid).map_err(|e| invalid(&e, "sub_mchid"))?;
        if !ctx.world.is_bound(sub_mchid) {
            return Err(Reply::invalid_request("服务商和子商户没有绑定关系"));
        }
        ids.insert("sp_appid".into(), json!(sp_appid));
        ids.insert("sp_mchid".into(), json!(sp_mchid));
        if let Some(sub_appid) = opt_string(body, "sub_appid")? {
            AppId::new(sub_appid).map_err(|e| invalid(&e, "sub_appid"))?;
            ids.insert("sub_appid".into(), json!(sub_appid));
        }
        ids.insert("sub_mchid".into(), json!(sub_mchid));
        Ok((ids, Some(sub_mchid.to_owned())))
    } else {
        let appid = string(body, "appid")?;
        AppId::new(appid).map_err(|e| invalid(&e, "appid"))?;
        let mchid = string(body, "mchid")?;
        MchId::new(mchid).map_err(|e| invalid(&e, "mchid"))?;
        if mchid != call.caller {
            return Err(Reply::param_error("mchid", "body", "mchid与Authorization中的商户号不一致"));
        }
        ids.insert("appid".into(), json!(appid));
        ids.insert("mchid".into(), json!(mchid));
        Ok((ids, None))
    }
}

/// `POST /v3/pay/transactions/codepay` and `/v3/pay/partner/transactions/codepay`.
pub(crate) fn codepay(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let partner = call.target.route == Route::CodepayPartner;
    let kind = if partner { OrderKind::Partner } else { OrderKind::Direct };
    let body = object_body(call)?;
    let (mut order, sub_mchid) = merchant(call, ctx, &body, partner)?;
    let description = string(&body, "description")?;
    if description.is_empty() || description.chars().count() > 127 {
        return Err(Reply::param_error("description", "body", "1-127 characters"));
    }
    let out_trade_no = string(&body, "out_trade_no")?;
    let valid_no = OutTradeNo::new(out_trade_no).map_err(|e| invalid(&e, "out_trade_no"))?;
    if valid_no.as_str().len() < 6 {
        return Err(Reply::param_error("out_trade_no", "body", "6-32 characters for a new order"));
    }
    let total = body.get("amount").and_then(|a| a.get("total")).and_then(Value::as_i64).filter(|t| *t > 0);
    let total = total.ok_or_else(|| Reply::param_error("amount.total", "body", "an amount in fen greater than 0"))?;
    let auth_code = body.get("payer").and_then(|p| p.get("auth_code")).and_then(Value::as_str).unwrap_or_default();
    if !is_auth_code(auth_code) {
        return Err(Reply::param_error("auth_code", "body", "付款码无效: 18 位数字 (18 ASCII digits)"));
    }
    let store = body.get("scene_info").and_then(|s| s.get("store_info"));
    let has_store = ["id", "out_id"].iter().any(|k| store.and_then(|s| s.get(*k)).and_then(Value::as_str).is_some());
    if !has_store {
        return Err(Reply::param_error("scene_info.store_info", "body", "store_info needs id or out_id"));
    }
    order.insert("out_trade_no".into(), json!(out_trade_no));
    if let Some(attach) = opt_string(&body, "attach")? {
        order.insert("attach".into(), json!(attach));
    }
    let currency = body.get("amount").and_then(|a| a.get("currency")).and_then(Value::as_str).unwrap_or("CNY");
    order.insert("amount".into(), json!({"total": total, "currency": currency}));
    if let Some(device_id) = body.get("scene_info").and_then(|s| s.get("device_id")).and_then(Value::as_str) {
        order.insert("scene_info".into(), json!({"device_id": device_id}));
    }
    let request = CodepayRequest {
        kind,
        caller: call.caller.to_owned(),
        sub_mchid,
        out_trade_no: out_trade_no.to_owned(),
        auth_code: auth_code.to_owned(),
        order: Value::Object(order),
        body: Value::Object(body),
    };
    match ctx.world.codepay(request) {
        CodepayAnswer::Paid(bytes) => Ok(Reply::ok(bytes)),
        CodepayAnswer::UserPaying => {
            Ok(Reply { status: 202, body: Arc::from(&br#"{"trade_state":"USERPAYING"}"#[..]) })
        }
        CodepayAnswer::NotEnough => Err(Reply::error(403, "NOT_ENOUGH", "用户账户余额不足", None)),
        CodepayAnswer::SystemError => Err(Reply::error(500, "SYSTEM_ERROR", "系统异常，请稍后重试", None)),
        CodepayAnswer::NumberUsed => Err(Reply::error(
            403,
            "OUT_TRADE_NO_USED",
            "商户订单号重复 (the number was used with another request)",
            None,
        )),
        CodepayAnswer::Finished(state) => {
            Err(Reply::error(403, "TRADE_ERROR", &format!("订单已结束 (the order is {})", state.as_str()), None))
        }
    }
}

/// `POST …/out-trade-no/{out_trade_no}/reverse`, direct and partner.
pub(crate) fn reverse(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let partner = call.target.route == Route::ReversePartner;
    let kind = if partner { OrderKind::Partner } else { OrderKind::Direct };
    let body = object_body(call)?;
    let (mut ids, sub_mchid) = merchant(call, ctx, &body, partner)?;
    let decoded = percent_decode(call.target.id)
        .ok_or_else(|| Reply::param_error("out_trade_no", "path", "invalid percent-encoding or not UTF-8"))?;
    let out_trade_no = OutTradeNo::new(decoded)
        .map_err(|e| Reply::param_error("out_trade_no", "path", &format!("{}; rule: {}", e.problem(), e.rule())))?;
    match ctx.world.reverse(kind, call.caller, sub_mchid.as_deref(), out_trade_no.as_str()) {
        ReverseResult::Revoked => {
            ids.insert("out_trade_no".into(), json!(out_trade_no.as_str()));
            Ok(Reply { status: 200, body: serde_json::to_vec(&Value::Object(ids)).unwrap_or_default().into() })
        }
        ReverseResult::Missing => Err(Reply::error(404, "ORDER_NOT_EXIST", "订单不存在", None)),
        ReverseResult::Refused(message) => Err(Reply::invalid_request(&message)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::routes::match_target;
    use super::super::signing::ResponseKeys;
    use super::*;
    use crate::credentials::{MCHID, SUB_MCHID};
    use crate::world::World;

    /// The answer of the route table to a verified call by the seed merchant.
    fn serve(target: &str, body: &Value, world: &mut World) -> (u16, Value) {
        let keys = ResponseKeys::load(None, false).unwrap();
        let t = match_target(target).unwrap();
        let body = serde_json::to_vec(body).unwrap();
        let call = Call { target: t, caller: MCHID, content_type: Some("application/json"), body: &body, serial: None };
        let mut ctx = Ctx { world, keys: &keys, apiv3_key: "0123456789abcdefghijABCDEFGHIJ+/" };
        let reply = (t.route.spec().handler)(&call, &mut ctx).unwrap_or_else(|r| r);
        (reply.status, serde_json::from_slice(&reply.body).unwrap_or(Value::Null))
    }

    fn direct(no: &str, code: &str) -> Value {
        json!({"appid": "wxd678efh567hg6787", "mchid": MCHID, "description": "Coffee", "out_trade_no": no,
            "amount": {"total": 1200}, "payer": {"auth_code": code},
            "scene_info": {"device_ip": "10.0.0.7", "store_info": {"out_id": "SZ-001"}}})
    }

    const CODEPAY: &str = "/v3/pay/transactions/codepay";

    #[test]
    fn codepay_routes_check_their_body_and_answer_by_script() {
        let mut w = World::seeded().unwrap();
        assert_eq!(match_target(CODEPAY).unwrap().route, Route::CodepayDirect);
        assert_eq!(
            match_target("/v3/pay/partner/transactions/out-trade-no/A/reverse").unwrap().route,
            Route::ReversePartner
        );
        let (status, v) = serve(CODEPAY, &direct("CPR0001", "134567890123456780"), &mut w);
        assert_eq!(
            (status, v["trade_state"].as_str(), v["trade_type"].as_str()),
            (200, Some("SUCCESS"), Some("MICROPAY"))
        );
        assert_eq!(v["amount"]["total"], 1200);
        let (status, v) = serve(CODEPAY, &direct("CPR0003", "134567890123456783"), &mut w);
        assert_eq!((status, v), (202, json!({"trade_state": "USERPAYING"})));
        assert_eq!(serve(CODEPAY, &direct("CPR0004", "134567890123456784"), &mut w).1["code"], "NOT_ENOUGH");
        assert_eq!(serve(CODEPAY, &direct("CPR0005", "134567890123456785"), &mut w).0, 500);
        let (status, v) = serve(CODEPAY, &direct("CPR0009", "13456789012345678"), &mut w);
        assert_eq!(
            (status, v["code"].as_str(), v["detail"]["field"].as_str()),
            (400, Some("PARAM_ERROR"), Some("auth_code"))
        );
        let mut other = direct("CPR0003", "134567890123456783");
        other["amount"]["total"] = json!(1);
        assert_eq!(
            serve(CODEPAY, &other, &mut w),
            (
                403,
                json!({"code": "OUT_TRADE_NO_USED", "message": "商户订单号重复 (the number was used with another request)"})
            )
        );
        let mut no_store = direct("CPR0010", "134567890123456780");
        no_store["scene_info"] = json!({"device_ip": "10.0.0.7"});
        assert_eq!(serve(CODEPAY, &no_store, &mut w).1["detail"]["field"], "scene_info.store_info");
        let mut wrong = direct("CPR0011", "134567890123456780");
        wrong["mchid"] = json!("1230000110");
        assert_eq!(serve(CODEPAY, &wrong, &mut w).1["code"], "PARAM_ERROR");

        // Close is refused for payment-code orders: only reversible.
        let close = |no: &str| format!("/v3/pay/transactions/out-trade-no/{no}/close");
        assert_eq!(serve(&close("CPR0001"), &json!({"mchid": MCHID}), &mut w).1["code"], "INVALID_REQUEST");
        assert_eq!(serve(&close("CPR0003"), &json!({"mchid": MCHID}), &mut w).1["code"], "INVALID_REQUEST");

        let reverse = |no: &str| format!("/v3/pay/transactions/out-trade-no/{no}/reverse");
        let ids = json!({"appid": "wxd678efh567hg6787", "mchid": MCHID});
        let answer = json!({"appid": "wxd678efh567hg6787", "mchid": MCHID, "out_trade_no": "CPR0003"});
        assert_eq!(serve(&reverse("CPR0003"), &ids, &mut w), (200, answer.clone()));
        assert_eq!(serve(&reverse("CPR0003"), &ids, &mut w), (200, answer), "reentrant");
        assert_eq!(serve(&reverse("NOPE01"), &ids, &mut w).0, 404);
        assert_eq!(serve(&reverse("CPR0003"), &json!({"mchid": MCHID}), &mut w).1["detail"]["field"], "appid");
    }

    #[test]
    fn partner_codepay_needs_sp_appid_and_a_bound_sub_merchant() {
        let mut w = World::seeded().unwrap();
        let target = "/v3/pay/partner/transactions/codepay";
        let mut body = json!({"sp_appid": "wx8888888888888888", "sp_mchid": MCHID, "sub_mchid": SUB_MCHID,
            "description": "Tea", "out_trade_no": "PCP0001", "amount": {"total": 300},
            "payer": {"auth_code": "134567890123456781"}, "scene_info": {"store_info": {"id": "0001"}}});
        let (status, _) = serve(target, &body, &mut w);
        assert_eq!(status, 202);
        let reverse = "/v3/pay/partner/transactions/out-trade-no/PCP0001/reverse";
        let ids = json!({"sp_appid": "wx8888888888888888", "sp_mchid": MCHID, "sub_mchid": SUB_MCHID});
        let (status, v) = serve(reverse, &ids, &mut w);
        assert_eq!(
            (status, v["sub_mchid"].as_str(), v["out_trade_no"].as_str()),
            (200, Some(SUB_MCHID), Some("PCP0001"))
        );
        body.as_object_mut().unwrap().remove("sp_appid");
        body["out_trade_no"] = json!("PCP0002");
        assert_eq!(serve(target, &body, &mut w).1["detail"]["field"], "sp_appid");
        assert_eq!(hold(Route::CodepayPartner, br#"{"payer":{"auth_code":"134567890123456786"}}"#), Some(HOLD));
        assert_eq!(hold(Route::CodepayPartner, br#"{"payer":{"auth_code":"134567890123456780"}}"#), None);
        assert_eq!(hold(Route::ReverseDirect, br#"{"payer":{"auth_code":"134567890123456786"}}"#), None);
    }
}
