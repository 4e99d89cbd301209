//! Creating an order (下单 / prepay, PROTOCOL.md §12): JSAPI (also mini-programs), APP, H5 and
//! Native, direct and as a service provider.
//!
//! Every value is validated when the request is built ([`Order::new`] and its setters, the
//! operations' constructors), so an invalid request never exists and nothing invalid is
//! signed; each error names the field and the rule. Optional fields left out are absent
//! from the body (never `null`).

use std::net::IpAddr;
use std::str::FromStr;

use serde::Serialize;

use super::sensitive::SensitiveField;
use super::{Binding, Operation, Target, VerificationFailure, json_body, nothing_to_bind};
use crate::ids::{AppId, InvalidInput, MchId, OpenId, OutTradeNo, SubMchId, check};
use crate::model::{CodeUrl, Fen, H5Url, PrepayId, Rfc3339};

/// Refuses text longer than `max` characters (and, with `min` 1, empty text).
pub(super) fn length(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
    rule: &'static str,
) -> Result<(), InvalidInput> {
    let n = value.chars().count();
    if n < min {
        return Err(InvalidInput::new(field, "is empty", rule));
    }
    if n > max {
        return Err(InvalidInput::new(field, format!("is {n} characters long"), rule));
    }
    Ok(())
}

/// Refuses an optional text longer than `max` characters, or empty.
pub(super) fn opt_length(
    field: &'static str,
    value: Option<&str>,
    max: usize,
    rule: &'static str,
) -> Result<(), InvalidInput> {
    value.map_or(Ok(()), |v| length(field, v, 1, max, rule))
}

pub(super) const OUT_TRADE_NO_RULE: &str = "6-32 characters of [0-9A-Za-z_-|*] for a new order";
pub(super) const DESCRIPTION_RULE: &str = "1-127 characters";
pub(super) const TOTAL_RULE: &str = "an amount in fen greater than 0";
const TIME_EXPIRE_RULE: &str = "RFC 3339 with an offset, e.g. 2018-06-08T10:34:56+08:00";

/// A payment-method restriction (`limit_pay`; permissioned, PROTOCOL.md §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitPay {
    /// `no_balance`: not from the WeChat balance.
    NoBalance,
    /// `no_credit`: no credit card.
    NoCredit,
    /// `no_debit`: no debit card.
    NoDebit,
    /// `balance_only`: only the WeChat balance.
    BalanceOnly,
}

/// One line of goods (`detail.goods_detail[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderGoods {
    /// The merchant's goods id, 1-32 characters (required).
    pub merchant_goods_id: String,
    /// WeChat Pay's goods id, at most 32 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wechatpay_goods_id: Option<String>,
    /// The goods' name, at most 256 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_name: Option<String>,
    /// How many, at least 1.
    pub quantity: i64,
    /// The unit price in fen, not negative.
    pub unit_price: i64,
}

/// The order's detail (`detail`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrderDetail {
    /// The original price in fen, not negative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_price: Option<i64>,
    /// The merchant's receipt id, at most 32 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    /// The goods, 1-6000 lines when given (an empty list is left out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub goods_detail: Vec<OrderGoods>,
}

impl OrderDetail {
    fn check(&self) -> Result<(), InvalidInput> {
        if self.cost_price.is_some_and(|p| p < 0) {
            return Err(InvalidInput::new("detail.cost_price", "is negative", "an amount in fen, not negative"));
        }
        opt_length("detail.invoice_id", self.invoice_id.as_deref(), 32, "1-32 characters")?;
        if self.goods_detail.len() > 6000 {
            return Err(InvalidInput::new(
                "detail.goods_detail",
                format!("has {} lines", self.goods_detail.len()),
                "at most 6000 lines",
            ));
        }
        for g in &self.goods_detail {
            length("detail.goods_detail.merchant_goods_id", &g.merchant_goods_id, 1, 32, "1-32 characters")?;
            opt_length(
                "detail.goods_detail.wechatpay_goods_id",
                g.wechatpay_goods_id.as_deref(),
                32,
                "1-32 characters",
            )?;
            opt_length("detail.goods_detail.goods_name", g.goods_name.as_deref(), 256, "1-256 characters")?;
            if g.quantity < 1 {
                return Err(InvalidInput::new("detail.goods_detail.quantity", "is less than 1", "at least 1"));
            }
            if g.unit_price < 0 {
                return Err(InvalidInput::new(
                    "detail.goods_detail.unit_price",
                    "is negative",
                    "an amount in fen, not negative",
                ));
            }
        }
        Ok(())
    }
}

