//! The operations: matching a request target, checking parameters with the core's
//! id types, and looking the order up (or closing it).

use serde_json::{Value, json};
use wechatpay_core::{InvalidInput, MchId, OutTradeNo, SubMchId, TransactionId};

use super::signing::ResponseKeys;
use crate::protocol::reply::Reply;
use crate::world::{By, CloseResult, TradeState, World};

/// One of the operations the simulator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=`
    DirectByOutTradeNo,
    /// `GET /v3/pay/transactions/id/{transaction_id}?mchid=`
    DirectById,
    /// `GET /v3/pay/partner/transactions/out-trade-no/{out_trade_no}?sp_mchid=&sub_mchid=`
    PartnerByOutTradeNo,
    /// `GET /v3/pay/partner/transactions/id/{transaction_id}?sp_mchid=&sub_mchid=`
    PartnerById,
    /// `GET /v3/vehicle/transactions/out-trade-no/{out_trade_no}[?sub_mchid=]`
    Parking,
    /// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close` with `{"mchid"}`
    CloseDirect,
    /// `POST /v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close` with
    /// `{"sp_mchid","sub_mchid"}`
    ClosePartner,
    /// `GET /v3/certificates[?algorithm_type=RSA]`: the platform certificates, sealed with
    /// the APIv3 key.
    Certificates,
    /// `POST /v3/pay/transactions/jsapi`: creates a JSAPI (or mini-program) order.
    PrepayJsapi,
    /// `POST /v3/pay/transactions/app`: creates an APP order.
    PrepayApp,
    /// `POST /v3/pay/transactions/h5`: creates an H5 (`MWEB`) order.
    PrepayH5,
    /// `POST /v3/pay/transactions/native`: creates a Native (QR code) order.
    PrepayNative,
    /// `POST /v3/pay/partner/transactions/jsapi`: a service provider's JSAPI order.
    PartnerPrepayJsapi,
    /// `POST /v3/pay/partner/transactions/app`: a service provider's APP order.
    PartnerPrepayApp,
    /// `POST /v3/pay/partner/transactions/h5`: a service provider's H5 order.
    PartnerPrepayH5,
    /// `POST /v3/pay/partner/transactions/native`: a service provider's Native order.
    PartnerPrepayNative,
    /// `POST /v3/refund/domestic/refunds`: create a refund (direct and partner).
    RefundCreate,
    /// `GET /v3/refund/domestic/refunds/{out_refund_no}[?sub_mchid=]`
    RefundQuery,
    /// `POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund`
    RefundApplyAbnormal,
    /// `GET /v3/vehicle/parking/services/find?appid=&plate_number=&plate_color=&openid=[&sub_mchid=]`
    ParkingFind,
    /// `POST /v3/vehicle/parking/parkings`: a car's entrance.
    ParkingEntrance,
    /// `POST /v3/vehicle/transactions/parking`: the deduction.
    ParkingDeduct,
    /// `POST /v3/pay/transactions/codepay`: charge a payment code.
    CodepayDirect,
    /// `POST /v3/pay/partner/transactions/codepay`.
    CodepayPartner,
    /// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/reverse` with `{"appid","mchid"}`.
    ReverseDirect,
    /// `POST /v3/pay/partner/transactions/out-trade-no/{out_trade_no}/reverse`.
    ReversePartner,
    /// `GET /v3/bill/tradebill?bill_date=&bill_type=&tar_type=&sub_mchid=`
    TradeBill,
    /// `GET /v3/bill/fundflowbill?bill_date=&account_type=&tar_type=`
    FundFlowBill,
    /// `GET /v3/billdownload/file?token=`: the bill file, unsigned.
    BillDownload,
}

/// One entry of the route table: method, path pattern (`{name}` is one non-empty path
/// segment, still percent-encoded), the route's name in faults, logs and the admin API,
/// and its handler.
#[derive(Clone, Copy)]
pub(crate) struct RouteSpec {
    pub route: Route,
    pub method: &'static str,
    pub pattern: &'static str,
    pub name: &'static str,
    pub handler: Handler,
}

impl std::fmt::Debug for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteSpec").field("method", &self.method).field("pattern", &self.pattern).finish()
    }
}

/// A verified request to a route: its target, its caller (the merchant whose signature
/// it bears), its `Content-Type` and body.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call<'a> {
    pub target: Target<'a>,
    pub caller: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// The request's `Wechatpay-Serial` (the key its encrypted fields are under).
    pub serial: Option<&'a str>,
}

