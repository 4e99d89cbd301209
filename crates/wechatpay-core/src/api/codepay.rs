//! Payment code at the till (付款码 / codepay) and its reverse (撤销), direct and as a service
//! provider (PROTOCOL.md §14).
//!
//! The request is validated when it is built ([`CodepayOrder::new`] and its setters,
//! [`CodepaySceneInfo`], [`AuthCode::new`]): nothing invalid is ever signed, and each error
//! names the field and the rule. A codepay is **not idempotent**: the driver never sends it
//! twice once it may have arrived, and [`crate::charge`] follows it with queries and, if need
//! be, a reverse instead.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::prepay::{DESCRIPTION_RULE, OUT_TRADE_NO_RULE, TOTAL_RULE, length, opt_length};
use super::{Binding, Operation, PartnerIds, Target, VerificationFailure, json_body, nothing_to_bind, same, same_opt};
use crate::ids::{AppId, InvalidInput, MchId, OutTradeNo, check};
use crate::model::{Fen, PartnerTransaction, Transaction};

const AUTH_CODE_RULE: &str = "18 ASCII digits (the scanned payment code)";

/// The scanned payment code (`payer.auth_code`): 18 ASCII digits; the prefix (10–15) is not
/// checked. It pays once, so it is kept out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthCode(String);

impl AuthCode {
    /// A payment code.
    ///
    /// # Errors
    /// [`InvalidInput`] for `auth_code` unless it is 18 ASCII digits.
    pub fn new(code: &str) -> Result<AuthCode, InvalidInput> {
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidInput::new("auth_code", "has a character that is not a digit", AUTH_CODE_RULE));
        }
        if code.len() != 18 {
            return Err(InvalidInput::new("auth_code", format!("is {} digits long", code.len()), AUTH_CODE_RULE));
        }
        Ok(AuthCode(code.to_owned()))
    }

    /// The code, as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthCode(<18 digits>)")
    }
}

/// The store the till stands in (`scene_info.store_info`): exactly one of WeChat Pay's place
/// id or the merchant's own store code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodepayStore {
    /// `id`: WeChat Pay's 线下场所ID, 1-32 characters (not the merchant's store id).
    Id(String),
    /// `out_id`: the merchant's own store code, 1-256 characters.
    OutId(String),
}

/// Where the code was scanned (`scene_info`, required): the store, and the till's IP address
/// and device id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodepaySceneInfo {
    store: CodepayStore,
    device_ip: Option<String>,
    device_id: Option<String>,
}

impl CodepaySceneInfo {
    /// A `scene_info` naming the store.
    ///
    /// # Errors
    /// [`InvalidInput`] for `scene_info.store_info.id` (1-32 characters) or
    /// `scene_info.store_info.out_id` (1-256 characters).
    pub fn new(store: CodepayStore) -> Result<CodepaySceneInfo, InvalidInput> {
        match &store {
            CodepayStore::Id(id) => length("scene_info.store_info.id", id, 1, 32, "1-32 characters")?,
            CodepayStore::OutId(id) => length("scene_info.store_info.out_id", id, 1, 256, "1-256 characters")?,
        }
        Ok(CodepaySceneInfo { store, device_ip: None, device_id: None })
    }

    /// Sets `device_ip`, the till's own IPv4 or IPv6 address (send it: whether it is required
    /// is unconfirmed).
    ///
    /// # Errors
    /// [`InvalidInput`] for `scene_info.device_ip`.
    pub fn device_ip(mut self, ip: &str) -> Result<CodepaySceneInfo, InvalidInput> {
        const RULE: &str = "the merchant device's IPv4 or IPv6 address, at most 45 characters";
        length("scene_info.device_ip", ip, 1, 45, RULE)?;
        if ip.parse::<IpAddr>().is_err() {
            return Err(InvalidInput::new("scene_info.device_ip", "is not an IP address", RULE));
        }
        self.device_ip = Some(ip.to_owned());
        Ok(self)
    }