/// The store the order was placed in (`scene_info.store_info`; lengths checked only).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreInfo {
    /// The store id, at most 32 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The store name, at most 256 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The area code, at most 32 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_code: Option<String>,
    /// The address, at most 512 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// The kind of H5 page (`scene_info.h5_info.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum H5Type {
    /// `iOS`.
    #[serde(rename = "iOS")]
    Ios,
    /// `Android`.
    Android,
    /// `Wap` (a mobile web site).
    Wap,
}

impl FromStr for H5Type {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, InvalidInput> {
        match s {
            "iOS" => Ok(H5Type::Ios),
            "Android" => Ok(H5Type::Android),
            "Wap" => Ok(H5Type::Wap),
            _ => Err(InvalidInput::new("scene_info.h5_info.type", format!("is {s:?}"), "one of iOS, Android, Wap")),
        }
    }
}

/// The H5 page (`scene_info.h5_info`), required for H5.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct H5Info {
    /// The kind of page (required).
    #[serde(rename = "type")]
    pub kind: H5Type,
    /// The app's name, at most 64 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// The web site's URL, at most 128 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_url: Option<String>,
    /// The iOS bundle id, at most 128 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<String>,
    /// The Android package name, at most 128 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
}

impl H5Info {
    /// An `h5_info` of this kind with no optional field.
    pub fn new(kind: H5Type) -> Self {
        H5Info { kind, app_name: None, app_url: None, bundle_id: None, package_name: None }
    }
}

/// Where the order is placed (`scene_info`); required, with `h5_info`, for H5.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderSceneInfo {
    /// The user's real IPv4 or IPv6 address (required).
    pub payer_client_ip: String,
    /// The merchant's device id, at most 32 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_info: Option<StoreInfo>,
    /// The H5 page (required for H5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h5_info: Option<H5Info>,
}

impl OrderSceneInfo {
    /// A `scene_info` with the user's IP address only.
    pub fn new(payer_client_ip: impl Into<String>) -> Self {
        OrderSceneInfo { payer_client_ip: payer_client_ip.into(), device_id: None, store_info: None, h5_info: None }
    }

    fn check(&self) -> Result<(), InvalidInput> {
        const IP_RULE: &str = "the user's IPv4 or IPv6 address, at most 45 characters";
        length("scene_info.payer_client_ip", &self.payer_client_ip, 1, 45, IP_RULE)?;
        if self.payer_client_ip.parse::<IpAddr>().is_err() {
            return Err(InvalidInput::new("scene_info.payer_client_ip", "is not an IP address", IP_RULE));
        }
        opt_length("scene_info.device_id", self.device_id.as_deref(), 32, "1-32 characters")?;
        if let Some(s) = &self.store_info {
            opt_length("scene_info.store_info.id", s.id.as_deref(), 32, "1-32 characters")?;
            opt_length("scene_info.store_info.name", s.name.as_deref(), 256, "1-256 characters")?;
            opt_length("scene_info.store_info.area_code", s.area_code.as_deref(), 32, "1-32 characters")?;
            opt_length("scene_info.store_info.address", s.address.as_deref(), 512, "1-512 characters")?;
        }
        if let Some(h) = &self.h5_info {
            opt_length("scene_info.h5_info.app_name", h.app_name.as_deref(), 64, "1-64 characters")?;
            opt_length("scene_info.h5_info.app_url", h.app_url.as_deref(), 128, "1-128 characters")?;
            opt_length("scene_info.h5_info.bundle_id", h.bundle_id.as_deref(), 128, "1-128 characters")?;
            opt_length("scene_info.h5_info.package_name", h.package_name.as_deref(), 128, "1-128 characters")?;
        }
        Ok(())
    }
}

