//! The decrypted resource of a refund notification (`REFUND.SUCCESS`, `REFUND.ABNORMAL`,
//! `REFUND.CLOSED`; PROTOCOL.md §15): its own shape, not the [`super::Refund`] of a query.

use serde::{Deserialize, Serialize};

use super::extra::keep_unknown_fields;
use super::{Extra, Fen, RefundStatus, Rfc3339};

/// What a refund notification says about a refund that reached a final state.
///
/// Unlike the query's [`super::Refund`], the state is `refund_status` (not `status`) and the
/// amounts are fewer. A direct merchant's notice names `mchid`; a service provider's names
/// `sp_mchid` and `sub_mchid` (a [`crate::notify::Receiver`] checks them against its own).
/// Fields WeChat Pay may add (`recv_account`, `fund_source`, `refund_account`, ...) are kept in
/// `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct RefundNotice {
    /// The direct merchant's id (direct refunds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// The service provider's id (partner refunds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// The sub-merchant's id (partner refunds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// The merchant's order number of the refunded order.
    pub out_trade_no: String,
    /// WeChat Pay's transaction id of the refunded order.
    pub transaction_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The refund's final state: `SUCCESS`, `CLOSED` or `ABNORMAL` (an open enum).
    pub refund_status: RefundStatus,
    /// When the refund succeeded (`SUCCESS` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<Rfc3339>,
    /// The account it lands in, free text for people (`支付用户零钱`, `招商银行信用卡0403`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    /// The amounts.
    pub amount: RefundNoticeAmount,
    /// Fields this version does not know, kept as received.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

impl RefundNotice {
    /// Whether this is a service provider's refund (it names `sp_mchid` or `sub_mchid`).
    pub fn is_partner(&self) -> bool {
        self.sp_mchid.is_some() || self.sub_mchid.is_some()
    }
}

/// The amounts of a refund notification, in fen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[non_exhaustive]
pub struct RefundNoticeAmount {
    /// The original order's total.
    pub total: Fen,
    /// This refund.
    pub refund: Fen,
    /// What the user paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<Fen>,
    /// What the user gets back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_refund: Option<Fen>,
    /// Fields this version does not know.
    #[serde(flatten, skip_deserializing)]
    pub extra: Extra,
}

keep_unknown_fields!(RefundNotice, RefundNoticeAmount);

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct example of PROTOCOL.md §15 (spec §15), verbatim.
    const EXAMPLE: &str = r#"{"mchid":"1558950191","out_trade_no":"ORDER_20230408144355425","transaction_id":"4200001736202304084431828716","out_refund_no":"REFUND20230412121456353","refund_id":"50301405352023041233178680856","refund_status":"SUCCESS","success_time":"2023-04-12T12:15:06+08:00","amount":{"total":1,"refund":1,"payer_total":1,"payer_refund":1},"user_received_account":"支付用户零钱"}"#;

    #[test]
    fn the_documented_example_parses_and_round_trips() {
        let n: RefundNotice = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!((n.mchid.as_deref(), n.sp_mchid.as_deref(), n.is_partner()), (Some("1558950191"), None, false));
        assert_eq!(n.refund_status, RefundStatus::Success);
        assert_eq!(n.success_time.as_ref().map(|t| t.as_str()), Some("2023-04-12T12:15:06+08:00"));
        assert_eq!(n.user_received_account.as_deref(), Some("支付用户零钱"));
        let a = &n.amount;
        assert_eq!((a.total, a.refund, a.payer_total, a.payer_refund), (Fen(1), Fen(1), Some(Fen(1)), Some(Fen(1))));
        let back: serde_json::Value = serde_json::to_value(&n).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(EXAMPLE).unwrap());
    }

    #[test]
    fn unknown_fields_and_states_are_kept() {
        let text = r#"{"sp_mchid":"1230000109","sub_mchid":"1900000109","out_trade_no":"o","transaction_id":"t","out_refund_no":"r","refund_id":"i","refund_status":"SOMETHING_NEW","amount":{"total":5,"refund":2,"later":1},"fund_source":"REFUND_SOURCE_UNSETTLED_FUNDS"}"#;
        let n: RefundNotice = serde_json::from_str(text).unwrap();
        assert!(n.is_partner());
        assert_eq!(n.refund_status.as_str(), "SOMETHING_NEW");
        assert_eq!(n.extra.get("fund_source").map(|v| v.get()), Some(r#""REFUND_SOURCE_UNSETTLED_FUNDS""#));
        let back: serde_json::Value = serde_json::to_value(&n).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(text).unwrap());
    }
}
