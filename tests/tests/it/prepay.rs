//! Taking a payment end to end through both adapters: every prepay scene, direct and
//! partner, created through the reqwest and the ureq client against a simulator; paid as a
//! payer would (JSAPI and APP: the invoke parameters the core signs, handed to the
//! simulator's WeChat client, `POST /sim/request-payment`; H5: the `h5_url` cashier page;
//! Native: the cashier page by prepay id); the payment notification received on loopback,
//! verified and decrypted by the core; the query then says SUCCESS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;
use wechatpay_core::api::{
    AppPrepay, H5Info, H5Prepay, H5Type, JsapiPrepay, NativePrepay, Order, OrderSceneInfo, PartnerAppPrepay,
    PartnerH5Prepay, PartnerIds, PartnerJsapiPrepay, PartnerNativePrepay, PartnerOpenId,
};
use wechatpay_core::invoke::{AppInvoke, JsapiInvoke};
use wechatpay_core::model::Fen;
use wechatpay_core::notify::{Receiver, Resource};
use wechatpay_core::{ApiV3Key, AppId, Config, MchId, OpenId, PrivateKey, SubMchId};
use wechatpay_sim::NotifySink;
use wechatpay_tests::*;

const APPID: &str = "wxd678efh567hg6787";
const SP_APPID: &str = "wx8888888888888888";
const SUB_APPID: &str = "wx9999999999999999";
const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

