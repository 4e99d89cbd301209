//! The parking service (微信支付分停车服务, PROTOCOL.md §16): a plate's service state, a car's
//! entrance, the deduction that creates the parking order, and the order query.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{Binding, Operation, Target, VerificationFailure, json_body, same, same_opt};
use crate::ids::{AppId, InvalidInput, MchId, OpenId, OutParkingNo, OutTradeNo, ParkingId, SubMchId};
use crate::model::{Fen, ParkingEntrance, ParkingService, ParkingTransaction, PlateColor, Rfc3339};
use crate::notify_url::NotifyUrl;

/// Parking service: query an order by merchant order number.
/// `GET /v3/vehicle/transactions/out-trade-no/{out_trade_no}[?sub_mchid={sub}]`:
/// a service provider names the sub-merchant, a merchant leaves `sub_mchid` out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryParkingOrder {
    /// The order number.
    pub out_trade_no: OutTradeNo,
    /// The sub-merchant, for a service provider; `None` for a merchant.
    pub sub_mchid: Option<SubMchId>,
}

impl Operation for QueryParkingOrder {
    type Output = ParkingTransaction;
    const NAME: &'static str = "query_parking_order";
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "vehicle", "transactions", "out-trade-no"])
            .segment(self.out_trade_no.as_str())
            .query_opt("sub_mchid", self.sub_mchid.as_ref().map(SubMchId::as_str))
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// Binds `out_trade_no`, and `sub_mchid` when one was asked for (a merchant's answer
    /// names no merchant id to compare).
    fn check_answer(&self, _mchid: &MchId, answer: &ParkingTransaction) -> Result<Binding, VerificationFailure> {
        same("out_trade_no", &answer.out_trade_no, self.out_trade_no.as_str())?;
        if let Some(sub) = &self.sub_mchid {
            same_opt("sub_mchid", answer.sub_mchid.as_deref(), sub.as_str())?;
        }
        Ok(Binding::Checked)
    }
}

const PLATE_RULE: &str = "1-32 characters (province + number, e.g. 粤B888888), no whitespace or control characters";
const PLATE_COLOR_RULE: &str = "1-16 upper-case letters: BLUE, GREEN, YELLOW, BLACK, WHITE or LIMEGREEN";

/// Refuses text shorter than `min` or longer than `max` characters.
fn length(field: &'static str, value: &str, min: usize, max: usize, rule: &'static str) -> Result<(), InvalidInput> {
    let n = value.chars().count();
    if n < min {
        return Err(InvalidInput::new(field, "is empty", rule));
    }
    if n > max {
        return Err(InvalidInput::new(field, format!("is {n} characters long"), rule));
    }
    if value.chars().any(char::is_control) {
        return Err(InvalidInput::new(field, "contains a control character", rule));
    }
    Ok(())
}

/// A number plate (`plate_number`): province + number, e.g. `粤B888888` — non-ASCII. Sent
/// percent-encoded (UTF-8, upper-case hex) in a query, plain UTF-8 in a JSON body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PlateNumber(String);

impl PlateNumber {
    /// The rule a `plate_number` must follow.
    pub const RULE: &'static str = PLATE_RULE;

    /// Validates a plate number.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `plate_number`.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
        let value = value.into();
        length("plate_number", &value, 1, 32, PLATE_RULE)?;
        if value.chars().any(char::is_whitespace) {
            return Err(InvalidInput::new("plate_number", "contains whitespace", PLATE_RULE));
        }
        Ok(PlateNumber(value))
    }

    /// The plate as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for PlateNumber {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, InvalidInput> {
        PlateNumber::new(s)
    }
}

/// Checks a plate colour to be sent: a known one, or (the enum is open) upper-case letters.
///
/// # Errors
/// [`InvalidInput`] naming `plate_color`.
pub fn check_plate_color(color: &PlateColor) -> Result<(), InvalidInput> {
    let s = color.as_str();
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(InvalidInput::new("plate_color", format!("is {s:?}"), PLATE_COLOR_RULE));
    }
    Ok(())
}

