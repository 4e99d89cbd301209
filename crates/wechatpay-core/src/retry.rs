//! The retry policy shared by every adapter: pure decisions, no sleeping.
//!
//! Given the outcome of an attempt, [`RetryPolicy::decide`] says whether to try again, on
//! which host and after how long. Rules (PROTOCOL.md §5): only transport errors, 429, the 5xx
//! system-error class and gateway 502/503/504 are retried, never other 4xx; connection-level
//! failures (DNS, connect, TLS, timeout) move to the other host, and so do gateway errors
//! if enabled; backoff is exponential with jitter and longer after 429; attempts and total
//! time are bounded. A non-idempotent call (see [`crate::api::Operation::idempotent`]) is
//! repeated only after a failure that proves it never reached the server (DNS, connect,
//! TLS). Every attempt must be signed afresh.

use std::time::Duration;

use http::StatusCode;

use crate::config::Host;
use crate::error::Error;
use crate::verify::VerificationFailure;

/// When and how to try again. Start from [`RetryPolicy::default`] or [`RetryPolicy::none`]
/// and adjust with the `with_…` methods (or assign the public fields).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retries).
    pub max_attempts: u32,
    /// Base of the exponential backoff.
    pub base_delay: Duration,
    /// Base of the backoff after a 429.
    pub rate_limit_base_delay: Duration,
    /// Largest single delay.
    pub max_delay: Duration,
    /// Budget for the whole call, from the first attempt; no retry starts after it.
    pub deadline: Duration,
    /// Move to the other host after DNS, connect, TLS or timeout failures.
    pub failover_on_connection_error: bool,
    /// Move to the other host after a gateway 502/503/504.
    pub failover_on_gateway_error: bool,
    /// Query again after a `WECHATPAY/SIGNTEST/` probe (safe: every call here is a query).
    pub retry_sign_test_probe: bool,
}

impl Default for RetryPolicy {
    /// 3 attempts, 200 ms base (1 s after 429), 5 s cap, 60 s deadline, failover on.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            rate_limit_base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
            failover_on_connection_error: true,
            failover_on_gateway_error: true,
            retry_sign_test_probe: true,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Sign again and send to `host` after `delay`.
    Retry {
        /// Where the next attempt goes.
        host: Host,
        /// How long to wait first.
        delay: Duration,
    },
    /// Return the error.
    GiveUp,
}

/// The facts about a failed attempt that a decision depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// Its number, 1-based.
    pub number: u32,
    /// Time since the first attempt of the call started.
    pub elapsed: Duration,
    /// Where it went.
    pub host: Host,
    /// Whether the call may be repeated freely ([`crate::api::Operation::idempotent`]).
    pub idempotent: bool,
}

impl Attempt {
    /// Attempt `number` of an idempotent call to `host`, `elapsed` after the call started.
    pub fn new(number: u32, elapsed: Duration, host: Host) -> Self {
        Self { number, elapsed, host, idempotent: true }
    }

    /// The same attempt of a call that must not be repeated once it may have been received.
    pub fn non_idempotent(self) -> Self {
        Self { idempotent: false, ..self }
    }
}

