//! One order as a Rust value: the fields the simulator reads or changes are typed, every
//! other field is kept as given; and the order's one transition function.
//!
//! An order is served as the JSON object of all its fields in key order, so an order that
//! was added as JSON is answered exactly as `serde_json` serialises that JSON (the typed
//! fields are taken out of it only when they read back identically; an odd value, such as
//! `"transaction_id": null` or a `trade_state` that is a number, stays where it was, as given).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::credentials::{MCHID, SUB_MCHID};
use crate::delivery::NotifyUrl;

/// Which API an order is answered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// A direct merchant's order (`/v3/pay/transactions/...`).
    Direct,
    /// A service provider's sub-merchant order (`/v3/pay/partner/transactions/...`).
    Partner,
    /// A parking-service order (`/v3/vehicle/transactions/...`).
    Parking,
}

impl OrderKind {
    /// Every kind, in the order of an orders file.
    pub(crate) const ALL: [OrderKind; 3] = [OrderKind::Direct, OrderKind::Partner, OrderKind::Parking];

    /// The key of this kind in an orders file (also its name in the admin API).
    pub fn file_key(self) -> &'static str {
        match self {
            OrderKind::Direct => "direct",
            OrderKind::Partner => "partner",
            OrderKind::Parking => "parking",
        }
    }

    /// The kind named `name` (`direct`, `partner`, `parking`).
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.file_key() == name)
    }

    /// The field that carries the state's description (`trade_state_description` for
    /// parking orders, `trade_state_desc` otherwise).
    fn description_field(self) -> &'static str {
        match self {
            OrderKind::Parking => "trade_state_description",
            _ => "trade_state_desc",
        }
    }
}

/// An order or orders file the simulator cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderError(String);

impl OrderError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OrderError {}

impl From<OrderError> for std::io::Error {
    fn from(e: OrderError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// `trade_state`: the states WeChat Pay documents, and any other string on purpose (fault
/// injection: a state a client does not know yet).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TradeState {
    /// `SUCCESS`: paid.
    Success,
    /// `REFUND`: moved to refund.
    Refund,
    /// `NOTPAY`: not paid.
    NotPay,
    /// `CLOSED`: closed.
    Closed,
    /// `REVOKED`: reversed (payment code).
    Revoked,
    /// `USERPAYING`: the payer is entering a password (payment code).
    UserPaying,
    /// `PAYERROR`: payment failed.
    PayError,
    /// `ACCEPTED`: accepted, waiting to be charged (parking).
    Accepted,
    /// `PAY_FAIL`: payment failed (parking).
    PayFail,
    /// `FAIL`: the spelling parking failure notifications use.
    Fail,
    /// `PAY_BACK`: the payer paid back an advance (parking).
    PayBack,
    /// Any other state, kept as given.
    Unknown(String),
}

impl TradeState {
    /// The documented states, with their wire names.
    const KNOWN: [(TradeState, &'static str); 11] = [
        (TradeState::Success, "SUCCESS"),
        (TradeState::Refund, "REFUND"),
        (TradeState::NotPay, "NOTPAY"),
        (TradeState::Closed, "CLOSED"),
        (TradeState::Revoked, "REVOKED"),
        (TradeState::UserPaying, "USERPAYING"),
        (TradeState::PayError, "PAYERROR"),
        (TradeState::Accepted, "ACCEPTED"),
        (TradeState::PayFail, "PAY_FAIL"),
        (TradeState::Fail, "FAIL"),
        (TradeState::PayBack, "PAY_BACK"),
    ];

    /// The state named `s`; an unknown name is [`TradeState::Unknown`].
    pub(crate) fn parse(s: &str) -> Self {
        Self::KNOWN.iter().find(|(_, name)| *name == s).map_or_else(|| Self::Unknown(s.to_owned()), |(t, _)| t.clone())
    }

    /// The documented state names (for error messages).
    pub(crate) fn known_names() -> impl Iterator<Item = &'static str> {
        Self::KNOWN.iter().map(|(_, name)| *name)
    }