/// Parking service: a plate's service state (查询车牌服务开通信息).
/// `GET /v3/vehicle/parking/services/find?appid=…&openid=…&plate_color=…&plate_number=…[&sub_mchid=…]`
/// (keys sorted; the plate percent-encoded as UTF-8 with upper-case hex, and the signature
/// covers the encoded target exactly as sent). Answered by a [`ParkingService`]; its
/// `service_state` (`NORMAL`, `PAUSE`, `OUT_SERVICE`) is data, never an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindParkingService {
    /// The app id the `openid` belongs to (bound to the (service provider's) mchid).
    pub appid: AppId,
    /// The sub-merchant, for a service provider; `None` for a merchant.
    pub sub_mchid: Option<SubMchId>,
    /// The plate.
    pub plate_number: PlateNumber,
    /// Its colour (checked by [`check_plate_color`] when built with [`FindParkingService::new`]).
    pub plate_color: PlateColor,
    /// The user under `appid`.
    pub openid: OpenId,
}

impl FindParkingService {
    /// A find request; `sub_mchid` for a service provider.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `plate_color` when it is not upper-case letters.
    pub fn new(
        appid: AppId,
        sub_mchid: Option<SubMchId>,
        plate_number: PlateNumber,
        plate_color: PlateColor,
        openid: OpenId,
    ) -> Result<FindParkingService, InvalidInput> {
        check_plate_color(&plate_color)?;
        Ok(FindParkingService { appid, sub_mchid, plate_number, plate_color, openid })
    }
}

impl Operation for FindParkingService {
    type Output = ParkingService;
    const NAME: &'static str = "find_parking_service";
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "vehicle", "parking", "services", "find"])
            .query("appid", self.appid.as_str())
            .query("openid", self.openid.as_str())
            .query("plate_color", self.plate_color.as_str())
            .query("plate_number", self.plate_number.as_str())
            .query_opt("sub_mchid", self.sub_mchid.as_ref().map(SubMchId::as_str))
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// Binds the echoed `plate_number`, `plate_color` and `openid`.
    fn check_answer(&self, _mchid: &MchId, answer: &ParkingService) -> Result<Binding, VerificationFailure> {
        same_opt("plate_number", answer.plate_number.as_deref(), self.plate_number.as_str())?;
        same_opt("plate_color", answer.plate_color.as_ref().map(PlateColor::as_str), self.plate_color.as_str())?;
        same_opt("openid", answer.openid.as_deref(), self.openid.as_str())?;
        Ok(Binding::Checked)
    }
}

/// The fields of a car's entrance (停车入场), checked by [`CreateEntrance::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entrance {
    /// The merchant's entrance number, unique per merchant (1-64).
    pub out_parking_no: OutParkingNo,
    /// The plate.
    pub plate_number: PlateNumber,
    /// Its colour.
    pub plate_color: PlateColor,
    /// Entry time.
    pub start_time: Rfc3339,
    /// The car park's name, 1-128 characters.
    pub parking_name: String,
    /// Free parking time in seconds, not negative (`0` is legal).
    pub free_duration: i64,
    /// Where WeChat Pay sends `VEHICLE.ENTRANCE_STATE_CHANGE`.
    pub notify_url: NotifyUrl,
}

/// Parking service: register a car's entrance (停车入场), `POST /v3/vehicle/parking/parkings`,
/// answered by a [`ParkingEntrance`] whose `id` is the [`ParkingId`] the deduction needs. A
/// `BLOCKED` entrance is a `200`, not an error. A service provider names the sub-merchant in
/// the body ([`CreateEntrance::partner`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateEntrance {
    sub_mchid: Option<SubMchId>,
    entrance: Entrance,
}