/// The payer's identity for real-name payment (实名支付, a permission WeChat Pay grants):
/// `payer.identity` `{type, number, name}`, the number and the name encrypted for WeChat Pay
/// ([`SensitiveField`], both under one key, whose serial the prepay sends as
/// `Wechatpay-Serial`). Any scene may carry it (PROTOCOL.md §12). `Debug` shows no ciphertext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayerIdentity {
    kind: String,
    number: SensitiveField,
    name: SensitiveField,
}

impl PayerIdentity {
    /// An identity of type `kind` (the document type WeChat Pay names, such as `IDCARD`:
    /// 1-32 of `[A-Z0-9_]`) with its encrypted `number` and holder's `name`.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `payer.identity.type`, or `payer.identity.name` when the two
    /// fields were encrypted under different keys (one request names one key).
    pub fn new(kind: &str, number: SensitiveField, name: SensitiveField) -> Result<PayerIdentity, InvalidInput> {
        const RULE: &str = "1-32 of [A-Z0-9_], the document type (IDCARD, ...)";
        let good = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_';
        if kind.is_empty() || kind.len() > 32 || !kind.chars().all(good) {
            return Err(InvalidInput::new("payer.identity.type", "is not a document type", RULE));
        }
        if number.serial() != name.serial() {
            return Err(InvalidInput::new(
                "payer.identity.name",
                "is encrypted under another key than payer.identity.number",
                "both under one key: a request names one Wechatpay-Serial",
            ));
        }
        Ok(PayerIdentity { kind: kind.to_owned(), number, name })
    }

    /// The serial of the key both fields were encrypted under.
    pub fn serial(&self) -> &str {
        self.number.serial()
    }
}

/// The fields every scene shares: the order itself. Built by [`Order::new`] and its setters,
/// each of which validates its value, so an `Order` is always valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    out_trade_no: OutTradeNo,
    description: String,
    notify_url: String,
    total: Fen,
    currency: Option<String>,
    time_expire: Option<Rfc3339>,
    attach: Option<String>,
    goods_tag: Option<String>,
    limit_pay: Vec<LimitPay>,
    support_fapiao: Option<bool>,
    detail: Option<OrderDetail>,
    scene_info: Option<OrderSceneInfo>,
    profit_sharing: Option<bool>,
    identity: Option<PayerIdentity>,
}

impl Order {
    /// An order with the required fields: `out_trade_no` (6-32 of `[0-9A-Za-z_-|*]`),
    /// `description` (1-127 characters), `amount.total` (fen, > 0) and `notify_url`
    /// (absolute `https://`, or `http://` to a loopback host; no query; ≤ 255 characters).
    ///
    /// # Errors
    /// [`InvalidInput`] naming the first field that breaks its rule.
    pub fn new(out_trade_no: &str, description: &str, total: Fen, notify_url: &str) -> Result<Order, InvalidInput> {
        let out_trade_no = OutTradeNo::new(out_trade_no)
            .map_err(|e| InvalidInput::new("out_trade_no", e.problem(), OUT_TRADE_NO_RULE))?;
        if out_trade_no.as_str().len() < 6 {
            return Err(InvalidInput::new(
                "out_trade_no",
                format!("is {} characters long", out_trade_no.as_str().len()),
                OUT_TRADE_NO_RULE,
            ));
        }
        length("description", description, 1, 127, DESCRIPTION_RULE)?;
        if total.get() <= 0 {
            return Err(InvalidInput::new("amount.total", format!("is {}", total.get()), TOTAL_RULE));
        }
        crate::NotifyUrl::new(notify_url)?;
        Ok(Order {
            out_trade_no,
            description: description.to_owned(),
            notify_url: notify_url.to_owned(),
            total,
            currency: None,
            time_expire: None,
            attach: None,
            goods_tag: None,
            limit_pay: Vec::new(),
            support_fapiao: None,
            detail: None,
            scene_info: None,
            profit_sharing: None,
            identity: None,
        })
    }

    /// Sets `time_expire` (RFC 3339 with an offset; WeChat Pay clamps it into
    /// [create + 1 min, create + 90 days]; only the first call for an order sets it).
    ///
    /// # Errors
    /// [`InvalidInput`] for `time_expire`.
    pub fn time_expire(mut self, time_expire: &str) -> Result<Order, InvalidInput> {
        let t = Rfc3339::parse(time_expire).map_err(|p| InvalidInput::new("time_expire", p, TIME_EXPIRE_RULE))?;
        self.time_expire = Some(t);
        Ok(self)
    }

