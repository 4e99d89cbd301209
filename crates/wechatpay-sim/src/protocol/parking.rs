//! The parking flow's API routes (PROTOCOL.md §16): a plate's service (`find`), a car's
//! entrance and the deduction. Parameters are checked with the core's types; the world
//! (`world/parking.rs`) decides the rest.

use serde_json::{Map, Value};
use wechatpay_core::api::PlateNumber;
use wechatpay_core::model::Rfc3339;
use wechatpay_core::{AppId, InvalidInput, NotifyUrl, OpenId, OutParkingNo, OutTradeNo, ParkingId, SubMchId};

use super::reply::Reply;
use super::routes::{Call, Ctx, Query};
use crate::world::parking::{NewDeduction, NewEntrance, Refusal};

fn refused((status, code, message): Refusal) -> Reply {
    Reply::error(status, code, &message, None)
}

fn invalid(e: &InvalidInput, location: &str) -> Reply {
    Reply::param_error(e.field(), location, &format!("{}; rule: {}", e.problem(), e.rule()))
}

/// A sub-merchant, when given, must be bound to the caller (the service provider).
fn bound(ctx: &Ctx<'_>, sub: Option<&SubMchId>) -> Result<(), Reply> {
    if sub.is_some_and(|s| !ctx.world.is_bound(s.as_str())) {
        return Err(Reply::invalid_request("服务商和子商户没有绑定关系"));
    }
    Ok(())
}

/// The JSON object body of a `POST`, with `Content-Type: application/json`.
fn json_body(call: &Call<'_>) -> Result<Map<String, Value>, Reply> {
    if !call.content_type.is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("application/json")) {
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

/// Typed access to a body's fields, errors naming `prefix` + the field.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: &'static str,
}

impl Fields<'_> {
    fn name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    fn opt_str(&self, field: &str) -> Result<Option<&str>, Reply> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Reply::param_error(&self.name(field), "body", "must be a string")),
        }
    }

    fn str(&self, field: &str) -> Result<&str, Reply> {
        self.opt_str(field)?.ok_or_else(|| {
            Reply::param_error(
                &self.name(field),
                "body",
                &format!("缺少参数 {} (missing required field)", self.name(field)),
            )
        })
    }

    fn text(&self, field: &str, max: usize) -> Result<String, Reply> {
        let s = self.str(field)?;
        let n = s.chars().count();
        if n == 0 || n > max {
            return Err(Reply::param_error(&self.name(field), "body", &format!("1-{max} characters")));
        }
        Ok(s.to_owned())
    }

    fn opt_text(&self, field: &str, max: usize) -> Result<Option<String>, Reply> {
        if self.map.contains_key(field) { self.text(field, max).map(Some) } else { Ok(None) }
    }

    fn int(&self, field: &str) -> Result<i64, Reply> {
        let v = self.map.get(field).ok_or_else(|| {
            Reply::param_error(
                &self.name(field),
                "body",
                &format!("缺少参数 {} (missing required field)", self.name(field)),
            )
        })?;
        v.as_i64().ok_or_else(|| Reply::param_error(&self.name(field), "body", "must be an integer"))
    }

    fn time(&self, field: &str) -> Result<(String, i64), Reply> {
        let s = self.str(field)?;
        let t = Rfc3339::parse(s)
            .map_err(|p| Reply::param_error(&self.name(field), "body", &format!("{p}; rule: RFC 3339")))?;
        Ok((s.to_owned(), t.unix_timestamp()))
    }

    fn checked<T>(&self, field: &str, check: impl Fn(String) -> Result<T, InvalidInput>) -> Result<T, Reply> {
        let s = self.str(field)?;
        check(s.to_owned())
            .map_err(|e| Reply::param_error(&self.name(field), "body", &format!("{}; rule: {}", e.problem(), e.rule())))
    }

    fn plate_color(&self, field: &str) -> Result<String, Reply> {
        let s = self.str(field)?;
        const COLORS: [&str; 6] = ["BLUE", "GREEN", "YELLOW", "BLACK", "WHITE", "LIMEGREEN"];
        if !COLORS.contains(&s) {
            return Err(Reply::param_error(
                &self.name(field),
                "body",
                "one of BLUE, GREEN, YELLOW, BLACK, WHITE, LIMEGREEN",
            ));
        }
        Ok(s.to_owned())
    }
}

/// `GET /v3/vehicle/parking/services/find?appid&plate_number&plate_color&openid[&sub_mchid]`.
pub(crate) fn find_service(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let query = Query::parse(call.target.query)?;
    let required = |name: &str| {
        query
            .get(name)
            .ok_or_else(|| Reply::param_error(name, "query", &format!("缺少参数 {name} (missing required parameter)")))
    };
    AppId::new(required("appid")?).map_err(|e| invalid(&e, "query"))?;
    let plate = PlateNumber::new(required("plate_number")?).map_err(|e| invalid(&e, "query"))?;
    let color = required("plate_color")?;
    if !["BLUE", "GREEN", "YELLOW", "BLACK", "WHITE", "LIMEGREEN"].contains(&color) {
        return Err(Reply::param_error("plate_color", "query", "one of BLUE, GREEN, YELLOW, BLACK, WHITE, LIMEGREEN"));
    }
    let openid = OpenId::new(required("openid")?).map_err(|e| invalid(&e, "query"))?;
    let sub = query.get("sub_mchid").map(SubMchId::new).transpose().map_err(|e| invalid(&e, "query"))?;
    bound(ctx, sub.as_ref())?;
    let answer = ctx.world.find_plate(plate.as_str(), color, openid.as_str(), sub.as_ref().map(SubMchId::as_str));
    Ok(Reply::ok(serde_json::to_vec(&answer).unwrap_or_default().into()))
}

