//! Prepay against the simulator over real loopback HTTP: every scene in both modes created
//! with the core's request types and then answered by the query endpoints; the rules for a
//! repeated prepay; refusals naming the field; the cashier page; and `request-payment`
//! checking invoke parameters signed by the core's `invoke` module, paying, and notifying.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use serde_json::{Value, json};
use wechatpay_core::api::{
    AppPrepay, H5Info, H5Prepay, H5Type, JsapiPrepay, Json, NativePrepay, Operation, Order, OrderSceneInfo,
    PartnerAppPrepay, PartnerH5Prepay, PartnerIds, PartnerJsapiPrepay, PartnerNativePrepay, PartnerOpenId,
    QueryOrderByOutTradeNo, QueryPartnerOrderByOutTradeNo,
};
use wechatpay_core::invoke::{AppInvoke, JsapiInvoke};
use wechatpay_core::model::Fen;
use wechatpay_core::notify::{Receiver, Resource};
use wechatpay_core::{ApiV3Key, AppId, Config, MchId, Nonce, OpenId, OutTradeNo, PrivateKey, SubMchId, unix_now};
use wechatpay_sim::{NotifySink, OrderKind, Route, Simulator};

use crate::common;

const APPID: &str = "wxd678efh567hg6787";
const SP_APPID: &str = "wx8888888888888888";
const SUB_APPID: &str = "wx9999999999999999";
const SUB_MCHID: &str = "1900000109";
const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
/// A remote notify URL: orders keep it, the simulator does not post to it.
const REMOTE_NOTIFY: &str = "https://merchant.example/wechatpay/notify";

fn order(no: &str, notify_url: &str) -> Order {
    Order::new(no, "Image形象店-深圳腾大-QQ公仔", Fen(888), notify_url).unwrap().attach("自定义数据 <&>").unwrap()
}

fn h5_order(no: &str, notify_url: &str) -> Order {
    let mut scene = OrderSceneInfo::new("203.0.113.7");
    scene.h5_info = Some(H5Info::new(H5Type::Wap));
    order(no, notify_url).scene_info(scene).unwrap()
}

fn partner(sub_appid: bool) -> PartnerIds {
    PartnerIds {
        sp_appid: AppId::new(SP_APPID).unwrap(),
        sub_mchid: SubMchId::new(SUB_MCHID).unwrap(),
        sub_appid: sub_appid.then(|| AppId::new(SUB_APPID).unwrap()),
    }
}

fn appid() -> AppId {
    AppId::new(APPID).unwrap()
}

fn openid() -> OpenId {
    OpenId::new(OPENID).unwrap()
}

/// The answer of a prepay as JSON (`{"prepay_id"}`, `{"code_url"}` or `{"h5_url"}`).
fn create<Op: Operation>(sim: &Simulator, config: &Config, op: &Op) -> Value
where
    Op::Output: serde::Serialize,
{
    serde_json::to_value(common::call(sim, config, op).unwrap()).unwrap()
}

/// The API error of a prepay: status, code, field.
fn refusal<Op: Operation>(sim: &Simulator, config: &Config, op: &Op) -> (u16, String, Option<String>)
where
    Op::Output: std::fmt::Debug,
{
    let e = common::api_error(common::call(sim, config, op));
    (e.status.as_u16(), e.code.as_str().to_owned(), e.field().map(str::to_owned))
}

