//! Creating orders (PROTOCOL.md §12): the eight prepay endpoints' targets and bodies, byte
//! for byte, for a full and a minimal request each; every validation rule refused with the
//! field named; and the calls through the driver with a closure transport answering signed.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::cell::RefCell;
use std::time::Duration;

use common::*;
use http::{HeaderMap, StatusCode};
use wechatpay_core::api::{
    AppPrepay, H5Info, H5Prepay, H5Type, JsapiPrepay, LimitPay, NativePrepay, Operation, Order, OrderDetail,
    OrderGoods, OrderSceneInfo, PartnerAppPrepay, PartnerH5Prepay, PartnerIds, PartnerJsapiPrepay, PartnerNativePrepay,
    PartnerOpenId, StoreInfo,
};
use wechatpay_core::model::Fen;
use wechatpay_core::retry::RetryPolicy;
use wechatpay_core::transport::Driver;
use wechatpay_core::{AppId, OpenId};
use wechatpay_core::{InvalidInput, MchId, SubMchId, TransportError, unix_now};

const APPID: &str = "wxd678efh567hg6787";
const SUB_APPID: &str = "wxd678efh567hg6999";
const SUB_MCHID: &str = "1900000109";
const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
const NO: &str = "1217752501201407033233368018";

fn mchid() -> MchId {
    MchId::new(MCHID).unwrap()
}

fn appid() -> AppId {
    AppId::new(APPID).unwrap()
}

fn minimal() -> Order {
    Order::new(NO, "Image形象店-深圳腾大-QQ公仔", Fen(1), "https://www.weixin.qq.com/wxpay/pay.php").unwrap()
}

fn scene(h5: bool) -> OrderSceneInfo {
    OrderSceneInfo {
        payer_client_ip: "14.23.150.211".into(),
        device_id: Some("013467007045764".into()),
        store_info: Some(StoreInfo {
            id: Some("0001".into()),
            name: Some("腾讯大厦分店".into()),
            area_code: Some("440305".into()),
            address: Some("广东省深圳市南山区科技中一道10000号".into()),
        }),
        h5_info: h5.then(|| H5Info {
            kind: H5Type::Ios,
            app_name: Some("王者荣耀".into()),
            app_url: Some("https://pay.qq.com".into()),
            bundle_id: Some("com.tencent.wzryiOS".into()),
            package_name: Some("com.tencent.tmgp.sgame".into()),
        }),
    }
}

fn full(h5: bool) -> Order {
    Order::new(NO, "Image形象店-深圳腾大-QQ公仔", Fen(100), "https://www.weixin.qq.com/wxpay/pay.php")
        .unwrap()
        .time_expire("2018-06-08T10:34:56+08:00")
        .unwrap()
        .attach("自定义数据")
        .unwrap()
        .goods_tag("WXG")
        .unwrap()
        .limit_pay(vec![LimitPay::NoCredit])
        .support_fapiao(false)
        .currency("CNY")
        .unwrap()
        .detail(OrderDetail {
            cost_price: Some(608800),
            invoice_id: Some("微信123".into()),
            goods_detail: vec![OrderGoods {
                merchant_goods_id: "1246464644".into(),
                wechatpay_goods_id: Some("1001".into()),
                goods_name: Some("iPhoneX 256G".into()),
                quantity: 1,
                unit_price: 528800,
            }],
        })
        .unwrap()
        .scene_info(scene(h5))
        .unwrap()
        .profit_sharing(false)
}

