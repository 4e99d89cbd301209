//! The orders the simulator knows, stored as JSON and served byte for byte.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde_json::Value;

use crate::credentials::{MCHID, SUB_MCHID};
use crate::transitions::{self, After, Scheduled};

/// The seed orders (`seeds/orders.json`), in the orders-file format.
const SEEDS: &str = include_str!("../seeds/orders.json");

/// Which API an order is answered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// A direct merchant's order (`/v3/pay/transactions/...`).
    Direct,
    /// A service provider's sub-merchant order (`/v3/pay/partner/transactions/...`).
    Partner,
    /// A parking-service order (`/v3/vehicle/transactions/...`).
    Parking,
}

impl OrderKind {
    /// The key of this kind in an orders file.
    pub fn file_key(self) -> &'static str {
        match self {
            OrderKind::Direct => "direct",
            OrderKind::Partner => "partner",
            OrderKind::Parking => "parking",
        }
    }
}

/// An order or orders file the simulator cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderError(String);

impl OrderError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OrderError {}

impl From<OrderError> for std::io::Error {
    fn from(e: OrderError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// One stored order: its JSON for matching and the bytes it is served as.
#[derive(Debug)]
struct Stored {
    kind: OrderKind,
    json: Value,
    bytes: Arc<[u8]>,
}

impl Stored {
    fn field(&self, name: &str) -> Option<&str> {
        self.json.get(name).and_then(Value::as_str)
    }

    /// Moves the order to `state`, with its description; a direct or partner order that
    /// becomes `SUCCESS` gets a `transaction_id` if it had none.
    fn set_state(&mut self, state: &str) {
        let Some(order) = self.json.as_object_mut() else { return };
        let desc = if self.kind == OrderKind::Parking { "trade_state_description" } else { "trade_state_desc" };
        order.insert("trade_state".to_owned(), Value::from(state));
        order.insert(desc.to_owned(), Value::from(transitions::description(state)));
        if state == "SUCCESS" && self.kind != OrderKind::Parking && !order.contains_key("transaction_id") {
            static PAID: AtomicU64 = AtomicU64::new(1);
            let n = PAID.fetch_add(1, Ordering::Relaxed);
            order.insert("transaction_id".to_owned(), Value::from(format!("4200000000{n:018}")));
        }
        // Re-serialising a JSON value cannot fail.
        self.bytes = serde_json::to_vec(&self.json).unwrap_or_default().into();
    }
}

/// What closing an order did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CloseResult {
    /// It was `NOTPAY` and is `CLOSED` now.
    Closed,
    /// It was `CLOSED` already (closing is reentrant).
    AlreadyClosed,
    /// It is in this other state and stays so.
    Refused(String),
    /// No such order.
    Missing,
}

/// All orders, newest last; lookups prefer the newest, so later orders replace seeds.
#[derive(Debug, Default)]
pub(crate) struct OrderBook {
    orders: Vec<Stored>,
    bound_sub_mchids: BTreeSet<String>,
    transitions: Vec<Scheduled>,
}

impl OrderBook {
    /// A book with the seed orders and the seed sub-merchant bound.
    pub(crate) fn seeded() -> Result<Self, OrderError> {
        let mut book = Self::default();
        book.bound_sub_mchids.insert(SUB_MCHID.to_owned());
        book.load_str(SEEDS).map_err(|e| OrderError::new(format!("seed orders: {e}")))?;
        Ok(book)
    }

    /// A book without orders, with the seed sub-merchant bound.
    pub(crate) fn empty() -> Self {
        let mut book = Self::default();
        book.bound_sub_mchids.insert(SUB_MCHID.to_owned());
        book
    }

