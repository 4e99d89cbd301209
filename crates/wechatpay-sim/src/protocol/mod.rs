//! The WeChat Pay side of the wire: request verification (`auth`), answer signing
//! (`signing`, `respond`), faults, the route table (`routes`) and the certificate download.
//!
//! Serving one parsed request: the admin API under `/sim/`, or a WeChat Pay API call —
//! counted and logged, verified, routed through the route table, faults applied, answered
//! signed.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use wechatpay_core::{PublicKey, unix_now};

use crate::control::admin::{self, Admin};
use crate::control::{Control, RequestRecord};
use crate::net::stop::Stop;
use crate::net::{Service, http};

use faults::Fault;
use reply::Reply;
use respond::{RequestIds, Signature};
use routes::Route;
use signing::ResponseKeys;

/// What answering API requests needs: the merchant's public key to verify them, the keys
/// to sign answers, the APIv3 key, the control API (world, faults, request log), the admin
/// API and the shutdown flag.
#[derive(Debug)]
pub(crate) struct Api {
    pub merchant_pub: PublicKey,
    pub keys: Arc<ResponseKeys>,
    /// The merchant's APIv3 key (32 ASCII characters) that seals certificates and notifications.
    pub apiv3_key: Arc<str>,
    pub control: Arc<Control>,
    pub admin: Admin,
    pub stop: Arc<Stop>,
    pub ids: RequestIds,
}

pub(crate) mod apiv3_key;
pub mod auth;
pub(crate) mod bill;
pub(crate) mod certificates;
pub(crate) mod codepay;
pub(crate) mod faults;
pub(crate) mod parking;
pub(crate) mod platform;
pub(crate) mod prepay;
pub(crate) mod refund;
pub(crate) mod reply;
pub(crate) mod respond;
pub(crate) mod routes;
pub(crate) mod signing;

/// What a request gets.
enum Answer {
    Json(Reply, Signature),
    BadGateway,
    Oversized(usize),
    /// A bill file, streamed unsigned.
    Bill(bill::Download),
    /// Close without answering.
    Nothing,
}

impl Api {
    /// Answers a request that could not be parsed; the connection closes.
    fn invalid(&self, stream: &mut impl Write, status: u16, message: &str) {
        let reply = Reply::error(status, "INVALID_REQUEST", message, None);
        let key = self.keys.choose(None);
        let _ = respond::json(stream, &self.ids, &reply, &key, Signature::Valid, true);
    }

    /// Answers one request; `false` when the connection must close.
    fn handle(&self, stream: &mut impl Write, req: &http::Request) -> bool {
        let close = req.wants_close();
        if crate::control::cashier::is_cashier(&req.target) {
            return crate::control::cashier::serve(&self.control, stream, req);
        }
        if admin::is_admin(&req.target) {
            let reply = self.admin.handle(&self.control, req);
            let key = self.keys.choose(None);
            return respond::json(stream, &self.ids, &reply, &key, Signature::None, close);
        }
        let target = routes::match_target(&req.target);
        self.control.count(target.map(|t| t.route));
        let serial = req.header(wechatpay_core::wire::HEADER_SERIAL);
        let key = match target {
            Some(t) if t.route == Route::Certificates => self.keys.choose_for_certificates(serial),
            _ => self.keys.choose(serial),
        };
        let (verified, answer) = match auth::verify_request(req, &self.merchant_pub, unix_now()) {
            Ok(caller) => (true, self.answer(req, target.as_ref(), &caller.mchid)),
            Err(reply) => (false, Answer::Json(reply, Signature::Valid)),
        };
        let status = match &answer {
            Answer::Json(reply, _) => Some(reply.status),
            Answer::BadGateway => Some(502),
            Answer::Oversized(_) | Answer::Bill(_) => Some(200),
            Answer::Nothing => None,
        };
        let record = RequestRecord { method: req.method.clone(), target: req.target.clone(), verified, status };
        self.control.record(record);
        match answer {
            Answer::Json(reply, signature) => respond::json(stream, &self.ids, &reply, &key, signature, close),
            Answer::BadGateway => respond::bad_gateway(stream, close),
            Answer::Oversized(n) => respond::oversized(stream, &self.ids, &self.stop, n, close),
            Answer::Bill(download) => download.respond(stream, &self.ids, &self.stop, close),
            Answer::Nothing => false,
        }
    }

