//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`: seeds built from the
//! fixtures, and a regression file for every crash the fuzzers found) through the very
//! functions the cargo-fuzz targets call, on stable, in `cargo test`. (The `authorization`
//! corpus is replayed by `wechatpay-sim`'s `tests/it/fuzz_corpus.rs`: it fuzzes the simulator.)

// `targets.rs` is a public module of the fuzz crate; here it is private, so its `pub`
// items are unreachable by design.
#[allow(unreachable_pub)]
#[path = "../../../../fuzz/src/targets.rs"]
mod targets;

use std::path::PathBuf;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()).unwrap_or_else(|e| panic!("list {}: {e}", dir.display())))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the {target} corpus has only {} files", files.len());
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "fuzz target {target} fails on {}", file.display());
    }
}

#[test]
fn parse_response_corpus() {
    replay("parse_response", targets::parse_response);
}

#[test]
fn error_body_corpus() {
    replay("error_body", targets::error_body);
}

#[test]
fn keys_corpus() {
    replay("keys", targets::keys);
}

#[test]
fn ids_corpus() {
    replay("ids", targets::ids);
}

#[test]
fn open_enums_corpus() {
    replay("open_enums", targets::open_enums);
}

#[test]
fn der_corpus() {
    replay("der", targets::der);
}

#[test]
fn notification_corpus() {
    replay("notification", targets::notification);
}

#[test]
fn bill_reader_corpus() {
    replay("bill_reader", targets::bill_reader);
}
