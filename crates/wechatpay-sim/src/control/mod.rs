//! One control API: every operation the Rust [`crate::Simulator`] handle and the `/sim/`
//! admin HTTP offer, with the same checks and the same results. The admin API only
//! translates HTTP to these calls and their results back (`admin.rs`).

pub(crate) mod admin;
mod bill;
pub(crate) mod cashier;
mod parking;
pub(crate) mod prepay;
pub(crate) mod refund;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use serde_json::{Map, Value};
use wechatpay_core::OutTradeNo;

use crate::delivery::{Delivery, NotifyUrl};
use crate::protocol::faults::{Fault, FaultTable, Times};
use crate::protocol::routes::Route;
use crate::protocol::signing::ResponseKeys;
use crate::world::{After, Order, OrderError, OrderKind, TradeState, World};

/// How many API requests the request log remembers.
const REQUEST_LOG: usize = 100;

/// Why a control operation was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ControlError {
    /// The input is not something WeChat Pay would hold (`400 PARAM_ERROR`); the message
    /// names the field.
    Invalid(String),
    /// No such entity (`404 ORDER_NOT_EXIST`).
    NotFound(String),
    /// The operation makes no sense in public-key-only mode (`409 PUBLIC_KEY_ONLY`).
    PublicKeyOnly(String),
    /// Something failed inside the simulator (`500 SYSTEM_ERROR`).
    Internal(String),
}

impl ControlError {
    /// What went wrong, in words.
    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Invalid(m) | Self::NotFound(m) | Self::PublicKeyOnly(m) | Self::Internal(m) => m,
        }
    }
}

impl From<ControlError> for OrderError {
    fn from(e: ControlError) -> Self {
        OrderError::new(e.message())
    }
}

/// One API request as received, for `GET /sim/requests`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RequestRecord {
    pub method: String,
    pub target: String,
    pub verified: bool,
    /// The answer's status; `null` when none was sent (a dropped connection, a hang).
    pub status: Option<u16>,
}

/// The outcome of one rotation step.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Rotation {
    /// The new certificate's serial.
    pub serial_no: String,
    /// The serial of the certificate that signs now.
    pub signing_serial: String,
    /// Every listed serial, oldest first.
    pub serials: Vec<String>,
    /// Whether the new certificate does not sign yet.
    pub rotation_pending: bool,
}

/// The control API over the world, the faults, the keys, delivery and the request log.
#[derive(Debug)]
pub(crate) struct Control {
    world: Mutex<World>,
    faults: Mutex<FaultTable>,
    keys: Arc<ResponseKeys>,
    delivery: Arc<Delivery>,
    allow_remote_notify: bool,
    seen: AtomicUsize,
    per_route: [AtomicUsize; Route::COUNT],
    requests: Mutex<VecDeque<RequestRecord>>,
}

impl Control {
    pub(crate) fn new(
        world: World,
        keys: Arc<ResponseKeys>,
        delivery: Arc<Delivery>,
        allow_remote_notify: bool,
    ) -> Self {
        let mut world = world;
        world.parking.allow_remote_notify = allow_remote_notify;
        Self {
            world: Mutex::new(world),
            faults: Mutex::default(),
            keys,
            delivery,
            allow_remote_notify,
            seen: AtomicUsize::new(0),
            per_route: Default::default(),
            requests: Mutex::default(),
        }
    }

