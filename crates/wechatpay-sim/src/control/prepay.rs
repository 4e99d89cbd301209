//! Paying a prepaid order the way a payer does: through the cashier page (what an `h5_url`
//! opens, and the page of every order by its prepay id) or through the WeChat client that
//! receives the invoke parameters (`POST /sim/request-payment`, PROTOCOL.md §13). Both pay
//! through the order's one transition, exactly as the admin state call does, notification
//! included.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use wechatpay_core::PublicKey;
use wechatpay_core::invoke::{APP_PACKAGE, SIGN_TYPE_RSA, message};
use wechatpay_core::model::Fen;

use super::Control;
use crate::credentials::MERCHANT_PUB_PEM;
use crate::world::order::Order;
use crate::world::prepay::Scene;
use crate::world::{OrderKind, TradeState};

/// What the cashier page shows of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CashierView {
    pub out_trade_no: String,
    /// `mchid`, or `sp_mchid / sub_mchid`.
    pub merchant: String,
    pub description: String,
    /// The amount in yuan, two decimals.
    pub yuan: String,
    pub currency: String,
    pub trade_state: String,
    pub trade_type: String,
}

impl CashierView {
    fn of(order: &Order) -> Self {
        let merchant = match order.kind {
            OrderKind::Partner => format!(
                "{} / {}",
                order.sp_mchid.as_deref().unwrap_or_default(),
                order.sub_mchid.as_deref().unwrap_or_default()
            ),
            _ => order.mchid.clone().unwrap_or_default(),
        };
        let amount = order.amount.as_ref();
        Self {
            out_trade_no: order.out_trade_no.clone(),
            merchant,
            description: order.prepay.as_ref().map(|p| p.description.clone()).unwrap_or_default(),
            yuan: Fen(amount.and_then(|a| a.total).unwrap_or_default()).to_yuan_string(),
            currency: amount.and_then(|a| a.currency.clone()).unwrap_or_else(|| "CNY".to_owned()),
            trade_state: order.trade_state.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            trade_type: order.trade_type.clone().unwrap_or_default(),
        }
    }
}

/// What pressing a cashier button did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CashierOutcome {
    /// The order was `NOTPAY` and is paid now.
    Paid,
    /// It was paid already; nothing changed.
    AlreadyPaid,
    /// Its state does not allow paying; nothing changed.
    NotPayable,
    /// Cancelled: the order stays as it was.
    Cancelled,
}

/// Why `request-payment` refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PaymentError {
    /// The signature does not verify (`400 SIGN_ERROR 支付验证签名失败`).
    Sign,
    /// Anything else (`400 INVALID_REQUEST`), naming what.
    Invalid(String),
}

fn invalid(m: impl Into<String>) -> PaymentError {
    PaymentError::Invalid(m.into())
}

/// The invoke parameters a client received, as checked before the order is looked at.
struct Invoke {
    /// JSAPI (and mini-program) or APP.
    scene: Scene,
    appid: String,
    /// APP only.
    partnerid: Option<String>,
    prepay_id: String,
    message: String,
    signature: String,
}

/// A required string of the invoke object; a number is refused as the client refuses it.
fn text(map: &Map<String, Value>, name: &str) -> Result<String, PaymentError> {
    match map.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(invalid(format!("{name}: is empty"))),
        Some(Value::Number(_)) => Err(invalid(format!("{name}: should be String instead of Number"))),
        Some(_) => Err(invalid(format!("{name}: must be a string"))),
        None => Err(invalid(format!("{name}: missing"))),
    }
}

fn seconds(name: &str, value: &str) -> Result<(), PaymentError> {
    if value.len() <= 32 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(invalid(format!("{name}: must be Unix seconds as a string of digits")))
    }
}

