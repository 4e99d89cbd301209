//! Prepay (下单, PROTOCOL.md §12): the order a prepay creates, the artefact it is answered
//! with (`prepay_id`, `code_url`, `h5_url`), the rule for repeating a prepay, and paying an
//! order by its prepay id (the cashier page and `request-payment` both do).
//!
//! What the simulator keeps about a prepay ([`Prepay`]) is its own: it is shown by the
//! admin order document, never served by a query.

use std::io;

use serde_json::{Map, Value};

use super::{TradeState, World, order};
use crate::delivery::NotifyUrl;
use crate::world::OrderKind;

/// How long a `prepay_id` (and a `code_url`) can be used: 2 hours (PROTOCOL.md §12).
pub(crate) const PREPAY_VALID_SECS: i64 = 2 * 3600;

/// Where the simulator is reached (for `h5_url`) and whether it posts notifications to
/// hosts other than loopback ones.
#[derive(Clone, Debug)]
pub(crate) struct Site {
    /// `http://127.0.0.1:PORT` or `https://…`, without a final `/`.
    pub base_url: String,
    /// Whether a remote `notify_url` is posted to (`--allow-remote-notify`).
    pub allow_remote_notify: bool,
}

impl Default for Site {
    fn default() -> Self {
        Self { base_url: "http://127.0.0.1".to_owned(), allow_remote_notify: false }
    }
}

/// The scene of a prepay: the endpoint's last segment and the order's `trade_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scene {
    /// `…/jsapi` (also mini-programs): `JSAPI`, answered by a `prepay_id`.
    Jsapi,
    /// `…/app`: `APP`, answered by a `prepay_id`.
    App,
    /// `…/h5`: `MWEB`, answered by an `h5_url`.
    H5,
    /// `…/native`: `NATIVE`, answered by a `code_url`.
    Native,
}

impl Scene {
    /// The order's `trade_type`.
    pub(crate) fn trade_type(self) -> &'static str {
        match self {
            Scene::Jsapi => "JSAPI",
            Scene::App => "APP",
            Scene::H5 => "MWEB",
            Scene::Native => "NATIVE",
        }
    }
}

/// What the simulator keeps about an order's prepay.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Prepay {
    /// The scene it was created in.
    pub scene: Scene,
    /// `wx` + 14 digits of Beijing time + 20 hex digits.
    pub prepay_id: String,
    /// Native only: `weixin://wxpay/bizpayurl?pr=…`.
    pub code_url: Option<String>,
    /// When the current `prepay_id` was issued (Unix seconds).
    pub issued: i64,
    /// The request body, as JSON: a repeat must be identical.
    pub request: Value,
    /// `description` (shown by the cashier page).
    pub description: String,
    /// `notify_url` as given.
    pub notify_url: String,
}

impl Prepay {
    /// Whether the prepay id is still usable at `now`.
    pub(crate) fn fresh(&self, now: i64) -> bool {
        now.saturating_sub(self.issued) < PREPAY_VALID_SECS
    }

    /// The fields the admin order document adds: `prepay_id`, `code_url` (Native),
    /// `notify_url`.
    pub(crate) fn admin_fields(&self, map: &mut Map<String, Value>) {
        map.insert("prepay_id".to_owned(), Value::from(self.prepay_id.as_str()));
        if let Some(url) = &self.code_url {
            map.insert("code_url".to_owned(), Value::from(url.as_str()));
        }
        map.insert("notify_url".to_owned(), Value::from(self.notify_url.as_str()));
    }
}

/// A valid prepay request, checked by the route: the order it creates and the prepay.
#[derive(Debug)]
pub(crate) struct NewPrepay {
    /// Direct or partner.
    pub kind: OrderKind,
    /// The merchant the `out_trade_no` is unique for (`mchid`, or the `sp_mchid`).
    pub owner: String,
    /// The order's fields as a query answers them (state `NOTPAY`).
    pub order: Map<String, Value>,
    /// The scene.
    pub scene: Scene,
    /// The whole request body.
    pub request: Value,
    /// `description`.
    pub description: String,
    /// `notify_url`.
    pub notify_url: String,
}

