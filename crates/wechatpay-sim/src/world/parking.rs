//! The parking service's own entities (PROTOCOL.md §16): plate services, set by the admin
//! API, and entrances, created by the API; the deduction turns an entrance into a parking
//! order (an [`Order`] of kind `Parking`, which then lives like every other order).
//!
//! ```text
//! plate service  NORMAL | PAUSE | OUT_SERVICE              (admin: create or replace)
//! entrance       NORMAL ⇄ BLOCKED(block_reason)             (admin: state, notified)
//!                └─ superseded by a newer entrance for the plate, or used by a deduction
//! deduction      entrance → order ACCEPTED ──▶ SUCCESS | PAY_FAIL ──(BPA, repaid)──▶ PAY_BACK event
//! ```

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::World;
use super::order::{Notify, Order, OrderKind, TradeState};
use crate::delivery::NotifyUrl;

/// A plate's parking service, as the admin API set it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct PlateService {
    pub plate_number: String,
    pub plate_color: String,
    pub openid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_open_time: Option<String>,
    pub service_state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
}

/// A car's entrance.
#[derive(Clone, Debug)]
pub(crate) struct Entrance {
    /// WeChat Pay's id (16+ random alphanumerics).
    pub id: String,
    /// The caller that created it (merchant or service provider).
    pub sp_mchid: String,
    pub sub_mchid: Option<String>,
    pub out_parking_no: String,
    pub plate_number: String,
    pub plate_color: String,
    pub notify_url: String,
    pub start_time: String,
    pub parking_name: String,
    pub free_duration: i64,
    /// `NORMAL` or `BLOCKED` (any string given by the admin API).
    pub state: String,
    pub block_reason: Option<String>,
    /// A newer entrance for the same plate exists: this one can no longer be deducted.
    pub superseded: bool,
    /// The `out_trade_no` of the deduction that used it.
    pub used_by: Option<String>,
    /// The request body it was created from (a repeat must be identical).
    pub request: Value,
    /// Where its state changes are delivered (`None`: a URL the simulator may not post to).
    pub url: Option<NotifyUrl>,
}

impl Entrance {
    /// The API's answer: WeChat Pay's `id`, the body's fields echoed, the state.
    pub(crate) fn answer(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "out_parking_no": self.out_parking_no,
            "plate_number": self.plate_number,
            "plate_color": self.plate_color,
            "notify_url": self.notify_url,
            "start_time": self.start_time,
            "parking_name": self.parking_name,
            "free_duration": self.free_duration,
            "state": self.state,
        });
        if let Some(sub) = &self.sub_mchid {
            v["sub_mchid"] = json!(sub);
        }
        if let Some(reason) = &self.block_reason {
            v["block_reason"] = json!(reason);
        }
        v
    }

    /// The admin view: the answer, plus whether it can still be deducted.
    pub(crate) fn admin_view(&self) -> Value {
        let mut v = self.answer();
        v["sp_mchid"] = json!(self.sp_mchid);
        v["superseded"] = json!(self.superseded);
        v["used"] = json!(self.used_by.is_some());
        if let Some(no) = &self.used_by {
            v["out_trade_no"] = json!(no);
        }
        v
    }

    /// The plaintext of `VEHICLE.ENTRANCE_STATE_CHANGE` (PROTOCOL.md §8/§16).
    fn state_change(&self, now: i64) -> Value {
        let mut v = json!({
            "sp_mchid": self.sp_mchid,
            "parking_id": self.id,
            "out_parking_no": self.out_parking_no,
            "plate_number": self.plate_number,
            "plate_color": self.plate_color,
            "start_time": self.start_time,
            "parking_name": self.parking_name,
            "free_duration": self.free_duration,
            "parking_state": self.state,
            "state_update_time": crate::clock::beijing_rfc3339(now),
        });
        if let Some(sub) = &self.sub_mchid {
            v["sub_mchid"] = json!(sub);
        }
        if let Some(reason) = &self.block_reason {
            v["blocked_state_description"] = json!(reason);
        }
        v
    }
}

/// A deduction as asked: who, which number, which body (a repeat must be identical).
#[derive(Clone, Debug)]
struct Deduction {
    caller: String,
    sub_mchid: Option<String>,
    out_trade_no: String,
    request: Value,
}

/// The parking service's state.
#[derive(Debug, Default)]
pub(crate) struct Parking {
    plates: Vec<PlateService>,
    entrances: Vec<Entrance>,
    deductions: Vec<Deduction>,
    /// Whether notify URLs may name other hosts than loopback (`--allow-remote-notify`).
    pub allow_remote_notify: bool,
}

