//! The integration tests of `wechatpay-sim`, one test binary (one link step) with a module
//! per area; `common` holds the shared client side (the simulator's own merchant).

mod admin;
mod bills;
mod certificates;
mod cli;
mod common;
mod errors;
mod faults;
mod fuzz_corpus;
mod operations;
mod parking;
mod prepay;
mod properties;
mod refunds;
mod sandbox_stories;
mod sink;
mod tls;