    /// Sets `attach` (1-128 characters, echoed by queries and notifications).
    ///
    /// # Errors
    /// [`InvalidInput`] for `attach`.
    pub fn attach(mut self, attach: &str) -> Result<Order, InvalidInput> {
        length("attach", attach, 1, 128, "1-128 characters")?;
        self.attach = Some(attach.to_owned());
        Ok(self)
    }

    /// Sets `goods_tag` (1-32 characters).
    ///
    /// # Errors
    /// [`InvalidInput`] for `goods_tag`.
    pub fn goods_tag(mut self, goods_tag: &str) -> Result<Order, InvalidInput> {
        length("goods_tag", goods_tag, 1, 32, "1-32 characters")?;
        self.goods_tag = Some(goods_tag.to_owned());
        Ok(self)
    }

    /// Sets `amount.currency` (1-16 upper-case letters; WeChat Pay knows `CNY`). Left out, the
    /// field is absent (CNY).
    ///
    /// # Errors
    /// [`InvalidInput`] for `amount.currency`.
    pub fn currency(mut self, currency: &str) -> Result<Order, InvalidInput> {
        check("amount.currency", currency, 16, |b| b.is_ascii_uppercase(), "1-16 upper-case letters, e.g. CNY")?;
        self.currency = Some(currency.to_owned());
        Ok(self)
    }

    /// Sets `limit_pay` (an empty list leaves the field out).
    pub fn limit_pay(mut self, limit_pay: Vec<LimitPay>) -> Order {
        self.limit_pay = limit_pay;
        self
    }

    /// Sets `support_fapiao`.
    pub fn support_fapiao(mut self, support_fapiao: bool) -> Order {
        self.support_fapiao = Some(support_fapiao);
        self
    }

    /// Sets `settle_info.profit_sharing` (funds frozen for profit sharing).
    pub fn profit_sharing(mut self, profit_sharing: bool) -> Order {
        self.profit_sharing = Some(profit_sharing);
        self
    }

    /// Sets `payer.identity` (real-name payment, a permission): the prepay then also sends
    /// `Wechatpay-Serial` naming the key of its encrypted fields.
    pub fn payer_identity(mut self, identity: PayerIdentity) -> Order {
        self.identity = Some(identity);
        self
    }

    /// Sets `detail`, after checking its lengths and amounts.
    ///
    /// # Errors
    /// [`InvalidInput`] naming the nested field (`detail.goods_detail.quantity`, …).
    pub fn detail(mut self, detail: OrderDetail) -> Result<Order, InvalidInput> {
        detail.check()?;
        self.detail = Some(detail);
        Ok(self)
    }

    /// Sets `scene_info`, after checking the IP address and the lengths.
    ///
    /// # Errors
    /// [`InvalidInput`] naming the nested field (`scene_info.payer_client_ip`, …).
    pub fn scene_info(mut self, scene_info: OrderSceneInfo) -> Result<Order, InvalidInput> {
        scene_info.check()?;
        self.scene_info = Some(scene_info);
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

    /// The `notify_url`.
    pub fn notify_url(&self) -> &str {
        &self.notify_url
    }
}

/// The payer of a service provider's JSAPI order: the openid under `sp_appid` or under
/// `sub_appid` (the latter needs the `sub_appid`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartnerOpenId {
    /// `payer.sp_openid`: the user under `sp_appid`.
    Sp(OpenId),
    /// `payer.sub_openid`: the user under `sub_appid`.
    Sub(OpenId),
}

#[derive(Default, Serialize)]
struct PayerBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    openid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sp_openid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_openid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<IdentityBody<'a>>,
}

#[derive(Serialize)]
struct IdentityBody<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    number: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct AmountBody<'a> {
    total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<&'a str>,
}

#[derive(Serialize)]
struct SettleBody {
    profit_sharing: bool,
}

/// Whose order it is: the ids that open the body.
#[derive(Default)]
struct Ids<'a> {
    appid: Option<&'a str>,
    mchid: Option<&'a str>,
    sp_appid: Option<&'a str>,
    sp_mchid: Option<&'a str>,
    sub_appid: Option<&'a str>,
    sub_mchid: Option<&'a str>,
}

