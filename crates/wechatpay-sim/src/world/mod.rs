//! The simulated world: typed entities, each with one transition function
//! ([`order::Order::transition`]) that every change goes through, whichever door it came
//! through: a query that makes a scheduled change due, a close, the admin API, the Rust
//! handle. Refunds, parking plates and entrances, and bills join orders here as siblings.
//!
//! The states of an order, as WeChat Pay moves them (the simulator's API routes follow
//! this diagram — a close only turns `NOTPAY` into `CLOSED` — while the admin API and the
//! Rust handle may move an order to any state, on purpose):
//!
//! ```text
//! NOTPAY ──paid──▶ SUCCESS ──refund──▶ REFUND          direct and partner orders
//!   └──close──▶ CLOSED
//! USERPAYING ──▶ SUCCESS | PAYERROR | REVOKED          payment code
//! ACCEPTED ──▶ SUCCESS | PAY_FAIL (FAIL) ──▶ PAY_BACK  parking
//! ```
//!
//! A transition's notification is not sent from here: it waits in the outbox
//! ([`World::take_outbox`]) until the caller has let go of the world, then goes to
//! delivery.

pub(crate) mod bill;
pub(crate) mod codepay;
pub(crate) mod order;
pub(crate) mod parking;
pub(crate) mod prepay;
pub(crate) mod refund;
mod schedule;

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::{Map, Value};

pub(crate) use order::{Notify, Order, TradeState};
pub use order::{OrderError, OrderKind};
pub use refund::RefundMode;
pub use schedule::After;
use schedule::Scheduled;

use crate::credentials::{MCHID, SUB_MCHID};

/// The seed orders (`seeds/orders.json`), in the orders-file format.
const SEEDS: &str = include_str!("../../seeds/orders.json");

