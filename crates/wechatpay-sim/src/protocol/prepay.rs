//! The eight prepay endpoints (PROTOCOL.md §12): `POST /v3/pay/transactions/{jsapi,app,h5,
//! native}` and `POST /v3/pay/partner/transactions/{…}`. The body is checked with the core's
//! own validation (the request types of `wechatpay_core::api` and their setters), so the
//! simulator refuses exactly what the SDK would not send; each refusal is `400 PARAM_ERROR`
//! naming the field.

use serde_json::{Map, Value, json};
use wechatpay_core::api::{
    H5Info, H5Prepay, H5Type, LimitPay, Order, OrderDetail, OrderGoods, OrderSceneInfo, PartnerH5Prepay, PartnerIds,
    PartnerJsapiPrepay, PartnerOpenId, StoreInfo,
};
use wechatpay_core::model::Fen;
use wechatpay_core::{AppId, InvalidInput, MchId, OpenId, SubMchId};

use super::reply::Reply;
use super::routes::{Call, Ctx, Route};
use crate::world::OrderKind;
use crate::world::prepay::{NewPrepay, PrepayRefusal, Scene};

/// The scene and the kind of a prepay route.
fn scene_of(route: Route) -> Option<(Scene, OrderKind)> {
    Some(match route {
        Route::PrepayJsapi => (Scene::Jsapi, OrderKind::Direct),
        Route::PrepayApp => (Scene::App, OrderKind::Direct),
        Route::PrepayH5 => (Scene::H5, OrderKind::Direct),
        Route::PrepayNative => (Scene::Native, OrderKind::Direct),
        Route::PartnerPrepayJsapi => (Scene::Jsapi, OrderKind::Partner),
        Route::PartnerPrepayApp => (Scene::App, OrderKind::Partner),
        Route::PartnerPrepayH5 => (Scene::H5, OrderKind::Partner),
        Route::PartnerPrepayNative => (Scene::Native, OrderKind::Partner),
        _ => return None,
    })
}

fn invalid(e: &InvalidInput) -> Reply {
    Reply::param_error(e.field(), "body", &format!("{}; rule: {}", e.problem(), e.rule()))
}

fn missing(field: &str) -> Reply {
    Reply::param_error(field, "body", &format!("缺少参数 {field} (missing required field)"))
}

fn wrong_type(field: &str, what: &str) -> Reply {
    Reply::param_error(field, "body", &format!("{field} must be {what}"))
}

/// The JSON object at `field` of `map` (named `path` in errors), if present.
fn object<'a>(map: &'a Map<String, Value>, field: &str, path: &str) -> Result<Option<&'a Map<String, Value>>, Reply> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(wrong_type(path, "a JSON object")),
    }
}

/// The string at `field` of `map` (named `path` in errors), if present.
fn string(map: &Map<String, Value>, field: &str, path: &str) -> Result<Option<String>, Reply> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type(path, "a string")),
    }
}

fn required(map: &Map<String, Value>, field: &str, path: &str) -> Result<String, Reply> {
    string(map, field, path)?.ok_or_else(|| missing(path))
}

/// The integer at `field` of `map` (named `path` in errors), if present.
fn integer(map: &Map<String, Value>, field: &str, path: &str) -> Result<Option<i64>, Reply> {
    match map.get(field) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| wrong_type(path, "an integer")),
    }
}

fn boolean(map: &Map<String, Value>, field: &str, path: &str) -> Result<Option<bool>, Reply> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(path, "true or false")),
    }
}

