//! One module per subcommand.

pub(crate) mod api;
pub(crate) mod bill;
pub(crate) mod certificates;
pub(crate) mod charge;
pub(crate) mod demo;
pub(crate) mod get_many;
pub(crate) mod listen;
pub(crate) mod notification;
pub(crate) mod parking;
pub(crate) mod prepay;
pub(crate) mod query;
pub(crate) mod refund;
pub(crate) mod sign;
pub(crate) mod verify;
pub(crate) mod watch;

use serde::Serialize;

use crate::failure::Failure;

/// Prints one JSON document on stdout (control characters escaped: [`crate::json`]).
pub(crate) fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = crate::json::to_pretty(value).map_err(|e| Failure::other(format!("cannot print JSON: {e}")))?;
    emit(&text)
}

/// Writes `text` and a line break to stdout. A closed pipe (`| head`) ends quietly; any
/// other write error is an error, never a panic.
pub(crate) fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::other(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Like `println!`, but a closed stdout is ignored instead of panicking (for narration).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
pub(crate) use say;
