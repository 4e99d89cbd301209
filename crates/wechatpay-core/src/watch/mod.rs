//! Asking until the answer is final (PROTOCOL.md §10): the pure watch policy, what each trade state
//! means for it, and what a watch ends with.
//!
//! [`Verdict::of`] judges an order's latest verified state: pending (ask again), final, or
//! unknown (a state this version does not know: the watch ends and reports it as it is, never
//! spinning on what it cannot judge). [`WatchPolicy::decide`] turns a verdict, the time
//! elapsed since the watch began and the policy's deadline into a [`WatchDecision`]: done,
//! wait and ask again, deadline reached, or — with
//! [`close_if_unpaid`](WatchPolicy::close_if_unpaid) and only for a `NOTPAY` order — close,
//! then query once more to confirm. The loop that runs the policy over a transport is
//! [`crate::transport::Driver::watch`] (blocking) and [`crate::transport::Driver::watch_async`].
//!
//! The rhythm (PROTOCOL.md §10): a `USERPAYING` order (a payment-code charge waiting for the user's
//! password) is asked every 5 s for the first 45 s of the watch; `NOTPAY` and parking's
//! `ACCEPTED` back off: the waits are 5 s, 10 s, 30 s, then 60 s, counted from the start of
//! the watch (asked at about 5 s, 15 s, 45 s, 105 s, 165 s, ...). A fixed interval replaces
//! both. Every wait is cut short so that the last question is asked at the deadline, and no
//! wait is shorter than [`MIN_INTERVAL`].
//!
//! # The loop
//!
//! Each question is one [`crate::transport::Driver::execute`] call, with its own retries (PROTOCOL.md §5). The
//! loop asks, judges the verified answer ([`WatchedOrder::verdict`]), asks the policy,
//! sleeps, and asks again; at the deadline it may close and confirm. A query that fails
//! after its retries ends the watch with that error: the watch never spins on failures, and
//! never reports a state it could not verify. A close answered with a WeChat Pay error (say,
//! the user paid a moment before) is still followed by the confirming query: a final or
//! unknown answer is the result ([`WatchEnd::Final`], [`WatchEnd::Unknown`]), a still-pending
//! one returns the close's error. After a successful close the confirming answer is the
//! result whatever it says ([`WatchEnd::Closed`]).
//!
//! # Tracing
//!
//! A watch runs in a `wechatpay.watch` span (field `operation`); each query is a
//! `wechatpay.call` inside it. An `info` event marks each change of state (fields
//! `trade_state`, escaped, `queries`, `elapsed_ms`), the deadline, and the close; `debug`
//! events mark each wait (`delay_ms`).
//!
//! ```
//! use std::time::Duration;
//! use wechatpay_core::model::TradeState;
//! use wechatpay_core::watch::{Verdict, WatchDecision, WatchPolicy};
//!
//! let policy = WatchPolicy::default().with_deadline(Duration::from_secs(60)).with_close_if_unpaid(true);
//! let unpaid = Verdict::of_trade_state(&TradeState::NotPay);
//! assert_eq!(policy.decide(&unpaid, Duration::ZERO), WatchDecision::Wait(Duration::from_secs(5)));
//! assert_eq!(policy.decide(&unpaid, Duration::from_secs(60)), WatchDecision::CloseThenConfirm);
//! let paid = Verdict::of_trade_state(&TradeState::Success);
//! assert_eq!(policy.decide(&paid, Duration::from_secs(7)), WatchDecision::Done);
//! ```

mod run;

use std::time::Duration;

use crate::api::{CloseOrder, ClosePartnerOrder, Operation, QueryOrderByOutTradeNo, QueryOrderByTransactionId};
use crate::api::{QueryParkingOrder, QueryPartnerOrderByOutTradeNo, QueryPartnerOrderByTransactionId, QueryRefund};
use crate::ids::{InvalidInput, OutTradeNo};
use crate::model::{
    ParkingTradeState, ParkingTransaction, PartnerTransaction, Refund, RefundStatus, TradeState, Transaction,
};

pub use run::StateChange;

