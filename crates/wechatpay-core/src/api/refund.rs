//! Refunds (退款, PROTOCOL.md §15): create one, query one, pay out an abnormal one. Direct merchants and service
//! providers share the paths; a service provider names the sub-merchant (`sub_mchid`).

use serde::Serialize;

use super::sensitive::SensitiveField;
use super::{Binding, Operation, Target, VerificationFailure, json_body, same};
use crate::ids::{InvalidInput, MchId, OutRefundNo, OutTradeNo, RefundId, SubMchId, TransactionId};
use crate::model::{Fen, FundsAccount, Refund, RefundFromAccount};
use crate::notify_url::NotifyUrl;

/// The order a refund gives money back from: by WeChat Pay's transaction id or by the
/// merchant's order number (exactly one is sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOrder {
    /// WeChat Pay's transaction id (`transaction_id`).
    TransactionId(TransactionId),
    /// The merchant's order number (`out_trade_no`).
    OutTradeNo(OutTradeNo),
}

/// The refund reason shown to the user (`reason`): 1–80 characters (Unicode scalar values,
/// not bytes), no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundReason(String);

impl RefundReason {
    /// The rule a `reason` must follow.
    pub const RULE: &'static str = "1-80 characters, no control characters";

    /// Validates a `reason`.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `reason`.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
        let value = value.into();
        let chars = value.chars().count();
        if chars == 0 {
            return Err(InvalidInput::new("reason", "is empty", Self::RULE));
        }
        if chars > 80 {
            return Err(InvalidInput::new("reason", format!("is {chars} characters long"), Self::RULE));
        }
        if value.chars().any(char::is_control) {
            return Err(InvalidInput::new("reason", "contains a control character", Self::RULE));
        }
        Ok(Self(value))
    }

    /// The reason as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The amount of a refund request (`amount`): `refund` > 0 and ≤ `total` (the original
/// order's total), currency `CNY`, and optionally the accounts it comes from (`from[]`: no
/// account twice, amounts > 0, summing to `refund`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RefundRequestAmount {
    refund: Fen,
    total: Fen,
    currency: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    from: Vec<RefundSource>,
}

/// One account a refund is paid from (`amount.from[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct RefundSource {
    account: RefundFromAccount,
    amount: Fen,
}

impl RefundRequestAmount {
    /// The rule the amounts must follow.
    pub const RULE: &'static str = "refund > 0 and refund <= total (fen); from[]: amounts > 0, no account twice, \
        summing to refund";

    /// `refund` fen of an order whose total was `total` fen.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `amount.refund` or `amount.total`.
    pub fn new(refund: Fen, total: Fen) -> Result<Self, InvalidInput> {
        if total.get() <= 0 {
            return Err(InvalidInput::new("amount.total", format!("is {total}"), Self::RULE));
        }
        if refund.get() <= 0 {
            return Err(InvalidInput::new("amount.refund", format!("is {refund}"), Self::RULE));
        }
        if refund > total {
            return Err(InvalidInput::new("amount.refund", format!("{refund} exceeds total {total}"), Self::RULE));
        }
        Ok(Self { refund, total, currency: "CNY", from: Vec::new() })
    }

    /// Names the accounts the refund is paid from (orders held for 分账 only).
    ///
    /// # Errors
    /// [`InvalidInput`] naming `amount.from` when an amount is not positive, an account comes
    /// twice, or the amounts do not add up to the refund.
    pub fn with_from(self, from: impl IntoIterator<Item = (RefundFromAccount, Fen)>) -> Result<Self, InvalidInput> {
        let mut sources: Vec<RefundSource> = Vec::new();
        let mut sum: i64 = 0;
        for (account, amount) in from {
            if amount.get() <= 0 {
                return Err(InvalidInput::new("amount.from", format!("{account} has amount {amount}"), Self::RULE));
            }
            if sources.iter().any(|s| s.account == account) {
                return Err(InvalidInput::new("amount.from", format!("names {account} twice"), Self::RULE));
            }
            sum = sum.saturating_add(amount.get());
            sources.push(RefundSource { account, amount });
        }
        if !sources.is_empty() && sum != self.refund.get() {
            return Err(InvalidInput::new(
                "amount.from",
                format!("sums to {sum}, not the refund {}", self.refund),
                Self::RULE,
            ));
        }
        Ok(Self { from: sources, ..self })
    }

