//! One type per endpoint. Each is a plain struct of validated ids; [`Operation`] says how
//! it becomes a request target and what it returns.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ids::{MchId, OutTradeNo, SubMchId, TransactionId};
use crate::model::{ParkingTransaction, PartnerTransaction, Transaction};

/// An API call: its name, its request target and the type of its answer.
pub trait Operation {
    /// What a successful (200) answer deserialises into.
    type Output: DeserializeOwned + Serialize;

    /// A stable name for logs and metrics, e.g. `query_order_by_out_trade_no`.
    const NAME: &'static str;

    /// The HTTP method.
    const METHOD: http::Method = http::Method::GET;

    /// The request target (path and query), percent-encoded exactly as it will be sent.
    /// `mchid` is the caller's merchant id (the service provider's for partner calls).
    fn path_and_query(&self, mchid: &MchId) -> String;
}

/// Encodes an out_trade_no as a path segment: `|` is the only allowed byte that a URI
/// path may not carry literally.
fn encode_out_trade_no(no: &OutTradeNo) -> std::borrow::Cow<'_, str> {
    if no.as_str().contains('|') { no.as_str().replace('|', "%7C").into() } else { no.as_str().into() }
}

/// Direct merchant: query an order by merchant order number.
/// `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={mchid}`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOrderByOutTradeNo {
    /// The merchant's order number.
    pub out_trade_no: OutTradeNo,
}

impl Operation for QueryOrderByOutTradeNo {
    type Output = Transaction;
    const NAME: &'static str = "query_order_by_out_trade_no";
    fn path_and_query(&self, mchid: &MchId) -> String {
        format!("/v3/pay/transactions/out-trade-no/{}?mchid={mchid}", encode_out_trade_no(&self.out_trade_no))
    }
}

/// Direct merchant: query an order by WeChat Pay transaction id.
/// `GET /v3/pay/transactions/id/{transaction_id}?mchid={mchid}`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOrderByTransactionId {
    /// WeChat Pay's transaction id.
    pub transaction_id: TransactionId,
}

impl Operation for QueryOrderByTransactionId {
    type Output = Transaction;
    const NAME: &'static str = "query_order_by_transaction_id";
    fn path_and_query(&self, mchid: &MchId) -> String {
        format!("/v3/pay/transactions/id/{}?mchid={mchid}", self.transaction_id)
    }
}

/// Service provider: query a sub-merchant's order by merchant order number.
/// `GET /v3/pay/partner/transactions/out-trade-no/{out_trade_no}?sp_mchid={mchid}&sub_mchid={sub}`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryPartnerOrderByOutTradeNo {
    /// The sub-merchant's id.
    pub sub_mchid: SubMchId,
    /// The sub-merchant's order number.
    pub out_trade_no: OutTradeNo,
}

impl Operation for QueryPartnerOrderByOutTradeNo {
    type Output = PartnerTransaction;
    const NAME: &'static str = "query_partner_order_by_out_trade_no";
    fn path_and_query(&self, mchid: &MchId) -> String {
        format!(
            "/v3/pay/partner/transactions/out-trade-no/{}?sp_mchid={mchid}&sub_mchid={}",
            encode_out_trade_no(&self.out_trade_no),
            self.sub_mchid
        )
    }
}

/// Service provider: query a sub-merchant's order by WeChat Pay transaction id.
/// `GET /v3/pay/partner/transactions/id/{transaction_id}?sp_mchid={mchid}&sub_mchid={sub}`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryPartnerOrderByTransactionId {
    /// The sub-merchant's id.
    pub sub_mchid: SubMchId,
    /// WeChat Pay's transaction id.
    pub transaction_id: TransactionId,
}

impl Operation for QueryPartnerOrderByTransactionId {
    type Output = PartnerTransaction;
    const NAME: &'static str = "query_partner_order_by_transaction_id";
    fn path_and_query(&self, mchid: &MchId) -> String {
        format!("/v3/pay/partner/transactions/id/{}?sp_mchid={mchid}&sub_mchid={}", self.transaction_id, self.sub_mchid)
    }
}

/// Parking service (微信支付分停车服务): query an order by merchant order number.
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
    fn path_and_query(&self, _mchid: &MchId) -> String {
        let no = encode_out_trade_no(&self.out_trade_no);
        match &self.sub_mchid {
            Some(sub) => format!("/v3/vehicle/transactions/out-trade-no/{no}?sub_mchid={sub}"),
            None => format!("/v3/vehicle/transactions/out-trade-no/{no}"),
        }
    }
}