/// One unsigned HTTP exchange with the simulator (the admin API or the cashier page):
/// status and body.
fn plain(sim: &Simulator, method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(sim.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", sim.addr());
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(raw.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

/// The simulated WeChat client receiving `invoke` (`POST /sim/request-payment`).
pub(crate) fn request_payment(sim: &Simulator, invoke: Value) -> Value {
    let auth = format!("Bearer {}", sim.admin_token());
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let (status, body) = plain(sim, "POST", "/sim/request-payment", &headers, &invoke.to_string());
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["err_msg"], "requestPayment:ok");
    answer
}

/// Presses "Pay" on the cashier page at `target`.
fn cashier_pay(sim: &Simulator, target: &str) {
    let (status, page) = plain(sim, "GET", target, &[], "");
    assert!(status == 200 && page.contains("NOTPAY"), "{page}");
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let (status, page) = plain(sim, "POST", target, &form, "action=pay");
    assert!(status == 200 && page.contains("SUCCESS"), "{page}");
}

/// The notification for `no`, verified and decrypted by the core: its transaction id.
fn notified(sim: &Simulator, config: &Config, got: &NotifySink, no: &str) -> String {
    let request = got.next(Duration::from_secs(10)).expect("a notification");
    let receiver = Receiver::from_config(config, ApiV3Key::new(sim.apiv3_key()).unwrap());
    let n = receiver.receive_request(&request).unwrap();
    let (out_trade_no, state, id) = match &n.resource {
        Resource::Transaction(t) => {
            (t.out_trade_no.clone(), t.trade_state.as_str().to_owned(), t.transaction_id.clone())
        }
        Resource::PartnerTransaction(t) => {
            (t.out_trade_no.clone(), t.trade_state.as_str().to_owned(), t.transaction_id.clone())
        }
        other => panic!("{other:?}"),
    };
    assert_eq!((out_trade_no.as_str(), state.as_str()), (no, "SUCCESS"));
    id.expect("a paid order has a transaction id")
}

fn order(no: &str, url: &str) -> Order {
    Order::new(no, "Image形象店-深圳腾大-QQ公仔", Fen(1), url).unwrap()
}

fn h5_order(no: &str, url: &str) -> Order {
    let mut scene = OrderSceneInfo::new("203.0.113.7");
    scene.h5_info = Some(H5Info::new(H5Type::Android));
    order(no, url).scene_info(scene).unwrap()
}

fn partner(sub_appid: bool) -> PartnerIds {
    PartnerIds {
        sp_appid: AppId::new(SP_APPID).unwrap(),
        sub_mchid: SubMchId::new(SUB_MCHID).unwrap(),
        sub_appid: sub_appid.then(|| AppId::new(SUB_APPID).unwrap()),
    }
}

#[test]
fn every_scene_in_both_modes_is_created_paid_notified_and_queried_through_both_adapters() {
    for adapter in ADAPTERS {
        let sim = sim();
        let config = config(&sim);
        let client = TestClient::with_defaults(adapter, config.clone());
        let key = PrivateKey::from_pem(sim.credentials().merchant_private_key_pem().as_bytes()).unwrap();
        let mchid = MchId::new(sim.credentials().mchid()).unwrap();
        let (appid, sp_appid, sub_appid) =
            (AppId::new(APPID).unwrap(), AppId::new(SP_APPID).unwrap(), AppId::new(SUB_APPID).unwrap());
        let openid = OpenId::new(OPENID).unwrap();
        let got = NotifySink::start().unwrap();
        let url = got.url().to_owned();
        let no = |scene: &str| format!("E2E_{scene}_{}", if adapter == Adapter::Reqwest { "R" } else { "U" });
        // What was paid: (partner?, out_trade_no, transaction id from the notification).
        let mut paid = Vec::new();
        let mut confirm = |partner: bool, no: String| {
            let id = notified(&sim, &config, &got, &no);
            paid.push((partner, no, id));
        };

        // JSAPI, direct: the JSAPI object for the appid.
        let n = no("JSAPI");
        let op = JsapiPrepay { appid: appid.clone(), openid: openid.clone(), order: order(&n, &url) };
        let prepay = client.execute(&op).unwrap();
        let invoke = JsapiInvoke::sign_now(&key, &appid, &prepay.prepay_id).unwrap();
        request_payment(&sim, serde_json::to_value(&invoke).unwrap());
        confirm(false, n);

        // APP, direct: the APP object, partnerid the mchid.
        let n = no("APP");
        let prepay = client.execute(&AppPrepay { appid: appid.clone(), order: order(&n, &url) }).unwrap();
        let invoke = AppInvoke::sign_now(&key, &appid, &mchid, &prepay.prepay_id).unwrap();
        request_payment(&sim, serde_json::to_value(&invoke).unwrap());
        confirm(false, n);

        // H5, direct: the h5_url is the cashier page.
        let n = no("H5");
        let h5 = client.execute(&H5Prepay::new(appid.clone(), h5_order(&n, &url)).unwrap()).unwrap();
        cashier_pay(&sim, h5.h5_url.strip_prefix(&sim.base_url()).unwrap());
        confirm(false, n);

        // Native, direct: the cashier page by the prepay id the admin document shows.
        let n = no("NATIVE");
        let native = client.execute(&NativePrepay { appid: appid.clone(), order: order(&n, &url) }).unwrap();
        assert!(native.code_url.starts_with("weixin://wxpay/bizpayurl?pr="));
        let doc = sim.order(OrderKind::Direct, &n).unwrap();
        assert_eq!(doc["code_url"], native.code_url);
        cashier_pay(&sim, &format!("/sim/cashier/{}", doc["prepay_id"].as_str().unwrap()));
        confirm(false, n);

        // JSAPI, partner, paid by the sub_openid: invoked with the sub_appid.
        let n = no("PJSAPI");
        let op = PartnerJsapiPrepay::new(partner(true), PartnerOpenId::Sub(openid.clone()), order(&n, &url)).unwrap();
        let prepay = client.execute(&op).unwrap();
        let invoke = JsapiInvoke::sign_now(&key, &sub_appid, &prepay.prepay_id).unwrap();
        request_payment(&sim, serde_json::to_value(&invoke).unwrap());
        confirm(true, n);

        // APP, partner: invoked with the sp_appid, partnerid the sp_mchid.
        let n = no("PAPP");
        let prepay = client.execute(&PartnerAppPrepay { partner: partner(false), order: order(&n, &url) }).unwrap();
        let invoke = AppInvoke::sign_now(&key, &sp_appid, &mchid, &prepay.prepay_id).unwrap();
        request_payment(&sim, serde_json::to_value(&invoke).unwrap());
        confirm(true, n);

        // H5 and Native, partner: the cashier page.
        let n = no("PH5");
        let h5 = client.execute(&PartnerH5Prepay::new(partner(false), h5_order(&n, &url)).unwrap()).unwrap();
        cashier_pay(&sim, h5.h5_url.strip_prefix(&sim.base_url()).unwrap());
        confirm(true, n);
        let n = no("PNATIVE");
        client.execute(&PartnerNativePrepay { partner: partner(false), order: order(&n, &url) }).unwrap();
        let doc = sim.order(OrderKind::Partner, &n).unwrap();
        cashier_pay(&sim, &format!("/sim/cashier/{}", doc["prepay_id"].as_str().unwrap()));
        confirm(true, n);

        // The query through the adapter confirms each payment.
        assert_eq!(paid.len(), 8);
        for (is_partner, no, id) in paid {
            let (state, transaction_id) = if is_partner {
                let o = client.execute(&partner_by_out_trade_no(SUB_MCHID, &no)).unwrap();
                (o.trade_state.as_str().to_owned(), o.transaction_id)
            } else {
                let o = client.execute(&by_out_trade_no(&no)).unwrap();
                (o.trade_state.as_str().to_owned(), o.transaction_id)
            };
            assert_eq!((state.as_str(), transaction_id.as_deref()), ("SUCCESS", Some(id.as_str())), "{adapter:?} {no}");
        }

        // A repeat of a paid prepay is refused, and the retry policy does not repeat a 400.
        let again = JsapiPrepay { appid: appid.clone(), openid: openid.clone(), order: order(&no("JSAPI"), &url) };
        match client.execute(&again) {
            Err(wechatpay_core::Error::Api(e)) => assert_eq!(e.code.as_str(), "ORDER_PAID"),
            other => panic!("{adapter:?}: {other:?}"),
        }
    }
}

/// A prepay may be repeated with the identical body, so the retry policy repeats it: after a
/// `500`, and after an attempt timed out while the simulator was still working on it (its
/// answer lost). Every attempt signs the same bytes, and there is one order with one
/// artefact.
#[test]
fn a_retried_prepay_creates_one_order_with_one_artefact() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_millis(400));
        let url = "https://shop.example/wechatpay/notify";

        sim.inject(Fault::SystemError, Times::Next(1), Some(Route::PrepayNative));
        let native =
            client.execute(&NativePrepay { appid: AppId::new(APPID).unwrap(), order: order("RETRY_N_1", url) });
        let native = native.unwrap();
        assert_eq!(sim.requests_for(Route::PrepayNative), 2, "{adapter:?}: one retry after the 500");
        assert_eq!(sim.order(OrderKind::Direct, "RETRY_N_1").unwrap()["code_url"], native.code_url);

        // The first attempt is answered after the client gave up on it: the retry creates the
        // order, and the late first attempt is then a repeat with the identical body.
        sim.inject(Fault::Delay(Duration::from_millis(1200)), Times::Next(1), Some(Route::PrepayJsapi));
        let op = JsapiPrepay {
            appid: AppId::new(APPID).unwrap(),
            openid: OpenId::new(OPENID).unwrap(),
            order: order("RETRY_J_1", url),
        };
        let prepay = client.execute(&op).unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(sim.requests_for(Route::PrepayJsapi), 2, "{adapter:?}");
        let failed: Vec<Value> =
            sim.requests().as_array().unwrap().iter().filter(|r| r["status"] != 200).cloned().collect();
        assert_eq!(failed.len(), 1, "{adapter:?}: only the 500 failed: {failed:?}");
        assert_eq!(sim.order(OrderKind::Direct, "RETRY_J_1").unwrap()["prepay_id"], prepay.prepay_id.as_str());
    }
}
