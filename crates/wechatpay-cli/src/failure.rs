//! Exit codes and what goes to stderr when a command fails.

use std::fmt;
use std::process::ExitCode;

use std::fmt::Write as _;

use wechatpay_core::{Error, VerificationFailure, untrusted};

/// A failed command: its exit code and the message for stderr.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The exit code.
    pub(crate) code: u8,
    /// What went wrong, for stderr.
    pub(crate) message: String,
}

/// Success.
pub(crate) const OK: u8 = 0;
/// Anything else, e.g. a body that could not be decoded.
pub(crate) const OTHER: u8 = 1;
/// Invalid input or usage; nothing was signed or sent.
pub(crate) const USAGE: u8 = 2;
/// WeChat Pay answered with an error.
pub(crate) const API: u8 = 3;
/// The response failed signature verification.
pub(crate) const VERIFICATION: u8 = 4;
/// Transport failure or timeout after retries and failover.
pub(crate) const TRANSPORT: u8 = 5;
/// A watch's deadline came and the order is still pending (its last answer is on stdout).
pub(crate) const STILL_PENDING: u8 = 6;
/// A payment-code charge ended not paid (`PAYERROR`, `REVOKED`, `CLOSED`; the order is on stdout).
pub(crate) const NOT_PAID: u8 = 7;
/// A payment-code charge ended unresolved: the reverse could not be confirmed; escalate.
pub(crate) const UNRESOLVED: u8 = 8;
/// Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const INTERRUPTED: u8 = 130;

impl Failure {
    /// Invalid input or usage (exit 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self { code: USAGE, message: message.into() }
    }

    /// Anything else (exit 1).
    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self { code: OTHER, message: message.into() }
    }

    /// The exit code as a process exit code.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The exit code for a core error.
pub(crate) fn code_of(error: &Error) -> u8 {
    match error {
        Error::InvalidInput(_) | Error::Key(_) => USAGE,
        Error::Api(_) | Error::UnexpectedResponse(_) => API,
        Error::Verification(_) => VERIFICATION,
        Error::Transport(_) => TRANSPORT,
        _ => OTHER,
    }
}

impl From<Error> for Failure {
    /// Server text (and anything else that may quote it) is escaped, on one line and bounded
    /// ([`untrusted`]); the string-to-sign of a `SIGN_ERROR` is shown line by line, indented,
    /// each line escaped.
    fn from(error: Error) -> Self {
        let mut message = untrusted::printable(&error.to_string()).max_chars(MAX_LINE_CHARS).to_string();
        if let Error::Api(api) = &error {
            if let Some(msg) = api.truncated_sign_message() {
                message.push_str("\nWeChat Pay verified this string-to-sign (line breaks shown as \\n):\n");
                message.push_str(&indented_lines(msg));
                message.push_str(
                    "\nCompare it with `wechatpay sign` for the same request; check the clock, key and serial_no.",
                );
            }
            if api.code.as_str() == "SIGN_ERROR" {
                message.push_str(SIGN_ERROR_CAUSES);
            }
        }
        if let Error::Verification(v) = &error {
            if let VerificationFailure::UnknownSerial(_) = v.failure {
                message.push_str(UNKNOWN_SERIAL_FIX);
            }
        }
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            let _ = write!(message, "\ncaused by: {}", untrusted::printable(&cause_text).max_chars(MAX_LINE_CHARS));
            source = cause.source();
        }
        Self { code: code_of(&error), message }
    }
}

/// What usually causes a `SIGN_ERROR`, and how to check each.
const SIGN_ERROR_CAUSES: &str = "\nUsual causes:\n\
    \x20 - WECHATPAY_MCHID is not the merchant the key and certificate were issued to;\n\
    \x20 - WECHATPAY_SERIAL_NO is not the serial of the merchant API certificate: \
    `openssl x509 -noout -serial -in apiclient_cert.pem` prints it (the hex digits after serial=);\n\
    \x20 - WECHATPAY_PRIVATE_KEY belongs to another certificate (an older one, or another merchant's): \
    its public key must match `openssl x509 -noout -pubkey -in apiclient_cert.pem`;\n\
    \x20 - the clock is off by more than five minutes (the timestamp is in the string-to-sign).";

/// How to fix an answer signed by a key that is not configured.
const UNKNOWN_SERIAL_FIX: &str = "\nThe answer names a WeChat Pay key that is not configured: for a PUB_KEY_ID_… set \
    WECHATPAY_PUBLIC_KEY_ID and WECHATPAY_PUBLIC_KEY (the WeChat Pay public key from the merchant platform); \
    for a certificate serial download the platform certificates (`wechatpay certificates download`) and set \
    WECHATPAY_PLATFORM_CERTS.";

/// The bound on one line of an error message (its parts are bounded again inside).
const MAX_LINE_CHARS: usize = 2000;

/// The bound on a server's string-to-sign shown (WeChat Pay already truncates it).
const MAX_SIGN_MESSAGE_CHARS: usize = 2000;

/// Untrusted multi-line text shown as its lines, each escaped, indented by four spaces (so
/// no line can pass for an `error:` line) and ending in a visible `\n` where a line break
/// was; cut after [`MAX_SIGN_MESSAGE_CHARS`] characters, noting the length.
fn indented_lines(text: &str) -> String {
    let shown = match text.char_indices().nth(MAX_SIGN_MESSAGE_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    let mut out = String::with_capacity(shown.len() + 16);
    for (i, line) in shown.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\\n\n");
        }
        if !line.is_empty() {
            let _ = write!(out, "    {}", untrusted::printable(line).max_chars(MAX_SIGN_MESSAGE_CHARS));
        }
    }
    if shown.len() < text.len() {
        let _ = write!(out, "… ({} bytes in all)", text.len());
    }
    out
}

/// Shows each `\n` as a literal `\n` at the end of its line (for text this program made).
pub(crate) fn visible_newlines(text: &str) -> String {
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
    /// The message quotes the offending input escaped (core's `InvalidInput` shows it so).
    fn from(error: wechatpay_core::InvalidInput) -> Self {
        Failure::usage(error.to_string())
    }
}
