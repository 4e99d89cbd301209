//! Payments (基础支付): query an order, direct or as a service provider, by merchant order
//! number or by transaction id; close an unpaid order.

use serde::Serialize;

use super::{Binding, Operation, Target, VerificationFailure, json_body, nothing_to_bind, same, same_opt};
use crate::ids::{MchId, OutTradeNo, SubMchId, TransactionId};
use crate::model::{PartnerTransaction, Transaction};

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
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, mchid: &MchId) -> Target {
        Target::path(&["v3", "pay", "transactions", "out-trade-no"])
            .segment(self.out_trade_no.as_str())
            .query("mchid", mchid.as_str())
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// Binds `out_trade_no` and `mchid`.
    fn check_answer(&self, mchid: &MchId, answer: &Transaction) -> Result<Binding, VerificationFailure> {
        same("out_trade_no", &answer.out_trade_no, self.out_trade_no.as_str())?;
        same("mchid", &answer.mchid, mchid.as_str())?;
        Ok(Binding::Checked)
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
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, mchid: &MchId) -> Target {
        Target::path(&["v3", "pay", "transactions", "id"])
            .segment(self.transaction_id.as_str())
            .query("mchid", mchid.as_str())
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// Binds `transaction_id` and `mchid`.
    fn check_answer(&self, mchid: &MchId, answer: &Transaction) -> Result<Binding, VerificationFailure> {
        same_opt("transaction_id", answer.transaction_id.as_deref(), self.transaction_id.as_str())?;
        same("mchid", &answer.mchid, mchid.as_str())?;
        Ok(Binding::Checked)
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
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, mchid: &MchId) -> Target {
        Target::path(&["v3", "pay", "partner", "transactions", "out-trade-no"])
            .segment(self.out_trade_no.as_str())
            .query("sp_mchid", mchid.as_str())
            .query("sub_mchid", self.sub_mchid.as_str())
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// Binds `out_trade_no`, `sp_mchid` and `sub_mchid`.
    fn check_answer(&self, mchid: &MchId, answer: &PartnerTransaction) -> Result<Binding, VerificationFailure> {
        same("out_trade_no", &answer.out_trade_no, self.out_trade_no.as_str())?;
        same("sp_mchid", &answer.sp_mchid, mchid.as_str())?;
        same("sub_mchid", &answer.sub_mchid, self.sub_mchid.as_str())?;
        Ok(Binding::Checked)
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
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, mchid: &MchId) -> Target {
        Target::path(&["v3", "pay", "partner", "transactions", "id"])
            .segment(self.transaction_id.as_str())
            .query("sp_mchid", mchid.as_str())
            .query("sub_mchid", self.sub_mchid.as_str())
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// Binds `transaction_id`, `sp_mchid` and `sub_mchid`.
    fn check_answer(&self, mchid: &MchId, answer: &PartnerTransaction) -> Result<Binding, VerificationFailure> {
        same_opt("transaction_id", answer.transaction_id.as_deref(), self.transaction_id.as_str())?;
        same("sp_mchid", &answer.sp_mchid, mchid.as_str())?;
        same("sub_mchid", &answer.sub_mchid, self.sub_mchid.as_str())?;
        Ok(Binding::Checked)
    }
}

/// The answer to a close: WeChat Pay says `204 No Content` with an empty, signed body.
///
/// Any verified 2xx body that is JSON is accepted and ignored (a future version might add
/// one; the status already says the order is closed). A verified body that is not JSON is
/// still a [`crate::Error::Decode`]: WeChat Pay never sends one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Closed;

impl<'de> serde::Deserialize<'de> for Closed {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Closed)
    }
}

/// The body of a direct close, `{"mchid":"…"}`.
#[derive(Serialize)]
struct DirectCloseBody<'a> {
    mchid: &'a str,
}

/// The body of a partner close, `{"sp_mchid":"…","sub_mchid":"…"}` (fields in this order).
#[derive(Serialize)]
struct PartnerCloseBody<'a> {
    sp_mchid: &'a str,
    sub_mchid: &'a str,
}

/// Direct merchant: close an unpaid order (PROTOCOL.md §10).
/// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close` with `{"mchid":"…"}`.
///
/// Close only an order whose last verified state is `NOTPAY`
/// ([`crate::watch::WatchPolicy`] does this at a watch's deadline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseOrder {
    /// The merchant's order number (closing is by merchant order number only).
    pub out_trade_no: OutTradeNo,
}

impl Operation for CloseOrder {
    type Output = Closed;
    const NAME: &'static str = "close_order";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "pay", "transactions", "out-trade-no"])
            .segment(self.out_trade_no.as_str())
            .segment("close")
    }
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
        json_body(&DirectCloseBody { mchid: mchid.as_str() })
    }
    /// Closing is reentrant (PROTOCOL.md §10: closing a closed order is fine), so a close may be
    /// repeated after any retryable failure.
    fn idempotent(&self) -> bool {
        true
    }
    /// Nothing to bind: the answer is an empty `204`.
    fn check_answer(&self, _mchid: &MchId, _answer: &Closed) -> Result<Binding, VerificationFailure> {
        nothing_to_bind()
    }
}

/// Service provider: close a sub-merchant's unpaid order (PROTOCOL.md §10).
/// `POST /v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close` with
/// `{"sp_mchid":"…","sub_mchid":"…"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosePartnerOrder {
    /// The sub-merchant's id.
    pub sub_mchid: SubMchId,
    /// The sub-merchant's order number.
    pub out_trade_no: OutTradeNo,
}

impl Operation for ClosePartnerOrder {
    type Output = Closed;
    const NAME: &'static str = "close_partner_order";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "pay", "partner", "transactions", "out-trade-no"])
            .segment(self.out_trade_no.as_str())
            .segment("close")
    }
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
        json_body(&PartnerCloseBody { sp_mchid: mchid.as_str(), sub_mchid: self.sub_mchid.as_str() })
    }
    /// Closing is reentrant (PROTOCOL.md §10), so a close may be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// Nothing to bind: the answer is an empty `204`.
    fn check_answer(&self, _mchid: &MchId, _answer: &Closed) -> Result<Binding, VerificationFailure> {
        nothing_to_bind()
    }
}
