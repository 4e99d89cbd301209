//! `order create`, `partner-order create` and `order invoke`: create an order in any scene
//! (PROTOCOL.md §12) and sign the parameters that open the payment sheet (§13).
//!
//! Every value goes through the core's validation (`api::Order` and the prepay operations)
//! before the settings are even read, so invalid input exits 2 naming the field and the rule,
//! before anything is signed or sent. stdout is one JSON document:
//! `{"out_trade_no", "prepay_id", "invoke": {…}}` for jsapi and app (the invoke object exactly
//! as a front end passes it on), `{"out_trade_no", "code_url"}` for native,
//! `{"out_trade_no", "h5_url"}` for h5; `order invoke` prints the invoke object alone.

use std::io::IsTerminal as _;

use clap::{Args, ValueEnum};
use serde::Serialize;
use wechatpay_core::api::{
    AppPrepay, H5Info, H5Prepay, H5Type, JsapiPrepay, NativePrepay, Order, OrderSceneInfo, PartnerAppPrepay,
    PartnerH5Prepay, PartnerIds, PartnerJsapiPrepay, PartnerNativePrepay, PartnerOpenId,
};
use wechatpay_core::invoke::{AppInvoke, JsapiInvoke};
use wechatpay_core::model::Fen;
use wechatpay_core::{AppId, InvalidInput, MchId, OpenId, SubMchId, crypto::Signer};

use super::print_json;
use crate::args::Settings;
use crate::failure::Failure;
use crate::settings;

/// Where the payment sheet opens (`--scene`).
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Scene {
    /// A 公众号 page or a mini-program inside WeChat (needs the payer's openid).
    Jsapi,
    /// A mobile app (OpenSDK).
    App,
    /// A mobile browser outside WeChat (needs --payer-client-ip and --h5-type).
    H5,
    /// A QR code the user scans (prints the code_url).
    Native,
}

/// The scenes whose prepay id opens a payment sheet (`order invoke --scene`).
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum InvokeScene {
    /// `{appId, timeStamp, nonceStr, package, signType, paySign}` (JSAPI, JS-SDK, mini-program).
    Jsapi,
    /// `{appid, partnerid, prepayid, package, noncestr, timestamp, sign}` (APP).
    App,
}

/// The order's fields, shared by `order create` and `partner-order create`.
#[derive(Debug, Args)]
pub(crate) struct OrderFields {
    /// Where the payment sheet opens.
    #[arg(long, value_enum)]
    pub(crate) scene: Scene,
    /// The merchant order number: 6-32 of `[0-9A-Za-z_-|*]`.
    #[arg(long, value_name = "NO")]
    pub(crate) out_trade_no: String,
    /// Shown on the user's bill: 1-127 characters.
    #[arg(long, value_name = "TEXT")]
    pub(crate) description: String,
    /// The amount in fen (1 yuan = 100 fen), greater than 0.
    #[arg(long, value_name = "FEN", allow_hyphen_values = true)]
    pub(crate) total: String,
    /// Where the payment notification goes: https:// (http:// only to a loopback host, for
    /// the sandbox), no query, at most 255 characters.
    #[arg(long, value_name = "URL")]
    pub(crate) notify_url: String,
    /// The user's IP address (scene_info.payer_client_ip; required for h5).
    #[arg(long, value_name = "IP")]
    pub(crate) payer_client_ip: Option<String>,
    /// The kind of H5 page (scene_info.h5_info.type; required for h5).
    #[arg(long, value_name = "iOS|Android|Wap")]
    pub(crate) h5_type: Option<String>,
    /// When the order expires: RFC 3339 with an offset, e.g. 2026-06-08T10:34:56+08:00.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) time_expire: Option<String>,
    /// Merchant data echoed by queries and notifications: 1-128 characters.
    #[arg(long, value_name = "TEXT")]
    pub(crate) attach: Option<String>,
    /// The coupon / discount tag: 1-32 characters.
    #[arg(long, value_name = "TAG")]
    pub(crate) goods_tag: Option<String>,
    /// Freeze the funds for profit sharing (settle_info.profit_sharing).
    #[arg(long)]
    pub(crate) profit_sharing: bool,
    /// Also draw the code_url (native) as a QR code on stderr, when stderr is a terminal.
    #[arg(long)]
    pub(crate) qr: bool,
}

/// `wechatpay order create`
#[derive(Debug, Args)]
pub(crate) struct OrderCreateArgs {
    /// The order.
    #[command(flatten)]
    pub(crate) order: OrderFields,
    /// The payer's openid under the app id (payer.openid; required for jsapi).
    #[arg(long, value_name = "ID")]
    pub(crate) openid: Option<String>,
}

