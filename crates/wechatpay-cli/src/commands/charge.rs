//! `order charge`, `partner-order charge`, `order reverse`, `partner-order reverse`: payment
//! code at the till (PROTOCOL.md §14). The charge runs the core's charge machine
//! ([`wechatpay_core::charge`]) and prints one stderr line per step.

use std::time::Duration;

use clap::Args;
use serde::Serialize;
use wechatpay_core::api::{
    AuthCode, Codepay, CodepayOrder, CodepaySceneInfo, CodepayStore, PartnerCodepay, PartnerIds, PartnerReverse,
    Reverse,
};
use wechatpay_core::charge::{ChargeCodepay, ChargeEvent, ChargeOutcome, ChargePolicy, ChargeStep};
use wechatpay_core::model::Fen;
use wechatpay_core::watch::WatchedOrder;
use wechatpay_core::{AppId, Error, InvalidInput, OutTradeNo, SubMchId, untrusted};

use super::{emit, print_json};
use crate::args::Settings;
use crate::failure::{Failure, NOT_PAID, UNRESOLVED};
use crate::settings;

/// `charge`'s flags.
#[derive(Debug, Args)]
pub(crate) struct ChargeArgs {
    /// The merchant order number (6-32 characters; a new one for each scanned code).
    #[arg(long)]
    pub(crate) out_trade_no: String,
    /// The scanned payment code (18 digits).
    #[arg(long, value_name = "CODE")]
    pub(crate) auth_code: String,
    /// The amount in fen (> 0).
    #[arg(long, value_name = "FEN", allow_hyphen_values = true)]
    pub(crate) total: i64,
    /// What is sold (1-127 characters).
    #[arg(long, value_name = "TEXT")]
    pub(crate) description: String,
    /// WeChat Pay's id of the store (线下场所ID); this or --store-out-id is required.
    #[arg(long, value_name = "ID", conflicts_with = "store_out_id")]
    pub(crate) store_id: Option<String>,
    /// The merchant's own store code.
    #[arg(long, value_name = "ID")]
    pub(crate) store_out_id: Option<String>,
    /// The till's IP address (scene_info.device_ip).
    #[arg(long, value_name = "IP")]
    pub(crate) device_ip: Option<String>,
    /// Merchant data echoed by queries (1-128 characters).
    #[arg(long, value_name = "TEXT")]
    pub(crate) attach: Option<String>,
    /// Seconds after the codepay to keep asking before reversing (default 45); a reverse
    /// that fails is sent again for as long.
    #[arg(long, value_name = "SECS", default_value = "45", allow_hyphen_values = true, value_parser = deadline_secs)]
    pub(crate) deadline: f64,
    /// Ask every SECS seconds (at least 0.1; default 5).
    #[arg(long, value_name = "SECS", default_value = "5", allow_hyphen_values = true, value_parser = interval_secs)]
    pub(crate) interval: f64,
    /// Never reverse sooner than SECS after the codepay (default 15; 0 allowed).
    #[arg(long, value_name = "SECS", default_value = "15", allow_hyphen_values = true, value_parser = reverse_delay_secs)]
    pub(crate) reverse_delay: f64,
}

/// `reverse`'s flags (the app id is the `--appid` setting: the one the codepay was sent
/// with, a partner's `sp_appid`).
#[derive(Debug, Args)]
pub(crate) struct ReverseArgs {
    /// The merchant order number.
    #[arg(long)]
    pub(crate) out_trade_no: OutTradeNo,
}

fn seconds(text: &str, min: f64, max: f64) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && (min..=max).contains(&secs) => Ok(secs),
        _ => Err(format!("rule: a number of seconds from {min} to {max}")),
    }
}

fn deadline_secs(text: &str) -> Result<f64, String> {
    seconds(text, 0.0, 3600.0)
}

fn interval_secs(text: &str) -> Result<f64, String> {
    seconds(text, 0.1, 3600.0)
}

fn reverse_delay_secs(text: &str) -> Result<f64, String> {
    seconds(text, 0.0, 3600.0)
}

