//! The order answered by the parking-service query API (微信支付分停车服务).

use serde::{Deserialize, Serialize};

use super::extra::keep_unknown_fields;
use super::{Currency, Extra, Fen, ParkingTradeState, PlateColor, PromotionDetail, Rfc3339, TradeScene, UserRepaid};

/// A parking-service order (`GET /v3/vehicle/transactions/out-trade-no/{out_trade_no}`).
///
/// Never infer the state from `trade_state_description`: the official example pairs
/// `SUCCESS` with a failure text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct ParkingTransaction {
    /// The app id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// The sub-merchant's app id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// The service provider's (or merchant's) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// The sub-merchant's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// The merchant's description of the charge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the order was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Rfc3339>,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The order's state.
    pub trade_state: ParkingTradeState,
    /// A description of the state and what to do next, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_state_description: Option<String>,
    /// When payment completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<Rfc3339>,
    /// The paying bank; `BPA` means WeChat Pay advanced the payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    /// Whether the user repaid an advance (only when `bank_type` is `BPA` and the
    /// state is `SUCCESS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_repaid: Option<UserRepaid>,
    /// Merchant data echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// The scene; `PARKING` carries `parking_info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_scene: Option<TradeScene>,
    /// The parking details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_info: Option<ParkingInfo>,
    /// Who paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<ParkingPayer>,
    /// The amounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<ParkingAmount>,
    /// Promotions applied (without goods details).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_detail: Option<Vec<PromotionDetail>>,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// Details of a parking session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct ParkingInfo {
    /// The entry id assigned by the parking service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_id: Option<String>,
    /// The plate (province + number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_number: Option<String>,
    /// The plate's colour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate_color: Option<PlateColor>,
    /// Entry time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Rfc3339>,
    /// Exit time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Rfc3339>,
    /// The car park's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parking_name: Option<String>,
    /// Charged duration in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_duration: Option<i64>,
    /// The car park's device id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// The payer of a parking order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct ParkingPayer {
    /// The user's id under `appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// The user's id under `sub_appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// The amounts of a parking order, in fen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct ParkingAmount {
    /// Order total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Fen>,
    /// Currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// What the user paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<Fen>,
    /// Discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_total: Option<Fen>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

keep_unknown_fields!(ParkingTransaction, ParkingInfo, ParkingPayer, ParkingAmount);