/// Reads the JSAPI object (`appId`, `timeStamp`, `nonceStr`, `package`, `signType`,
/// `paySign`) or the APP object (`appid`, `partnerid`, `prepayid`, `package`, `noncestr`,
/// `timestamp`, `sign`).
fn read_invoke(map: &Map<String, Value>) -> Result<Invoke, PaymentError> {
    let app = ["appid", "partnerid", "prepayid", "noncestr", "timestamp", "sign"].iter().any(|k| map.contains_key(*k));
    if app {
        let appid = text(map, "appid")?;
        let partnerid = text(map, "partnerid")?;
        let prepay_id = text(map, "prepayid")?;
        let package = text(map, "package")?;
        let nonce = text(map, "noncestr")?;
        let timestamp = text(map, "timestamp")?;
        let signature = text(map, "sign")?;
        if package != APP_PACKAGE {
            return Err(invalid(format!("package: must be exactly {APP_PACKAGE:?} in the APP object")));
        }
        seconds("timestamp", &timestamp)?;
        let message = message(&appid, &timestamp, &nonce, &prepay_id);
        return Ok(Invoke { scene: Scene::App, appid, partnerid: Some(partnerid), prepay_id, message, signature });
    }
    let appid = match text(map, "appId") {
        Err(PaymentError::Invalid(m)) if m.ends_with("missing") => {
            return Err(invalid("appId: missing (the mini-program object has none: add the appId that was signed)"));
        }
        other => other?,
    };
    let timestamp = text(map, "timeStamp")?;
    let nonce = text(map, "nonceStr")?;
    let package = text(map, "package")?;
    let sign_type = text(map, "signType")?;
    let signature = text(map, "paySign")?;
    let prepay_id = package
        .strip_prefix("prepay_id=")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| invalid("package: must be exactly \"prepay_id=<prepay_id>\""))?
        .to_owned();
    if sign_type != SIGN_TYPE_RSA {
        return Err(invalid(format!("signType: must be exactly {SIGN_TYPE_RSA:?}")));
    }
    seconds("timeStamp", &timestamp)?;
    let message = message(&appid, &timestamp, &nonce, &package);
    Ok(Invoke { scene: Scene::Jsapi, appid, partnerid: None, prepay_id, message, signature })
}

/// Whether `signature` (Base64) is the merchant's over `message`.
fn verifies(message: &str, signature: &str) -> bool {
    let Ok(key) = PublicKey::from_pem(MERCHANT_PUB_PEM.as_bytes()) else { return false };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(signature) else { return false };
    key.verify(message.as_bytes(), &raw).is_ok()
}

/// The checks of the order the invoke object names, as the client makes them.
fn check_order(order: &Order, invoke: &Invoke, now: i64) -> Result<(), PaymentError> {
    let Some(prepay) = &order.prepay else { return Err(invalid("prepay_id: unknown")) };
    if !prepay.fresh(now) {
        return Err(invalid("prepay_id: expired (a prepay_id is valid for 2 h)"));
    }
    if prepay.scene != invoke.scene {
        let object = if invoke.scene == Scene::App { "APP" } else { "JSAPI" };
        return Err(invalid(format!(
            "prepay_id: a {} order is not paid with the {object} invoke object",
            prepay.scene.trade_type()
        )));
    }
    let appids: Vec<&str> = match order.kind {
        OrderKind::Partner => [order.sp_appid.as_deref(), order.other.get("sub_appid").and_then(Value::as_str)]
            .into_iter()
            .flatten()
            .collect(),
        _ => order.appid.as_deref().into_iter().collect(),
    };
    if !appids.contains(&invoke.appid.as_str()) {
        let name = if invoke.scene == Scene::App { "appid" } else { "appId" };
        return Err(invalid(format!(
            "{name}: {:?} is not the order's appid (expected {})",
            invoke.appid,
            appids.join(" or ")
        )));
    }
    if let Some(partnerid) = &invoke.partnerid {
        let mchid = match order.kind {
            OrderKind::Partner => order.sp_mchid.as_deref(),
            _ => order.mchid.as_deref(),
        };
        if mchid != Some(partnerid.as_str()) {
            return Err(invalid(format!("partnerid: {partnerid:?} is not the order's merchant")));
        }
    }
    match &order.trade_state {
        Some(TradeState::NotPay) => Ok(()),
        Some(TradeState::Success | TradeState::Refund) => Err(invalid("order: already paid")),
        other => Err(invalid(format!(
            "order: trade_state {} cannot be paid",
            other.as_ref().map_or("(none)", TradeState::as_str)
        ))),
    }
}

impl Control {
    /// The order whose prepay id is `prepay_id`, as the cashier page shows it.
    pub(crate) fn cashier(&self, prepay_id: &str) -> Option<CashierView> {
        self.world(|w| {
            let index = w.by_prepay_id(prepay_id)?;
            Some(CashierView::of(w.look(index).0))
        })
    }

    /// The order whose prepay id is `prepay_id`, as the admin API shows it.
    pub(crate) fn order_by_prepay_id(&self, prepay_id: &str) -> Option<Value> {
        self.world(|w| {
            let index = w.by_prepay_id(prepay_id)?;
            Some(w.look(index).1)
        })
    }

