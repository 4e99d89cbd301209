//! The control API of the parking service (PROTOCOL.md §16): plate services, entrance
//! states, and an advanced order's repayment. `admin.rs` translates `/sim/parking/...` to
//! these calls.

use serde_json::{Map, Value};
use wechatpay_core::api::PlateNumber;
use wechatpay_core::{OpenId, SubMchId};

use super::{Control, ControlError};
use crate::world::parking::PlateService;

const COLORS: [&str; 6] = ["BLUE", "GREEN", "YELLOW", "BLACK", "WHITE", "LIMEGREEN"];
const SERVICE_STATES: [&str; 3] = ["NORMAL", "PAUSE", "OUT_SERVICE"];

fn invalid(m: impl Into<String>) -> ControlError {
    ControlError::Invalid(m.into())
}

/// A required string field of `body`.
fn text<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a str, ControlError> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(format!("{field}: required, a non-empty string")))
}

impl Control {
    /// `POST /sim/parking/plates` `{"plate_number","plate_color","openid","service_state",
    /// "sub_mchid"?}`: creates or replaces a plate's service; returns it.
    pub(crate) fn set_plate(&self, body: &Map<String, Value>) -> Result<Value, ControlError> {
        let plate_number = PlateNumber::new(text(body, "plate_number")?).map_err(|e| invalid(e.to_string()))?;
        let plate_color = text(body, "plate_color")?;
        if !COLORS.contains(&plate_color) {
            return Err(invalid(format!("plate_color: one of {}", COLORS.join(", "))));
        }
        let openid = OpenId::new(text(body, "openid")?).map_err(|e| invalid(e.to_string()))?;
        let service_state = text(body, "service_state")?;
        if !SERVICE_STATES.contains(&service_state) {
            return Err(invalid(format!("service_state: one of {}", SERVICE_STATES.join(", "))));
        }
        let sub_mchid = match body.get("sub_mchid") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(SubMchId::new(s.as_str()).map_err(|e| invalid(e.to_string()))?),
            Some(_) => return Err(invalid("sub_mchid: must be a string")),
        };
        let plate = PlateService {
            plate_number: plate_number.as_str().to_owned(),
            plate_color: plate_color.to_owned(),
            openid: openid.as_str().to_owned(),
            service_open_time: None,
            service_state: service_state.to_owned(),
            sub_mchid: sub_mchid.map(|s| s.as_str().to_owned()),
        };
        let plate = self.world(|w| w.set_plate(plate));
        serde_json::to_value(plate).map_err(|e| ControlError::Internal(e.to_string()))
    }

    /// `GET /sim/parking/entrances/{id}`.
    pub(crate) fn entrance(&self, id: &str) -> Result<Value, ControlError> {
        self.world(|w| w.entrance(id)).ok_or_else(|| ControlError::NotFound(format!("no entrance {id:?}")))
    }

    /// `POST /sim/parking/entrances/{id}/state` `{"state":"NORMAL"|"BLOCKED","block_reason"?}`:
    /// sets the state and delivers `VEHICLE.ENTRANCE_STATE_CHANGE`.
    pub(crate) fn set_entrance_state(&self, id: &str, body: &Map<String, Value>) -> Result<Value, ControlError> {
        let state = text(body, "state")?;
        if state != "NORMAL" && state != "BLOCKED" {
            return Err(invalid("state: NORMAL or BLOCKED"));
        }
        let reason = match body.get("block_reason") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.as_str()),
            Some(_) => return Err(invalid("block_reason: a non-empty string (PAUSE, OVERDUE, REMOVE, ...)")),
        };
        if state == "NORMAL" && reason.is_some() {
            return Err(invalid("block_reason: only with state BLOCKED"));
        }
        self.world(|w| w.set_entrance_state(id, state, reason))
            .ok_or_else(|| ControlError::NotFound(format!("no entrance {id:?}")))
    }

    /// Whether a change of parking order `out_trade_no` to `SUCCESS` with `fields` is the
    /// repayment of an advanced order: it is `SUCCESS` with `bank_type` `BPA` already, not yet
    /// repaid, and `fields` set `user_repaid` to `Y`.
    pub(crate) fn is_repayment(&self, out_trade_no: &str, fields: &Map<String, Value>) -> bool {
        if fields.get("user_repaid").and_then(Value::as_str) != Some("Y") {
            return false;
        }
        let Some(order) = self.world(|w| w.get(crate::world::OrderKind::Parking, out_trade_no)) else { return false };
        let text = |k: &str| order.get(k).and_then(Value::as_str);
        text("trade_state") == Some("SUCCESS") && text("bank_type") == Some("BPA") && text("user_repaid") != Some("Y")
    }

    /// `POST /sim/orders/parking/{out_trade_no}/state` `{"user_repaid":"Y"}` (no
    /// `trade_state`): the user paid back an advanced order; delivers `TRANSACTION.PAY_BACK`.
    pub(crate) fn parking_repaid(&self, out_trade_no: &str, fields: Map<String, Value>) -> Result<Value, ControlError> {
        if fields.get("user_repaid").and_then(Value::as_str) != Some("Y") {
            return Err(invalid(
                "trade_state: required, a non-empty string (or {\"user_repaid\":\"Y\"} for a parking order)",
            ));
        }
        match self.world(|w| w.repaid(out_trade_no, fields)) {
            None => Err(ControlError::NotFound(format!("no parking order {out_trade_no:?}"))),
            Some(result) => result.map_err(ControlError::Invalid),
        }
    }
}