    /// The wire name.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Unknown(s) => s,
            known => Self::KNOWN.iter().find(|(t, _)| t == known).map_or("", |(_, name)| name),
        }
    }

    /// Whether this is a documented state.
    pub(crate) fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown(_))
    }

    /// The description WeChat Pay gives with the state (the state itself when unknown).
    pub(crate) fn description(&self) -> &str {
        match self {
            Self::Success => "支付成功",
            Self::Refund => "转入退款",
            Self::NotPay => "订单未支付",
            Self::Closed => "订单已关闭",
            Self::Revoked => "已撤销（付款码支付）",
            Self::UserPaying => "用户支付中（付款码支付）",
            Self::PayError | Self::PayFail | Self::Fail => "支付失败",
            Self::Accepted => "已接收，等待扣款",
            Self::PayBack => "还款成功",
            Self::Unknown(s) => s,
        }
    }

    /// The notification a change of an order of `kind` to this state sends, if any:
    /// `(event_type, summary)` (PROTOCOL.md §8).
    pub(crate) fn event(&self, kind: OrderKind) -> Option<(&'static str, &'static str)> {
        match (kind, self) {
            (_, Self::Success) => Some(("TRANSACTION.SUCCESS", "支付成功")),
            (OrderKind::Parking, Self::PayFail | Self::Fail) => Some(("TRANSACTION.FAIL", "支付失败")),
            (OrderKind::Parking, Self::PayBack) => Some(("TRANSACTION.PAY_BACK", "还款成功")),
            _ => None,
        }
    }
}

/// `payer`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Payer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_openid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `amount`, in fen.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Amount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_currency: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `parking_info` of a parking order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ParkingInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One order.
#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub kind: OrderKind,
    pub out_trade_no: String,
    pub transaction_id: Option<String>,
    pub appid: Option<String>,
    pub mchid: Option<String>,
    pub sp_appid: Option<String>,
    pub sp_mchid: Option<String>,
    pub sub_mchid: Option<String>,
    pub trade_type: Option<String>,
    pub trade_state: Option<TradeState>,
    /// `trade_state_desc`, or `trade_state_description` for a parking order.
    pub trade_state_desc: Option<String>,
    pub success_time: Option<String>,
    pub bank_type: Option<String>,
    pub payer: Option<Payer>,
    pub amount: Option<Amount>,
    pub description: Option<String>,
    pub create_time: Option<String>,
    pub trade_scene: Option<String>,
    pub parking_info: Option<ParkingInfo>,
    /// Every other field, as given.
    pub other: Map<String, Value>,
    /// Where its notifications go (the simulator's own; never served).
    pub notify_url: Option<NotifyUrl>,
    /// The prepay that created it, if one did (the simulator's own; shown by the admin
    /// API, never served by a query).
    pub prepay: Option<super::prepay::Prepay>,
    /// The served bytes, kept in step with the fields by [`Order::refresh`].
    bytes: Arc<[u8]>,
}

/// Takes `name` out of `map` as a `T` when it reads back as exactly the same JSON.
fn take<T: DeserializeOwned + Serialize>(map: &mut Map<String, Value>, name: &str) -> Option<T> {
    let value = map.get(name)?;
    let typed: T = serde_json::from_value(value.clone()).ok()?;
    if serde_json::to_value(&typed).ok().as_ref() != Some(value) {
        return None;
    }
    map.remove(name);
    Some(typed)
}

/// Puts `value` into `map` under `name` when present.
fn put<T: Serialize>(map: &mut Map<String, Value>, name: &str, value: Option<&T>) {
    if let Some(v) = value.and_then(|v| serde_json::to_value(v).ok()) {
        map.insert(name.to_owned(), v);
    }
}

/// A fresh 28-digit transaction id.
fn fresh_transaction_id() -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    let now = u64::try_from(crate::clock::now()).unwrap_or_default();
    format!("4200000001{:010}{:08}", now % 10_000_000_000, N.fetch_add(1, Ordering::Relaxed) % 100_000_000)
}

