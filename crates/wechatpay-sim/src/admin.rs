//! The admin API under `/sim/`: steering a running simulator over HTTP from any language.
//! Requests carry `Authorization: Bearer <token>` (random per start); they are not signed,
//! not counted as API requests and not subject to faults. JSON in, JSON out; errors are
//! `{"code","message"}`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};
use wechatpay_core::OutTradeNo;

use crate::credentials::{MCHID, SUB_MCHID};
use crate::delivery::{self, NotificationLog, NotifyUrl};
use crate::faults::{Fault, Times};
use crate::http::Request;
use crate::notification::Event;
use crate::orders::OrderKind;
use crate::reply::Reply;
use crate::routes::{Route, percent_decode};
use crate::state::Shared;
use crate::transitions::description;

/// How many API requests `GET /sim/requests` remembers.
const REQUEST_LOG: usize = 100;

/// One API request as received, for `GET /sim/requests`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RequestRecord {
    pub method: String,
    pub target: String,
    pub verified: bool,
    /// The answer's status; `null` when none was sent (a dropped connection, a hang).
    pub status: Option<u16>,
}

/// What the admin API keeps.
#[derive(Debug)]
pub(crate) struct AdminState {
    /// The bearer token.
    pub token: String,
    /// The factor applied to the redelivery schedule.
    pub time_scale: f64,
    /// Whether notify URLs may name other hosts than loopback.
    pub allow_remote: bool,
    /// The TLS client settings for `https://` notify URLs.
    pub notify_tls: Arc<rustls::ClientConfig>,
    pub notify_urls: Mutex<HashMap<(&'static str, String), NotifyUrl>>,
    pub notifications: Mutex<NotificationLog>,
    pub requests: Mutex<VecDeque<RequestRecord>>,
}

impl AdminState {
    /// Fresh state with `token`.
    pub(crate) fn new(
        token: String,
        time_scale: f64,
        allow_remote: bool,
        notify_tls: Arc<rustls::ClientConfig>,
    ) -> Self {
        Self {
            token,
            time_scale,
            allow_remote,
            notify_tls,
            notify_urls: Mutex::default(),
            notifications: Mutex::default(),
            requests: Mutex::default(),
        }
    }

    /// Logs an API request.
    pub(crate) fn record(&self, record: RequestRecord) {
        let mut log = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() == REQUEST_LOG {
            log.pop_front();
        }
        log.push_back(record);
    }
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

/// Answers an admin request.
pub(crate) fn handle(shared: &Arc<Shared>, req: &Request) -> Reply {
    if !authorized(&shared.admin.token, req.header("authorization")) {
        let message = "missing or wrong admin token: send Authorization: Bearer <token> (STATE_DIR/admin_token, WECHATPAY_SIM_ADMIN_TOKEN)";
        return error(401, "UNAUTHORIZED", message);
    }
    let path = req.target.split_once('?').map_or(req.target.as_str(), |(p, _)| p);
    let parts: Vec<&str> = path.trim_start_matches("/sim").trim_start_matches('/').split('/').collect();
    match (req.method.as_str(), parts.as_slice()) {
        ("POST", ["orders"]) => create_order(shared, &req.body),
        ("GET", ["orders", kind, no]) => get_order(shared, kind, no),
        ("POST", ["orders", kind, no, "state"]) => set_state(shared, kind, no, &req.body),
        ("POST", ["faults"]) => inject(shared, &req.body),
        ("DELETE", ["faults"]) => {
            shared.faults.lock().unwrap_or_else(PoisonError::into_inner).clear();
            reply(200, &json!({"cleared": true}))
        }
        ("GET", ["notifications"]) => {
            let log = shared.admin.notifications.lock().unwrap_or_else(PoisonError::into_inner);
            reply(200, &json!(*log))
        }
        ("POST", ["certificates", "rotate"]) => rotate(shared),
        ("GET", ["requests"]) => {
            let log = shared.admin.requests.lock().unwrap_or_else(PoisonError::into_inner);
            reply(200, &json!(*log))
        }
        (_, ["orders" | "faults" | "notifications" | "requests"] | ["orders", _, _] | ["orders", _, _, "state"])
        | (_, ["certificates", "rotate"]) => error(405, "METHOD_NOT_ALLOWED", "method not allowed on this admin path"),
        _ => error(404, "NOT_FOUND", "no such admin path"),
    }
}

fn kind_of(name: &str) -> Option<(OrderKind, &'static str)> {
    match name {
        "direct" => Some((OrderKind::Direct, "direct")),
        "partner" => Some((OrderKind::Partner, "partner")),
        "parking" => Some((OrderKind::Parking, "parking")),
        _ => None,
    }
}

fn body_object(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(error(400, "INVALID_REQUEST", "the body must be a JSON object")),
        Err(e) => Err(error(400, "INVALID_REQUEST", &format!("the body is not JSON: {e}"))),
    }
}

/// Fills `field` with `value` when missing.
fn fill(order: &mut Map<String, Value>, field: &str, value: Value) {
    order.entry(field.to_owned()).or_insert(value);
}

/// A fresh 28-digit transaction id.
fn transaction_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!("4200000001{:010}{:08}", wechatpay_core::unix_now() % 10_000_000_000, N.fetch_add(1, Ordering::Relaxed))
}