/// `wechatpay partner-order create`
#[derive(Debug, Args)]
pub(crate) struct PartnerOrderCreateArgs {
    /// The order.
    #[command(flatten)]
    pub(crate) order: OrderFields,
    /// The sub-merchant's id.
    #[arg(long, value_name = "ID")]
    pub(crate) sub_mchid: String,
    /// The sub-merchant's app id (sub_appid; required with --sub-openid).
    #[arg(long, value_name = "ID")]
    pub(crate) sub_appid: Option<String>,
    /// The payer's openid under the sp_appid (payer.sp_openid; jsapi).
    #[arg(long, value_name = "ID", conflicts_with = "sub_openid")]
    pub(crate) sp_openid: Option<String>,
    /// The payer's openid under the sub_appid (payer.sub_openid; jsapi).
    #[arg(long, value_name = "ID")]
    pub(crate) sub_openid: Option<String>,
    /// The app id that opens the payment sheet (default: --sub-appid with --sub-openid, else
    /// the sp_appid).
    #[arg(long, value_name = "ID")]
    pub(crate) invoke_appid: Option<String>,
}

/// `wechatpay order invoke`
#[derive(Debug, Args)]
pub(crate) struct OrderInvokeArgs {
    /// Which object to sign.
    #[arg(long, value_enum)]
    pub(crate) scene: InvokeScene,
    /// The prepay id from `order create`.
    #[arg(long, value_name = "ID")]
    pub(crate) prepay_id: String,
    /// The app id that opens the payment sheet (default: WECHATPAY_APPID / --appid).
    #[arg(long, value_name = "ID")]
    pub(crate) invoke_appid: Option<String>,
}

/// The invoke object, serialised exactly as a front end passes it on.
#[derive(Serialize)]
#[serde(untagged)]
enum Invoke {
    Jsapi(JsapiInvoke),
    App(AppInvoke),
}

/// What `order create` prints.
#[derive(Serialize)]
struct Created<'a> {
    out_trade_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    prepay_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoke: Option<Invoke>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    h5_url: Option<&'a str>,
}

/// The order of `fields`, validated by the core (each error names the field and the rule).
fn order(fields: &OrderFields) -> Result<Order, InvalidInput> {
    const TOTAL_RULE: &str = "an amount in fen greater than 0";
    let total = fields.total.trim().parse::<i64>().map_err(|_| {
        InvalidInput::new("amount.total", format!("is {:?}, not a whole number", fields.total), TOTAL_RULE)
    })?;
    let mut order = Order::new(&fields.out_trade_no, &fields.description, Fen(total), &fields.notify_url)?;
    if let Some(t) = &fields.time_expire {
        order = order.time_expire(t)?;
    }
    if let Some(a) = &fields.attach {
        order = order.attach(a)?;
    }
    if let Some(g) = &fields.goods_tag {
        order = order.goods_tag(g)?;
    }
    if fields.profit_sharing {
        order = order.profit_sharing(true);
    }
    let h5_type = fields.h5_type.as_deref().map(str::parse::<H5Type>).transpose()?;
    if h5_type.is_some() && fields.scene != Scene::H5 {
        return Err(InvalidInput::new("scene_info.h5_info.type", "is given", "only for --scene h5"));
    }
    match (&fields.payer_client_ip, h5_type) {
        (Some(ip), kind) => {
            let mut info = OrderSceneInfo::new(ip.as_str());
            info.h5_info = kind.map(H5Info::new);
            order = order.scene_info(info)?;
        }
        (None, Some(_)) => {
            return Err(InvalidInput::new(
                "scene_info.payer_client_ip",
                "is missing",
                "H5 needs scene_info with payer_client_ip and h5_info.type",
            ));
        }
        (None, None) => {}
    }
    if fields.qr && fields.scene != Scene::Native {
        return Err(InvalidInput::new("--qr", "is given", "draws a Native order's code_url: only with --scene native"));
    }
    Ok(order)
}

/// A direct merchant's prepay, every field checked; the app id comes from the settings.
enum Direct {
    Jsapi(OpenId),
    App,
    H5,
    Native,
}

