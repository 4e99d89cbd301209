//! Harness for the cross-crate integration tests: runs the same call through either
//! adapter (`wechatpay-reqwest` on a Tokio runtime, `wechatpay-ureq` on the calling
//! thread) against a `wechatpay-sim` simulator over real loopback HTTP.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod canned;

/// The repository's README: its Rust examples run as doctests here, where every crate they
/// use is a dependency (`cargo test -p wechatpay-tests --doc`).
#[doc = include_str!("../../README.md")]
mod readme {}

use std::net::TcpListener;
use std::time::Duration;

use wechatpay_core::api::Closed;
use wechatpay_core::api::{
    QueryOrderByOutTradeNo, QueryOrderByTransactionId, QueryParkingOrder, QueryPartnerOrderByOutTradeNo,
    QueryPartnerOrderByTransactionId,
};
use wechatpay_core::charge::{ChargeCodepay, ChargeEvent, ChargeOutcome, ChargePolicy, ChargeStep};
use wechatpay_core::watch::{WatchOutcome, WatchPolicy, WatchQuery};
use wechatpay_core::{
    Config, Error, OutTradeNo, SubMchId, TransactionId, api::Operation, retry::RetryPolicy, transport::Driver,
};

pub use wechatpay_sim::{After, Fault, OrderKind, Route, Simulator, Times};

/// The sub-merchant bound to the simulated service provider (the simulator's built-in
/// merchant, the one throwaway merchant of every harness).
pub const SUB_MCHID: &str = wechatpay_sim::Credentials::builtin().sub_mchid();

/// Which adapter a client goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adapter {
    /// `wechatpay-reqwest` (async), driven by a current-thread Tokio runtime.
    Reqwest,
    /// `wechatpay-ureq` (blocking).
    Ureq,
}

/// Both adapters, for tests that loop over them.
pub const ADAPTERS: [Adapter; 2] = [Adapter::Reqwest, Adapter::Ureq];

/// A client of either adapter with one blocking `execute`.
#[derive(Debug)]
pub struct TestClient {
    adapter: Adapter,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Reqwest { client: wechatpay_reqwest::Client, runtime: tokio::runtime::Runtime },
    Ureq(wechatpay_ureq::Client),
}

impl TestClient {
    /// A client of `adapter` with `policy` and per-attempt `timeout`.
    ///
    /// # Panics
    /// When the client or the runtime cannot be built.
    pub fn new(adapter: Adapter, config: Config, policy: RetryPolicy, timeout: Duration) -> Self {
        let inner = match adapter {
            Adapter::Reqwest => Inner::Reqwest {
                client: wechatpay_reqwest::Client::new(driver(config, policy, timeout)).expect("reqwest client"),
                runtime: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime"),
            },
            Adapter::Ureq => Inner::Ureq(wechatpay_ureq::Client::new(driver(config, policy, timeout))),
        };
        Self { adapter, inner }
    }

    /// A client of `adapter` whose HTTP client trusts `extra_roots` (PEM CA certificates),
    /// handed in the documented way: reqwest's `tls_certs_merge` (on top of the platform's
    /// roots) through `ClientBuilder::http_client`, ureq's `RootCerts` through
    /// `ClientBuilder::agent`.
    ///
    /// # Panics
    /// When a certificate does not parse or a client cannot be built.
    pub fn trusting(
        adapter: Adapter,
        config: Config,
        policy: RetryPolicy,
        timeout: Duration,
        extra_roots: &[&str],
    ) -> Self {
        let inner = match adapter {
            Adapter::Reqwest => {
                let certs: Vec<reqwest::Certificate> = extra_roots
                    .iter()
                    .map(|pem| reqwest::Certificate::from_pem(pem.as_bytes()).expect("CA certificate"))
                    .collect();
                let http =
                    wechatpay_reqwest::http_client_builder().tls_certs_merge(certs).build().expect("reqwest client");
                Inner::Reqwest {
                    client: wechatpay_reqwest::Client::with_http_client(driver(config, policy, timeout), http),
                    runtime: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime"),
                }
            }
            Adapter::Ureq => {
                use ureq::tls::{Certificate, RootCerts};
                let certs: Vec<Certificate<'static>> = extra_roots
                    .iter()
                    .map(|pem| Certificate::from_pem(pem.as_bytes()).expect("CA certificate"))
                    .collect();
                let tls = wechatpay_ureq::tls_config().root_certs(RootCerts::new_with_certs(&certs)).build();
                let agent = wechatpay_ureq::agent(wechatpay_ureq::agent_config().tls_config(tls).build());
                Inner::Ureq(wechatpay_ureq::Client::with_agent(driver(config, policy, timeout), agent))
            }
        };
        Self { adapter, inner }
    }