impl CreateEntrance {
    /// A merchant's entrance.
    ///
    /// # Errors
    /// [`InvalidInput`] naming the first field that breaks its rule (`plate_color`,
    /// `parking_name` 1-128 characters, `free_duration` ≥ 0).
    pub fn new(entrance: Entrance) -> Result<CreateEntrance, InvalidInput> {
        check_plate_color(&entrance.plate_color)?;
        length("parking_name", &entrance.parking_name, 1, 128, "1-128 characters")?;
        if entrance.free_duration < 0 {
            return Err(InvalidInput::new(
                "free_duration",
                format!("is {}", entrance.free_duration),
                "whole seconds, not negative (0 is legal)",
            ));
        }
        Ok(CreateEntrance { sub_mchid: None, entrance })
    }

    /// A service provider's entrance for `sub_mchid`.
    ///
    /// # Errors
    /// As [`CreateEntrance::new`].
    pub fn partner(sub_mchid: SubMchId, entrance: Entrance) -> Result<CreateEntrance, InvalidInput> {
        Ok(CreateEntrance { sub_mchid: Some(sub_mchid), ..CreateEntrance::new(entrance)? })
    }

    /// The entrance's fields.
    pub fn entrance(&self) -> &Entrance {
        &self.entrance
    }

    /// The sub-merchant (partner mode).
    pub fn sub_mchid(&self) -> Option<&SubMchId> {
        self.sub_mchid.as_ref()
    }
}

#[derive(Serialize)]
struct EntranceBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_mchid: Option<&'a str>,
    out_parking_no: &'a str,
    plate_number: &'a str,
    plate_color: &'a str,
    notify_url: &'a str,
    start_time: &'a str,
    parking_name: &'a str,
    free_duration: i64,
}

impl Operation for CreateEntrance {
    type Output = ParkingEntrance;
    const NAME: &'static str = "create_parking_entrance";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "vehicle", "parking", "parkings"])
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        let e = &self.entrance;
        json_body(&EntranceBody {
            sub_mchid: self.sub_mchid.as_ref().map(SubMchId::as_str),
            out_parking_no: e.out_parking_no.as_str(),
            plate_number: e.plate_number.as_str(),
            plate_color: e.plate_color.as_str(),
            notify_url: e.notify_url.as_str(),
            start_time: e.start_time.as_str(),
            parking_name: &e.parking_name,
            free_duration: e.free_duration,
        })
    }
    /// An entrance is keyed on `out_parking_no`: repeating it with the same number and the
    /// identical body (PROTOCOL.md §16; what a repeat answers is unconfirmed) never makes a
    /// second entrance the way a new number would.
    fn idempotent(&self) -> bool {
        true
    }
    /// Binds the echoed `out_parking_no`, and `sub_mchid` when one was sent.
    fn check_answer(&self, _mchid: &MchId, answer: &ParkingEntrance) -> Result<Binding, VerificationFailure> {
        same_opt("out_parking_no", answer.out_parking_no.as_deref(), self.entrance.out_parking_no.as_str())?;
        if let Some(sub) = &self.sub_mchid {
            same_opt("sub_mchid", answer.sub_mchid.as_deref(), sub.as_str())?;
        }
        Ok(Binding::Checked)
    }
}

/// The parking details of a deduction (`parking_info`): they repeat the entrance's plate,
/// colour and `start_time` exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParkingSession {
    /// WeChat Pay's entrance id (the entrance answer's `id`, never the `out_parking_no`).
    pub parking_id: ParkingId,
    /// The plate, as at the entrance.
    pub plate_number: PlateNumber,
    /// Its colour, as at the entrance.
    pub plate_color: PlateColor,
    /// Entry time, as at the entrance.
    pub start_time: Rfc3339,
    /// Exit time: after `start_time`, not in the future.
    pub end_time: Rfc3339,
    /// The car park's name, 1-128 characters.
    pub parking_name: String,
    /// The charged time in seconds, not negative (`0` is legal).
    pub charging_duration: i64,
    /// The car park's device id, 1-32 characters.
    pub device_id: String,
}

