//! The watch loop over a transport: [`Driver::watch`] and [`Driver::watch_async`]; its
//! rules are in the [`crate::watch`] module docs.

use std::future::Future;
use std::time::{Duration, Instant};

use tracing::Instrument as _;

use super::{Verdict, WatchDecision, WatchEnd, WatchOutcome, WatchPolicy, WatchQuery, WatchedOrder};
use crate::error::Error;
use crate::transport::{AsyncTransport, Driver, Transport};
use crate::untrusted;

/// A change of an order's state seen by a watch (its first answer is one too).
#[derive(Debug)]
#[non_exhaustive]
pub struct StateChange<'a, T> {
    /// The verified answer with the new state.
    pub order: &'a T,
    /// The state before, `None` for the first answer (untrusted text, as received).
    pub previous: Option<&'a str>,
    /// Time since the watch began.
    pub elapsed: Duration,
}

impl Driver {
    /// Watches the order `op` asks about until its state is final or unknown, or the
    /// policy's deadline comes (closing a `NOTPAY` order then, if the policy says so), over a
    /// blocking `transport`. `sleep` waits between questions and between a query's retries;
    /// `on_change` hears of every change of state.
    ///
    /// # Errors
    /// The error of a query (or of a close) that failed after its retries; see the
    /// [module docs](crate::watch#the-loop).
    pub fn watch<Q: WatchQuery>(
        &self,
        transport: &impl Transport,
        mut sleep: impl FnMut(Duration),
        op: &Q,
        policy: &WatchPolicy,
        mut on_change: impl FnMut(&StateChange<'_, Q::Output>),
    ) -> Result<WatchOutcome<Q::Output>, Error> {
        let mut watch = Watching::new(op, policy);
        let _in_watch = watch.span.clone().entered();
        let mut step = Step::Query;
        loop {
            step = match step {
                Step::Query => watch.answered(self.execute(transport, &mut sleep, op), &mut on_change),
                Step::Wait(delay) => {
                    sleep(delay);
                    Step::Query
                }
                Step::Close(close) => watch.closed(self.execute(transport, &mut sleep, &close).map(drop)),
                Step::Done(result) => return result,
            };
        }
    }

    /// Watches as [`Driver::watch`] does over an async `transport`; `sleep` returns the
    /// future to await (e.g. `tokio::time::sleep`).
    ///
    /// # Errors
    /// As [`Driver::watch`].
    pub async fn watch_async<Q, T, S, F>(
        &self,
        transport: &T,
        sleep: S,
        op: &Q,
        policy: &WatchPolicy,
        mut on_change: impl FnMut(&StateChange<'_, Q::Output>),
    ) -> Result<WatchOutcome<Q::Output>, Error>
    where
        Q: WatchQuery,
        T: AsyncTransport,
        S: Fn(Duration) -> F,
        F: Future<Output = ()>,
    {
        let mut watch = Watching::new(op, policy);
        let span = watch.span.clone();
        async move {
            let mut step = Step::Query;
            loop {
                step = match step {
                    Step::Query => {
                        let answer = self.execute_async(transport, &sleep, op).await;
                        watch.answered(answer, &mut on_change)
                    }
                    Step::Wait(delay) => {
                        sleep(delay).await;
                        Step::Query
                    }
                    Step::Close(close) => {
                        let closed = self.execute_async(transport, &sleep, &close).await;
                        watch.closed(closed.map(drop))
                    }
                    Step::Done(result) => return result,
                };
            }
        }
        .instrument(span)
        .await
    }
}

/// What the loop does next.
enum Step<Q: WatchQuery> {
    /// Ask.
    Query,
    /// Sleep, then ask.
    Wait(Duration),
    /// Close, then ask once more.
    Close(Q::Close),
    /// Stop.
    Done(Result<WatchOutcome<Q::Output>, Error>),
}

/// The state of one watch.
struct Watching<'a, Q: WatchQuery> {
    op: &'a Q,
    policy: &'a WatchPolicy,
    span: tracing::Span,
    started: Instant,
    queries: u32,
    state: Option<String>,
    /// Set once the close was sent: the next answer is the last.
    confirming: bool,
    /// The close's error, if WeChat Pay refused it.
    close_error: Option<Error>,
}

impl<'a, Q: WatchQuery> Watching<'a, Q> {
    fn new(op: &'a Q, policy: &'a WatchPolicy) -> Self {
        Self {
            op,
            policy,
            span: tracing::info_span!("wechatpay.watch", operation = Q::NAME),
            started: Instant::now(),
            queries: 0,
            state: None,
            confirming: false,
            close_error: None,
        }
    }