    /// The refund, in fen.
    pub fn refund(&self) -> Fen {
        self.refund
    }

    /// The original order's total, in fen.
    pub fn total(&self) -> Fen {
        self.total
    }
}

/// One refunded item (`goods_detail[]`), matching the order's items.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RefundGoods {
    /// The merchant's item id (required).
    pub merchant_goods_id: String,
    /// WeChat Pay's item id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wechatpay_goods_id: Option<String>,
    /// The item's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_name: Option<String>,
    /// Price of one, in fen.
    pub unit_price: Fen,
    /// Refunded for this item, in fen.
    pub refund_amount: Fen,
    /// How many are refunded.
    pub refund_quantity: i64,
}

impl RefundGoods {
    /// An item: its merchant id, price of one, amount refunded and quantity refunded.
    pub fn new(
        merchant_goods_id: impl Into<String>,
        unit_price: Fen,
        refund_amount: Fen,
        refund_quantity: i64,
    ) -> Self {
        Self {
            merchant_goods_id: merchant_goods_id.into(),
            wechatpay_goods_id: None,
            goods_name: None,
            unit_price,
            refund_amount,
            refund_quantity,
        }
    }
}

/// Create a refund (申请退款). `POST /v3/refund/domestic/refunds`, direct and partner alike:
/// a service provider sets `sub_mchid` (sent in the body), a direct merchant leaves it `None`
/// (and it is absent from the body).
///
/// Every value is validated by its type before anything is signed. Build it with
/// [`CreateRefund::new`] and the `with_…` methods:
///
/// ```
/// use wechatpay_core::api::{CreateRefund, RefundOrder, RefundReason, RefundRequestAmount};
/// use wechatpay_core::model::Fen;
/// use wechatpay_core::{NotifyUrl, OutRefundNo, OutTradeNo};
///
/// # fn main() -> Result<(), wechatpay_core::InvalidInput> {
/// let op = CreateRefund::new(
///     RefundOrder::OutTradeNo(OutTradeNo::new("1217752501201407033233368018")?),
///     OutRefundNo::new("R1217752501201407033233368018")?,
///     RefundRequestAmount::new(Fen(50), Fen(100))?,
/// )
/// .with_reason(RefundReason::new("商品已售完")?)
/// .with_notify_url(NotifyUrl::new("https://example.com/wechatpay/notify")?);
/// # let _ = op; Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateRefund {
    /// The sub-merchant (service providers only; `None` for a direct merchant).
    pub sub_mchid: Option<SubMchId>,
    /// The order refunded.
    pub order: RefundOrder,
    /// The merchant's refund number: one number is one refund, however often it is sent.
    pub out_refund_no: OutRefundNo,
    /// Shown to the user.
    pub reason: Option<RefundReason>,
    /// Where the refund's notifications go (else the console's refund URL).
    pub notify_url: Option<NotifyUrl>,
    /// The account the refund is paid from (`AVAILABLE`; partners also `UNSETTLED`).
    pub funds_account: Option<FundsAccount>,
    /// The amounts.
    pub amount: RefundRequestAmount,
    /// The refunded items.
    pub goods_detail: Vec<RefundGoods>,
}

impl CreateRefund {
    /// A direct merchant's refund of `amount` from `order`, numbered `out_refund_no`.
    pub fn new(order: RefundOrder, out_refund_no: OutRefundNo, amount: RefundRequestAmount) -> Self {
        Self {
            sub_mchid: None,
            order,
            out_refund_no,
            reason: None,
            notify_url: None,
            funds_account: None,
            amount,
            goods_detail: Vec::new(),
        }
    }