/// Why a prepay was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PrepayRefusal {
    /// The `out_trade_no` is used by an order with other parameters (`403 OUT_TRADE_NO_USED`).
    Used,
    /// The order is paid (`400 ORDER_PAID`).
    Paid,
    /// The order is closed (`400 ORDER_CLOSED`).
    Closed,
    /// The random generator failed (`500 SYSTEM_ERROR`).
    Internal(String),
}

/// `n` random bytes as lower-case hex.
fn random_hex(n: usize) -> io::Result<String> {
    let mut bytes = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| io::Error::other("the system random generator failed"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A fresh prepay id: `wx`, the Beijing time as `yyyyMMddHHmmss`, 20 random hex digits.
pub(crate) fn fresh_prepay_id(now: i64) -> io::Result<String> {
    let t: String = crate::clock::beijing_rfc3339(now).chars().take(19).filter(char::is_ascii_digit).collect();
    Ok(format!("wx{t}{}", random_hex(10)?))
}

/// A fresh `code_url`: `weixin://wxpay/bizpayurl?pr=` and 9 random alphanumerics.
pub(crate) fn fresh_code_url() -> io::Result<String> {
    Ok(format!("weixin://wxpay/bizpayurl?pr={}", crate::protocol::apiv3_key::random_alphanumeric(9)?))
}

impl World {
    /// Where the simulator is reached.
    pub(crate) fn site(&self) -> &Site {
        &self.site
    }

    /// Sets where the simulator is reached (once its socket is bound).
    pub(crate) fn set_site(&mut self, site: Site) {
        self.site = site;
    }

    /// The newest order of `kind` numbered `out_trade_no` that `owner` may not reuse.
    fn owned(&self, kind: OrderKind, owner: &str, out_trade_no: &str) -> Option<usize> {
        self.position(kind, |o| {
            o.out_trade_no == out_trade_no
                && match kind {
                    OrderKind::Partner => o.sp_mchid.as_deref().is_none_or(|m| m == owner),
                    _ => o.mchid.as_deref().is_none_or(|m| m == owner),
                }
        })
    }

    /// Creates the order of a valid prepay, or answers a repeat: the same body again gets
    /// the same prepay (a fresh `prepay_id` once the old one is 2 hours old); another body
    /// for a `NOTPAY` order is refused, as is any prepay for a paid or closed order.
    pub(crate) fn prepay(&mut self, new: NewPrepay, now: i64) -> Result<Prepay, PrepayRefusal> {
        let internal = |e: io::Error| PrepayRefusal::Internal(e.to_string());
        let no = new.order.get("out_trade_no").and_then(Value::as_str).unwrap_or_default().to_owned();
        if let Some(index) = self.owned(new.kind, &new.owner, &no) {
            self.advance(index, false);
            let order = &mut self.orders[index];
            return match &order.trade_state {
                Some(TradeState::Success | TradeState::Refund) => Err(PrepayRefusal::Paid),
                Some(TradeState::Closed) => Err(PrepayRefusal::Closed),
                _ => match &mut order.prepay {
                    Some(p) if p.scene == new.scene && p.request == new.request => {
                        if !p.fresh(now) {
                            p.prepay_id = fresh_prepay_id(now).map_err(internal)?;
                            p.issued = now;
                        }
                        Ok(p.clone())
                    }
                    _ => Err(PrepayRefusal::Used),
                },
            };
        }
        let mut order = order::Order::from_json(new.kind, Value::Object(new.order))
            .map_err(|e| PrepayRefusal::Internal(e.to_string()))?;
        order.notify_url = NotifyUrl::parse(&new.notify_url, self.site.allow_remote_notify).ok();
        let prepay = Prepay {
            scene: new.scene,
            prepay_id: fresh_prepay_id(now).map_err(internal)?,
            code_url: if new.scene == Scene::Native { Some(fresh_code_url().map_err(internal)?) } else { None },
            issued: now,
            request: new.request,
            description: new.description,
            notify_url: new.notify_url,
        };
        order.prepay = Some(prepay.clone());
        self.add(order);
        Ok(prepay)
    }

    /// The newest order whose prepay id is `prepay_id`.
    pub(crate) fn by_prepay_id(&self, prepay_id: &str) -> Option<usize> {
        self.orders.iter().rposition(|o| o.prepay.as_ref().is_some_and(|p| p.prepay_id == prepay_id))
    }

    /// Order `index` as the admin API shows it, changes due applied first.
    pub(crate) fn look(&mut self, index: usize) -> (&order::Order, Value) {
        self.advance(index, false);
        let order = &self.orders[index];
        (order, order.admin_json())
    }

    /// Pays order `index` through its transition function, as the admin state call does
    /// (its notification included); returns the order as a query answers it.
    pub(crate) fn pay(&mut self, index: usize) -> Value {
        self.advance(index, false);
        // Without fields a transition cannot fail.
        let _ = self.transition(index, TradeState::Success, Map::new());
        self.orders[index].to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artefacts_have_their_shapes() {
        // 2026-11-23T22:06:01+08:00 (see clock.rs).
        let id = fresh_prepay_id(1_795_442_761).unwrap();
        assert!(id.starts_with("wx20261123220601"), "{id}");
        assert_eq!(id.len(), 2 + 14 + 20);
        assert!(id[16..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, fresh_prepay_id(1_795_442_761).unwrap());
        let url = fresh_code_url().unwrap();
        let pr = url.strip_prefix("weixin://wxpay/bizpayurl?pr=").unwrap();
        assert_eq!(pr.len(), 9);
        assert!(pr.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    fn new_prepay(description: &str) -> NewPrepay {
        let order = serde_json::json!({"out_trade_no": "W_PREPAY_1", "mchid": crate::credentials::MCHID,
            "trade_state": "NOTPAY", "amount": {"total": 1}});
        NewPrepay {
            kind: OrderKind::Direct,
            owner: crate::credentials::MCHID.to_owned(),
            order: order.as_object().cloned().unwrap_or_default(),
            scene: Scene::Jsapi,
            request: serde_json::json!({"description": description}),
            description: description.to_owned(),
            notify_url: "http://127.0.0.1:9/notify".to_owned(),
        }
    }

    #[test]
    fn repeats_keep_the_prepay_id_for_two_hours_then_renew_it() {
        let mut world = World::empty();
        let now = 1_795_442_761;
        let first = world.prepay(new_prepay("a"), now).unwrap();
        assert!(first.fresh(now + PREPAY_VALID_SECS - 1) && !first.fresh(now + PREPAY_VALID_SECS));
        assert_eq!(world.prepay(new_prepay("a"), now + 60).unwrap(), first);
        assert_eq!(world.prepay(new_prepay("b"), now + 60), Err(PrepayRefusal::Used));
        let renewed = world.prepay(new_prepay("a"), now + PREPAY_VALID_SECS).unwrap();
        assert_ne!(renewed.prepay_id, first.prepay_id);
        assert_eq!(renewed.issued, now + PREPAY_VALID_SECS);
        assert!(world.by_prepay_id(&first.prepay_id).is_none());
        let index = world.by_prepay_id(&renewed.prepay_id).unwrap();
        assert_eq!(world.pay(index)["trade_state"], "SUCCESS");
        assert_eq!(world.prepay(new_prepay("a"), now), Err(PrepayRefusal::Paid));
        // The notification of the payment waits in the outbox for delivery.
        assert_eq!(world.take_outbox().len(), 1);
    }
}