/// The validated charge (exit 2 naming the field before anything is signed).
fn order(a: &ChargeArgs) -> Result<CodepayOrder, Failure> {
    let store = match (&a.store_id, &a.store_out_id) {
        (Some(id), _) => CodepayStore::Id(id.clone()),
        (None, Some(id)) => CodepayStore::OutId(id.clone()),
        (None, None) => {
            let rule = "give --store-id (WeChat Pay's place id) or --store-out-id (your store code)";
            return Err(InvalidInput::new("scene_info.store_info", "is missing", rule).into());
        }
    };
    let mut scene = CodepaySceneInfo::new(store)?;
    if let Some(ip) = &a.device_ip {
        scene = scene.device_ip(ip)?;
    }
    let code = AuthCode::new(&a.auth_code)?;
    let mut order = CodepayOrder::new(&a.out_trade_no, &a.description, Fen(a.total), code, scene)?;
    if let Some(attach) = &a.attach {
        order = order.attach(attach)?;
    }
    Ok(order)
}

fn policy(a: &ChargeArgs) -> ChargePolicy {
    ChargePolicy::default()
        .with_deadline(Duration::from_secs_f64(a.deadline))
        .with_interval(Duration::from_secs_f64(a.interval))
        .with_reverse_delay(Duration::from_secs_f64(a.reverse_delay))
        .with_reverse_for(Duration::from_secs_f64(a.deadline))
}

/// `wechatpay order charge` (no `sub_mchid`) and `wechatpay partner-order charge`.
pub(crate) fn charge(
    s: &Settings,
    a: &ChargeArgs,
    sub_mchid: Option<&SubMchId>,
    sub_appid: Option<&str>,
) -> Result<(), Failure> {
    let appid = settings::appid(s)?;
    let order = order(a)?;
    let policy = policy(a);
    match sub_mchid {
        Some(sub_mchid) => {
            let sub_appid = sub_appid.map(AppId::new).transpose()?;
            let ids = PartnerIds { sp_appid: appid, sub_mchid: sub_mchid.clone(), sub_appid };
            let how = Commands::partner(sub_mchid);
            run(s, &PartnerCodepay { ids, order }, &policy, &how)
        }
        None => run(s, &Codepay { appid, order }, &policy, &Commands::direct()),
    }
}

/// The commands a till runs by hand for this charge's order: `order get`/`order reverse`,
/// or their `partner-order` twins with the `--sub-mchid` of the charge.
struct Commands {
    /// `order` or `partner-order`.
    family: &'static str,
    /// ` --sub-mchid ID` for a partner order, else empty.
    sub: String,
}

impl Commands {
    fn direct() -> Commands {
        Commands { family: "order", sub: String::new() }
    }

    fn partner(sub_mchid: &SubMchId) -> Commands {
        Commands { family: "partner-order", sub: format!(" --sub-mchid {}", sub_mchid.as_str()) }
    }

    fn get(&self, no: &str) -> String {
        format!("wechatpay {} get --out-trade-no {no}{}", self.family, self.sub)
    }

    fn reverse(&self, no: &str) -> String {
        format!("wechatpay {} reverse --out-trade-no {no}{}", self.family, self.sub)
    }
}

fn run<C: ChargeCodepay>(s: &Settings, op: &C, policy: &ChargePolicy, how: &Commands) -> Result<(), Failure> {
    let client = settings::client(s)?;
    let no = op.out_trade_no().as_str().to_owned();
    crate::interrupt::note(format!(
        "charge {no} interrupted: its state is unknown; query it ({}) and reverse it ({})",
        how.get(&no),
        how.reverse(&no)
    ));
    match client.charge(op, policy, report)? {
        ChargeOutcome::Paid(order) => print_json(&order),
        ChargeOutcome::NotPaid(order) => {
            print_json(&order)?;
            let state = untrusted::printable(order.trade_state()).max_chars(64).to_string();
            Err(Failure { code: NOT_PAID, message: format!("not paid: the order is {state}") })
        }
        ChargeOutcome::Unresolved { last_known, error } => {
            let state = last_known
                .as_ref()
                .map_or("unknown".to_owned(), |o| untrusted::printable(o.trade_state()).max_chars(64).to_string());
            let why = error.as_ref().map_or_else(String::new, |e| format!("; last error: {}", error_words(e)));
            let line = format!(
                "charge: UNRESOLVED: order {no} may have been paid (last known state {state}{why}); \
                 query it ({}) and reverse it again ({}) before the customer leaves",
                how.get(&no),
                how.reverse(&no)
            );
            say_err(&line);
            Err(Failure { code: UNRESOLVED, message: format!("charge of {no} unresolved: escalate") })
        }
        _ => Err(Failure::other("unexpected charge outcome")),
    }
}