/// The fields a paid order has: filled in `order` where missing.
fn fill_paid(kind: OrderKind, order: &mut Map<String, Value>) {
    let now = crate::clock::beijing_rfc3339(crate::clock::now());
    fill(order, "success_time", Value::from(now));
    if kind == OrderKind::Parking {
        return;
    }
    fill(order, "transaction_id", Value::from(transaction_id()));
    fill(order, "bank_type", Value::from("OTHERS"));
    let payer = match kind {
        OrderKind::Partner => {
            json!({"sp_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "sub_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6p"})
        }
        _ => json!({"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}),
    };
    fill(order, "payer", payer);
    if let Some(Value::Object(amount)) = order.get_mut("amount") {
        let total = amount.get("total").cloned().unwrap_or(Value::from(1));
        fill(amount, "payer_total", total);
        fill(amount, "payer_currency", Value::from("CNY"));
    }
}

/// `order` with the fields a query answer needs filled in where missing.
fn complete(kind: OrderKind, mut order: Map<String, Value>) -> Result<Map<String, Value>, Reply> {
    let no = order.get("out_trade_no").ok_or_else(|| param("order.out_trade_no is required"))?;
    let no = no.as_str().ok_or_else(|| param("order.out_trade_no must be a string"))?;
    OutTradeNo::new(no).map_err(|e| param(&format!("order.out_trade_no: {e}")))?;
    let (desc_field, default_state) = match kind {
        OrderKind::Parking => ("trade_state_description", "ACCEPTED"),
        _ => ("trade_state_desc", "NOTPAY"),
    };
    fill(&mut order, "trade_state", Value::from(default_state));
    let state =
        order.get("trade_state").and_then(Value::as_str).ok_or_else(|| param("order.trade_state must be a string"))?;
    let desc = description(state).to_owned();
    let paid = state == "SUCCESS";
    fill(&mut order, desc_field, Value::from(desc));
    match kind {
        OrderKind::Direct => {
            fill(&mut order, "appid", Value::from("wxd678efh567hg6787"));
            fill(&mut order, "mchid", Value::from(MCHID));
            fill(&mut order, "trade_type", Value::from("NATIVE"));
        }
        OrderKind::Partner => {
            match order.get("sub_mchid") {
                Some(Value::String(_)) => {}
                Some(_) => return Err(param("order.sub_mchid must be a string")),
                None => return Err(param("order.sub_mchid is required for a partner order")),
            }
            fill(&mut order, "sp_appid", Value::from("wx8888888888888888"));
            fill(&mut order, "sp_mchid", Value::from(MCHID));
            fill(&mut order, "trade_type", Value::from("NATIVE"));
        }
        OrderKind::Parking => {
            fill(&mut order, "appid", Value::from("wxcbda96de0b165486"));
            fill(&mut order, "sp_mchid", Value::from(MCHID));
            fill(&mut order, "sub_mchid", Value::from(SUB_MCHID));
            fill(&mut order, "description", Value::from("停车场扣费"));
            fill(&mut order, "create_time", Value::from(crate::clock::beijing_rfc3339(crate::clock::now())));
            fill(&mut order, "trade_scene", Value::from("PARKING"));
            fill(&mut order, "payer", json!({"openid": "oUpF8uMuAJOM2pxb1Q"}));
        }
    }
    fill(&mut order, "amount", json!({"total": 1, "currency": "CNY"}));
    // A partial amount (`{"total": 100}`) gets what a real answer always carries.
    if let Some(Value::Object(amount)) = order.get_mut("amount") {
        fill(amount, "total", Value::from(1));
        fill(amount, "currency", Value::from("CNY"));
    }
    if paid {
        fill_paid(kind, &mut order);
    }
    Ok(order)
}

fn create_order(shared: &Arc<Shared>, body: &[u8]) -> Reply {
    let mut request = match body_object(body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let kind_name = request.get("kind").and_then(Value::as_str).unwrap_or_default();
    let Some((kind, kind_name)) = kind_of(kind_name) else {
        return param("kind: must be \"direct\", \"partner\" or \"parking\"");
    };
    let order = match request.remove("order") {
        Some(Value::Object(order)) => order,
        _ => return param("order: must be a JSON object with the order's API fields"),
    };
    let url = match request.get("notify_url") {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) => match NotifyUrl::parse(url, shared.admin.allow_remote) {
            Ok(url) => Some(url),
            Err(message) => return param(&message),
        },
        Some(_) => return param("notify_url: must be a string"),
    };
    let order = match complete(kind, order) {
        Ok(order) => order,
        Err(reply) => return reply,
    };
    let no = order.get("out_trade_no").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut orders = shared.orders.write().unwrap_or_else(PoisonError::into_inner);
    if let Err(e) = orders.add(kind, Value::Object(order)) {
        return param(&format!("order: {e}"));
    }
    let stored = orders.get(kind, &no);
    drop(orders);
    let mut urls = shared.admin.notify_urls.lock().unwrap_or_else(PoisonError::into_inner);
    match url {
        Some(url) => urls.insert((kind_name, no), url),
        None => urls.remove(&(kind_name, no)),
    };
    reply(201, &stored)
}

fn not_found(kind: &str, no: &str) -> Reply {
    error(404, "ORDER_NOT_EXIST", &format!("no {kind} order {no:?}"))
}

fn get_order(shared: &Shared, kind: &str, no: &str) -> Reply {
    let no = percent_decode(no).unwrap_or_else(|| no.to_owned());
    let Some((kind, name)) = kind_of(kind) else { return error(404, "NOT_FOUND", "kind: direct, partner or parking") };
    match shared.orders.write().unwrap_or_else(PoisonError::into_inner).get(kind, &no) {
        Some(order) => reply(200, &order),
        None => not_found(name, &no),
    }
}

/// The event a change to `state` notifies, if any (spec §8).
fn event_for(kind: OrderKind, state: &str) -> Option<(&'static str, &'static str)> {
    match (kind, state) {
        (_, "SUCCESS") => Some(("TRANSACTION.SUCCESS", "支付成功")),
        (OrderKind::Parking, "PAY_FAIL" | "FAIL") => Some(("TRANSACTION.FAIL", "支付失败")),
        (OrderKind::Parking, "PAY_BACK") => Some(("TRANSACTION.PAY_BACK", "还款成功")),
        _ => None,
    }
}

fn set_state(shared: &Arc<Shared>, kind: &str, no: &str, body: &[u8]) -> Reply {
    let no = percent_decode(no).unwrap_or_else(|| no.to_owned());
    let Some((kind, name)) = kind_of(kind) else { return error(404, "NOT_FOUND", "kind: direct, partner or parking") };
    let mut fields = match body_object(body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let state = match fields.remove("trade_state") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return param("trade_state: required, a non-empty string"),
    };
    if fields.get("out_trade_no").is_some_and(|v| v.as_str() != Some(no.as_str())) {
        return param("out_trade_no: cannot be changed");
    }
    let mut orders = shared.orders.write().unwrap_or_else(PoisonError::into_inner);
    let Some(Value::Object(mut current)) = orders.get(kind, &no) else { return not_found(name, &no) };
    // What the order will look like, to fill what a paid order lacks.
    current.insert("trade_state".to_owned(), Value::from(state.as_str()));
    current.extend(fields.clone());
    if state == "SUCCESS" {
        let before = current.clone();
        fill_paid(kind, &mut current);
        for (k, v) in current {
            if before.get(&k) != Some(&v) {
                fields.insert(k, v);
            }
        }
    }
    let Some(order) = orders.update(kind, &no, &state, fields) else { return not_found(name, &no) };
    drop(orders);
    if let Some((event_type, summary)) = event_for(kind, &state) {
        let url =
            shared.admin.notify_urls.lock().unwrap_or_else(PoisonError::into_inner).get(&(name, no.clone())).cloned();
        if let Some(url) = url {
            let resource = serde_json::to_vec(&order).unwrap_or_default();
            match Event::new(event_type, summary, resource) {
                Ok(event) => delivery::start(shared, event, name, &no, url),
                Err(e) => return error(500, "SYSTEM_ERROR", &format!("cannot make the notification: {e}")),
            }
        }
    }
    reply(200, &order)
}

fn route_of(name: &str) -> Option<Route> {
    Some(match name {
        "direct_by_out_trade_no" => Route::DirectByOutTradeNo,
        "direct_by_id" => Route::DirectById,
        "partner_by_out_trade_no" => Route::PartnerByOutTradeNo,
        "partner_by_id" => Route::PartnerById,
        "parking" => Route::Parking,
        "close_direct" => Route::CloseDirect,
        "close_partner" => Route::ClosePartner,
        "certificates" => Route::Certificates,
        _ => return None,
    })
}

fn number(request: &Map<String, Value>, field: &str, fault: &str) -> Result<u64, Reply> {
    request
        .get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| param(&format!("{field}: the fault {fault} needs a non-negative integer {field:?}")))
}

fn inject(shared: &Shared, body: &[u8]) -> Reply {
    let request = match body_object(body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let name = request.get("fault").and_then(Value::as_str).unwrap_or_default();
    let fault = match name {
        "rate_limited" => Fault::RateLimited,
        "system_error" => Fault::SystemError,
        "html_bad_gateway" => Fault::HtmlBadGateway,
        "delay" => match number(&request, "ms", name) {
            Ok(ms) => Fault::Delay(Duration::from_millis(ms)),
            Err(r) => return r,
        },
        "hang" => Fault::Hang,
        "drop_connection" => Fault::DropConnection,
        "tampered_body" => Fault::TamperedBody,
        "stale_timestamp" => Fault::StaleTimestamp,
        "sign_test_probe" => Fault::SignTestProbe,
        "unknown_serial" => Fault::UnknownSerial,
        "unsigned_ok" => Fault::UnsignedOk,
        "invalid_json" => Fault::InvalidJson,
        "answer_for_another_order" => Fault::AnswerForAnotherOrder,
        "oversized_body" => match number(&request, "bytes", name) {
            Ok(n) => Fault::OversizedBody(usize::try_from(n).unwrap_or(usize::MAX)),
            Err(r) => return r,
        },
        _ => return param(&format!("fault: unknown fault {name:?}")),
    };
    let times = match request.get("times") {
        None => Times::Next(1),
        Some(Value::String(s)) if s == "always" => Times::Always,
        Some(v) => match v.as_u64().filter(|n| *n > 0).and_then(|n| usize::try_from(n).ok()) {
            Some(n) => Times::Next(n),
            None => return param("times: a positive integer or \"always\""),
        },
    };
    let route = match request.get("route") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_str().and_then(route_of) {
            Some(r) => Some(r),
            None => return param(&format!("route: unknown route {v}")),
        },
    };
    shared.faults.lock().unwrap_or_else(PoisonError::into_inner).inject(fault, times, route);
    let times = match times {
        Times::Always => Value::from("always"),
        Times::Next(n) => Value::from(n),
    };
    reply(200, &json!({"fault": name, "times": times, "route": request.get("route").cloned().unwrap_or(Value::Null)}))
}

fn rotate(shared: &Shared) -> Reply {
    if shared.response_keys.public_key_only() {
        return error(409, "PUBLIC_KEY_ONLY", "public-key-only mode: there is no platform certificate to rotate");
    }
    match shared.response_keys.rotate(crate::clock::now()) {
        Ok(serial) => {
            let (serials, signing, pending) = shared.response_keys.with_platform(|p| {
                let serials: Vec<String> = p.listed().iter().map(|c| c.serial().to_owned()).collect();
                (serials, p.signing_key().serial().to_owned(), p.rotation_pending())
            });
            reply(
                200,
                &json!({"serial_no": serial, "signing_serial": signing, "serials": serials, "rotation_pending": pending}),
            )
        }
        Err(e) => error(500, "SYSTEM_ERROR", &format!("rotation failed: {e}")),
    }
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

    #[test]
    fn orders_are_completed_and_checked() {
        let order = |v: Value| v.as_object().unwrap().clone();
        let direct = complete(OrderKind::Direct, order(json!({"out_trade_no": "A1"}))).unwrap();
        assert_eq!((direct["mchid"].as_str(), direct["trade_state"].as_str()), (Some(MCHID), Some("NOTPAY")));
        assert_eq!(direct["amount"], json!({"total": 1, "currency": "CNY"}));
        let partial = complete(OrderKind::Direct, order(json!({"out_trade_no": "A1", "amount": {"total": 250}})));
        assert_eq!(partial.unwrap()["amount"], json!({"total": 250, "currency": "CNY"}));
        let usd = complete(OrderKind::Direct, order(json!({"out_trade_no": "A1", "amount": {"currency": "USD"}})));
        assert_eq!(usd.unwrap()["amount"], json!({"total": 1, "currency": "USD"}));
        let paid = complete(OrderKind::Direct, order(json!({"out_trade_no": "A1", "trade_state": "SUCCESS"}))).unwrap();
        assert_eq!(paid["transaction_id"].as_str().unwrap().len(), 28);
        assert!(paid.contains_key("payer") && paid.contains_key("success_time"));
        assert!(complete(OrderKind::Partner, order(json!({"out_trade_no": "A1"}))).is_err());
        let bad = complete(OrderKind::Direct, order(json!({"out_trade_no": "a b"}))).unwrap_err();
        assert!(String::from_utf8_lossy(&bad.body).contains("out_trade_no"));
        let parking = complete(OrderKind::Parking, order(json!({"out_trade_no": "P1"}))).unwrap();
        assert_eq!(parking["trade_state"], "ACCEPTED");
        assert_eq!(event_for(OrderKind::Parking, "PAY_BACK").unwrap().0, "TRANSACTION.PAY_BACK");
        assert!(event_for(OrderKind::Direct, "PAY_FAIL").is_none());
    }
}
