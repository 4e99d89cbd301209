//! The orders the simulator knows, stored as JSON and served byte for byte.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::credentials::{MCHID, SUB_MCHID};

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
}

/// All orders, newest last; lookups prefer the newest, so later orders replace seeds.
#[derive(Debug, Default)]
pub(crate) struct OrderBook {
    orders: Vec<Stored>,
    bound_sub_mchids: BTreeSet<String>,
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

    /// The newest order of `kind` for which `matches` holds, as served bytes.
    fn find(&self, kind: OrderKind, matches: impl Fn(&Stored) -> bool) -> Option<Arc<[u8]>> {
        self.orders.iter().rev().find(|o| o.kind == kind && matches(o)).map(|o| Arc::clone(&o.bytes))
    }

    /// A direct order of merchant `mchid`, by `out_trade_no` or `transaction_id` (`key`).
    pub(crate) fn direct(&self, mchid: &str, key: &str, value: &str) -> Option<Arc<[u8]>> {
        self.find(OrderKind::Direct, |o| o.field(key) == Some(value) && o.field("mchid").is_none_or(|m| m == mchid))
    }

    /// A partner order of `sp_mchid`/`sub_mchid`, by `out_trade_no` or `transaction_id`.
    pub(crate) fn partner(&self, sp_mchid: &str, sub_mchid: &str, key: &str, value: &str) -> Option<Arc<[u8]>> {
        self.find(OrderKind::Partner, |o| {
            o.field(key) == Some(value)
                && o.field("sub_mchid") == Some(sub_mchid)
                && o.field("sp_mchid").is_none_or(|m| m == sp_mchid)
        })
    }

    /// A parking order by `out_trade_no`: of `sub_mchid` when given; otherwise any whose
    /// `sp_mchid` (if present) is the caller.
    pub(crate) fn parking(&self, caller: &str, sub_mchid: Option<&str>, out_trade_no: &str) -> Option<Arc<[u8]>> {
        self.find(OrderKind::Parking, |o| {
            o.field("out_trade_no") == Some(out_trade_no)
                && match sub_mchid {
                    Some(sub) => o.field("sub_mchid") == Some(sub),
                    None => o.field("sp_mchid").is_none_or(|m| m == caller),
                }
        })
    }

    /// How many orders are stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.orders.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_load_and_answer_lookups() {
        let book = OrderBook::seeded().unwrap();
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
}
