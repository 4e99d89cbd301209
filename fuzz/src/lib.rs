//! The fuzz targets' logic, as plain functions over bytes, so the same code runs under
//! libFuzzer (`fuzz_targets/*.rs`) and in the stable corpus replay test of the main
//! workspace (`crates/wechatpay-core/tests/fuzz_corpus.rs` includes `targets.rs`).

#[path = "targets.rs"]
pub mod targets;

#[path = "sim_targets.rs"]
pub mod sim_targets;
