//! A local WeChat Pay API v3 simulator: real HTTP/1.1 on loopback, real request
//! verification and real response signatures, with throwaway keys.
//!
//! It serves the five order queries of the SDK (direct and partner orders by
//! `out_trade_no` or `transaction_id`, and parking-service orders), the two closes (a
//! `NOTPAY` order becomes `CLOSED`; orders can also be scheduled to change state after some
//! queries or a delay: [`Simulator::schedule`]), the eight prepay endpoints (orders created
//! in every scene, paid as a payer would: on the cashier page an `h5_url` opens, or by the
//! simulated WeChat client receiving invoke parameters, [`Simulator::request_payment`])
//! and the platform certificate download,
//! checks every request
//! the way WeChat Pay does (`Accept`, `User-Agent`, the `Authorization` signature over the
//! request target exactly as received) and signs every answer with either the simulated
//! WeChat Pay public key or the simulated platform certificate. Faults (rate limits,
//! gateway pages, tampered or unsigned bodies, hangs, dropped connections, ...) can be
//! injected per route to test clients.
//!
//! ```
//! use wechatpay_core::{api::QueryOrderByOutTradeNo, Host, OutTradeNo, SigningInput};
//! use wechatpay_sim::{Fault, Route, Simulator, Times};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = Simulator::start()?; // 127.0.0.1, a free port, the seed orders
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//!
//! // A client configuration for the simulated merchant: keys, ids and URLs included.
//! let config = sim.config_builder().build()?;
//! let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018")? };
//! let request = wechatpay_core::prepare(&config, &op, Host::Primary, SigningInput::now()?)?.sign(config.signer())?;
//! assert!(request.uri().to_string().starts_with(&sim.base_url()));
//! // ... send `request` with any HTTP client (or hand a client to a
//! // `wechatpay_core::transport::Driver`) and give the answer to `wechatpay_core::parse_response` ...
//!
//! // The next answer on this route is a signed 429 FREQUENCY_LIMITED.
//! sim.inject(Fault::RateLimited, Times::Next(1), Some(Route::DirectByOutTradeNo));
//! sim.stop();
//! # Ok(())
//! # }
//! ```
//!
//! Refunds (`POST /v3/refund/domestic/refunds`, the refund query and the abnormal apply) are
//! served against paid orders and complete by themselves ([`RefundMode::Auto`], the default)
//! or when told ([`Simulator::set_refund_status`]); each final state is notified (`REFUND.*`).
//!
//! `GET /v3/certificates` lists the platform certificates sealed with the merchant's APIv3
//! key ([`Simulator::apiv3_key`]); [`Simulator::rotate_certificate`] rotates them, and
//! [`SimBuilder::public_key_only`] simulates a merchant that has none. [`notification`]
//! builds signed, sealed payment notifications.
//!
//! `Simulator::builder().tls(true)` serves HTTPS with a throwaway CA generated at start
//! ([`Simulator::ca_certificate_pem`] is what a client must trust).
//!
//! Seed orders (`seeds/orders.json`) cover every trade state; their ids are listed in the
//! crate README. Run the simulator as a process with the `wechatpay-sim` binary
//! ([`run_cli`]).
//!
//! Inside, the simulator is layered (see the workspace's `DESIGN.md`): `net` (sockets,
//! HTTP/1.1, TLS, connection slots; nothing of payments), `protocol` (request
//! verification, answer signing, faults, the route table), `world` (typed orders, each
//! changed only through its one transition function, with every side effect), `control`
//! (one control API: what the [`Simulator`] handle and the `/sim/` admin HTTP both call)
//! and `delivery` (notifications: envelope, encryption, signing, redelivery, log).
//!
//! The keys are public test keys (see `testdata/README.md`): never use them for anything
//! real. The simulator uses no async runtime: a thread accepts connections and each
//! connection gets a thread, up to 512; at capacity the connection idle longest (waiting
//! for, or slowly sending, a request) is closed to make room, and idle or slow connections
//! time out after 10 s, so a flood of idle connections cannot lock clients out.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
mod clock;
mod control;
mod credentials;
mod delivery;
mod handle;
mod net;
mod protocol;
mod sink;
mod world;

pub use delivery::notification;
pub use protocol::auth;

/// The README's Rust examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use cli::run_cli;
pub use credentials::Credentials;
pub use handle::{SimBuilder, Simulator};
pub use protocol::faults::{Fault, Times};
pub use protocol::routes::Route;
pub use protocol::signing::SigningKeyChoice;
pub use sink::{NotifySink, SINK_PATH};
pub use world::{After, OrderError, OrderKind, RefundMode};