    /// Runs `f` on the world, then hands the notifications of its transitions to delivery
    /// (after letting go of the world).
    pub(crate) fn world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let (out, outbox, refunds) = {
            let mut world = self.world.lock().unwrap_or_else(PoisonError::into_inner);
            let out = f(&mut world);
            world.tick_refunds(std::time::Instant::now());
            (out, world.take_outbox(), world.take_refund_outbox())
        };
        for notify in outbox {
            self.delivery.send(notify);
        }
        for notify in refunds {
            self.delivery.send_refund(notify);
        }
        out
    }

    /// Adds an order exactly as given, with what a client needs to parse it filled in where
    /// missing (the merchant ids of its kind, a state and its description).
    pub(crate) fn add_order(&self, kind: OrderKind, json: Value) -> Result<(), OrderError> {
        let order = Order::given(kind, json)?;
        self.world(|w| w.add(order));
        Ok(())
    }

    /// Creates an order from its API fields, the rest filled in as WeChat Pay would answer
    /// it, notified at `notify_url` when its state changes; returns it as stored.
    pub(crate) fn create_order(
        &self,
        kind: OrderKind,
        fields: Map<String, Value>,
        notify_url: Option<&str>,
    ) -> Result<Value, ControlError> {
        let mut fields = fields;
        let invalid = |m: String| ControlError::Invalid(m);
        let allow_unknown = allow_unknown(&mut fields)?;
        let no = fields.get("out_trade_no").ok_or_else(|| invalid("order.out_trade_no is required".to_owned()))?;
        let no = no.as_str().ok_or_else(|| invalid("order.out_trade_no must be a string".to_owned()))?;
        OutTradeNo::new(no).map_err(|e| invalid(format!("order.out_trade_no: {e}")))?;
        match fields.get("trade_state") {
            Some(Value::String(state)) => check_state("order.trade_state", state, allow_unknown)?,
            Some(_) => return Err(invalid("order.trade_state must be a string".to_owned())),
            None => {}
        }
        check_values("order.", &fields)?;
        if kind == OrderKind::Partner {
            match fields.get("sub_mchid") {
                Some(Value::String(_)) => {}
                Some(_) => return Err(invalid("order.sub_mchid must be a string".to_owned())),
                None => return Err(invalid("order.sub_mchid is required for a partner order".to_owned())),
            }
        }
        let url = notify_url.map(|u| NotifyUrl::parse(u, self.allow_remote_notify)).transpose().map_err(invalid)?;
        let mut order = Order::from_json(kind, Value::Object(fields)).map_err(|e| invalid(format!("order: {e}")))?;
        order.complete(crate::clock::now());
        order.notify_url = url;
        let json = order.to_json();
        self.world(|w| w.add(order));
        Ok(json)
    }

    /// The newest order of `kind` numbered `out_trade_no`, as stored (changes due by delay
    /// applied first).
    pub(crate) fn order(&self, kind: OrderKind, out_trade_no: &str) -> Result<Value, ControlError> {
        self.world(|w| w.get(kind, out_trade_no)).ok_or_else(|| not_found(kind, out_trade_no))
    }

    /// Moves the newest order of `kind` numbered `out_trade_no` to `trade_state` through its
    /// transition function, with `fields` set over it; returns it as stored. A state WeChat
    /// Pay does not document is refused unless `fields` has `"allow_unknown": true` (fault
    /// injection), which is not set over the order.
    pub(crate) fn set_state(
        &self,
        kind: OrderKind,
        out_trade_no: &str,
        trade_state: &str,
        mut fields: Map<String, Value>,
    ) -> Result<Value, ControlError> {
        if trade_state.is_empty() {
            return Err(ControlError::Invalid("trade_state: required, a non-empty string".to_owned()));
        }
        let allow_unknown = allow_unknown(&mut fields)?;
        check_state("trade_state", trade_state, allow_unknown)?;
        check_values("", &fields)?;
        if fields.get("out_trade_no").is_some_and(|v| v.as_str() != Some(out_trade_no)) {
            return Err(ControlError::Invalid("out_trade_no: cannot be changed".to_owned()));
        }
        let to = TradeState::parse(trade_state);
        match self.world(|w| w.update(kind, out_trade_no, to, fields)) {
            None => Err(not_found(kind, out_trade_no)),
            Some(Err(e)) => Err(ControlError::Invalid(e.to_string())),
            Some(Ok(order)) => Ok(order),
        }
    }

    /// Schedules a change of the newest order of `kind` numbered `out_trade_no` to
    /// `trade_state`, due [`After`] some queries or a delay; an undocumented state only
    /// with `allow_unknown`.
    pub(crate) fn schedule(
        &self,
        kind: OrderKind,
        out_trade_no: &str,
        trade_state: &str,
        after: After,
        allow_unknown: bool,
    ) -> Result<(), ControlError> {
        if trade_state.is_empty() {
            return Err(ControlError::Invalid("trade_state: required, a non-empty string".to_owned()));
        }
        check_state("trade_state", trade_state, allow_unknown)?;
        let to = TradeState::parse(trade_state);
        self.world(|w| w.schedule(kind, out_trade_no, to, after)).map_err(|e| ControlError::NotFound(e.to_string()))
    }

    /// Binds a sub-merchant to the simulated service provider.
    pub(crate) fn bind_sub_mchid(&self, sub_mchid: String) {
        self.world(|w| w.bind(sub_mchid));
    }

    /// Injects `fault` for `times` matching requests on `route` (`None`: every route).
    pub(crate) fn inject(&self, fault: Fault, times: Times, route: Option<Route>) {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).inject(fault, times, route);
    }

    /// Removes every injected fault.
    pub(crate) fn clear_faults(&self) {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The fault for a verified request to `route`, consuming one use.
    pub(crate) fn take_fault(&self, route: Option<Route>) -> Option<Fault> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).take(route)
    }

    /// Every notification kept, with its attempts (the JSON of `GET /sim/notifications`).
    pub(crate) fn notifications(&self) -> Value {
        self.delivery.log_json()
    }

    /// One step of a platform certificate rotation.
    pub(crate) fn rotate_certificate(&self) -> Result<Rotation, ControlError> {
        if self.keys.public_key_only() {
            let message = "public-key-only mode: there is no platform certificate to rotate";
            return Err(ControlError::PublicKeyOnly(message.to_owned()));
        }
        let serial_no = self
            .keys
            .rotate(crate::clock::now())
            .map_err(|e| ControlError::Internal(format!("rotation failed: {e}")))?;
        Ok(self.keys.with_platform(|p| Rotation {
            serial_no,
            signing_serial: p.signing_key().serial().to_owned(),
            serials: p.listed().iter().map(|c| c.serial().to_owned()).collect(),
            rotation_pending: p.rotation_pending(),
        }))
    }

    /// Counts an API request, for `route` if it names one.
    pub(crate) fn count(&self, route: Option<Route>) {
        self.seen.fetch_add(1, Ordering::SeqCst);
        if let Some(route) = route {
            self.per_route[route.index()].fetch_add(1, Ordering::SeqCst);
        }
    }

    /// How many API requests were received.
    pub(crate) fn requests_seen(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }

    /// How many API requests were received for `route`.
    pub(crate) fn requests_for(&self, route: Route) -> usize {
        self.per_route[route.index()].load(Ordering::SeqCst)
    }

    /// Sets every request counter back to zero.
    pub(crate) fn reset_counts(&self) {
        self.seen.store(0, Ordering::SeqCst);
        for c in &self.per_route {
            c.store(0, Ordering::SeqCst);
        }
    }

    /// Logs an API request (the newest [`REQUEST_LOG`] are kept).
    pub(crate) fn record(&self, record: RequestRecord) {
        let mut log = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() == REQUEST_LOG {
            log.pop_front();
        }
        log.push_back(record);
    }

    /// The request log, oldest first (the JSON of `GET /sim/requests`).
    pub(crate) fn requests(&self) -> Value {
        let log = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        serde_json::to_value(&*log).unwrap_or_default()
    }
}