    /// Makes it a service provider's refund for `sub_mchid`.
    pub fn with_sub_mchid(self, sub_mchid: SubMchId) -> Self {
        Self { sub_mchid: Some(sub_mchid), ..self }
    }

    /// Sets the reason shown to the user.
    pub fn with_reason(self, reason: RefundReason) -> Self {
        Self { reason: Some(reason), ..self }
    }

    /// Sets the notification URL.
    pub fn with_notify_url(self, notify_url: NotifyUrl) -> Self {
        Self { notify_url: Some(notify_url), ..self }
    }

    /// Sets the account the refund is paid from.
    pub fn with_funds_account(self, funds_account: FundsAccount) -> Self {
        Self { funds_account: Some(funds_account), ..self }
    }

    /// Sets the refunded items.
    pub fn with_goods_detail(self, goods_detail: Vec<RefundGoods>) -> Self {
        Self { goods_detail, ..self }
    }
}

/// The body of a refund request, fields in this order; `None` and empty lists left out.
#[derive(Serialize)]
struct CreateRefundBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_mchid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    out_trade_no: Option<&'a str>,
    out_refund_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notify_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    funds_account: Option<&'a FundsAccount>,
    amount: &'a RefundRequestAmount,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    goods_detail: &'a [RefundGoods],
}

impl Operation for CreateRefund {
    type Output = Refund;
    const NAME: &'static str = "create_refund";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "refund", "domestic", "refunds"])
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        let (transaction_id, out_trade_no) = match &self.order {
            RefundOrder::TransactionId(id) => (Some(id.as_str()), None),
            RefundOrder::OutTradeNo(no) => (None, Some(no.as_str())),
        };
        json_body(&CreateRefundBody {
            sub_mchid: self.sub_mchid.as_ref().map(SubMchId::as_str),
            transaction_id,
            out_trade_no,
            out_refund_no: self.out_refund_no.as_str(),
            reason: self.reason.as_ref().map(RefundReason::as_str),
            notify_url: self.notify_url.as_ref().map(NotifyUrl::as_str),
            funds_account: self.funds_account.as_ref(),
            amount: &self.amount,
            goods_detail: &self.goods_detail,
        })
    }
    /// One `out_refund_no` is one refund however often it is sent (PROTOCOL.md §15), and the
    /// body is built once per call, so a retry re-sends the same number with the same body:
    /// the retry policy may repeat it.
    fn idempotent(&self) -> bool {
        true
    }
    /// Binds `out_refund_no` and the order id given (`transaction_id` or `out_trade_no`).
    /// The refund object names no merchant id, so `mchid`/`sub_mchid` cannot be bound.
    fn check_answer(&self, _mchid: &MchId, answer: &Refund) -> Result<Binding, VerificationFailure> {
        same("out_refund_no", &answer.out_refund_no, self.out_refund_no.as_str())?;
        match &self.order {
            RefundOrder::TransactionId(id) => same("transaction_id", &answer.transaction_id, id.as_str())?,
            RefundOrder::OutTradeNo(no) => same("out_trade_no", &answer.out_trade_no, no.as_str())?,
        }
        Ok(Binding::Checked)
    }
}

/// Query a refund by the merchant's refund number (查询单笔退款).
/// `GET /v3/refund/domestic/refunds/{out_refund_no}`, a service provider with
/// `?sub_mchid={sub_mchid}` (a direct merchant sends no query).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryRefund {
    /// The merchant's refund number.
    pub out_refund_no: OutRefundNo,
    /// The sub-merchant (service providers only; `None` for a direct merchant).
    pub sub_mchid: Option<SubMchId>,
    /// The order the refund was made from, when known: the answer is then bound to it too.
    pub order: Option<RefundOrder>,
}

impl QueryRefund {
    /// A direct merchant's query of `out_refund_no`.
    pub fn new(out_refund_no: OutRefundNo) -> Self {
        Self { out_refund_no, sub_mchid: None, order: None }
    }