/// How an outcome is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Final,
    Retry { failover: bool, rate_limited: bool },
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// Same retries, never another host.
    pub fn without_failover(self) -> Self {
        Self { failover_on_connection_error: false, failover_on_gateway_error: false, ..self }
    }

    /// Sets [`RetryPolicy::max_attempts`] (the first attempt included).
    pub fn with_max_attempts(self, max_attempts: u32) -> Self {
        Self { max_attempts, ..self }
    }

    /// Sets [`RetryPolicy::base_delay`].
    pub fn with_base_delay(self, base_delay: Duration) -> Self {
        Self { base_delay, ..self }
    }

    /// Sets [`RetryPolicy::rate_limit_base_delay`].
    pub fn with_rate_limit_base_delay(self, rate_limit_base_delay: Duration) -> Self {
        Self { rate_limit_base_delay, ..self }
    }

    /// Sets [`RetryPolicy::max_delay`].
    pub fn with_max_delay(self, max_delay: Duration) -> Self {
        Self { max_delay, ..self }
    }

    /// Sets [`RetryPolicy::deadline`].
    pub fn with_deadline(self, deadline: Duration) -> Self {
        Self { deadline, ..self }
    }

    /// Sets [`RetryPolicy::failover_on_gateway_error`].
    pub fn with_failover_on_gateway_error(self, on: bool) -> Self {
        Self { failover_on_gateway_error: on, ..self }
    }

    /// Sets [`RetryPolicy::retry_sign_test_probe`].
    pub fn with_retry_sign_test_probe(self, on: bool) -> Self {
        Self { retry_sign_test_probe: on, ..self }
    }

    /// Decides after `attempt` failed with `error`. `jitter` is a uniform random number in
    /// `[0, 1)` supplied by the caller (so the policy stays pure and testable; see
    /// [`jitter`]).
    pub fn decide(&self, attempt: &Attempt, error: &Error, jitter: f64) -> Decision {
        let Class::Retry { failover, rate_limited } = self.classify(error) else {
            return Decision::GiveUp;
        };
        if !attempt.idempotent && !never_reached_server(error) {
            return Decision::GiveUp;
        }
        if attempt.number >= self.max_attempts {
            return Decision::GiveUp;
        }
        let delay = self.backoff(attempt.number.max(1), rate_limited, jitter);
        if attempt.elapsed.saturating_add(delay) >= self.deadline {
            return Decision::GiveUp;
        }
        let host = attempt.host;
        Decision::Retry { host: if failover { host.other() } else { host }, delay }
    }

    /// Why [`RetryPolicy::decide`] gives up on `error` after `attempt`, in words, for logs
    /// (the same tests in the same order).
    pub(crate) fn why_give_up(&self, attempt: &Attempt, error: &Error) -> &'static str {
        if matches!(self.classify(error), Class::Final) {
            "this answer is final: retrying would not change it"
        } else if !attempt.idempotent && !never_reached_server(error) {
            "the call changes state and may have arrived: it is never repeated"
        } else if attempt.number >= self.max_attempts {
            "no attempts left"
        } else {
            "the call's deadline would pass before the next attempt"
        }
    }

    /// Exponential backoff with "equal jitter": half fixed, half random.
    fn backoff(&self, attempt: u32, rate_limited: bool, jitter: f64) -> Duration {
        let base = if rate_limited { self.rate_limit_base_delay } else { self.base_delay };
        let exp = base.saturating_mul(1u32 << (attempt - 1).min(16)).min(self.max_delay);
        let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
        exp / 2 + exp.mul_f64(jitter / 2.0)
    }

    fn classify(&self, error: &Error) -> Class {
        let retry = |failover, rate_limited| Class::Retry { failover, rate_limited };
        match error {
            Error::Transport(t) => retry(self.failover_on_connection_error && t.kind().is_connection_level(), false),
            Error::Api(e) if e.status == StatusCode::TOO_MANY_REQUESTS => retry(false, true),
            Error::Api(e) if e.is_retryable() => retry(self.failover_on_gateway_error && is_gateway(e.status), false),
            Error::UnexpectedResponse(e) if e.status == StatusCode::TOO_MANY_REQUESTS => retry(false, true),
            Error::UnexpectedResponse(e) if e.status.is_server_error() => {
                retry(self.failover_on_gateway_error && is_gateway(e.status), false)
            }
            Error::Verification(v) if v.failure == VerificationFailure::SignTestProbe && self.retry_sign_test_probe => {
                retry(false, false)
            }
            _ => Class::Final,
        }
    }
}

/// A uniform number in `[0, 1)` for [`RetryPolicy::decide`]'s jitter: OS randomness, or the
/// clock's nanoseconds if that fails (jitter need not be unpredictable, only spread).
pub fn jitter() -> f64 {
    let bits = getrandom::u64().unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        u64::from(nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    });
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether `error` proves that the request never reached the server, so that even a
/// non-idempotent call may be sent again.
fn never_reached_server(error: &Error) -> bool {
    use crate::error::TransportErrorKind as K;
    matches!(error, Error::Transport(t) if matches!(t.kind(), K::Dns | K::Connect | K::Tls))
}

