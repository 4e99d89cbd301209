//! The answers of the parking flow before the deduction (PROTOCOL.md §16): a plate's service
//! state (`find`) and a car's entrance (`parkings`).

use serde::{Deserialize, Serialize};

use super::extra::keep_unknown_fields;
use super::open_enum::open_enum;
use super::{Extra, PlateColor, Rfc3339};

open_enum! {
    /// A plate's parking-service state (`service_state` of `find`). Data to route the user
    /// on, never an error.
    pub enum ServiceState {
        /// The service is open (正常): send the user to plate management.
        Normal = "NORMAL",
        /// The user paused the service (暂停): send the user to plate management.
        Pause = "PAUSE",
        /// The plate never opened the service (未开通): send the user to the opening page.
        OutService = "OUT_SERVICE",
    }
}

open_enum! {
    /// Whether an entrance can be charged through WeChat Pay (`state` of the entrance answer).
    pub enum EntranceState {
        /// It can (正常).
        Normal = "NORMAL",
        /// It cannot while it stays blocked (不可用); see `block_reason`. A `200`, not an error:
        /// the entrance exists and may turn `NORMAL` later.
        Blocked = "BLOCKED",
    }
}

open_enum! {
    /// Why an entrance is blocked (`block_reason`, only when `state` is `BLOCKED`).
    pub enum BlockReason {
        /// The user paused the service (用户暂停).
        Pause = "PAUSE",
        /// The user is in arrears (用户欠费).
        Overdue = "OVERDUE",
        /// The plate has not opened the service (用户未开通).
        OutService = "OUT_SERVICE",
        /// WeChat Pay Score is not available to the user (支付分评估失败).
        EvaluationFailed = "EVALUATION_FAILED",
    }
}

/// A plate's parking service (`GET /v3/vehicle/parking/services/find`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct ParkingService {
    /// The plate asked about (echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_number: Option<String>,
    /// Its colour (echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_color: Option<PlateColor>,
    /// The user asked about (echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// When the service was opened (absent if it never was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_open_time: Option<Rfc3339>,
    /// The service's state.
    pub service_state: ServiceState,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// A car's entrance (`POST /v3/vehicle/parking/parkings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct ParkingEntrance {
    /// WeChat Pay's entrance id (停车入场ID): the `parking_id` a deduction needs
    /// ([`ParkingEntrance::parking_id`] validates it).
    pub id: String,
    /// The sub-merchant (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// The merchant's entrance number (echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_parking_no: Option<String>,
    /// The plate (echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_number: Option<String>,
    /// Its colour (echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_color: Option<PlateColor>,
    /// Where state changes are sent (echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// Entry time (echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Rfc3339>,
    /// The car park's name (echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_name: Option<String>,
    /// Free parking time in seconds (echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_duration: Option<i64>,
    /// Whether the car can be charged through WeChat Pay.
    pub state: EntranceState,
    /// Why not (only when `state` is `BLOCKED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_reason: Option<BlockReason>,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

impl ParkingEntrance {
    /// The entrance `id` as the [`crate::ParkingId`] a deduction takes.
    ///
    /// # Errors
    /// [`crate::InvalidInput`] naming `parking_id` when the answer's `id` breaks the rule.
    pub fn parking_id(&self) -> Result<crate::ids::ParkingId, crate::ids::InvalidInput> {
        crate::ids::ParkingId::new(self.id.as_str())
    }

    /// Whether the car cannot be charged through WeChat Pay while the entrance stays so.
    pub fn is_blocked(&self) -> bool {
        self.state == EntranceState::Blocked
    }
}

keep_unknown_fields!(ParkingService, ParkingEntrance);

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn answers_parse_and_round_trip_with_open_enums() {
        let text = r#"{"plate_number":"粤B888888","plate_color":"BLUE","openid":"oUpF8uMuAJO","service_open_time":"2017-08-26T10:43:39+08:00","service_state":"NORMAL","later":[1]}"#;
        let s: ParkingService = serde_json::from_str(text).unwrap();
        assert_eq!(s.service_state, ServiceState::Normal);
        assert_eq!(serde_json::to_value(&s).unwrap(), serde_json::from_str::<Value>(text).unwrap());
        let never: ParkingService = serde_json::from_str(r#"{"service_state":"OUT_SERVICE"}"#).unwrap();
        assert_eq!(never.service_state, ServiceState::OutService);
        assert!(never.service_open_time.is_none());

        let text = r#"{"id":"5K8264ILTKCH16CQ250","out_parking_no":"1231243","plate_number":"粤B888888","plate_color":"LIMEGREEN","notify_url":"https://yoursite.com/wxpay.html","start_time":"2017-08-26T10:43:39+08:00","parking_name":"欢乐海岸停车场","free_duration":0,"state":"BLOCKED","block_reason":"EVALUATION_FAILED"}"#;
        let e: ParkingEntrance = serde_json::from_str(text).unwrap();
        assert!(e.is_blocked());
        assert_eq!(e.block_reason, Some(BlockReason::EvaluationFailed));
        assert_eq!(e.plate_color, Some(PlateColor::LimeGreen));
        assert_eq!(e.parking_id().unwrap().as_str(), "5K8264ILTKCH16CQ250");
        assert_eq!(serde_json::to_value(&e).unwrap(), serde_json::from_str::<Value>(text).unwrap());
        let odd: ParkingEntrance =
            serde_json::from_str(r#"{"id":"a b","state":"FROZEN","block_reason":"NEW"}"#).unwrap();
        assert!(matches!(&odd.state, EntranceState::Unknown(v) if v.as_str() == "FROZEN"));
        assert!(matches!(&odd.block_reason, Some(BlockReason::Unknown(v)) if v.as_str() == "NEW"));
        assert_eq!(odd.parking_id().unwrap_err().field(), "parking_id");
        assert!(serde_json::from_str::<ParkingEntrance>(r#"{"state":"NORMAL"}"#).is_err());
    }
}