    /// Sets `device_id` (1-32 characters).
    ///
    /// # Errors
    /// [`InvalidInput`] for `scene_info.device_id`.
    pub fn device_id(mut self, id: &str) -> Result<CodepaySceneInfo, InvalidInput> {
        length("scene_info.device_id", id, 1, 32, "1-32 characters")?;
        self.device_id = Some(id.to_owned());
        Ok(self)
    }

    /// The store.
    pub fn store(&self) -> &CodepayStore {
        &self.store
    }
}

/// One line of goods (`detail.goods_detail[]`); note `wxpay_goods_id`, not prepay's
/// `wechatpay_goods_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodepayGoods {
    /// The merchant's goods id, 1-32 characters (required).
    pub merchant_goods_id: String,
    /// WeChat Pay's goods id, 1-32 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wxpay_goods_id: Option<String>,
    /// The goods' name, 1-256 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_name: Option<String>,
    /// How many, at least 1.
    pub quantity: i64,
    /// The unit price in fen, not negative.
    pub unit_price: i64,
}

/// The charge's detail (`detail`); `goods_detail` is required with it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CodepayDetail {
    /// The original price in fen, not negative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_price: Option<i64>,
    /// The merchant's receipt id, 1-32 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    /// The goods, 1-6000 lines.
    pub goods_detail: Vec<CodepayGoods>,
}

impl CodepayDetail {
    fn check(&self) -> Result<(), InvalidInput> {
        if self.cost_price.is_some_and(|p| p < 0) {
            return Err(InvalidInput::new("detail.cost_price", "is negative", "an amount in fen, not negative"));
        }
        opt_length("detail.invoice_id", self.invoice_id.as_deref(), 32, "1-32 characters")?;
        let lines = self.goods_detail.len();
        if lines == 0 || lines > 6000 {
            return Err(InvalidInput::new("detail.goods_detail", format!("has {lines} lines"), "1-6000 lines"));
        }
        for g in &self.goods_detail {
            length("detail.goods_detail.merchant_goods_id", &g.merchant_goods_id, 1, 32, "1-32 characters")?;
            opt_length("detail.goods_detail.wxpay_goods_id", g.wxpay_goods_id.as_deref(), 32, "1-32 characters")?;
            opt_length("detail.goods_detail.goods_name", g.goods_name.as_deref(), 256, "1-256 characters")?;
            if g.quantity < 1 {
                return Err(InvalidInput::new("detail.goods_detail.quantity", "is less than 1", "at least 1"));
            }
            if g.unit_price < 0 {
                let rule = "an amount in fen, not negative";
                return Err(InvalidInput::new("detail.goods_detail.unit_price", "is negative", rule));
            }
        }
        Ok(())
    }
}

/// What a payment-code charge asks for: built by [`CodepayOrder::new`] and its setters, each
/// of which validates its value, so a `CodepayOrder` is always valid. There is no
/// `notify_url`, `time_expire` or `payer.openid`: a payment-code order sends no notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodepayOrder {
    out_trade_no: OutTradeNo,
    description: String,
    total: Fen,
    currency: Option<String>,
    auth_code: AuthCode,
    scene_info: CodepaySceneInfo,
    attach: Option<String>,
    goods_tag: Option<String>,
    support_fapiao: Option<bool>,
    detail: Option<CodepayDetail>,
    profit_sharing: Option<bool>,
}

