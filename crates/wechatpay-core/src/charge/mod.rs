//! A payment-code charge at the till, to a known end (PROTOCOL.md §14): the pure
//! [`ChargePolicy`] and its state machine, [`ChargeMachine`]; the loop that runs it over a
//! transport is [`crate::transport::Driver::charge`] (blocking) and
//! [`crate::transport::Driver::charge_async`].
//!
//! # The rules
//!
//! 1. The codepay is sent **once**. It is not idempotent: after a `202` (`USERPAYING`), a
//!    `5xx`, a `429`, a timeout or any failure that may have reached WeChat Pay, the charge
//!    never sends it again, it queries by `out_trade_no`.
//! 2. A **signed** `4xx` business error on the codepay (`NOT_ENOUGH`, `PARAM_ERROR`, …), or a
//!    failure that proves it never arrived (DNS, connect, TLS), is final: nothing was charged;
//!    no query, no reverse. The charge returns that error. An unsigned `4xx` proves nothing
//!    (anyone on the path could write one): the charge goes on as after a `5xx`.
//! 3. Otherwise it queries every [`interval`](ChargePolicy::interval) (5 s) until the
//!    [`deadline`](ChargePolicy::deadline) (45 s from the codepay): `SUCCESS` → paid;
//!    `PAYERROR`, `REVOKED`, `CLOSED` → not paid; `USERPAYING`, `NOTPAY`, `ORDER_NOT_EXIST`
//!    and failed queries → ask again.
//! 4. Still pending or unanswered at the deadline → reverse (after at least one query: a
//!    codepay that answers only at the deadline is followed by one query first), but never sooner than
//!    [`reverse_delay`](ChargePolicy::reverse_delay) (15 s) after the codepay. A reverse that
//!    fails (transport, `5xx`, `429`) is sent again every interval for
//!    [`reverse_for`](ChargePolicy::reverse_for) (30 s); a `2xx` or a signed business `4xx`
//!    is its answer.
//! 5. After the reverse answers, query once more and report that state: `SUCCESS` → paid,
//!    `PAYERROR`/`REVOKED`/`CLOSED` → not paid, anything else → **unresolved**.
//! 6. A state the charge cannot judge (`REFUND`, or one this version does not know) ends it
//!    unresolved at once: money is never guessed.
//!
//! [`ChargeOutcome::Unresolved`] is the one end a till must escalate: the payment may or may
//! not have been taken, and the reverse could not be confirmed — query the order and reverse
//! it again (or hand it to a person) before the customer leaves.
//!
//! ```
//! use std::time::Duration;
//! use wechatpay_core::charge::{ChargeAction, ChargeEnd, ChargeMachine, ChargePolicy, Judgement, Seen};
//!
//! let mut charge = ChargeMachine::new(ChargePolicy::default());
//! let secs = Duration::from_secs;
//! // The codepay answered 202: ask in 5 s.
//! assert_eq!(charge.next(Seen::UserPaying, secs(0)), ChargeAction::Query { after: secs(5) });
//! assert_eq!(charge.next(Seen::Order(Judgement::Pending), secs(5)), ChargeAction::Query { after: secs(5) });
//! // Still paying at 45 s: reverse now, then confirm.
//! assert_eq!(charge.next(Seen::Order(Judgement::Pending), secs(45)), ChargeAction::Reverse { after: secs(0) });
//! assert_eq!(charge.next(Seen::ReverseAnswered, secs(45)), ChargeAction::Confirm);
//! assert_eq!(charge.next(Seen::Order(Judgement::NotPaid), secs(46)), ChargeAction::Finish(ChargeEnd::NotPaid));
//! ```
//!
//! # Tracing
//!
//! A charge runs in a `wechatpay.charge` span (field `operation`); each call is a
//! `wechatpay.call` inside it. An `info` event marks each step (`step`, `trade_state`
//! escaped, `elapsed_ms`), a `warn` event an unresolved end.

