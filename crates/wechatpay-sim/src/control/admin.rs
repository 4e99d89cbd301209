//! The admin API under `/sim/`: steering a running simulator over HTTP from any language.
//! Requests carry `Authorization: Bearer <token>` (random per start); they are not signed,
//! not counted as API requests and not subject to faults. JSON in, JSON out; errors are
//! `{"code","message"}`.
//!
//! This is a thin translation: every operation is a call of the control API
//! ([`crate::control::Control`]), which the Rust handle calls too.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::control::prepay::PaymentError;
use crate::control::{Control, ControlError};
use crate::net::http::Request;
use crate::protocol::faults::{Fault, Times};
use crate::protocol::reply::Reply;
use crate::protocol::routes::{Route, percent_decode};
use crate::world::{After, OrderKind};

/// The admin API: its token and the control API it translates to.
#[derive(Debug)]
pub(crate) struct Admin {
    /// The bearer token.
    pub token: String,
}

/// Whether `target` is an admin path.
pub(crate) fn is_admin(target: &str) -> bool {
    target.starts_with("/sim/") || target == "/sim"
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::error(status, code, message, None)
}

fn param(message: &str) -> Reply {
    error(400, "PARAM_ERROR", message)
}

fn reply(status: u16, body: &impl Serialize) -> Reply {
    Reply { status, body: serde_json::to_vec(body).unwrap_or_default().into() }
}

/// The HTTP answer to a refused control operation.
fn refused(e: &ControlError) -> Reply {
    match e {
        ControlError::Invalid(m) => param(m),
        ControlError::NotFound(m) => error(404, "ORDER_NOT_EXIST", m),
        ControlError::PublicKeyOnly(m) => error(409, "PUBLIC_KEY_ONLY", m),
        ControlError::Internal(m) => error(500, "SYSTEM_ERROR", m),
    }
}

/// `status` with the result, or the answer to the refusal.
fn answer<T: Serialize>(status: u16, result: Result<T, ControlError>) -> Reply {
    match result {
        Ok(body) => reply(status, &body),
        Err(e) => refused(&e),
    }
}

/// Whether `header` is `Bearer <token>`, compared in constant time.
fn authorized(token: &str, header: Option<&str>) -> bool {
    let Some(header) = header else { return false };
    let Some((scheme, given)) = header.trim().split_once(' ') else { return false };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Admin {
    /// Answers an admin request.
    pub(crate) fn handle(&self, control: &Control, req: &Request) -> Reply {
        if !authorized(&self.token, req.header("authorization")) {
            let message = "missing or wrong admin token: send Authorization: Bearer <token> (STATE_DIR/admin_token, WECHATPAY_SIM_ADMIN_TOKEN)";
            return error(401, "UNAUTHORIZED", message);
        }
        let path = req.target.split_once('?').map_or(req.target.as_str(), |(p, _)| p);
        let parts: Vec<&str> = path.trim_start_matches("/sim").trim_start_matches('/').split('/').collect();
        let result = match (req.method.as_str(), parts.as_slice()) {
            ("POST", ["orders"]) => create_order(control, &req.body),
            ("GET", ["orders", kind, no]) => {
                order_path(kind, no).map(|(kind, no)| answer(200, control.order(kind, &no)))
            }
            ("POST", ["orders", kind, no, "state"]) => set_state(control, kind, no, &req.body),
            ("POST", ["orders", kind, no, "schedule"]) => schedule(control, kind, no, &req.body),
            ("POST", ["faults"]) => inject(control, &req.body),
            ("DELETE", ["faults"]) => {
                control.clear_faults();
                Ok(reply(200, &json!({"cleared": true})))
            }
            ("GET", ["notifications"]) => Ok(reply(200, &control.notifications())),
            ("POST", ["certificates", "rotate"]) => Ok(answer(200, control.rotate_certificate())),
            ("GET", ["requests"]) => Ok(reply(200, &control.requests())),
            ("POST", ["request-payment"]) => Ok(request_payment(control, &req.body)),
            ("GET", ["refunds", no]) => Ok(refund_answer(control.refund(&decoded(no)))),
            ("POST", ["refunds", no, "state"]) => set_refund_status(control, no, &req.body),
            (_, ["refunds", _] | ["refunds", _, "state"]) => {
                Err(error(405, "METHOD_NOT_ALLOWED", "method not allowed on this admin path"))
            }
            ("POST", ["parking", "plates"]) => body_object(&req.body).map(|b| answer(200, control.set_plate(&b))),
            ("GET", ["parking", "entrances", id]) => Ok(answer(200, control.entrance(id))),
            ("POST", ["parking", "entrances", id, "state"]) => {
                body_object(&req.body).map(|b| answer(200, control.set_entrance_state(id, &b)))
            }
            ("POST", ["bills", "synthetic"]) => synthetic_bill(control, &req.body),
            (
                _,
                ["orders" | "faults" | "notifications" | "requests"] | ["orders", _, _] | ["orders", _, _, "state"],
            )
            | (_, ["certificates", "rotate"]) => {
                Err(error(405, "METHOD_NOT_ALLOWED", "method not allowed on this admin path"))
            }
            _ => Err(error(404, "NOT_FOUND", "no such admin path")),
        };
        result.unwrap_or_else(|reply| reply)
    }
}

/// A path segment, percent-decoded when it decodes.
fn decoded(segment: &str) -> String {
    percent_decode(segment).unwrap_or_else(|| segment.to_owned())
}

/// A refund, or `404 RESOURCE_NOT_EXISTS`.
fn refund_answer(result: Result<Value, ControlError>) -> Reply {
    match result {
        Err(ControlError::NotFound(m)) => error(404, "RESOURCE_NOT_EXISTS", &m),
        other => answer(200, other),
    }
}

/// `POST /sim/refunds/{out_refund_no}/state` `{"status", "create_time"?, "success_time"?}`
/// (the times, RFC 3339, back-date the refund for a past day's bill).
fn set_refund_status(control: &Control, no: &str, body: &[u8]) -> Result<Reply, Reply> {
    let fields = body_object(body)?;
    let Some(Value::String(status)) = fields.get("status") else {
        return Err(param("status: required: SUCCESS, ABNORMAL, CLOSED or PROCESSING"));
    };
    let mut times = [None, None];
    for (slot, field) in times.iter_mut().zip(["create_time", "success_time"]) {
        match fields.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if wechatpay_core::model::Rfc3339::parse(t).is_ok() => *slot = Some(t.as_str()),
            Some(v) => return Err(param(&format!("{field}: RFC 3339 (2024-05-01T10:00:00+08:00), got {v}"))),
        }
    }
    let no = decoded(no);
    let answer = control.set_refund_status(&no, status);
    if answer.is_err() || times.iter().all(Option::is_none) {
        return Ok(refund_answer(answer));
    }
    Ok(refund_answer(control.set_refund_times(&no, times[0], times[1])))
}

