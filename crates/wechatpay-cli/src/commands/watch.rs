//! `order close`, `partner-order close`, and `watch` for all three kinds of order: ask until
//! the answer is final (PROTOCOL.md §10), each change of state one line on stderr.

use std::time::Duration;

use serde::Serialize;
use wechatpay_core::api::{CloseOrder, ClosePartnerOrder, QueryRefund};
use wechatpay_core::watch::{StateChange, WatchEnd, WatchPolicy, WatchQuery, WatchedOrder};
use wechatpay_core::{OutTradeNo, SubMchId, untrusted};

use super::query::{OrderQuery, with_query};
use super::{emit, print_json};
use crate::args::{Settings, WatchTiming};
use crate::failure::{Failure, STILL_PENDING};
use crate::settings;

/// `wechatpay order close` (no `sub_mchid`) and `wechatpay partner-order close`: prints
/// `{"out_trade_no":"…","closed":true}` on WeChat Pay's `204`.
pub(crate) fn close(s: &Settings, out_trade_no: &OutTradeNo, sub_mchid: Option<&SubMchId>) -> Result<(), Failure> {
    let sub_mchid = sub_mchid.cloned();
    let client = settings::client(s)?;
    match sub_mchid {
        Some(sub_mchid) => client.close(&ClosePartnerOrder { sub_mchid, out_trade_no: out_trade_no.clone() })?,
        None => client.close(&CloseOrder { out_trade_no: out_trade_no.clone() })?,
    }
    #[derive(Serialize)]
    struct ClosedOrder<'a> {
        out_trade_no: &'a str,
        closed: bool,
    }
    let line = crate::json::to_line(&ClosedOrder { out_trade_no: out_trade_no.as_str(), closed: true })
        .map_err(|e| Failure::other(format!("cannot print JSON: {e}")))?;
    emit(&line)
}

/// `wechatpay order watch`, `partner-order watch` (both with `--close-if-unpaid`) and
/// `parking-order watch` (parking orders cannot be closed).
pub(crate) fn run(
    s: &Settings,
    query: &OrderQuery,
    timing: &WatchTiming,
    close_if_unpaid: bool,
) -> Result<(), Failure> {
    let policy = policy(timing).with_close_if_unpaid(close_if_unpaid);
    with_query!(query, |op| watch(s, op, &policy))
}

/// `wechatpay refund watch`: a refund is final when `SUCCESS`, `CLOSED` or `ABNORMAL` (exit 0
/// whatever the state); `PROCESSING` is asked about every 60 s unless `--interval` is given.
pub(crate) fn watch_refund(s: &Settings, op: &QueryRefund, timing: &WatchTiming) -> Result<(), Failure> {
    watch(s, op, &policy(timing))
}

/// The policy of `--deadline` and `--interval` (both checked by clap already).
fn policy(timing: &WatchTiming) -> WatchPolicy {
    let policy = WatchPolicy::default().with_deadline(Duration::from_secs_f64(timing.deadline));
    match timing.interval {
        Some(secs) => policy.with_fixed_interval(Duration::from_secs_f64(secs)),
        None => policy,
    }
}

/// Watches, printing each change of state on stderr and the last answer on stdout; a
/// deadline with the order still pending is exit 6 (after printing).
fn watch<Q: WatchQuery>(s: &Settings, op: &Q, policy: &WatchPolicy) -> Result<(), Failure> {
    let client = settings::client(s)?;
    crate::interrupt::note("watch stopped before the first answer".to_owned());
    let outcome = client.watch(op, policy, report)?;
    print_json(&outcome.order)?;
    match outcome.end {
        WatchEnd::Deadline => Err(Failure {
            code: STILL_PENDING,
            message: format!(
                "still pending at the deadline: {} after {} queries in {:.1} s",
                untrusted::printable(outcome.order.trade_state()).max_chars(64),
                outcome.queries,
                outcome.elapsed.as_secs_f64()
            ),
        }),
        _ => Ok(()),
    }
}

/// One line on stderr per change of state: `watch: [5.0 s] NOTPAY -> SUCCESS` (states
/// escaped; a closed stderr is ignored).
fn report<T: WatchedOrder>(change: &StateChange<'_, T>) {
    use std::io::Write as _;
    let now = untrusted::printable(change.order.trade_state()).max_chars(64);
    let secs = change.elapsed.as_secs_f64();
    crate::interrupt::note(format!("watch stopped; the last verified state was {now} (at {secs:.1} s)"));
    let _ = match change.previous {
        Some(before) => {
            let before = untrusted::printable(before).max_chars(64);
            writeln!(std::io::stderr(), "watch: [{secs:.1} s] {before} -> {now}")
        }
        None => writeln!(std::io::stderr(), "watch: [{secs:.1} s] {now}"),
    };
}