impl CodepayOrder {
    /// A charge with the required fields: `out_trade_no` (6-32 of `[0-9A-Za-z_-|*]`; a new
    /// code needs a new one), `description` (1-127 characters), `amount.total` (fen, > 0),
    /// `payer.auth_code` and `scene_info`.
    ///
    /// # Errors
    /// [`InvalidInput`] naming the first field that breaks its rule.
    pub fn new(
        out_trade_no: &str,
        description: &str,
        total: Fen,
        auth_code: AuthCode,
        scene_info: CodepaySceneInfo,
    ) -> Result<CodepayOrder, InvalidInput> {
        let out_trade_no = OutTradeNo::new(out_trade_no)
            .map_err(|e| InvalidInput::new("out_trade_no", e.problem(), OUT_TRADE_NO_RULE))?;
        let n = out_trade_no.as_str().len();
        if n < 6 {
            return Err(InvalidInput::new("out_trade_no", format!("is {n} characters long"), OUT_TRADE_NO_RULE));
        }
        length("description", description, 1, 127, DESCRIPTION_RULE)?;
        if total.get() <= 0 {
            return Err(InvalidInput::new("amount.total", format!("is {}", total.get()), TOTAL_RULE));
        }
        Ok(CodepayOrder {
            out_trade_no,
            description: description.to_owned(),
            total,
            currency: None,
            auth_code,
            scene_info,
            attach: None,
            goods_tag: None,
            support_fapiao: None,
            detail: None,
            profit_sharing: None,
        })
    }

    /// Sets `attach` (1-128 characters, echoed by queries).
    ///
    /// # Errors
    /// [`InvalidInput`] for `attach`.
    pub fn attach(mut self, attach: &str) -> Result<CodepayOrder, InvalidInput> {
        length("attach", attach, 1, 128, "1-128 characters")?;
        self.attach = Some(attach.to_owned());
        Ok(self)
    }

    /// Sets `goods_tag` (1-32 characters).
    ///
    /// # Errors
    /// [`InvalidInput`] for `goods_tag`.
    pub fn goods_tag(mut self, goods_tag: &str) -> Result<CodepayOrder, InvalidInput> {
        length("goods_tag", goods_tag, 1, 32, "1-32 characters")?;
        self.goods_tag = Some(goods_tag.to_owned());
        Ok(self)
    }

    /// Sets `amount.currency` (1-16 upper-case letters; left out: CNY).
    ///
    /// # Errors
    /// [`InvalidInput`] for `amount.currency`.
    pub fn currency(mut self, currency: &str) -> Result<CodepayOrder, InvalidInput> {
        check("amount.currency", currency, 16, |b| b.is_ascii_uppercase(), "1-16 upper-case letters, e.g. CNY")?;
        self.currency = Some(currency.to_owned());
        Ok(self)
    }

    /// Sets `support_fapiao`.
    pub fn support_fapiao(mut self, support_fapiao: bool) -> CodepayOrder {
        self.support_fapiao = Some(support_fapiao);
        self
    }

    /// Sets `settle_info.profit_sharing`.
    pub fn profit_sharing(mut self, profit_sharing: bool) -> CodepayOrder {
        self.profit_sharing = Some(profit_sharing);
        self
    }

    /// Sets `detail`, after checking it (`goods_detail` must have 1-6000 lines).
    ///
    /// # Errors
    /// [`InvalidInput`] naming the nested field.
    pub fn detail(mut self, detail: CodepayDetail) -> Result<CodepayOrder, InvalidInput> {
        detail.check()?;
        self.detail = Some(detail);
        Ok(self)
    }

    /// The merchant order number.
    pub fn out_trade_no(&self) -> &OutTradeNo {
        &self.out_trade_no
    }

    /// The amount in fen.
    pub fn total(&self) -> Fen {
        self.total
    }
}

#[derive(Serialize)]
struct StoreBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    out_id: Option<&'a str>,
}

#[derive(Serialize)]
struct SceneBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    device_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_id: Option<&'a str>,
    store_info: StoreBody<'a>,
}

#[derive(Serialize)]
struct AmountBody<'a> {
    total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<&'a str>,
}

#[derive(Serialize)]
struct PayerBody<'a> {
    auth_code: &'a str,
}

#[derive(Serialize)]
struct SettleBody {
    profit_sharing: bool,
}