fn is_gateway(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{
        ApiError, DecodeError, TransportError, TransportErrorKind, UnexpectedResponse, VerificationError,
    };
    use crate::ids::InvalidInput;
    use crate::model::ErrorCode;

    fn api(status: u16, code: &str) -> Error {
        Error::Api(ApiError {
            status: StatusCode::from_u16(status).unwrap(),
            code: ErrorCode::from(code),
            message: String::new(),
            detail: None,
            request_id: None,
            verified: false,
        })
    }

    fn page(status: u16) -> Error {
        Error::UnexpectedResponse(UnexpectedResponse {
            status: StatusCode::from_u16(status).unwrap(),
            request_id: None,
            excerpt: String::new(),
            verified: false,
        })
    }

    fn transport(kind: TransportErrorKind) -> Error {
        Error::Transport(TransportError::of_kind(kind))
    }

    fn verification(failure: VerificationFailure) -> Error {
        Error::Verification(VerificationError::new(failure, StatusCode::OK, None))
    }

    const ALL_KINDS: [TransportErrorKind; 6] = [
        TransportErrorKind::Dns,
        TransportErrorKind::Connect,
        TransportErrorKind::Tls,
        TransportErrorKind::Timeout,
        TransportErrorKind::Io,
        TransportErrorKind::Other,
    ];

    fn at(number: u32, elapsed: Duration, host: Host) -> Attempt {
        Attempt::new(number, elapsed, host)
    }

    fn first(policy: &RetryPolicy, error: &Error) -> Decision {
        policy.decide(&at(1, Duration::ZERO, Host::Primary), error, 0.0)
    }

    #[test]
    fn transport_errors_retry_and_connection_level_ones_fail_over() {
        let p = RetryPolicy::default();
        for kind in ALL_KINDS {
            for host in [Host::Primary, Host::Backup] {
                let d = p.decide(&at(1, Duration::ZERO, host), &transport(kind), 0.5);
                let expected_host = if kind.is_connection_level() { host.other() } else { host };
                assert!(matches!(d, Decision::Retry { host: h, .. } if h == expected_host), "{kind:?} {host:?}: {d:?}");
            }
            let d = first(&p.clone().without_failover(), &transport(kind));
            assert!(matches!(d, Decision::Retry { host: Host::Primary, .. }), "{kind:?}");
        }
    }

    #[test]
    fn status_classes() {
        let p = RetryPolicy::default();
        let retry_same = |e: &Error| matches!(first(&p, e), Decision::Retry { host: Host::Primary, .. });
        let retry_other = |e: &Error| matches!(first(&p, e), Decision::Retry { host: Host::Backup, .. });
        let give_up = |e: &Error| first(&p, e) == Decision::GiveUp;
        for code in ["SYSTEM_ERROR", "SYSTE_MERROR", "BANK_ERROR", "SOMETHING_NEW"] {
            assert!(retry_same(&api(500, code)), "{code}");
        }
        for code in ["INVALID_TRANSACTIONID", "OPENID_MISMATCH"] {
            assert!(give_up(&api(500, code)), "{code}");
        }
        assert!(retry_same(&api(429, "FREQUENCY_LIMITED")));
        assert!(retry_same(&api(429, "RATELIMIT_EXCEEDED")));
        assert!(retry_same(&page(429)));
        for status in [502, 503, 504] {
            assert!(retry_other(&page(status)), "{status}");
            assert!(retry_other(&api(status, "SYSTEM_ERROR")), "{status}");
            let no_failover = RetryPolicy { failover_on_gateway_error: false, ..RetryPolicy::default() };
            assert!(matches!(first(&no_failover, &page(status)), Decision::Retry { host: Host::Primary, .. }));
        }
        assert!(retry_same(&page(500)));
        for status in 400..=499u16 {
            if status == 429 {
                continue;
            }
            assert!(give_up(&api(status, "PARAM_ERROR")), "{status}");
            assert!(give_up(&page(status)), "{status}");
        }
    }

    #[test]
    fn never_retries_what_cannot_improve() {
        let p = RetryPolicy::default();
        let decode = serde_json::from_slice::<u8>(b"x").unwrap_err();
        for e in [
            Error::InvalidInput(InvalidInput::new("f", "p", "r")),
            Error::Sign(crate::crypto::SignError::new("x")),
            Error::BodyTooLarge { limit: 1 },
            Error::Decode(DecodeError { status: StatusCode::OK, request_id: None, source: decode }),
            verification(VerificationFailure::SignatureMismatch),
            verification(VerificationFailure::UnknownSerial("X".into())),
            verification(VerificationFailure::MissingHeader("Wechatpay-Serial")),
            verification(VerificationFailure::StaleTimestamp { skew_secs: 999, max_secs: 300 }),
        ] {
            assert_eq!(first(&p, &e), Decision::GiveUp, "{e:?}");
        }
        let probe = verification(VerificationFailure::SignTestProbe);
        assert!(matches!(first(&p, &probe), Decision::Retry { host: Host::Primary, .. }));
        let p = RetryPolicy { retry_sign_test_probe: false, ..p };
        assert_eq!(first(&p, &probe), Decision::GiveUp);
    }

    #[test]
    fn attempts_and_deadline_bound_the_call() {
        let p = RetryPolicy::default();
        let e = api(500, "SYSTEM_ERROR");
        assert!(matches!(p.decide(&at(1, Duration::ZERO, Host::Primary), &e, 0.0), Decision::Retry { .. }));
        assert!(matches!(p.decide(&at(2, Duration::ZERO, Host::Primary), &e, 0.0), Decision::Retry { .. }));
        assert_eq!(p.decide(&at(3, Duration::ZERO, Host::Primary), &e, 0.0), Decision::GiveUp);
        assert_eq!(RetryPolicy::none().decide(&at(1, Duration::ZERO, Host::Primary), &e, 0.0), Decision::GiveUp);
        assert_eq!(p.decide(&at(1, Duration::from_secs(60), Host::Primary), &e, 0.0), Decision::GiveUp);
        assert_eq!(p.decide(&at(1, Duration::from_millis(59_950), Host::Primary), &e, 0.0), Decision::GiveUp);
        let many = RetryPolicy { max_attempts: 100, ..RetryPolicy::default() };
        assert!(matches!(many.decide(&at(99, Duration::ZERO, Host::Primary), &e, 1.0), Decision::Retry { .. }));
    }

    #[test]
    fn non_idempotent_calls_repeat_only_what_never_reached_the_server() {
        let p = RetryPolicy::default();
        let once = at(1, Duration::ZERO, Host::Primary).non_idempotent();
        for kind in [TransportErrorKind::Dns, TransportErrorKind::Connect, TransportErrorKind::Tls] {
            assert!(matches!(p.decide(&once, &transport(kind), 0.0), Decision::Retry { .. }), "{kind:?}");
        }
        for e in [
            transport(TransportErrorKind::Timeout),
            transport(TransportErrorKind::Io),
            transport(TransportErrorKind::Other),
            api(500, "SYSTEM_ERROR"),
            api(429, "FREQUENCY_LIMITED"),
            page(503),
            verification(VerificationFailure::SignTestProbe),
        ] {
            assert_eq!(p.decide(&once, &e, 0.0), Decision::GiveUp, "{e:?}");
            assert!(matches!(first(&p, &e), Decision::Retry { .. }), "idempotent {e:?}");
        }
    }

    #[test]
    fn builders_set_fields() {
        let p = RetryPolicy::none()
            .with_max_attempts(5)
            .with_base_delay(Duration::from_millis(1))
            .with_rate_limit_base_delay(Duration::from_millis(2))
            .with_max_delay(Duration::from_millis(3))
            .with_deadline(Duration::from_millis(4))
            .with_failover_on_gateway_error(false)
            .with_retry_sign_test_probe(false);
        assert_eq!((p.max_attempts, p.base_delay.as_millis(), p.rate_limit_base_delay.as_millis()), (5, 1, 2));
        assert_eq!((p.max_delay.as_millis(), p.deadline.as_millis()), (3, 4));
        assert!(!p.failover_on_gateway_error && !p.retry_sign_test_probe && p.failover_on_connection_error);
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = RetryPolicy { max_attempts: 40, deadline: Duration::from_secs(3600), ..RetryPolicy::default() };
        let delay = |attempt, e: &Error, jitter| match p.decide(&at(attempt, Duration::ZERO, Host::Primary), e, jitter)
        {
            Decision::Retry { delay, .. } => delay,
            Decision::GiveUp => panic!("gave up"),
        };
        let e = api(500, "SYSTEM_ERROR");
        assert_eq!(delay(1, &e, 0.0), Duration::from_millis(100));
        assert_eq!(delay(1, &e, 1.0), Duration::from_millis(200));
        assert_eq!(delay(2, &e, 0.0), Duration::from_millis(200));
        assert_eq!(delay(3, &e, 0.5), Duration::from_millis(600));
        assert_eq!(delay(30, &e, 1.0), Duration::from_secs(5));
        assert_eq!(delay(1, &e, f64::NAN), Duration::from_millis(100));
        assert_eq!(delay(1, &e, 7.0), Duration::from_millis(200));
        let limited = api(429, "FREQUENCY_LIMITED");
        assert_eq!(delay(1, &limited, 0.0), Duration::from_millis(500));
        assert!(delay(1, &limited, 0.0) > delay(1, &e, 1.0));
        for attempt in 1..40 {
            for jitter in [0.0, 0.25, 0.999] {
                let d = delay(attempt, &e, jitter);
                assert!(d <= p.max_delay && d >= Duration::from_millis(100));
            }
        }
    }
}
