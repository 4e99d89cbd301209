//! What the adapters log: operation, host, attempt, status, Request-ID and timings, never
//! headers, bodies, keys or signatures.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use wechatpay_tests::*;

/// Records every span name, event and field value as text.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Capture {
    fn push(&self, f: impl FnOnce(&mut String)) {
        let mut text = self.text.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut text);
        text.push('\n');
    }

    fn text(&self) -> String {
        self.text.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

thread_local! {
    /// The capture of the test running on this thread, if any.
    static CURRENT: std::cell::RefCell<Option<Capture>> = const { std::cell::RefCell::new(None) };
}

/// The one global subscriber of this test binary: hands each span and event to the capture of
/// the thread it happens on. (Per-test scoped subscribers raced: a callsite first hit by a
/// test on another thread could cache "nobody listens" and an event went missing.)
struct Forward;

impl Forward {
    fn with<R>(f: impl FnOnce(&Capture) -> R) -> Option<R> {
        CURRENT.with(|c| c.borrow().as_ref().map(f))
    }
}

impl Subscriber for Forward {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        Forward::with(|c| c.new_span(span)).unwrap_or_else(|| Id::from_u64(1))
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        Forward::with(|c| c.record(id, values));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        Forward::with(|c| c.event(event));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Runs `f` with what this thread traces going to `capture`.
fn captured<R>(capture: &Capture, f: impl FnOnce() -> R) -> R {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| tracing::subscriber::set_global_default(Forward).expect("the one global subscriber"));
    CURRENT.with(|c| *c.borrow_mut() = Some(capture.clone()));
    let result = f();
    CURRENT.with(|c| *c.borrow_mut() = None);
    result
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.push(|t| {
            let _ = write!(t, "span {} target={}", span.metadata().name(), span.metadata().target());
            span.record(&mut Fields(t));
        });
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        self.push(|t| {
            t.push_str("record");
            values.record(&mut Fields(t));
        });
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        self.push(|t| {
            let _ = write!(t, "event target={}", event.metadata().target());
            event.record(&mut Fields(t));
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn logs_name_the_call_and_never_its_secrets() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(30));
        sim.inject(Fault::HtmlBadGateway, Times::Next(1), None);
        let capture = Capture::default();
        let order = captured(&capture, || client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO))).unwrap();
        let text = capture.text();
        for wanted in [
            "span wechatpay.call",
            "operation=\"query_order_by_out_trade_no\"",
            "span wechatpay.attempt",
            "attempt=1",
            "attempt=2",
            "host=primary",
            "host=backup",
            "status=502",
            "status=200",
            "request_id=",
            "elapsed_ms=",
            "attempts=2",
            "error=\"unexpected response\"",
        ] {
            assert!(text.contains(wanted), "{adapter:?}: {wanted:?} missing from:\n{text}");
        }
        let openid = order.payer.and_then(|p| p.openid).unwrap_or_default();
        assert!(!openid.is_empty());
        for secret in [
            "WECHATPAY2-SHA256-RSA2048",
            "signature=",
            "nonce",
            "PRIVATE KEY",
            "authorization",
            "Authorization",
            openid.as_str(),
            "trade_state",
            // The gateway page's text (a body) stays out of the logs too.
            "Bad Gateway",
            "<html",
        ] {
            assert!(!text.contains(secret), "{adapter:?}: {secret:?} leaked into:\n{text}");
        }
    }
}

#[test]
fn a_watch_logs_each_change_of_state_escaped() {
    use wechatpay_core::watch::WatchPolicy;
    for adapter in ADAPTERS {
        let sim = sim();
        sim.schedule(OrderKind::Direct, "SIM_NOTPAY_0001", "NEW\u{1b}[31mSTATE", After::Queries(2)).unwrap();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let policy = WatchPolicy::default().with_fixed_interval(Duration::from_millis(100));
        let capture = Capture::default();
        let outcome = captured(&capture, || client.watch(&by_out_trade_no("SIM_NOTPAY_0001"), &policy).0).unwrap();
        assert_eq!(outcome.queries, 3);
        let text = capture.text();
        for wanted in [
            "span wechatpay.watch",
            "operation=\"query_order_by_out_trade_no\"",
            "order state changed",
            "trade_state=NOTPAY",
            "trade_state=NEW\\u{1b}[31mSTATE",
            "delay_ms=100",
        ] {
            assert!(text.contains(wanted), "{adapter:?}: {wanted:?} missing from:\n{text}");
        }
        // Two changes (the first answer, then the new state), not one line per query.
        assert_eq!(text.matches("order state changed").count(), 2, "{adapter:?}:\n{text}");
        assert!(!text.contains('\u{1b}'), "{adapter:?}: a raw escape reached the log");
    }
}

#[test]
fn a_charge_logs_its_steps_and_never_the_auth_code() {
    use wechatpay_core::api::{AuthCode, Codepay, CodepayOrder, CodepaySceneInfo, CodepayStore};
    use wechatpay_core::charge::ChargePolicy;
    const CODE: &str = "134567890123456783";
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), fast_retries(), Duration::from_secs(5));
        let scene = CodepaySceneInfo::new(CodepayStore::OutId("SZ-001".into())).expect("valid store");
        let order = CodepayOrder::new(
            "LOGTILL_0001",
            "Coffee",
            wechatpay_core::model::Fen(1),
            AuthCode::new(CODE).expect("code"),
            scene,
        )
        .expect("valid order");
        let op = Codepay { appid: wechatpay_core::AppId::new("wxd678efh567hg6787").expect("appid"), order };
        let policy = ChargePolicy::default()
            .with_interval(Duration::from_millis(100))
            .with_deadline(Duration::from_millis(300))
            .with_reverse_delay(Duration::ZERO);
        let capture = Capture::default();
        let (result, _) = captured(&capture, || client.charge(&op, &policy));
        assert!(result.is_ok(), "{adapter:?}");
        let text = capture.text();
        for wanted in [
            "span wechatpay.charge",
            "operation=\"codepay\"",
            "step=\"codepay answered\"",
            "trade_state=USERPAYING",
            "step=\"reversing\"",
            "step=\"reversed\"",
            "step=\"confirmed\"",
            "trade_state=REVOKED",
            "operation=\"reverse\"",
        ] {
            assert!(text.contains(wanted), "{adapter:?}: {wanted:?} missing from:\n{text}");
        }
        for secret in [CODE, "auth_code", "signature=", "Authorization"] {
            assert!(!text.contains(secret), "{adapter:?}: {secret:?} leaked into:\n{text}");
        }
    }
}
