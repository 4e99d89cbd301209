//! Replays the committed fuzz corpus of the simulator's targets (`fuzz/corpus/authorization`)
//! through the very function the cargo-fuzz target calls, on stable, in `cargo test`.

#[allow(unreachable_pub)]
#[path = "../../../../fuzz/src/sim_targets.rs"]
mod sim_targets;

use std::path::PathBuf;

#[test]
fn authorization_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/authorization");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()).unwrap_or_else(|e| panic!("list {}: {e}", dir.display())))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the authorization corpus has only {} files", files.len());
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        let outcome = std::panic::catch_unwind(|| sim_targets::authorization(&data));
        assert!(outcome.is_ok(), "fuzz target authorization fails on {}", file.display());
    }
}
