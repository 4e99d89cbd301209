//! Payment-code orders (PROTOCOL.md §14): the codepay that creates one, scripted by the last
//! digit of the auth code, its idempotency, and the reverse.
//!
//! | last digit | behaviour |
//! |---|---|
//! | `0`, `7`, `8`, `9` | `200`, paid at once |
//! | `1` | `202` USERPAYING; `SUCCESS` at the order's 2nd query |
//! | `2` | `202` USERPAYING; `PAYERROR` at the order's 2nd query |
//! | `3` | `202` USERPAYING; stays so until reversed |
//! | `4` | `403 NOT_ENOUGH`; no order |
//! | `5` | `500 SYSTEM_ERROR`, but the order is paid |
//! | `6` | the answer is held 5 s (then `200`); the order is paid at once |
//!
//! A payment-code order has no notify URL: it never notifies.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::order::{Order, OrderKind, TradeState};
use super::schedule::After;
use super::{World, direct_match, partner_match};
use crate::world::By;

/// How long a code ending in `6` holds its answer.
pub(crate) const HOLD: Duration = Duration::from_secs(5);

/// What the payer does, scripted by the auth code's last digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Script {
    PaidAtOnce,
    PaidAtSecondQuery,
    FailsAtSecondQuery,
    PaysNever,
    NotEnough,
    SystemErrorButPaid,
    HeldThenPaid,
}

impl Script {
    /// The script of an 18-digit auth code.
    pub(crate) fn of(auth_code: &str) -> Script {
        match auth_code.bytes().last() {
            Some(b'1') => Script::PaidAtSecondQuery,
            Some(b'2') => Script::FailsAtSecondQuery,
            Some(b'3') => Script::PaysNever,
            Some(b'4') => Script::NotEnough,
            Some(b'5') => Script::SystemErrorButPaid,
            Some(b'6') => Script::HeldThenPaid,
            _ => Script::PaidAtOnce,
        }
    }
}

/// A verified codepay, its fields checked by the route.
#[derive(Clone, Debug)]
pub(crate) struct CodepayRequest {
    pub kind: OrderKind,
    pub caller: String,
    pub sub_mchid: Option<String>,
    pub out_trade_no: String,
    pub auth_code: String,
    /// The order as it will be stored: ids, amount, description, attach.
    pub order: Value,
    /// The body as parsed (compared for a repeat).
    pub body: Value,
}

/// What the codepay answers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CodepayAnswer {
    /// `200` with the order.
    Paid(std::sync::Arc<[u8]>),
    /// `202 {"trade_state":"USERPAYING"}`.
    UserPaying,
    /// `403 NOT_ENOUGH`.
    NotEnough,
    /// `500 SYSTEM_ERROR` (the order is paid anyway).
    SystemError,
    /// `403 OUT_TRADE_NO_USED`: the number was used with another body.
    NumberUsed,
    /// The order exists and is in this other state (a repeat of a finished charge).
    Finished(TradeState),
}

/// The bodies of the codepays that created orders, by kind and number.
#[derive(Debug, Default)]
pub(crate) struct Codepays {
    bodies: HashMap<(String, String), Value>,
}

impl Codepays {
    /// Whether a codepay created the order of `kind` numbered `out_trade_no`.
    pub(crate) fn created(&self, kind: OrderKind, out_trade_no: &str) -> bool {
        self.bodies.contains_key(&(kind.file_key().to_owned(), out_trade_no.to_owned()))
    }
}

/// What a reverse did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReverseResult {
    /// The order is `REVOKED` now (or was already).
    Revoked,
    /// No such order.
    Missing,
    /// Not a payment-code order, or in a state that cannot be reversed.
    Refused(String),
}

