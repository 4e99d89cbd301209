//! The watch policy, exhaustively: every state's verdict, the rhythm step by step, the
//! deadline, the floor, and the close rule.
#![allow(clippy::unwrap_used)]

use super::*;

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

const NOTPAY: Verdict = Verdict::Pending(Pending::NotPay);
const USERPAYING: Verdict = Verdict::Pending(Pending::UserPaying);
const ACCEPTED: Verdict = Verdict::Pending(Pending::Accepted);

/// Waits with a deadline far away, so only the rhythm shows.
fn patient() -> WatchPolicy {
    WatchPolicy::default().with_deadline(secs(3600))
}

#[test]
fn every_direct_state_has_the_spec_verdict() {
    let expected = [
        ("SUCCESS", Verdict::Final),
        ("REFUND", Verdict::Final),
        ("NOTPAY", NOTPAY),
        ("CLOSED", Verdict::Final),
        ("REVOKED", Verdict::Final),
        ("USERPAYING", USERPAYING),
        ("PAYERROR", Verdict::Final),
    ];
    assert_eq!(TradeState::KNOWN.len(), expected.len(), "a new state needs a verdict here");
    for (wire, verdict) in expected {
        assert_eq!(Verdict::of_trade_state(&TradeState::from(wire)), verdict, "{wire}");
    }
    for unknown in ["PARTIAL_REFUND", "", "notpay", "SUCCESS "] {
        assert_eq!(Verdict::of_trade_state(&TradeState::from(unknown)), Verdict::Unknown, "{unknown:?}");
    }
}

#[test]
fn every_parking_state_has_the_spec_verdict() {
    let expected = [
        ("SUCCESS", Verdict::Final),
        ("ACCEPTED", ACCEPTED),
        ("ACCEPT", ACCEPTED),
        ("PAY_FAIL", Verdict::Final),
        ("FAIL", Verdict::Final),
        ("REFUND", Verdict::Final),
    ];
    assert_eq!(ParkingTradeState::KNOWN.len(), expected.len(), "a new state needs a verdict here");
    for (wire, verdict) in expected {
        assert_eq!(Verdict::of_parking_state(&ParkingTradeState::from(wire)), verdict, "{wire}");
    }
    // NOTPAY is a direct-order state; on a parking order it is unknown, not pending.
    for unknown in ["NOTPAY", "USERPAYING", "CLOSED"] {
        assert_eq!(Verdict::of_parking_state(&ParkingTradeState::from(unknown)), Verdict::Unknown, "{unknown}");
    }
}

#[test]
fn final_and_unknown_are_done_at_any_time_and_any_setting() {
    let policies = [
        WatchPolicy::default(),
        WatchPolicy::default().with_close_if_unpaid(true),
        WatchPolicy::default().with_deadline(Duration::ZERO).with_close_if_unpaid(true),
        WatchPolicy::default().with_fixed_interval(ms(1)),
    ];
    for policy in &policies {
        for elapsed in [Duration::ZERO, secs(1), secs(59), secs(60), secs(61), secs(100_000)] {
            assert_eq!(policy.decide(&Verdict::Final, elapsed), WatchDecision::Done);
            assert_eq!(policy.decide(&Verdict::Unknown, elapsed), WatchDecision::Done);
        }
    }
}

#[test]
fn notpay_and_accepted_back_off_5_10_30_then_60() {
    let policy = patient();
    for verdict in [NOTPAY, ACCEPTED] {
        // (elapsed when the answer came, the wait decided)
        for (elapsed, wait) in [
            (Duration::ZERO, secs(5)),
            (ms(300), secs(5)),
            (ms(4999), secs(5)),
            (secs(5), secs(10)),
            (ms(5300), secs(10)),
            (ms(14_999), secs(10)),
            (secs(15), secs(30)),
            (ms(15_600), secs(30)),
            (secs(45), secs(60)),
            (ms(45_900), secs(60)),
            (secs(106), secs(60)),
            (secs(3000), secs(60)),
        ] {
            assert_eq!(policy.decide(&verdict, elapsed), WatchDecision::Wait(wait), "{verdict:?} at {elapsed:?}");
        }
    }
}

#[test]
fn a_slow_answer_moves_along_the_steps_instead_of_repeating_one() {
    // Each query took 2 s: asked at 0, 7, 19, 51, 113 -> waits 5, 10, 30, 60, 60.
    let policy = patient();
    let mut at = Duration::ZERO;
    let mut waits = Vec::new();
    for _ in 0..5 {
        at += secs(2);
        let WatchDecision::Wait(wait) = policy.decide(&NOTPAY, at) else { panic!("pending waits") };
        waits.push(wait.as_secs());
        at += wait;
    }
    assert_eq!(waits, [5, 10, 30, 60, 60]);
}