/// The one body of all eight prepay endpoints (absent fields left out).
#[derive(Serialize)]
struct PrepayBody<'a> {
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
    time_expire: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attach: Option<&'a str>,
    notify_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    goods_tag: Option<&'a str>,
    #[serde(skip_serializing_if = "<[LimitPay]>::is_empty")]
    limit_pay: &'a [LimitPay],
    #[serde(skip_serializing_if = "Option::is_none")]
    support_fapiao: Option<bool>,
    amount: AmountBody<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payer: Option<PayerBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a OrderDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scene_info: Option<&'a OrderSceneInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    settle_info: Option<SettleBody>,
}

fn prepay_body<'a>(ids: Ids<'a>, order: &'a Order, payer: Option<PayerBody<'a>>) -> Option<Vec<u8>> {
    // The identity rides in `payer` in every scene (APP, H5 and Native send `payer` for it alone).
    let payer = match &order.identity {
        None => payer,
        Some(i) => Some(PayerBody {
            identity: Some(IdentityBody { kind: &i.kind, number: i.number.ciphertext(), name: i.name.ciphertext() }),
            ..payer.unwrap_or_default()
        }),
    };
    json_body(&PrepayBody {
        appid: ids.appid,
        mchid: ids.mchid,
        sp_appid: ids.sp_appid,
        sp_mchid: ids.sp_mchid,
        sub_appid: ids.sub_appid,
        sub_mchid: ids.sub_mchid,
        description: &order.description,
        out_trade_no: order.out_trade_no.as_str(),
        time_expire: order.time_expire.as_ref().map(Rfc3339::as_str),
        attach: order.attach.as_deref(),
        notify_url: &order.notify_url,
        goods_tag: order.goods_tag.as_deref(),
        limit_pay: &order.limit_pay,
        support_fapiao: order.support_fapiao,
        amount: AmountBody { total: order.total.get(), currency: order.currency.as_deref() },
        payer,
        detail: order.detail.as_ref(),
        scene_info: order.scene_info.as_ref(),
        settle_info: order.profit_sharing.map(|profit_sharing| SettleBody { profit_sharing }),
    })
}

/// H5 needs `scene_info.payer_client_ip` (always there when `scene_info` is) and `h5_info`.
fn check_h5(order: &Order) -> Result<(), InvalidInput> {
    const RULE: &str = "H5 needs scene_info with payer_client_ip and h5_info.type";
    match &order.scene_info {
        None => Err(InvalidInput::new("scene_info.payer_client_ip", "is missing", RULE)),
        Some(s) if s.h5_info.is_none() => Err(InvalidInput::new("scene_info.h5_info.type", "is missing", RULE)),
        Some(_) => Ok(()),
    }
}

macro_rules! prepay_operation {
    ($ty:ident, $output:ty, $name:literal, [$($seg:literal),+]) => {
        impl Operation for $ty {
            type Output = $output;
            const NAME: &'static str = $name;
            fn method(&self) -> http::Method {
                http::Method::POST
            }
            fn target(&self, _mchid: &MchId) -> Target {
                Target::path(&[$($seg),+])
            }
            fn body(&self, mchid: &MchId) -> Option<Vec<u8>> {
                self.body_for(mchid)
            }
            /// A prepay may be repeated with the identical body (PROTOCOL.md §12): WeChat Pay
            /// answers with the same artefact (H5: a fresh `h5_url`), and the driver signs the
            /// same bytes on every attempt.
            fn idempotent(&self) -> bool {
                true
            }
            /// Nothing to bind: the answer carries only the opaque artefact (`prepay_id`,
            /// `code_url` or `h5_url`), no id of the request; its signature vouches for it.
            fn check_answer(&self, _mchid: &MchId, _answer: &$output) -> Result<Binding, VerificationFailure> {
                nothing_to_bind()
            }
            /// With `payer.identity`: the key its fields were encrypted under.
            fn wechatpay_serial(&self) -> Option<&str> {
                self.order.identity.as_ref().map(PayerIdentity::serial)
            }
        }
    };
}

