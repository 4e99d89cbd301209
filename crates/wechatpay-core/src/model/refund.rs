//! The refund object answered by refund create, query and abnormal apply (PROTOCOL.md §15).

use serde::{Deserialize, Serialize};

use super::extra::keep_unknown_fields;
use super::open_enum::open_enum;
use super::{Currency, Extra, Fen, PromotionScope, Rfc3339};

open_enum! {
    /// State of a refund (`status`).
    pub enum RefundStatus {
        /// Refunded (退款成功): final.
        Success = "SUCCESS",
        /// Closed (退款关闭): final; another attempt needs a new `out_refund_no`.
        Closed = "CLOSED",
        /// In flight (退款处理中): ask again, at least a minute apart.
        Processing = "PROCESSING",
        /// Paying out failed (退款异常), e.g. the user's card is frozen: needs action (an
        /// abnormal refund, or the merchant console), after which it may return to `PROCESSING`.
        Abnormal = "ABNORMAL",
    }
}

open_enum! {
    /// Where the money goes back to (`channel`).
    pub enum RefundChannel {
        /// The way it was paid (原路退款).
        Original = "ORIGINAL",
        /// The user's balance (退回到余额).
        Balance = "BALANCE",
        /// Another balance, the original account being abnormal (原账户异常退到其他余额账户).
        OtherBalance = "OTHER_BALANCE",
        /// Another bank card, the original being abnormal (原银行卡异常退到其他银行卡).
        OtherBankcard = "OTHER_BANKCARD",
    }
}

open_enum! {
    /// The merchant account a refund is paid from (`funds_account`).
    pub enum FundsAccount {
        /// Unsettled funds (未结算资金).
        Unsettled = "UNSETTLED",
        /// Available balance (可用余额).
        Available = "AVAILABLE",
        /// Unavailable balance (不可用余额).
        Unavailable = "UNAVAILABLE",
        /// Operation account (运营户).
        Operation = "OPERATION",
        /// Basic account (基本账户, 含可用余额和不可用余额).
        Basic = "BASIC",
        /// e-CNY basic account (数字人民币基本账户).
        EcnyBasic = "ECNY_BASIC",
    }
}

open_enum! {
    /// The account one part of a refund comes from (`amount.from[].account`).
    pub enum RefundFromAccount {
        /// Available balance (可用余额).
        Available = "AVAILABLE",
        /// Unavailable balance (不可用余额).
        Unavailable = "UNAVAILABLE",
    }
}

open_enum! {
    /// Kind of a promotion refunded with a refund (`promotion_detail[].type`); payments use
    /// [`super::PromotionType`] (`CASH`/`NOCASH`) instead.
    pub enum RefundPromotionType {
        /// A coupon (代金券).
        Coupon = "COUPON",
        /// A discount (优惠券).
        Discount = "DISCOUNT",
    }
}

/// A refund (`POST /v3/refund/domestic/refunds`, `GET /v3/refund/domestic/refunds/{out_refund_no}`,
/// `POST …/{refund_id}/apply-abnormal-refund`).
///
/// Fields WeChat Pay may add later are kept in `extra`. The four ids, `status` and `amount`
/// are always sent; the others are `Option` so a sparse answer still parses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct Refund {
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat Pay's transaction id of the refunded order.
    pub transaction_id: String,
    /// The merchant's order number of the refunded order.
    pub out_trade_no: String,
    /// Where the money goes back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<RefundChannel>,
    /// The account it lands in, free text for people (`支付用户零钱`, `招商银行信用卡0403`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    /// When the refund succeeded (`SUCCESS` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<Rfc3339>,
    /// When the refund was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Rfc3339>,
    /// The refund's state.
    pub status: RefundStatus,
    /// The merchant account it is paid from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funds_account: Option<FundsAccount>,
    /// The amounts.
    pub amount: RefundAmount,
    /// Promotions refunded with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_detail: Option<Vec<RefundPromotionDetail>>,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// The amounts of a refund, in fen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct RefundAmount {
    /// The original order's total.
    pub total: Fen,
    /// This refund.
    pub refund: Fen,
    /// The accounts the refund is paid from (orders held for 分账 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<RefundFrom>>,
    /// What the user paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<Fen>,
    /// What the user gets back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_refund: Option<Fen>,
    /// The refund less 免充值 (not pre-funded) coupons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_refund: Option<Fen>,
    /// The order total less 免充值 coupons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_total: Option<Fen>,
    /// The promotions refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_refund: Option<Fen>,
    /// Currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// The handling fee returned with the refund (手续费退款金额).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_fee: Option<Fen>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// One account part of a refund is paid from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct RefundFrom {
    /// The account.
    pub account: RefundFromAccount,
    /// How much comes from it.
    pub amount: Fen,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// A promotion refunded with a refund.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct RefundPromotionDetail {
    /// The coupon or discount id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_id: Option<String>,
    /// Whole order or single item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<PromotionScope>,
    /// Coupon or discount.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub promotion_type: Option<RefundPromotionType>,
    /// The promotion's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Fen>,
    /// How much of it is refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_amount: Option<Fen>,
    /// The items, as in the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_detail: Option<Vec<RefundGoodsDetail>>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