    /// A client of `adapter` with the default options.
    pub fn with_defaults(adapter: Adapter, config: Config) -> Self {
        Self::new(adapter, config, RetryPolicy::default(), Duration::from_secs(30))
    }

    /// The adapter in use.
    pub fn adapter(&self) -> Adapter {
        self.adapter
    }

    /// The adapter client's `Debug` text.
    pub fn debug_text(&self) -> String {
        match &self.inner {
            Inner::Reqwest { client, .. } => format!("{client:?}"),
            Inner::Ureq(client) => format!("{client:?}"),
        }
    }

    /// Calls `op` through the adapter, blocking until it finishes.
    ///
    /// # Errors
    /// Whatever the adapter returns.
    pub fn execute<Op: Operation>(&self, op: &Op) -> Result<Op::Output, Error> {
        match &self.inner {
            Inner::Reqwest { client, runtime } => runtime.block_on(client.execute(op)),
            Inner::Ureq(client) => client.execute(op),
        }
    }

    /// Closes an order through the adapter's `close`.
    ///
    /// # Errors
    /// Whatever the adapter returns.
    pub fn close<Op: Operation<Output = Closed>>(&self, op: &Op) -> Result<(), Error> {
        match &self.inner {
            Inner::Reqwest { client, runtime } => runtime.block_on(client.close(op)),
            Inner::Ureq(client) => client.close(op),
        }
    }

    /// Watches an order through the adapter's `watch`; also returns the states it
    /// reported, in order.
    ///
    /// # Errors
    /// Whatever the adapter returns.
    pub fn watch<Q: WatchQuery>(
        &self,
        op: &Q,
        policy: &WatchPolicy,
    ) -> (Result<WatchOutcome<Q::Output>, Error>, Vec<String>) {
        use wechatpay_core::watch::WatchedOrder as _;
        let mut states = Vec::new();
        let on_change = |c: &wechatpay_core::watch::StateChange<'_, Q::Output>| {
            states.push(c.order.trade_state().to_owned());
        };
        let result = match &self.inner {
            Inner::Reqwest { client, runtime } => runtime.block_on(client.watch(op, policy, on_change)),
            Inner::Ureq(client) => client.watch(op, policy, on_change),
        };
        (result, states)
    }
}

impl TestClient {
    /// Charges a payment code through the adapter's `charge`; also returns each step in a
    /// word (`codepay 202`, `codepay 200 SUCCESS`, `codepay failed`, `query USERPAYING`,
    /// `query failed`, `reversing`, `reverse failed`, `reversed`, `confirmed REVOKED`, …).
    ///
    /// # Errors
    /// Whatever the adapter returns.
    pub fn charge<C: ChargeCodepay>(
        &self,
        op: &C,
        policy: &ChargePolicy,
    ) -> (Result<ChargeOutcome<C::Order>, Error>, Vec<String>) {
        use wechatpay_core::watch::WatchedOrder as _;
        let mut steps = Vec::new();
        let on_step = |s: &ChargeStep<'_, C::Order>| {
            steps.push(match &s.event {
                ChargeEvent::CodepayAnswered(o) => format!("codepay 200 {}", o.trade_state()),
                ChargeEvent::CodepayUserPaying => "codepay 202".to_owned(),
                ChargeEvent::CodepayFailed { .. } => "codepay failed".to_owned(),
                ChargeEvent::Queried { order, .. } => format!("query {}", order.trade_state()),
                ChargeEvent::QueryFailed(_) => "query failed".to_owned(),
                ChargeEvent::Reversing { .. } => "reversing".to_owned(),
                ChargeEvent::ReverseFailed(_) => "reverse failed".to_owned(),
                ChargeEvent::Reversed(_) => "reversed".to_owned(),
                ChargeEvent::Confirmed(o) => format!("confirmed {}", o.trade_state()),
                ChargeEvent::ConfirmFailed(_) => "confirm failed".to_owned(),
                _ => "other".to_owned(),
            });
        };
        let result = match &self.inner {
            Inner::Reqwest { client, runtime } => runtime.block_on(client.charge(op, policy, on_step)),
            Inner::Ureq(client) => client.charge(op, policy, on_step),
        };
        (result, steps)
    }

    /// Downloads, reads and proves a bill through the adapter's `bill`, recording every
    /// progress report.
    ///
    /// # Errors
    /// Whatever the adapter returns.
    pub fn bill<Op: wechatpay_core::bill::BillRequest + Sync>(
        &self,
        op: &Op,
        sink: &mut (dyn wechatpay_core::bill::BillSink + Send),
        progress: &mut Vec<wechatpay_core::bill::Progress>,
    ) -> Result<wechatpay_core::bill::BillFetch, wechatpay_core::bill::FetchError> {
        match &self.inner {
            Inner::Reqwest { client, runtime } => runtime.block_on(client.bill(op, sink, |p| progress.push(p))),
            Inner::Ureq(client) => client.bill(op, sink, |p| progress.push(p)),
        }
    }
}

