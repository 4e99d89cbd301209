//! The integration tests of `wechatpay-core`, one test binary (one link step) with a module
//! per area; `common` holds the shared fixtures and the throwaway merchant.

mod certificates;
mod charge;
mod common;
/// The throwaway merchant's one definition, the simulator's built-in credentials, included
/// by path: the core cannot depend on the simulator (which depends on the core).
#[allow(dead_code, unreachable_pub)]
#[path = "../../../wechatpay-sim/src/credentials.rs"]
mod credentials;
mod driver;
mod env;
mod fuzz_corpus;
mod invoke;
mod json_call;
mod keys;
mod known_answers;
mod merchant;
mod notifications;
mod oaep;
mod parking;
mod parse;
mod prepay;
mod properties;
mod refund_notifications;
mod refunds;
mod untrusted;
mod watch;