/// The one body of both codepay endpoints (absent fields left out).
#[derive(Serialize)]
struct CodepayBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    appid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mchid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sp_appid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sp_mchid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_appid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_mchid: Option<&'a str>,
    description: &'a str,
    out_trade_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    attach: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    goods_tag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    support_fapiao: Option<bool>,
    amount: AmountBody<'a>,
    payer: PayerBody<'a>,
    scene_info: SceneBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a CodepayDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    settle_info: Option<SettleBody>,
}

/// Whose charge it is.
#[derive(Default)]
struct Ids<'a> {
    appid: Option<&'a str>,
    mchid: Option<&'a str>,
    sp_appid: Option<&'a str>,
    sp_mchid: Option<&'a str>,
    sub_appid: Option<&'a str>,
    sub_mchid: Option<&'a str>,
}

fn partner_ids<'a>(ids: &'a PartnerIds, mchid: &'a MchId) -> Ids<'a> {
    Ids {
        sp_appid: Some(ids.sp_appid.as_str()),
        sp_mchid: Some(mchid.as_str()),
        sub_appid: ids.sub_appid.as_ref().map(AppId::as_str),
        sub_mchid: Some(ids.sub_mchid.as_str()),
        ..Ids::default()
    }
}

fn codepay_body(ids: Ids<'_>, order: &CodepayOrder) -> Option<Vec<u8>> {
    let (id, out_id) = match &order.scene_info.store {
        CodepayStore::Id(id) => (Some(id.as_str()), None),
        CodepayStore::OutId(id) => (None, Some(id.as_str())),
    };
    json_body(&CodepayBody {
        appid: ids.appid,
        mchid: ids.mchid,
        sp_appid: ids.sp_appid,
        sp_mchid: ids.sp_mchid,
        sub_appid: ids.sub_appid,
        sub_mchid: ids.sub_mchid,
        description: &order.description,
        out_trade_no: order.out_trade_no.as_str(),
        attach: order.attach.as_deref(),
        goods_tag: order.goods_tag.as_deref(),
        support_fapiao: order.support_fapiao,
        amount: AmountBody { total: order.total.get(), currency: order.currency.as_deref() },
        payer: PayerBody { auth_code: order.auth_code.as_str() },
        scene_info: SceneBody {
            device_ip: order.scene_info.device_ip.as_deref(),
            device_id: order.scene_info.device_id.as_deref(),
            store_info: StoreBody { id, out_id },
        },
        detail: order.detail.as_ref(),
        settle_info: order.profit_sharing.map(|profit_sharing| SettleBody { profit_sharing }),
    })
}

/// What a codepay answered: `200` with the order (normally `SUCCESS`: paid without a
/// password), or `202` (the user is entering a password: query, PROTOCOL.md §14).
///
/// A `202` is verified when it is signed; unsigned, its body is read as nothing more than
/// "still paying". Either way it binds nothing and only leads to a query. A `200` is an
/// order like any query's answer: judge it by its `trade_state`.
#[derive(Clone, Debug, PartialEq)]
pub enum CodepayOutcome<T> {
    /// `200`: the verified order, bound to the request.
    Paid(T),
    /// `202 {"trade_state":"USERPAYING"}`: the user is paying; query.
    UserPaying,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for CodepayOutcome<T> {
    /// A `200` body: the order. (The `202` never reaches deserialisation: see
    /// [`Operation::answer_from_status`].)
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(CodepayOutcome::Paid)
    }
}

impl<T: Serialize> Serialize for CodepayOutcome<T> {
    /// The order, or `{"trade_state":"USERPAYING"}`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            CodepayOutcome::Paid(order) => order.serialize(serializer),
            CodepayOutcome::UserPaying => serde_json::json!({"trade_state": "USERPAYING"}).serialize(serializer),
        }
    }
}