    /// Makes it a service provider's query for `sub_mchid`.
    pub fn with_sub_mchid(self, sub_mchid: SubMchId) -> Self {
        Self { sub_mchid: Some(sub_mchid), ..self }
    }

    /// Binds the answer also to the order the refund was made from.
    pub fn with_order(self, order: RefundOrder) -> Self {
        Self { order: Some(order), ..self }
    }
}

impl Operation for QueryRefund {
    type Output = Refund;
    const NAME: &'static str = "query_refund";
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "refund", "domestic", "refunds"])
            .segment(self.out_refund_no.as_str())
            .query_opt("sub_mchid", self.sub_mchid.as_ref().map(SubMchId::as_str))
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// A query changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// Binds `out_refund_no`, and the order id when [`QueryRefund::order`] names one. The
    /// refund object names no merchant id, so `mchid`/`sub_mchid` cannot be bound.
    fn check_answer(&self, _mchid: &MchId, answer: &Refund) -> Result<Binding, VerificationFailure> {
        same("out_refund_no", &answer.out_refund_no, self.out_refund_no.as_str())?;
        match &self.order {
            Some(RefundOrder::TransactionId(id)) => same("transaction_id", &answer.transaction_id, id.as_str())?,
            Some(RefundOrder::OutTradeNo(no)) => same("out_trade_no", &answer.out_trade_no, no.as_str())?,
            None => {}
        }
        Ok(Binding::Checked)
    }
}

/// Where an abnormal refund is paid to instead (`type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum AbnormalRefundType {
    /// To the user's bank card (`USER_BANK_CARD`): needs the bank type, account and name.
    #[serde(rename = "USER_BANK_CARD")]
    UserBankCard,
    /// To the merchant's bank card (`MERCHANT_BANK_CARD`): the merchant refunds offline.
    #[serde(rename = "MERCHANT_BANK_CARD")]
    MerchantBankCard,
}

/// Pay out a refund that ended `ABNORMAL` another way (发起异常退款).
/// `POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund`, a service provider
/// with `sub_mchid` in the body; to the user's bank card, with the account number and the
/// holder's name encrypted ([`SensitiveField`]) and `Wechatpay-Serial` naming their key.
///
/// ```
/// use wechatpay_core::api::{ApplyAbnormalRefund, SensitiveField};
/// use wechatpay_core::{OutRefundNo, PublicKey, RefundId};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let key = PublicKey::from_pem(include_bytes!("../../tests/data/wechatpay_pub.pem"))?;
/// let serial = "PUB_KEY_ID_0114232019092600000000000000000001";
/// let op = ApplyAbnormalRefund::user_bank_card(
///     RefundId::new("50000000382019052709732678859")?,
///     OutRefundNo::new("R1217752501201407033233368018")?,
///     "ICBC_DEBIT",
///     SensitiveField::encrypt(serial, &key, "6214830000000000001".as_bytes())?,
///     SensitiveField::encrypt(serial, &key, "张三".as_bytes())?,
/// )?;
/// assert!(!format!("{op:?}").contains("6214"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyAbnormalRefund {
    refund_id: RefundId,
    out_refund_no: OutRefundNo,
    sub_mchid: Option<SubMchId>,
    kind: AbnormalRefundType,
    bank_type: Option<String>,
    bank_account: Option<SensitiveField>,
    real_name: Option<SensitiveField>,
}

impl ApplyAbnormalRefund {
    /// The rule a `bank_type` must follow.
    pub const BANK_TYPE_RULE: &'static str = "1-16 characters of [A-Z0-9_] (e.g. ICBC_DEBIT)";