/// Takes `allow_unknown` out of `fields`: `true`, `false` or missing.
fn allow_unknown(fields: &mut Map<String, Value>) -> Result<bool, ControlError> {
    match fields.remove("allow_unknown") {
        None | Some(Value::Bool(false)) => Ok(false),
        Some(Value::Bool(true)) => Ok(true),
        Some(_) => Err(ControlError::Invalid("allow_unknown: must be true or false".to_owned())),
    }
}

/// Refuses a `trade_state` (named `field`) WeChat Pay does not document unless
/// `allow_unknown`.
fn check_state(field: &str, trade_state: &str, allow_unknown: bool) -> Result<(), ControlError> {
    if allow_unknown || TradeState::parse(trade_state).is_known() {
        return Ok(());
    }
    let known: Vec<&str> = TradeState::known_names().collect();
    Err(ControlError::Invalid(format!(
        "{field}: unknown state {trade_state:?}; allowed: {}; send \"allow_unknown\": true to inject it on purpose",
        known.join(", ")
    )))
}

/// The time fields an order may carry, as paths into it.
const TIMES: [&[&str]; 5] = [
    &["success_time"],
    &["create_time"],
    &["time_expire"],
    &["parking_info", "start_time"],
    &["parking_info", "end_time"],
];

/// The amount fields, in fen.
const AMOUNTS: [&str; 4] = ["total", "payer_total", "discount_total", "refund"];

