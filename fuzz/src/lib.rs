//! The fuzz targets' logic, as plain functions over bytes, so the same code runs under
//! libFuzzer (`fuzz_targets/*.rs`) and in the stable corpus replay test of the main
//! workspace (`crates/wechatpay-core/tests/it/fuzz_corpus.rs` includes `targets.rs`).

#[path = "targets.rs"]
pub mod targets;

#[path = "sim_targets.rs"]
pub mod sim_targets;

/// The throwaway merchant that `targets` configures: the simulator's built-in one.
mod credentials {
    /// The merchant id.
    pub(crate) const MCHID: &str = wechatpay_sim::Credentials::builtin().mchid();
    /// The merchant API certificate serial.
    pub(crate) const MERCHANT_SERIAL: &str = wechatpay_sim::Credentials::builtin().merchant_serial();
}