/// What a handler may use: the world, the keys that sign answers and the APIv3 key.
pub(crate) struct Ctx<'a> {
    pub world: &'a mut World,
    pub keys: &'a ResponseKeys,
    pub apiv3_key: &'a str,
}

/// A route's handler: the answer to a verified call (an error answer as `Err`).
pub(crate) type Handler = fn(&Call<'_>, &mut Ctx<'_>) -> Result<Reply, Reply>;

/// The route table, declared once: every API route the simulator serves.
pub(crate) const ROUTES: [RouteSpec; Route::COUNT] = [
    RouteSpec {
        route: Route::DirectByOutTradeNo,
        method: "GET",
        pattern: "/v3/pay/transactions/out-trade-no/{out_trade_no}",
        name: "direct_by_out_trade_no",
        handler: query_direct,
    },
    RouteSpec {
        route: Route::DirectById,
        method: "GET",
        pattern: "/v3/pay/transactions/id/{transaction_id}",
        name: "direct_by_id",
        handler: query_direct,
    },
    RouteSpec {
        route: Route::PartnerByOutTradeNo,
        method: "GET",
        pattern: "/v3/pay/partner/transactions/out-trade-no/{out_trade_no}",
        name: "partner_by_out_trade_no",
        handler: query_partner,
    },
    RouteSpec {
        route: Route::PartnerById,
        method: "GET",
        pattern: "/v3/pay/partner/transactions/id/{transaction_id}",
        name: "partner_by_id",
        handler: query_partner,
    },
    RouteSpec {
        route: Route::Parking,
        method: "GET",
        pattern: "/v3/vehicle/transactions/out-trade-no/{out_trade_no}",
        name: "parking",
        handler: query_parking,
    },
    RouteSpec {
        route: Route::CloseDirect,
        method: "POST",
        pattern: "/v3/pay/transactions/out-trade-no/{out_trade_no}/close",
        name: "close_direct",
        handler: close,
    },
    RouteSpec {
        route: Route::ClosePartner,
        method: "POST",
        pattern: "/v3/pay/partner/transactions/out-trade-no/{out_trade_no}/close",
        name: "close_partner",
        handler: close,
    },
    RouteSpec {
        route: Route::Certificates,
        method: "GET",
        pattern: "/v3/certificates",
        name: "certificates",
        handler: certificates,
    },
    RouteSpec {
        route: Route::PrepayJsapi,
        method: "POST",
        pattern: "/v3/pay/transactions/jsapi",
        name: "prepay_jsapi",
        handler: super::prepay::prepay,
    },
    RouteSpec {
        route: Route::PrepayApp,
        method: "POST",
        pattern: "/v3/pay/transactions/app",
        name: "prepay_app",
        handler: super::prepay::prepay,
    },
    RouteSpec {
        route: Route::PrepayH5,
        method: "POST",
        pattern: "/v3/pay/transactions/h5",
        name: "prepay_h5",
        handler: super::prepay::prepay,
    },
    RouteSpec {
        route: Route::PrepayNative,
        method: "POST",
        pattern: "/v3/pay/transactions/native",
        name: "prepay_native",
        handler: super::prepay::prepay,
    },
    RouteSpec {
        route: Route::PartnerPrepayJsapi,
        method: "POST",
        pattern: "/v3/pay/partner/transactions/jsapi",
        name: "prepay_partner_jsapi",
        handler: super::prepay::prepay,
    },
    RouteSpec {
        route: Route::PartnerPrepayApp,
        method: "POST",
        pattern: "/v3/pay/partner/transactions/app",
        name: "prepay_partner_app",
        handler: super::prepay::prepay,
    },
    RouteSpec {
        route: Route::PartnerPrepayH5,
        method: "POST",
        pattern: "/v3/pay/partner/transactions/h5",
        name: "prepay_partner_h5",
        handler: super::prepay::prepay,
    },
    RouteSpec {
        route: Route::PartnerPrepayNative,
        method: "POST",
        pattern: "/v3/pay/partner/transactions/native",
        name: "prepay_partner_native",
        handler: super::prepay::prepay,
    },
    RouteSpec {
        route: Route::RefundCreate,
        method: "POST",
        pattern: "/v3/refund/domestic/refunds",
        name: "refund_create",
        handler: super::refund::create,
    },
    RouteSpec {
        route: Route::RefundQuery,
        method: "GET",
        pattern: "/v3/refund/domestic/refunds/{out_refund_no}",
        name: "refund_query",
        handler: super::refund::query,
    },
    RouteSpec {
        route: Route::RefundApplyAbnormal,
        method: "POST",
        pattern: "/v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund",
        name: "refund_apply_abnormal",
        handler: super::refund::apply_abnormal,
    },
    RouteSpec {
        route: Route::ParkingFind,
        method: "GET",
        pattern: "/v3/vehicle/parking/services/find",
        name: "parking_find",
        handler: super::parking::find_service,
    },
    RouteSpec {
        route: Route::ParkingEntrance,
        method: "POST",
        pattern: "/v3/vehicle/parking/parkings",
        name: "parking_entrance",
        handler: super::parking::create_entrance,
    },
    RouteSpec {
        route: Route::ParkingDeduct,
        method: "POST",
        pattern: "/v3/vehicle/transactions/parking",
        name: "parking_deduct",
        handler: super::parking::deduct,
    },
    RouteSpec {
        route: Route::CodepayDirect,
        method: "POST",
        pattern: "/v3/pay/transactions/codepay",
        name: "codepay_direct",
        handler: super::codepay::codepay,
    },
    RouteSpec {
        route: Route::CodepayPartner,
        method: "POST",
        pattern: "/v3/pay/partner/transactions/codepay",
        name: "codepay_partner",
        handler: super::codepay::codepay,
    },
    RouteSpec {
        route: Route::ReverseDirect,
        method: "POST",
        pattern: "/v3/pay/transactions/out-trade-no/{out_trade_no}/reverse",
        name: "reverse_direct",
        handler: super::codepay::reverse,
    },
    RouteSpec {
        route: Route::ReversePartner,
        method: "POST",
        pattern: "/v3/pay/partner/transactions/out-trade-no/{out_trade_no}/reverse",
        name: "reverse_partner",
        handler: super::codepay::reverse,
    },
    RouteSpec {
        route: Route::TradeBill,
        method: "GET",
        pattern: "/v3/bill/tradebill",
        name: "trade_bill",
        handler: super::bill::trade_bill,
    },
    RouteSpec {
        route: Route::FundFlowBill,
        method: "GET",
        pattern: "/v3/bill/fundflowbill",
        name: "fundflow_bill",
        handler: super::bill::fundflow_bill,
    },
    RouteSpec {
        route: Route::BillDownload,
        method: "GET",
        pattern: "/v3/billdownload/file",
        name: "bill_download",
        handler: super::bill::download_in_memory,
    },
];