impl World {
    /// Serves a codepay: creates the order as its auth code scripts it, or answers a repeat.
    pub(crate) fn codepay(&mut self, req: CodepayRequest) -> CodepayAnswer {
        let key = (req.kind.file_key().to_owned(), req.out_trade_no.clone());
        let existing = match (req.kind, req.sub_mchid.as_deref()) {
            (OrderKind::Partner, Some(sub)) => {
                self.position(req.kind, partner_match(&req.caller, sub, By::OutTradeNo(&req.out_trade_no)))
            }
            _ => self.position(req.kind, direct_match(&req.caller, By::OutTradeNo(&req.out_trade_no))),
        };
        if let Some(index) = existing {
            if self.codepays.bodies.get(&key) != Some(&req.body) {
                return CodepayAnswer::NumberUsed;
            }
            self.advance(index, false);
            return match self.orders[index].trade_state.clone() {
                Some(TradeState::Success) => CodepayAnswer::Paid(self.orders[index].bytes()),
                Some(TradeState::UserPaying) => CodepayAnswer::UserPaying,
                other => CodepayAnswer::Finished(other.unwrap_or_else(|| TradeState::Unknown(String::new()))),
            };
        }
        let script = Script::of(&req.auth_code);
        if script == Script::NotEnough {
            return CodepayAnswer::NotEnough;
        }
        let paid = matches!(script, Script::PaidAtOnce | Script::SystemErrorButPaid | Script::HeldThenPaid);
        let state = if paid { TradeState::Success } else { TradeState::UserPaying };
        let mut json = req.order;
        if let Value::Object(map) = &mut json {
            map.insert("trade_type".into(), json!("MICROPAY"));
            map.insert("trade_state".into(), json!(state.as_str()));
        }
        let Ok(mut order) = Order::from_json(req.kind, json) else { return CodepayAnswer::SystemError };
        order.complete(crate::clock::now());
        let bytes = order.bytes();
        self.add(order);
        self.codepays.bodies.insert(key, req.body);
        let then = match script {
            Script::PaidAtSecondQuery => Some(TradeState::Success),
            Script::FailsAtSecondQuery => Some(TradeState::PayError),
            _ => None,
        };
        if let Some(then) = then {
            let _ = self.schedule(req.kind, &req.out_trade_no, then, After::Queries(1));
        }
        match script {
            Script::SystemErrorButPaid => CodepayAnswer::SystemError,
            _ if paid => CodepayAnswer::Paid(bytes),
            _ => CodepayAnswer::UserPaying,
        }
    }