/// `wechatpay order create`
pub(crate) fn create(s: &Settings, args: &OrderCreateArgs) -> Result<(), Failure> {
    let fields = &args.order;
    let order = order(fields)?;
    let openid = args.openid.as_deref().map(|id| OpenId::named("payer.openid", id)).transpose()?;
    let kind = match (fields.scene, openid) {
        (Scene::Jsapi, Some(openid)) => Direct::Jsapi(openid),
        (Scene::Jsapi, None) => {
            return Err(
                InvalidInput::new("payer.openid", "is missing", "JSAPI needs the payer's openid (--openid)").into()
            );
        }
        (_, Some(_)) => {
            return Err(
                InvalidInput::new("payer.openid", "is given", "only JSAPI sends a payer (--scene jsapi)").into()
            );
        }
        (Scene::App, None) => Direct::App,
        (Scene::H5, None) => {
            // The H5 operation checks scene_info and h5_info now; it is built again below.
            H5Prepay::new(AppId::new("wx")?, order.clone())?;
            Direct::H5
        }
        (Scene::Native, None) => Direct::Native,
    };
    // Valid input: now the settings.
    let appid = settings::appid(s)?;
    let config = settings::config(s, true)?;
    let mchid = config.mchid().clone();
    let client = wechatpay_ureq::Client::new(settings::driver(s, config.clone())?);
    let out_trade_no = order.out_trade_no().as_str().to_owned();
    match kind {
        Direct::Jsapi(openid) => {
            let prepay = client.execute(&JsapiPrepay { appid: appid.clone(), openid, order })?;
            let invoke = Invoke::Jsapi(JsapiInvoke::sign_now(config.signer(), &appid, &prepay.prepay_id)?);
            print_prepay(&out_trade_no, &prepay.prepay_id, invoke)
        }
        Direct::App => {
            let prepay = client.execute(&AppPrepay { appid: appid.clone(), order })?;
            let invoke = Invoke::App(AppInvoke::sign_now(config.signer(), &appid, &mchid, &prepay.prepay_id)?);
            print_prepay(&out_trade_no, &prepay.prepay_id, invoke)
        }
        Direct::H5 => {
            let answer = client.execute(&H5Prepay::new(appid, order)?)?;
            print_h5(&out_trade_no, &answer.h5_url)
        }
        Direct::Native => {
            let answer = client.execute(&NativePrepay { appid, order })?;
            print_native(&out_trade_no, &answer.code_url, fields.qr)
        }
    }
}

/// `wechatpay partner-order create`
pub(crate) fn create_partner(s: &Settings, args: &PartnerOrderCreateArgs) -> Result<(), Failure> {
    let fields = &args.order;
    let order = order(fields)?;
    let sub_mchid = SubMchId::new(args.sub_mchid.as_str())?;
    let sub_appid = args.sub_appid.as_deref().map(|id| AppId::named("sub_appid", id)).transpose()?;
    let payer = match (&args.sp_openid, &args.sub_openid) {
        (Some(id), _) => Some(PartnerOpenId::Sp(OpenId::named("payer.sp_openid", id.as_str())?)),
        (None, Some(id)) => Some(PartnerOpenId::Sub(OpenId::named("payer.sub_openid", id.as_str())?)),
        (None, None) => None,
    };
    let invoke_appid = args.invoke_appid.as_deref().map(|id| AppId::named("invoke appid", id)).transpose()?;
    const PAYER_RULE: &str = "JSAPI needs the payer's openid (--sp-openid or --sub-openid)";
    let field = if args.sub_openid.is_some() { "payer.sub_openid" } else { "payer.sp_openid" };
    match (fields.scene, &payer) {
        (Scene::Jsapi, None) => return Err(InvalidInput::new("payer.sp_openid", "is missing", PAYER_RULE).into()),
        (Scene::Jsapi, Some(_)) => {}
        (_, Some(_)) => {
            return Err(InvalidInput::new(field, "is given", "only JSAPI sends a payer (--scene jsapi)").into());
        }
        (_, None) => {}
    }
    if invoke_appid.is_some() && !matches!(fields.scene, Scene::Jsapi | Scene::App) {
        return Err(
            InvalidInput::new("invoke appid", "is given", "only jsapi and app have a payment sheet to open").into()
        );
    }
    // Build with a stand-in sp_appid to run every check of the operations now.
    let stand_in =
        PartnerIds { sp_appid: AppId::new("wx")?, sub_mchid: sub_mchid.clone(), sub_appid: sub_appid.clone() };
    match (fields.scene, &payer) {
        (Scene::Jsapi, Some(payer)) => drop(PartnerJsapiPrepay::new(stand_in, payer.clone(), order.clone())?),
        (Scene::H5, _) => drop(PartnerH5Prepay::new(stand_in, order.clone())?),
        _ => {}
    }
    // Valid input: now the settings.
    let sp_appid = settings::appid(s)?;
    let config = settings::config(s, true)?;
    let sp_mchid: MchId = config.mchid().clone();
    let client = wechatpay_ureq::Client::new(settings::driver(s, config.clone())?);
    // The app id that opens the sheet: named, else the sub_appid the payer's openid is under,
    // else the sp_appid.
    let opener = match (&invoke_appid, &payer, &sub_appid) {
        (Some(named), _, _) => named.clone(),
        (None, Some(PartnerOpenId::Sub(_)), Some(sub_appid)) => sub_appid.clone(),
        _ => sp_appid.clone(),
    };
    let partner = PartnerIds { sp_appid, sub_mchid, sub_appid };
    let out_trade_no = order.out_trade_no().as_str().to_owned();
    match (fields.scene, payer) {
        (Scene::Jsapi, Some(payer)) => {
            let prepay = client.execute(&PartnerJsapiPrepay::new(partner, payer, order)?)?;
            let invoke = Invoke::Jsapi(JsapiInvoke::sign_now(config.signer(), &opener, &prepay.prepay_id)?);
            print_prepay(&out_trade_no, &prepay.prepay_id, invoke)
        }
        (Scene::App, _) => {
            let prepay = client.execute(&PartnerAppPrepay { partner, order })?;
            let invoke = Invoke::App(AppInvoke::sign_now(config.signer(), &opener, &sp_mchid, &prepay.prepay_id)?);
            print_prepay(&out_trade_no, &prepay.prepay_id, invoke)
        }
        (Scene::H5, _) => {
            let answer = client.execute(&PartnerH5Prepay::new(partner, order)?)?;
            print_h5(&out_trade_no, &answer.h5_url)
        }
        (Scene::Native, _) => {
            let answer = client.execute(&PartnerNativePrepay { partner, order })?;
            print_native(&out_trade_no, &answer.code_url, fields.qr)
        }
        (Scene::Jsapi, None) => Err(Failure::usage("JSAPI needs the payer's openid")),
    }
}

