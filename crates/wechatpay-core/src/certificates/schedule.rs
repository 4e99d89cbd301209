//! The pure refresh schedule: when to download `/v3/certificates` next, which certificates
//! to drop.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::model::Rfc3339;

/// When a held platform certificate may be used, in Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateValidity {
    /// The certificate's serial.
    pub serial_no: String,
    /// `effective_time`.
    pub effective: i64,
    /// `expire_time`: after it, the certificate is dropped.
    pub expire: i64,
}

impl CertificateValidity {
    /// From an answer's times.
    pub fn new(serial_no: &str, effective: &Rfc3339, expire: &Rfc3339) -> Self {
        Self { serial_no: serial_no.to_owned(), effective: effective.unix_timestamp(), expire: expire.unix_timestamp() }
    }
}

/// What the schedule says now.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshPlan {
    /// When to download next (in the past or `now`: at once).
    pub next_download: SystemTime,
    /// Serials past their `expire_time`, to drop from the key set.
    pub drop: Vec<String>,
    /// Every held certificate is past its `expire_time`: this one, the last to expire, is
    /// kept (not dropped) so that answers can still be verified, and should be reported.
    pub keeping_expired: Option<String>,
}

impl RefreshPlan {
    /// How long to wait from `now` until the next download.
    pub fn delay(&self, now: SystemTime) -> Duration {
        self.next_download.duration_since(now).unwrap_or(Duration::ZERO)
    }
}

/// How often to download `/v3/certificates`. The defaults follow PROTOCOL.md §9 with margin.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshPolicy {
    /// The normal interval: 6 h (the official advice is under 12 h).
    pub interval: Duration,
    /// When the newest certificate expires within this (1 day), a replacement is due...
    pub expiring_within: Duration,
    /// ...so download every this often instead: 1 h.
    pub expiring_interval: Duration,
    /// After a failed download, wait this long (1 min), doubling with each further failure...
    pub retry_initial: Duration,
    /// ...up to this (1 h).
    pub retry_max: Duration,
    /// The least time between two downloads caused by an answer signed by an unknown serial:
    /// 60 s (an attacker's made-up serial cannot make the client download more often).
    pub unknown_serial_min_interval: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(6 * 3600),
            expiring_within: Duration::from_secs(24 * 3600),
            expiring_interval: Duration::from_secs(3600),
            retry_initial: Duration::from_secs(60),
            retry_max: Duration::from_secs(3600),
            unknown_serial_min_interval: Duration::from_secs(60),
        }
    }
}

impl RefreshPolicy {
    /// The plan for certificates `held`, given the last successful download, the number of
    /// failed downloads since then and when the last of them was, at `now`.
    ///
    /// - never downloaded: now;
    /// - else `last_success + interval`, or `+ expiring_interval` when the newest held
    ///   certificate expires within `expiring_within` of `now`;
    /// - after failures: `last_failure + retry_initial · 2^(failures-1)`, at most `retry_max`
    ///   (a failed download is retried on this clock, not the normal one);
    /// - drop every certificate past its `expire_time`, but never all of them: when every one
    ///   has expired the last to expire is kept and named in [`RefreshPlan::keeping_expired`].
    pub fn plan(
        &self,
        held: &[CertificateValidity],
        last_success: Option<SystemTime>,
        failures: u32,
        last_failure: Option<SystemTime>,
        now: SystemTime,
    ) -> RefreshPlan {
        let now_unix = unix(now);
        let mut drop: Vec<String> = held.iter().filter(|c| c.expire <= now_unix).map(|c| c.serial_no.clone()).collect();
        let mut keeping_expired = None;
        if !held.is_empty() && drop.len() == held.len() {
            let last = held.iter().max_by_key(|c| c.expire).map(|c| c.serial_no.clone());
            drop.retain(|s| Some(s) != last.as_ref());
            keeping_expired = last;
        }
        let newest_expiry = held.iter().map(|c| c.expire).max();
        let expiring = newest_expiry.is_some_and(|e| e <= now_unix.saturating_add(secs(self.expiring_within)));
        let mut next = match last_success {
            None => now,
            Some(t) => t + if expiring { self.expiring_interval.min(self.interval) } else { self.interval },
        };
        if failures > 0 {
            let backoff = self.retry_initial.saturating_mul(1u32 << (failures - 1).min(20)).min(self.retry_max);
            next = last_failure.unwrap_or(now) + backoff;
        }
        RefreshPlan { next_download: next, drop, keeping_expired }
    }
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3600;
    const DAY: u64 = 24 * H;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn cert(serial: &str, effective: u64, expire: u64) -> CertificateValidity {
        CertificateValidity { serial_no: serial.into(), effective: effective as i64, expire: expire as i64 }
    }