#[test]
fn userpaying_is_asked_every_5_s_for_45_s_then_backs_off() {
    let policy = patient();
    for elapsed in [Duration::ZERO, secs(5), secs(10), ms(39_900), ms(44_999)] {
        assert_eq!(policy.decide(&USERPAYING, elapsed), WatchDecision::Wait(secs(5)), "{elapsed:?}");
    }
    // From 45 s on it is the NOTPAY rhythm at that age: 60 s.
    assert_eq!(policy.decide(&USERPAYING, secs(45)), WatchDecision::Wait(secs(60)));
    assert_eq!(policy.decide(&USERPAYING, secs(200)), WatchDecision::Wait(secs(60)));
    // A custom USERPAYING rhythm.
    let policy = patient().with_user_paying(secs(8), secs(20));
    assert_eq!(policy.decide(&USERPAYING, secs(19)), WatchDecision::Wait(secs(8)));
    assert_eq!(policy.decide(&USERPAYING, secs(20)), WatchDecision::Wait(secs(30)));
}

#[test]
fn a_fixed_interval_replaces_every_rhythm() {
    let policy = patient().with_fixed_interval(ms(250));
    for verdict in [NOTPAY, USERPAYING, ACCEPTED] {
        for elapsed in [Duration::ZERO, secs(5), secs(44), secs(46), secs(1000)] {
            assert_eq!(policy.decide(&verdict, elapsed), WatchDecision::Wait(ms(250)), "{verdict:?} {elapsed:?}");
        }
    }
}

#[test]
fn no_wait_is_below_the_floor() {
    assert_eq!(MIN_INTERVAL, ms(100));
    for interval in [Duration::ZERO, ms(1), ms(99)] {
        let policy = patient().with_fixed_interval(interval);
        assert_eq!(policy.decide(&NOTPAY, secs(1)), WatchDecision::Wait(MIN_INTERVAL), "{interval:?}");
    }
    assert_eq!(patient().with_fixed_interval(ms(100)).decide(&NOTPAY, secs(1)), WatchDecision::Wait(ms(100)));
    assert_eq!(patient().with_fixed_interval(ms(101)).decide(&NOTPAY, secs(1)), WatchDecision::Wait(ms(101)));
    let zeros = patient().with_backoff(vec![Duration::ZERO, Duration::ZERO], Duration::ZERO);
    assert_eq!(zeros.decide(&NOTPAY, Duration::ZERO), WatchDecision::Wait(MIN_INTERVAL));
    assert_eq!(zeros.decide(&NOTPAY, secs(10)), WatchDecision::Wait(MIN_INTERVAL));
    let zeros = patient().with_user_paying(Duration::ZERO, secs(45));
    assert_eq!(zeros.decide(&USERPAYING, secs(1)), WatchDecision::Wait(MIN_INTERVAL));
    // Even 1 ms before the deadline the wait is the floor (the next answer ends the watch).
    let policy = WatchPolicy::default().with_deadline(secs(10));
    assert_eq!(policy.decide(&NOTPAY, ms(9999)), WatchDecision::Wait(MIN_INTERVAL));
}

#[test]
fn waits_end_at_the_deadline() {
    let policy = WatchPolicy::default().with_deadline(secs(12));
    assert_eq!(policy.decide(&NOTPAY, Duration::ZERO), WatchDecision::Wait(secs(5)));
    // The 10 s step would pass the deadline: ask at the deadline instead.
    assert_eq!(policy.decide(&NOTPAY, secs(5)), WatchDecision::Wait(secs(7)));
    assert_eq!(policy.decide(&USERPAYING, secs(10)), WatchDecision::Wait(secs(2)));
    let fixed = policy.clone().with_fixed_interval(secs(5));
    assert_eq!(fixed.decide(&ACCEPTED, secs(10)), WatchDecision::Wait(secs(2)));
}

#[test]
fn the_deadline_ends_every_pending_state() {
    for deadline in [Duration::ZERO, ms(500), secs(60)] {
        let policy = WatchPolicy::default().with_deadline(deadline);
        for verdict in [NOTPAY, USERPAYING, ACCEPTED] {
            for elapsed in [deadline, deadline + ms(1), deadline + secs(600)] {
                assert_eq!(policy.decide(&verdict, elapsed), WatchDecision::DeadlineReached, "{verdict:?}");
            }
        }
    }
}

#[test]
fn only_notpay_is_closed_and_only_when_asked_and_only_at_the_deadline() {
    let close = WatchPolicy::default().with_deadline(secs(30)).with_close_if_unpaid(true);
    assert_eq!(close.decide(&NOTPAY, secs(30)), WatchDecision::CloseThenConfirm);
    assert_eq!(close.decide(&NOTPAY, secs(31)), WatchDecision::CloseThenConfirm);
    assert!(matches!(close.decide(&NOTPAY, secs(29)), WatchDecision::Wait(_)));
    // Never anything else, whatever the time.
    for verdict in [USERPAYING, ACCEPTED] {
        assert_eq!(close.decide(&verdict, secs(30)), WatchDecision::DeadlineReached, "{verdict:?}");
    }
    for verdict in [Verdict::Final, Verdict::Unknown] {
        assert_eq!(close.decide(&verdict, secs(30)), WatchDecision::Done, "{verdict:?}");
    }
    // Not without being asked.
    let keep = close.clone().with_close_if_unpaid(false);
    assert_eq!(keep.decide(&NOTPAY, secs(30)), WatchDecision::DeadlineReached);
}

