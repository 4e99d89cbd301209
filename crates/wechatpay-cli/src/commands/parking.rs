//! `parking service find`, `parking entrance create`, `parking-order create`: the parking
//! flow (PROTOCOL.md §16). Each prints the API's answer as JSON; a `BLOCKED` entrance is an
//! answer (exit 0) with one stderr line saying what it means.

use std::io::Write as _;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use wechatpay_core::api::{
    CreateEntrance, CreateParkingOrder, Deduction, Entrance, FindParkingService, ParkingSession, PlateNumber,
};
use wechatpay_core::model::{Fen, PlateColor, Rfc3339};
use wechatpay_core::{AppId, NotifyUrl, OpenId, OutParkingNo, OutTradeNo, ParkingId, SubMchId};

use super::print_json;
use crate::args::Settings;
use crate::failure::Failure;
use crate::settings;

/// A plate colour as the command line takes it: one of the six WeChat Pay knows.
fn plate_color(text: &str) -> Result<PlateColor, String> {
    let color = PlateColor::from(text);
    if color.is_known() { Ok(color) } else { Err("one of BLUE, GREEN, YELLOW, BLACK, WHITE, LIMEGREEN".to_owned()) }
}

/// `wechatpay parking …`
#[derive(Debug, Subcommand)]
pub(crate) enum ParkingCommand {
    /// A plate's parking service (查询车牌服务开通信息).
    Service {
        /// What to do.
        #[command(subcommand)]
        command: ServiceCommand,
    },
    /// Cars' entrances (停车入场).
    Entrance {
        /// What to do.
        #[command(subcommand)]
        command: EntranceCommand,
    },
}

/// `wechatpay parking service …`
#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCommand {
    /// Whether a plate has the service (NORMAL, PAUSE, OUT_SERVICE): data, never an error.
    Find {
        /// The plate, e.g. 粤B888888 (sent percent-encoded, UTF-8).
        #[arg(long)]
        plate_number: PlateNumber,
        /// BLUE, GREEN, YELLOW, BLACK, WHITE or LIMEGREEN.
        #[arg(long, value_parser = plate_color)]
        plate_color: PlateColor,
        /// The user's openid under the app id.
        #[arg(long)]
        openid: OpenId,
        /// The sub-merchant's id (service providers); leave out as a merchant.
        #[arg(long)]
        sub_mchid: Option<SubMchId>,
    },
}

/// `wechatpay parking entrance …`
#[derive(Debug, Subcommand)]
pub(crate) enum EntranceCommand {
    /// Register a car's entrance; prints the entrance with WeChat Pay's `id` (the
    /// `--parking-id` of the deduction) and its state.
    Create(Box<EntranceArgs>),
}

/// `wechatpay parking entrance create` flags.
#[derive(Debug, Args)]
pub(crate) struct EntranceArgs {
    /// The car park's entrance number (1-64, unique per merchant).
    #[arg(long)]
    out_parking_no: OutParkingNo,
    /// The plate, e.g. 粤B888888.
    #[arg(long)]
    plate_number: PlateNumber,
    /// BLUE, GREEN, YELLOW, BLACK, WHITE or LIMEGREEN.
    #[arg(long, value_parser = plate_color)]
    plate_color: PlateColor,
    /// Entry time, RFC 3339 (e.g. 2017-08-26T10:43:39+08:00).
    #[arg(long, value_name = "RFC3339")]
    start_time: Rfc3339,
    /// The car park's name (1-128 characters).
    #[arg(long, value_name = "NAME")]
    parking_name: String,
    /// Free parking time in seconds (0 or more).
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    free_duration: i64,
    /// Where WeChat Pay sends VEHICLE.ENTRANCE_STATE_CHANGE.
    #[arg(long, value_name = "URL")]
    notify_url: NotifyUrl,
    /// The sub-merchant's id (service providers); leave out as a merchant.
    #[arg(long)]
    sub_mchid: Option<SubMchId>,
}