/// The shortest wait between two questions about one order: 100 ms.
///
/// WeChat Pay rate-limits queries per merchant (`429 FREQUENCY_LIMITED`) and publishes no
/// number for them (unconfirmed); one watch asking at most ten times a second cannot be what
/// trips a limit sized for a merchant's whole traffic, and a `429` that does come is retried
/// inside the query with §5's longer backoff. The floor also keeps a zero interval (or a
/// zero step of a custom backoff) from turning a watch into a busy loop.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// Why an order is still pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pending {
    /// `NOTPAY`: waiting for the user to pay. The only state a watch may close.
    NotPay,
    /// `USERPAYING`: a payment-code charge waiting for the user's password.
    UserPaying,
    /// Parking's `ACCEPTED`: the deduction is in progress.
    Accepted,
    /// A refund's `PROCESSING`: the refund is in flight. Asked at
    /// [`WatchPolicy::backoff_then`] (60 s by default: PROTOCOL.md §15 asks for a minute
    /// between questions) unless a fixed interval is set.
    Processing,
}

/// What an order's latest verified state means for a watch (PROTOCOL.md §10's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verdict {
    /// Ask again.
    Pending(Pending),
    /// The answer is final: `SUCCESS`, `REFUND`, `CLOSED`, `REVOKED`, `PAYERROR` (direct and
    /// partner), `SUCCESS`, `PAY_FAIL`, `REFUND` (parking), `SUCCESS`, `CLOSED`, `ABNORMAL`
    /// (refunds).
    Final,
    /// A state this version does not know: reported as it is, never asked about again.
    Unknown,
}

impl Verdict {
    /// The verdict on a direct or partner order's `trade_state`.
    pub fn of_trade_state(state: &TradeState) -> Verdict {
        match state {
            TradeState::NotPay => Verdict::Pending(Pending::NotPay),
            TradeState::UserPaying => Verdict::Pending(Pending::UserPaying),
            TradeState::Success
            | TradeState::Refund
            | TradeState::Closed
            | TradeState::Revoked
            | TradeState::PayError => Verdict::Final,
            TradeState::Unknown(_) => Verdict::Unknown,
        }
    }

    /// The verdict on a parking order's `trade_state`.
    pub fn of_parking_state(state: &ParkingTradeState) -> Verdict {
        match state {
            ParkingTradeState::Accepted | ParkingTradeState::Accept => Verdict::Pending(Pending::Accepted),
            ParkingTradeState::Success
            | ParkingTradeState::PayFail
            | ParkingTradeState::Fail
            | ParkingTradeState::Refund => Verdict::Final,
            ParkingTradeState::Unknown(_) => Verdict::Unknown,
        }
    }

    /// The verdict on a refund's `status`: `PROCESSING` pending; `SUCCESS`, `CLOSED` and
    /// `ABNORMAL` final (`ABNORMAL` needs action — an abnormal refund or the console — and
    /// ends the watch; PROTOCOL.md §15).
    pub fn of_refund_status(status: &RefundStatus) -> Verdict {
        match status {
            RefundStatus::Processing => Verdict::Pending(Pending::Processing),
            RefundStatus::Success | RefundStatus::Closed | RefundStatus::Abnormal => Verdict::Final,
            RefundStatus::Unknown(_) => Verdict::Unknown,
        }
    }

    /// The verdict on `order`'s state.
    pub fn of(order: &impl WatchedOrder) -> Verdict {
        order.verdict()
    }
}

/// An order (or a refund) a watch can judge: it has a state.
pub trait WatchedOrder {
    /// The state as WeChat Pay spelled it (`trade_state`; a refund's `status`): untrusted
    /// text, escape it before printing.
    fn trade_state(&self) -> &str;
    /// What the state means for a watch.
    fn verdict(&self) -> Verdict;
}

impl WatchedOrder for Transaction {
    fn trade_state(&self) -> &str {
        self.trade_state.as_str()
    }
    fn verdict(&self) -> Verdict {
        Verdict::of_trade_state(&self.trade_state)
    }
}

impl WatchedOrder for PartnerTransaction {
    fn trade_state(&self) -> &str {
        self.trade_state.as_str()
    }
    fn verdict(&self) -> Verdict {
        Verdict::of_trade_state(&self.trade_state)
    }
}

impl WatchedOrder for ParkingTransaction {
    fn trade_state(&self) -> &str {
        self.trade_state.as_str()
    }
    fn verdict(&self) -> Verdict {
        Verdict::of_parking_state(&self.trade_state)
    }
}