fn detail(map: &Map<String, Value>) -> Result<OrderDetail, Reply> {
    let mut goods = Vec::new();
    match map.get("goods_detail") {
        None => {}
        Some(Value::Array(lines)) => {
            for line in lines {
                let Value::Object(g) = line else {
                    return Err(wrong_type("detail.goods_detail", "an array of JSON objects"));
                };
                let path = |f: &str| format!("detail.goods_detail.{f}");
                goods.push(OrderGoods {
                    merchant_goods_id: required(g, "merchant_goods_id", &path("merchant_goods_id"))?,
                    wechatpay_goods_id: string(g, "wechatpay_goods_id", &path("wechatpay_goods_id"))?,
                    goods_name: string(g, "goods_name", &path("goods_name"))?,
                    quantity: integer(g, "quantity", &path("quantity"))?.ok_or_else(|| missing(&path("quantity")))?,
                    unit_price: integer(g, "unit_price", &path("unit_price"))?
                        .ok_or_else(|| missing(&path("unit_price")))?,
                });
            }
        }
        Some(_) => return Err(wrong_type("detail.goods_detail", "an array")),
    }
    Ok(OrderDetail {
        cost_price: integer(map, "cost_price", "detail.cost_price")?,
        invoice_id: string(map, "invoice_id", "detail.invoice_id")?,
        goods_detail: goods,
    })
}

fn scene_info(map: &Map<String, Value>) -> Result<OrderSceneInfo, Reply> {
    let mut info = OrderSceneInfo::new(required(map, "payer_client_ip", "scene_info.payer_client_ip")?);
    info.device_id = string(map, "device_id", "scene_info.device_id")?;
    if let Some(s) = object(map, "store_info", "scene_info.store_info")? {
        info.store_info = Some(StoreInfo {
            id: string(s, "id", "scene_info.store_info.id")?,
            name: string(s, "name", "scene_info.store_info.name")?,
            area_code: string(s, "area_code", "scene_info.store_info.area_code")?,
            address: string(s, "address", "scene_info.store_info.address")?,
        });
    }
    if let Some(h) = object(map, "h5_info", "scene_info.h5_info")? {
        let kind: H5Type = required(h, "type", "scene_info.h5_info.type")?.parse().map_err(|e| invalid(&e))?;
        let mut h5 = H5Info::new(kind);
        h5.app_name = string(h, "app_name", "scene_info.h5_info.app_name")?;
        h5.app_url = string(h, "app_url", "scene_info.h5_info.app_url")?;
        h5.bundle_id = string(h, "bundle_id", "scene_info.h5_info.bundle_id")?;
        h5.package_name = string(h, "package_name", "scene_info.h5_info.package_name")?;
        info.h5_info = Some(h5);
    }
    Ok(info)
}

fn limit_pay(value: &Value) -> Result<Vec<LimitPay>, Reply> {
    let bad = || wrong_type("limit_pay", "an array of no_balance, no_credit, no_debit, balance_only");
    let Value::Array(items) = value else { return Err(bad()) };
    items
        .iter()
        .map(|v| match v.as_str() {
            Some("no_balance") => Ok(LimitPay::NoBalance),
            Some("no_credit") => Ok(LimitPay::NoCredit),
            Some("no_debit") => Ok(LimitPay::NoDebit),
            Some("balance_only") => Ok(LimitPay::BalanceOnly),
            _ => Err(bad()),
        })
        .collect()
}

/// The order fields of `body`, checked by the core's [`Order`] and its setters.
fn order(body: &Map<String, Value>) -> Result<(Order, i64), Reply> {
    let amount = object(body, "amount", "amount")?.ok_or_else(|| missing("amount"))?;
    let total = integer(amount, "total", "amount.total")?.ok_or_else(|| missing("amount.total"))?;
    let mut order = Order::new(
        &required(body, "out_trade_no", "out_trade_no")?,
        &required(body, "description", "description")?,
        Fen(total),
        &required(body, "notify_url", "notify_url")?,
    )
    .map_err(|e| invalid(&e))?;
    let set = |r: Result<Order, InvalidInput>| r.map_err(|e| invalid(&e));
    if let Some(currency) = string(amount, "currency", "amount.currency")? {
        order = set(order.currency(&currency))?;
    }
    if let Some(t) = string(body, "time_expire", "time_expire")? {
        order = set(order.time_expire(&t))?;
    }
    if let Some(attach) = string(body, "attach", "attach")? {
        order = set(order.attach(&attach))?;
    }
    if let Some(tag) = string(body, "goods_tag", "goods_tag")? {
        order = set(order.goods_tag(&tag))?;
    }
    if let Some(v) = body.get("limit_pay") {
        order = order.limit_pay(limit_pay(v)?);
    }
    if let Some(b) = boolean(body, "support_fapiao", "support_fapiao")? {
        order = order.support_fapiao(b);
    }
    if let Some(settle) = object(body, "settle_info", "settle_info")? {
        if let Some(b) = boolean(settle, "profit_sharing", "settle_info.profit_sharing")? {
            order = order.profit_sharing(b);
        }
    }
    if let Some(d) = object(body, "detail", "detail")? {
        order = set(order.detail(detail(d)?))?;
    }
    if let Some(s) = object(body, "scene_info", "scene_info")? {
        order = set(order.scene_info(scene_info(s)?))?;
    }
    Ok((order, total))
}