mod run;

use std::time::Duration;

use crate::api::{
    Codepay, CodepayOutcome, Operation, PartnerCodepay, PartnerReverse, QueryOrderByOutTradeNo,
    QueryPartnerOrderByOutTradeNo, Reverse, Reversed,
};
use crate::error::Error;
use crate::ids::OutTradeNo;
use crate::model::{PartnerTransaction, TradeState, Transaction};
use crate::watch::{MIN_INTERVAL, WatchedOrder};

pub use run::{ChargeEvent, ChargeStep};

/// How often to ask, when to give up asking, and how to reverse. Start from
/// [`ChargePolicy::default`] and adjust with the `with_…` methods.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChargePolicy {
    /// The wait between questions (at least [`MIN_INTERVAL`]), and between reverses.
    pub interval: Duration,
    /// How long after the codepay to keep asking; still pending then → reverse.
    pub deadline: Duration,
    /// The reverse is never sent sooner than this after the codepay.
    pub reverse_delay: Duration,
    /// How long to keep sending a reverse that fails, from the first.
    pub reverse_for: Duration,
}

impl Default for ChargePolicy {
    /// Every 5 s until 45 s; reverse not before 15 s, and for up to 30 s.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            deadline: Duration::from_secs(45),
            reverse_delay: Duration::from_secs(15),
            reverse_for: Duration::from_secs(30),
        }
    }
}

impl ChargePolicy {
    /// Sets [`ChargePolicy::interval`].
    pub fn with_interval(self, interval: Duration) -> Self {
        Self { interval, ..self }
    }

    /// Sets [`ChargePolicy::deadline`].
    pub fn with_deadline(self, deadline: Duration) -> Self {
        Self { deadline, ..self }
    }

    /// Sets [`ChargePolicy::reverse_delay`].
    pub fn with_reverse_delay(self, reverse_delay: Duration) -> Self {
        Self { reverse_delay, ..self }
    }

    /// Sets [`ChargePolicy::reverse_for`].
    pub fn with_reverse_for(self, reverse_for: Duration) -> Self {
        Self { reverse_for, ..self }
    }
}

/// What an order's verified `trade_state` means for the money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Judgement {
    /// `SUCCESS`.
    Paid,
    /// `PAYERROR`, `REVOKED`, `CLOSED`.
    NotPaid,
    /// `USERPAYING`, `NOTPAY`: ask again.
    Pending,
    /// `REFUND`, or a state this version does not know: not judged.
    Unjudgeable,
}

impl Judgement {
    /// The judgement on a `trade_state`.
    pub fn of_trade_state(state: &TradeState) -> Judgement {
        match state {
            TradeState::Success => Judgement::Paid,
            TradeState::PayError | TradeState::Revoked | TradeState::Closed => Judgement::NotPaid,
            TradeState::UserPaying | TradeState::NotPay => Judgement::Pending,
            TradeState::Refund | TradeState::Unknown(_) => Judgement::Unjudgeable,
        }
    }

    /// The judgement on `order`'s state.
    pub fn of(order: &impl WatchedOrder) -> Judgement {
        Judgement::of_trade_state(&TradeState::from(order.trade_state()))
    }
}

/// What the loop saw: the machine's input, classified by the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Seen {
    /// A verified order (the codepay's `200`, or a query's answer), judged.
    Order(Judgement),
    /// The codepay's `202`.
    UserPaying,
    /// The codepay was refused with a business `4xx`, or never reached WeChat Pay.
    Refused,
    /// No usable answer: a transport failure, a timeout, a `5xx` or `429`, an answer that
    /// failed verification, `ORDER_NOT_EXIST`, or a reverse that failed.
    Unanswered,
    /// The reverse was answered (`2xx`, or a business `4xx`).
    ReverseAnswered,
}