impl WatchedOrder for Refund {
    fn trade_state(&self) -> &str {
        self.status.as_str()
    }
    fn verdict(&self) -> Verdict {
        Verdict::of_refund_status(&self.status)
    }
}

/// A query a watch can repeat, and how to close the order it asks about.
pub trait WatchQuery: Operation<Output: WatchedOrder> {
    /// The operation that closes the order.
    type Close: Operation;

    /// The close for `order` (this query's verified answer), or `None` where such orders
    /// cannot be closed (parking). A close goes by merchant order number, so a query by
    /// transaction id takes it from the answer.
    ///
    /// # Errors
    /// [`InvalidInput`] when the answer's `out_trade_no` is not a valid order number.
    fn close_for(&self, order: &Self::Output) -> Result<Option<Self::Close>, InvalidInput>;
}

impl WatchQuery for QueryOrderByOutTradeNo {
    type Close = CloseOrder;
    fn close_for(&self, _order: &Transaction) -> Result<Option<CloseOrder>, InvalidInput> {
        Ok(Some(CloseOrder { out_trade_no: self.out_trade_no.clone() }))
    }
}

impl WatchQuery for QueryOrderByTransactionId {
    type Close = CloseOrder;
    fn close_for(&self, order: &Transaction) -> Result<Option<CloseOrder>, InvalidInput> {
        Ok(Some(CloseOrder { out_trade_no: OutTradeNo::new(order.out_trade_no.as_str())? }))
    }
}

impl WatchQuery for QueryPartnerOrderByOutTradeNo {
    type Close = ClosePartnerOrder;
    fn close_for(&self, _order: &PartnerTransaction) -> Result<Option<ClosePartnerOrder>, InvalidInput> {
        Ok(Some(ClosePartnerOrder { sub_mchid: self.sub_mchid.clone(), out_trade_no: self.out_trade_no.clone() }))
    }
}

impl WatchQuery for QueryPartnerOrderByTransactionId {
    type Close = ClosePartnerOrder;
    fn close_for(&self, order: &PartnerTransaction) -> Result<Option<ClosePartnerOrder>, InvalidInput> {
        let out_trade_no = OutTradeNo::new(order.out_trade_no.as_str())?;
        Ok(Some(ClosePartnerOrder { sub_mchid: self.sub_mchid.clone(), out_trade_no }))
    }
}

impl WatchQuery for QueryParkingOrder {
    /// Never used: parking orders have no close.
    type Close = CloseOrder;
    fn close_for(&self, _order: &ParkingTransaction) -> Result<Option<CloseOrder>, InvalidInput> {
        Ok(None)
    }
}

impl WatchQuery for QueryRefund {
    /// Never used: a refund has no close.
    type Close = CloseOrder;
    fn close_for(&self, _refund: &Refund) -> Result<Option<CloseOrder>, InvalidInput> {
        Ok(None)
    }
}

/// What to do after an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchDecision {
    /// Stop: the state is final or unknown.
    Done,
    /// Wait this long, then ask again.
    Wait(Duration),
    /// Stop: the deadline has come and the order is still pending.
    DeadlineReached,
    /// The deadline has come and the order is `NOTPAY`: close it, then query once more; that
    /// answer is the result.
    CloseThenConfirm,
}

/// How long and how often to ask. Start from [`WatchPolicy::default`] and adjust with the
/// `with_…` methods (or assign the public fields).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchPolicy {
    /// How long to keep asking, from the first question: no wait goes past it, and the
    /// answer at (or just after) it is the last.
    pub deadline: Duration,
    /// Ask at this fixed interval instead of the rhythm below.
    pub fixed_interval: Option<Duration>,
    /// The wait while an order is `USERPAYING`.
    pub user_paying_interval: Duration,
    /// How long into the watch `USERPAYING` keeps its own rhythm; later, it backs off.
    pub user_paying_for: Duration,
    /// The waits while an order is `NOTPAY` or `ACCEPTED`, in order, counted from the start
    /// of the watch; after the last, [`WatchPolicy::backoff_then`].
    pub backoff: Vec<Duration>,
    /// The wait once the backoff steps are used up.
    pub backoff_then: Duration,
    /// At the deadline, close a `NOTPAY` order and query it once more.
    pub close_if_unpaid: bool,
}