    /// Adds the orders of an orders file: `{"direct":[...],"partner":[...],"parking":[...]}`.
    pub(crate) fn load_str(&mut self, text: &str) -> Result<usize, OrderError> {
        let file: Value =
            serde_json::from_str(text).map_err(|e| OrderError::new(format!("orders file is not JSON: {e}")))?;
        let map = file.as_object().ok_or_else(|| OrderError::new("orders file must be a JSON object"))?;
        if let Some(key) = map.keys().find(|k| !matches!(k.as_str(), "direct" | "partner" | "parking")) {
            return Err(OrderError::new(format!("orders file has unknown key {key:?} (direct, partner, parking)")));
        }
        let mut added = 0;
        for kind in [OrderKind::Direct, OrderKind::Partner, OrderKind::Parking] {
            let Some(list) = map.get(kind.file_key()) else { continue };
            let list = list
                .as_array()
                .ok_or_else(|| OrderError::new(format!("orders file: {:?} must be an array", kind.file_key())))?;
            for (i, order) in list.iter().enumerate() {
                self.add(kind, order.clone())
                    .map_err(|e| OrderError::new(format!("orders file: {}[{i}]: {e}", kind.file_key())))?;
                added += 1;
            }
        }
        Ok(added)
    }

    /// Adds one order. It must be an object with a string `out_trade_no`; partner orders
    /// also need `sub_mchid`. A partner or parking order binds its `sub_mchid`.
    pub(crate) fn add(&mut self, kind: OrderKind, json: Value) -> Result<(), OrderError> {
        if !json.is_object() {
            return Err(OrderError::new("an order must be a JSON object"));
        }
        if json.get("out_trade_no").and_then(Value::as_str).is_none() {
            return Err(OrderError::new("an order needs a string \"out_trade_no\""));
        }
        let sub = json.get("sub_mchid").and_then(Value::as_str).map(str::to_owned);
        if kind == OrderKind::Partner && sub.is_none() {
            return Err(OrderError::new("a partner order needs a string \"sub_mchid\""));
        }
        let sp = json.get("sp_mchid").and_then(Value::as_str);
        if let Some(sub) = sub.filter(|_| kind != OrderKind::Direct && sp.is_none_or(|sp| sp == MCHID)) {
            self.bound_sub_mchids.insert(sub);
        }
        let bytes: Arc<[u8]> = serde_json::to_vec(&json).map_err(|e| OrderError::new(e.to_string()))?.into();
        self.orders.push(Stored { kind, json, bytes });
        Ok(())
    }

    /// Whether `sub_mchid` is bound to the simulated service provider.
    pub(crate) fn is_bound(&self, sub_mchid: &str) -> bool {
        self.bound_sub_mchids.contains(sub_mchid)
    }

    /// Binds a sub-merchant to the simulated service provider.
    pub(crate) fn bind(&mut self, sub_mchid: String) {
        self.bound_sub_mchids.insert(sub_mchid);
    }

    /// The newest order of `kind` for which `matches` holds, as served bytes, after the
    /// changes due for it by this query.
    fn find(&mut self, kind: OrderKind, matches: impl Fn(&Stored) -> bool) -> Option<Arc<[u8]>> {
        let index = self.orders.iter().rposition(|o| o.kind == kind && matches(o))?;
        self.advance(index, true);
        Some(Arc::clone(&self.orders[index].bytes))
    }

    /// Applies the scheduled changes of order `index` that a request (`query`, or a close)
    /// makes due, in the order they were scheduled.
    fn advance(&mut self, index: usize, query: bool) {
        if self.transitions.is_empty() {
            return;
        }
        let order = &self.orders[index];
        let (kind, no) = (order.kind, order.field("out_trade_no").unwrap_or_default().to_owned());
        let now = Instant::now();
        let mut due = Vec::new();
        self.transitions.retain_mut(|t| {
            let fire = t.is_for(kind, &no) && t.due(query, now);
            if fire {
                due.push(t.to().to_owned());
            }
            !fire
        });
        for state in due {
            self.orders[index].set_state(&state);
        }
    }

    /// Schedules a change of the newest order of `kind` numbered `out_trade_no` to `state`.
    pub(crate) fn schedule(
        &mut self,
        kind: OrderKind,
        out_trade_no: &str,
        state: &str,
        after: After,
    ) -> Result<(), OrderError> {
        if !self.orders.iter().any(|o| o.kind == kind && o.field("out_trade_no") == Some(out_trade_no)) {
            return Err(OrderError::new(format!("no {} order {out_trade_no:?} to change", kind.file_key())));
        }
        self.transitions.push(Scheduled::new(kind, out_trade_no, state, after, Instant::now()));
        Ok(())
    }