/// Direct merchant, JSAPI (公众号) or mini-program: `POST /v3/pay/transactions/jsapi`,
/// answered by a [`PrepayId`]. `payer.openid` is the user under `appid` (the app that will
/// open the payment sheet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsapiPrepay {
    /// The 公众号's or mini-program's app id.
    pub appid: AppId,
    /// The payer's openid under `appid` (`payer.openid`).
    pub openid: OpenId,
    /// The order.
    pub order: Order,
}

impl JsapiPrepay {
    fn body_for(&self, mchid: &MchId) -> Option<Vec<u8>> {
        let ids = Ids { appid: Some(self.appid.as_str()), mchid: Some(mchid.as_str()), ..Ids::default() };
        let payer = PayerBody { openid: Some(self.openid.as_str()), ..PayerBody::default() };
        prepay_body(ids, &self.order, Some(payer))
    }
}
prepay_operation!(JsapiPrepay, PrepayId, "prepay_jsapi", ["v3", "pay", "transactions", "jsapi"]);

/// Direct merchant, APP: `POST /v3/pay/transactions/app`, answered by a [`PrepayId`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppPrepay {
    /// The mobile app's app id.
    pub appid: AppId,
    /// The order.
    pub order: Order,
}

impl AppPrepay {
    fn body_for(&self, mchid: &MchId) -> Option<Vec<u8>> {
        let ids = Ids { appid: Some(self.appid.as_str()), mchid: Some(mchid.as_str()), ..Ids::default() };
        prepay_body(ids, &self.order, None)
    }
}
prepay_operation!(AppPrepay, PrepayId, "prepay_app", ["v3", "pay", "transactions", "app"]);

/// Direct merchant, Native (QR code): `POST /v3/pay/transactions/native`, answered by a
/// [`CodeUrl`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativePrepay {
    /// An app id bound to the merchant.
    pub appid: AppId,
    /// The order.
    pub order: Order,
}

impl NativePrepay {
    fn body_for(&self, mchid: &MchId) -> Option<Vec<u8>> {
        let ids = Ids { appid: Some(self.appid.as_str()), mchid: Some(mchid.as_str()), ..Ids::default() };
        prepay_body(ids, &self.order, None)
    }
}
prepay_operation!(NativePrepay, CodeUrl, "prepay_native", ["v3", "pay", "transactions", "native"]);

/// Direct merchant, H5 (a mobile browser outside WeChat): `POST /v3/pay/transactions/h5`,
/// answered by an [`H5Url`]. Built by [`H5Prepay::new`], which requires the order's
/// `scene_info` with `h5_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H5Prepay {
    appid: AppId,
    order: Order,
}

impl H5Prepay {
    /// An H5 prepay.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `scene_info.payer_client_ip` or `scene_info.h5_info.type` when
    /// the order has no `scene_info` or no `h5_info`.
    pub fn new(appid: AppId, order: Order) -> Result<H5Prepay, InvalidInput> {
        check_h5(&order)?;
        Ok(H5Prepay { appid, order })
    }

    /// The order.
    pub fn order(&self) -> &Order {
        &self.order
    }

    fn body_for(&self, mchid: &MchId) -> Option<Vec<u8>> {
        let ids = Ids { appid: Some(self.appid.as_str()), mchid: Some(mchid.as_str()), ..Ids::default() };
        prepay_body(ids, &self.order, None)
    }
}
prepay_operation!(H5Prepay, H5Url, "prepay_h5", ["v3", "pay", "transactions", "h5"]);

/// The ids of a service provider's order: `sp_appid`, `sub_mchid` and, optionally, `sub_appid`
/// (the `sp_mchid` is the caller's, the one in `Authorization`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerIds {
    /// The service provider's app id (`sp_appid`).
    pub sp_appid: AppId,
    /// The sub-merchant (`sub_mchid`).
    pub sub_mchid: SubMchId,
    /// The sub-merchant's app id (`sub_appid`), bound to `sub_mchid`.
    pub sub_appid: Option<AppId>,
}

impl PartnerIds {
    fn ids<'a>(&'a self, mchid: &'a MchId) -> Ids<'a> {
        Ids {
            sp_appid: Some(self.sp_appid.as_str()),
            sp_mchid: Some(mchid.as_str()),
            sub_appid: self.sub_appid.as_ref().map(AppId::as_str),
            sub_mchid: Some(self.sub_mchid.as_str()),
            ..Ids::default()
        }
    }
}

