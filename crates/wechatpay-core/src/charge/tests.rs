//! The charge machine, exhaustively: every state's judgement, every phase's answer to every
//! input, the rhythm, the deadline, the reverse delay and the reverse budget; and, as
//! properties, that it always ends, never reverses early, and never finishes paid or unpaid
//! on anything but a verified order.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

const PAID: Seen = Seen::Order(Judgement::Paid);
const NOT_PAID: Seen = Seen::Order(Judgement::NotPaid);
const PENDING: Seen = Seen::Order(Judgement::Pending);
const ODD: Seen = Seen::Order(Judgement::Unjudgeable);

fn machine() -> ChargeMachine {
    ChargeMachine::new(ChargePolicy::default())
}

fn finish(end: ChargeEnd) -> ChargeAction {
    ChargeAction::Finish(end)
}

#[test]
fn every_trade_state_is_judged_as_the_issue_says() {
    let expected = [
        ("SUCCESS", Judgement::Paid),
        ("REFUND", Judgement::Unjudgeable),
        ("NOTPAY", Judgement::Pending),
        ("CLOSED", Judgement::NotPaid),
        ("REVOKED", Judgement::NotPaid),
        ("USERPAYING", Judgement::Pending),
        ("PAYERROR", Judgement::NotPaid),
    ];
    assert_eq!(TradeState::KNOWN.len(), expected.len(), "a new state needs a judgement here");
    for (wire, judgement) in expected {
        assert_eq!(Judgement::of_trade_state(&TradeState::from(wire)), judgement, "{wire}");
    }
    for odd in ["PARTIAL_REFUND", "", "success"] {
        assert_eq!(Judgement::of_trade_state(&TradeState::from(odd)), Judgement::Unjudgeable, "{odd:?}");
    }
}

#[test]
fn the_codepay_answer_decides_or_starts_the_queries() {
    assert_eq!(machine().next(PAID, ms(300)), finish(ChargeEnd::Paid));
    assert_eq!(machine().next(NOT_PAID, ms(300)), finish(ChargeEnd::NotPaid));
    assert_eq!(machine().next(ODD, ms(300)), finish(ChargeEnd::Unresolved));
    assert_eq!(machine().next(Seen::Refused, ms(300)), finish(ChargeEnd::Refused));
    for seen in [Seen::UserPaying, Seen::Unanswered, PENDING] {
        assert_eq!(machine().next(seen, Duration::ZERO), ChargeAction::Query { after: secs(5) }, "{seen:?}");
    }
    // A codepay held 7 s (a slow answer) still asks 5 s later.
    assert_eq!(machine().next(Seen::Unanswered, secs(7)), ChargeAction::Query { after: secs(5) });
    // One that gives up only after the deadline is followed by one query, then the reverse.
    let mut m = machine();
    assert_eq!(m.next(Seen::Unanswered, secs(50)), ChargeAction::Query { after: MIN_INTERVAL });
    assert_eq!(m.next(PENDING, secs(50)), ChargeAction::Reverse { after: Duration::ZERO });
}

#[test]
fn queries_every_interval_until_the_deadline_then_reverse_and_confirm() {
    let mut m = machine();
    assert_eq!(m.next(Seen::UserPaying, Duration::ZERO), ChargeAction::Query { after: secs(5) });
    for t in (5..45).step_by(5) {
        let seen = if t % 10 == 0 { Seen::Unanswered } else { PENDING };
        assert_eq!(m.next(seen, secs(t)), ChargeAction::Query { after: secs(5) }, "at {t} s");
    }
    // A slow answer: the wait is cut to end at the deadline.
    assert_eq!(m.next(PENDING, ms(42_500)), ChargeAction::Query { after: ms(2_500) });
    // Never shorter than the floor.
    assert_eq!(m.next(PENDING, ms(44_990)), ChargeAction::Query { after: MIN_INTERVAL });
    assert_eq!(m.next(PENDING, secs(45)), ChargeAction::Reverse { after: Duration::ZERO });
    assert!(!m.confirming());
    assert_eq!(m.next(Seen::ReverseAnswered, ms(45_200)), ChargeAction::Confirm);
    assert!(m.confirming());
    assert_eq!(m.next(NOT_PAID, ms(45_400)), finish(ChargeEnd::NotPaid));
    // Finished stays finished.
    assert_eq!(m.next(PAID, secs(50)), finish(ChargeEnd::NotPaid));
}

#[test]
fn a_final_query_answer_ends_the_charge() {
    for (seen, end) in [(PAID, ChargeEnd::Paid), (NOT_PAID, ChargeEnd::NotPaid), (ODD, ChargeEnd::Unresolved)] {
        let mut m = machine();
        m.next(Seen::UserPaying, Duration::ZERO);
        assert_eq!(m.next(seen, secs(5)), finish(end), "{seen:?}");
    }
}