impl Route {
    /// How many routes there are.
    pub(crate) const COUNT: usize = 29;

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The route's entry in [`ROUTES`].
    pub(crate) fn spec(self) -> &'static RouteSpec {
        &ROUTES[self.index()]
    }

    /// The method the route answers.
    pub(crate) fn method(self) -> &'static str {
        self.spec().method
    }

    /// The route's name in faults, logs and the admin API (`direct_by_out_trade_no`, ...).
    pub(crate) fn name(self) -> &'static str {
        self.spec().name
    }

    /// The route named `name`.
    pub(crate) fn from_name(name: &str) -> Option<Route> {
        ROUTES.iter().find(|s| s.name == name).map(|s| s.route)
    }
}

/// A request target split into its route, raw (still percent-encoded) id and raw query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    pub route: Route,
    pub id: &'a str,
    pub query: &'a str,
}

/// The path parameter of `path` under `pattern` (empty when the pattern has none), if the
/// path matches.
fn match_pattern<'a>(pattern: &str, path: &'a str) -> Option<&'a str> {
    let mut id = "";
    let mut rest = path;
    let mut segments = pattern.split('{');
    let first = segments.next()?;
    rest = rest.strip_prefix(first)?;
    for segment in segments {
        let (_, literal) = segment.split_once('}')?;
        let end = rest.find('/').unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        id = &rest[..end];
        rest = rest[end..].strip_prefix(literal)?;
    }
    rest.is_empty().then_some(id)
}