/// The fields of a deduction (扣费受理), checked by [`CreateParkingOrder::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deduction {
    /// The app id (bound to the (service provider's) mchid).
    pub appid: AppId,
    /// The order number: 1-32 of `[0-9A-Za-z_-*]` (no `|` here); never reused.
    pub out_trade_no: OutTradeNo,
    /// The deduction's text in the trade bill, 1-128 characters.
    pub description: String,
    /// The amount in fen, greater than 0 (currency `CNY`).
    pub total: Fen,
    /// Where WeChat Pay sends `TRANSACTION.SUCCESS` / `.FAIL` / `.PAY_BACK`.
    pub notify_url: NotifyUrl,
    /// The parking session.
    pub parking_info: ParkingSession,
    /// Merchant data echoed back, 1-128 characters.
    pub attach: Option<String>,
    /// A goods tag, 1-32 characters.
    pub goods_tag: Option<String>,
    /// `profit_sharing` `Y` (true) or `N` (false); `None` leaves it out (`N`).
    pub profit_sharing: Option<bool>,
}

/// Parking service: ask for the deduction that creates the parking order (扣费受理),
/// `POST /v3/vehicle/transactions/parking`, answered by the [`ParkingTransaction`], normally
/// `ACCEPTED` (not paid: watch it until final). A service provider names the sub-merchant
/// (and optionally its app) in the body ([`CreateParkingOrder::partner`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateParkingOrder {
    sub_mchid: Option<SubMchId>,
    sub_appid: Option<AppId>,
    deduction: Deduction,
}

impl CreateParkingOrder {
    /// A merchant's deduction, validated with `now` as the present (the exit time may not be
    /// after it).
    ///
    /// # Errors
    /// [`InvalidInput`] naming the first field that breaks its rule: `out_trade_no` (no `|`),
    /// `description`, `amount.total` (> 0), `attach`, `goods_tag`, `parking_info.*`
    /// (`start_time` < `end_time` ≤ `now`, `charging_duration` ≥ 0, `parking_name`,
    /// `device_id`, `plate_color`).
    pub fn new(deduction: Deduction, now: SystemTime) -> Result<CreateParkingOrder, InvalidInput> {
        check_deduction(&deduction, now)?;
        Ok(CreateParkingOrder { sub_mchid: None, sub_appid: None, deduction })
    }

    /// A service provider's deduction for `sub_mchid` (the one used at the entrance), with
    /// the sub-merchant's `sub_appid` if any.
    ///
    /// # Errors
    /// As [`CreateParkingOrder::new`].
    pub fn partner(
        sub_mchid: SubMchId,
        sub_appid: Option<AppId>,
        deduction: Deduction,
        now: SystemTime,
    ) -> Result<CreateParkingOrder, InvalidInput> {
        check_deduction(&deduction, now)?;
        Ok(CreateParkingOrder { sub_mchid: Some(sub_mchid), sub_appid, deduction })
    }

    /// The deduction's fields.
    pub fn deduction(&self) -> &Deduction {
        &self.deduction
    }

    /// The sub-merchant (partner mode).
    pub fn sub_mchid(&self) -> Option<&SubMchId> {
        self.sub_mchid.as_ref()
    }
}