    /// Reverses the payment-code order of `kind` numbered `out_trade_no` of `caller` (and
    /// `sub_mchid`): `USERPAYING`, `NOTPAY`, `PAYERROR` and `SUCCESS` (the money goes back)
    /// become `REVOKED`; `REVOKED` stays so (reentrant). Pending scheduled changes are
    /// dropped.
    pub(crate) fn reverse(
        &mut self,
        kind: OrderKind,
        caller: &str,
        sub_mchid: Option<&str>,
        out_trade_no: &str,
    ) -> ReverseResult {
        let index = match (kind, sub_mchid) {
            (OrderKind::Partner, Some(sub)) => {
                self.position(kind, partner_match(caller, sub, By::OutTradeNo(out_trade_no)))
            }
            _ => self.position(kind, direct_match(caller, By::OutTradeNo(out_trade_no))),
        };
        let Some(index) = index else { return ReverseResult::Missing };
        self.advance(index, false);
        if self.orders[index].trade_type.as_deref() != Some("MICROPAY") {
            return ReverseResult::Refused(
                "只有付款码支付的订单可以撤销 (only payment-code orders are reversed)".into(),
            );
        }
        match self.orders[index].trade_state.clone() {
            Some(TradeState::Revoked) => ReverseResult::Revoked,
            Some(TradeState::UserPaying | TradeState::NotPay | TradeState::PayError | TradeState::Success) => {
                let _ = self.transition(index, TradeState::Revoked, Map::new());
                self.scheduled.retain(|t| !t.is_for(kind, out_trade_no));
                ReverseResult::Revoked
            }
            other => ReverseResult::Refused(format!(
                "订单状态不允许撤销 (a {} order cannot be reversed)",
                other.as_ref().map_or("", TradeState::as_str)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::MCHID;

    fn request(no: &str, code: &str) -> CodepayRequest {
        let body = json!({"out_trade_no": no, "payer": {"auth_code": code}});
        CodepayRequest {
            kind: OrderKind::Direct,
            caller: MCHID.to_owned(),
            sub_mchid: None,
            out_trade_no: no.to_owned(),
            auth_code: code.to_owned(),
            order: json!({"out_trade_no": no, "mchid": MCHID, "appid": "wxd678efh567hg6787", "amount": {"total": 5}}),
            body,
        }
    }

    fn state(world: &mut World, no: &str) -> String {
        let v: Value = serde_json::from_slice(&world.direct(MCHID, By::OutTradeNo(no)).unwrap()).unwrap();
        v["trade_state"].as_str().unwrap().to_owned()
    }

    #[test]
    fn every_last_digit_scripts_the_payer() {
        let mut w = World::empty();
        assert!(matches!(w.codepay(request("C0", "134567890123456780")), CodepayAnswer::Paid(_)));
        assert_eq!(state(&mut w, "C0"), "SUCCESS");
        assert!(matches!(w.codepay(request("C9", "134567890123456789")), CodepayAnswer::Paid(_)));
        assert_eq!(w.codepay(request("C1", "134567890123456781")), CodepayAnswer::UserPaying);
        assert_eq!((state(&mut w, "C1"), state(&mut w, "C1")), ("USERPAYING".into(), "SUCCESS".into()));
        assert_eq!(w.codepay(request("C2", "134567890123456782")), CodepayAnswer::UserPaying);
        assert_eq!((state(&mut w, "C2"), state(&mut w, "C2")), ("USERPAYING".into(), "PAYERROR".into()));
        assert_eq!(w.codepay(request("C3", "134567890123456783")), CodepayAnswer::UserPaying);
        for _ in 0..5 {
            assert_eq!(state(&mut w, "C3"), "USERPAYING");
        }
        assert_eq!(w.codepay(request("C4", "134567890123456784")), CodepayAnswer::NotEnough);
        assert!(w.direct(MCHID, By::OutTradeNo("C4")).is_none());
        assert_eq!(w.codepay(request("C5", "134567890123456785")), CodepayAnswer::SystemError);
        assert_eq!(state(&mut w, "C5"), "SUCCESS");
        assert!(matches!(w.codepay(request("C6", "134567890123456786")), CodepayAnswer::Paid(_)));
        let v: Value = serde_json::from_slice(&w.direct(MCHID, By::OutTradeNo("C6")).unwrap()).unwrap();
        assert_eq!(v["trade_type"], "MICROPAY");
        assert!(w.take_outbox().is_empty(), "payment-code orders never notify");
    }

    #[test]
    fn repeats_answer_the_current_state_and_another_body_is_refused() {
        let mut w = World::empty();
        assert_eq!(w.codepay(request("R1", "134567890123456781")), CodepayAnswer::UserPaying);
        assert_eq!(w.codepay(request("R1", "134567890123456781")), CodepayAnswer::UserPaying);
        assert_eq!(w.codepay(request("R1", "134567890123456780")), CodepayAnswer::NumberUsed);
        state(&mut w, "R1");
        state(&mut w, "R1");
        assert!(matches!(w.codepay(request("R1", "134567890123456781")), CodepayAnswer::Paid(_)));
    }

    #[test]
    fn reverse_revokes_reentrantly_and_only_payment_code_orders() {
        let mut w = World::seeded().unwrap();
        w.codepay(request("V3", "134567890123456783"));
        assert_eq!(w.reverse(OrderKind::Direct, MCHID, None, "V3"), ReverseResult::Revoked);
        assert_eq!(state(&mut w, "V3"), "REVOKED");
        assert_eq!(w.reverse(OrderKind::Direct, MCHID, None, "V3"), ReverseResult::Revoked);
        w.codepay(request("V0", "134567890123456780"));
        assert_eq!(w.reverse(OrderKind::Direct, MCHID, None, "V0"), ReverseResult::Revoked, "paid: money back");
        w.codepay(request("V1", "134567890123456781"));
        assert_eq!(w.reverse(OrderKind::Direct, MCHID, None, "V1"), ReverseResult::Revoked);
        assert_eq!(
            (state(&mut w, "V1"), state(&mut w, "V1")),
            ("REVOKED".into(), "REVOKED".into()),
            "schedule dropped"
        );
        assert_eq!(w.reverse(OrderKind::Direct, MCHID, None, "NOPE"), ReverseResult::Missing);
        assert!(matches!(w.reverse(OrderKind::Direct, MCHID, None, "SIM_NOTPAY_0001"), ReverseResult::Refused(_)));
    }
}