/// Refuses values WeChat Pay would never hold in an order's `fields` (named with `prefix`):
/// an amount that is negative or not a whole number of fen, a time that is not RFC 3339.
fn check_values(prefix: &str, fields: &Map<String, Value>) -> Result<(), ControlError> {
    match fields.get("amount") {
        None => {}
        Some(Value::Object(amount)) => {
            for name in AMOUNTS {
                if let Some(v) = amount.get(name) {
                    if v.as_u64().is_none() {
                        return Err(ControlError::Invalid(format!(
                            "{prefix}amount.{name}: must be a whole number of fen, 0 or more (got {v})"
                        )));
                    }
                }
            }
        }
        Some(v) => {
            return Err(ControlError::Invalid(format!(
                "{prefix}amount: must be an object such as {{\"total\": 100, \"currency\": \"CNY\"}} (got {v})"
            )));
        }
    }
    for path in TIMES {
        let mut value = Some(fields);
        let mut found = None;
        for (i, key) in path.iter().enumerate() {
            let Some(map) = value else { break };
            match map.get(*key) {
                Some(Value::Object(inner)) if i + 1 < path.len() => value = Some(inner),
                Some(v) if i + 1 == path.len() => found = Some(v),
                _ => break,
            }
        }
        if let Some(v) = found {
            if !v.as_str().is_some_and(is_rfc3339) {
                return Err(ControlError::Invalid(format!(
                    "{prefix}{}: must be an RFC 3339 time with seconds and an offset, such as \
                     2026-11-23T22:06:01+08:00 (got {v})",
                    path.join(".")
                )));
            }
        }
    }
    Ok(())
}

/// Whether `s` is an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let shape =
        b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && matches!(b[10], b'T' | b't') && b[13] == b':' && b[16] == b':';
    if !shape {
        return false;
    }
    let (Some(_), Some(month), Some(day), Some(hour), Some(minute), Some(second)) =
        (digits(0..4), digits(5..7), digits(8..10), digits(11..13), digits(14..16), digits(17..19))
    else {
        return false;
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
                && (h1 - b'0') * 10 + (h2 - b'0') <= 23
                && (m1 - b'0') * 10 + (m2 - b'0') <= 59
        }
        _ => false,
    }
}