/// Which id an order is looked up by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum By<'a> {
    /// `out_trade_no`.
    OutTradeNo(&'a str),
    /// `transaction_id`.
    TransactionId(&'a str),
}

impl By<'_> {
    fn matches(self, order: &Order) -> bool {
        match self {
            By::OutTradeNo(no) => order.out_trade_no == no,
            By::TransactionId(id) => order.transaction_id.as_deref() == Some(id),
        }
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
    Refused(TradeState),
    /// A payment-code order (`MICROPAY`): reversed, never closed.
    Reversible,
    /// No such order.
    Missing,
}

/// Every entity, newest last; lookups prefer the newest, so later orders replace seeds.
#[derive(Debug, Default)]
pub(crate) struct World {
    orders: Vec<Order>,
    bound_sub_mchids: BTreeSet<String>,
    scheduled: Vec<Scheduled>,
    /// Notifications of transitions, waiting for delivery.
    outbox: Vec<Notify>,
    /// Where the simulator is reached (prepay's `h5_url`, notify URLs).
    site: prepay::Site,
    /// Refunds (`refund.rs`).
    refunds: refund::Refunds,
    /// The parking service's plates and entrances.
    pub(crate) parking: parking::Parking,
    /// The bodies of the codepays that created orders.
    codepays: codepay::Codepays,
    /// Issued bill downloads and synthetic bills.
    bills: bill::Bills,
}

impl World {
    /// A world with the seed orders and the seed sub-merchant bound.
    pub(crate) fn seeded() -> Result<Self, OrderError> {
        let mut world = Self::empty();
        world.load_str(SEEDS).map_err(|e| OrderError::new(format!("seed orders: {e}")))?;
        Ok(world)
    }

    /// A world without orders, with the seed sub-merchant bound.
    pub(crate) fn empty() -> Self {
        let mut world = Self::default();
        world.bound_sub_mchids.insert(SUB_MCHID.to_owned());
        world
    }

    /// Adds the orders of an orders file: `{"direct":[...],"partner":[...],"parking":[...]}`,
    /// each as given ([`Order::given`]).
    pub(crate) fn load_str(&mut self, text: &str) -> Result<usize, OrderError> {
        let file: Value =
            serde_json::from_str(text).map_err(|e| OrderError::new(format!("orders file is not JSON: {e}")))?;
        let map = file.as_object().ok_or_else(|| OrderError::new("orders file must be a JSON object"))?;
        if let Some(key) = map.keys().find(|k| OrderKind::from_name(k).is_none()) {
            return Err(OrderError::new(format!("orders file has unknown key {key:?} (direct, partner, parking)")));
        }
        let mut added = 0;
        for kind in OrderKind::ALL {
            let Some(list) = map.get(kind.file_key()) else { continue };
            let list = list
                .as_array()
                .ok_or_else(|| OrderError::new(format!("orders file: {:?} must be an array", kind.file_key())))?;
            for (i, json) in list.iter().enumerate() {
                let order = Order::given(kind, json.clone())
                    .map_err(|e| OrderError::new(format!("orders file: {}[{i}]: {e}", kind.file_key())))?;
                self.add(order);
                added += 1;
            }
        }
        Ok(added)
    }

    /// Adds one order. A partner or parking order of the simulated service provider binds
    /// its `sub_mchid`.
    pub(crate) fn add(&mut self, order: Order) {
        if let Some(sub) = &order.sub_mchid {
            if order.kind != OrderKind::Direct && order.sp_mchid.as_deref().is_none_or(|sp| sp == MCHID) {
                self.bound_sub_mchids.insert(sub.clone());
            }
        }
        self.orders.push(order);
    }

    /// Whether `sub_mchid` is bound to the simulated service provider.
    pub(crate) fn is_bound(&self, sub_mchid: &str) -> bool {
        self.bound_sub_mchids.contains(sub_mchid)
    }

    /// Binds a sub-merchant to the simulated service provider.
    pub(crate) fn bind(&mut self, sub_mchid: String) {
        self.bound_sub_mchids.insert(sub_mchid);
    }

    /// The notifications of the transitions so far, oldest first; the outbox is empty after.
    pub(crate) fn take_outbox(&mut self) -> Vec<Notify> {
        std::mem::take(&mut self.outbox)
    }

    fn position(&self, kind: OrderKind, matches: impl Fn(&Order) -> bool) -> Option<usize> {
        self.orders.iter().rposition(|o| o.kind == kind && matches(o))
    }

    /// The newest order of `kind` numbered `out_trade_no`.
    fn numbered(&self, kind: OrderKind, out_trade_no: &str) -> Option<usize> {
        self.position(kind, |o| o.out_trade_no == out_trade_no)
    }

    /// Order `index` through its transition function; its notification, if any, to the
    /// outbox.
    fn transition(
        &mut self,
        index: usize,
        to: TradeState,
        fields: Map<String, Value>,
    ) -> Result<order::Transitioned, OrderError> {
        let mut done = self.orders[index].transition(to, fields, crate::clock::now())?;
        if let Some(notify) = done.notify.take() {
            self.outbox.push(notify.clone());
            done.notify = Some(notify);
        }
        Ok(done)
    }

    /// The newest order of `kind` for which `matches` holds, as served bytes, after the
    /// changes due for it by this query.
    fn find(&mut self, kind: OrderKind, matches: impl Fn(&Order) -> bool) -> Option<std::sync::Arc<[u8]>> {
        let index = self.position(kind, matches)?;
        self.advance(index, true);
        Some(self.orders[index].bytes())
    }

    /// Applies the scheduled changes of order `index` that a request (`query`, or a close
    /// or a look from the admin API) makes due, in the order they were scheduled.
    fn advance(&mut self, index: usize, query: bool) {
        if self.scheduled.is_empty() {
            return;
        }
        let (kind, no) = (self.orders[index].kind, self.orders[index].out_trade_no.clone());
        let now = Instant::now();
        let mut due = Vec::new();
        self.scheduled.retain_mut(|t| {
            let fire = t.is_for(kind, &no) && t.due(query, now);
            if fire {
                due.push(t.to().clone());
            }
            !fire
        });
        for state in due {
            // Without fields a transition cannot fail.
            let _ = self.transition(index, state, Map::new());
        }
    }

    /// Schedules a change of the newest order of `kind` numbered `out_trade_no` to `state`.
    pub(crate) fn schedule(
        &mut self,
        kind: OrderKind,
        out_trade_no: &str,
        state: TradeState,
        after: After,
    ) -> Result<(), OrderError> {
        if self.numbered(kind, out_trade_no).is_none() {
            return Err(OrderError::new(format!("no {} order {out_trade_no:?} to change", kind.file_key())));
        }
        self.scheduled.push(Scheduled::new(kind, out_trade_no, state, after, Instant::now()));
        Ok(())
    }

    /// Closes the newest order of `kind` for which `matches` holds (changes due first): a
    /// `NOTPAY` order becomes `CLOSED` and its pending changes are dropped.
    fn close(&mut self, kind: OrderKind, matches: impl Fn(&Order) -> bool) -> CloseResult {
        let Some(index) = self.position(kind, matches) else { return CloseResult::Missing };
        self.advance(index, false);
        // A payment-code order is reversed, never closed. (A paid seed order keeps its
        // older answer, `ORDER_PAID`; one a codepay created is always "only reversible".)
        let order = &self.orders[index];
        let paid = matches!(order.trade_state, Some(TradeState::Success | TradeState::Refund));
        if order.trade_type.as_deref() == Some("MICROPAY")
            && (!paid || self.codepays.created(kind, &order.out_trade_no))
        {
            return CloseResult::Reversible;
        }
        match self.orders[index].trade_state.clone() {
            Some(TradeState::NotPay) => {
                let _ = self.transition(index, TradeState::Closed, Map::new());
                let no = self.orders[index].out_trade_no.clone();
                self.scheduled.retain(|t| !t.is_for(kind, &no));
                CloseResult::Closed
            }
            Some(TradeState::Closed) => CloseResult::AlreadyClosed,
            other => CloseResult::Refused(other.unwrap_or_else(|| TradeState::Unknown(String::new()))),
        }
    }

    /// Closes a direct order of merchant `mchid` by `out_trade_no`.
    pub(crate) fn close_direct(&mut self, mchid: &str, out_trade_no: &str) -> CloseResult {
        self.close(OrderKind::Direct, direct_match(mchid, By::OutTradeNo(out_trade_no)))
    }

    /// Closes a partner order of `sp_mchid`/`sub_mchid` by `out_trade_no`.
    pub(crate) fn close_partner(&mut self, sp_mchid: &str, sub_mchid: &str, out_trade_no: &str) -> CloseResult {
        self.close(OrderKind::Partner, partner_match(sp_mchid, sub_mchid, By::OutTradeNo(out_trade_no)))
    }

    /// A direct order of merchant `mchid`.
    pub(crate) fn direct(&mut self, mchid: &str, by: By<'_>) -> Option<std::sync::Arc<[u8]>> {
        self.find(OrderKind::Direct, direct_match(mchid, by))
    }

    /// A partner order of `sp_mchid`/`sub_mchid`.
    pub(crate) fn partner(&mut self, sp_mchid: &str, sub_mchid: &str, by: By<'_>) -> Option<std::sync::Arc<[u8]>> {
        self.find(OrderKind::Partner, partner_match(sp_mchid, sub_mchid, by))
    }

    /// A parking order by `out_trade_no`: of `sub_mchid` when given; otherwise any whose
    /// `sp_mchid` (if present) is the caller.
    pub(crate) fn parking(
        &mut self,
        caller: &str,
        sub_mchid: Option<&str>,
        out_trade_no: &str,
    ) -> Option<std::sync::Arc<[u8]>> {
        self.find(OrderKind::Parking, |o| {
            o.out_trade_no == out_trade_no
                && match sub_mchid {
                    Some(sub) => o.sub_mchid.as_deref() == Some(sub),
                    None => o.sp_mchid.as_deref().is_none_or(|m| m == caller),
                }
        })
    }

    /// The newest order of `kind` numbered `out_trade_no` as stored (changes due by delay
    /// applied first).
    pub(crate) fn get(&mut self, kind: OrderKind, out_trade_no: &str) -> Option<Value> {
        let index = self.numbered(kind, out_trade_no)?;
        self.advance(index, false);
        Some(self.orders[index].admin_json())
    }

    /// Moves the newest order of `kind` numbered `out_trade_no` through its transition
    /// function to `state` with `fields` set over it; `None` when there is no such order.
    pub(crate) fn update(
        &mut self,
        kind: OrderKind,
        out_trade_no: &str,
        state: TradeState,
        fields: Map<String, Value>,
    ) -> Option<Result<Value, OrderError>> {
        let index = self.numbered(kind, out_trade_no)?;
        self.advance(index, false);
        Some(self.transition(index, state, fields).map(|_| self.orders[index].admin_json()))
    }

    /// How many orders are stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.orders.len()
    }
}