/// The route of a request target, if it names one of the routes of [`ROUTES`] (whatever
/// the method: a wrong one is answered `405`).
pub(crate) fn match_target(target: &str) -> Option<Target<'_>> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    ROUTES.iter().find_map(|spec| Some(Target { route: spec.route, id: match_pattern(spec.pattern, path)?, query }))
}

/// `GET /v3/certificates`: the listed platform certificates, sealed with the APIv3 key.
fn certificates(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    Ok(super::certificates::answer(call.target.query, ctx.keys, ctx.apiv3_key))
}

/// The answer to a verified `POST …/close`: `204` (signed, empty) for a `NOTPAY` order,
/// which becomes `CLOSED`, and for a closed one (closing is reentrant); `400 ORDER_PAID` for
/// a paid or refunded order; `400 INVALID_REQUEST` for a payment-code order in any other
/// state (those are reversed, not closed); `404 ORDER_NOT_EXIST` for none. WeChat Pay's
/// exact code for closing a paid order is unconfirmed (PROTOCOL.md §10); `ORDER_PAID` is this
/// simulator's choice.
fn close(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let (target, caller, content_type, body, orders) =
        (&call.target, call.caller, call.content_type, call.body, &mut *ctx.world);
    if !content_type.is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("application/json")) {
        return Err(Reply::invalid_request("Content-Type 必须为 application/json (a JSON body is required)"));
    }
    if !target.query.is_empty() {
        return Err(Reply::param_error("query", "query", "close takes its parameters in the JSON body"));
    }
    let body: Value = serde_json::from_slice(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| Reply::param_error("body", "body", "the body must be a JSON object"))?;
    let field = |name: &str| {
        body.get(name).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
            Reply::param_error(name, "body", &format!("缺少参数 {name} (missing required string field)"))
        })
    };
    let (_, out_trade_no) = path_id(target)?;
    let result = if target.route == Route::ClosePartner {
        let sp_mchid = MchId::new(field("sp_mchid")?).map_err(|e| invalid(&rename(e, "sp_mchid"), "body"))?;
        let sub_mchid = SubMchId::new(field("sub_mchid")?).map_err(|e| invalid(&e, "body"))?;
        if sp_mchid.as_str() != caller {
            return Err(Reply::param_error("sp_mchid", "body", "sp_mchid与Authorization中的商户号不一致"));
        }
        if !orders.is_bound(sub_mchid.as_str()) {
            return Err(Reply::invalid_request("服务商和子商户没有绑定关系"));
        }
        orders.close_partner(caller, sub_mchid.as_str(), &out_trade_no)
    } else {
        let mchid = MchId::new(field("mchid")?).map_err(|e| invalid(&e, "body"))?;
        if mchid.as_str() != caller {
            return Err(Reply::param_error("mchid", "body", "mchid与Authorization中的商户号不一致"));
        }
        orders.close_direct(caller, &out_trade_no)
    };
    match result {
        CloseResult::Closed | CloseResult::AlreadyClosed => Ok(Reply::no_content()),
        CloseResult::Refused(TradeState::Success | TradeState::Refund) => {
            Err(Reply::error(400, "ORDER_PAID", "订单已支付，不能关闭 (paid orders are refunded, not closed)", None))
        }
        CloseResult::Refused(_) => {
            Err(Reply::invalid_request("订单状态不允许关闭 (payment-code orders are reversed, not closed)"))
        }
        CloseResult::Reversible => Err(Reply::invalid_request(
            "付款码订单只能撤销，不能关闭 (only reversible: payment-code orders are reversed, not closed)",
        )),
        CloseResult::Missing => Err(Reply::error(404, "ORDER_NOT_EXIST", "订单不存在", None)),
    }
}

fn not_exist() -> Reply {
    Reply::error(404, "ORDER_NOT_EXIST", "订单不存在", None)
}

/// `GET` a direct order by `out_trade_no` or `transaction_id`.
fn query_direct(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let query = Query::parse(call.target.query)?;
    let mchid = query.required("mchid", MchId::new)?;
    if mchid.as_str() != call.caller {
        return Err(Reply::param_error("mchid", "query", "mchid与Authorization中的商户号不一致"));
    }
    let (key, value) = path_id(&call.target)?;
    ctx.world.direct(call.caller, by(key, &value)).map(Reply::ok).ok_or_else(not_exist)
}