/// Direct merchant: charge a scanned payment code.
/// `POST /v3/pay/transactions/codepay`, answered by a [`CodepayOutcome`] of a [`Transaction`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Codepay {
    /// An app id bound to the merchant (`appid`).
    pub appid: AppId,
    /// The charge.
    pub order: CodepayOrder,
}

/// Service provider: charge a scanned payment code for a sub-merchant.
/// `POST /v3/pay/partner/transactions/codepay` (`sp_appid` always sent), answered by a
/// [`CodepayOutcome`] of a [`PartnerTransaction`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerCodepay {
    /// `sp_appid`, `sub_mchid` and, optionally, `sub_appid`.
    pub ids: PartnerIds,
    /// The charge.
    pub order: CodepayOrder,
}

impl Operation for Codepay {
    type Output = CodepayOutcome<Transaction>;
    const NAME: &'static str = "codepay";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "pay", "transactions", "codepay"])
    }
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
        let ids = Ids { appid: Some(self.appid.as_str()), mchid: Some(mchid.as_str()), ..Ids::default() };
        codepay_body(ids, &self.order)
    }
    /// Not idempotent: a second codepay may charge twice (PROTOCOL.md §14). After a failure
    /// that may have arrived, query instead ([`crate::charge`]).
    fn idempotent(&self) -> bool {
        false
    }
    /// A `200` binds `out_trade_no`, `mchid` and `appid`; a `202` binds nothing.
    fn check_answer(&self, mchid: &MchId, answer: &Self::Output) -> Result<Binding, VerificationFailure> {
        match answer {
            CodepayOutcome::Paid(order) => {
                same("out_trade_no", &order.out_trade_no, self.order.out_trade_no.as_str())?;
                same("mchid", &order.mchid, mchid.as_str())?;
                same_opt("appid", order.appid.as_deref(), self.appid.as_str())?;
                Ok(Binding::Checked)
            }
            CodepayOutcome::UserPaying => nothing_to_bind(),
        }
    }
    /// `202`: the user is paying (verified if signed; its body is not data).
    fn answer_from_status(&self, status: http::StatusCode) -> Option<Self::Output> {
        (status == http::StatusCode::ACCEPTED).then_some(CodepayOutcome::UserPaying)
    }
}

impl Operation for PartnerCodepay {
    type Output = CodepayOutcome<PartnerTransaction>;
    const NAME: &'static str = "partner_codepay";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "pay", "partner", "transactions", "codepay"])
    }
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
        codepay_body(partner_ids(&self.ids, mchid), &self.order)
    }
    /// Not idempotent: a second codepay may charge twice (PROTOCOL.md §14).
    fn idempotent(&self) -> bool {
        false
    }
    /// A `200` binds `out_trade_no`, `sp_mchid` and `sub_mchid`; a `202` binds nothing.
    fn check_answer(&self, mchid: &MchId, answer: &Self::Output) -> Result<Binding, VerificationFailure> {
        match answer {
            CodepayOutcome::Paid(order) => {
                same("out_trade_no", &order.out_trade_no, self.order.out_trade_no.as_str())?;
                same("sp_mchid", &order.sp_mchid, mchid.as_str())?;
                same("sub_mchid", &order.sub_mchid, self.ids.sub_mchid.as_str())?;
                Ok(Binding::Checked)
            }
            CodepayOutcome::UserPaying => nothing_to_bind(),
        }
    }
    /// `202`: the user is paying (verified if signed; its body is not data).
    fn answer_from_status(&self, status: http::StatusCode) -> Option<Self::Output> {
        (status == http::StatusCode::ACCEPTED).then_some(CodepayOutcome::UserPaying)
    }
}

/// The ids a reverse's `200` repeats (direct: `appid`, `mchid`; partner: `sp_appid`,
/// `sp_mchid`, `sub_appid`, `sub_mchid`; both: `out_trade_no`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReverseAnswer {
    /// `appid` (direct).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// `mchid` (direct).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// `sp_appid` (partner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_appid: Option<String>,
    /// `sp_mchid` (partner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// `sub_appid` (partner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_appid: Option<String>,
    /// `sub_mchid` (partner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// The reversed order's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
}