/// The call loop's settings for a test client.
pub fn driver(config: Config, policy: RetryPolicy, timeout: Duration) -> Driver {
    Driver::new(config).with_retry_policy(policy).with_attempt_timeout(timeout)
}

/// The default policy with millisecond backoff, so retry tests stay quick.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_base_delay(Duration::from_millis(5))
        .with_rate_limit_base_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(50))
}

/// A simulator with its defaults.
///
/// # Panics
/// When it cannot start.
pub fn sim() -> Simulator {
    Simulator::start().expect("simulator starts")
}

/// The simulator's own client configuration (both hosts point at it).
///
/// # Panics
/// When it does not build.
pub fn config(sim: &Simulator) -> Config {
    sim.config_builder().build().expect("config")
}

/// `http://127.0.0.1:PORT` for a port that was free a moment ago and has no listener.
///
/// # Panics
/// When no loopback port can be bound.
pub fn closed_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn out_trade_no(s: &str) -> OutTradeNo {
    OutTradeNo::new(s).expect("valid out_trade_no")
}

fn transaction_id(s: &str) -> TransactionId {
    TransactionId::new(s).expect("valid transaction_id")
}

fn sub_mchid(s: &str) -> SubMchId {
    SubMchId::new(s).expect("valid sub_mchid")
}

/// Direct order by merchant order number.
pub fn by_out_trade_no(no: &str) -> QueryOrderByOutTradeNo {
    QueryOrderByOutTradeNo { out_trade_no: out_trade_no(no) }
}

/// Direct order by transaction id.
pub fn by_transaction_id(id: &str) -> QueryOrderByTransactionId {
    QueryOrderByTransactionId { transaction_id: transaction_id(id) }
}

/// Partner order by merchant order number.
pub fn partner_by_out_trade_no(sub: &str, no: &str) -> QueryPartnerOrderByOutTradeNo {
    QueryPartnerOrderByOutTradeNo { sub_mchid: sub_mchid(sub), out_trade_no: out_trade_no(no) }
}

/// Partner order by transaction id.
pub fn partner_by_transaction_id(sub: &str, id: &str) -> QueryPartnerOrderByTransactionId {
    QueryPartnerOrderByTransactionId { sub_mchid: sub_mchid(sub), transaction_id: transaction_id(id) }
}

/// Parking order, for a service provider (`Some(sub)`) or a merchant (`None`).
pub fn parking(no: &str, sub: Option<&str>) -> QueryParkingOrder {
    QueryParkingOrder { out_trade_no: out_trade_no(no), sub_mchid: sub.map(sub_mchid) }
}

/// The seed order every direct-order test uses.
pub const SEED_OUT_TRADE_NO: &str = "1217752501201407033233368018";

/// The transaction id of [`SEED_OUT_TRADE_NO`].
pub const SEED_TRANSACTION_ID: &str = "4200000985202103031441826014";
