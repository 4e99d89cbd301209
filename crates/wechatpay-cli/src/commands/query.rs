//! `order get`, `partner-order get`, `parking-order get`: one query, one JSON document.
//!
//! [`OrderQuery`] is the one place where an order's key and sub-merchant become a core
//! operation; [`with_query!`](crate::commands::query::with_query) runs generic code on
//! whichever operation it holds (`get` and `watch` both use it).

use wechatpay_core::api::{
    QueryOrderByOutTradeNo, QueryOrderByTransactionId, QueryParkingOrder, QueryPartnerOrderByOutTradeNo,
    QueryPartnerOrderByTransactionId,
};
use wechatpay_core::{OutTradeNo, SubMchId};

use super::print_json;
use crate::args::{OrderKey, Settings};
use crate::failure::Failure;
use crate::settings;

/// A query for one order, of any kind.
pub(crate) enum OrderQuery {
    /// A direct merchant's order by out_trade_no.
    Direct(QueryOrderByOutTradeNo),
    /// A direct merchant's order by transaction_id.
    DirectById(QueryOrderByTransactionId),
    /// A sub-merchant's order by out_trade_no.
    Partner(QueryPartnerOrderByOutTradeNo),
    /// A sub-merchant's order by transaction_id.
    PartnerById(QueryPartnerOrderByTransactionId),
    /// A parking order (by out_trade_no; `sub_mchid` for service providers).
    Parking(QueryParkingOrder),
}

impl OrderQuery {
    /// A direct order (no `sub_mchid`) or a sub-merchant's.
    pub(crate) fn order(key: OrderKey, sub_mchid: Option<SubMchId>) -> Self {
        match (key, sub_mchid) {
            (OrderKey::OutTradeNo(out_trade_no), None) => Self::Direct(QueryOrderByOutTradeNo { out_trade_no }),
            (OrderKey::TransactionId(transaction_id), None) => {
                Self::DirectById(QueryOrderByTransactionId { transaction_id })
            }
            (OrderKey::OutTradeNo(out_trade_no), Some(sub_mchid)) => {
                Self::Partner(QueryPartnerOrderByOutTradeNo { sub_mchid, out_trade_no })
            }
            (OrderKey::TransactionId(transaction_id), Some(sub_mchid)) => {
                Self::PartnerById(QueryPartnerOrderByTransactionId { sub_mchid, transaction_id })
            }
        }
    }

    /// A parking order.
    pub(crate) fn parking(out_trade_no: OutTradeNo, sub_mchid: Option<SubMchId>) -> Self {
        Self::Parking(QueryParkingOrder { out_trade_no, sub_mchid })
    }
}

/// `with_query!(query, |op| body)`: `body` with `op` bound to the concrete operation that
/// `query` (an [`OrderQuery`]) holds, so generic code runs for every kind of order.
macro_rules! with_query {
    ($query:expr, |$op:ident| $body:expr) => {
        match $query {
            $crate::commands::query::OrderQuery::Direct($op) => $body,
            $crate::commands::query::OrderQuery::DirectById($op) => $body,
            $crate::commands::query::OrderQuery::Partner($op) => $body,
            $crate::commands::query::OrderQuery::PartnerById($op) => $body,
            $crate::commands::query::OrderQuery::Parking($op) => $body,
        }
    };
}
pub(crate) use with_query;

/// `wechatpay order get`, `partner-order get`, `parking-order get`
pub(crate) fn run(s: &Settings, query: &OrderQuery) -> Result<(), Failure> {
    let client = settings::client(s)?;
    with_query!(query, |op| print_json(&client.execute(op)?))
}
