//! One type per endpoint. Each is a plain struct of validated ids; [`Operation`] says how
//! it becomes a request, whether it may be repeated, what it returns and how its answer is
//! tied to the question (spec §11).
//!
//! For an endpoint with no type here yet, [`Json`] is the generic call: any method, any
//! `/v3/…` target and JSON body, sent and signed as given, through the same driver (fresh
//! signature per attempt, retries, verification); it returns the verified JSON text exactly
//! as received ([`JsonText`]).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::VerificationFailure;
use crate::ids::{MchId, OutTradeNo, SubMchId, TransactionId};
use crate::model::{ParkingTransaction, PartnerTransaction, Transaction};

mod json;

pub use json::{Json, JsonText};

/// An API call: its name, its request, and the type of its answer.
pub trait Operation {
    /// What a successful (2xx) answer deserialises into.
    type Output: DeserializeOwned + Serialize;

    /// A stable name for logs and metrics, e.g. `query_order_by_out_trade_no`.
    const NAME: &'static str;

    /// The HTTP method.
    fn method(&self) -> http::Method;

    /// Whether sending the call twice has the same effect as sending it once. The retry
    /// policy repeats a non-idempotent call only when it certainly never reached the server.
    fn idempotent(&self) -> bool;

    /// The request target (path and query), percent-encoded exactly as it will be sent.
    /// `mchid` is the caller's merchant id (the service provider's for partner calls).
    fn path_and_query(&self, mchid: &MchId) -> String;

    /// The JSON request body, exactly as it will be sent and signed (`None`: no body).
    /// A body is sent with `Content-Type: application/json`.
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>>;

    /// Binds a verified answer to this request (spec §11): checks that the ids it names are
    /// the ones asked for. `mchid` is the caller's merchant id. Every operation states what
    /// it binds; one whose answer names nothing to compare says so with [`nothing_to_bind`].
    ///
    /// # Errors
    /// [`VerificationFailure::AnswerMismatch`] naming the first field that differs.
    fn check_answer(&self, mchid: &MchId, answer: &Self::Output) -> Result<Binding, VerificationFailure>;
}

/// What [`Operation::check_answer`] tied the answer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// The ids the answer names were compared with the ones asked for, and agree.
    Checked,
    /// The answer names nothing to compare with the question (an empty `204`, a list, an
    /// endpoint this crate does not model): only its signature vouches for it.
    Nothing,
}

/// `Ok(Binding::Nothing)`: the explicit statement of an operation whose answer carries
/// nothing to bind (write why beside the call).
///
/// # Errors
/// Never; the `Result` is [`Operation::check_answer`]'s.
pub fn nothing_to_bind() -> Result<Binding, VerificationFailure> {
    Ok(Binding::Nothing)
}

/// `Err(AnswerMismatch { field })` unless `got == asked`.
fn same(field: &'static str, got: &str, asked: &str) -> Result<(), VerificationFailure> {
    if got == asked { Ok(()) } else { Err(VerificationFailure::AnswerMismatch { field }) }
}

/// Like [`same`] for a field the answer may leave out: absent also differs.
fn same_opt(field: &'static str, got: Option<&str>, asked: &str) -> Result<(), VerificationFailure> {
    same(field, got.unwrap_or_default(), asked)
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
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    fn path_and_query(&self, mchid: &MchId) -> String {
        format!("/v3/pay/transactions/out-trade-no/{}?mchid={mchid}", encode_out_trade_no(&self.out_trade_no))
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
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
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    fn path_and_query(&self, mchid: &MchId) -> String {
        format!("/v3/pay/transactions/id/{}?mchid={mchid}", self.transaction_id)
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
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
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    fn path_and_query(&self, mchid: &MchId) -> String {
        format!(
            "/v3/pay/partner/transactions/out-trade-no/{}?sp_mchid={mchid}&sub_mchid={}",
            encode_out_trade_no(&self.out_trade_no),
            self.sub_mchid
        )
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
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
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    fn path_and_query(&self, mchid: &MchId) -> String {
        format!("/v3/pay/partner/transactions/id/{}?sp_mchid={mchid}&sub_mchid={}", self.transaction_id, self.sub_mchid)
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    fn check_answer(&self, mchid: &MchId, answer: &PartnerTransaction) -> Result<Binding, VerificationFailure> {
        same_opt("transaction_id", answer.transaction_id.as_deref(), self.transaction_id.as_str())?;
        same("sp_mchid", &answer.sp_mchid, mchid.as_str())?;
        same("sub_mchid", &answer.sub_mchid, self.sub_mchid.as_str())?;
        Ok(Binding::Checked)
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
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    fn path_and_query(&self, _mchid: &MchId) -> String {
        let no = encode_out_trade_no(&self.out_trade_no);
        match &self.sub_mchid {
            Some(sub) => format!("/v3/vehicle/transactions/out-trade-no/{no}?sub_mchid={sub}"),
            None => format!("/v3/vehicle/transactions/out-trade-no/{no}"),
        }
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    fn check_answer(&self, _mchid: &MchId, answer: &ParkingTransaction) -> Result<Binding, VerificationFailure> {
        same("out_trade_no", &answer.out_trade_no, self.out_trade_no.as_str())?;
        if let Some(sub) = &self.sub_mchid {
            same_opt("sub_mchid", answer.sub_mchid.as_deref(), sub.as_str())?;
        }
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

/// A body serialised once, exactly as it is sent and signed. Serialising these structs of
/// strings cannot fail; `None` (no body) would be refused by the server, never signed wrong.
fn json_body(value: &impl Serialize) -> Option<Vec<u8>> {
    serde_json::to_vec(value).ok()
}

/// Direct merchant: close an unpaid order (spec §10).
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
    /// Closing is reentrant (spec §10: closing a closed order is fine), so a close may be
    /// repeated after any retryable failure.
    fn idempotent(&self) -> bool {
        true
    }
    fn path_and_query(&self, _mchid: &MchId) -> String {
        format!("/v3/pay/transactions/out-trade-no/{}/close", encode_out_trade_no(&self.out_trade_no))
    }
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
        json_body(&DirectCloseBody { mchid: mchid.as_str() })
    }
    /// Nothing to bind: the answer is an empty `204`.
    fn check_answer(&self, _mchid: &MchId, _answer: &Closed) -> Result<Binding, VerificationFailure> {
        nothing_to_bind()
    }
}

/// Service provider: close a sub-merchant's unpaid order (spec §10).
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
    /// Closing is reentrant (spec §10), so a close may be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    fn path_and_query(&self, _mchid: &MchId) -> String {
        format!("/v3/pay/partner/transactions/out-trade-no/{}/close", encode_out_trade_no(&self.out_trade_no))
    }
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
        json_body(&PartnerCloseBody { sp_mchid: mchid.as_str(), sub_mchid: self.sub_mchid.as_str() })
    }
    /// Nothing to bind: the answer is an empty `204`.
    fn check_answer(&self, _mchid: &MchId, _answer: &Closed) -> Result<Binding, VerificationFailure> {
        nothing_to_bind()
    }
}