fn check_deduction(d: &Deduction, now: SystemTime) -> Result<(), InvalidInput> {
    if d.out_trade_no.as_str().contains('|') {
        return Err(InvalidInput::new(
            "out_trade_no",
            "contains '|'",
            "1-32 characters of [0-9A-Za-z_-*] for a parking deduction",
        ));
    }
    length("description", &d.description, 1, 128, "1-128 characters")?;
    if d.total.get() <= 0 {
        return Err(InvalidInput::new(
            "amount.total",
            format!("is {}", d.total.get()),
            "an amount in fen greater than 0",
        ));
    }
    if let Some(attach) = &d.attach {
        length("attach", attach, 1, 128, "1-128 characters")?;
    }
    if let Some(tag) = &d.goods_tag {
        length("goods_tag", tag, 1, 32, "1-32 characters")?;
    }
    let p = &d.parking_info;
    check_plate_color(&p.plate_color)
        .map_err(|e| InvalidInput::new("parking_info.plate_color", e.problem(), e.rule()))?;
    length("parking_info.parking_name", &p.parking_name, 1, 128, "1-128 characters")?;
    length("parking_info.device_id", &p.device_id, 1, 32, "1-32 characters")?;
    if p.charging_duration < 0 {
        return Err(InvalidInput::new(
            "parking_info.charging_duration",
            format!("is {}", p.charging_duration),
            "whole seconds, not negative (0 is legal)",
        ));
    }
    const ORDER_RULE: &str = "start_time < end_time <= now";
    if p.start_time.unix_timestamp() >= p.end_time.unix_timestamp() {
        return Err(InvalidInput::new("parking_info.end_time", "is not after start_time", ORDER_RULE));
    }
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if p.end_time.unix_timestamp() > now {
        return Err(InvalidInput::new("parking_info.end_time", "is in the future", ORDER_RULE));
    }
    Ok(())
}

#[derive(Serialize)]
struct DeductionAmount {
    total: i64,
    currency: &'static str,
}

#[derive(Serialize)]
struct ParkingInfoBody<'a> {
    parking_id: &'a str,
    plate_number: &'a str,
    plate_color: &'a str,
    start_time: &'a str,
    end_time: &'a str,
    parking_name: &'a str,
    charging_duration: i64,
    device_id: &'a str,
}

#[derive(Serialize)]
struct DeductionBody<'a> {
    appid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_appid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_mchid: Option<&'a str>,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    attach: Option<&'a str>,
    out_trade_no: &'a str,
    trade_scene: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    goods_tag: Option<&'a str>,
    notify_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    profit_sharing: Option<&'static str>,
    amount: DeductionAmount,
    parking_info: ParkingInfoBody<'a>,
}

impl Operation for CreateParkingOrder {
    type Output = ParkingTransaction;
    const NAME: &'static str = "create_parking_order";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "vehicle", "transactions", "parking"])
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        let d = &self.deduction;
        let p = &d.parking_info;
        json_body(&DeductionBody {
            appid: d.appid.as_str(),
            sub_appid: self.sub_appid.as_ref().map(AppId::as_str),
            sub_mchid: self.sub_mchid.as_ref().map(SubMchId::as_str),
            description: &d.description,
            attach: d.attach.as_deref(),
            out_trade_no: d.out_trade_no.as_str(),
            trade_scene: "PARKING",
            goods_tag: d.goods_tag.as_deref(),
            notify_url: d.notify_url.as_str(),
            profit_sharing: d.profit_sharing.map(|y| if y { "Y" } else { "N" }),
            amount: DeductionAmount { total: d.total.get(), currency: "CNY" },
            parking_info: ParkingInfoBody {
                parking_id: p.parking_id.as_str(),
                plate_number: p.plate_number.as_str(),
                plate_color: p.plate_color.as_str(),
                start_time: p.start_time.as_str(),
                end_time: p.end_time.as_str(),
                parking_name: &p.parking_name,
                charging_duration: p.charging_duration,
                device_id: &p.device_id,
            },
        })
    }
    /// A deduction may be repeated with the same `out_trade_no` and the identical body
    /// (PROTOCOL.md §16; the driver signs the same bytes on every attempt), never with a new
    /// number.
    fn idempotent(&self) -> bool {
        true
    }
    /// Binds `out_trade_no`, and `sub_mchid` when one was sent (a merchant's answer names no
    /// id of its own to compare: `sp_mchid` there is unconfirmed).
    fn check_answer(&self, _mchid: &MchId, answer: &ParkingTransaction) -> Result<Binding, VerificationFailure> {
        same("out_trade_no", &answer.out_trade_no, self.deduction.out_trade_no.as_str())?;
        if let Some(sub) = &self.sub_mchid {
            same_opt("sub_mchid", answer.sub_mchid.as_deref(), sub.as_str())?;
        }
        Ok(Binding::Checked)
    }
}
