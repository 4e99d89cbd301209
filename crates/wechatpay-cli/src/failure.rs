//! Exit codes and what goes to stderr when a command fails.

use std::fmt;
use std::process::ExitCode;

use wechatpay_core::Error;

/// A failed command: its exit code and the message for stderr.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// What went wrong, for stderr.
    pub message: String,
}

/// Success.
pub const OK: u8 = 0;
/// Anything else, e.g. a body that could not be decoded.
pub const OTHER: u8 = 1;
/// Invalid input or usage; nothing was signed or sent.
pub const USAGE: u8 = 2;
/// WeChat Pay answered with an error.
pub const API: u8 = 3;
/// The response failed signature verification.
pub const VERIFICATION: u8 = 4;
/// Transport failure or timeout after retries and failover.
pub const TRANSPORT: u8 = 5;

impl Failure {
    /// Invalid input or usage (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self { code: USAGE, message: message.into() }
    }

    /// Anything else (exit 1).
    pub fn other(message: impl Into<String>) -> Self {
        Self { code: OTHER, message: message.into() }
    }

    /// The exit code as a process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The exit code for a core error.
pub fn code_of(error: &Error) -> u8 {
    match error {
        Error::InvalidInput(_) | Error::Key(_) => USAGE,
        Error::Api(_) | Error::UnexpectedResponse(_) => API,
        Error::Verification(_) => VERIFICATION,
        Error::Transport(_) => TRANSPORT,
        _ => OTHER,
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let mut message = error.to_string();
        if let Error::Api(api) = &error {
            if let Some(msg) = api.truncated_sign_message() {
                message.push_str("\nWeChat Pay verified this string-to-sign (line breaks shown as \\n):\n");
                message.push_str(&visible_newlines(msg));
                message.push_str(
                    "\nCompare it with `wechatpay sign` for the same request; check the clock, key and serial_no.",
                );
            }
        }
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(&format!("\ncaused by: {cause}"));
            source = cause.source();
        }
        Self { code: code_of(&error), message }
    }
}

/// Shows each `\n` as a literal `\n` at the end of its line.
pub fn visible_newlines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\\n\n");
        }
        out.push_str(line);
    }
    out
}

impl From<wechatpay_core::InvalidInput> for Failure {
    fn from(error: wechatpay_core::InvalidInput) -> Self {
        Failure::usage(error.to_string())
    }
}
