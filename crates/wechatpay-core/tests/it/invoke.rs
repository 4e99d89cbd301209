//! Invoke parameters (PROTOCOL.md §13) against OpenSSL's known answers in
//! `tests/data/invoke/` (made by `gen-invoke.sh`), for every backend and for a custom
//! `Signer` (an HSM stand-in); the negative case; the exact JSON field names.
#![allow(clippy::unwrap_used)]

use crate::common;

use base64::Engine as _;
use common::*;
use wechatpay_core::crypto::{SignError, Signer};
use wechatpay_core::invoke::{AppInvoke, JsapiInvoke};
use wechatpay_core::{AppId, Error, MchId, Nonce, PrivateKey, PublicKey};

const DOC_NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";

fn sig(name: &str) -> String {
    text(&format!("invoke/{name}.sig"))
}

fn msg(name: &str) -> String {
    text(&format!("invoke/{name}.msg"))
}

fn merchant_key(backend: wechatpay_core::crypto::Backend) -> PrivateKey {
    PrivateKey::from_pem_with(&data("merchant_key.pem"), backend).unwrap()
}

/// A signer that is not a `PrivateKey` (as an HSM client would be): it counts its calls.
#[derive(Debug)]
struct Hsm {
    key: PrivateKey,
    calls: std::sync::atomic::AtomicUsize,
}

impl Signer for Hsm {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.key.sign(message)
    }
}

#[test]
fn jsapi_invoke_matches_openssl() {
    for backend in backends() {
        let key = merchant_key(backend);
        let appid = AppId::new("wx8888888888888888").unwrap();
        let nonce = Nonce::new(DOC_NONCE).unwrap();
        let invoke =
            JsapiInvoke::new(&key, &appid, "wx201410272009395522657a690389285100", 1414561699, &nonce).unwrap();
        assert_eq!(invoke.message(), msg("jsapi"));
        assert_eq!(invoke.message().len(), 110);
        assert_eq!(invoke.pay_sign, sig("jsapi"), "{backend:?}");
        let json = serde_json::to_string(&invoke).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"appId":"wx8888888888888888","timeStamp":"1414561699","nonceStr":"{DOC_NONCE}","package":"prepay_id=wx201410272009395522657a690389285100","signType":"RSA","paySign":"{}"}}"#,
                sig("jsapi")
            )
        );
        // It reads back (the simulator's request-payment parses it).
        assert_eq!(serde_json::from_str::<JsapiInvoke>(&json).unwrap(), invoke);
        // The signature is not shown by Debug.
        assert!(!format!("{invoke:?}").contains(&sig("jsapi")[..20]));
    }
}

#[test]
fn a_partner_names_the_appid_that_invokes() {
    let key = merchant_key(Default::default());
    let sub_appid = AppId::new("wxd678efh567hg6999").unwrap();
    let nonce = Nonce::new(NONCE).unwrap();
    let invoke = JsapiInvoke::new(&key, &sub_appid, "wx26112221580621e9b071c00d9e093b0000", TS, &nonce).unwrap();
    assert_eq!(invoke.message(), msg("partner_jsapi"));
    assert_eq!(invoke.pay_sign, sig("partner_jsapi"));
    // The same order invoked by another appid is another signature.
    let sp = JsapiInvoke::new(
        &key,
        &AppId::new("wx8888888888888888").unwrap(),
        "wx26112221580621e9b071c00d9e093b0000",
        TS,
        &nonce,
    )
    .unwrap();
    assert_ne!(sp.pay_sign, invoke.pay_sign);
}

#[test]
fn app_invoke_matches_openssl() {
    for backend in backends() {
        let key = merchant_key(backend);
        let appid = AppId::new("wx8888888888888888").unwrap();
        let nonce = Nonce::new(DOC_NONCE).unwrap();
        let mchid = MchId::new("1900000109").unwrap();
        let invoke =
            AppInvoke::new(&key, &appid, &mchid, "WX1217752501201407033233368018", 1414561699, &nonce).unwrap();
        assert_eq!(invoke.message(), msg("app"));
        assert_eq!(invoke.message().len(), 94);
        assert_eq!(invoke.sign, sig("app"), "{backend:?}");
        let json = serde_json::to_string(&invoke).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"appid":"wx8888888888888888","partnerid":"1900000109","prepayid":"WX1217752501201407033233368018","package":"Sign=WXPay","noncestr":"{DOC_NONCE}","timestamp":"1414561699","sign":"{}"}}"#,
                sig("app")
            )
        );
        assert_eq!(serde_json::from_str::<AppInvoke>(&json).unwrap(), invoke);
        assert!(!format!("{invoke:?}").contains(&sig("app")[..20]));
    }
}

#[test]
fn any_signer_signs_invoke_parameters() {
    let hsm = Hsm { key: merchant_key(Default::default()), calls: Default::default() };
    let appid = AppId::new("wx8888888888888888").unwrap();
    let nonce = Nonce::new(DOC_NONCE).unwrap();
    let signer: &dyn Signer = &hsm;
    let invoke = JsapiInvoke::new(signer, &appid, "wx201410272009395522657a690389285100", 1414561699, &nonce).unwrap();
    assert_eq!(invoke.pay_sign, sig("jsapi"));
    assert_eq!(hsm.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Fresh parameters now: a string of seconds, a 32-character nonce, a signature that verifies.
    let now = AppInvoke::sign_now(&hsm, &appid, &MchId::new("1900000109").unwrap(), "wx2014").unwrap();
    assert!(now.timestamp.parse::<u64>().unwrap() > 1_700_000_000);
    assert_eq!(now.noncestr.len(), 32);
    let public = PublicKey::from_pem(&data("merchant_pub.pem")).unwrap();
    let raw = base64::engine::general_purpose::STANDARD.decode(&now.sign).unwrap();
    public.verify(now.message().as_bytes(), &raw).unwrap();
}

#[test]
fn the_message_without_its_final_newline_does_not_verify() {
    let public = PublicKey::from_pem(&data("merchant_pub.pem")).unwrap();
    let raw = base64::engine::general_purpose::STANDARD.decode(sig("jsapi")).unwrap();
    public.verify(msg("jsapi").as_bytes(), &raw).unwrap();
    let truncated = text("invoke/jsapi_no_final_newline.msg");
    assert_eq!(format!("{truncated}\n"), msg("jsapi"));
    assert!(public.verify(truncated.as_bytes(), &raw).is_err());
    // Nor without the appId line.
    let no_appid = msg("jsapi").split_once('\n').unwrap().1.to_owned();
    assert!(public.verify(no_appid.as_bytes(), &raw).is_err());
}

#[test]
fn a_prepay_id_that_would_break_the_message_is_refused_before_signing() {
    let hsm = Hsm { key: merchant_key(Default::default()), calls: Default::default() };
    let appid = AppId::new("wx8888888888888888").unwrap();
    let nonce = Nonce::new(DOC_NONCE).unwrap();
    for bad in ["", "wx1\nwx2", "prepay_id=wx1", &"a".repeat(65)] {
        let err = JsapiInvoke::new(&hsm, &appid, bad, 1, &nonce).unwrap_err();
        assert!(matches!(&err, Error::InvalidInput(e) if e.field() == "prepay_id"), "{bad:?}: {err:?}");
        let err = AppInvoke::new(&hsm, &appid, &MchId::new("1").unwrap(), bad, 1, &nonce).unwrap_err();
        assert!(matches!(&err, Error::InvalidInput(e) if e.field() == "prepay_id"), "{bad:?}: {err:?}");
    }
    assert_eq!(hsm.calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(AppId::new("wx88\n").unwrap_err().field(), "appid");
}