impl Order {
    /// An order of `kind` from its JSON: an object with a string `out_trade_no`; a partner
    /// order also needs a string `sub_mchid`. Nothing is added.
    pub(crate) fn from_json(kind: OrderKind, json: Value) -> Result<Self, OrderError> {
        let Value::Object(mut map) = json else { return Err(OrderError::new("an order must be a JSON object")) };
        let out_trade_no: String = take(&mut map, "out_trade_no")
            .ok_or_else(|| OrderError::new("an order needs a string \"out_trade_no\""))?;
        let sub_mchid: Option<String> = take(&mut map, "sub_mchid");
        if kind == OrderKind::Partner && sub_mchid.is_none() {
            return Err(OrderError::new("a partner order needs a string \"sub_mchid\""));
        }
        let trade_state = take::<String>(&mut map, "trade_state").map(|s| TradeState::parse(&s));
        let mut order = Self {
            kind,
            out_trade_no,
            transaction_id: take(&mut map, "transaction_id"),
            appid: take(&mut map, "appid"),
            mchid: take(&mut map, "mchid"),
            sp_appid: take(&mut map, "sp_appid"),
            sp_mchid: take(&mut map, "sp_mchid"),
            sub_mchid,
            trade_type: take(&mut map, "trade_type"),
            trade_state,
            trade_state_desc: take(&mut map, kind.description_field()),
            success_time: take(&mut map, "success_time"),
            bank_type: take(&mut map, "bank_type"),
            payer: take(&mut map, "payer"),
            amount: take(&mut map, "amount"),
            description: take(&mut map, "description"),
            create_time: take(&mut map, "create_time"),
            trade_scene: take(&mut map, "trade_scene"),
            parking_info: take(&mut map, "parking_info"),
            other: map,
            notify_url: None,
            prepay: None,
            bytes: Arc::from(&b""[..]),
        };
        order.refresh();
        Ok(order)
    }

    /// An order as the Rust handle or an orders file gives it: as is, with what a client
    /// needs to parse it filled in where missing ([`Order::fill_identity`]).
    pub(crate) fn given(kind: OrderKind, json: Value) -> Result<Self, OrderError> {
        let mut order = Self::from_json(kind, json)?;
        order.fill_identity();
        Ok(order)
    }

    /// The order as its query answers it.
    pub(crate) fn to_json(&self) -> Value {
        let mut map = self.other.clone();
        put(&mut map, "out_trade_no", Some(&self.out_trade_no));
        put(&mut map, "transaction_id", self.transaction_id.as_ref());
        put(&mut map, "appid", self.appid.as_ref());
        put(&mut map, "mchid", self.mchid.as_ref());
        put(&mut map, "sp_appid", self.sp_appid.as_ref());
        put(&mut map, "sp_mchid", self.sp_mchid.as_ref());
        put(&mut map, "sub_mchid", self.sub_mchid.as_ref());
        put(&mut map, "trade_type", self.trade_type.as_ref());
        put(&mut map, "trade_state", self.trade_state.as_ref().map(TradeState::as_str).as_ref());
        put(&mut map, self.kind.description_field(), self.trade_state_desc.as_ref());
        put(&mut map, "success_time", self.success_time.as_ref());
        put(&mut map, "bank_type", self.bank_type.as_ref());
        put(&mut map, "payer", self.payer.as_ref());
        put(&mut map, "amount", self.amount.as_ref());
        put(&mut map, "description", self.description.as_ref());
        put(&mut map, "create_time", self.create_time.as_ref());
        put(&mut map, "trade_scene", self.trade_scene.as_ref());
        put(&mut map, "parking_info", self.parking_info.as_ref());
        Value::Object(map)
    }