/// A direct order of merchant `mchid` (or of no named merchant).
fn direct_match(mchid: &str, by: By<'_>) -> impl Fn(&Order) -> bool {
    move |o| by.matches(o) && o.mchid.as_deref().is_none_or(|m| m == mchid)
}

/// A partner order of `sp_mchid`/`sub_mchid`.
fn partner_match<'a>(sp: &'a str, sub: &'a str, by: By<'a>) -> impl Fn(&Order) -> bool + 'a {
    move |o| by.matches(o) && o.sub_mchid.as_deref() == Some(sub) && o.sp_mchid.as_deref().is_none_or(|m| m == sp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_load_and_answer_lookups() {
        let mut book = World::seeded().unwrap();
        assert!(book.len() >= 10);
        let seed = book.direct(MCHID, By::OutTradeNo("1217752501201407033233368018")).unwrap();
        let json: Value = serde_json::from_slice(&seed).unwrap();
        assert_eq!(json["transaction_id"], "4200000985202103031441826014");
        assert!(book.direct(MCHID, By::TransactionId("4200000985202103031441826014")).is_some());
        assert!(book.direct("1", By::OutTradeNo("1217752501201407033233368018")).is_none());
        assert!(book.partner(MCHID, SUB_MCHID, By::OutTradeNo("1217752501201407033233368018")).is_some());
        assert!(book.partner(MCHID, "1900000110", By::OutTradeNo("1217752501201407033233368018")).is_none());
        assert!(book.parking(MCHID, Some(SUB_MCHID), "20150806125346").is_some());
        assert!(book.parking(MCHID, None, "SIM_PARKING_0001").is_some());
        assert!(book.is_bound(SUB_MCHID));
    }

    #[test]
    fn later_orders_win_and_bad_ones_are_refused() {
        let mut book = World::seeded().unwrap();
        let order = serde_json::json!({"mchid": MCHID, "out_trade_no": "SIM_NOTPAY_0001", "trade_state": "SUCCESS",
            "trade_state_desc": "changed"});
        book.add(Order::from_json(OrderKind::Direct, order).unwrap());
        let got: Value =
            serde_json::from_slice(&book.direct(MCHID, By::OutTradeNo("SIM_NOTPAY_0001")).unwrap()).unwrap();
        assert_eq!(got["trade_state"], "SUCCESS");
        assert!(Order::from_json(OrderKind::Direct, Value::Null).is_err());
        book.add(
            Order::from_json(OrderKind::Partner, serde_json::json!({"out_trade_no": "x", "sub_mchid": "1900000200"}))
                .unwrap(),
        );
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
        let mut book = World::seeded().unwrap();
        assert_eq!(book.close_direct(MCHID, "SIM_NOTPAY_0001"), CloseResult::Closed);
        let closed = book.direct(MCHID, By::OutTradeNo("SIM_NOTPAY_0001")).unwrap();
        assert_eq!(state(&closed), ("CLOSED".to_owned(), "订单已关闭".to_owned()));
        assert_eq!(book.close_direct(MCHID, "SIM_NOTPAY_0001"), CloseResult::AlreadyClosed);
        let paid = "1217752501201407033233368018";
        assert_eq!(book.close_direct(MCHID, paid), CloseResult::Refused(TradeState::Success));
        assert_eq!(state(&book.direct(MCHID, By::OutTradeNo(paid)).unwrap()).0, "SUCCESS");
        assert_eq!(book.close_direct("1", "SIM_NOTPAY_0001"), CloseResult::Missing);
        assert_eq!(book.close_direct(MCHID, "NOPE"), CloseResult::Missing);
        assert_eq!(book.close_partner(MCHID, "1900000110", paid), CloseResult::Missing);
    }

    #[test]
    fn scheduled_changes_come_after_n_queries_and_a_close_cancels_them() {
        let mut book = World::seeded().unwrap();
        assert!(book.schedule(OrderKind::Direct, "NOPE", TradeState::Success, After::Queries(1)).is_err());
        book.schedule(OrderKind::Direct, "SIM_NOTPAY_0001", TradeState::Success, After::Queries(2)).unwrap();
        let ask = |book: &mut World| state(&book.direct(MCHID, By::OutTradeNo("SIM_NOTPAY_0001")).unwrap()).0;
        assert_eq!(ask(&mut book), "NOTPAY");
        assert_eq!(ask(&mut book), "NOTPAY");
        assert_eq!(ask(&mut book), "SUCCESS");
        assert_eq!(ask(&mut book), "SUCCESS");
        // Paid: it has a transaction id now, and by it the order is found.
        let v: Value = serde_json::from_slice(&book.direct(MCHID, By::OutTradeNo("SIM_NOTPAY_0001")).unwrap()).unwrap();
        let id = v["transaction_id"].as_str().unwrap().to_owned();
        assert_eq!((id.len(), id.bytes().all(|b| b.is_ascii_digit())), (28, true));
        assert!(book.direct(MCHID, By::TransactionId(&id)).is_some());

        // A close before the change is due cancels it.
        book.schedule(OrderKind::Parking, "SIM_PARKING_0001", TradeState::Success, After::Queries(0)).unwrap();
        book.schedule(OrderKind::Direct, "SIM_CLOSED_0001", TradeState::Success, After::Queries(5)).unwrap();
        let mut fresh = World::seeded().unwrap();
        fresh.schedule(OrderKind::Direct, "SIM_NOTPAY_0001", TradeState::Success, After::Queries(1)).unwrap();
        assert_eq!(fresh.close_direct(MCHID, "SIM_NOTPAY_0001"), CloseResult::Closed);
        for _ in 0..3 {
            assert_eq!(state(&fresh.direct(MCHID, By::OutTradeNo("SIM_NOTPAY_0001")).unwrap()).0, "CLOSED");
        }
        // Parking orders change their own description field.
        let parked = book.parking(MCHID, None, "SIM_PARKING_0001").unwrap();
        assert_eq!(state(&parked), ("SUCCESS".to_owned(), "支付成功".to_owned()));
    }

    #[test]
    fn a_due_delay_is_seen_by_a_close() {
        let mut book = World::seeded().unwrap();
        book.schedule(
            OrderKind::Direct,
            "SIM_NOTPAY_0001",
            TradeState::Success,
            After::Delay(std::time::Duration::ZERO),
        )
        .unwrap();
        assert_eq!(book.close_direct(MCHID, "SIM_NOTPAY_0001"), CloseResult::Refused(TradeState::Success));
    }
}
