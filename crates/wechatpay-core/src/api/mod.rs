//! One type per endpoint, grouped by API area: [`pay`](self#payments) (order queries and
//! closes), [`parking`](self#parking) (the parking service), [`certificates`](self#certificates)
//! (the platform certificate download), and [`Json`], the generic call.
//!
//! Each operation is a plain struct of validated ids, and its one [`Operation`] impl declares
//! everything the rest of the crate needs: the method, the typed path and query (a
//! [`Target`], every segment and value through one RFC 3986 encoder), the body (built once
//! per call; every attempt signs the same bytes), the output type, whether it may be
//! repeated, and what its answer is bound to (PROTOCOL.md §11) — or, explicitly, that nothing can be
//! bound ([`nothing_to_bind`]).
//!
//! # Payments
//!
//! [`QueryOrderByOutTradeNo`], [`QueryOrderByTransactionId`],
//! [`QueryPartnerOrderByOutTradeNo`], [`QueryPartnerOrderByTransactionId`], [`CloseOrder`],
//! [`ClosePartnerOrder`] (answered by [`Closed`]).
//!
//! # Creating orders
//!
//! [`JsapiPrepay`], [`AppPrepay`], [`H5Prepay`], [`NativePrepay`] and the partner
//! [`PartnerJsapiPrepay`], [`PartnerAppPrepay`], [`PartnerH5Prepay`], [`PartnerNativePrepay`],
//! each holding a validated [`Order`].
//!
//! # Payment code at the till
//!
//! [`Codepay`] and [`PartnerCodepay`] (a validated [`CodepayOrder`] with its [`AuthCode`] and
//! [`CodepaySceneInfo`]; answered by a [`CodepayOutcome`]), [`Reverse`] and [`PartnerReverse`]
//! (answered by [`Reversed`]). [`crate::charge`] runs the whole charge.
//!
//! # Refunds
//!
//! [`CreateRefund`] (built from a [`RefundOrder`], a [`RefundRequestAmount`], and optionally
//! a [`RefundReason`] and [`RefundGoods`]), [`QueryRefund`] and [`ApplyAbnormalRefund`]
//! (an [`AbnormalRefundType`], with [`SensitiveField`]s encrypted under a WeChat Pay key),
//! all answered by a [`crate::model::Refund`].
//!
//! # Bills
//!
//! [`TradeBill`] and [`FundFlowBill`] for a [`BillDate`] (answered by a [`BillAnswer`]; sort
//! "no bill" and "not ready" out with [`BillOutcome`]); the download and the reader are in
//! [`crate::bill`].
//!
//! # Parking
//!
//! [`FindParkingService`] (a plate's service, a [`PlateNumber`]), [`CreateEntrance`] (an
//! [`Entrance`]), [`CreateParkingOrder`] (a [`Deduction`] with its [`ParkingSession`]) and
//! [`QueryParkingOrder`].
//!
//! # Certificates
//!
//! [`DownloadCertificates`] (answered by a [`CertificateList`]).
//!
//! # An endpoint with no type here yet
//!
//! [`Json`] is the generic call: any method, any `/v3/…` target and JSON body, sent and
//! signed as given, through the same driver (fresh signature per attempt, retries,
//! verification); it returns the verified JSON text exactly as received ([`JsonText`]).

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ids::MchId;
use crate::percent;
use crate::verify::VerificationFailure;

mod bill;
mod certificates;
mod codepay;
mod json;
mod parking;
mod pay;
mod prepay;
mod refund;
mod sensitive;

pub(crate) use bill::DownloadFile;
pub use bill::{
    AccountType, BillAnswer, BillDate, BillOutcome, FundFlowBill, TradeBill, TradeBillType, is_expired_download,
};
pub use certificates::{CertificateList, DownloadCertificates, EncryptedCertificate};
pub use codepay::{
    AuthCode, Codepay, CodepayDetail, CodepayGoods, CodepayOrder, CodepayOutcome, CodepaySceneInfo, CodepayStore,
    PartnerCodepay, PartnerReverse, Reverse, ReverseAnswer, Reversed,
};
pub use json::{Json, JsonText};
pub use parking::{
    CreateEntrance, CreateParkingOrder, Deduction, Entrance, FindParkingService, ParkingSession, PlateNumber,
    QueryParkingOrder, check_plate_color,
};
pub use pay::{
    CloseOrder, ClosePartnerOrder, Closed, QueryOrderByOutTradeNo, QueryOrderByTransactionId,
    QueryPartnerOrderByOutTradeNo, QueryPartnerOrderByTransactionId,
};
pub use prepay::{
    AppPrepay, H5Info, H5Prepay, H5Type, JsapiPrepay, LimitPay, NativePrepay, Order, OrderDetail, OrderGoods,
    OrderSceneInfo, PartnerAppPrepay, PartnerH5Prepay, PartnerIds, PartnerJsapiPrepay, PartnerNativePrepay,
    PartnerOpenId, PayerIdentity, StoreInfo,
};
pub use refund::{
    AbnormalRefundType, ApplyAbnormalRefund, CreateRefund, QueryRefund, RefundGoods, RefundOrder, RefundReason,
    RefundRequestAmount,
};
pub use sensitive::SensitiveField;

/// An API call: its name, its request, and the type of its answer. One impl per endpoint
/// declares all of it: method, target, body, idempotency and answer binding have no
/// default. The two provided methods matter only to a few operations:
/// [`Operation::wechatpay_serial`] to one that sends encrypted fields,
/// [`Operation::answer_from_status`] to the codepays (their `202`).
pub trait Operation {
    /// What a successful (2xx) answer deserialises into.
    type Output: DeserializeOwned + Serialize;