/// One refunded item of a promotion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct RefundGoodsDetail {
    /// The merchant's item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_goods_id: Option<String>,
    /// WeChat Pay's item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechatpay_goods_id: Option<String>,
    /// The item's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_name: Option<String>,
    /// Price of one, in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Fen>,
    /// Refunded for this item, in fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_amount: Option<Fen>,
    /// How many refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_quantity: Option<i64>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

keep_unknown_fields!(Refund, RefundAmount, RefundFrom, RefundPromotionDetail, RefundGoodsDetail);

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../tests/data/responses/refund_example.json");

    #[test]
    fn the_documented_example_parses_every_field() {
        let r: Refund = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(r.refund_id, "50000000382019052709732678859");
        assert_eq!(r.status, RefundStatus::Success);
        assert_eq!(r.channel, Some(RefundChannel::Original));
        assert_eq!(r.funds_account, Some(FundsAccount::Unsettled));
        assert_eq!(r.user_received_account.as_deref(), Some("招商银行信用卡0403"));
        assert_eq!(r.success_time.as_ref().map(|t| t.as_str()), Some("2020-12-01T16:18:12+08:00"));
        let a = &r.amount;
        assert_eq!(
            (a.total, a.refund, a.payer_total, a.payer_refund),
            (Fen(100), Fen(100), Some(Fen(90)), Some(Fen(90)))
        );
        assert_eq!((a.settlement_refund, a.settlement_total), (Some(Fen(100)), Some(Fen(100))));
        assert_eq!(
            (a.discount_refund, a.refund_fee, a.currency.clone()),
            (Some(Fen(10)), Some(Fen(100)), Some(Currency::Cny))
        );
        let from = a.from.as_deref().unwrap();
        assert_eq!((from[0].account.clone(), from[0].amount), (RefundFromAccount::Available, Fen(444)));
        let p = &r.promotion_detail.as_deref().unwrap()[0];
        assert_eq!(p.promotion_type, Some(RefundPromotionType::Discount));
        assert_eq!(p.scope, Some(PromotionScope::Single));
        let g = &p.goods_detail.as_deref().unwrap()[0];
        assert_eq!((g.unit_price, g.refund_amount, g.refund_quantity), (Some(Fen(528800)), Some(Fen(528800)), Some(1)));
        assert!(r.extra.is_empty() && a.extra.is_empty() && p.extra.is_empty() && g.extra.is_empty());
        // Serialising gives back the same JSON value.
        let back: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(EXAMPLE).unwrap());
    }

    #[test]
    fn unknown_fields_and_values_are_kept() {
        let json = r#"{"refund_id":"1","out_refund_no":"R1","transaction_id":"T1","out_trade_no":"O1",
            "status":"REVERSED","funds_account":"ECNY_BASIC","channel":"NEW_CHANNEL",
            "amount":{"total":10,"refund":5,"from":[{"account":"X","amount":5,"note":[1,2]}],"new_fee":3},
            "promotion_detail":[{"type":"COUPON","future":{"a":1}}],"brand_new":"kept"}"#;
        let r: Refund = serde_json::from_str(json).unwrap();
        assert!(matches!(&r.status, RefundStatus::Unknown(v) if v.as_str() == "REVERSED"));
        assert_eq!(r.funds_account, Some(FundsAccount::EcnyBasic));
        assert_eq!(r.channel.as_ref().map(RefundChannel::as_str), Some("NEW_CHANNEL"));
        assert_eq!(r.extra.get("brand_new").map(|v| v.get()), Some("\"kept\""));
        assert_eq!(r.amount.extra.get("new_fee").map(|v| v.get()), Some("3"));
        let from = &r.amount.from.as_deref().unwrap()[0];
        assert_eq!(from.extra.get("note").map(|v| v.get()), Some("[1,2]"));
        assert_eq!(from.account.as_str(), "X");
        let p = &r.promotion_detail.as_deref().unwrap()[0];
        assert_eq!(p.promotion_type, Some(RefundPromotionType::Coupon));
        assert_eq!(p.extra.get("future").map(|v| v.get()), Some(r#"{"a":1}"#));
        let back: serde_json::Value = serde_json::to_value(&r).unwrap();
        let expected: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, expected);
    }

    #[test]
    fn refund_status_values_round_trip() {
        for s in RefundStatus::KNOWN {
            assert_eq!(&RefundStatus::from(s.as_str()), s);
        }
        assert_eq!(RefundStatus::KNOWN.len(), 4);
        assert_eq!(FundsAccount::from("ECNY_BASIC"), FundsAccount::EcnyBasic);
    }
}