    /// The order as the admin API shows it: as a query answers it, plus what the simulator
    /// keeps of its prepay (`prepay_id`, `code_url`, `notify_url`).
    pub(crate) fn admin_json(&self) -> Value {
        let mut json = self.to_json();
        if let (Some(prepay), Value::Object(map)) = (&self.prepay, &mut json) {
            prepay.admin_fields(map);
        }
        json
    }

    /// The bytes a query is answered with.
    pub(crate) fn bytes(&self) -> Arc<[u8]> {
        Arc::clone(&self.bytes)
    }

    /// Brings the served bytes in step with the fields.
    fn refresh(&mut self) {
        // Serialising a JSON value cannot fail.
        self.bytes = serde_json::to_vec(&self.to_json()).unwrap_or_default().into();
    }

    /// Sets `fields` over the order, as if they had been in its JSON; `out_trade_no` cannot
    /// change (nor the kind).
    fn set_fields(&mut self, fields: Map<String, Value>) -> Result<(), OrderError> {
        if fields.is_empty() {
            return Ok(());
        }
        let Value::Object(mut json) = self.to_json() else { return Ok(()) };
        json.extend(fields);
        let mut next = Self::from_json(self.kind, Value::Object(json))?;
        if next.out_trade_no != self.out_trade_no {
            return Err(OrderError::new("out_trade_no: cannot be changed"));
        }
        next.notify_url = self.notify_url.take();
        next.prepay = self.prepay.take();
        *self = next;
        Ok(())
    }

    /// Fills what a client needs to parse the order where it is missing: the merchant ids of
    /// its kind, a state (`NOTPAY`, parking `ACCEPTED`) and its description.
    pub(crate) fn fill_identity(&mut self) {
        match self.kind {
            OrderKind::Direct => fill(&mut self.mchid, MCHID),
            OrderKind::Partner => fill(&mut self.sp_mchid, MCHID),
            OrderKind::Parking => {}
        }
        let default = if self.kind == OrderKind::Parking { TradeState::Accepted } else { TradeState::NotPay };
        let state = self.trade_state.get_or_insert(default).description().to_owned();
        fill(&mut self.trade_state_desc, &state);
        self.refresh();
    }

    /// Fills what an order created over the admin API (or its Rust equivalent) needs to look
    /// like WeChat Pay's answer, where missing: ids and app ids of its kind, state and
    /// description, amount, the paid fields of a paid order, and for a parking order its
    /// description, creation time, scene, payer and `parking_info` (returned whenever
    /// `trade_scene` is `PARKING`).
    pub(crate) fn complete(&mut self, now: i64) {
        self.fill_identity();
        match self.kind {
            OrderKind::Direct => {
                fill(&mut self.appid, "wxd678efh567hg6787");
                fill(&mut self.trade_type, "NATIVE");
            }
            OrderKind::Partner => {
                fill(&mut self.sp_appid, "wx8888888888888888");
                fill(&mut self.trade_type, "NATIVE");
            }
            OrderKind::Parking => {
                fill(&mut self.appid, "wxcbda96de0b165486");
                fill(&mut self.sp_mchid, MCHID);
                fill(&mut self.sub_mchid, SUB_MCHID);
                fill(&mut self.description, "停车场扣费");
                fill(&mut self.create_time, &crate::clock::beijing_rfc3339(now));
                fill(&mut self.trade_scene, "PARKING");
                if self.payer.is_none() {
                    self.payer = Some(Payer { openid: Some("oUpF8uMuAJOM2pxb1Q".to_owned()), ..Payer::default() });
                }
                if self.trade_scene.as_deref() == Some("PARKING") && self.parking_info.is_none() {
                    self.parking_info = Some(plausible_parking_info(now));
                }
            }
        }
        let amount = self.amount.get_or_insert_with(Amount::default);
        amount.total.get_or_insert(1);
        fill(&mut amount.currency, "CNY");
        if self.trade_state == Some(TradeState::Success) {
            self.fill_paid(now);
        }
        self.refresh();
    }

