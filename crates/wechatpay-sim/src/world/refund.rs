//! Refunds (spec §15): created against a paid order (which turns `REFUND`), completed after a
//! delay (`--refunds auto`) or by the admin API (`--refunds manual`), each final state
//! notified (`REFUND.SUCCESS` / `.ABNORMAL` / `.CLOSED`, AAD `refund`) to the refund's
//! `notify_url`.
//!
//! ```text
//! PROCESSING ──▶ SUCCESS | CLOSED | ABNORMAL
//! ABNORMAL ──apply-abnormal-refund──▶ PROCESSING
//! ```
//!
//! Every change of a refund's status goes through [`Refund::set_status`].

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::{By, OrderKind, TradeState, World};
use crate::delivery::NotifyUrl;

/// How refunds complete.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RefundMode {
    /// A refund becomes `SUCCESS` 1 s (× `--notify-time-scale`) after it was created (or
    /// returned to `PROCESSING`).
    #[default]
    Auto,
    /// A refund stays `PROCESSING` until the admin API (or the Rust handle) moves it.
    Manual,
}

impl RefundMode {
    /// `auto` or `manual`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(Self::Auto),
            "manual" => Some(Self::Manual),
            _ => None,
        }
    }
}

/// The refund statuses WeChat Pay documents.
pub(crate) const STATUSES: [&str; 4] = ["SUCCESS", "CLOSED", "PROCESSING", "ABNORMAL"];

/// Why a refund call was refused: the status, code and message of the error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RefundError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl RefundError {
    pub(crate) fn param(message: impl Into<String>) -> Self {
        Self { status: 400, code: "PARAM_ERROR", message: message.into() }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self { status: 400, code: "INVALID_REQUEST", message: message.into() }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self { status: 404, code: "RESOURCE_NOT_EXISTS", message: message.into() }
    }
}

/// A notification of a refund's final state, waiting for delivery.
#[derive(Clone, Debug)]
pub(crate) struct RefundNotify {
    pub event_type: &'static str,
    pub summary: &'static str,
    pub out_trade_no: String,
    pub out_refund_no: String,
    /// The plaintext (spec §15's notification resource).
    pub resource: Vec<u8>,
    pub url: NotifyUrl,
}

/// One refund.
#[derive(Clone, Debug)]
pub(crate) struct Refund {
    /// The merchant (direct `mchid`, partner `sp_mchid`) that created it.
    pub mchid: String,
    pub sub_mchid: Option<String>,
    pub refund_id: String,
    pub out_refund_no: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    pub order_kind: OrderKind,
    pub status: String,
    pub create_time: String,
    pub success_time: Option<String>,
    pub user_received_account: String,
    pub funds_account: Option<String>,
    pub total: u64,
    pub refund: u64,
    pub payer_total: u64,
    pub from: Option<Value>,
    /// The create request's body, for idempotency.
    pub request: Value,
    pub notify_url: Option<NotifyUrl>,
    /// When it completes by itself (`auto` mode, `PROCESSING`).
    pub due: Option<Instant>,
}

impl Refund {
    /// What the user gets back: the refund's share of what the user paid.
    fn payer_refund(&self) -> u64 {
        // In u128: two amounts of fen multiplied overflow u64 (a 10^10-fen order would panic).
        let share = (u128::from(self.refund) * u128::from(self.payer_total)).checked_div(u128::from(self.total));
        share.and_then(|s| u64::try_from(s).ok()).unwrap_or(self.refund)
    }

    /// The refund object as create, query and abnormal apply answer it (spec §15).
    pub(crate) fn to_json(&self) -> Value {
        let payer_refund = self.payer_refund();
        let mut amount = json!({
            "total": self.total, "refund": self.refund, "payer_total": self.payer_total,
            "payer_refund": payer_refund, "settlement_refund": self.refund, "settlement_total": self.total,
            "discount_refund": self.refund.saturating_sub(payer_refund), "currency": "CNY", "refund_fee": 0,
        });
        if let (Some(from), Some(a)) = (&self.from, amount.as_object_mut()) {
            a.insert("from".to_owned(), from.clone());
        }
        let mut v = json!({
            "refund_id": self.refund_id, "out_refund_no": self.out_refund_no,
            "transaction_id": self.transaction_id, "out_trade_no": self.out_trade_no,
            "channel": "ORIGINAL", "user_received_account": self.user_received_account,
            "create_time": self.create_time, "status": self.status, "amount": amount,
        });
        if let Some(o) = v.as_object_mut() {
            if let Some(t) = &self.success_time {
                o.insert("success_time".to_owned(), t.clone().into());
            }
            if let Some(f) = &self.funds_account {
                o.insert("funds_account".to_owned(), f.clone().into());
            }
        }
        v
    }