/// `POST /sim/bills/synthetic` `{"bill_date","rows":N,"bill_type"?}`.
fn synthetic_bill(control: &Control, body: &[u8]) -> Result<Reply, Reply> {
    let body = body_object(body)?;
    let bill_date =
        body.get("bill_date").and_then(Value::as_str).ok_or_else(|| param("bill_date: required, yyyy-MM-dd"))?;
    let rows =
        body.get("rows").and_then(Value::as_u64).ok_or_else(|| param("rows: required, a non-negative integer"))?;
    let bill_type = match body.get("bill_type") {
        None | Some(Value::Null) => "ALL",
        Some(Value::String(t)) => t.as_str(),
        Some(_) => return Err(param("bill_type: ALL, SUCCESS or REFUND")),
    };
    Ok(answer(200, control.synthetic_bill(bill_date, rows, bill_type)))
}

/// The kind and the decoded `out_trade_no` of an order's admin path.
fn order_path(kind: &str, no: &str) -> Result<(OrderKind, String), Reply> {
    let no = percent_decode(no).unwrap_or_else(|| no.to_owned());
    let kind = OrderKind::from_name(kind).ok_or_else(|| error(404, "NOT_FOUND", "kind: direct, partner or parking"))?;
    Ok((kind, no))
}

fn body_object(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(error(400, "INVALID_REQUEST", "the body must be a JSON object")),
        Err(e) => Err(error(400, "INVALID_REQUEST", &format!("the body is not JSON: {e}"))),
    }
}

/// `POST /sim/orders` `{"kind", "order", "notify_url"?}`.
fn create_order(control: &Control, body: &[u8]) -> Result<Reply, Reply> {
    let mut request = body_object(body)?;
    let kind_name = request.get("kind").and_then(Value::as_str).unwrap_or_default();
    let kind =
        OrderKind::from_name(kind_name).ok_or_else(|| param("kind: must be \"direct\", \"partner\" or \"parking\""))?;
    let Some(Value::Object(mut order)) = request.remove("order") else {
        return Err(param("order: must be a JSON object with the order's API fields"));
    };
    // `"allow_unknown": true` beside the order counts as inside it.
    if let Some(allow) = request.remove("allow_unknown") {
        order.insert("allow_unknown".to_owned(), allow);
    }
    let url = match request.get("notify_url") {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) => Some(url.as_str()),
        Some(_) => return Err(param("notify_url: must be a string")),
    };
    Ok(answer(201, control.create_order(kind, order, url)))
}