/// The answer to a reverse: a `200` echoing the ids (bound to the request), or an empty
/// `204`. Either way, query once more: a reverse answer is not proof of the order's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reversed {
    /// `200` with the ids.
    Answered(ReverseAnswer),
    /// `204`, no body.
    NoContent,
}

impl<'de> Deserialize<'de> for Reversed {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<ReverseAnswer>::deserialize(deserializer).map(|a| a.map_or(Reversed::NoContent, Reversed::Answered))
    }
}

impl Serialize for Reversed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Reversed::Answered(a) => a.serialize(serializer),
            Reversed::NoContent => serializer.serialize_none(),
        }
    }
}

#[derive(Serialize)]
struct DirectReverseBody<'a> {
    appid: &'a str,
    mchid: &'a str,
}

#[derive(Serialize)]
struct PartnerReverseBody<'a> {
    sp_appid: &'a str,
    sp_mchid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_appid: Option<&'a str>,
    sub_mchid: &'a str,
}

/// Direct merchant: reverse (撤销) a payment-code order: an unpaid one ends `REVOKED`, a paid
/// one is refunded in full. `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/reverse`
/// with `{"appid","mchid"}`. Not sooner than 15 s after the codepay; orders under 7 days old.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reverse {
    /// The app id the codepay was sent with.
    pub appid: AppId,
    /// The order.
    pub out_trade_no: OutTradeNo,
}

/// Service provider: reverse a sub-merchant's payment-code order.
/// `POST /v3/pay/partner/transactions/out-trade-no/{out_trade_no}/reverse` with
/// `{"sp_appid","sp_mchid","sub_appid"?,"sub_mchid"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerReverse {
    /// `sp_appid`, `sub_mchid` and, optionally, `sub_appid`.
    pub ids: PartnerIds,
    /// The order.
    pub out_trade_no: OutTradeNo,
}

impl Operation for Reverse {
    type Output = Reversed;
    const NAME: &'static str = "reverse";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "pay", "transactions", "out-trade-no"])
            .segment(self.out_trade_no.as_str())
            .segment("reverse")
    }
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
        json_body(&DirectReverseBody { appid: self.appid.as_str(), mchid: mchid.as_str() })
    }
    /// A reverse is reentrant (reversing a reversed order answers the same): it is repeated
    /// after transport failures and `5xx` until answered.
    fn idempotent(&self) -> bool {
        true
    }
    /// A `200` binds `out_trade_no`, `mchid` and `appid`; a `204` binds nothing.
    fn check_answer(&self, mchid: &MchId, answer: &Reversed) -> Result<Binding, VerificationFailure> {
        match answer {
            Reversed::Answered(a) => {
                same_opt("out_trade_no", a.out_trade_no.as_deref(), self.out_trade_no.as_str())?;
                same_opt("mchid", a.mchid.as_deref(), mchid.as_str())?;
                same_opt("appid", a.appid.as_deref(), self.appid.as_str())?;
                Ok(Binding::Checked)
            }
            Reversed::NoContent => nothing_to_bind(),
        }
    }
}