    /// The plaintext of its notification (spec §15): not the refund object.
    fn notice(&self) -> Value {
        let payer_refund = self.payer_refund();
        let mut v = Map::new();
        match &self.sub_mchid {
            Some(sub) => {
                v.insert("sp_mchid".to_owned(), self.mchid.clone().into());
                v.insert("sub_mchid".to_owned(), sub.clone().into());
            }
            None => {
                v.insert("mchid".to_owned(), self.mchid.clone().into());
            }
        }
        for (k, x) in [
            ("out_trade_no", &self.out_trade_no),
            ("transaction_id", &self.transaction_id),
            ("out_refund_no", &self.out_refund_no),
            ("refund_id", &self.refund_id),
            ("refund_status", &self.status),
        ] {
            v.insert(k.to_owned(), x.clone().into());
        }
        if let Some(t) = &self.success_time {
            v.insert("success_time".to_owned(), t.clone().into());
        }
        v.insert(
            "amount".to_owned(),
            json!({"total": self.total, "refund": self.refund, "payer_total": self.payer_total, "payer_refund": payer_refund}),
        );
        v.insert("user_received_account".to_owned(), self.user_received_account.clone().into());
        Value::Object(v)
    }

    /// The one transition of a refund: to `status` (`now` the Unix time); fills
    /// `success_time` for `SUCCESS`; returns the notification a final state sends, if the
    /// refund has a notify URL and the status changed. `due` is when `PROCESSING` completes
    /// by itself (`None`: never).
    pub(crate) fn set_status(&mut self, status: &str, now: i64, due: Option<Instant>) -> Option<RefundNotify> {
        let changed = self.status != status;
        self.status = status.to_owned();
        self.due = if status == "PROCESSING" { due } else { None };
        if !changed {
            return None;
        }
        if status == "SUCCESS" {
            self.success_time = Some(crate::clock::beijing_rfc3339(now));
        }
        let (event_type, summary) = match status {
            "SUCCESS" => ("REFUND.SUCCESS", "退款成功"),
            "ABNORMAL" => ("REFUND.ABNORMAL", "退款异常"),
            "CLOSED" => ("REFUND.CLOSED", "退款关闭"),
            _ => return None,
        };
        let url = self.notify_url.clone()?;
        Some(RefundNotify {
            event_type,
            summary,
            out_trade_no: self.out_trade_no.clone(),
            out_refund_no: self.out_refund_no.clone(),
            resource: serde_json::to_vec(&self.notice()).unwrap_or_default(),
            url,
        })
    }
}

/// Every refund, the completion settings and the outbox of refund notifications.
#[derive(Debug, Default)]
pub(crate) struct Refunds {
    list: Vec<Refund>,
    mode: RefundMode,
    /// How long after creation an `auto` refund succeeds.
    delay: Duration,
    allow_remote_notify: bool,
    outbox: Vec<RefundNotify>,
}

/// A validated create request.
#[derive(Debug)]
pub(crate) struct CreateRefund {
    pub sub_mchid: Option<String>,
    pub by_out_trade_no: Option<String>,
    pub by_transaction_id: Option<String>,
    pub out_refund_no: String,
    pub notify_url: Option<String>,
    pub funds_account: Option<String>,
    pub refund: u64,
    pub total: u64,
    pub from: Option<Value>,
    /// The whole body, for idempotency.
    pub body: Value,
}

impl World {
    /// Sets how refunds complete: `mode`, `delay` for `auto`, and whether notify URLs may
    /// name other hosts than loopback.
    pub(crate) fn configure_refunds(&mut self, mode: RefundMode, delay: Duration, allow_remote_notify: bool) {
        self.refunds.mode = mode;
        self.refunds.delay = delay;
        self.refunds.allow_remote_notify = allow_remote_notify;
    }

    fn refund_due(&self) -> Option<Instant> {
        (self.refunds.mode == RefundMode::Auto).then(|| Instant::now() + self.refunds.delay)
    }

    /// Completes the `auto` refunds whose time has come.
    pub(crate) fn tick_refunds(&mut self, now: Instant) {
        if self.refunds.list.iter().all(|r| r.due.is_none_or(|d| d > now)) {
            return;
        }
        let unix = crate::clock::now();
        for i in 0..self.refunds.list.len() {
            if self.refunds.list[i].due.is_some_and(|d| d <= now) {
                if let Some(n) = self.refunds.list[i].set_status("SUCCESS", unix, None) {
                    self.refunds.outbox.push(n);
                }
            }
        }
    }

    /// Every refund, oldest first (the bills read them).
    pub(crate) fn refund_list(&self) -> &[Refund] {
        &self.refunds.list
    }