    /// The normal answer to a verified request from `caller`.
    fn normal(&self, req: &http::Request, target: Option<&routes::Target<'_>>, caller: &str) -> Reply {
        match target {
            None => Reply::error(404, "NOT_FOUND", "请求的资源不存在 (no such API)", None),
            Some(t) if req.method != t.route.method() => {
                let message = format!("请求方法不被允许 (use {})", t.route.method());
                Reply::error(405, "METHOD_NOT_ALLOWED", &message, None)
            }
            // Through the route table. Queries change the world too: they count towards
            // scheduled changes of state.
            Some(t) => {
                let call = routes::Call {
                    target: *t,
                    caller,
                    content_type: req.header("content-type"),
                    body: &req.body,
                    serial: req.header(wechatpay_core::wire::HEADER_SERIAL),
                };
                let handler = t.route.spec().handler;
                self.control.world(|world| {
                    let mut ctx = routes::Ctx { world, keys: &self.keys, apiv3_key: &self.apiv3_key };
                    handler(&call, &mut ctx).unwrap_or_else(|reply| reply)
                })
            }
        }
    }

    /// The answer to a verified request from `caller`, faults applied.
    fn answer(&self, req: &http::Request, target: Option<&routes::Target<'_>>, caller: &str) -> Answer {
        let route = target.map(|t| t.route);
        let fault = self.control.take_fault(route);
        let normal = || self.normal(req, target, caller);
        if let (None, Some(t @ routes::Target { route: Route::BillDownload, .. })) = (&fault, target) {
            return self.bill_download(req, t, caller);
        }
        let Some(fault) = fault else {
            let reply = normal();
            // A payment code ending in 6: the order is paid at once, the answer comes late.
            let hold = target.and_then(|t| codepay::hold(t.route, &req.body));
            if hold.is_some_and(|d| !self.stop.sleep(d)) {
                return Answer::Nothing;
            }
            return Answer::Json(reply, Signature::Valid);
        };
        match fault {
            Fault::RateLimited => {
                let code = if route == Some(Route::Parking) { "RATELIMIT_EXCEEDED" } else { "FREQUENCY_LIMITED" };
                Answer::Json(Reply::error(429, code, "频率超限", None), Signature::Valid)
            }
            Fault::SystemError => {
                Answer::Json(Reply::error(500, "SYSTEM_ERROR", "系统异常，请稍后重试", None), Signature::Valid)
            }
            Fault::HtmlBadGateway => Answer::BadGateway,
            Fault::Delay(d) if self.stop.sleep(d) => Answer::Json(normal(), Signature::Valid),
            Fault::Delay(_) => Answer::Nothing,
            Fault::Hang => {
                while self.stop.sleep(Duration::from_secs(3600)) {}
                Answer::Nothing
            }
            Fault::DropConnection => Answer::Nothing,
            Fault::TamperedBody => Answer::Json(normal(), Signature::Tampered),
            Fault::StaleTimestamp => Answer::Json(normal(), Signature::Stale),
            Fault::SignTestProbe => Answer::Json(normal(), Signature::Probe),
            Fault::UnknownSerial => Answer::Json(normal(), Signature::UnknownSerial),
            Fault::UnsignedOk => Answer::Json(normal(), Signature::None),
            Fault::InvalidJson => {
                Answer::Json(Reply { status: 200, body: Arc::from(&b"{not json"[..]) }, Signature::Valid)
            }
            Fault::OversizedBody(n) => Answer::Oversized(n),
            Fault::AnswerForAnotherOrder => Answer::Json(another_order(normal()), Signature::Valid),
            Fault::WrongBillHash => Answer::Json(bill::wrong_hash(normal()), Signature::Valid),
        }
    }
}

impl Api {
    /// A verified bill download: the file streamed unsigned, or the signed error answer.
    fn bill_download(&self, req: &http::Request, target: &routes::Target<'_>, caller: &str) -> Answer {
        let call = routes::Call {
            target: *target,
            caller,
            content_type: req.header("content-type"),
            body: &req.body,
            serial: req.header(wechatpay_core::wire::HEADER_SERIAL),
        };
        let found = self.control.world(|world| {
            let mut ctx = routes::Ctx { world, keys: &self.keys, apiv3_key: &self.apiv3_key };
            bill::download(&call, &mut ctx)
        });
        match found {
            Ok(download) => Answer::Bill(download),
            Err(reply) => Answer::Json(reply, Signature::Valid),
        }
    }
}

impl Service for Api {
    fn invalid(&self, mut stream: &mut dyn Write, status: u16, message: &str) {
        Api::invalid(self, &mut stream, status, message);
    }

    fn handle(&self, mut stream: &mut dyn Write, req: &http::Request) -> bool {
        Api::handle(self, &mut stream, req)
    }
}

/// `reply` as if it were about another order: its ids changed, everything else kept.
fn another_order(reply: Reply) -> Reply {
    let Ok(serde_json::Value::Object(mut order)) = serde_json::from_slice::<serde_json::Value>(&reply.body) else {
        return reply;
    };
    for field in ["out_trade_no", "transaction_id"] {
        if let Some(serde_json::Value::String(id)) = order.get_mut(field) {
            id.push('0');
        }
    }
    let body = serde_json::to_vec(&order).unwrap_or_default();
    Reply { status: reply.status, body: Arc::from(body) }
}