/// `POST /sim/orders/{kind}/{out_trade_no}/state` `{"trade_state", ...fields}`.
fn set_state(control: &Control, kind: &str, no: &str, body: &[u8]) -> Result<Reply, Reply> {
    let (kind, no) = order_path(kind, no)?;
    let mut fields = body_object(body)?;
    let state = match fields.remove("trade_state") {
        Some(Value::String(s)) if !s.is_empty() => s,
        None if kind == OrderKind::Parking && fields.contains_key("user_repaid") => {
            return Ok(answer(200, control.parking_repaid(&no, fields)));
        }
        _ => return Err(param("trade_state: required, a non-empty string")),
    };
    if kind == OrderKind::Parking && state == "SUCCESS" && control.is_repayment(&no, &fields) {
        return Ok(answer(200, control.parking_repaid(&no, fields)));
    }
    Ok(answer(200, control.set_state(kind, &no, &state, fields)))
}

/// `POST /sim/orders/{kind}/{out_trade_no}/schedule` `{"trade_state", "after_queries" |
/// "after_ms", "allow_unknown"?}`.
fn schedule(control: &Control, kind: &str, no: &str, body: &[u8]) -> Result<Reply, Reply> {
    let (kind, no) = order_path(kind, no)?;
    let fields = body_object(body)?;
    let Some(Value::String(state)) = fields.get("trade_state") else {
        return Err(param("trade_state: required, a non-empty string"));
    };
    let after = match (fields.get("after_queries"), fields.get("after_ms")) {
        (Some(n), None) => After::Queries(
            n.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| param("after_queries: a whole number of queries, 0 or more"))?,
        ),
        (None, Some(ms)) => After::Delay(Duration::from_millis(
            ms.as_u64().ok_or_else(|| param("after_ms: a whole number of milliseconds, 0 or more"))?,
        )),
        _ => return Err(param("after_queries or after_ms: exactly one is required")),
    };
    let allow = match fields.get("allow_unknown") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return Err(param("allow_unknown: must be true or false")),
    };
    let result = control.schedule(kind, &no, state, after, allow);
    Ok(answer(200, result.map(|()| json!({"scheduled": true, "trade_state": state}))))
}

/// `POST /sim/request-payment` with the JSAPI or APP invoke object and `"result"?`.
fn request_payment(control: &Control, body: &[u8]) -> Reply {
    match control.request_payment(body) {
        Ok(answer) => reply(200, &answer),
        Err(PaymentError::Sign) => error(400, "SIGN_ERROR", "支付验证签名失败"),
        Err(PaymentError::Invalid(m)) => error(400, "INVALID_REQUEST", &m),
    }
}

fn number(request: &Map<String, Value>, field: &str, fault: &str) -> Result<u64, Reply> {
    request
        .get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| param(&format!("{field}: the fault {fault} needs a non-negative integer {field:?}")))
}

/// `POST /sim/faults` `{"fault", "times"?, "route"?, "ms"?, "bytes"?}`.
fn inject(control: &Control, body: &[u8]) -> Result<Reply, Reply> {
    let request = body_object(body)?;
    let name = request.get("fault").and_then(Value::as_str).unwrap_or_default();
    let fault = match name {
        "delay" => Fault::Delay(Duration::from_millis(number(&request, "ms", name)?)),
        "oversized_body" => {
            Fault::OversizedBody(usize::try_from(number(&request, "bytes", name)?).unwrap_or(usize::MAX))
        }
        _ => Fault::from_name(name).ok_or_else(|| param(&format!("fault: unknown fault {name:?}")))?,
    };
    let times = match request.get("times") {
        None => Times::Next(1),
        Some(Value::String(s)) if s == "always" => Times::Always,
        Some(v) => match v.as_u64().filter(|n| *n > 0).and_then(|n| usize::try_from(n).ok()) {
            Some(n) => Times::Next(n),
            None => return Err(param("times: a positive integer or \"always\"")),
        },
    };
    let route = match request.get("route") {
        None | Some(Value::Null) => None,
        Some(v) => {
            Some(v.as_str().and_then(Route::from_name).ok_or_else(|| param(&format!("route: unknown route {v}")))?)
        }
    };
    control.inject(fault, times, route);
    let times = match times {
        Times::Always => Value::from("always"),
        Times::Next(n) => Value::from(n),
    };
    Ok(reply(200, &json!({"fault": name, "times": times, "route": route.map(Route::name)})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(authorized("abc", Some("Bearer abc")));
        assert!(authorized("abc", Some("bearer abc")));
        assert!(!authorized("abc", Some("Bearer abd")));
        assert!(!authorized("abc", Some("Bearer ab")));
        assert!(!authorized("abc", Some("Basic abc")));
        assert!(!authorized("abc", None));
    }
}
