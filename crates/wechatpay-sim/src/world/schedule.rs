//! Orders that change over time: a scheduled change of `trade_state`, due after a number of
//! queries of the order or after a delay, so a client's watch loop can be tested end to end.

use std::time::{Duration, Instant};

use super::order::{OrderKind, TradeState};

/// When a scheduled change of state happens ([`crate::Simulator::schedule`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// The next `n` queries of the order answer its current state; the one after (and
    /// every later one) answers the new state. `Queries(0)`: from the next query on.
    Queries(u32),
    /// From this long after scheduling on: the first request about the order (a query or a
    /// close) at or after that moment sees the new state.
    Delay(Duration),
}

/// A change waiting to happen to the newest order of `kind` numbered `out_trade_no`.
#[derive(Debug)]
pub(crate) struct Scheduled {
    kind: OrderKind,
    out_trade_no: String,
    to: TradeState,
    after: After,
    since: Instant,
    queries: u32,
}

impl Scheduled {
    pub(crate) fn new(kind: OrderKind, out_trade_no: &str, to: TradeState, after: After, now: Instant) -> Self {
        Self { kind, out_trade_no: out_trade_no.to_owned(), to, after, since: now, queries: 0 }
    }

    /// Whether this change is for the order of `kind` numbered `out_trade_no`.
    pub(crate) fn is_for(&self, kind: OrderKind, out_trade_no: &str) -> bool {
        self.kind == kind && self.out_trade_no == out_trade_no
    }

    /// The state it changes to.
    pub(crate) fn to(&self) -> &TradeState {
        &self.to
    }

    /// Notes a request about the order (`query`: a query, else a close) at `now` and says
    /// whether the change is due before it is answered.
    pub(crate) fn due(&mut self, query: bool, now: Instant) -> bool {
        match self.after {
            After::Queries(n) => {
                if query {
                    self.queries = self.queries.saturating_add(1);
                }
                self.queries > n
            }
            After::Delay(d) => now.saturating_duration_since(self.since) >= d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_count_only_queries_and_the_change_comes_after_n() {
        let now = Instant::now();
        let mut t = Scheduled::new(OrderKind::Direct, "A", TradeState::Success, After::Queries(2), now);
        assert!(
            t.is_for(OrderKind::Direct, "A") && !t.is_for(OrderKind::Partner, "A") && !t.is_for(OrderKind::Direct, "B")
        );
        assert!(!t.due(true, now));
        assert!(!t.due(false, now), "a close is not a query");
        assert!(!t.due(true, now));
        assert!(t.due(true, now));
        let mut at_once = Scheduled::new(OrderKind::Direct, "A", TradeState::Closed, After::Queries(0), now);
        assert!(at_once.due(true, now));
        assert_eq!(at_once.to(), &TradeState::Closed);
    }

    #[test]
    fn delays_are_due_from_their_moment_for_any_request() {
        let now = Instant::now();
        let mut t =
            Scheduled::new(OrderKind::Parking, "P", TradeState::Success, After::Delay(Duration::from_secs(2)), now);
        assert!(!t.due(true, now + Duration::from_millis(1999)));
        assert!(t.due(false, now + Duration::from_secs(2)));
    }
}