    /// Closes the newest order of `kind` for which `matches` holds (changes due first): a
    /// `NOTPAY` order becomes `CLOSED` and its pending changes are dropped.
    fn close(&mut self, kind: OrderKind, matches: impl Fn(&Stored) -> bool) -> CloseResult {
        let Some(index) = self.orders.iter().rposition(|o| o.kind == kind && matches(o)) else {
            return CloseResult::Missing;
        };
        self.advance(index, false);
        let order = &mut self.orders[index];
        match order.field("trade_state").unwrap_or_default() {
            "NOTPAY" => {
                order.set_state("CLOSED");
                let no = order.field("out_trade_no").unwrap_or_default().to_owned();
                self.transitions.retain(|t| !t.is_for(kind, &no));
                CloseResult::Closed
            }
            "CLOSED" => CloseResult::AlreadyClosed,
            other => CloseResult::Refused(other.to_owned()),
        }
    }

    /// Closes a direct order of merchant `mchid` by `out_trade_no`.
    pub(crate) fn close_direct(&mut self, mchid: &str, out_trade_no: &str) -> CloseResult {
        self.close(OrderKind::Direct, direct_match(mchid, "out_trade_no", out_trade_no))
    }

    /// Closes a partner order of `sp_mchid`/`sub_mchid` by `out_trade_no`.
    pub(crate) fn close_partner(&mut self, sp_mchid: &str, sub_mchid: &str, out_trade_no: &str) -> CloseResult {
        self.close(OrderKind::Partner, partner_match(sp_mchid, sub_mchid, "out_trade_no", out_trade_no))
    }

    /// A direct order of merchant `mchid`, by `out_trade_no` or `transaction_id` (`key`).
    pub(crate) fn direct(&mut self, mchid: &str, key: &str, value: &str) -> Option<Arc<[u8]>> {
        self.find(OrderKind::Direct, direct_match(mchid, key, value))
    }

    /// A partner order of `sp_mchid`/`sub_mchid`, by `out_trade_no` or `transaction_id`.
    pub(crate) fn partner(&mut self, sp_mchid: &str, sub_mchid: &str, key: &str, value: &str) -> Option<Arc<[u8]>> {
        self.find(OrderKind::Partner, partner_match(sp_mchid, sub_mchid, key, value))
    }

    /// A parking order by `out_trade_no`: of `sub_mchid` when given; otherwise any whose
    /// `sp_mchid` (if present) is the caller.
    pub(crate) fn parking(&mut self, caller: &str, sub_mchid: Option<&str>, out_trade_no: &str) -> Option<Arc<[u8]>> {
        self.find(OrderKind::Parking, |o| {
            o.field("out_trade_no") == Some(out_trade_no)
                && match sub_mchid {
                    Some(sub) => o.field("sub_mchid") == Some(sub),
                    None => o.field("sp_mchid").is_none_or(|m| m == caller),
                }
        })
    }

    /// The newest order of `kind` numbered `out_trade_no` as stored (changes due by delay
    /// applied first), for the admin API.
    pub(crate) fn get(&mut self, kind: OrderKind, out_trade_no: &str) -> Option<Value> {
        let index =
            self.orders.iter().rposition(|o| o.kind == kind && o.field("out_trade_no") == Some(out_trade_no))?;
        self.advance(index, false);
        Some(self.orders[index].json.clone())
    }

    /// Moves the newest order of `kind` numbered `out_trade_no` to `state` (as
    /// [`Stored::set_state`]), then sets `fields` over it; `None` when there is no such order.
    pub(crate) fn update(
        &mut self,
        kind: OrderKind,
        out_trade_no: &str,
        state: &str,
        fields: serde_json::Map<String, Value>,
    ) -> Option<Value> {
        let index =
            self.orders.iter().rposition(|o| o.kind == kind && o.field("out_trade_no") == Some(out_trade_no))?;
        let order = &mut self.orders[index];
        order.set_state(state);
        if let Some(map) = order.json.as_object_mut() {
            map.extend(fields);
        }
        order.bytes = serde_json::to_vec(&order.json).unwrap_or_default().into();
        Some(order.json.clone())
    }