    /// Presses a cashier button: `pay` pays a `NOTPAY` order (its notification included),
    /// otherwise nothing changes.
    pub(crate) fn cashier_press(&self, prepay_id: &str, pay: bool) -> Option<(CashierOutcome, CashierView)> {
        self.world(|w| {
            let index = w.by_prepay_id(prepay_id)?;
            let state = w.look(index).0.trade_state.clone();
            let outcome = match (pay, state) {
                (false, _) => CashierOutcome::Cancelled,
                (true, Some(TradeState::NotPay)) => {
                    w.pay(index);
                    CashierOutcome::Paid
                }
                (true, Some(TradeState::Success | TradeState::Refund)) => CashierOutcome::AlreadyPaid,
                (true, _) => CashierOutcome::NotPayable,
            };
            Some((outcome, CashierView::of(w.look(index).0)))
        })
    }

    /// `POST /sim/request-payment`: the WeChat client receiving invoke parameters. Checks
    /// what the client checks (the shape, `package` and `signType`, the merchant's signature
    /// over the four-line message, the prepay id known and younger than 2 h, the appid the
    /// order's), then pays (`"result": "ok"`, the default) or not (`"cancel"`). Answers
    /// `{"err_msg", "order"}`.
    pub(crate) fn request_payment(&self, body: &[u8]) -> Result<Value, PaymentError> {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return Err(invalid("body: must be a JSON object (the JSAPI or APP invoke object)"));
        };
        let pay = match map.get("result") {
            None => true,
            Some(Value::String(s)) if s == "ok" => true,
            Some(Value::String(s)) if s == "cancel" => false,
            Some(_) => return Err(invalid("result: must be \"ok\" or \"cancel\"")),
        };
        let invoke = read_invoke(&map)?;
        if !verifies(&invoke.message, &invoke.signature) {
            return Err(PaymentError::Sign);
        }
        let now = crate::clock::now();
        self.world(|w| {
            let index = w.by_prepay_id(&invoke.prepay_id).ok_or_else(|| invalid("prepay_id: unknown"))?;
            let (order, json) = w.look(index);
            check_order(order, &invoke, now)?;
            if !pay {
                return Ok(json!({ "err_msg": "requestPayment:fail cancel", "order": json }));
            }
            w.pay(index);
            let (_, json) = w.look(index);
            Ok(json!({ "err_msg": "requestPayment:ok", "order": json }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;
    use crate::world::prepay::{NewPrepay, PREPAY_VALID_SECS};

    /// The client refuses a prepay id 2 h old (issue 19: "a known prepay id younger than
    /// 2 h"), and takes it a second before.
    #[test]
    fn a_prepay_id_is_refused_once_it_is_two_hours_old() {
        let mut world = World::empty();
        let issued = 1_795_442_761;
        let order = json!({"out_trade_no": "RP_EXPIRY_1", "appid": "wxd678efh567hg6787",
            "mchid": crate::credentials::MCHID, "trade_state": "NOTPAY", "amount": {"total": 1}});
        let new = NewPrepay {
            kind: OrderKind::Direct,
            owner: crate::credentials::MCHID.to_owned(),
            order: order.as_object().cloned().unwrap_or_default(),
            scene: Scene::Jsapi,
            request: json!({}),
            description: "d".to_owned(),
            notify_url: "http://127.0.0.1:9/notify".to_owned(),
        };
        let prepay = world.prepay(new, issued).unwrap();
        let index = world.by_prepay_id(&prepay.prepay_id).unwrap();
        let invoke = Invoke {
            scene: Scene::Jsapi,
            appid: "wxd678efh567hg6787".to_owned(),
            partnerid: None,
            prepay_id: prepay.prepay_id.clone(),
            message: String::new(),
            signature: String::new(),
        };
        let (order, _) = world.look(index);
        assert_eq!(check_order(order, &invoke, issued + PREPAY_VALID_SECS - 1), Ok(()));
        let Err(PaymentError::Invalid(m)) = check_order(order, &invoke, issued + PREPAY_VALID_SECS) else {
            panic!("an expired prepay id was taken")
        };
        assert!(m.starts_with("prepay_id: expired"), "{m}");
        let other = Invoke { appid: "wx8888888888888888".to_owned(), ..invoke };
        let Err(PaymentError::Invalid(m)) = check_order(order, &other, issued) else { panic!("another appid") };
        assert!(m.starts_with("appId:"), "{m}");
    }
}
