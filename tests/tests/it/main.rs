//! Cross-crate integration tests, one test binary (one link step) with a module per area;
//! the shared harness is the `wechatpay_tests` library (`tests/src`).

mod bills;
mod certificates;
mod charge;
mod concurrency;
mod error_words;
mod flood;
mod from_env;
mod interop_python;
mod operations;
mod parking;
mod prepay;
mod refunds;
mod resilience;
mod tls;
mod tracing;
mod transport_faults;
mod verification;
mod watch;
