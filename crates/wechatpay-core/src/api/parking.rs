//! The parking service (微信支付分停车服务).

use super::{Binding, Operation, Target, VerificationFailure, same, same_opt};
use crate::ids::{MchId, OutTradeNo, SubMchId};
use crate::model::ParkingTransaction;

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
