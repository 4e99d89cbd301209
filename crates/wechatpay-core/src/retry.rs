//! The retry policy shared by every adapter: pure decisions, no sleeping.
//!
//! Given the outcome of an attempt, [`RetryPolicy::decide`] says whether to try again, on
//! which host and after how long. Rules (spec §5): only transport errors, 429, the 5xx
//! system-error class and gateway 502/503/504 are retried, never other 4xx; connection-level
//! failures (DNS, connect, TLS, timeout) move to the other host, and so do gateway errors
//! if enabled; backoff is exponential with jitter and longer after 429; attempts and total
//! time are bounded. Every attempt must be signed afresh.

use std::time::Duration;

use http::StatusCode;

use crate::config::Host;
use crate::error::{Error, VerificationFailure};

/// When and how to try again.
#[derive(Clone, Debug, PartialEq, Eq)]
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

    /// Decides after attempt number `attempt` (1-based) to `host` failed with `error`,
    /// `elapsed` after the first attempt started. `jitter` is a uniform random number in
    /// `[0, 1)` supplied by the caller (so the policy stays pure and testable).
    pub fn decide(&self, attempt: u32, elapsed: Duration, error: &Error, host: Host, jitter: f64) -> Decision {
        let Class::Retry { failover, rate_limited } = self.classify(error) else {
            return Decision::GiveUp;
        };
        if attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        let delay = self.backoff(attempt, rate_limited, jitter);
        if elapsed.saturating_add(delay) >= self.deadline {
            return Decision::GiveUp;
        }
        Decision::Retry { host: if failover { host.other() } else { host }, delay }
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

fn is_gateway(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}