    /// How many orders are stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.orders.len()
    }
}

/// A direct order of merchant `mchid` whose `key` is `value`.
fn direct_match<'a>(mchid: &'a str, key: &'a str, value: &'a str) -> impl Fn(&Stored) -> bool + 'a {
    move |o| o.field(key) == Some(value) && o.field("mchid").is_none_or(|m| m == mchid)
}

/// A partner order of `sp_mchid`/`sub_mchid` whose `key` is `value`.
fn partner_match<'a>(sp: &'a str, sub: &'a str, key: &'a str, value: &'a str) -> impl Fn(&Stored) -> bool + 'a {
    move |o| {
        o.field(key) == Some(value) && o.field("sub_mchid") == Some(sub) && o.field("sp_mchid").is_none_or(|m| m == sp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_load_and_answer_lookups() {
        let mut book = OrderBook::seeded().unwrap();
        assert!(book.len() >= 10);
        let seed = book.direct(MCHID, "out_trade_no", "1217752501201407033233368018").unwrap();
        let json: Value = serde_json::from_slice(&seed).unwrap();
        assert_eq!(json["transaction_id"], "4200000985202103031441826014");
        assert!(book.direct(MCHID, "transaction_id", "4200000985202103031441826014").is_some());
        assert!(book.direct("1", "out_trade_no", "1217752501201407033233368018").is_none());
        assert!(book.partner(MCHID, SUB_MCHID, "out_trade_no", "1217752501201407033233368018").is_some());
        assert!(book.partner(MCHID, "1900000110", "out_trade_no", "1217752501201407033233368018").is_none());
        assert!(book.parking(MCHID, Some(SUB_MCHID), "20150806125346").is_some());
        assert!(book.parking(MCHID, None, "SIM_PARKING_0001").is_some());
        assert!(book.is_bound(SUB_MCHID));
    }

    #[test]
    fn later_orders_win_and_bad_ones_are_refused() {
        let mut book = OrderBook::seeded().unwrap();
        let order = serde_json::json!({"mchid": MCHID, "out_trade_no": "SIM_NOTPAY_0001", "trade_state": "SUCCESS",
            "trade_state_desc": "changed"});
        book.add(OrderKind::Direct, order).unwrap();
        let got: Value =
            serde_json::from_slice(&book.direct(MCHID, "out_trade_no", "SIM_NOTPAY_0001").unwrap()).unwrap();
        assert_eq!(got["trade_state"], "SUCCESS");
        assert!(book.add(OrderKind::Direct, Value::Null).is_err());
        assert!(book.add(OrderKind::Direct, serde_json::json!({"out_trade_no": 1})).is_err());
        assert!(book.add(OrderKind::Partner, serde_json::json!({"out_trade_no": "x"})).is_err());
        book.add(OrderKind::Partner, serde_json::json!({"out_trade_no": "x", "sub_mchid": "1900000200"})).unwrap();
        assert!(book.is_bound("1900000200"));
        assert!(book.load_str("[]").is_err());
        assert!(book.load_str(r#"{"refunds":[]}"#).is_err());
        assert!(book.load_str(r#"{"direct":{}}"#).is_err());
        assert_eq!(book.load_str(r#"{"parking":[{"out_trade_no":"P1"}]}"#).unwrap(), 1);
    }

    fn state(bytes: &[u8]) -> (String, String) {
        let v: Value = serde_json::from_slice(bytes).unwrap();
        let desc = v.get("trade_state_desc").or(v.get("trade_state_description")).and_then(Value::as_str);
        (v["trade_state"].as_str().unwrap().to_owned(), desc.unwrap_or_default().to_owned())
    }

    #[test]
    fn closing_moves_notpay_to_closed_and_nothing_else() {
        let mut book = OrderBook::seeded().unwrap();
        assert_eq!(book.close_direct(MCHID, "SIM_NOTPAY_0001"), CloseResult::Closed);
        let closed = book.direct(MCHID, "out_trade_no", "SIM_NOTPAY_0001").unwrap();
        assert_eq!(state(&closed), ("CLOSED".to_owned(), "订单已关闭".to_owned()));
        assert_eq!(book.close_direct(MCHID, "SIM_NOTPAY_0001"), CloseResult::AlreadyClosed);
        let paid = "1217752501201407033233368018";
        assert_eq!(book.close_direct(MCHID, paid), CloseResult::Refused("SUCCESS".to_owned()));
        assert_eq!(state(&book.direct(MCHID, "out_trade_no", paid).unwrap()).0, "SUCCESS");
        assert_eq!(book.close_direct("1", "SIM_NOTPAY_0001"), CloseResult::Missing);
        assert_eq!(book.close_direct(MCHID, "NOPE"), CloseResult::Missing);
        assert_eq!(book.close_partner(MCHID, "1900000110", paid), CloseResult::Missing);
    }

    #[test]
    fn scheduled_changes_come_after_n_queries_and_a_close_cancels_them() {
        let mut book = OrderBook::seeded().unwrap();
        assert!(book.schedule(OrderKind::Direct, "NOPE", "SUCCESS", After::Queries(1)).is_err());
        book.schedule(OrderKind::Direct, "SIM_NOTPAY_0001", "SUCCESS", After::Queries(2)).unwrap();
        let ask = |book: &mut OrderBook| state(&book.direct(MCHID, "out_trade_no", "SIM_NOTPAY_0001").unwrap()).0;
        assert_eq!(ask(&mut book), "NOTPAY");
        assert_eq!(ask(&mut book), "NOTPAY");
        assert_eq!(ask(&mut book), "SUCCESS");
        assert_eq!(ask(&mut book), "SUCCESS");
        // Paid: it has a transaction id now, and by it the order is found.
        let v: Value = serde_json::from_slice(&book.direct(MCHID, "out_trade_no", "SIM_NOTPAY_0001").unwrap()).unwrap();
        let id = v["transaction_id"].as_str().unwrap().to_owned();
        assert_eq!((id.len(), id.bytes().all(|b| b.is_ascii_digit())), (28, true));
        assert!(book.direct(MCHID, "transaction_id", &id).is_some());

        // A close before the change is due cancels it.
        book.schedule(OrderKind::Parking, "SIM_PARKING_0001", "SUCCESS", After::Queries(0)).unwrap();
        book.schedule(OrderKind::Direct, "SIM_CLOSED_0001", "SUCCESS", After::Queries(5)).unwrap();
        let mut fresh = OrderBook::seeded().unwrap();
        fresh.schedule(OrderKind::Direct, "SIM_NOTPAY_0001", "SUCCESS", After::Queries(1)).unwrap();
        assert_eq!(fresh.close_direct(MCHID, "SIM_NOTPAY_0001"), CloseResult::Closed);
        for _ in 0..3 {
            assert_eq!(state(&fresh.direct(MCHID, "out_trade_no", "SIM_NOTPAY_0001").unwrap()).0, "CLOSED");
        }
        // Parking orders change their own description field.
        let parked = book.parking(MCHID, None, "SIM_PARKING_0001").unwrap();
        assert_eq!(state(&parked), ("SUCCESS".to_owned(), "支付成功".to_owned()));
    }

    #[test]
    fn a_due_delay_is_seen_by_a_close() {
        let mut book = OrderBook::seeded().unwrap();
        book.schedule(OrderKind::Direct, "SIM_NOTPAY_0001", "SUCCESS", After::Delay(std::time::Duration::ZERO))
            .unwrap();
        assert_eq!(book.close_direct(MCHID, "SIM_NOTPAY_0001"), CloseResult::Refused("SUCCESS".to_owned()));
    }
}