/// `wechatpay parking-order create` flags.
#[derive(Debug, Args)]
pub(crate) struct CreateOrderArgs {
    /// The order number (1-32 of `[0-9A-Za-z_-*]`); a retry uses the same one.
    #[arg(long)]
    out_trade_no: OutTradeNo,
    /// WeChat Pay's entrance id (the entrance answer's `id`, never the out_parking_no).
    #[arg(long)]
    parking_id: ParkingId,
    /// The deduction's text in the trade bill (1-128 characters).
    #[arg(long, value_name = "TEXT")]
    description: String,
    /// The amount in fen (> 0).
    #[arg(long, value_name = "FEN", allow_hyphen_values = true)]
    total: i64,
    /// The plate, as at the entrance.
    #[arg(long)]
    plate_number: PlateNumber,
    /// The plate's colour, as at the entrance.
    #[arg(long, value_parser = plate_color)]
    plate_color: PlateColor,
    /// Entry time, as at the entrance (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    start_time: Rfc3339,
    /// Exit time (RFC 3339): after the entry, not in the future.
    #[arg(long, value_name = "RFC3339")]
    end_time: Rfc3339,
    /// The car park's name (1-128 characters).
    #[arg(long, value_name = "NAME")]
    parking_name: String,
    /// The charged time in seconds (0 or more).
    #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
    charging_duration: i64,
    /// The car park's device id (1-32 characters).
    #[arg(long, value_name = "ID")]
    device_id: String,
    /// Where WeChat Pay sends TRANSACTION.SUCCESS / .FAIL / .PAY_BACK.
    #[arg(long, value_name = "URL")]
    notify_url: NotifyUrl,
    /// Merchant data echoed back (1-128 characters).
    #[arg(long, value_name = "TEXT")]
    attach: Option<String>,
    /// A goods tag (1-32 characters).
    #[arg(long, value_name = "TAG")]
    goods_tag: Option<String>,
    /// Send profit_sharing Y (funds held for profit sharing).
    #[arg(long)]
    profit_sharing: bool,
    /// The sub-merchant's id (service providers; the one used at the entrance).
    #[arg(long)]
    sub_mchid: Option<SubMchId>,
    /// The sub-merchant's app id (service providers, optional).
    #[arg(long, requires = "sub_mchid")]
    sub_appid: Option<AppId>,
}

/// The app id: `--appid`, else `WECHATPAY_APPID` (the one settings loader, `crate::settings`).
fn appid(s: &Settings) -> Result<AppId, Failure> {
    crate::settings::appid(s)
}

/// `wechatpay parking …`
pub(crate) fn run(s: &Settings, command: &ParkingCommand) -> Result<(), Failure> {
    match command {
        ParkingCommand::Service { command: ServiceCommand::Find { plate_number, plate_color, openid, sub_mchid } } => {
            let op = FindParkingService::new(
                appid(s)?,
                sub_mchid.clone(),
                plate_number.clone(),
                plate_color.clone(),
                openid.clone(),
            )?;
            let client = settings::client(s)?;
            print_json(&client.execute(&op)?)
        }
        ParkingCommand::Entrance { command: EntranceCommand::Create(a) } => {
            let entrance = Entrance {
                out_parking_no: a.out_parking_no.clone(),
                plate_number: a.plate_number.clone(),
                plate_color: a.plate_color.clone(),
                start_time: a.start_time.clone(),
                parking_name: a.parking_name.clone(),
                free_duration: a.free_duration,
                notify_url: a.notify_url.clone(),
            };
            let op = match &a.sub_mchid {
                Some(sub) => CreateEntrance::partner(sub.clone(), entrance)?,
                None => CreateEntrance::new(entrance)?,
            };
            let client = settings::client(s)?;
            let answer = client.execute(&op)?;
            print_json(&answer)?;
            if answer.is_blocked() {
                let reason = answer.block_reason.as_ref().map_or("not given", |r| r.as_str());
                let reason = wechatpay_core::untrusted::printable(reason);
                let _ = writeln!(
                    std::io::stderr(),
                    "note: entrance {} is BLOCKED (block_reason: {reason}): the car cannot be charged through WeChat Pay while it stays blocked",
                    wechatpay_core::untrusted::printable(&answer.id)
                );
            }
            Ok(())
        }
    }
}

/// `wechatpay parking-order create`
pub(crate) fn create_order(s: &Settings, a: &CreateOrderArgs) -> Result<(), Failure> {
    let deduction = Deduction {
        appid: appid(s)?,
        out_trade_no: a.out_trade_no.clone(),
        description: a.description.clone(),
        total: Fen(a.total),
        notify_url: a.notify_url.clone(),
        parking_info: ParkingSession {
            parking_id: a.parking_id.clone(),
            plate_number: a.plate_number.clone(),
            plate_color: a.plate_color.clone(),
            start_time: a.start_time.clone(),
            end_time: a.end_time.clone(),
            parking_name: a.parking_name.clone(),
            charging_duration: a.charging_duration,
            device_id: a.device_id.clone(),
        },
        attach: a.attach.clone(),
        goods_tag: a.goods_tag.clone(),
        profit_sharing: a.profit_sharing.then_some(true),
    };
    let now = SystemTime::now();
    let op = match &a.sub_mchid {
        Some(sub) => CreateParkingOrder::partner(sub.clone(), a.sub_appid.clone(), deduction, now)?,
        None => CreateParkingOrder::new(deduction, now)?,
    };
    let client = settings::client(s)?;
    print_json(&client.execute(&op)?)
}