#[test]
fn the_reverse_waits_for_its_delay() {
    let policy = ChargePolicy::default().with_deadline(secs(3)).with_interval(secs(1));
    let mut m = ChargeMachine::new(policy);
    assert_eq!(m.next(Seen::UserPaying, Duration::ZERO), ChargeAction::Query { after: secs(1) });
    assert_eq!(m.next(PENDING, secs(3)), ChargeAction::Reverse { after: secs(12) });
    // A zero delay reverses at the deadline.
    let policy = ChargePolicy::default().with_deadline(secs(3)).with_reverse_delay(Duration::ZERO);
    let mut m = ChargeMachine::new(policy);
    m.next(Seen::UserPaying, Duration::ZERO);
    assert_eq!(m.next(Seen::Unanswered, secs(3)), ChargeAction::Reverse { after: Duration::ZERO });
}

#[test]
fn a_failing_reverse_is_sent_again_until_its_budget_then_unresolved() {
    let mut m = machine();
    m.next(Seen::UserPaying, Duration::ZERO);
    assert_eq!(m.next(Seen::Unanswered, secs(45)), ChargeAction::Reverse { after: Duration::ZERO });
    assert_eq!(m.next(Seen::Unanswered, secs(46)), ChargeAction::Reverse { after: secs(5) });
    assert_eq!(m.next(Seen::Unanswered, secs(72)), ChargeAction::Reverse { after: secs(3) });
    assert_eq!(m.next(Seen::Unanswered, secs(75)), finish(ChargeEnd::Unresolved));

    // Answered in time: confirm.
    let mut m = machine();
    m.next(Seen::UserPaying, Duration::ZERO);
    m.next(PENDING, secs(45));
    m.next(Seen::Unanswered, secs(46));
    assert_eq!(m.next(Seen::ReverseAnswered, secs(51)), ChargeAction::Confirm);
}

#[test]
fn after_the_reverse_only_a_final_state_resolves() {
    for (seen, end) in [
        (PAID, ChargeEnd::Paid),
        (NOT_PAID, ChargeEnd::NotPaid),
        (PENDING, ChargeEnd::Unresolved),
        (ODD, ChargeEnd::Unresolved),
        (Seen::Unanswered, ChargeEnd::Unresolved),
        (Seen::UserPaying, ChargeEnd::Unresolved),
    ] {
        let mut m = machine();
        m.next(Seen::UserPaying, Duration::ZERO);
        m.next(PENDING, secs(45));
        m.next(Seen::ReverseAnswered, secs(45));
        assert_eq!(m.next(seen, secs(46)), finish(end), "{seen:?}");
    }
}

#[test]
fn a_refusal_after_the_codepay_is_only_more_waiting() {
    // `Refused` is the codepay's; a query never produces it, but if it came it is not final.
    let mut m = machine();
    m.next(Seen::UserPaying, Duration::ZERO);
    assert_eq!(m.next(Seen::Refused, secs(5)), ChargeAction::Query { after: secs(5) });
}

fn seen() -> impl Strategy<Value = Seen> {
    prop_oneof![
        Just(PAID),
        Just(NOT_PAID),
        Just(PENDING),
        Just(ODD),
        Just(Seen::UserPaying),
        Just(Seen::Refused),
        Just(Seen::Unanswered),
        Just(Seen::ReverseAnswered),
    ]
}

proptest! {
    /// Run with the loop's own timing: each step's wait passes, plus a random answer time.
    /// The charge always ends within a bound, never reverses before the reverse delay, and
    /// finishes paid or unpaid only on the matching verified order.
    #[test]
    fn it_always_ends_and_never_reverses_early(
        inputs in proptest::collection::vec((seen(), 0u64..3_000), 1..200),
        interval in 0u64..8_000,
        deadline in 0u64..60_000,
        reverse_delay in 0u64..20_000,
        reverse_for in 0u64..40_000,
    ) {
        let policy = ChargePolicy::default()
            .with_interval(ms(interval))
            .with_deadline(ms(deadline))
            .with_reverse_delay(ms(reverse_delay))
            .with_reverse_for(ms(reverse_for));
        let mut m = ChargeMachine::new(policy);
        let mut now = Duration::ZERO;
        let mut ended = false;
        for (seen, took) in inputs {
            now += ms(took);
            match m.next(seen, now) {
                ChargeAction::Query { after } => {
                    prop_assert!(after >= MIN_INTERVAL);
                    now += after;
                }
                ChargeAction::Reverse { after } => {
                    now += after;
                    prop_assert!(now >= ms(reverse_delay), "reversed at {now:?}");
                    prop_assert!(now >= ms(deadline));
                }
                ChargeAction::Confirm => {}
                ChargeAction::Finish(end) => {
                    match end {
                        ChargeEnd::Paid => prop_assert_eq!(seen, PAID),
                        ChargeEnd::NotPaid => prop_assert_eq!(seen, NOT_PAID),
                        ChargeEnd::Refused => prop_assert_eq!(seen, Seen::Refused),
                        ChargeEnd::Unresolved => {}
                    }
                    ended = true;
                    break;
                }
            }
        }
        // Whatever it saw, it never asks past deadline + the delay + the budget by more than
        // the answers' own time: a run of "unanswered" after the deadline must end.
        if !ended {
            let mut m2 = m.clone();
            let mut t = now;
            for _ in 0..10_000 {
                t += MIN_INTERVAL;
                if let ChargeAction::Finish(_) = m2.next(Seen::Unanswered, t) {
                    ended = true;
                    break;
                }
            }
            prop_assert!(ended, "no end after {t:?}");
        }
    }
}