    /// The fields a paid order has, where missing: `success_time`; for a direct or partner
    /// order also `transaction_id`, `bank_type`, `payer` and the payer's amount.
    fn fill_paid(&mut self, now: i64) {
        fill(&mut self.success_time, &crate::clock::beijing_rfc3339(now));
        if self.kind == OrderKind::Parking {
            return;
        }
        if self.transaction_id.is_none() {
            self.transaction_id = Some(fresh_transaction_id());
        }
        fill(&mut self.bank_type, "OTHERS");
        if self.payer.is_none() {
            let payer = match self.kind {
                OrderKind::Partner => Payer {
                    sp_openid: Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".to_owned()),
                    sub_openid: Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6p".to_owned()),
                    ..Payer::default()
                },
                _ => Payer { openid: Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".to_owned()), ..Payer::default() },
            };
            self.payer = Some(payer);
        }
        if let Some(amount) = &mut self.amount {
            let total = amount.total.unwrap_or(1);
            amount.payer_total.get_or_insert(total);
            fill(&mut amount.payer_currency, "CNY");
        }
    }

    /// The one transition of an order: to state `to`, then `fields` set over it.
    ///
    /// A change to another state sets the state and its description and, for `SUCCESS`, the
    /// paid fields that are missing; it notifies when the new state has an event (PROTOCOL.md §8)
    /// and the order a notify URL. A change to the state the order is in changes nothing
    /// but the `fields` given, and notifies nobody. Every change of state, whichever door it
    /// came through (a query that makes a scheduled change due, a close, the admin API, the
    /// Rust handle), goes through here.
    ///
    /// # Errors
    /// When `fields` would change `out_trade_no` or make the order unusable; the order is
    /// then unchanged.
    pub(crate) fn transition(
        &mut self,
        to: TradeState,
        fields: Map<String, Value>,
        now: i64,
    ) -> Result<Transitioned, OrderError> {
        let before = self.clone();
        let changed = self.trade_state.as_ref() != Some(&to);
        let own_description = fields.contains_key(self.kind.description_field());
        if let Err(e) = self.set_fields(fields) {
            *self = before;
            return Err(e);
        }
        if changed {
            if !own_description {
                self.trade_state_desc = Some(to.description().to_owned());
            }
            self.trade_state = Some(to.clone());
            if to == TradeState::Success {
                self.fill_paid(now);
            }
        }
        self.refresh();
        let event = if changed { to.event(self.kind) } else { None };
        let notify = event.zip(self.notify_url.clone()).map(|((event_type, summary), url)| Notify {
            kind: self.kind,
            out_trade_no: self.out_trade_no.clone(),
            event_type,
            summary,
            resource: self.bytes.to_vec(),
            url,
        });
        Ok(Transitioned { notify })
    }
}

/// Sets `slot` to `value` when it is empty.
fn fill(slot: &mut Option<String>, value: &str) {
    if slot.is_none() {
        *slot = Some(value.to_owned());
    }
}

/// A `parking_info` for a parking order created without one: two hours in a simulated car
/// park, ending now.
fn plausible_parking_info(now: i64) -> ParkingInfo {
    ParkingInfo {
        parking_id: Some("5K8264ILTKCH16CQ250".to_owned()),
        plate_number: Some("粤B888888".to_owned()),
        plate_color: Some("BLUE".to_owned()),
        start_time: Some(crate::clock::beijing_rfc3339(now - 7200)),
        end_time: Some(crate::clock::beijing_rfc3339(now)),
        parking_name: Some("模拟停车场".to_owned()),
        charging_duration: Some(7200),
        device_id: None,
        other: Map::new(),
    }
}

/// What a transition did.
#[derive(Debug)]
pub(crate) struct Transitioned {
    /// The notification to send, if any.
    pub notify: Option<Notify>,
}

/// A notification a transition sends: what about, where to.
#[derive(Clone, Debug)]
pub(crate) struct Notify {
    pub kind: OrderKind,
    pub out_trade_no: String,
    pub event_type: &'static str,
    pub summary: &'static str,
    /// The order as its query answers it after the change.
    pub resource: Vec<u8>,
    pub url: NotifyUrl,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn orders_read_back_byte_for_byte() {
        for json in [
            json!({"out_trade_no": "A", "transaction_id": null, "trade_state": 7, "amount": {"total": 1.5}}),
            json!({"out_trade_no": "A", "mchid": "1", "trade_state": "PARTIAL", "payer": {"openid": "o", "x": [1]},
                   "zz": {"deep": true}, "amount": {"total": 100, "currency": "CNY", "discount_total": 1}}),
        ] {
            let order = Order::from_json(OrderKind::Direct, json.clone()).unwrap();
            assert_eq!(&*order.bytes(), serde_json::to_vec(&json).unwrap().as_slice());
        }
        let odd = Order::from_json(OrderKind::Direct, json!({"out_trade_no": "A", "trade_state": 7})).unwrap();
        assert_eq!(odd.trade_state, None);
        assert!(Order::from_json(OrderKind::Partner, json!({"out_trade_no": "A"})).is_err());
        assert!(Order::from_json(OrderKind::Direct, json!({"out_trade_no": 1})).is_err());
    }