    /// The newest refund numbered `out_refund_no` (any merchant), to change in place (the
    /// bills' tests back-date a refund's times).
    pub(crate) fn refund_mut(&mut self, out_refund_no: &str) -> Option<&mut Refund> {
        self.tick_refunds(Instant::now());
        let i = self.refund_index(None, out_refund_no)?;
        self.refunds.list.get_mut(i)
    }

    /// The refund notifications so far, oldest first; empty after.
    pub(crate) fn take_refund_outbox(&mut self) -> Vec<RefundNotify> {
        std::mem::take(&mut self.refunds.outbox)
    }

    /// `POST /v3/refund/domestic/refunds` from `caller`: the refund (new, or the existing one
    /// for a repeat with the identical body).
    pub(crate) fn create_refund(&mut self, caller: &str, req: CreateRefund) -> Result<Value, RefundError> {
        let url = req
            .notify_url
            .as_deref()
            .map(|u| NotifyUrl::parse(u, self.refunds.allow_remote_notify))
            .transpose()
            .map_err(RefundError::param)?;
        if let Some(existing) =
            self.refunds.list.iter().rev().find(|r| r.mchid == caller && r.out_refund_no == req.out_refund_no)
        {
            if existing.request == req.body {
                return Ok(existing.to_json());
            }
            return Err(RefundError::invalid(format!(
                "out_refund_no {:?} is taken by a refund with other parameters (退款单号重复): repeat the identical body, or use a new out_refund_no",
                req.out_refund_no
            )));
        }
        let by = match (&req.by_out_trade_no, &req.by_transaction_id) {
            (Some(no), _) => By::OutTradeNo(no),
            (None, Some(id)) => By::TransactionId(id),
            (None, None) => return Err(RefundError::param("transaction_id or out_trade_no: exactly one is required")),
        };
        let direct =
            self.position(OrderKind::Direct, |o| by.matches(o) && o.mchid.as_deref().is_none_or(|m| m == caller));
        fn partner<'a>(by: By<'a>, caller: &'a str, sub: Option<&'a str>) -> impl Fn(&super::Order) -> bool + 'a {
            move |o| {
                by.matches(o)
                    && o.sp_mchid.as_deref().is_none_or(|m| m == caller)
                    && sub.is_none_or(|s| o.sub_mchid.as_deref() == Some(s))
            }
        }
        let index = match &req.sub_mchid {
            None => match direct {
                Some(i) => i,
                None if self.position(OrderKind::Partner, partner(by, caller, None)).is_some() => {
                    return Err(RefundError::param(
                        "sub_mchid: 受理机构必须传入sub_mch_id (a partner order's refund names its sub_mchid)",
                    ));
                }
                None => return Err(RefundError::not_found("订单不存在 (no such order)")),
            },
            Some(sub) => match self.position(OrderKind::Partner, partner(by, caller, Some(sub))) {
                Some(i) => i,
                None if direct.is_some() => {
                    return Err(RefundError::param(
                        "sub_mchid: 普通商户不允许传sub_mch_id (a direct order's refund has no sub_mchid)",
                    ));
                }
                None => return Err(RefundError::not_found("订单不存在 (no such order)")),
            },
        };
        self.advance(index, false);
        let order = &self.orders[index];
        match order.trade_state {
            Some(TradeState::Success | TradeState::Refund) => {}
            ref other => {
                let state = other.as_ref().map_or("", TradeState::as_str);
                return Err(RefundError::invalid(format!(
                    "the order is not paid (trade_state {state}): only a paid order can be refunded"
                )));
            }
        }
        let order_total = order.amount.as_ref().and_then(|a| a.total).unwrap_or(0);
        if i64::try_from(req.total).ok() != Some(order_total) {
            return Err(RefundError::invalid(format!(
                "amount.total: must equal the order's total ({order_total} fen), got {}",
                req.total
            )));
        }
        let (kind, out_trade_no) = (order.kind, order.out_trade_no.clone());
        let transaction_id = order.transaction_id.clone().unwrap_or_default();
        let payer_total =
            order.amount.as_ref().and_then(|a| a.payer_total).and_then(|t| u64::try_from(t).ok()).unwrap_or(req.total);
        let refunded: u64 = self
            .refunds
            .list
            .iter()
            .filter(|r| r.order_kind == kind && r.out_trade_no == out_trade_no && r.status != "CLOSED")
            .map(|r| r.refund)
            .fold(0u64, u64::saturating_add);
        if refunded.saturating_add(req.refund) > req.total {
            return Err(RefundError::invalid(format!(
                "amount.refund: the refunds of an order may not exceed what was paid ({} fen; {refunded} refunded already, {} asked)",
                req.total, req.refund
            )));
        }
        let now = crate::clock::now();
        let refund = Refund {
            mchid: caller.to_owned(),
            sub_mchid: req.sub_mchid.clone(),
            refund_id: fresh_refund_id(),
            out_refund_no: req.out_refund_no.clone(),
            transaction_id,
            out_trade_no,
            order_kind: kind,
            status: "PROCESSING".to_owned(),
            create_time: crate::clock::beijing_rfc3339(now),
            success_time: None,
            user_received_account: "支付用户零钱".to_owned(),
            funds_account: req.funds_account.clone(),
            total: req.total,
            refund: req.refund,
            payer_total,
            from: req.from.clone(),
            request: req.body,
            notify_url: url,
            due: self.refund_due(),
        };
        let json = refund.to_json();
        self.refunds.list.push(refund);
        // Any accepted refund, partial too, turns the order REFUND (not a notified change).
        let _ = self.transition(index, TradeState::Refund, Map::new());
        Ok(json)
    }

    /// The newest refund numbered `out_refund_no` of `caller` (`None`: any merchant's).
    fn refund_index(&self, caller: Option<&str>, out_refund_no: &str) -> Option<usize> {
        self.refunds.list.iter().rposition(|r| r.out_refund_no == out_refund_no && caller.is_none_or(|c| c == r.mchid))
    }

    /// `GET /v3/refund/domestic/refunds/{out_refund_no}[?sub_mchid=]` from `caller`.
    pub(crate) fn query_refund(
        &mut self,
        caller: &str,
        out_refund_no: &str,
        sub_mchid: Option<&str>,
    ) -> Result<Value, RefundError> {
        self.tick_refunds(Instant::now());
        self.refund_index(Some(caller), out_refund_no)
            .map(|i| &self.refunds.list[i])
            .filter(|r| r.sub_mchid.as_deref() == sub_mchid)
            .map(Refund::to_json)
            .ok_or_else(|| RefundError::not_found("退款单不存在 (no such refund)"))
    }

    /// `POST .../refunds/{refund_id}/apply-abnormal-refund` from `caller`, its fields already
    /// checked (and decrypted) by the protocol layer: an `ABNORMAL` refund returns to
    /// `PROCESSING`, paid out to `account`.
    pub(crate) fn apply_abnormal_refund(
        &mut self,
        caller: &str,
        refund_id: &str,
        out_refund_no: &str,
        sub_mchid: Option<&str>,
        account: String,
    ) -> Result<Value, RefundError> {
        self.tick_refunds(Instant::now());
        let due = self.refund_due();
        let Some(r) = self.refunds.list.iter_mut().rev().find(|r| r.refund_id == refund_id && r.mchid == caller) else {
            return Err(RefundError::not_found("退款单不存在 (no such refund)"));
        };
        if r.out_refund_no != out_refund_no {
            return Err(RefundError::param(
                "out_refund_no: not the refund's (refund_id and out_refund_no name different refunds)",
            ));
        }
        if r.sub_mchid.as_deref() != sub_mchid {
            return Err(RefundError::param(
                "sub_mchid: must be given for a partner refund, and only for one, and be its own",
            ));
        }
        if r.status != "ABNORMAL" {
            return Err(RefundError::invalid(format!(
                "the refund is {}: only an ABNORMAL refund can be applied for",
                r.status
            )));
        }
        r.user_received_account = account;
        let _ = r.set_status("PROCESSING", crate::clock::now(), due);
        Ok(r.to_json())
    }

    /// The newest refund numbered `out_refund_no` (any merchant), as the API answers it.
    pub(crate) fn refund(&mut self, out_refund_no: &str) -> Option<Value> {
        self.tick_refunds(Instant::now());
        self.refund_index(None, out_refund_no).map(|i| self.refunds.list[i].to_json())
    }

    /// Moves the newest refund numbered `out_refund_no` to `status` (one of [`STATUSES`]);
    /// a final state notifies. `None` when there is no such refund.
    pub(crate) fn set_refund_status(&mut self, out_refund_no: &str, status: &str) -> Option<Value> {
        self.tick_refunds(Instant::now());
        let due = self.refund_due();
        let i = self.refund_index(None, out_refund_no)?;
        if let Some(n) = self.refunds.list[i].set_status(status, crate::clock::now(), due) {
            self.refunds.outbox.push(n);
        }
        Some(self.refunds.list[i].to_json())
    }
}

/// A fresh refund id: 29 digits, as WeChat Pay's (`50000000382019052709732678859`).
fn fresh_refund_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let now = u64::try_from(crate::clock::now()).unwrap_or_default();
    format!("5030000{:010}{:012}", now % 10_000_000_000, N.fetch_add(1, Ordering::Relaxed) % 1_000_000_000_000)
}
