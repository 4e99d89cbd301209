//! What the binary tests share: a running simulator with its state directory, and the
//! binary run with exactly the variables the simulator wrote to `env` (the environment is
//! otherwise cleared). Each test file uses part of it.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use wechatpay_sim::Simulator;

/// The built `wechatpay` binary.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_wechatpay");

/// A running simulator, its state directory (removed on drop) and the variables of its `env`.
pub(crate) struct SimEnv {
    pub(crate) sim: Simulator,
    pub(crate) dir: PathBuf,
    pub(crate) vars: Vec<(String, String)>,
}

impl SimEnv {
    /// Writes `sim`'s state to a fresh temporary directory and reads its `env` back.
    pub(crate) fn new(sim: Simulator) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("wechatpay-cli-test-{}-{n}", std::process::id()));
        wechatpay_sim::cli::write_state(&dir, &sim).unwrap();
        let vars = wechatpay_sim::cli::parse_env(&std::fs::read_to_string(dir.join("env")).unwrap());
        Self { sim, dir, vars }
    }

    /// The value of variable `name` in `env`.
    pub(crate) fn var(&self, name: &str) -> Option<&str> {
        self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The binary with the simulator's variables but those named in `remove`, and nothing else.
    pub(crate) fn command(&self, remove: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear().envs(self.vars.iter().filter(|(k, _)| !remove.contains(&k.as_str())).map(|(k, v)| (k, v)));
        cmd
    }
}

impl Drop for SimEnv {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A file of the core's test data (throwaway keys, fixtures).
pub(crate) fn core_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wechatpay-core/tests/data").join(name)
}