/// `wechatpay order invoke`: signs the invoke object for a prepay id (nothing is sent).
pub(crate) fn invoke(s: &Settings, args: &OrderInvokeArgs) -> Result<(), Failure> {
    check_prepay_id(&args.prepay_id)?;
    let appid = args.invoke_appid.as_deref().map(|id| AppId::named("invoke appid", id)).transpose()?;
    let key = settings::private_key(s)?;
    let appid = match appid {
        Some(appid) => appid,
        None => settings::appid(s)?,
    };
    let signer: &dyn Signer = &key;
    let invoke = match args.scene {
        InvokeScene::Jsapi => Invoke::Jsapi(JsapiInvoke::sign_now(signer, &appid, &args.prepay_id)?),
        InvokeScene::App => {
            let mchid = settings::mchid(s)?;
            Invoke::App(AppInvoke::sign_now(signer, &appid, &mchid, &args.prepay_id)?)
        }
    };
    print_json(&invoke)
}

/// The core's rule for a prepay id (checked again when signing), checked before the settings.
fn check_prepay_id(prepay_id: &str) -> Result<(), InvalidInput> {
    const RULE: &str = "1-64 characters of [0-9A-Za-z_-]";
    let n = prepay_id.chars().count();
    if n == 0 || n > 64 {
        return Err(InvalidInput::new("prepay_id", format!("is {n} characters long"), RULE));
    }
    if let Some(c) = prepay_id.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))) {
        return Err(InvalidInput::new("prepay_id", format!("contains {c:?}"), RULE));
    }
    Ok(())
}

fn print_prepay(out_trade_no: &str, prepay_id: &str, invoke: Invoke) -> Result<(), Failure> {
    print_json(&Created {
        out_trade_no,
        prepay_id: Some(prepay_id),
        invoke: Some(invoke),
        code_url: None,
        h5_url: None,
    })
}

fn print_h5(out_trade_no: &str, h5_url: &str) -> Result<(), Failure> {
    print_json(&Created { out_trade_no, prepay_id: None, invoke: None, code_url: None, h5_url: Some(h5_url) })
}

fn print_native(out_trade_no: &str, code_url: &str, qr: bool) -> Result<(), Failure> {
    print_json(&Created { out_trade_no, prepay_id: None, invoke: None, code_url: Some(code_url), h5_url: None })?;
    if qr && std::io::stderr().is_terminal() {
        crate::qr::draw(code_url);
    }
    Ok(())
}