    /// To the user's bank card: `bank_type` (`ICBC_DEBIT`, `CMB_DEBIT`, …), the account
    /// number and the holder's name, both encrypted under the same key.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `bank_type` when it breaks its rule, or `real_name` when it
    /// was encrypted under another key than `bank_account` (one request names one key).
    pub fn user_bank_card(
        refund_id: RefundId,
        out_refund_no: OutRefundNo,
        bank_type: &str,
        bank_account: SensitiveField,
        real_name: SensitiveField,
    ) -> Result<Self, InvalidInput> {
        crate::ids::check(
            "bank_type",
            bank_type,
            16,
            |b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_',
            Self::BANK_TYPE_RULE,
        )?;
        if bank_account.serial() != real_name.serial() {
            return Err(InvalidInput::new(
                "real_name",
                "is encrypted under another key than bank_account",
                "bank_account and real_name encrypted under the one key named in Wechatpay-Serial",
            ));
        }
        Ok(Self {
            refund_id,
            out_refund_no,
            sub_mchid: None,
            kind: AbnormalRefundType::UserBankCard,
            bank_type: Some(bank_type.to_owned()),
            bank_account: Some(bank_account),
            real_name: Some(real_name),
        })
    }

    /// To the merchant's bank card (nothing to encrypt).
    pub fn merchant_bank_card(refund_id: RefundId, out_refund_no: OutRefundNo) -> Self {
        Self {
            refund_id,
            out_refund_no,
            sub_mchid: None,
            kind: AbnormalRefundType::MerchantBankCard,
            bank_type: None,
            bank_account: None,
            real_name: None,
        }
    }

    /// Makes it a service provider's request for `sub_mchid`.
    pub fn with_sub_mchid(self, sub_mchid: SubMchId) -> Self {
        Self { sub_mchid: Some(sub_mchid), ..self }
    }

    /// Where the refund is paid to instead.
    pub fn kind(&self) -> AbnormalRefundType {
        self.kind
    }
}

/// The body of an abnormal refund, fields in this order; `None` left out.
#[derive(Serialize)]
struct AbnormalRefundBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_mchid: Option<&'a str>,
    out_refund_no: &'a str,
    #[serde(rename = "type")]
    kind: AbnormalRefundType,
    #[serde(skip_serializing_if = "Option::is_none")]
    bank_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bank_account: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    real_name: Option<&'a str>,
}

