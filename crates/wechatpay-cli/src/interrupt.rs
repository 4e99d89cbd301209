//! Ctrl-C (SIGINT): one stderr line saying where the command stopped, exit 130,
//! stdout holding only complete lines.
//!
//! The handler (on `ctrlc`'s own thread) records that an interrupt came. A command that
//! prints many lines itself (`get-many`) is *cooperative*: its printing loop notices within
//! a moment, stops, and returns [`interrupted`]. For every other command the handler waits
//! until no line is being written (it takes the stdout lock), says where the command was
//! ([`note`]) and exits 130 at once — a query in flight or a watch's wait is not waited for.

use std::io::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::failure::{Failure, INTERRUPTED};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static COOPERATIVE: AtomicBool = AtomicBool::new(false);
static WHERE: Mutex<String> = Mutex::new(String::new());

/// Installs the handler; a failure to install leaves the default (the process dies quietly).
pub(crate) fn install() {
    let _ = ctrlc::set_handler(on_interrupt);
}

fn on_interrupt() {
    if REQUESTED.swap(true, Ordering::SeqCst) {
        // A second Ctrl-C: the user means it.
        std::process::exit(i32::from(INTERRUPTED));
    }
    if COOPERATIVE.load(Ordering::SeqCst) {
        // The command stops itself; should it be stuck, end anyway after a while.
        std::thread::sleep(Duration::from_secs(5));
    }
    // Should a writer hold stdout forever (a reader that stopped reading), end anyway.
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(5));
        let _ = writeln!(std::io::stderr(), "interrupted: {} (stdout was blocked)", where_stopped());
        std::process::exit(i32::from(INTERRUPTED));
    });
    // No line is half written while this lock is held; nothing writes after it.
    let mut out = std::io::stdout().lock();
    let _ = out.flush();
    let _ = writeln!(std::io::stderr(), "interrupted: {}", where_stopped());
    std::process::exit(i32::from(INTERRUPTED));
}

/// Whether Ctrl-C was pressed (for cooperative commands' loops).
pub(crate) fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// The calling command ends itself when [`requested`] (it checks at least every second).
pub(crate) fn cooperate() {
    COOPERATIVE.store(true, Ordering::SeqCst);
}

/// Records where the command is, for the line printed on Ctrl-C (no secrets; escaped text).
pub(crate) fn note(text: String) {
    *WHERE.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = text;
}

fn where_stopped() -> String {
    let text = WHERE.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if text.is_empty() { "stopped; stdout holds only the complete lines printed before".to_owned() } else { text }
}

/// The failure of a cooperative command that stopped on Ctrl-C: `interrupted: {what}`,
/// exit 130 (main prints it as `error: interrupted: …`).
pub(crate) fn interrupted(what: String) -> Failure {
    Failure { code: INTERRUPTED, message: format!("interrupted: {what}") }
}