const FULL_HEAD: &str = r#""description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","time_expire":"2018-06-08T10:34:56+08:00","attach":"自定义数据","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","goods_tag":"WXG","limit_pay":["no_credit"],"support_fapiao":false,"amount":{"total":100,"currency":"CNY"}"#;
const DETAIL: &str = r#""detail":{"cost_price":608800,"invoice_id":"微信123","goods_detail":[{"merchant_goods_id":"1246464644","wechatpay_goods_id":"1001","goods_name":"iPhoneX 256G","quantity":1,"unit_price":528800}]}"#;
const SCENE: &str = r#""scene_info":{"payer_client_ip":"14.23.150.211","device_id":"013467007045764","store_info":{"id":"0001","name":"腾讯大厦分店","area_code":"440305","address":"广东省深圳市南山区科技中一道10000号"}}"#;
const SCENE_H5: &str = r#""scene_info":{"payer_client_ip":"14.23.150.211","device_id":"013467007045764","store_info":{"id":"0001","name":"腾讯大厦分店","area_code":"440305","address":"广东省深圳市南山区科技中一道10000号"},"h5_info":{"type":"iOS","app_name":"王者荣耀","app_url":"https://pay.qq.com","bundle_id":"com.tencent.wzryiOS","package_name":"com.tencent.tmgp.sgame"}}"#;
const SETTLE: &str = r#""settle_info":{"profit_sharing":false}"#;
const MIN_HEAD: &str = r#""description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":1}"#;
const DIRECT_IDS: &str = r#""appid":"wxd678efh567hg6787","mchid":"1230000109""#;
const PARTNER_IDS_FULL: &str = r#""sp_appid":"wxd678efh567hg6787","sp_mchid":"1230000109","sub_appid":"wxd678efh567hg6999","sub_mchid":"1900000109""#;
const PARTNER_IDS_MIN: &str = r#""sp_appid":"wxd678efh567hg6787","sp_mchid":"1230000109","sub_mchid":"1900000109""#;

fn partner(sub_appid: bool) -> PartnerIds {
    PartnerIds {
        sp_appid: appid(),
        sub_mchid: SubMchId::new(SUB_MCHID).unwrap(),
        sub_appid: sub_appid.then(|| AppId::new(SUB_APPID).unwrap()),
    }
}