impl Operation for ApplyAbnormalRefund {
    type Output = Refund;
    const NAME: &'static str = "apply_abnormal_refund";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "refund", "domestic", "refunds"])
            .segment(self.refund_id.as_str())
            .segment("apply-abnormal-refund")
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        json_body(&AbnormalRefundBody {
            sub_mchid: self.sub_mchid.as_ref().map(SubMchId::as_str),
            out_refund_no: self.out_refund_no.as_str(),
            kind: self.kind,
            bank_type: self.bank_type.as_deref(),
            bank_account: self.bank_account.as_ref().map(SensitiveField::ciphertext),
            real_name: self.real_name.as_ref().map(SensitiveField::ciphertext),
        })
    }
    /// Not repeated after it may have reached the server: a second apply to a refund the
    /// first already moved out of `ABNORMAL` is refused, which would hide the first's
    /// success. After an uncertain failure, query the refund ([`QueryRefund`]) instead.
    fn idempotent(&self) -> bool {
        false
    }
    /// Binds `refund_id` and `out_refund_no`.
    fn check_answer(&self, _mchid: &MchId, answer: &Refund) -> Result<Binding, VerificationFailure> {
        same("refund_id", &answer.refund_id, self.refund_id.as_str())?;
        same("out_refund_no", &answer.out_refund_no, self.out_refund_no.as_str())?;
        Ok(Binding::Checked)
    }
    /// The key that encrypted `bank_account` and `real_name`.
    fn wechatpay_serial(&self) -> Option<&str> {
        self.bank_account.as_ref().map(SensitiveField::serial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mchid() -> MchId {
        MchId::new("1230000109").unwrap()
    }

    fn body(op: &CreateRefund) -> String {
        String::from_utf8(op.body(&mchid()).unwrap()).unwrap()
    }

    fn minimal() -> CreateRefund {
        CreateRefund::new(
            RefundOrder::TransactionId(TransactionId::new("1217752501201407033233368018").unwrap()),
            OutRefundNo::new("R-1|*@_x").unwrap(),
            RefundRequestAmount::new(Fen(1), Fen(100)).unwrap(),
        )
    }

    #[test]
    fn direct_minimal_body_is_exact_and_has_no_sub_mchid() {
        let op = minimal();
        assert_eq!(op.method(), http::Method::POST);
        assert_eq!(op.target(&mchid()).to_string(), "/v3/refund/domestic/refunds");
        assert_eq!(
            body(&op),
            r#"{"transaction_id":"1217752501201407033233368018","out_refund_no":"R-1|*@_x","amount":{"refund":1,"total":100,"currency":"CNY"}}"#
        );
        assert!(op.idempotent());
    }

    #[test]
    fn partner_full_body_is_exact() {
        let amount = RefundRequestAmount::new(Fen(50), Fen(100))
            .unwrap()
            .with_from([(RefundFromAccount::Available, Fen(30)), (RefundFromAccount::Unavailable, Fen(20))])
            .unwrap();
        let mut goods = RefundGoods::new("G1", Fen(50), Fen(50), 1);
        goods.goods_name = Some("杯子".into());
        goods.wechatpay_goods_id = Some("1001".into());
        let op = CreateRefund::new(
            RefundOrder::OutTradeNo(OutTradeNo::new("O1").unwrap()),
            OutRefundNo::new("R1").unwrap(),
            amount,
        )
        .with_sub_mchid(SubMchId::new("1900000109").unwrap())
        .with_reason(RefundReason::new("商品已售完").unwrap())
        .with_notify_url(NotifyUrl::new("https://example.com/n").unwrap())
        .with_funds_account(FundsAccount::Available)
        .with_goods_detail(vec![goods]);
        assert_eq!(
            body(&op),
            concat!(
                r#"{"sub_mchid":"1900000109","out_trade_no":"O1","out_refund_no":"R1","reason":"商品已售完","#,
                r#""notify_url":"https://example.com/n","funds_account":"AVAILABLE","#,
                r#""amount":{"refund":50,"total":100,"currency":"CNY","from":[{"account":"AVAILABLE","amount":30},{"account":"UNAVAILABLE","amount":20}]},"#,
                r#""goods_detail":[{"merchant_goods_id":"G1","wechatpay_goods_id":"1001","goods_name":"杯子","unit_price":50,"refund_amount":50,"refund_quantity":1}]}"#
            )
        );
    }

    #[test]
    fn every_rule_is_refused_naming_the_field() {
        let field = |r: Result<_, InvalidInput>| r.map(|_: ()| ()).unwrap_err().field();
        assert_eq!(field(RefundRequestAmount::new(Fen(0), Fen(100)).map(drop)), "amount.refund");
        assert_eq!(field(RefundRequestAmount::new(Fen(-1), Fen(100)).map(drop)), "amount.refund");
        assert_eq!(field(RefundRequestAmount::new(Fen(101), Fen(100)).map(drop)), "amount.refund");
        assert_eq!(field(RefundRequestAmount::new(Fen(1), Fen(0)).map(drop)), "amount.total");
        assert!(RefundRequestAmount::new(Fen(100), Fen(100)).is_ok());
        let a = || RefundRequestAmount::new(Fen(10), Fen(100)).unwrap();
        let err = a().with_from([(RefundFromAccount::Available, Fen(5))]).unwrap_err();
        assert_eq!((err.field(), err.problem()), ("amount.from", "sums to 5, not the refund 10"));
        let twice = [(RefundFromAccount::Available, Fen(5)), (RefundFromAccount::Available, Fen(5))];
        assert_eq!(a().with_from(twice).unwrap_err().problem(), "names AVAILABLE twice");
        assert_eq!(field(a().with_from([(RefundFromAccount::Available, Fen(0))]).map(drop)), "amount.from");
        assert!(a().with_from([]).is_ok());

        assert!(RefundReason::new("退".repeat(80)).is_ok());
        let err = RefundReason::new("退".repeat(81)).unwrap_err();
        assert_eq!((err.field(), err.problem()), ("reason", "is 81 characters long"));
        assert_eq!(RefundReason::new("").unwrap_err().field(), "reason");
        assert_eq!(RefundReason::new("a\nb").unwrap_err().problem(), "contains a control character");

        assert!(OutRefundNo::new("x".repeat(64)).is_ok());
        for bad in ["", "a/b", "a?b", "a b", "退款", "a#b", "a%2F", "a.b"] {
            assert_eq!(OutRefundNo::new(bad).unwrap_err().field(), "out_refund_no", "{bad}");
        }
        assert_eq!(OutRefundNo::new("x".repeat(65)).unwrap_err().problem(), "is 65 characters long");
        assert_eq!(NotifyUrl::new("http://example.com/n").unwrap_err().field(), "notify_url");
    }

    fn refund_json(out_refund_no: &str, transaction_id: &str, out_trade_no: &str) -> Refund {
        serde_json::from_value(serde_json::json!({
            "refund_id": "50000000382019052709732678859", "out_refund_no": out_refund_no,
            "transaction_id": transaction_id, "out_trade_no": out_trade_no,
            "status": "PROCESSING", "amount": {"total": 100, "refund": 1}
        }))
        .unwrap()
    }

    #[test]
    fn create_binds_refund_number_and_order_id() {
        let op = minimal();
        let ok = refund_json("R-1|*@_x", "1217752501201407033233368018", "O1");
        assert_eq!(op.check_answer(&mchid(), &ok), Ok(Binding::Checked));
        let other_refund = refund_json("R2", "1217752501201407033233368018", "O1");
        assert_eq!(
            op.check_answer(&mchid(), &other_refund),
            Err(VerificationFailure::AnswerMismatch { field: "out_refund_no" })
        );
        let other_order = refund_json("R-1|*@_x", "4200000000000000000000000000", "O1");
        assert_eq!(
            op.check_answer(&mchid(), &other_order),
            Err(VerificationFailure::AnswerMismatch { field: "transaction_id" })
        );
        let by_no = CreateRefund { order: RefundOrder::OutTradeNo(OutTradeNo::new("O2").unwrap()), ..minimal() };
        assert_eq!(
            by_no.check_answer(&mchid(), &ok),
            Err(VerificationFailure::AnswerMismatch { field: "out_trade_no" })
        );
    }

    #[test]
    fn query_targets_and_binds() {
        let op = QueryRefund::new(OutRefundNo::new("R|1@x").unwrap());
        assert_eq!(op.method(), http::Method::GET);
        assert_eq!(op.target(&mchid()).to_string(), "/v3/refund/domestic/refunds/R%7C1%40x");
        assert_eq!(op.body(&mchid()), None);
        let partner = op.clone().with_sub_mchid(SubMchId::new("1900000109").unwrap());
        assert_eq!(partner.target(&mchid()).to_string(), "/v3/refund/domestic/refunds/R%7C1%40x?sub_mchid=1900000109");
        assert_eq!(op.check_answer(&mchid(), &refund_json("R|1@x", "T", "O")), Ok(Binding::Checked));
        assert_eq!(
            op.check_answer(&mchid(), &refund_json("R|1@y", "T", "O")),
            Err(VerificationFailure::AnswerMismatch { field: "out_refund_no" })
        );
        let bound = op.with_order(RefundOrder::OutTradeNo(OutTradeNo::new("O").unwrap()));
        assert_eq!(bound.check_answer(&mchid(), &refund_json("R|1@x", "T", "O")), Ok(Binding::Checked));
        assert_eq!(
            bound.check_answer(&mchid(), &refund_json("R|1@x", "T", "P")),
            Err(VerificationFailure::AnswerMismatch { field: "out_trade_no" })
        );
    }
}