#[test]
fn defaults_are_the_spec_rhythm() {
    let p = WatchPolicy::default();
    assert_eq!(p.deadline, secs(60));
    assert_eq!((p.user_paying_interval, p.user_paying_for), (secs(5), secs(45)));
    assert_eq!(p.backoff, [secs(5), secs(10), secs(30)]);
    assert_eq!(p.backoff_then, secs(60));
    assert_eq!((p.fixed_interval, p.close_if_unpaid), (None, false));
}

#[test]
fn a_huge_backoff_does_not_overflow() {
    let policy = patient().with_backoff(vec![Duration::MAX, secs(1)], secs(2));
    assert_eq!(policy.decide(&NOTPAY, secs(10)), WatchDecision::Wait(secs(3600) - secs(10)));
}

#[test]
fn close_operations_come_from_the_query_or_its_answer() {
    use crate::ids::{SubMchId, TransactionId};
    let order: Transaction = serde_json::from_str(
        r#"{"mchid":"1230000109","out_trade_no":"SIM|1","trade_state":"NOTPAY","trade_state_desc":"x"}"#,
    )
    .unwrap();
    let by_id = QueryOrderByTransactionId { transaction_id: TransactionId::new("42").unwrap() };
    assert_eq!(by_id.close_for(&order).unwrap().unwrap().out_trade_no.as_str(), "SIM|1");
    let by_no = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("A1").unwrap() };
    assert_eq!(by_no.close_for(&order).unwrap().unwrap().out_trade_no.as_str(), "A1");
    // An answer's order number is validated before it is put in a path.
    let bad: Transaction = serde_json::from_str(
        r#"{"mchid":"1230000109","out_trade_no":"../x","trade_state":"NOTPAY","trade_state_desc":"x"}"#,
    )
    .unwrap();
    assert_eq!(by_id.close_for(&bad).unwrap_err().field(), "out_trade_no");
    let partner: PartnerTransaction = serde_json::from_str(
        r#"{"sp_mchid":"1230000109","sub_mchid":"1900000109","out_trade_no":"P1","trade_state":"NOTPAY","trade_state_desc":"x"}"#,
    )
    .unwrap();
    let sub = SubMchId::new("1900000109").unwrap();
    let q =
        QueryPartnerOrderByTransactionId { sub_mchid: sub.clone(), transaction_id: TransactionId::new("42").unwrap() };
    let close = q.close_for(&partner).unwrap().unwrap();
    assert_eq!((close.sub_mchid, close.out_trade_no.as_str()), (sub, "P1"));
    assert_eq!(partner.verdict(), NOTPAY);
    let parking: ParkingTransaction =
        serde_json::from_str(r#"{"out_trade_no":"P2","trade_state":"ACCEPTED"}"#).unwrap();
    let q = QueryParkingOrder { out_trade_no: OutTradeNo::new("P2").unwrap(), sub_mchid: None };
    assert_eq!(q.close_for(&parking).unwrap(), None);
    assert_eq!((parking.trade_state(), Verdict::of(&parking)), ("ACCEPTED", ACCEPTED));
}

#[test]
fn every_refund_status_has_the_spec_verdict() {
    let expected = [
        ("SUCCESS", Verdict::Final),
        ("CLOSED", Verdict::Final),
        ("PROCESSING", Verdict::Pending(Pending::Processing)),
        ("ABNORMAL", Verdict::Final),
    ];
    assert_eq!(RefundStatus::KNOWN.len(), expected.len(), "a new status needs a verdict here");
    for (wire, verdict) in expected {
        assert_eq!(Verdict::of_refund_status(&RefundStatus::from(wire)), verdict, "{wire}");
    }
    for unknown in ["NOTPAY", "REFUND", "processing", ""] {
        assert_eq!(Verdict::of_refund_status(&RefundStatus::from(unknown)), Verdict::Unknown, "{unknown:?}");
    }
}

#[test]
fn a_processing_refund_is_asked_a_minute_apart_and_never_closed() {
    let processing = Verdict::Pending(Pending::Processing);
    let policy = patient().with_close_if_unpaid(true);
    for elapsed in [0, 5, 59, 61, 600] {
        assert_eq!(policy.decide(&processing, secs(elapsed)), WatchDecision::Wait(secs(60)), "{elapsed}");
    }
    // The wait is cut to the deadline, and at the deadline a refund is never closed.
    let short = WatchPolicy::default().with_deadline(secs(90)).with_close_if_unpaid(true);
    assert_eq!(short.decide(&processing, secs(45)), WatchDecision::Wait(secs(45)));
    assert_eq!(short.decide(&processing, secs(90)), WatchDecision::DeadlineReached);
    // A fixed interval replaces the minute.
    assert_eq!(patient().with_fixed_interval(secs(2)).decide(&processing, secs(1)), WatchDecision::Wait(secs(2)));
}
