//! `wechatpay`: create, query and refund WeChat Pay API v3 orders, debug signatures, run a local
//! simulator.
//!
//! Exit codes: 0 success, 1 anything else, 2 invalid input or usage (nothing was signed or
//! sent), 3 WeChat Pay answered with an error, 4 the response failed signature verification,
//! 5 transport failure or timeout after retries and failover, 6 a watch's deadline came with
//! the order (or refund) still pending (the only failure that prints: the last answer, on
//! stdout), 7 a payment-code charge ended not paid (the order on stdout), 8 a charge ended
//! unresolved (escalate: query and reverse again), 130
//! interrupted by Ctrl-C (one stderr line says where; stdout holds only complete lines). On
//! any other failure stdout stays empty.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod csv;
mod failure;
mod interrupt;
mod json;
mod qr;
mod settings;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

use commands::get_many::Orders;
use commands::query::OrderQuery;

use args::{
    CertificatesCommand, Cli, Command, NotificationCommand, OrderCommand, ParkingOrderCommand, PartnerOrderCommand,
};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { failure::USAGE } else { failure::OK });
        }
    };
    init_logging(cli.verbose);
    if !matches!(cli.command, Command::Sim { .. }) {
        interrupt::install();
    }
    let s = &cli.settings;
    let result = match &cli.command {
        Command::Order { command: OrderCommand::Create(args) } => commands::prepay::create(s, args),
        Command::Order { command: OrderCommand::Invoke(args) } => commands::prepay::invoke(s, args),
        Command::PartnerOrder { command: PartnerOrderCommand::Create(args) } => {
            commands::prepay::create_partner(s, args)
        }
        Command::Refund { command } => commands::refund::run(s, command),
        Command::Order { command: OrderCommand::Get { id } } => {
            id.key().and_then(|key| commands::query::run(s, &OrderQuery::order(key, None)))
        }
        Command::Order { command: OrderCommand::GetMany { bulk, by } } => {
            commands::get_many::run(s, bulk, Orders::Payment { by: *by, sub_mchid: None })
        }
        Command::PartnerOrder { command: PartnerOrderCommand::GetMany { bulk, by, sub_mchid } } => {
            commands::get_many::run(s, bulk, Orders::Payment { by: *by, sub_mchid: Some(sub_mchid.clone()) })
        }
        Command::ParkingOrder { command: ParkingOrderCommand::GetMany { bulk, sub_mchid } } => {
            commands::get_many::run(s, bulk, Orders::Parking { sub_mchid: sub_mchid.clone() })
        }
        Command::Order { command: OrderCommand::Close { out_trade_no } } => {
            commands::watch::close(s, out_trade_no, None)
        }
        Command::Order { command: OrderCommand::Watch { id, timing, close_if_unpaid } } => {
            id.key().and_then(|key| commands::watch::run(s, &OrderQuery::order(key, None), timing, *close_if_unpaid))
        }
        Command::PartnerOrder { command: PartnerOrderCommand::Get { id, sub_mchid } } => {
            id.key().and_then(|key| commands::query::run(s, &OrderQuery::order(key, Some(sub_mchid.clone()))))
        }
        Command::PartnerOrder { command: PartnerOrderCommand::Close { out_trade_no, sub_mchid } } => {
            commands::watch::close(s, out_trade_no, Some(sub_mchid))
        }
        Command::PartnerOrder { command: PartnerOrderCommand::Watch { id, sub_mchid, timing, close_if_unpaid } } => {
            id.key().and_then(|key| {
                commands::watch::run(s, &OrderQuery::order(key, Some(sub_mchid.clone())), timing, *close_if_unpaid)
            })
        }
        Command::ParkingOrder { command: ParkingOrderCommand::Get { out_trade_no, sub_mchid } } => {
            commands::query::run(s, &OrderQuery::parking(out_trade_no.clone(), sub_mchid.clone()))
        }
        Command::ParkingOrder { command: ParkingOrderCommand::Watch { out_trade_no, sub_mchid, timing } } => {
            commands::watch::run(s, &OrderQuery::parking(out_trade_no.clone(), sub_mchid.clone()), timing, false)
        }
        Command::ParkingOrder { command: ParkingOrderCommand::Create(args) } => {
            commands::parking::create_order(s, args)
        }
        Command::Parking { command } => commands::parking::run(s, command),
        Command::Order { command: OrderCommand::Charge(args) } => commands::charge::charge(s, args, None, None),
        Command::Order { command: OrderCommand::Reverse(args) } => commands::charge::reverse(s, args, None, None),
        Command::PartnerOrder { command: PartnerOrderCommand::Charge { charge, sub_mchid, sub_appid } } => {
            commands::charge::charge(s, charge, Some(sub_mchid), sub_appid.as_deref())
        }
        Command::PartnerOrder { command: PartnerOrderCommand::Reverse { reverse, sub_mchid, sub_appid } } => {
            commands::charge::reverse(s, reverse, Some(sub_mchid), sub_appid.as_deref())
        }
        Command::Api(args) => commands::api::run(s, args),
        Command::Sign(args) => commands::sign::run(s, args),
        Command::Verify(args) => commands::verify::run(s, args),
        Command::Certificates { command: CertificatesCommand::Download { output_dir } } => {
            commands::certificates::download(s, output_dir)
        }
        Command::Notification { command: NotificationCommand::Parse(args) } => commands::notification::parse(s, args),
        Command::Notification { command: NotificationCommand::Listen(args) } => commands::listen::run(s, args),
        Command::Bill { command } => commands::bill::run(s, command),
        Command::Demo => commands::demo::run(),
        Command::Sim { args } => return wechatpay_sim::run_cli(args.iter().cloned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // A closed stderr must not turn a clean failure into a panic.
            let _ = writeln!(std::io::stderr(), "error: {failure}");
            failure.exit_code()
        }
    }
}

/// Logs to stderr: warnings by default, `-v` info, `-vv` debug. Never secrets: the
/// libraries log method, path, status, Request-ID and timings only.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).with_target(false).init();
}