/// Service provider, JSAPI or mini-program: `POST /v3/pay/partner/transactions/jsapi`,
/// answered by a [`PrepayId`]. Built by [`PartnerJsapiPrepay::new`] (a `sub_openid` needs
/// the `sub_appid`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerJsapiPrepay {
    partner: PartnerIds,
    payer: PartnerOpenId,
    order: Order,
}

impl PartnerJsapiPrepay {
    /// A partner JSAPI prepay paid by `payer`.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `sub_appid` when the payer is a `sub_openid` and no
    /// `sub_appid` is given.
    pub fn new(partner: PartnerIds, payer: PartnerOpenId, order: Order) -> Result<PartnerJsapiPrepay, InvalidInput> {
        if matches!(payer, PartnerOpenId::Sub(_)) && partner.sub_appid.is_none() {
            return Err(InvalidInput::new(
                "sub_appid",
                "is missing",
                "payer.sub_openid needs the sub_appid it belongs to",
            ));
        }
        Ok(PartnerJsapiPrepay { partner, payer, order })
    }

    /// The order.
    pub fn order(&self) -> &Order {
        &self.order
    }

    fn body_for(&self, mchid: &MchId) -> Option<Vec<u8>> {
        let payer = match &self.payer {
            PartnerOpenId::Sp(id) => PayerBody { sp_openid: Some(id.as_str()), ..PayerBody::default() },
            PartnerOpenId::Sub(id) => PayerBody { sub_openid: Some(id.as_str()), ..PayerBody::default() },
        };
        prepay_body(self.partner.ids(mchid), &self.order, Some(payer))
    }
}
prepay_operation!(
    PartnerJsapiPrepay,
    PrepayId,
    "prepay_partner_jsapi",
    ["v3", "pay", "partner", "transactions", "jsapi"]
);

/// Service provider, APP: `POST /v3/pay/partner/transactions/app`, answered by a [`PrepayId`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerAppPrepay {
    /// The partner ids.
    pub partner: PartnerIds,
    /// The order.
    pub order: Order,
}

impl PartnerAppPrepay {
    fn body_for(&self, mchid: &MchId) -> Option<Vec<u8>> {
        prepay_body(self.partner.ids(mchid), &self.order, None)
    }
}
prepay_operation!(PartnerAppPrepay, PrepayId, "prepay_partner_app", ["v3", "pay", "partner", "transactions", "app"]);

/// Service provider, Native: `POST /v3/pay/partner/transactions/native`, answered by a
/// [`CodeUrl`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerNativePrepay {
    /// The partner ids.
    pub partner: PartnerIds,
    /// The order.
    pub order: Order,
}

impl PartnerNativePrepay {
    fn body_for(&self, mchid: &MchId) -> Option<Vec<u8>> {
        prepay_body(self.partner.ids(mchid), &self.order, None)
    }
}
prepay_operation!(
    PartnerNativePrepay,
    CodeUrl,
    "prepay_partner_native",
    ["v3", "pay", "partner", "transactions", "native"]
);

/// Service provider, H5: `POST /v3/pay/partner/transactions/h5`, answered by an [`H5Url`].
/// Built by [`PartnerH5Prepay::new`], which requires `scene_info` with `h5_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerH5Prepay {
    partner: PartnerIds,
    order: Order,
}

impl PartnerH5Prepay {
    /// A partner H5 prepay.
    ///
    /// # Errors
    /// As [`H5Prepay::new`].
    pub fn new(partner: PartnerIds, order: Order) -> Result<PartnerH5Prepay, InvalidInput> {
        check_h5(&order)?;
        Ok(PartnerH5Prepay { partner, order })
    }

    /// The order.
    pub fn order(&self) -> &Order {
        &self.order
    }

    fn body_for(&self, mchid: &MchId) -> Option<Vec<u8>> {
        prepay_body(self.partner.ids(mchid), &self.order, None)
    }
}
prepay_operation!(PartnerH5Prepay, H5Url, "prepay_partner_h5", ["v3", "pay", "partner", "transactions", "h5"]);