impl Operation for PartnerReverse {
    type Output = Reversed;
    const NAME: &'static str = "partner_reverse";
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "pay", "partner", "transactions", "out-trade-no"])
            .segment(self.out_trade_no.as_str())
            .segment("reverse")
    }
    fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
        json_body(&PartnerReverseBody {
            sp_appid: self.ids.sp_appid.as_str(),
            sp_mchid: mchid.as_str(),
            sub_appid: self.ids.sub_appid.as_ref().map(AppId::as_str),
            sub_mchid: self.ids.sub_mchid.as_str(),
        })
    }
    /// Reentrant, as [`Reverse`].
    fn idempotent(&self) -> bool {
        true
    }
    /// A `200` binds `out_trade_no`, `sp_mchid` and `sub_mchid`; a `204` binds nothing.
    fn check_answer(&self, mchid: &MchId, answer: &Reversed) -> Result<Binding, VerificationFailure> {
        match answer {
            Reversed::Answered(a) => {
                same_opt("out_trade_no", a.out_trade_no.as_deref(), self.out_trade_no.as_str())?;
                same_opt("sp_mchid", a.sp_mchid.as_deref(), mchid.as_str())?;
                same_opt("sub_mchid", a.sub_mchid.as_deref(), self.ids.sub_mchid.as_str())?;
                Ok(Binding::Checked)
            }
            Reversed::NoContent => nothing_to_bind(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scene() -> CodepaySceneInfo {
        CodepaySceneInfo::new(CodepayStore::OutId("SZ-001".into())).unwrap().device_ip("10.0.0.7").unwrap()
    }

    fn order() -> CodepayOrder {
        CodepayOrder::new("CP20260001", "Coffee", Fen(1200), AuthCode::new("134567890123456780").unwrap(), scene())
            .unwrap()
    }

    #[test]
    fn auth_code_is_18_digits_and_not_in_debug() {
        assert!(AuthCode::new("134567890123456789").is_ok());
        assert!(AuthCode::new("994567890123456789").is_ok(), "prefix unchecked");
        for bad in ["13456789012345678", "1345678901234567890", "13456789012345678x", "", "１34567890123456789"] {
            assert_eq!(AuthCode::new(bad).unwrap_err().field(), "auth_code", "{bad:?}");
        }
        let debug = format!("{:?}", order());
        assert!(!debug.contains("134567890123456780"), "{debug}");
    }

    #[test]
    fn order_rules_name_their_field() {
        let code = || AuthCode::new("134567890123456780").unwrap();
        let e = |r: Result<CodepayOrder, InvalidInput>| r.unwrap_err().field();
        assert_eq!(e(CodepayOrder::new("CP1", "x", Fen(1), code(), scene())), "out_trade_no");
        assert_eq!(e(CodepayOrder::new(&"A".repeat(33), "x", Fen(1), code(), scene())), "out_trade_no");
        assert_eq!(e(CodepayOrder::new("CP0001", "", Fen(1), code(), scene())), "description");
        assert_eq!(e(CodepayOrder::new("CP0001", &"字".repeat(128), Fen(1), code(), scene())), "description");
        assert!(CodepayOrder::new("CP0001", &"字".repeat(127), Fen(1), code(), scene()).is_ok());
        assert_eq!(e(CodepayOrder::new("CP0001", "x", Fen(0), code(), scene())), "amount.total");
        assert_eq!(e(CodepayOrder::new("CP0001", "x", Fen(-5), code(), scene())), "amount.total");
        let store = |s: CodepayStore| CodepaySceneInfo::new(s).unwrap_err().field();
        assert_eq!(store(CodepayStore::Id(String::new())), "scene_info.store_info.id");
        assert_eq!(store(CodepayStore::OutId("x".repeat(257))), "scene_info.store_info.out_id");
        let s = CodepaySceneInfo::new(CodepayStore::Id("1234".into())).unwrap();
        assert_eq!(s.clone().device_ip("not-ip").unwrap_err().field(), "scene_info.device_ip");
        assert_eq!(s.device_id(&"d".repeat(33)).unwrap_err().field(), "scene_info.device_id");
        let detail = CodepayDetail::default();
        assert_eq!(order().detail(detail).unwrap_err().field(), "detail.goods_detail");
    }

    #[test]
    fn direct_body_and_target() {
        let mchid = MchId::new("1230000109").unwrap();
        let op = Codepay { appid: AppId::new("wxd678efh567hg6787").unwrap(), order: order().attach("a").unwrap() };
        assert_eq!(op.target(&mchid).to_string(), "/v3/pay/transactions/codepay");
        let body = String::from_utf8(op.body(&mchid).unwrap()).unwrap();
        assert_eq!(
            body,
            r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Coffee","out_trade_no":"CP20260001","attach":"a","amount":{"total":1200},"payer":{"auth_code":"134567890123456780"},"scene_info":{"device_ip":"10.0.0.7","store_info":{"out_id":"SZ-001"}}}"#
        );
        assert!(!op.idempotent());
        assert_eq!(op.answer_from_status(http::StatusCode::ACCEPTED), Some(CodepayOutcome::UserPaying));
        assert_eq!(op.answer_from_status(http::StatusCode::OK), None);
    }

    #[test]
    fn partner_body_sends_sp_appid_and_wxpay_goods_id() {
        let mchid = MchId::new("1900000100").unwrap();
        let ids = PartnerIds {
            sp_appid: AppId::new("wx8888888888888888").unwrap(),
            sub_mchid: crate::SubMchId::new("1900000109").unwrap(),
            sub_appid: None,
        };
        let goods = CodepayGoods {
            merchant_goods_id: "G1".into(),
            wxpay_goods_id: Some("1001".into()),
            goods_name: None,
            quantity: 1,
            unit_price: 1200,
        };
        let detail = CodepayDetail { goods_detail: vec![goods], ..CodepayDetail::default() };
        let op = PartnerCodepay { ids, order: order().detail(detail).unwrap() };
        assert_eq!(op.target(&mchid).to_string(), "/v3/pay/partner/transactions/codepay");
        let body = String::from_utf8(op.body(&mchid).unwrap()).unwrap();
        assert!(
            body.starts_with(r#"{"sp_appid":"wx8888888888888888","sp_mchid":"1900000100","sub_mchid":"1900000109","#)
        );
        assert!(body.contains(r#""detail":{"goods_detail":[{"merchant_goods_id":"G1","wxpay_goods_id":"1001","quantity":1,"unit_price":1200}]}"#), "{body}");
    }

    #[test]
    fn reverse_bodies_and_binding() {
        let mchid = MchId::new("1230000109").unwrap();
        let op = Reverse {
            appid: AppId::new("wxd678efh567hg6787").unwrap(),
            out_trade_no: OutTradeNo::new("CP20260001").unwrap(),
        };
        assert_eq!(op.target(&mchid).to_string(), "/v3/pay/transactions/out-trade-no/CP20260001/reverse");
        assert_eq!(op.body(&mchid).unwrap(), br#"{"appid":"wxd678efh567hg6787","mchid":"1230000109"}"#);
        assert!(op.idempotent());
        let ok: Reversed =
            serde_json::from_str(r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"CP20260001"}"#)
                .unwrap();
        assert_eq!(op.check_answer(&mchid, &ok), Ok(Binding::Checked));
        let other: Reversed =
            serde_json::from_str(r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"CP20260002"}"#)
                .unwrap();
        assert_eq!(op.check_answer(&mchid, &other), Err(VerificationFailure::AnswerMismatch { field: "out_trade_no" }));
        let none: Reversed = serde_json::from_str("null").unwrap();
        assert_eq!(none, Reversed::NoContent);
        assert_eq!(op.check_answer(&mchid, &none), Ok(Binding::Nothing));

        let ids = PartnerIds {
            sp_appid: AppId::new("wx8888888888888888").unwrap(),
            sub_mchid: crate::SubMchId::new("1900000109").unwrap(),
            sub_appid: Some(AppId::new("wxd678efh567hg6999").unwrap()),
        };
        let op = PartnerReverse { ids, out_trade_no: OutTradeNo::new("CP20260001").unwrap() };
        assert_eq!(
            op.body(&MchId::new("1900000100").unwrap()).unwrap(),
            br#"{"sp_appid":"wx8888888888888888","sp_mchid":"1900000100","sub_appid":"wxd678efh567hg6999","sub_mchid":"1900000109"}"#
        );
    }
}