    /// Judges a query's result.
    fn answered(
        &mut self,
        result: Result<Q::Output, Error>,
        on_change: &mut impl FnMut(&StateChange<'_, Q::Output>),
    ) -> Step<Q> {
        let order = match result {
            Ok(order) => order,
            Err(err) => return Step::Done(Err(err)),
        };
        self.queries += 1;
        let elapsed = self.started.elapsed();
        self.note_state(&order, elapsed, on_change);
        let verdict = order.verdict();
        if self.confirming {
            let end = match (verdict, self.close_error.take()) {
                (_, None) => WatchEnd::Closed,
                (Verdict::Final, Some(_)) => WatchEnd::Final,
                (Verdict::Unknown, Some(_)) => WatchEnd::Unknown,
                (_, Some(err)) => return Step::Done(Err(err)),
            };
            return self.done(order, end);
        }
        match self.policy.decide(&verdict, elapsed) {
            WatchDecision::Done if verdict == Verdict::Final => self.done(order, WatchEnd::Final),
            WatchDecision::Done => self.done(order, WatchEnd::Unknown),
            WatchDecision::Wait(delay) => {
                tracing::debug!(delay_ms = millis(delay), "order pending; asking again");
                Step::Wait(delay)
            }
            WatchDecision::DeadlineReached => {
                tracing::info!(queries = self.queries, "deadline reached; order still pending");
                self.done(order, WatchEnd::Deadline)
            }
            WatchDecision::CloseThenConfirm => match self.op.close_for(&order) {
                Ok(Some(close)) => {
                    tracing::info!(queries = self.queries, "deadline reached; closing the unpaid order");
                    Step::Close(close)
                }
                Ok(None) => self.done(order, WatchEnd::Deadline),
                Err(invalid) => Step::Done(Err(invalid.into())),
            },
        }
    }

    /// Judges the close's result: ask once more, or stop on an error that is not an answer.
    fn closed(&mut self, result: Result<(), Error>) -> Step<Q> {
        match result {
            Ok(()) => tracing::info!("order closed; confirming"),
            Err(err @ Error::Api(_)) => {
                tracing::info!(error = err.label(), code = err.api_code(), "close refused; confirming");
                self.close_error = Some(err);
            }
            Err(err) => return Step::Done(Err(err)),
        }
        self.confirming = true;
        Step::Query
    }

    /// Reports a change of state (traced, and to `on_change`).
    fn note_state(
        &mut self,
        order: &Q::Output,
        elapsed: Duration,
        on_change: &mut impl FnMut(&StateChange<'_, Q::Output>),
    ) {
        let state = order.trade_state();
        if self.state.as_deref() == Some(state) {
            return;
        }
        tracing::info!(
            trade_state = %untrusted::printable(state).max_chars(64),
            queries = self.queries,
            elapsed_ms = millis(elapsed),
            "order state changed"
        );
        on_change(&StateChange { order, previous: self.state.as_deref(), elapsed });
        self.state = Some(state.to_owned());
    }

    fn done(&self, order: Q::Output, end: WatchEnd) -> Step<Q> {
        Step::Done(Ok(WatchOutcome { order, end, queries: self.queries, elapsed: self.started.elapsed() }))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