/// Why a parking call was refused: `(status, code, message)`.
pub(crate) type Refusal = (u16, &'static str, String);

fn invalid_request(message: impl Into<String>) -> Refusal {
    (400, "INVALID_REQUEST", message.into())
}

/// An entrance to create, from a checked request body.
#[derive(Clone, Debug)]
pub(crate) struct NewEntrance {
    pub sub_mchid: Option<String>,
    pub out_parking_no: String,
    pub plate_number: String,
    pub plate_color: String,
    pub notify_url: String,
    pub start_time: String,
    pub parking_name: String,
    pub free_duration: i64,
}

/// A deduction to make, from a checked request body.
#[derive(Clone, Debug)]
pub(crate) struct NewDeduction {
    pub sub_mchid: Option<String>,
    pub sub_appid: Option<String>,
    pub appid: String,
    pub out_trade_no: String,
    pub description: String,
    pub attach: Option<String>,
    pub goods_tag: Option<String>,
    pub notify_url: String,
    pub total: i64,
    pub parking_info: Map<String, Value>,
}

/// A fresh entrance id: 20 random upper-case alphanumerics.
fn fresh_entrance_id() -> String {
    let nonce = wechatpay_core::Nonce::random().map(|n| n.as_str().to_ascii_uppercase()).unwrap_or_else(|_| {
        let now = u64::try_from(crate::clock::now()).unwrap_or_default();
        format!("SIM{now:020}")
    });
    nonce.chars().take(20).collect()
}

impl World {
    /// Creates or replaces the plate service of `plate_number`/`plate_color`;
    /// `service_open_time` is set (now) when `NORMAL` or `PAUSE`, kept when it was open.
    pub(crate) fn set_plate(&mut self, mut plate: PlateService) -> PlateService {
        let p = &mut self.parking;
        let old =
            p.plates.iter().position(|s| s.plate_number == plate.plate_number && s.plate_color == plate.plate_color);
        let open = matches!(plate.service_state.as_str(), "NORMAL" | "PAUSE");
        plate.service_open_time = if open {
            old.and_then(|i| p.plates[i].service_open_time.clone())
                .or_else(|| Some(crate::clock::beijing_rfc3339(crate::clock::now())))
        } else {
            None
        };
        match old {
            Some(i) => p.plates[i] = plate.clone(),
            None => p.plates.push(plate.clone()),
        }
        plate
    }

    /// The plate service of `plate_number`/`plate_color` for `sub_mchid` (a service set
    /// without one serves every merchant).
    fn plate(&self, plate_number: &str, plate_color: &str, sub_mchid: Option<&str>) -> Option<&PlateService> {
        self.parking.plates.iter().find(|s| {
            s.plate_number == plate_number
                && s.plate_color == plate_color
                && s.sub_mchid.as_deref().is_none_or(|sub| Some(sub) == sub_mchid)
        })
    }

    /// The answer to `find`: the plate service for `openid`, or `OUT_SERVICE` without an
    /// opening time for a plate never opened (by this user).
    pub(crate) fn find_plate(
        &self,
        plate_number: &str,
        plate_color: &str,
        openid: &str,
        sub_mchid: Option<&str>,
    ) -> Value {
        let mut v = json!({ "plate_number": plate_number, "plate_color": plate_color, "openid": openid });
        match self.plate(plate_number, plate_color, sub_mchid).filter(|s| s.openid == openid) {
            Some(s) => {
                if let Some(t) = &s.service_open_time {
                    v["service_open_time"] = json!(t);
                }
                v["service_state"] = json!(s.service_state);
            }
            None => v["service_state"] = json!("OUT_SERVICE"),
        }
        v
    }

    /// Creates an entrance for `caller` (or answers the one with the same `out_parking_no`
    /// and identical body): `NORMAL` when the plate's service is `NORMAL`, else `BLOCKED`
    /// with `PAUSE` or `OUT_SERVICE`. A newer entrance for the plate supersedes the older.
    pub(crate) fn create_entrance(&mut self, caller: &str, new: NewEntrance, request: Value) -> Result<Value, Refusal> {
        let sub = new.sub_mchid.clone();
        let same_no =
            |e: &Entrance| e.sp_mchid == caller && e.sub_mchid == sub && e.out_parking_no == new.out_parking_no;
        if let Some(e) = self.parking.entrances.iter().rev().find(|e| same_no(e)) {
            if e.request == request {
                return Ok(e.answer());
            }
            return Err((
                403,
                "OUT_PARKING_NO_USED",
                "out_parking_no 已被使用且参数不一致 (the same out_parking_no with another body)".to_owned(),
            ));
        }
        let (state, block_reason) = match self.plate(&new.plate_number, &new.plate_color, sub.as_deref()) {
            Some(s) if s.service_state == "NORMAL" => ("NORMAL", None),
            Some(s) if s.service_state == "PAUSE" => ("BLOCKED", Some("PAUSE")),
            _ => ("BLOCKED", Some("OUT_SERVICE")),
        };
        for older in self
            .parking
            .entrances
            .iter_mut()
            .filter(|e| e.plate_number == new.plate_number && e.plate_color == new.plate_color)
        {
            older.superseded = true;
        }
        let url = NotifyUrl::parse(&new.notify_url, self.parking.allow_remote_notify).ok();
        let entrance = Entrance {
            id: fresh_entrance_id(),
            sp_mchid: caller.to_owned(),
            sub_mchid: sub,
            out_parking_no: new.out_parking_no,
            plate_number: new.plate_number,
            plate_color: new.plate_color,
            notify_url: new.notify_url,
            start_time: new.start_time,
            parking_name: new.parking_name,
            free_duration: new.free_duration,
            state: state.to_owned(),
            block_reason: block_reason.map(str::to_owned),
            superseded: false,
            used_by: None,
            request,
            url,
        };
        let answer = entrance.answer();
        self.parking.entrances.push(entrance);
        Ok(answer)
    }

    /// The entrance `id`, as the admin API shows it.
    pub(crate) fn entrance(&self, id: &str) -> Option<Value> {
        self.parking.entrances.iter().find(|e| e.id == id).map(Entrance::admin_view)
    }

    /// Sets entrance `id`'s state (and block reason: `BLOCKED` without one is `PAUSE`;
    /// `NORMAL` has none) and sends `VEHICLE.ENTRANCE_STATE_CHANGE` to its `notify_url`.
    pub(crate) fn set_entrance_state(&mut self, id: &str, state: &str, block_reason: Option<&str>) -> Option<Value> {
        let e = self.parking.entrances.iter_mut().find(|e| e.id == id)?;
        e.state = state.to_owned();
        e.block_reason = match state {
            "NORMAL" => None,
            "BLOCKED" => Some(block_reason.unwrap_or("PAUSE").to_owned()),
            _ => block_reason.map(str::to_owned),
        };
        let plaintext = e.state_change(crate::clock::now());
        if let Some(url) = e.url.clone() {
            self.outbox.push(Notify {
                kind: OrderKind::Parking,
                out_trade_no: e.out_parking_no.clone(),
                event_type: "VEHICLE.ENTRANCE_STATE_CHANGE",
                summary: "停车入场状态变更",
                resource: serde_json::to_vec(&plaintext).unwrap_or_default(),
                url,
            });
        }
        Some(e.admin_view())
    }

    /// A deduction: the parking order, `ACCEPTED`, with `parking_info` as sent. The entrance
    /// must exist (the caller's), be the newest for its plate and unused, and `parking_info`
    /// must repeat its plate, colour and `start_time`; the `sub_mchid` must be the
    /// entrance's. The same `out_trade_no` with an identical body answers the same order;
    /// with another body, `403 OUT_TRADE_NO_USED`.
    pub(crate) fn deduct(&mut self, caller: &str, new: NewDeduction, request: Value) -> Result<Value, Refusal> {
        let sub = new.sub_mchid.clone();
        let mine = |caller_: &str, sub_: &Option<String>| caller_ == caller && *sub_ == sub;
        if let Some(d) =
            self.parking.deductions.iter().find(|d| mine(&d.caller, &d.sub_mchid) && d.out_trade_no == new.out_trade_no)
        {
            if d.request != request {
                return Err((
                    403,
                    "OUT_TRADE_NO_USED",
                    "商户订单号重复 (the same out_trade_no with another body)".to_owned(),
                ));
            }
            let index = self.numbered(OrderKind::Parking, &new.out_trade_no);
            return index
                .map(|i| self.orders[i].to_json())
                .ok_or_else(|| (500, "SYSTEM_ERROR", "the order is gone".to_owned()));
        }
        if self.numbered(OrderKind::Parking, &new.out_trade_no).is_some() {
            return Err((403, "OUT_TRADE_NO_USED", "商户订单号重复 (out_trade_no already used)".to_owned()));
        }
        let info = &new.parking_info;
        let text = |k: &str| info.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let parking_id = text("parking_id");
        let not_exist = || invalid_request(format!("停车入场id不存在 (no entrance {parking_id:?})"));
        let index = self
            .parking
            .entrances
            .iter()
            .position(|e| e.id == parking_id && e.sp_mchid == caller)
            .ok_or_else(not_exist)?;
        let e = &self.parking.entrances[index];
        if e.superseded {
            return Err(invalid_request("停车入场id不存在 (superseded: a newer entrance exists for this plate)"));
        }
        if e.used_by.is_some() {
            return Err(invalid_request("场景信息和停车入场id不匹配 (the entrance was already deducted)"));
        }
        if e.sub_mchid != sub {
            return Err(invalid_request("场景信息和停车入场id不匹配 (sub_mchid differs from the entrance's)"));
        }
        for (field, entrance_value) in
            [("plate_number", &e.plate_number), ("plate_color", &e.plate_color), ("start_time", &e.start_time)]
        {
            if text(field) != *entrance_value {
                return Err(invalid_request(format!(
                    "场景信息和停车入场id不匹配 (parking_info.{field} differs from the entrance's)"
                )));
            }
        }
        let openid = self.plate(&e.plate_number, &e.plate_color, sub.as_deref()).map(|s| s.openid.clone());
        let now = crate::clock::now();
        let mut order = json!({
            "appid": new.appid,
            "sp_mchid": caller,
            "description": new.description,
            "create_time": crate::clock::beijing_rfc3339(now),
            "out_trade_no": new.out_trade_no,
            "trade_state": "ACCEPTED",
            "trade_scene": "PARKING",
            "parking_info": Value::Object(new.parking_info.clone()),
            "amount": {"total": new.total, "currency": "CNY"},
        });
        for (k, v) in
            [("sub_mchid", &sub), ("sub_appid", &new.sub_appid), ("attach", &new.attach), ("goods_tag", &new.goods_tag)]
        {
            if let Some(v) = v {
                order[k] = json!(v);
            }
        }
        if let Some(openid) = openid {
            order["payer"] = json!({ "openid": openid });
        }
        let mut order =
            Order::from_json(OrderKind::Parking, order).map_err(|e| (500, "SYSTEM_ERROR", e.to_string()))?;
        order.fill_identity();
        order.notify_url = NotifyUrl::parse(&new.notify_url, self.parking.allow_remote_notify).ok();
        let answer = order.to_json();
        self.parking.entrances[index].used_by = Some(new.out_trade_no.clone());
        self.parking.deductions.push(Deduction {
            caller: caller.to_owned(),
            sub_mchid: sub,
            out_trade_no: new.out_trade_no,
            request,
        });
        self.add(order);
        Ok(answer)
    }

    /// The user paid back an advanced parking order (`bank_type` `BPA`, `SUCCESS`):
    /// `user_repaid` becomes `Y` (the state stays `SUCCESS`) and `TRANSACTION.PAY_BACK` is
    /// sent to the deduction's `notify_url`.
    pub(crate) fn repaid(&mut self, out_trade_no: &str, fields: Map<String, Value>) -> Option<Result<Value, String>> {
        let index = self.numbered(OrderKind::Parking, out_trade_no)?;
        self.advance(index, false);
        let order = &self.orders[index];
        let json = order.to_json();
        if order.trade_state != Some(TradeState::Success)
            || json.get("bank_type").and_then(Value::as_str) != Some("BPA")
        {
            return Some(Err(
                "user_repaid: only an advanced order (SUCCESS with bank_type BPA) is paid back".to_owned()
            ));
        }
        if json.get("user_repaid").and_then(Value::as_str) == Some("Y") {
            return Some(Ok(json));
        }
        let order = &mut self.orders[index];
        if let Err(e) = order.transition(TradeState::Success, fields, crate::clock::now()) {
            return Some(Err(e.to_string()));
        }
        if let Some(url) = order.notify_url.clone() {
            self.outbox.push(Notify {
                kind: OrderKind::Parking,
                out_trade_no: order.out_trade_no.clone(),
                event_type: "TRANSACTION.PAY_BACK",
                summary: "还款成功",
                resource: order.bytes().to_vec(),
                url,
            });
        }
        Some(Ok(self.orders[index].to_json()))
    }
}