/// What to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChargeAction {
    /// Wait `after`, then query.
    Query {
        /// The wait.
        after: Duration,
    },
    /// Wait `after`, then reverse.
    Reverse {
        /// The wait.
        after: Duration,
    },
    /// Query once more, now: the answer ends the charge.
    Confirm,
    /// Stop.
    Finish(ChargeEnd),
}

/// How a charge ends, without its data (see [`ChargeOutcome`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChargeEnd {
    /// Paid (`SUCCESS`).
    Paid,
    /// Not paid: `PAYERROR`, `REVOKED`, `CLOSED`.
    NotPaid,
    /// The codepay was refused or never arrived: nothing was charged.
    Refused,
    /// The charge could not be brought to a known state: escalate.
    Unresolved,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Codepay,
    Querying,
    /// Reversing since (or from) this time.
    Reversing(Duration),
    Confirming,
    Done(ChargeEnd),
}

/// The charge as a pure state machine: fed what the loop saw and the time since the codepay
/// was sent, it says what to do next. It holds no clock and does no I/O.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChargeMachine {
    policy: ChargePolicy,
    phase: Phase,
}

impl ChargeMachine {
    /// A charge about to send its codepay.
    pub fn new(policy: ChargePolicy) -> Self {
        Self { policy, phase: Phase::Codepay }
    }

    /// The policy.
    pub fn policy(&self) -> &ChargePolicy {
        &self.policy
    }

    /// Whether the next answer is the confirming query after a reverse.
    pub fn confirming(&self) -> bool {
        self.phase == Phase::Confirming
    }

    /// What to do after seeing `seen`, `elapsed` after the codepay was sent. Once finished,
    /// it stays finished.
    pub fn next(&mut self, seen: Seen, elapsed: Duration) -> ChargeAction {
        let action = match (self.phase, seen) {
            (Phase::Done(end), _) => ChargeAction::Finish(end),
            (Phase::Codepay, Seen::Refused) => ChargeAction::Finish(ChargeEnd::Refused),
            (Phase::Codepay | Phase::Querying, Seen::Order(Judgement::Paid)) => ChargeAction::Finish(ChargeEnd::Paid),
            (Phase::Codepay | Phase::Querying, Seen::Order(Judgement::NotPaid)) => {
                ChargeAction::Finish(ChargeEnd::NotPaid)
            }
            (Phase::Codepay | Phase::Querying, Seen::Order(Judgement::Unjudgeable)) => {
                ChargeAction::Finish(ChargeEnd::Unresolved)
            }
            (Phase::Codepay | Phase::Querying, _) => self.pending(elapsed),
            (Phase::Reversing(_), Seen::ReverseAnswered) => {
                self.phase = Phase::Confirming;
                ChargeAction::Confirm
            }
            (Phase::Reversing(since), Seen::Unanswered) => {
                let until = since.saturating_add(self.policy.reverse_for);
                if elapsed >= until {
                    ChargeAction::Finish(ChargeEnd::Unresolved)
                } else {
                    ChargeAction::Reverse { after: self.policy.interval.min(until - elapsed).max(MIN_INTERVAL) }
                }
            }
            (Phase::Confirming, Seen::Order(Judgement::Paid)) => ChargeAction::Finish(ChargeEnd::Paid),
            (Phase::Confirming, Seen::Order(Judgement::NotPaid)) => ChargeAction::Finish(ChargeEnd::NotPaid),
            // After a reverse, anything but a final state — and anything out of turn — is
            // unresolved.
            (Phase::Confirming | Phase::Reversing(_), _) => ChargeAction::Finish(ChargeEnd::Unresolved),
        };
        if let ChargeAction::Finish(end) = action {
            self.phase = Phase::Done(end);
        }
        action
    }

