//! The parking service's entry-state event (`VEHICLE.ENTRANCE_STATE_CHANGE`): whether a car
//! that entered a car park may be charged through WeChat Pay Score (微信支付分停车服务).

use serde::{Deserialize, Serialize};

use super::extra::keep_unknown_fields;
use super::open_enum::open_enum;
use super::{Extra, PlateColor, Rfc3339};

open_enum! {
    /// The parking-service state of an entry (`parking_state`).
    pub enum ParkingState {
        /// The car can be charged through the parking service (正常).
        Normal = "NORMAL",
        /// The service is blocked for this entry (不可用); see `blocked_state_description`.
        Blocked = "BLOCKED",
    }
}

open_enum! {
    /// Why the parking service is blocked for an entry (`blocked_state_description`).
    pub enum BlockedState {
        /// The user paused the service (用户暂停).
        Pause = "PAUSE",
        /// The user has an overdue order (用户有欠费订单).
        Overdue = "OVERDUE",
        /// The user removed the service (用户移除).
        Remove = "REMOVE",
    }
}

/// The decrypted resource of a `VEHICLE.ENTRANCE_STATE_CHANGE` notification.
///
/// Fields WeChat Pay may add later are kept in `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct EntranceStateChange {
    /// The service provider's (or merchant's) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// The sub-merchant's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// The entry id assigned by the parking service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_id: Option<String>,
    /// The merchant's entry number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_parking_no: Option<String>,
    /// The plate (province + number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_number: Option<String>,
    /// The plate's colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_color: Option<PlateColor>,
    /// Entry time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Rfc3339>,
    /// The car park's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_name: Option<String>,
    /// Free parking time, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_duration: Option<i64>,
    /// Whether the service can charge this entry.
    pub parking_state: ParkingState,
    /// Why it is blocked (only when `parking_state` is `BLOCKED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_state_description: Option<BlockedState>,
    /// When the state changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_update_time: Option<Rfc3339>,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

keep_unknown_fields!(EntranceStateChange);

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn parses_and_round_trips_a_blocked_entry() {
        let text = r#"{"sp_mchid":"1900000100","sub_mchid":"1900000109","parking_id":"5K8264ILTKCH16CQ250","out_parking_no":"1231243","plate_number":"粤B888888","plate_color":"BLUE","start_time":"2017-08-26T10:43:39+08:00","parking_name":"欢乐海岸停车场","free_duration":3600,"parking_state":"BLOCKED","blocked_state_description":"OVERDUE","state_update_time":"2017-08-26T10:43:39+08:00","future":1}"#;
        let e: EntranceStateChange = serde_json::from_str(text).unwrap();
        assert_eq!(e.parking_state, ParkingState::Blocked);
        assert_eq!(e.blocked_state_description, Some(BlockedState::Overdue));
        assert_eq!(e.plate_color, Some(PlateColor::Blue));
        assert_eq!(e.free_duration, Some(3600));
        assert_eq!(e.extra.value("future").unwrap(), 1);
        let back: Value = serde_json::to_value(&e).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
        let odd: EntranceStateChange = serde_json::from_str(r#"{"parking_state":"SUSPENDED"}"#).unwrap();
        assert!(matches!(&odd.parking_state, ParkingState::Unknown(v) if v.as_str() == "SUSPENDED"));
        assert!(serde_json::from_str::<EntranceStateChange>(r#"{"sp_mchid":"1"}"#).is_err());
    }
}