    /// A stable name for logs and metrics, e.g. `query_order_by_out_trade_no`.
    const NAME: &'static str;

    /// The HTTP method.
    fn method(&self) -> http::Method;

    /// The request target: path and query, every part percent-encoded by [`Target`].
    /// `mchid` is the caller's merchant id (the service provider's for partner calls).
    fn target(&self, mchid: &MchId) -> Target;

    /// The JSON request body, exactly as it will be sent and signed (`None`: no body). It is
    /// asked for once per call: every attempt sends and signs the same bytes. A body is sent
    /// with `Content-Type: application/json`.
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>>;

    /// Whether sending the call twice has the same effect as sending it once. The retry
    /// policy repeats a non-idempotent call only when it certainly never reached the server.
    fn idempotent(&self) -> bool;

    /// Binds a verified answer to this request (PROTOCOL.md §11): checks that the ids it names are
    /// the ones asked for. `mchid` is the caller's merchant id. Every operation states what
    /// it binds; one whose answer names nothing to compare says so with [`nothing_to_bind`].
    ///
    /// # Errors
    /// [`VerificationFailure::AnswerMismatch`] naming the first field that differs.
    fn check_answer(&self, mchid: &MchId, answer: &Self::Output) -> Result<Binding, VerificationFailure>;

    /// The `Wechatpay-Serial` this call must send, replacing the configuration's: the key
    /// that encrypted its sensitive fields (PROTOCOL.md §15). `None` (the default, and every
    /// operation without encrypted fields): the configuration's, if any.
    fn wechatpay_serial(&self) -> Option<&str> {
        None
    }

    /// The answer a 2xx `status` stands for by itself, its body no data (PROTOCOL.md §14: a
    /// codepay's `202` is "the user is paying"). Such an answer is verified when any signature
    /// header is present, accepted unsigned otherwise, and binds nothing. `None` (the
    /// default, and every operation but the codepays): every 2xx is signed and parsed.
    fn answer_from_status(&self, _status: http::StatusCode) -> Option<Self::Output> {
        None
    }
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

/// A body serialised once, exactly as it is sent and signed. Serialising structs of strings
/// cannot fail; `None` (no body) would be refused by the server, never signed wrong.
fn json_body(value: &impl Serialize) -> Option<Vec<u8>> {
    serde_json::to_vec(value).ok()
}

/// A request target built from typed parts: path segments and query pairs, each one
/// percent-encoded by the crate's one RFC 3986 encoder (unreserved characters and `*` kept,
/// everything else `%XX` in upper-case hex over its UTF-8 bytes).
///
/// ```
/// use wechatpay_core::api::Target;
///
/// let target = Target::path(&["v3", "vehicle", "parking", "services", "find"])
///     .query("plate_number", "粤B12345")
///     .query("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
/// assert_eq!(
///     target.to_string(),
///     "/v3/vehicle/parking/services/find?plate_number=%E7%B2%A4B12345&openid=oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
/// );
/// let order = Target::path(&["v3", "pay", "transactions", "out-trade-no"]).segment("A|B").query("mchid", "1230000109");
/// assert_eq!(order.to_string(), "/v3/pay/transactions/out-trade-no/A%7CB?mchid=1230000109");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    path: String,
    query: Option<String>,
}

impl Target {
    /// The path `/s1/s2/…` of `segments` (each encoded).
    pub fn path(segments: &[&str]) -> Target {
        segments.iter().fold(Target { path: String::new(), query: None }, |target, s| target.segment(s))
    }

    /// Appends the path segment `value` (encoded: a `/` in it stays inside the segment).
    pub fn segment(mut self, value: &str) -> Target {
        self.path.push('/');
        percent::encode_into(&mut self.path, value);
        self
    }

    /// Appends the query pair `name=value` (both encoded; `?` before the first, `&` between).
    pub fn query(mut self, name: &str, value: &str) -> Target {
        let query = self.query.get_or_insert_with(String::new);
        if !query.is_empty() {
            query.push('&');
        }
        percent::encode_into(query, name);
        query.push('=');
        percent::encode_into(query, value);
        self
    }

    /// [`Target::query`] when `value` is `Some`; nothing otherwise.
    pub fn query_opt(self, name: &str, value: Option<&str>) -> Target {
        match value {
            Some(value) => self.query(name, value),
            None => self,
        }
    }

    /// A target taken as given (already checked by the caller, e.g. [`Json::new`]).
    fn verbatim(target: &str) -> Target {
        Target { path: target.to_owned(), query: None }
    }
}

impl fmt::Display for Target {
    /// The target as sent and signed: the path, then `?` and the query if there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.path.is_empty() { "/" } else { &self.path })?;
        match &self.query {
            Some(query) => write!(f, "?{query}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_encode_every_part_once() {
        assert_eq!(Target::path(&[]).to_string(), "/");
        assert_eq!(Target::path(&["v3", "x"]).query_opt("a", None).to_string(), "/v3/x");
        let t = Target::path(&["v3", "x"]).segment("a/b").query("k&", "v=1 2").query_opt("z", Some("粤"));
        assert_eq!(t.to_string(), "/v3/x/a%2Fb?k%26=v%3D1%202&z=%E7%B2%A4");
        assert_eq!(Target::path(&["v3"]).segment("..").to_string(), "/v3/%2E%2E");
    }
}