    #[test]
    fn states_name_themselves_and_keep_unknown_ones() {
        for name in TradeState::known_names() {
            assert_eq!(TradeState::parse(name).as_str(), name);
            assert!(TradeState::parse(name).is_known());
        }
        assert_eq!(TradeState::parse("PARTIAL_REFUND"), TradeState::Unknown("PARTIAL_REFUND".to_owned()));
        assert_eq!(TradeState::parse("SOMETHING").description(), "SOMETHING");
        assert_eq!(TradeState::Closed.description(), "订单已关闭");
        assert_eq!(TradeState::PayBack.event(OrderKind::Parking).unwrap().0, "TRANSACTION.PAY_BACK");
        assert!(TradeState::PayFail.event(OrderKind::Direct).is_none());
    }

    #[test]
    fn a_transition_to_success_fills_the_paid_fields_once() {
        let mut order = Order::from_json(OrderKind::Direct, json!({"out_trade_no": "A"})).unwrap();
        order.complete(0);
        let url = NotifyUrl::parse("http://127.0.0.1:9/n", false).unwrap();
        order.notify_url = Some(url);
        let paid = order.transition(TradeState::Success, Map::new(), 0).unwrap();
        assert!(paid.notify.is_some());
        let json = order.to_json();
        assert_eq!(json["trade_state_desc"], "支付成功");
        assert_eq!(json["transaction_id"].as_str().unwrap().len(), 28);
        assert!(json["success_time"].is_string() && json["payer"]["openid"].is_string());
        assert_eq!(json["amount"]["payer_total"], 1);
        // Paying again changes nothing and notifies nobody.
        let again = order.transition(TradeState::Success, Map::new(), 99).unwrap();
        assert!(again.notify.is_none());
        assert_eq!(order.to_json(), json);
        // Fields cannot rename the order.
        let rename = json!({"out_trade_no": "B"}).as_object().unwrap().clone();
        assert!(order.transition(TradeState::Closed, rename, 0).is_err());
        assert_eq!(order.to_json(), json, "a refused transition leaves the order as it was");
    }

    #[test]
    fn parking_orders_get_a_plausible_parking_info() {
        let mut order = Order::from_json(OrderKind::Parking, json!({"out_trade_no": "P"})).unwrap();
        order.complete(1_795_442_761);
        let json = order.to_json();
        assert_eq!((json["trade_state"].as_str(), json["trade_scene"].as_str()), (Some("ACCEPTED"), Some("PARKING")));
        assert_eq!(json["parking_info"]["end_time"], "2026-11-23T22:06:01+08:00");
        assert_eq!(json["parking_info"]["charging_duration"], 7200);
        let mut other = Order::from_json(OrderKind::Parking, json!({"out_trade_no": "P", "trade_scene": "X"})).unwrap();
        other.complete(0);
        assert!(other.parking_info.is_none());
    }
}
