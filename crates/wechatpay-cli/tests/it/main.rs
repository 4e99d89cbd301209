//! The integration tests of the `wechatpay` command, one test binary (one link step) with a
//! module per area; `common` starts the simulator and runs the built binary.

mod bill;
mod certificates;
mod charge;
mod cli;
mod common;
mod logging;
mod notification;
mod parking;
mod pay;
mod pay_sandbox;
