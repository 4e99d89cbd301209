//! The order answered by the direct and partner query APIs.

use serde::{Deserialize, Serialize};

use super::extra::keep_unknown_fields;
use super::{Currency, Extra, Fen, PromotionScope, PromotionType, Rfc3339, TradeState, TradeType};

/// A direct merchant's order (`GET /v3/pay/transactions/...`).
///
/// Fields WeChat Pay may add later are kept in `extra`, so serialising gives back every
/// field received. Never infer the state from `trade_state_desc`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct Transaction {
    /// The app id the order was placed under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// The merchant id.
    pub mchid: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id; absent until paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// How the order was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<TradeType>,
    /// The order's state.
    pub trade_state: TradeState,
    /// A description of the state, for people.
    pub trade_state_desc: String,
    /// The paying bank (e.g. `CMC`, `ICBC_DEBIT`, `OTHERS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    /// Merchant data echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// When payment completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<Rfc3339>,
    /// Who paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer>,
    /// The amounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// Where the order was placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene_info: Option<SceneInfo>,
    /// Promotions applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_detail: Option<Vec<PromotionDetail>>,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// A service provider's view of a sub-merchant's order
/// (`GET /v3/pay/partner/transactions/...`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct PartnerTransaction {
    /// The service provider's app id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_appid: Option<String>,
    /// The service provider's merchant id.
    pub sp_mchid: String,
    /// The sub-merchant's app id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// The sub-merchant's id.
    pub sub_mchid: String,
    /// The sub-merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id; absent until paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// How the order was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<TradeType>,
    /// The order's state.
    pub trade_state: TradeState,
    /// A description of the state, for people.
    pub trade_state_desc: String,
    /// The paying bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    /// Merchant data echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// When payment completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<Rfc3339>,
    /// Who paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<PartnerPayer>,
    /// The amounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// Where the order was placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene_info: Option<SceneInfo>,
    /// Promotions applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_detail: Option<Vec<PromotionDetail>>,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// The payer of a direct order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct Payer {
    /// The user's id under `appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// The payer of a partner order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct PartnerPayer {
    /// The user's id under `sp_appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_openid: Option<String>,
    /// The user's id under `sub_appid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_openid: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// The amounts of an order, in fen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct Amount {
    /// Order total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Fen>,
    /// What the user paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<Fen>,
    /// Currency of `total`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// Currency the user paid in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_currency: Option<Currency>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// Where an order was placed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct SceneInfo {
    /// The merchant's device id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// A promotion (coupon or discount) applied to an order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct PromotionDetail {
    /// Coupon or discount id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_id: Option<String>,
    /// Promotion name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whole order or single item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<PromotionScope>,
    /// Funded or not.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub promotion_type: Option<PromotionType>,
    /// Value of the promotion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Fen>,
    /// Batch (stock) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_id: Option<String>,
    /// Paid by WeChat Pay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechatpay_contribute: Option<Fen>,
    /// Paid by the merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_contribute: Option<Fen>,
    /// Paid by others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_contribute: Option<Fen>,
    /// Currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// Items the promotion applied to (direct and partner orders only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_detail: Option<Vec<GoodsDetail>>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// One item a promotion applied to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct GoodsDetail {
    /// The merchant's item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_id: Option<String>,
    /// How many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// Price of one, in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Fen>,
    /// Discount, in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_amount: Option<Fen>,
    /// Remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_remark: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

keep_unknown_fields!(
    Transaction,
    PartnerTransaction,
    Payer,
    PartnerPayer,
    Amount,
    SceneInfo,
    PromotionDetail,
    GoodsDetail
);