/// A prepay: the body checked, then the order created (or the repeat answered).
pub(crate) fn prepay(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let Some((scene, kind)) = scene_of(call.target.route) else {
        return Err(Reply::error(404, "NOT_FOUND", "请求的资源不存在 (no such API)", None));
    };
    if !call.content_type.is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("application/json")) {
        return Err(Reply::invalid_request("Content-Type 必须为 application/json (a JSON body is required)"));
    }
    if !call.target.query.is_empty() {
        return Err(Reply::param_error("query", "query", "prepay takes its parameters in the JSON body"));
    }
    let request: Value = serde_json::from_slice(call.body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| Reply::param_error("body", "body", "the body must be a JSON object"))?;
    let Value::Object(body) = &request else { return Err(Reply::param_error("body", "body", "not an object")) };
    let (order, total) = order(body)?;

    // Whose order, and who pays.
    let mut fields = Map::new();
    let payer = object(body, "payer", "payer")?;
    let payer_field = |name: &str, path: &'static str| -> Result<Option<OpenId>, Reply> {
        payer
            .map(|p| string(p, name, path))
            .transpose()
            .map(Option::flatten)?
            .map_or(Ok(None), |v| OpenId::named(path, v).map(Some).map_err(|e| invalid(&e)))
    };
    let owner = if kind == OrderKind::Direct {
        let appid = AppId::new(required(body, "appid", "appid")?).map_err(|e| invalid(&e))?;
        let mchid = MchId::new(required(body, "mchid", "mchid")?).map_err(|e| invalid(&e))?;
        if mchid.as_str() != call.caller {
            return Err(Reply::param_error("mchid", "body", "mchid与Authorization中的商户号不一致"));
        }
        fields.insert("appid".into(), json!(appid.as_str()));
        fields.insert("mchid".into(), json!(mchid.as_str()));
        if scene == Scene::Jsapi {
            let openid = payer_field("openid", "payer.openid")?.ok_or_else(|| missing("payer.openid"))?;
            fields.insert("payer".into(), json!({ "openid": openid.as_str() }));
        } else if scene == Scene::H5 {
            H5Prepay::new(appid, order.clone()).map_err(|e| invalid(&e))?;
        }
        mchid
    } else {
        let sp_appid = AppId::named("sp_appid", required(body, "sp_appid", "sp_appid")?).map_err(|e| invalid(&e))?;
        let sp_mchid = MchId::new(required(body, "sp_mchid", "sp_mchid")?)
            .map_err(|e| invalid(&InvalidInput::new("sp_mchid", e.problem(), e.rule())))?;
        let sub_mchid = SubMchId::new(required(body, "sub_mchid", "sub_mchid")?).map_err(|e| invalid(&e))?;
        let sub_appid = string(body, "sub_appid", "sub_appid")?
            .map(|v| AppId::named("sub_appid", v).map_err(|e| invalid(&e)))
            .transpose()?;
        if sp_mchid.as_str() != call.caller {
            return Err(Reply::param_error("sp_mchid", "body", "sp_mchid与Authorization中的商户号不一致"));
        }
        if sub_mchid.as_str() == sp_mchid.as_str() {
            return Err(Reply::param_error("sub_mchid", "body", "sub_mchid must differ from sp_mchid"));
        }
        if !ctx.world.is_bound(sub_mchid.as_str()) {
            return Err(Reply::invalid_request("服务商和子商户没有绑定关系"));
        }
        fields.insert("sp_appid".into(), json!(sp_appid.as_str()));
        fields.insert("sp_mchid".into(), json!(sp_mchid.as_str()));
        if let Some(sub_appid) = &sub_appid {
            fields.insert("sub_appid".into(), json!(sub_appid.as_str()));
        }
        fields.insert("sub_mchid".into(), json!(sub_mchid.as_str()));
        let partner = PartnerIds { sp_appid, sub_mchid, sub_appid };
        if scene == Scene::Jsapi {
            let sp = payer_field("sp_openid", "payer.sp_openid")?;
            let sub = payer_field("sub_openid", "payer.sub_openid")?;
            let mut payer = Map::new();
            if let Some(id) = &sp {
                payer.insert("sp_openid".into(), json!(id.as_str()));
            }
            if let Some(id) = &sub {
                payer.insert("sub_openid".into(), json!(id.as_str()));
            }
            let who = match (sp, sub) {
                (_, Some(sub)) => PartnerOpenId::Sub(sub),
                (Some(sp), None) => PartnerOpenId::Sp(sp),
                (None, None) => return Err(missing("payer.sp_openid")),
            };
            PartnerJsapiPrepay::new(partner, who, order.clone()).map_err(|e| invalid(&e))?;
            fields.insert("payer".into(), Value::Object(payer));
        } else if scene == Scene::H5 {
            PartnerH5Prepay::new(partner, order.clone()).map_err(|e| invalid(&e))?;
        }
        sp_mchid
    };
    fields.insert("out_trade_no".into(), json!(order.out_trade_no().as_str()));
    fields.insert("trade_type".into(), json!(scene.trade_type()));
    fields.insert("trade_state".into(), json!("NOTPAY"));
    fields.insert("trade_state_desc".into(), json!("订单未支付"));
    if let Some(attach) = body.get("attach") {
        fields.insert("attach".into(), attach.clone());
    }
    let currency = amount_currency(body);
    fields.insert("amount".into(), json!({ "total": total, "currency": currency }));

    let description = body.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
    let new = NewPrepay {
        kind,
        owner: owner.as_str().to_owned(),
        order: fields,
        scene,
        request: request.clone(),
        description,
        notify_url: order.notify_url().to_owned(),
    };
    match ctx.world.prepay(new, crate::clock::now()) {
        Ok(p) => Ok(ok_json(&match scene {
            Scene::Jsapi | Scene::App => json!({ "prepay_id": p.prepay_id }),
            Scene::Native => json!({ "code_url": p.code_url.unwrap_or_default() }),
            Scene::H5 => json!({ "h5_url": format!("{}/sim/cashier/{}", ctx.world.site().base_url, p.prepay_id) }),
        })),
        Err(PrepayRefusal::Used) => Err(Reply::error(
            403,
            "OUT_TRADE_NO_USED",
            "商户订单号重复 (out_trade_no used with other parameters)",
            None,
        )),
        Err(PrepayRefusal::Paid) => Err(Reply::error(400, "ORDER_PAID", "订单已支付", None)),
        Err(PrepayRefusal::Closed) => Err(Reply::error(400, "ORDER_CLOSED", "订单已关闭", None)),
        Err(PrepayRefusal::Internal(m)) => Err(Reply::error(500, "SYSTEM_ERROR", &m, None)),
    }
}

/// `200` with `value`.
fn ok_json(value: &Value) -> Reply {
    Reply { status: 200, body: serde_json::to_vec(value).unwrap_or_default().into() }
}

/// `amount.currency` as sent, else `CNY`.
fn amount_currency(body: &Map<String, Value>) -> String {
    body.get("amount").and_then(|a| a.get("currency")).and_then(Value::as_str).unwrap_or("CNY").to_owned()
}