fn not_found(kind: OrderKind, out_trade_no: &str) -> ControlError {
    ControlError::NotFound(format!("no {} order {out_trade_no:?}", kind.file_key()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::MCHID;
    use serde_json::json;

    fn control() -> Control {
        let keys = Arc::new(ResponseKeys::load(None, false).unwrap());
        let tls = crate::net::tls::notify_client(std::iter::empty()).unwrap();
        let stop = Arc::new(crate::net::stop::Stop::default());
        let delivery = Arc::new(Delivery::new(Arc::clone(&keys), Arc::from("k".repeat(32)), tls, 1.0, stop));
        Control::new(World::seeded().unwrap(), keys, delivery, false)
    }

    fn order(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn orders_are_completed_and_checked() {
        let c = control();
        let direct = c.create_order(OrderKind::Direct, order(json!({"out_trade_no": "A1"})), None).unwrap();
        assert_eq!((direct["mchid"].as_str(), direct["trade_state"].as_str()), (Some(MCHID), Some("NOTPAY")));
        assert_eq!(direct["amount"], json!({"total": 1, "currency": "CNY"}));
        let partial =
            c.create_order(OrderKind::Direct, order(json!({"out_trade_no": "A1", "amount": {"total": 250}})), None);
        assert_eq!(partial.unwrap()["amount"], json!({"total": 250, "currency": "CNY"}));
        let usd = c.create_order(
            OrderKind::Direct,
            order(json!({"out_trade_no": "A1", "amount": {"currency": "USD"}})),
            None,
        );
        assert_eq!(usd.unwrap()["amount"], json!({"total": 1, "currency": "USD"}));
        let paid = c
            .create_order(OrderKind::Direct, order(json!({"out_trade_no": "A1", "trade_state": "SUCCESS"})), None)
            .unwrap();
        assert_eq!(paid["transaction_id"].as_str().unwrap().len(), 28);
        assert!(paid.get("payer").is_some() && paid.get("success_time").is_some());
        assert!(c.create_order(OrderKind::Partner, order(json!({"out_trade_no": "A1"})), None).is_err());
        let bad = c.create_order(OrderKind::Direct, order(json!({"out_trade_no": "a b"})), None).unwrap_err();
        assert!(bad.message().contains("out_trade_no"), "{bad:?}");
        let parking = c.create_order(OrderKind::Parking, order(json!({"out_trade_no": "P1"})), None).unwrap();
        assert_eq!(parking["trade_state"], "ACCEPTED");
        assert_eq!(c.order(OrderKind::Parking, "P1").unwrap(), parking);
        let url = c.create_order(OrderKind::Direct, order(json!({"out_trade_no": "A2"})), Some("http://example.com/n"));
        assert!(matches!(url, Err(ControlError::Invalid(m)) if m.contains("loopback")));
    }

    #[test]
    fn what_wechat_pay_would_never_hold_is_refused_naming_the_field() {
        let c = control();
        let create = |v: Value| c.create_order(OrderKind::Direct, order(v), None);
        let message = |r: Result<Value, ControlError>| match r {
            Err(ControlError::Invalid(m)) => m,
            other => panic!("{other:?}"),
        };
        let m = message(create(json!({"out_trade_no": "V1", "trade_state": "PAID"})));
        assert!(m.contains("order.trade_state") && m.contains("SUCCESS, REFUND") && m.contains("allow_unknown"), "{m}");
        let m = message(create(json!({"out_trade_no": "V1", "amount": {"total": -1}})));
        assert!(m.starts_with("order.amount.total:") && m.contains("0 or more"), "{m}");
        assert!(message(create(json!({"out_trade_no": "V1", "amount": {"total": 1.5}}))).contains("amount.total"));
        assert!(message(create(json!({"out_trade_no": "V1", "amount": {"total": "1"}}))).contains("amount.total"));
        assert!(message(create(json!({"out_trade_no": "V1", "amount": 100}))).starts_with("order.amount:"));
        let m = message(create(json!({"out_trade_no": "V1", "success_time": "yesterday"})));
        assert!(m.starts_with("order.success_time:") && m.contains("2026-11-23T22:06:01+08:00"), "{m}");
        let parking = json!({"out_trade_no": "V1", "parking_info": {"start_time": "2026-13-01T00:00:00+08:00"}});
        let m = message(c.create_order(OrderKind::Parking, order(parking), None));
        assert!(m.starts_with("order.parking_info.start_time:"), "{m}");
        // On purpose, an unknown state is accepted, and `allow_unknown` is not stored.
        let future = create(json!({"out_trade_no": "V2", "trade_state": "PAID", "allow_unknown": true})).unwrap();
        assert_eq!(future["trade_state"], "PAID");
        assert!(future.get("allow_unknown").is_none());
        // The same rules for a change of state.
        let set = |state: &str, v: Value| c.set_state(OrderKind::Direct, "SIM_NOTPAY_0001", state, order(v));
        let m = message(set("PAID", json!({})));
        assert!(m.starts_with("trade_state:") && m.contains("NOTPAY"), "{m}");
        assert!(message(set("SUCCESS", json!({"amount": {"total": -5}}))).starts_with("amount.total:"));
        assert!(message(set("SUCCESS", json!({"success_time": "2026-11-23 22:06:01"}))).starts_with("success_time:"));
        assert!(message(set("X", json!({"allow_unknown": "yes"}))).starts_with("allow_unknown:"));
        let odd = set("PARTIAL_REFUND", json!({"allow_unknown": true})).unwrap();
        assert_eq!(
            (odd["trade_state"].as_str(), odd["trade_state_desc"].as_str()),
            (Some("PARTIAL_REFUND"), Some("PARTIAL_REFUND"))
        );
        assert!(odd.get("allow_unknown").is_none());
    }

    #[test]
    fn rfc3339_times() {
        for ok in ["2026-11-23T22:06:01+08:00", "2018-06-08T10:34:56Z", "2018-06-08T10:34:56.123-05:30"] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "2026-11-23",
            "2026-11-23T22:06:01",
            "2026-11-23 22:06:01+08:00",
            "2026-00-23T22:06:01+08:00",
            "2026-11-23T24:06:01+08:00",
            "2026-11-23T22:06:01+8:00",
            "2026-11-23T22:06:01.+08:00",
            "２０26-11-23T22:06:01Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn states_change_through_the_one_transition() {
        let c = control();
        assert!(matches!(
            c.set_state(OrderKind::Direct, "NOPE", "SUCCESS", Map::new()),
            Err(ControlError::NotFound(_))
        ));
        let rename = order(json!({"out_trade_no": "OTHER"}));
        assert!(matches!(
            c.set_state(OrderKind::Direct, "SIM_NOTPAY_0001", "SUCCESS", rename),
            Err(ControlError::Invalid(_))
        ));
        let paid = c.set_state(OrderKind::Direct, "SIM_NOTPAY_0001", "SUCCESS", order(json!({"attach": "x"}))).unwrap();
        assert_eq!((paid["trade_state_desc"].as_str(), paid["attach"].as_str()), (Some("支付成功"), Some("x")));
        assert!(paid["success_time"].is_string() && paid["payer"]["openid"].is_string());
        let again = c.set_state(OrderKind::Direct, "SIM_NOTPAY_0001", "SUCCESS", Map::new()).unwrap();
        assert_eq!(again, paid, "the same state again changes nothing");
        // A scheduled payment goes through the same transition.
        c.schedule(OrderKind::Partner, "SIM_PARTNER_NOTPAY_0001", "SUCCESS", After::Queries(0), false).unwrap();
        let scheduled = c.order(OrderKind::Partner, "SIM_PARTNER_NOTPAY_0001").unwrap();
        assert_eq!(scheduled["trade_state"], "NOTPAY", "an admin look is not a query");
        assert!(c.schedule(OrderKind::Direct, "NOPE", "SUCCESS", After::Queries(0), false).is_err());
        let unknown = c.schedule(OrderKind::Direct, "SIM_NOTPAY_0001", "LATER", After::Queries(0), false);
        assert!(matches!(unknown, Err(ControlError::Invalid(m)) if m.starts_with("trade_state:")));
        c.schedule(OrderKind::Direct, "SIM_NOTPAY_0001", "LATER", After::Queries(0), true).unwrap();
    }
}