/// An error in a few words for a step line: status and code, or the transport's words.
fn error_words(e: &Error) -> String {
    match (e.status(), e.api_code()) {
        (Some(status), Some(code)) => {
            format!("{} {}", status.as_u16(), untrusted::printable(code).max_chars(64))
        }
        (Some(status), None) => format!("{} ({})", status.as_u16(), e.label()),
        _ => untrusted::printable(&e.to_string()).max_chars(200).to_string(),
    }
}

fn say_err(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// One stderr line per step: `charge: [5.0 s] USERPAYING -> SUCCESS` (states escaped).
fn report<T: WatchedOrder>(step: &ChargeStep<'_, T>) {
    let state = |o: &T| untrusted::printable(o.trade_state()).max_chars(64).to_string();
    let what = match &step.event {
        ChargeEvent::CodepayAnswered(o) => format!("codepay: 200 {}", state(o)),
        ChargeEvent::CodepayUserPaying => "codepay: 202 USERPAYING".to_owned(),
        ChargeEvent::CodepayFailed { error, refused: true } => format!("codepay refused: {}", error_words(error)),
        ChargeEvent::CodepayFailed { error, .. } => format!("codepay: {}: querying", error_words(error)),
        ChargeEvent::Queried { order, previous: Some(before) } => {
            format!("{} -> {}", untrusted::printable(before).max_chars(64), state(order))
        }
        ChargeEvent::Queried { order, previous: None } => format!("query: {}", state(order)),
        ChargeEvent::QueryFailed(e) => format!("query failed: {}", error_words(e)),
        ChargeEvent::Reversing { state: Some(s) } => {
            format!("still {}: reversing", untrusted::printable(s).max_chars(64))
        }
        ChargeEvent::Reversing { state: None } => "still unanswered: reversing".to_owned(),
        ChargeEvent::ReverseFailed(e) => format!("reverse failed: {}: trying again", error_words(e)),
        ChargeEvent::Reversed(Ok(())) => return,
        ChargeEvent::Reversed(Err(e)) => format!("reverse refused: {}", error_words(e)),
        ChargeEvent::Confirmed(o) => format!("reversed -> {}", state(o)),
        ChargeEvent::ConfirmFailed(e) => format!("reversed; query failed: {}", error_words(e)),
        _ => return,
    };
    say_err(&format!("charge: [{:.1} s] {what}", step.elapsed.as_secs_f64()));
}

/// `wechatpay order reverse` and `wechatpay partner-order reverse`: prints
/// `{"out_trade_no":"…","reversed":true}` once WeChat Pay answers.
pub(crate) fn reverse(
    s: &Settings,
    a: &ReverseArgs,
    sub_mchid: Option<&SubMchId>,
    sub_appid: Option<&str>,
) -> Result<(), Failure> {
    let appid = settings::appid(s)?;
    let out_trade_no = a.out_trade_no.clone();
    let client = settings::client(s)?;
    match sub_mchid {
        Some(sub_mchid) => {
            let sub_appid = sub_appid.map(AppId::new).transpose()?;
            let ids = PartnerIds { sp_appid: appid, sub_mchid: sub_mchid.clone(), sub_appid };
            client.execute(&PartnerReverse { ids, out_trade_no })?
        }
        None => client.execute(&Reverse { appid, out_trade_no })?,
    };
    #[derive(Serialize)]
    struct ReversedOrder<'a> {
        out_trade_no: &'a str,
        reversed: bool,
    }
    let line = crate::json::to_line(&ReversedOrder { out_trade_no: a.out_trade_no.as_str(), reversed: true })
        .map_err(|e| Failure::other(format!("cannot print JSON: {e}")))?;
    emit(&line)
}