/// `GET` a partner order by `out_trade_no` or `transaction_id`.
fn query_partner(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let query = Query::parse(call.target.query)?;
    let sp_mchid = query.required("sp_mchid", |v| MchId::new(v).map_err(|e| rename(e, "sp_mchid")))?;
    let sub_mchid = query.required("sub_mchid", SubMchId::new)?;
    if sp_mchid.as_str() != call.caller {
        return Err(Reply::param_error("sp_mchid", "query", "sp_mchid与Authorization中的商户号不一致"));
    }
    if !ctx.world.is_bound(sub_mchid.as_str()) {
        return Err(Reply::invalid_request("服务商和子商户没有绑定关系"));
    }
    let (key, value) = path_id(&call.target)?;
    ctx.world.partner(call.caller, sub_mchid.as_str(), by(key, &value)).map(Reply::ok).ok_or_else(not_exist)
}

/// `GET` a parking order by `out_trade_no`.
fn query_parking(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let query = Query::parse(call.target.query)?;
    let sub_mchid = query.optional("sub_mchid", SubMchId::new)?;
    if sub_mchid.as_ref().is_some_and(|sub| !ctx.world.is_bound(sub.as_str())) {
        return Err(Reply::invalid_request("服务商和子商户没有绑定关系"));
    }
    let (_, value) = path_id(&call.target).map_err(|_| {
        Reply::error(
            400,
            "PARAM_ERROR",
            "参数错误,请检查out_trade_no",
            Some(json!({ "field": "out_trade_no", "location": "path", "issue": OutTradeNo::RULE })),
        )
    })?;
    let order = ctx.world.parking(call.caller, sub_mchid.as_ref().map(SubMchId::as_str), &value);
    order.map(Reply::ok).ok_or_else(|| Reply::error(404, "NOT_FOUND", "订单不存在", None))
}

/// The lookup by the path's id field.
fn by<'a>(field: &str, value: &'a str) -> By<'a> {
    if field == "transaction_id" { By::TransactionId(value) } else { By::OutTradeNo(value) }
}

/// The decoded, validated id in the path, with the order field it names.
fn path_id(target: &Target<'_>) -> Result<(&'static str, String), Reply> {
    let by_id = matches!(target.route, Route::DirectById | Route::PartnerById);
    let field = if by_id { "transaction_id" } else { "out_trade_no" };
    let decoded = percent_decode(target.id)
        .ok_or_else(|| Reply::param_error(field, "path", "invalid percent-encoding or not UTF-8"))?;
    let checked = if by_id {
        TransactionId::new(decoded).map(|t| t.as_str().to_owned())
    } else {
        OutTradeNo::new(decoded).map(|t| t.as_str().to_owned())
    };
    checked.map(|v| (field, v)).map_err(|e| invalid(&e, "path"))
}

fn invalid(e: &InvalidInput, location: &str) -> Reply {
    Reply::param_error(e.field(), location, &format!("{}; rule: {}", e.problem(), e.rule()))
}

fn rename(e: InvalidInput, field: &'static str) -> InvalidInput {
    InvalidInput::new(field, e.problem(), e.rule())
}

