//! The charge loop over a transport: [`Driver::charge`] and [`Driver::charge_async`]; its
//! rules are in the [`crate::charge`] module docs. The loop only sends and sleeps: every
//! decision is the [`ChargeMachine`]'s.

use std::future::Future;
use std::time::{Duration, Instant};

use http::StatusCode;
use tracing::Instrument as _;

use super::{ChargeAction, ChargeCodepay, ChargeEnd, ChargeMachine, ChargeOutcome, ChargePolicy, Judgement, Seen};
use crate::api::CodepayOutcome;
use crate::error::{Error, TransportErrorKind};
use crate::transport::{AsyncTransport, Driver, Transport};
use crate::untrusted;
use crate::watch::WatchedOrder;

/// One step of a charge, as it happens.
#[derive(Debug)]
#[non_exhaustive]
pub struct ChargeStep<'a, T> {
    /// Time since the codepay was sent.
    pub elapsed: Duration,
    /// What happened.
    pub event: ChargeEvent<'a, T>,
}

/// What happened in a step. Order states are untrusted text: escape them before printing.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChargeEvent<'a, T> {
    /// The codepay answered `200` with this verified order.
    CodepayAnswered(&'a T),
    /// The codepay answered `202`: the user is paying.
    CodepayUserPaying,
    /// The codepay failed; `refused`: with a business error, or before it reached WeChat Pay
    /// (the charge ends, nothing charged); otherwise the outcome is unknown and the charge
    /// queries.
    CodepayFailed {
        /// The error.
        error: &'a Error,
        /// Whether it is final (nothing charged).
        refused: bool,
    },
    /// A query answered.
    Queried {
        /// The verified order.
        order: &'a T,
        /// The state before (the last verified one), if any.
        previous: Option<&'a str>,
    },
    /// A query failed (the charge asks again, or reverses at the deadline).
    QueryFailed(&'a Error),
    /// The deadline came with the order still pending (`state`: the last verified state, if
    /// any): reversing.
    Reversing {
        /// The last verified state.
        state: Option<&'a str>,
    },
    /// A reverse failed without an answer (it is sent again while the policy allows).
    ReverseFailed(&'a Error),
    /// The reverse was answered: `Ok` (`2xx`) or a business error; the order is queried once more.
    Reversed(Result<(), &'a Error>),
    /// The query after the reverse answered.
    Confirmed(&'a T),
    /// The query after the reverse failed.
    ConfirmFailed(&'a Error),
}

impl Driver {
    /// Charges a payment code to a known end over a blocking `transport` (the rules are in
    /// [`crate::charge`]): the codepay once, then queries, and a reverse if the deadline
    /// comes. `sleep` waits between steps and between a call's retries; `on_step` hears of
    /// every step.
    ///
    /// # Errors
    /// Only when nothing was charged: the codepay was invalid, refused with a business `4xx`,
    /// or never reached WeChat Pay. Everything else ends in a [`ChargeOutcome`];
    /// [`ChargeOutcome::Unresolved`] must be escalated.
    pub fn charge<C: ChargeCodepay>(
        &self,
        transport: &impl Transport,
        mut sleep: impl FnMut(Duration),
        op: &C,
        policy: &ChargePolicy,
        mut on_step: impl FnMut(&ChargeStep<'_, C::Order>),
    ) -> Result<ChargeOutcome<C::Order>, Error> {
        let mut charge = Charging::new(policy);
        let _in_charge = tracing::info_span!("wechatpay.charge", operation = C::NAME).entered();
        let answer = self.execute(transport, &mut sleep, op);
        let mut next = charge.codepay(answer, &mut on_step);
        loop {
            next = match next {
                ChargeAction::Query { after } => {
                    sleep(after);
                    charge.queried(self.execute(transport, &mut sleep, &op.query()), &mut on_step)
                }
                ChargeAction::Reverse { after } => {
                    if !after.is_zero() {
                        sleep(after);
                    }
                    charge.reversing(&mut on_step);
                    charge.reversed(self.execute(transport, &mut sleep, &op.reverse()), &mut on_step)
                }
                ChargeAction::Confirm => charge.queried(self.execute(transport, &mut sleep, &op.query()), &mut on_step),
                ChargeAction::Finish(end) => return charge.finish(end),
            };
        }
    }

    /// Charges as [`Driver::charge`] does over an async `transport`; `sleep` returns the
    /// future to await (e.g. `tokio::time::sleep`).
    ///
    /// # Errors
    /// As [`Driver::charge`].
    pub async fn charge_async<C, T, S, F>(
        &self,
        transport: &T,
        sleep: S,
        op: &C,
        policy: &ChargePolicy,
        mut on_step: impl FnMut(&ChargeStep<'_, C::Order>),
    ) -> Result<ChargeOutcome<C::Order>, Error>
    where
        C: ChargeCodepay,
        T: AsyncTransport,
        S: Fn(Duration) -> F,
        F: Future<Output = ()>,
    {
        let span = tracing::info_span!("wechatpay.charge", operation = C::NAME);
        async move {
            let mut charge = Charging::new(policy);
            let answer = self.execute_async(transport, &sleep, op).await;
            let mut next = charge.codepay(answer, &mut on_step);
            loop {
                next = match next {
                    ChargeAction::Query { after } => {
                        sleep(after).await;
                        let answer = self.execute_async(transport, &sleep, &op.query()).await;
                        charge.queried(answer, &mut on_step)
                    }
                    ChargeAction::Reverse { after } => {
                        if !after.is_zero() {
                            sleep(after).await;
                        }
                        charge.reversing(&mut on_step);
                        let answer = self.execute_async(transport, &sleep, &op.reverse()).await;
                        charge.reversed(answer, &mut on_step)
                    }
                    ChargeAction::Confirm => {
                        let answer = self.execute_async(transport, &sleep, &op.query()).await;
                        charge.queried(answer, &mut on_step)
                    }
                    ChargeAction::Finish(end) => return charge.finish(end),
                };
            }
        }
        .instrument(span)
        .await
    }
}

/// The state of one charge around its machine: the clock, the last verified order and the
/// last error.
struct Charging<T> {
    machine: ChargeMachine,
    started: Instant,
    last_known: Option<T>,
    last_error: Option<Error>,
    state: Option<String>,
    /// Whether the reverse of this round was already announced.
    announced: bool,
}

impl<T: WatchedOrder> Charging<T> {
    fn new(policy: &ChargePolicy) -> Self {
        Self {
            machine: ChargeMachine::new(policy.clone()),
            started: Instant::now(),
            last_known: None,
            last_error: None,
            state: None,
            announced: false,
        }
    }

    fn step(&self, event: ChargeEvent<'_, T>, on_step: &mut impl FnMut(&ChargeStep<'_, T>)) {
        on_step(&ChargeStep { elapsed: self.started.elapsed(), event });
    }

    /// Keeps a verified order as the last known, with its state. An answer before the
    /// reverse clears the last error; the confirming one keeps the reverse's refusal.
    fn keep(&mut self, order: T) -> Judgement {
        let judgement = Judgement::of(&order);
        self.state = Some(order.trade_state().to_owned());
        self.last_known = Some(order);
        if !self.machine.confirming() {
            self.last_error = None;
        }
        judgement
    }

    fn codepay(
        &mut self,
        answer: Result<CodepayOutcome<T>, Error>,
        on_step: &mut impl FnMut(&ChargeStep<'_, T>),
    ) -> ChargeAction {
        let seen = match answer {
            Ok(CodepayOutcome::Paid(order)) => {
                self.step(ChargeEvent::CodepayAnswered(&order), on_step);
                trace_state("codepay answered", order.trade_state(), self.started.elapsed());
                Seen::Order(self.keep(order))
            }
            Ok(CodepayOutcome::UserPaying) => {
                self.step(ChargeEvent::CodepayUserPaying, on_step);
                self.state = Some("USERPAYING".to_owned());
                trace_state("codepay answered", "USERPAYING", self.started.elapsed());
                Seen::UserPaying
            }
            Err(error) => {
                let refused = codepay_refused(&error);
                self.step(ChargeEvent::CodepayFailed { error: &error, refused }, on_step);
                tracing::info!(step = "codepay failed", error = error.label(), code = error.api_code(), refused);
                self.last_error = Some(error);
                if refused { Seen::Refused } else { Seen::Unanswered }
            }
        };
        self.machine.next(seen, self.started.elapsed())
    }

    /// A query's answer (also the confirming one after a reverse).
    fn queried(&mut self, answer: Result<T, Error>, on_step: &mut impl FnMut(&ChargeStep<'_, T>)) -> ChargeAction {
        let confirming = self.machine.confirming();
        let seen = match answer {
            Ok(order) => {
                let previous = self.state.take();
                if confirming {
                    self.step(ChargeEvent::Confirmed(&order), on_step);
                } else {
                    self.step(ChargeEvent::Queried { order: &order, previous: previous.as_deref() }, on_step);
                }
                trace_state(
                    if confirming { "confirmed" } else { "queried" },
                    order.trade_state(),
                    self.started.elapsed(),
                );
                let judgement = self.keep(order);
                Seen::Order(judgement)
            }
            Err(error) => {
                if confirming {
                    self.step(ChargeEvent::ConfirmFailed(&error), on_step);
                } else {
                    self.step(ChargeEvent::QueryFailed(&error), on_step);
                }
                tracing::info!(step = "query failed", error = error.label(), code = error.api_code());
                self.last_error = Some(error);
                Seen::Unanswered
            }
        };
        self.machine.next(seen, self.started.elapsed())
    }

    /// Announces the reverse (once per round of reverses).
    fn reversing(&mut self, on_step: &mut impl FnMut(&ChargeStep<'_, T>)) {
        if !self.announced {
            self.announced = true;
            self.step(ChargeEvent::Reversing { state: self.state.as_deref() }, on_step);
            tracing::info!(step = "reversing", elapsed_ms = millis(self.started.elapsed()));
        }
    }

    fn reversed<R>(&mut self, answer: Result<R, Error>, on_step: &mut impl FnMut(&ChargeStep<'_, T>)) -> ChargeAction {
        let seen = match answer {
            Ok(_) => {
                self.step(ChargeEvent::Reversed(Ok(())), on_step);
                tracing::info!(step = "reversed", elapsed_ms = millis(self.started.elapsed()));
                Seen::ReverseAnswered
            }
            Err(error) if is_business_refusal(&error) => {
                self.step(ChargeEvent::Reversed(Err(&error)), on_step);
                tracing::info!(step = "reverse refused", code = error.api_code());
                self.last_error = Some(error);
                Seen::ReverseAnswered
            }
            Err(error) => {
                self.step(ChargeEvent::ReverseFailed(&error), on_step);
                tracing::info!(step = "reverse failed", error = error.label());
                self.last_error = Some(error);
                Seen::Unanswered
            }
        };
        self.machine.next(seen, self.started.elapsed())
    }

    fn finish(&mut self, end: ChargeEnd) -> Result<ChargeOutcome<T>, Error> {
        let (last_known, last_error) = (self.last_known.take(), self.last_error.take());
        match (end, last_known, last_error) {
            (ChargeEnd::Paid, Some(order), _) => Ok(ChargeOutcome::Paid(order)),
            (ChargeEnd::NotPaid, Some(order), _) => Ok(ChargeOutcome::NotPaid(order)),
            (ChargeEnd::Refused, _, Some(error)) => Err(error),
            (_, last_known, error) => {
                tracing::warn!(
                    trade_state =
                        last_known.as_ref().map(|o| untrusted::printable(o.trade_state()).max_chars(64).to_string()),
                    error = error.as_ref().map(Error::label),
                    "charge UNRESOLVED: query the order and reverse it again"
                );
                Ok(ChargeOutcome::Unresolved { last_known, error })
            }
        }
    }
}

/// Whether a codepay error is final: nothing was charged.
fn codepay_refused(error: &Error) -> bool {
    match error {
        Error::InvalidInput(_) | Error::Key(_) | Error::Sign(_) => true,
        Error::Transport(t) => {
            matches!(t.kind(), TransportErrorKind::Dns | TransportErrorKind::Connect | TransportErrorKind::Tls)
        }
        _ => is_business_refusal(error) && !matches!(error.api_code(), Some("USERPAYING" | "USER_PAYING")),
    }
}

/// A verified WeChat Pay error answer with a `4xx` status other than `429`. An unsigned (or
/// badly signed) error proves nothing about the money, so it is not final: the charge asks.
fn is_business_refusal(error: &Error) -> bool {
    matches!(error, Error::Api(e)
        if e.verified && e.status.is_client_error() && e.status != StatusCode::TOO_MANY_REQUESTS)
}

fn trace_state(step: &'static str, state: &str, elapsed: Duration) {
    tracing::info!(step, trade_state = %untrusted::printable(state).max_chars(64), elapsed_ms = millis(elapsed));
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