/// `POST /v3/vehicle/parking/parkings`: a car's entrance.
pub(crate) fn create_entrance(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let body = json_body(call)?;
    let f = Fields { map: &body, prefix: "" };
    let sub = f.opt_str("sub_mchid")?.map(SubMchId::new).transpose().map_err(|e| invalid(&e, "body"))?;
    bound(ctx, sub.as_ref())?;
    let out_parking_no = f.checked("out_parking_no", OutParkingNo::new)?;
    let plate = f.checked("plate_number", PlateNumber::new)?;
    let plate_color = f.plate_color("plate_color")?;
    let notify_url = f.checked("notify_url", NotifyUrl::new)?;
    let (start_time, _) = f.time("start_time")?;
    let parking_name = f.text("parking_name", 128)?;
    let free_duration = f.int("free_duration")?;
    if free_duration < 0 {
        return Err(Reply::param_error("free_duration", "body", "whole seconds, not negative"));
    }
    let new = NewEntrance {
        sub_mchid: sub.map(|s| s.as_str().to_owned()),
        out_parking_no: out_parking_no.as_str().to_owned(),
        plate_number: plate.as_str().to_owned(),
        plate_color,
        notify_url: notify_url.as_str().to_owned(),
        start_time,
        parking_name,
        free_duration,
    };
    let answer = ctx.world.create_entrance(call.caller, new, Value::Object(body.clone())).map_err(refused)?;
    Ok(Reply::ok(serde_json::to_vec(&answer).unwrap_or_default().into()))
}

/// `POST /v3/vehicle/transactions/parking`: the deduction.
pub(crate) fn deduct(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let body = json_body(call)?;
    let f = Fields { map: &body, prefix: "" };
    let sub = f.opt_str("sub_mchid")?.map(SubMchId::new).transpose().map_err(|e| invalid(&e, "body"))?;
    bound(ctx, sub.as_ref())?;
    let appid = f.checked("appid", AppId::new)?;
    let sub_appid =
        f.opt_str("sub_appid")?.map(|s| AppId::named("sub_appid", s)).transpose().map_err(|e| invalid(&e, "body"))?;
    if sub_appid.is_some() && sub.is_none() {
        return Err(Reply::param_error("sub_appid", "body", "sub_appid needs the sub_mchid it belongs to"));
    }
    let out_trade_no = f.checked("out_trade_no", OutTradeNo::new)?;
    if out_trade_no.as_str().contains('|') {
        return Err(Reply::param_error("out_trade_no", "body", "1-32 characters of [0-9A-Za-z_-*]"));
    }
    let description = f.text("description", 128)?;
    let attach = f.opt_text("attach", 128)?;
    let goods_tag = f.opt_text("goods_tag", 32)?;
    if f.str("trade_scene")? != "PARKING" {
        return Err(Reply::param_error("trade_scene", "body", "PARKING"));
    }
    let notify_url = f.checked("notify_url", NotifyUrl::new)?;
    if let Some(p) = f.opt_str("profit_sharing")? {
        if p != "Y" && p != "N" {
            return Err(Reply::param_error("profit_sharing", "body", "Y or N"));
        }
    }
    let Some(Value::Object(amount)) = body.get("amount") else {
        return Err(Reply::param_error("amount", "body", "缺少参数 amount (an object with total)"));
    };
    let a = Fields { map: amount, prefix: "amount." };
    let total = a.int("total")?;
    if total <= 0 {
        return Err(Reply::param_error("amount.total", "body", "an amount in fen greater than 0"));
    }
    if a.opt_str("currency")?.is_some_and(|c| c != "CNY") {
        return Err(Reply::param_error("amount.currency", "body", "CNY"));
    }
    let Some(Value::Object(info)) = body.get("parking_info") else {
        return Err(Reply::param_error("parking_info", "body", "缺少参数 parking_info (an object)"));
    };
    let p = Fields { map: info, prefix: "parking_info." };
    p.checked("parking_id", ParkingId::new)?;
    p.checked("plate_number", PlateNumber::new)?;
    p.plate_color("plate_color")?;
    let (_, start) = p.time("start_time")?;
    let (_, end) = p.time("end_time")?;
    p.text("parking_name", 128)?;
    if p.int("charging_duration")? < 0 {
        return Err(Reply::param_error("parking_info.charging_duration", "body", "whole seconds, not negative"));
    }
    p.text("device_id", 32)?;
    if start >= end {
        return Err(Reply::param_error(
            "parking_info.end_time",
            "body",
            "start_time 必须早于 end_time (start_time < end_time)",
        ));
    }
    if end > crate::clock::now() {
        return Err(Reply::param_error("parking_info.end_time", "body", "end_time 不能晚于当前时间 (end_time <= now)"));
    }
    let new = NewDeduction {
        sub_mchid: sub.map(|s| s.as_str().to_owned()),
        sub_appid: sub_appid.map(|s| s.as_str().to_owned()),
        appid: appid.as_str().to_owned(),
        out_trade_no: out_trade_no.as_str().to_owned(),
        description,
        attach,
        goods_tag,
        notify_url: notify_url.as_str().to_owned(),
        total,
        parking_info: info.clone(),
    };
    let answer = ctx.world.deduct(call.caller, new, Value::Object(body.clone())).map_err(refused)?;
    Ok(Reply::ok(serde_json::to_vec(&answer).unwrap_or_default().into()))
}