    #[test]
    fn first_download_is_now_and_then_every_six_hours() {
        let p = RefreshPolicy::default();
        let t0 = 1_700_000_000;
        assert_eq!(p.plan(&[], None, 0, None, at(t0)).next_download, at(t0));
        let held = [cert("OLD", t0 - 100 * DAY, t0 + 1000 * DAY)];
        let plan = p.plan(&held, Some(at(t0)), 0, None, at(t0 + 10));
        assert_eq!(plan.next_download, at(t0 + 6 * H));
        assert_eq!(plan.delay(at(t0 + 10)), Duration::from_secs(6 * H - 10));
        assert!(plan.drop.is_empty() && plan.keeping_expired.is_none());
        // Overdue: at once.
        assert_eq!(p.plan(&held, Some(at(t0)), 0, None, at(t0 + 7 * H)).delay(at(t0 + 7 * H)), Duration::ZERO);
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap() {
        let p = RefreshPolicy::default();
        let t0 = 1_700_000_000;
        let held = [cert("OLD", t0 - DAY, t0 + 1000 * DAY)];
        let last_ok = Some(at(t0));
        let fail_at = at(t0 + 6 * H);
        let next = |n| p.plan(&held, last_ok, n, Some(fail_at), fail_at).next_download;
        assert_eq!(next(1), fail_at + Duration::from_secs(60));
        assert_eq!(next(2), fail_at + Duration::from_secs(120));
        assert_eq!(next(6), fail_at + Duration::from_secs(1920));
        assert_eq!(next(7), fail_at + Duration::from_secs(H));
        assert_eq!(next(40), fail_at + Duration::from_secs(H));
        // A failure long before the normal time (an unknown serial's refresh) retries on
        // the backoff clock.
        let early = p.plan(&held, last_ok, 30, Some(at(t0 + 1)), at(t0 + 1)).next_download;
        assert_eq!(early, at(t0 + 1 + H));
        // Never succeeded, failing: back off from the failure.
        assert_eq!(p.plan(&[], None, 3, Some(at(t0)), at(t0)).next_download, at(t0 + 240));
    }

    /// A whole rotation: the old certificate alone; the new one listed beside it; answers
    /// switching serial; the old one's expire_time shortened and passed.
    #[test]
    fn a_full_rotation() {
        let p = RefreshPolicy::default();
        let t0: u64 = 1_700_000_000;
        let old_expiry = t0 + 10 * DAY;
        // Day 0: only the old certificate, 10 days left: every 6 h.
        let held = vec![cert("OLD", t0 - 1800 * DAY, old_expiry)];
        assert_eq!(p.plan(&held, Some(at(t0)), 0, None, at(t0)).next_download, at(t0 + 6 * H));
        // Day 2: the new certificate is listed (effective in 8 days); the newest expiry is
        // five years away: still every 6 h, nothing dropped.
        let t2 = t0 + 2 * DAY;
        let held = vec![cert("OLD", t0 - 1800 * DAY, old_expiry), cert("NEW", t0 + 8 * DAY, t0 + 1835 * DAY)];
        let plan = p.plan(&held, Some(at(t2)), 0, None, at(t2));
        assert_eq!((plan.next_download, plan.drop.len()), (at(t2 + 6 * H), 0));
        // Day 8-9: answers switch to NEW; OLD's expire_time is shortened to day 9. Both kept.
        let t8 = t0 + 8 * DAY;
        let held = vec![cert("OLD", t0 - 1800 * DAY, t0 + 9 * DAY), cert("NEW", t0 + 8 * DAY, t0 + 1835 * DAY)];
        assert!(p.plan(&held, Some(at(t8)), 0, None, at(t8)).drop.is_empty());
        // Day 9 + 1 s: OLD is past its expire_time: dropped; NEW stays.
        let t9 = t0 + 9 * DAY + 1;
        let plan = p.plan(&held, Some(at(t9)), 0, None, at(t9));
        assert_eq!(plan.drop, vec!["OLD".to_owned()]);
        assert_eq!(plan.keeping_expired, None);
        assert_eq!(plan.next_download, at(t9 + 6 * H));
    }

    #[test]
    fn an_expiring_newest_certificate_is_downloaded_hourly_and_the_last_one_never_dropped_silently() {
        let p = RefreshPolicy::default();
        let t0 = 1_700_000_000;
        let held = [cert("ONLY", t0 - DAY, t0 + 20 * H)];
        let plan = p.plan(&held, Some(at(t0)), 0, None, at(t0));
        assert_eq!(plan.next_download, at(t0 + H));
        assert!(plan.drop.is_empty());
        // Past its expiry and nothing newer: kept, and said.
        let plan = p.plan(&held, Some(at(t0)), 0, None, at(t0 + DAY));
        assert_eq!((plan.drop.len(), plan.keeping_expired.as_deref()), (0, Some("ONLY")));
        // Two expired: the later one is kept, the other dropped.
        let held = [cert("A", 0, t0 - 10), cert("B", 0, t0 - 5)];
        let plan = p.plan(&held, Some(at(t0)), 0, None, at(t0));
        assert_eq!((plan.drop, plan.keeping_expired), (vec!["A".to_owned()], Some("B".to_owned())));
    }
}