/// Decodes `%XX` escapes; `None` for a bad escape or bytes that are not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok().filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit()))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Decoded query parameters; a repeated name is refused.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: &str) -> Result<Self, Reply> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for piece in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            let bad = || Reply::param_error(k, "query", "invalid percent-encoding or not UTF-8");
            let (k, v) = (percent_decode(k).ok_or_else(bad)?, percent_decode(v).ok_or_else(bad)?);
            if pairs.iter().any(|(n, _)| *n == k) {
                return Err(Reply::param_error(&k, "query", "parameter appears more than once"));
            }
            pairs.push((k, v));
        }
        Ok(Self(pairs))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn optional<T>(&self, name: &str, check: impl Fn(String) -> Result<T, InvalidInput>) -> Result<Option<T>, Reply> {
        self.get(name).map(|v| check(v.to_owned()).map_err(|e| invalid(&e, "query"))).transpose()
    }

    fn required<T>(&self, name: &str, check: impl Fn(String) -> Result<T, InvalidInput>) -> Result<T, Reply> {
        self.optional(name, check)?
            .ok_or_else(|| Reply::param_error(name, "query", &format!("缺少参数 {name} (missing required parameter)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{MCHID, SUB_MCHID};

    /// The answer of the route table to a verified call by the seed merchant.
    fn serve(target: &str, content_type: Option<&str>, body: &str, world: &mut World) -> Reply {
        let keys = ResponseKeys::load(None, false).unwrap();
        let t = match_target(target).unwrap();
        let call = Call { target: t, caller: MCHID, content_type, body: body.as_bytes(), serial: None };
        let mut ctx = Ctx { world, keys: &keys, apiv3_key: "0123456789abcdefghijABCDEFGHIJ+/" };
        (t.route.spec().handler)(&call, &mut ctx).unwrap_or_else(|r| r)
    }

    fn code(target: &str) -> (u16, String) {
        let mut orders = World::seeded().unwrap();
        let r = serve(target, None, "", &mut orders);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        (r.status, v.get("code").and_then(|c| c.as_str()).unwrap_or("").to_owned())
    }

    #[test]
    fn the_table_is_in_route_order_with_unique_names() {
        for (i, spec) in ROUTES.iter().enumerate() {
            assert_eq!(spec.route.index(), i, "{spec:?}");
            assert_eq!(Route::from_name(spec.name), Some(spec.route));
            assert_eq!(spec.route.name(), spec.name);
        }
        assert_eq!(Route::from_name("nowhere"), None);
    }

    #[test]
    fn targets_match_routes() {
        let t = match_target("/v3/pay/transactions/id/42?mchid=1").unwrap();
        assert_eq!((t.route, t.id, t.query), (Route::DirectById, "42", "mchid=1"));
        assert_eq!(match_target("/v3/vehicle/transactions/out-trade-no/x").unwrap().route, Route::Parking);
        assert!(match_target("/v3/pay/transactions/id/").is_none());
        assert!(match_target("/v3/pay/transactions/id/a/b").is_none());
        // Refunds are served now (issue 20); an unknown refund sub-path still is not.
        assert_eq!(match_target("/v3/refund/domestic/refunds/1").unwrap().route, Route::RefundQuery);
        assert_eq!(match_target("/v3/refund/domestic/refunds").unwrap().route, Route::RefundCreate);
        let t = match_target("/v3/refund/domestic/refunds/503/apply-abnormal-refund").unwrap();
        assert_eq!((t.route, t.id, t.route.method()), (Route::RefundApplyAbnormal, "503", "POST"));
        assert!(match_target("/v3/refund/domestic/refunds/1/x").is_none());
        let t = match_target("/v3/pay/transactions/out-trade-no/A%7C1/close").unwrap();
        assert_eq!((t.route, t.id, t.route.method()), (Route::CloseDirect, "A%7C1", "POST"));
        let t = match_target("/v3/pay/partner/transactions/out-trade-no/A/close").unwrap();
        assert_eq!(t.route, Route::ClosePartner);
        assert!(match_target("/v3/pay/transactions/id/42/close").is_none());
        assert!(match_target("/v3/vehicle/transactions/out-trade-no/A/close").is_none());
        assert!(match_target("/v3/pay/transactions/out-trade-no//close").is_none());
        assert_eq!(Route::Parking.method(), "GET");
        let t = match_target("/v3/certificates?algorithm_type=RSA").unwrap();
        assert_eq!((t.route, t.query, t.route.method()), (Route::Certificates, "algorithm_type=RSA", "GET"));
        assert!(match_target("/v3/certificates/x").is_none());
    }

    fn close_code(target: &str, content_type: Option<&str>, body: &str, orders: &mut World) -> (u16, String) {
        let r = serve(target, content_type, body, orders);
        let code = serde_json::from_slice::<Value>(&r.body).ok().and_then(|v| v["code"].as_str().map(str::to_owned));
        (r.status, code.unwrap_or_default())
    }

    #[test]
    fn closes_check_their_body_and_answer_by_state() {
        let mut orders = World::seeded().unwrap();
        let json = Some("application/json");
        let direct = |no: &str| format!("/v3/pay/transactions/out-trade-no/{no}/close");
        let body = format!(r#"{{"mchid":"{MCHID}"}}"#);
        let mut c = |target: &str, ct, body: &str| close_code(target, ct, body, &mut orders);
        assert_eq!(c(&direct("SIM_NOTPAY_0001"), None, &body), (400, "INVALID_REQUEST".into()));
        assert_eq!(c(&direct("SIM_NOTPAY_0001"), json, "[]"), (400, "PARAM_ERROR".into()));
        assert_eq!(c(&direct("SIM_NOTPAY_0001"), json, "{}"), (400, "PARAM_ERROR".into()));
        assert_eq!(c(&direct("SIM_NOTPAY_0001"), json, r#"{"mchid":"1230000110"}"#), (400, "PARAM_ERROR".into()));
        assert_eq!(c(&format!("{}?mchid=1", direct("SIM_NOTPAY_0001")), json, &body), (400, "PARAM_ERROR".into()));
        assert_eq!(c(&direct("SIM_NOTPAY_0001"), Some("application/json; charset=utf-8"), &body), (204, String::new()));
        assert_eq!(c(&direct("SIM_NOTPAY_0001"), json, &body), (204, String::new()), "reentrant");
        assert_eq!(c(&direct("1217752501201407033233368018"), json, &body), (400, "ORDER_PAID".into()));
        assert_eq!(c(&direct("SIM_REFUND_0001"), json, &body), (400, "ORDER_PAID".into()));
        assert_eq!(c(&direct("SIM_USERPAYING_0001"), json, &body), (400, "INVALID_REQUEST".into()));
        assert_eq!(c(&direct("NOPE"), json, &body), (404, "ORDER_NOT_EXIST".into()));
        let partner = "/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018/close";
        let body = format!(r#"{{"sp_mchid":"{MCHID}","sub_mchid":"{SUB_MCHID}"}}"#);
        assert_eq!(c(partner, json, &body), (400, "ORDER_PAID".into()));
        assert_eq!(c(partner, json, r#"{"sp_mchid":"1230000109","sub_mchid":"1900000999"}"#).1, "INVALID_REQUEST");
        assert_eq!(c(partner, json, r#"{"sp_mchid":"1","sub_mchid":"1900000109"}"#).1, "PARAM_ERROR");
        assert_eq!(c(partner, json, r#"{"sp_mchid":"1230000109"}"#).1, "PARAM_ERROR");
    }

    #[test]
    fn answers_and_errors() {
        assert_eq!(code("/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109").0, 200);
        assert_eq!(code("/v3/pay/transactions/out-trade-no/SIM%7CPIPE*0001?mchid=1230000109").0, 200);
        assert_eq!(code("/v3/pay/transactions/id/4200000985202103031441826014?mchid=1230000109").0, 200);
        assert_eq!(code("/v3/pay/transactions/id/1?mchid=1230000109"), (404, "ORDER_NOT_EXIST".into()));
        assert_eq!(code("/v3/pay/transactions/id/1").1, "PARAM_ERROR");
        assert_eq!(code("/v3/pay/transactions/id/1?mchid=1230000110").1, "PARAM_ERROR");
        assert_eq!(code("/v3/pay/transactions/id/1?mchid=1230000109&mchid=1230000109").1, "PARAM_ERROR");
        assert_eq!(code("/v3/pay/transactions/id/a_b?mchid=1230000109").1, "PARAM_ERROR");
        assert_eq!(code("/v3/pay/transactions/out-trade-no/%2e%2e?mchid=1230000109").1, "PARAM_ERROR");
        assert_eq!(code("/v3/pay/transactions/out-trade-no/%zz?mchid=1230000109").1, "PARAM_ERROR");
        assert_eq!(code("/v3/pay/transactions/out-trade-no/%FF?mchid=1230000109").1, "PARAM_ERROR");
        let p = format!("/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018?sp_mchid={MCHID}");
        assert_eq!(code(&format!("{p}&sub_mchid={SUB_MCHID}")).0, 200);
        assert_eq!(code(&format!("{p}&sub_mchid=1900000999")), (400, "INVALID_REQUEST".into()));
        assert_eq!(code(&p), (400, "PARAM_ERROR".into()));
        assert_eq!(code("/v3/vehicle/transactions/out-trade-no/20150806125346?sub_mchid=1900000109").0, 200);
        assert_eq!(code("/v3/vehicle/transactions/out-trade-no/SIM_PARKING_0001").0, 200);
        assert_eq!(code("/v3/vehicle/transactions/out-trade-no/nope"), (404, "NOT_FOUND".into()));
        assert_eq!(code("/v3/vehicle/transactions/out-trade-no/a%20b"), (400, "PARAM_ERROR".into()));
        assert_eq!(code("/v3/vehicle/transactions/out-trade-no/x?sub_mchid=1"), (400, "INVALID_REQUEST".into()));
    }
}