fn is_prepay_id(id: &str) -> bool {
    id.len() >= 32
        && id.starts_with("wx")
        && id[2..16].bytes().all(|b| b.is_ascii_digit())
        && id[16..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_code_url(url: &str) -> bool {
    url.strip_prefix("weixin://wxpay/bizpayurl?pr=")
        .is_some_and(|pr| (7..=12).contains(&pr.len()) && pr.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Queries the order and returns it as JSON.
fn query(sim: &Simulator, config: &Config, kind: OrderKind, no: &str) -> Value {
    let out_trade_no = OutTradeNo::new(no).unwrap();
    if kind == OrderKind::Partner {
        let op = QueryPartnerOrderByOutTradeNo { sub_mchid: SubMchId::new(SUB_MCHID).unwrap(), out_trade_no };
        serde_json::to_value(common::call(sim, config, &op).unwrap()).unwrap()
    } else {
        serde_json::to_value(common::call(sim, config, &QueryOrderByOutTradeNo { out_trade_no }).unwrap()).unwrap()
    }
}

/// Checks the artefact of `scene`, the query answer and the admin document of order `no`;
/// returns the prepay id.
fn check_created(
    sim: &Simulator,
    config: &Config,
    kind: OrderKind,
    no: &str,
    trade_type: &str,
    answer: &Value,
) -> String {
    let doc = sim.order(kind, no).unwrap();
    let prepay_id = doc["prepay_id"].as_str().unwrap().to_owned();
    assert!(is_prepay_id(&prepay_id), "{prepay_id}");
    match trade_type {
        "JSAPI" | "APP" => assert_eq!(answer, &json!({ "prepay_id": prepay_id })),
        "NATIVE" => {
            let url = answer["code_url"].as_str().unwrap();
            assert!(is_code_url(url), "{url}");
            assert_eq!(doc["code_url"], url);
            assert_eq!(answer.as_object().unwrap().len(), 1);
        }
        "MWEB" => assert_eq!(answer, &json!({ "h5_url": format!("{}/sim/cashier/{prepay_id}", sim.base_url()) })),
        other => panic!("{other}"),
    }
    if trade_type != "NATIVE" {
        assert!(doc.get("code_url").is_none());
    }
    let q = query(sim, config, kind, no);
    assert_eq!(q["trade_state"], "NOTPAY");
    assert_eq!(q["trade_type"], trade_type);
    assert_eq!(q["out_trade_no"], no);
    assert_eq!(q["attach"], "自定义数据 <&>");
    assert_eq!(q["amount"]["total"], 888);
    assert!(q.get("prepay_id").is_none() && q.get("notify_url").is_none(), "the query answers as WeChat Pay: {q}");
    if kind == OrderKind::Partner {
        assert_eq!((q["sp_mchid"].as_str(), q["sub_mchid"].as_str()), (Some("1230000109"), Some(SUB_MCHID)));
        assert_eq!(q["sp_appid"], SP_APPID);
    } else {
        assert_eq!((q["mchid"].as_str(), q["appid"].as_str()), (Some("1230000109"), Some(APPID)));
    }
    assert_eq!(doc["notify_url"], REMOTE_NOTIFY);
    prepay_id
}

#[test]
fn every_scene_in_both_modes_creates_an_order_the_queries_answer() {
    let sim = Simulator::start().unwrap();
    let config = common::config(&sim);
    let (direct, partner_kind) = (OrderKind::Direct, OrderKind::Partner);

    let op = JsapiPrepay { appid: appid(), openid: openid(), order: order("PREPAY_JSAPI_1", REMOTE_NOTIFY) };
    let answer = create(&sim, &config, &op);
    check_created(&sim, &config, direct, "PREPAY_JSAPI_1", "JSAPI", &answer);
    assert_eq!(query(&sim, &config, direct, "PREPAY_JSAPI_1")["payer"]["openid"], OPENID);

    let op = AppPrepay { appid: appid(), order: order("PREPAY_APP_1", REMOTE_NOTIFY) };
    check_created(&sim, &config, direct, "PREPAY_APP_1", "APP", &create(&sim, &config, &op));

    let op = H5Prepay::new(appid(), h5_order("PREPAY_H5_1", REMOTE_NOTIFY)).unwrap();
    check_created(&sim, &config, direct, "PREPAY_H5_1", "MWEB", &create(&sim, &config, &op));

    let op = NativePrepay { appid: appid(), order: order("PREPAY_NATIVE_1", REMOTE_NOTIFY) };
    check_created(&sim, &config, direct, "PREPAY_NATIVE_1", "NATIVE", &create(&sim, &config, &op));

    let op =
        PartnerJsapiPrepay::new(partner(true), PartnerOpenId::Sub(openid()), order("PREPAY_P_JSAPI_1", REMOTE_NOTIFY))
            .unwrap();
    check_created(&sim, &config, partner_kind, "PREPAY_P_JSAPI_1", "JSAPI", &create(&sim, &config, &op));
    let q = query(&sim, &config, partner_kind, "PREPAY_P_JSAPI_1");
    assert_eq!((q["payer"]["sub_openid"].as_str(), q["sub_appid"].as_str()), (Some(OPENID), Some(SUB_APPID)));

    let op =
        PartnerJsapiPrepay::new(partner(false), PartnerOpenId::Sp(openid()), order("PREPAY_P_JSAPI_2", REMOTE_NOTIFY))
            .unwrap();
    check_created(&sim, &config, partner_kind, "PREPAY_P_JSAPI_2", "JSAPI", &create(&sim, &config, &op));
    assert_eq!(query(&sim, &config, partner_kind, "PREPAY_P_JSAPI_2")["payer"]["sp_openid"], OPENID);

    let op = PartnerAppPrepay { partner: partner(false), order: order("PREPAY_P_APP_1", REMOTE_NOTIFY) };
    check_created(&sim, &config, partner_kind, "PREPAY_P_APP_1", "APP", &create(&sim, &config, &op));

    let op = PartnerH5Prepay::new(partner(false), h5_order("PREPAY_P_H5_1", REMOTE_NOTIFY)).unwrap();
    check_created(&sim, &config, partner_kind, "PREPAY_P_H5_1", "MWEB", &create(&sim, &config, &op));

    let op = PartnerNativePrepay { partner: partner(false), order: order("PREPAY_P_NATIVE_1", REMOTE_NOTIFY) };
    check_created(&sim, &config, partner_kind, "PREPAY_P_NATIVE_1", "NATIVE", &create(&sim, &config, &op));

    // Every route was counted under its own name.
    assert_eq!(sim.requests_for(Route::PrepayJsapi), 1);
    assert_eq!(sim.requests_for(Route::PartnerPrepayJsapi), 2);
    assert_eq!(sim.requests_for(Route::PartnerPrepayNative), 1);
}

#[test]
fn a_repeated_prepay_gets_the_same_artefact_and_other_parameters_are_refused() {
    let sim = Simulator::start().unwrap();
    let config = common::config(&sim);
    let op = NativePrepay { appid: appid(), order: order("PREPAY_AGAIN_1", REMOTE_NOTIFY) };
    let first = create(&sim, &config, &op);
    assert_eq!(create(&sim, &config, &op), first, "the identical body re-issues the same code_url");
    let jsapi = JsapiPrepay { appid: appid(), openid: openid(), order: order("PREPAY_AGAIN_2", REMOTE_NOTIFY) };
    let first = create(&sim, &config, &jsapi);
    assert_eq!(create(&sim, &config, &jsapi), first);

    // Another description, or the same number through another scene: 403.
    let changed = NativePrepay {
        appid: appid(),
        order: Order::new("PREPAY_AGAIN_1", "another", Fen(888), REMOTE_NOTIFY).unwrap(),
    };
    assert_eq!(refusal(&sim, &config, &changed), (403, "OUT_TRADE_NO_USED".into(), None));
    let other_scene = AppPrepay { appid: appid(), order: order("PREPAY_AGAIN_1", REMOTE_NOTIFY) };
    assert_eq!(refusal(&sim, &config, &other_scene).1, "OUT_TRADE_NO_USED");
    // A seed order's number is taken too.
    let seed = NativePrepay { appid: appid(), order: order("SIM_NOTPAY_0001", REMOTE_NOTIFY) };
    assert_eq!(refusal(&sim, &config, &seed).1, "OUT_TRADE_NO_USED");

    // Paid: 400 ORDER_PAID, even for the identical body; closed: 400 ORDER_CLOSED.
    sim.set_state(OrderKind::Direct, "PREPAY_AGAIN_1", "SUCCESS", json!({})).unwrap();
    assert_eq!(refusal(&sim, &config, &op), (400, "ORDER_PAID".into(), None));
    sim.set_state(OrderKind::Direct, "PREPAY_AGAIN_2", "CLOSED", json!({})).unwrap();
    assert_eq!(refusal(&sim, &config, &jsapi), (400, "ORDER_CLOSED".into(), None));
    let paid_seed = NativePrepay { appid: appid(), order: order("1217752501201407033233368018", REMOTE_NOTIFY) };
    assert_eq!(refusal(&sim, &config, &paid_seed).1, "ORDER_PAID");
}

/// A raw prepay body to `target`, for input the core would never build.
fn raw(target: &str, body: Value) -> Json {
    Json::new(http::Method::POST, target, Some(&body.to_string())).unwrap()
}

#[test]
fn invalid_prepays_are_refused_naming_the_field() {
    let sim = Simulator::start().unwrap();
    let config = common::config(&sim);
    let base = || {
        json!({
            "appid": APPID, "mchid": "1230000109", "description": "d", "out_trade_no": "PREPAY_BAD_1",
            "notify_url": REMOTE_NOTIFY, "amount": {"total": 1}
        })
    };
    let with = |k: &str, v: Value| {
        let mut b = base();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = base();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let native = "/v3/pay/transactions/native";
    let cases = [
        (native, without("description"), "description"),
        (native, with("description", json!("x".repeat(128))), "description"),
        (native, with("out_trade_no", json!("ABC12")), "out_trade_no"),
        (native, with("out_trade_no", json!("ABC 123")), "out_trade_no"),
        (native, with("amount", json!({"total": 0})), "amount.total"),
        (native, with("amount", json!({"total": 1.5})), "amount.total"),
        (native, with("amount", json!({})), "amount.total"),
        (native, with("notify_url", json!("http://merchant.example/notify")), "notify_url"),
        (native, with("notify_url", json!("https://merchant.example/notify?x=1")), "notify_url"),
        (native, with("time_expire", json!("20220421191948")), "time_expire"),
        (native, with("mchid", json!("1230000110")), "mchid"),
        (native, without("appid"), "appid"),
        (native, with("scene_info", json!({"payer_client_ip": "not-an-ip"})), "scene_info.payer_client_ip"),
        ("/v3/pay/transactions/jsapi", base(), "payer.openid"),
        ("/v3/pay/transactions/h5", base(), "scene_info.payer_client_ip"),
        (
            "/v3/pay/transactions/h5",
            with("scene_info", json!({"payer_client_ip": "203.0.113.7"})),
            "scene_info.h5_info.type",
        ),
        (
            "/v3/pay/transactions/h5",
            with("scene_info", json!({"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Windows"}})),
            "scene_info.h5_info.type",
        ),
    ];
    for (target, body, field) in cases {
        let got = refusal(&sim, &config, &raw(target, body.clone()));
        assert_eq!(got, (400, "PARAM_ERROR".into(), Some(field.to_owned())), "{target} {body}");
    }
    let partner = json!({
        "sp_appid": SP_APPID, "sp_mchid": "1230000109", "sub_mchid": SUB_MCHID, "description": "d",
        "out_trade_no": "PREPAY_BAD_2", "notify_url": REMOTE_NOTIFY, "amount": {"total": 1},
        "payer": {"sub_openid": OPENID}
    });
    let jsapi = "/v3/pay/partner/transactions/jsapi";
    assert_eq!(refusal(&sim, &config, &raw(jsapi, partner.clone())).2.as_deref(), Some("sub_appid"));
    let mut other = partner.clone();
    other["sp_mchid"] = json!("1230000110");
    assert_eq!(refusal(&sim, &config, &raw(jsapi, other)).2.as_deref(), Some("sp_mchid"));
    let mut unbound = partner.clone();
    unbound["sub_mchid"] = json!("1900000999");
    unbound["payer"] = json!({"sp_openid": OPENID});
    assert_eq!(refusal(&sim, &config, &raw(jsapi, unbound)).1, "INVALID_REQUEST");
    // Nothing was created by any of them.
    assert!(sim.order(OrderKind::Direct, "PREPAY_BAD_1").is_none());
    assert!(sim.order(OrderKind::Partner, "PREPAY_BAD_2").is_none());
}

/// The payment notification received for `no`, verified and decrypted by the core.
fn notified(sim: &Simulator, config: &Config, got: &NotifySink, no: &str) -> Value {
    let request = got.next(Duration::from_secs(10)).expect("a notification");
    let receiver = Receiver::from_config(config, ApiV3Key::new(sim.apiv3_key()).unwrap());
    let n = receiver.receive_request(&request).unwrap();
    let resource = match &n.resource {
        Resource::Transaction(t) => serde_json::to_value(t).unwrap(),
        Resource::PartnerTransaction(t) => serde_json::to_value(t).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(resource["out_trade_no"], no);
    assert_eq!(resource["trade_state"], "SUCCESS");
    resource
}

/// An HTTP exchange with the simulator without a signature: (status, content type, body).
fn plain(sim: &Simulator, method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", sim.addr());
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let r = common::send_raw(sim.addr(), raw.as_bytes()).unwrap();
    let content_type = r.header("content-type").unwrap_or_default().to_owned();
    (r.status.as_u16(), content_type, String::from_utf8(r.body).unwrap())
}

fn request_payment(sim: &Simulator, body: &Value) -> (u16, Value) {
    let auth = format!("Bearer {}", sim.admin_token());
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let (status, _, text) = plain(sim, "POST", "/sim/request-payment", &headers, &body.to_string());
    (status, serde_json::from_str(&text).unwrap())
}

fn merchant_key(sim: &Simulator) -> PrivateKey {
    PrivateKey::from_pem(sim.credentials().merchant_private_key_pem().as_bytes()).unwrap()
}

#[test]
fn the_cashier_page_shows_the_order_and_pays_or_cancels_it() {
    let sim = Simulator::start().unwrap();
    let config = common::config(&sim);
    let got = NotifySink::start().unwrap();
    let url = got.url().to_owned();
    let mut scene = OrderSceneInfo::new("203.0.113.7");
    scene.h5_info = Some(H5Info::new(H5Type::Ios));
    let desc = "<script>alert('x')</script> & 公仔";
    let h5 = Order::new("CASHIER_H5_1", desc, Fen(12345), &url).unwrap().scene_info(scene).unwrap();
    let answer = create(&sim, &config, &H5Prepay::new(appid(), h5).unwrap());
    let h5_url = answer["h5_url"].as_str().unwrap();
    let target = h5_url.strip_prefix(&sim.base_url()).unwrap();

    let (status, content_type, page) = plain(&sim, "GET", target, &[], "");
    assert_eq!((status, content_type.as_str()), (200, "text/html; charset=utf-8"));
    assert!(page.contains("123.45") && page.contains("1230000109") && page.contains("NOTPAY"), "{page}");
    assert!(!page.contains("<script>"), "the description is escaped: {page}");
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 公仔"), "{page}");
    assert!(page.contains("name=\"action\" value=\"pay\"") && page.contains("value=\"cancel\""));
    // The merchant's page appends `&redirect_url=`; the page is the same.
    let (status, _, _) = plain(&sim, "GET", &format!("{target}&redirect_url=https%3A%2F%2Fshop.example%2F"), &[], "");
    assert_eq!(status, 200);

    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let (status, _, page) = plain(&sim, "POST", target, &form, "action=cancel");
    assert_eq!(status, 200);
    assert!(page.contains("Cancelled") && page.contains("NOTPAY"), "{page}");
    assert_eq!(sim.order(OrderKind::Direct, "CASHIER_H5_1").unwrap()["trade_state"], "NOTPAY");
    assert!(got.next(Duration::from_millis(300)).is_none(), "a cancel notifies nobody");

    let (status, _, page) = plain(&sim, "POST", target, &form, "action=pay");
    assert_eq!(status, 200);
    assert!(page.contains("Paid") && page.contains("SUCCESS"), "{page}");
    let resource = notified(&sim, &config, &got, "CASHIER_H5_1");
    assert_eq!(query(&sim, &config, OrderKind::Direct, "CASHIER_H5_1")["transaction_id"], resource["transaction_id"]);
    let (_, _, page) = plain(&sim, "POST", target, &form, "action=pay");
    assert!(page.contains("Already paid"), "{page}");

    // A Native order has the same page, by its prepay id from the admin document.
    let op = PartnerNativePrepay { partner: partner(false), order: order("CASHIER_NATIVE_1", &url) };
    create(&sim, &config, &op);
    let id = sim.order(OrderKind::Partner, "CASHIER_NATIVE_1").unwrap()["prepay_id"].as_str().unwrap().to_owned();
    let (status, _, page) = plain(&sim, "GET", &format!("/sim/cashier/{id}"), &[], "");
    assert!(status == 200 && page.contains("1230000109 / 1900000109"), "{page}");
    assert_eq!(plain(&sim, "POST", &format!("/sim/cashier/{id}"), &form, "action=pay").0, 200);
    notified(&sim, &config, &got, "CASHIER_NATIVE_1");

    // The Rust handle presses the same button.
    let op = NativePrepay { appid: appid(), order: order("CASHIER_NATIVE_2", &url) };
    create(&sim, &config, &op);
    let id = sim.order(OrderKind::Direct, "CASHIER_NATIVE_2").unwrap()["prepay_id"].as_str().unwrap().to_owned();
    assert_eq!(sim.cashier_pay(&id).unwrap()["trade_state"], "SUCCESS");
    notified(&sim, &config, &got, "CASHIER_NATIVE_2");
    assert!(sim.cashier_pay("wx20261123220601000000000000000000").is_none());

    // Unknown ids, bad actions, other methods.
    assert_eq!(plain(&sim, "GET", "/sim/cashier/wx20261123220601000000000000000000", &[], "").0, 404);
    assert_eq!(plain(&sim, "POST", "/sim/cashier/nope", &form, "action=pay").0, 404);
    assert_eq!(plain(&sim, "POST", target, &form, "action=steal").0, 400);
    assert_eq!(plain(&sim, "DELETE", target, &[], "").0, 405);
}

#[test]
fn request_payment_checks_the_invoke_parameters_then_pays() {
    let sim = Simulator::start().unwrap();
    let config = common::config(&sim);
    let key = merchant_key(&sim);
    let got = NotifySink::start().unwrap();
    let url = got.url().to_owned();

    // JSAPI, direct: cancel leaves it NOTPAY; ok pays and notifies.
    let op = JsapiPrepay { appid: appid(), openid: openid(), order: order("RP_JSAPI_1", &url) };
    let prepay_id = create(&sim, &config, &op)["prepay_id"].as_str().unwrap().to_owned();
    let invoke = JsapiInvoke::sign_now(&key, &appid(), &prepay_id).unwrap();
    let mut body = serde_json::to_value(&invoke).unwrap();
    body["result"] = json!("cancel");
    let (status, answer) = request_payment(&sim, &body);
    assert_eq!((status, answer["err_msg"].as_str()), (200, Some("requestPayment:fail cancel")));
    assert_eq!(answer["order"]["trade_state"], "NOTPAY");
    let (status, answer) = request_payment(&sim, &serde_json::to_value(&invoke).unwrap());
    assert_eq!((status, answer["err_msg"].as_str()), (200, Some("requestPayment:ok")), "{answer}");
    assert_eq!(answer["order"]["trade_state"], "SUCCESS");
    notified(&sim, &config, &got, "RP_JSAPI_1");
    assert_eq!(query(&sim, &config, OrderKind::Direct, "RP_JSAPI_1")["trade_state"], "SUCCESS");
    let (status, again) = request_payment(&sim, &serde_json::to_value(&invoke).unwrap());
    assert_eq!((status, again["code"].as_str()), (400, Some("INVALID_REQUEST")));

    // APP, partner: the APP object, partnerid the sp_mchid.
    let op = PartnerAppPrepay { partner: partner(true), order: order("RP_P_APP_1", &url) };
    let prepay_id = create(&sim, &config, &op)["prepay_id"].as_str().unwrap().to_owned();
    let mchid = MchId::new("1230000109").unwrap();
    let sub_appid = AppId::new(SUB_APPID).unwrap();
    let app = AppInvoke::sign_now(&key, &sub_appid, &mchid, &prepay_id).unwrap();
    let (status, answer) = request_payment(&sim, &serde_json::to_value(&app).unwrap());
    assert_eq!((status, answer["err_msg"].as_str()), (200, Some("requestPayment:ok")), "{answer}");
    notified(&sim, &config, &got, "RP_P_APP_1");

    // Refusals.
    let op = JsapiPrepay { appid: appid(), openid: openid(), order: order("RP_JSAPI_2", &url) };
    let prepay_id = create(&sim, &config, &op)["prepay_id"].as_str().unwrap().to_owned();
    let nonce = Nonce::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS").unwrap();
    let good = JsapiInvoke::new(&key, &appid(), &prepay_id, unix_now(), &nonce).unwrap();
    let code = |body: Value| {
        let (status, answer) = request_payment(&sim, &body);
        (status, answer["code"].as_str().unwrap_or_default().to_owned(), answer["message"].clone())
    };
    let mut tampered = serde_json::to_value(&good).unwrap();
    tampered["nonceStr"] = json!("ANOTHERNONCE");
    assert_eq!(code(tampered), (400, "SIGN_ERROR".into(), json!("支付验证签名失败")));
    let mut wrong = serde_json::to_value(&good).unwrap();
    wrong["paySign"] = json!("AAAA");
    assert_eq!(code(wrong).1, "SIGN_ERROR");
    // Signed correctly, but for another app: the order's appid is checked.
    let stranger = JsapiInvoke::sign_now(&key, &AppId::new(SP_APPID).unwrap(), &prepay_id).unwrap();
    let (status, c, message) = code(serde_json::to_value(&stranger).unwrap());
    assert_eq!((status, c.as_str()), (400, "INVALID_REQUEST"));
    assert!(message.as_str().unwrap().starts_with("appId"), "{message}");
    let unknown = JsapiInvoke::sign_now(&key, &appid(), "wx20261123220601aaaaaaaaaaaaaaaaaaaa").unwrap();
    let (_, c, message) = code(serde_json::to_value(&unknown).unwrap());
    assert_eq!(c, "INVALID_REQUEST");
    assert!(message.as_str().unwrap().starts_with("prepay_id"), "{message}");
    let mut no_appid = serde_json::to_value(&good).unwrap();
    no_appid.as_object_mut().unwrap().remove("appId");
    assert!(code(no_appid).2.as_str().unwrap().starts_with("appId"));
    let mut md5 = serde_json::to_value(&good).unwrap();
    md5["signType"] = json!("MD5");
    assert!(code(md5).2.as_str().unwrap().starts_with("signType"));
    let mut number = serde_json::to_value(&good).unwrap();
    number["timeStamp"] = json!(unix_now());
    assert!(code(number).2.as_str().unwrap().contains("String instead of Number"));
    let mut result = serde_json::to_value(&good).unwrap();
    result["result"] = json!("maybe");
    assert!(code(result).2.as_str().unwrap().starts_with("result"));
    // A JSAPI order is not paid with the APP object.
    let app = AppInvoke::sign_now(&key, &appid(), &mchid, &prepay_id).unwrap();
    assert!(code(serde_json::to_value(&app).unwrap()).2.as_str().unwrap().starts_with("prepay_id"));
    // None of that paid it; the admin token is required.
    assert_eq!(sim.order(OrderKind::Direct, "RP_JSAPI_2").unwrap()["trade_state"], "NOTPAY");
    let (status, _, _) = plain(&sim, "POST", "/sim/request-payment", &[], &serde_json::to_string(&good).unwrap());
    assert_eq!(status, 401);
}
