//! The integration tests of `wechatpay-core`, one test binary (one link step) with a module
//! per area; `common` holds the shared fixtures and the throwaway merchant.

mod certificates;
mod common;
mod driver;
mod fuzz_corpus;
mod json_call;
mod keys;
mod known_answers;
mod notifications;
mod parse;
mod properties;
mod untrusted;
mod watch;