    /// Still pending `elapsed` after the codepay: ask again before the deadline, reverse at it.
    fn pending(&mut self, elapsed: Duration) -> ChargeAction {
        let policy = &self.policy;
        let asked = self.phase == Phase::Querying;
        self.phase = Phase::Querying;
        if elapsed >= policy.deadline {
            if !asked {
                // A codepay answered (or given up) only at the deadline: ask once first, so
                // that a paid order is found paid rather than reversed.
                return ChargeAction::Query { after: MIN_INTERVAL };
            }
            let from = elapsed.max(policy.reverse_delay);
            self.phase = Phase::Reversing(from);
            return ChargeAction::Reverse { after: from - elapsed };
        }
        ChargeAction::Query { after: policy.interval.min(policy.deadline - elapsed).max(MIN_INTERVAL) }
    }
}

/// How a charge ended ([`crate::transport::Driver::charge`]). A refused codepay is not here: it
/// is the charge's `Err` (nothing was charged).
#[derive(Debug)]
#[non_exhaustive]
pub enum ChargeOutcome<T> {
    /// The verified order, `SUCCESS`: paid.
    Paid(T),
    /// The verified order, `PAYERROR`, `REVOKED` or `CLOSED`: not paid.
    NotPaid(T),
    /// **Escalate**: the charge could not reach a known state — the reverse failed or was
    /// not confirmed, or the order is in a state that cannot be judged. The payment may have
    /// been taken. Query the order and reverse it again, or hand it to a person, before the
    /// customer leaves.
    Unresolved {
        /// The last verified order, if any answer was verified.
        last_known: Option<T>,
        /// The last error, if the end came from one (`None`: the last verified state was
        /// still pending, or could not be judged).
        error: Option<Error>,
    },
}

impl<T> ChargeOutcome<T> {
    /// The end, without its data.
    pub fn end(&self) -> ChargeEnd {
        match self {
            ChargeOutcome::Paid(_) => ChargeEnd::Paid,
            ChargeOutcome::NotPaid(_) => ChargeEnd::NotPaid,
            ChargeOutcome::Unresolved { .. } => ChargeEnd::Unresolved,
        }
    }
}

/// A codepay the charge can follow: its query and its reverse.
pub trait ChargeCodepay: Operation<Output = CodepayOutcome<Self::Order>> {
    /// The order type its answers and queries hold.
    type Order: WatchedOrder + serde::Serialize + serde::de::DeserializeOwned;
    /// The query by `out_trade_no`.
    type Query: Operation<Output = Self::Order>;
    /// The reverse.
    type Reverse: Operation<Output = Reversed>;

    /// The query for this charge's order.
    fn query(&self) -> Self::Query;
    /// The reverse of this charge's order.
    fn reverse(&self) -> Self::Reverse;
    /// The order number.
    fn out_trade_no(&self) -> &OutTradeNo;
}

impl ChargeCodepay for Codepay {
    type Order = Transaction;
    type Query = QueryOrderByOutTradeNo;
    type Reverse = Reverse;
    fn query(&self) -> QueryOrderByOutTradeNo {
        QueryOrderByOutTradeNo { out_trade_no: self.order.out_trade_no().clone() }
    }
    fn reverse(&self) -> Reverse {
        Reverse { appid: self.appid.clone(), out_trade_no: self.order.out_trade_no().clone() }
    }
    fn out_trade_no(&self) -> &OutTradeNo {
        self.order.out_trade_no()
    }
}

impl ChargeCodepay for PartnerCodepay {
    type Order = PartnerTransaction;
    type Query = QueryPartnerOrderByOutTradeNo;
    type Reverse = PartnerReverse;
    fn query(&self) -> QueryPartnerOrderByOutTradeNo {
        QueryPartnerOrderByOutTradeNo {
            sub_mchid: self.ids.sub_mchid.clone(),
            out_trade_no: self.order.out_trade_no().clone(),
        }
    }
    fn reverse(&self) -> PartnerReverse {
        PartnerReverse { ids: self.ids.clone(), out_trade_no: self.order.out_trade_no().clone() }
    }
    fn out_trade_no(&self) -> &OutTradeNo {
        self.order.out_trade_no()
    }
}

#[cfg(test)]
mod tests;