/// The body's text, after checking it is JSON without any `null`.
fn body_of<O: Operation>(op: &O) -> String {
    let body = String::from_utf8(op.body(&mchid()).unwrap()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(!body.contains("null"), "{body}");
    assert!(value.is_object());
    body
}

fn assert_endpoint<O: Operation>(op: &O, target: &str) {
    assert_eq!(op.method(), http::Method::POST);
    assert_eq!(op.target(&mchid()).to_string(), target);
    assert!(op.idempotent());
}

#[test]
fn direct_bodies_are_byte_exact() {
    let jsapi = |order| JsapiPrepay { appid: appid(), openid: OpenId::new(OPENID).unwrap(), order };
    let payer = format!(r#""payer":{{"openid":"{OPENID}"}}"#);
    assert_endpoint(&jsapi(minimal()), "/v3/pay/transactions/jsapi");
    assert_eq!(body_of(&jsapi(minimal())), format!("{{{DIRECT_IDS},{MIN_HEAD},{payer}}}"));
    assert_eq!(body_of(&jsapi(full(false))), format!("{{{DIRECT_IDS},{FULL_HEAD},{payer},{DETAIL},{SCENE},{SETTLE}}}"));

    let app = |order| AppPrepay { appid: appid(), order };
    assert_endpoint(&app(minimal()), "/v3/pay/transactions/app");
    assert_eq!(body_of(&app(minimal())), format!("{{{DIRECT_IDS},{MIN_HEAD}}}"));
    assert_eq!(body_of(&app(full(false))), format!("{{{DIRECT_IDS},{FULL_HEAD},{DETAIL},{SCENE},{SETTLE}}}"));

    let native = |order| NativePrepay { appid: appid(), order };
    assert_endpoint(&native(minimal()), "/v3/pay/transactions/native");
    assert_eq!(body_of(&native(minimal())), format!("{{{DIRECT_IDS},{MIN_HEAD}}}"));
    assert_eq!(body_of(&native(full(false))), format!("{{{DIRECT_IDS},{FULL_HEAD},{DETAIL},{SCENE},{SETTLE}}}"));

    // H5's minimal request still carries scene_info with payer_client_ip and h5_info.type.
    let h5_min = minimal()
        .scene_info(OrderSceneInfo { h5_info: Some(H5Info::new(H5Type::Wap)), ..OrderSceneInfo::new("2001:db8::1") });
    let h5 = H5Prepay::new(appid(), h5_min.unwrap()).unwrap();
    assert_endpoint(&h5, "/v3/pay/transactions/h5");
    assert_eq!(
        body_of(&h5),
        format!(
            r#"{{{DIRECT_IDS},{MIN_HEAD},"scene_info":{{"payer_client_ip":"2001:db8::1","h5_info":{{"type":"Wap"}}}}}}"#
        )
    );
    let h5 = H5Prepay::new(appid(), full(true)).unwrap();
    assert_eq!(body_of(&h5), format!("{{{DIRECT_IDS},{FULL_HEAD},{DETAIL},{SCENE_H5},{SETTLE}}}"));
}

#[test]
fn partner_bodies_are_byte_exact() {
    // JSAPI: sp_openid under sp_appid (no sub_appid needed), or sub_openid under sub_appid.
    let sp =
        PartnerJsapiPrepay::new(partner(false), PartnerOpenId::Sp(OpenId::new(OPENID).unwrap()), minimal()).unwrap();
    assert_endpoint(&sp, "/v3/pay/partner/transactions/jsapi");
    assert_eq!(body_of(&sp), format!(r#"{{{PARTNER_IDS_MIN},{MIN_HEAD},"payer":{{"sp_openid":"{OPENID}"}}}}"#));
    let sub =
        PartnerJsapiPrepay::new(partner(true), PartnerOpenId::Sub(OpenId::new(OPENID).unwrap()), full(false)).unwrap();
    assert_eq!(
        body_of(&sub),
        format!(r#"{{{PARTNER_IDS_FULL},{FULL_HEAD},"payer":{{"sub_openid":"{OPENID}"}},{DETAIL},{SCENE},{SETTLE}}}"#)
    );

    let app = |sub, order| PartnerAppPrepay { partner: partner(sub), order };
    assert_endpoint(&app(false, minimal()), "/v3/pay/partner/transactions/app");
    assert_eq!(body_of(&app(false, minimal())), format!("{{{PARTNER_IDS_MIN},{MIN_HEAD}}}"));
    assert_eq!(
        body_of(&app(true, full(false))),
        format!("{{{PARTNER_IDS_FULL},{FULL_HEAD},{DETAIL},{SCENE},{SETTLE}}}")
    );

    let native = |sub, order| PartnerNativePrepay { partner: partner(sub), order };
    assert_endpoint(&native(false, minimal()), "/v3/pay/partner/transactions/native");
    assert_eq!(body_of(&native(false, minimal())), format!("{{{PARTNER_IDS_MIN},{MIN_HEAD}}}"));
    assert_eq!(
        body_of(&native(true, full(false))),
        format!("{{{PARTNER_IDS_FULL},{FULL_HEAD},{DETAIL},{SCENE},{SETTLE}}}")
    );

    let h5_min = minimal()
        .scene_info(OrderSceneInfo {
            h5_info: Some(H5Info::new(H5Type::Android)),
            ..OrderSceneInfo::new("14.23.150.211")
        })
        .unwrap();
    let h5 = PartnerH5Prepay::new(partner(false), h5_min).unwrap();
    assert_endpoint(&h5, "/v3/pay/partner/transactions/h5");
    assert_eq!(
        body_of(&h5),
        format!(
            r#"{{{PARTNER_IDS_MIN},{MIN_HEAD},"scene_info":{{"payer_client_ip":"14.23.150.211","h5_info":{{"type":"Android"}}}}}}"#
        )
    );
    let h5 = PartnerH5Prepay::new(partner(true), full(true)).unwrap();
    assert_eq!(body_of(&h5), format!("{{{PARTNER_IDS_FULL},{FULL_HEAD},{DETAIL},{SCENE_H5},{SETTLE}}}"));
}

fn refused(result: Result<impl std::fmt::Debug, InvalidInput>, field: &str) {
    let err = result.unwrap_err();
    assert_eq!(err.field(), field, "{err}");
    assert!(err.to_string().contains(&format!("invalid {field}: ")) && err.to_string().contains("rule: "), "{err}");
}

#[test]
fn every_rule_is_refused_naming_the_field() {
    let url = "https://example.com/notify";
    let new = |no: &str, desc: &str, total: i64, url: &str| Order::new(no, desc, Fen(total), url);
    // out_trade_no: 6-32 of [0-9A-Za-z_-|*].
    assert!(new("123456", "d", 1, url).is_ok());
    assert!(new("A_b-c|d*", "d", 1, url).is_ok());
    assert!(new(&"9".repeat(32), "d", 1, url).is_ok());
    for no in ["12345", "", &"9".repeat(33), "12345/", "123456?a", "12345 6", "订单123456"] {
        refused(new(no, "d", 1, url), "out_trade_no");
    }
    // description: 1-127 characters (not bytes).
    assert!(new("123456", &"字".repeat(127), 1, url).is_ok());
    refused(new("123456", "", 1, url), "description");
    refused(new("123456", &"字".repeat(128), 1, url), "description");
    // total > 0 fen.
    refused(new("123456", "d", 0, url), "amount.total");
    refused(new("123456", "d", -1, url), "amount.total");
    // notify_url.
    for ok in [
        "https://example.com/notify",
        "HTTPS://example.com:8443/a/b",
        "http://127.0.0.1:8080/notify",
        "http://localhost/n",
        "http://[::1]:9/n",
    ] {
        assert!(new("123456", "d", 1, ok).is_ok(), "{ok}");
    }
    let long = format!("https://example.com/{}", "a".repeat(236));
    assert_eq!(long.len(), 256);
    for bad in [
        "",
        "example.com/notify",
        "/notify",
        "ftp://example.com/n",
        "http://example.com/notify",
        "http://10.0.0.1/notify",
        "https://example.com/notify?a=1",
        "https://example.com/notify#x",
        "https:///notify",
        "https://user@example.com/n",
        "https://exa mple.com/n",
        long.as_str(),
    ] {
        refused(new("123456", "d", 1, bad), "notify_url");
    }
    assert!(new("123456", "d", 1, &long[..255]).is_ok());
    // time_expire: RFC 3339 with an offset.
    assert!(minimal().time_expire("2018-06-08T10:34:56+08:00").is_ok());
    for bad in ["20220421191948", "2018-06-08T10:34:56", "2018-06-08 10:34:56+08:00", "2018-13-08T10:34:56+08:00"] {
        refused(minimal().time_expire(bad), "time_expire");
    }
    // The optional fields' lengths.
    refused(minimal().attach(&"a".repeat(129)), "attach");
    refused(minimal().goods_tag(&"a".repeat(33)), "goods_tag");
    refused(minimal().currency("cny"), "amount.currency");
    let goods = OrderGoods {
        merchant_goods_id: "1".into(),
        wechatpay_goods_id: None,
        goods_name: None,
        quantity: 0,
        unit_price: 1,
    };
    refused(
        minimal().detail(OrderDetail { goods_detail: vec![goods.clone()], ..Default::default() }),
        "detail.goods_detail.quantity",
    );
    refused(
        minimal().detail(OrderDetail {
            goods_detail: vec![OrderGoods { merchant_goods_id: String::new(), quantity: 1, ..goods }],
            ..Default::default()
        }),
        "detail.goods_detail.merchant_goods_id",
    );
    // scene_info: a real IP address.
    for bad in ["", "localhost", "1.2.3.4.5", "14.23.150.211\n"] {
        refused(minimal().scene_info(OrderSceneInfo::new(bad)), "scene_info.payer_client_ip");
    }
    refused(
        minimal().scene_info(OrderSceneInfo { device_id: Some("d".repeat(33)), ..OrderSceneInfo::new("1.2.3.4") }),
        "scene_info.device_id",
    );
    refused("ios".parse::<H5Type>(), "scene_info.h5_info.type");
    assert_eq!("iOS".parse::<H5Type>().unwrap(), H5Type::Ios);
    // H5 needs scene_info.payer_client_ip and h5_info.type.
    refused(H5Prepay::new(appid(), minimal()), "scene_info.payer_client_ip");
    let no_h5 = minimal().scene_info(OrderSceneInfo::new("1.2.3.4")).unwrap();
    refused(H5Prepay::new(appid(), no_h5.clone()), "scene_info.h5_info.type");
    refused(PartnerH5Prepay::new(partner(false), no_h5), "scene_info.h5_info.type");
    // JSAPI needs the payer: the openid is a required, validated field; a sub_openid needs its sub_appid.
    refused(OpenId::new(""), "openid");
    refused(OpenId::named("payer.sub_openid", "a/b"), "payer.sub_openid");
    refused(AppId::named("sp_appid", "wx\n1"), "sp_appid");
    refused(
        PartnerJsapiPrepay::new(partner(false), PartnerOpenId::Sub(OpenId::new(OPENID).unwrap()), minimal()),
        "sub_appid",
    );
}

fn driver() -> Driver {
    let config = builder_with(Default::default()).base_url("http://primary.test").build().unwrap();
    Driver::new(config).with_retry_policy(RetryPolicy::default().with_base_delay(Duration::from_millis(1)))
}

fn signed(body: &[u8]) -> http::Response<Vec<u8>> {
    response(StatusCode::OK, &signed_headers(body, unix_now(), By::PublicKey), body)
}

fn auth_mchid(request: &http::Request<Vec<u8>>) -> String {
    let auth = request.headers()["authorization"].to_str().unwrap();
    let start = auth.find("mchid=\"").unwrap() + 7;
    auth[start..].split('"').next().unwrap().to_owned()
}

#[test]
fn a_prepay_goes_through_the_driver_and_is_repeated_with_the_same_bytes() {
    let op = JsapiPrepay { appid: appid(), openid: OpenId::new(OPENID).unwrap(), order: full(false) };
    let seen = RefCell::new(Vec::new());
    let answer = br#"{"prepay_id":"wx201410272009395522657a690389285100","new_field":[1]}"#;
    let send = |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        seen.borrow_mut().push(request);
        Ok(if seen.borrow().len() == 1 {
            response(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), br#"{"code":"SYSTEM_ERROR","message":"x"}"#)
        } else {
            signed(answer)
        })
    };
    let out = driver().execute(&send, |_| {}, &op).unwrap();
    assert_eq!(out.prepay_id, "wx201410272009395522657a690389285100");
    assert_eq!(serde_json::to_string(&out).unwrap(), std::str::from_utf8(answer).unwrap());
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 2, "a prepay is idempotent: repeated after a 500");
    for request in &seen {
        assert_eq!(request.uri().to_string(), "http://primary.test/v3/pay/transactions/jsapi");
        assert_eq!(request.headers()["content-type"], "application/json");
        assert_eq!(auth_mchid(request), MCHID);
        assert_eq!(request.body(), &op.body(&mchid()).unwrap());
    }
    assert_ne!(seen[0].headers()["authorization"], seen[1].headers()["authorization"], "a fresh signature per attempt");
}

#[test]
fn partner_prepays_are_signed_as_the_service_provider_and_answers_typed() {
    let seen = RefCell::new(Vec::new());
    let answer = RefCell::new(&b""[..]);
    let send = |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        seen.borrow_mut().push(request);
        Ok(signed(*answer.borrow()))
    };
    *answer.borrow_mut() = br#"{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}"#;
    let native = PartnerNativePrepay { partner: partner(true), order: minimal() };
    assert_eq!(driver().execute(&send, |_| {}, &native).unwrap().code_url, "weixin://wxpay/bizpayurl?pr=JyC91EIz1");
    *answer.borrow_mut() =
        br#"{"h5_url":"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=2"}"#;
    let h5 = PartnerH5Prepay::new(partner(false), full(true)).unwrap();
    assert!(driver().execute(&send, |_| {}, &h5).unwrap().h5_url.starts_with("https://wx.tenpay.com/"));
    *answer.borrow_mut() = br#"{"prepay_id":"wx2"}"#;
    let app = PartnerAppPrepay { partner: partner(true), order: minimal() };
    assert_eq!(driver().execute(&send, |_| {}, &app).unwrap().prepay_id, "wx2");
    let seen = seen.take();
    let targets: Vec<_> = seen.iter().map(|r| r.uri().path().to_owned()).collect();
    assert_eq!(
        targets,
        ["/v3/pay/partner/transactions/native", "/v3/pay/partner/transactions/h5", "/v3/pay/partner/transactions/app"]
    );
    for request in &seen {
        // The Authorization mchid is the sp_mchid, the one in the body.
        assert_eq!(auth_mchid(request), MCHID);
        let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(body["sp_mchid"], MCHID);
        assert_eq!(body["sub_mchid"], SUB_MCHID);
    }
    // An answer without its artefact is a decode error, not an empty id.
    *answer.borrow_mut() = br#"{"prepay_id2":"wx2"}"#;
    let err = driver().execute(&send, |_| {}, &app).unwrap_err();
    assert!(matches!(err, wechatpay_core::Error::Decode(_)), "{err:?}");
}

#[test]
fn a_payer_identity_rides_in_payer_encrypted_and_names_its_key() {
    use wechatpay_core::api::{PayerIdentity, SensitiveField};
    let keys = key_store(wechatpay_core::crypto::Backend::default());
    let key = keys.get(PLATFORM_SERIAL).unwrap();
    let number = SensitiveField::encrypt(PLATFORM_SERIAL, key, b"110101199003071234").unwrap();
    let name = SensitiveField::encrypt(PLATFORM_SERIAL, key, "张三".as_bytes()).unwrap();
    let (number_b64, name_b64) = (number.ciphertext().to_owned(), name.ciphertext().to_owned());
    let identity = PayerIdentity::new("IDCARD", number, name).unwrap();
    let identity_json = format!(r#""identity":{{"type":"IDCARD","number":"{number_b64}","name":"{name_b64}"}}"#);

    // JSAPI: beside the openid; Native: `payer` carries the identity alone.
    let jsapi = JsapiPrepay {
        appid: appid(),
        openid: OpenId::new(OPENID).unwrap(),
        order: minimal().payer_identity(identity.clone()),
    };
    assert!(
        body_of(&jsapi).contains(&format!(r#""payer":{{"openid":"{OPENID}",{identity_json}}}"#)),
        "{}",
        body_of(&jsapi)
    );
    let native = NativePrepay { appid: appid(), order: minimal().payer_identity(identity) };
    assert!(body_of(&native).contains(&format!(r#""payer":{{{identity_json}}}"#)), "{}", body_of(&native));
    assert!(!body_of(&NativePrepay { appid: appid(), order: minimal() }).contains("payer"));
    let shown = format!("{jsapi:?}");
    assert!(!shown.contains(&number_b64) && !shown.contains(&name_b64) && !shown.contains("1101"), "{shown}");

    // The request names the key the fields were encrypted under, whatever the configuration's.
    assert_eq!(jsapi.wechatpay_serial(), Some(PLATFORM_SERIAL));
    assert_eq!(
        JsapiPrepay { appid: appid(), openid: OpenId::new(OPENID).unwrap(), order: minimal() }.wechatpay_serial(),
        None
    );
    let seen = RefCell::new(None);
    let send = |request: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        *seen.borrow_mut() = Some(request.headers()["wechatpay-serial"].to_str().unwrap().to_owned());
        Ok(signed(br#"{"prepay_id":"wx201410272009395522657a690389285100"}"#))
    };
    driver().execute(&send, |_| {}, &jsapi).unwrap();
    assert_eq!(seen.into_inner().unwrap(), PLATFORM_SERIAL);

    // Both fields under one key, and a document type.
    let other = SensitiveField::encrypt(PUB_KEY_ID, keys.get(PUB_KEY_ID).unwrap(), b"x").unwrap();
    let same = SensitiveField::encrypt(PLATFORM_SERIAL, key, b"x").unwrap();
    refused(PayerIdentity::new("IDCARD", same.clone(), other), "payer.identity.name");
    refused(PayerIdentity::new("id card", same.clone(), same), "payer.identity.type");
}