impl Default for WatchPolicy {
    /// 60 s deadline; `USERPAYING` every 5 s for 45 s; `NOTPAY`/`ACCEPTED` after 5 s, 10 s,
    /// 30 s, then every 60 s; no close.
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(60),
            fixed_interval: None,
            user_paying_interval: Duration::from_secs(5),
            user_paying_for: Duration::from_secs(45),
            backoff: vec![Duration::from_secs(5), Duration::from_secs(10), Duration::from_secs(30)],
            backoff_then: Duration::from_secs(60),
            close_if_unpaid: false,
        }
    }
}

impl WatchPolicy {
    /// Sets [`WatchPolicy::deadline`].
    pub fn with_deadline(self, deadline: Duration) -> Self {
        Self { deadline, ..self }
    }

    /// Asks every `interval` (at least [`MIN_INTERVAL`]) whatever the pending state.
    pub fn with_fixed_interval(self, interval: Duration) -> Self {
        Self { fixed_interval: Some(interval), ..self }
    }

    /// Sets the `USERPAYING` rhythm: every `interval` for the first `for_` of the watch.
    pub fn with_user_paying(self, interval: Duration, for_: Duration) -> Self {
        Self { user_paying_interval: interval, user_paying_for: for_, ..self }
    }

    /// Sets the `NOTPAY`/`ACCEPTED` backoff: the `steps`, then every `then`.
    pub fn with_backoff(self, steps: impl Into<Vec<Duration>>, then: Duration) -> Self {
        Self { backoff: steps.into(), backoff_then: then, ..self }
    }

    /// Sets [`WatchPolicy::close_if_unpaid`].
    pub fn with_close_if_unpaid(self, close: bool) -> Self {
        Self { close_if_unpaid: close, ..self }
    }

    /// Decides after an answer judged `verdict`, `elapsed` after the watch began.
    ///
    /// Final and unknown states are done whatever the time. A pending order waits for the
    /// rhythm's next step, cut to end at the deadline and never shorter than
    /// [`MIN_INTERVAL`]; at the deadline it is [`WatchDecision::DeadlineReached`], or
    /// [`WatchDecision::CloseThenConfirm`] when closing is on and the order is `NOTPAY` —
    /// never for any other state.
    pub fn decide(&self, verdict: &Verdict, elapsed: Duration) -> WatchDecision {
        let pending = match verdict {
            Verdict::Final | Verdict::Unknown => return WatchDecision::Done,
            Verdict::Pending(pending) => *pending,
        };
        if elapsed >= self.deadline {
            return if self.close_if_unpaid && pending == Pending::NotPay {
                WatchDecision::CloseThenConfirm
            } else {
                WatchDecision::DeadlineReached
            };
        }
        let left = self.deadline - elapsed;
        WatchDecision::Wait(self.rhythm(pending, elapsed).min(left).max(MIN_INTERVAL))
    }

    /// The next wait for `pending` at `elapsed`, before the deadline and the floor.
    fn rhythm(&self, pending: Pending, elapsed: Duration) -> Duration {
        if let Some(fixed) = self.fixed_interval {
            return fixed;
        }
        if pending == Pending::UserPaying && elapsed < self.user_paying_for {
            return self.user_paying_interval;
        }
        if pending == Pending::Processing {
            return self.backoff_then;
        }
        // Step i is taken while the watch is younger than the sum of steps 0..=i, so a slow
        // answer moves the watch along the steps rather than repeating one.
        let mut until = Duration::ZERO;
        for step in &self.backoff {
            until = until.saturating_add(*step);
            if elapsed < until {
                return *step;
            }
        }
        self.backoff_then
    }
}

/// Why a watch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WatchEnd {
    /// The order reached a final state.
    Final,
    /// The order is in a state this version does not know.
    Unknown,
    /// The deadline came and the order is still pending.
    Deadline,
    /// The deadline came, the `NOTPAY` order was closed, and the order is what the query
    /// after the close said (usually `CLOSED`; `SUCCESS` if the user paid in the meantime).
    Closed,
}

/// How a watch ended: the last verified answer and why it is the last.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct WatchOutcome<T> {
    /// The last verified answer.
    pub order: T,
    /// Why the watch stopped.
    pub end: WatchEnd,
    /// How many queries were answered (the close not counted).
    pub queries: u32,
    /// How long the watch took.
    pub elapsed: Duration,
}

#[cfg(test)]
mod tests;
