//! `wechatpay api METHOD PATH [--body JSON | --body-file FILE]`: any endpoint, like `gh api`.
//!
//! The call is a core [`Json`] operation, so it goes through the same driver as every other
//! command (a fresh signature per attempt, retries, failover, verification of the answer's
//! signature) and fails with the same exit codes. The target and the body are sent exactly as
//! given; the verified answer is printed indented with every token as received (numbers keep
//! their digits), or nothing at all for a `204`.

use http::Method;
use wechatpay_core::api::Json;

use super::emit;
use crate::args::{ApiArgs, Settings};
use crate::failure::Failure;
use crate::{json, settings};

/// The rule for METHOD.
const METHOD_RULE: &str = "an HTTP method such as GET, POST, PUT, PATCH or DELETE (letters only)";

/// Runs the command. Everything given is checked before the configuration is read and
/// before anything is signed.
pub(crate) fn run(s: &Settings, args: &ApiArgs) -> Result<(), Failure> {
    let op = operation(args)?;
    let client = settings::client(s)?;
    let answer = client.execute(&op)?;
    match answer.as_str() {
        Some(text) => emit(&json::pretty_raw(text)),
        None => Ok(()),
    }
}

/// The call `args` describe.
fn operation(args: &ApiArgs) -> Result<Json, Failure> {
    let invalid_method = || Failure::usage(format!("invalid method {:?}: rule: {METHOD_RULE}", args.method));
    if args.method.is_empty() || !args.method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid_method());
    }
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes()).map_err(|_| invalid_method())?;
    let body = match (&args.body, &args.body_file) {
        (Some(body), _) => Some(body.clone()),
        (None, Some(path)) => {
            let bytes = if path.as_os_str() == "-" {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
                    .map_err(|e| Failure::usage(format!("cannot read --body-file -: {e}")))?;
                bytes
            } else {
                settings::read_file("--body-file", path)?
            };
            Some(String::from_utf8(bytes).map_err(|e| {
                Failure::usage(format!(
                    "invalid body: --body-file is not UTF-8 (at byte {}); rule: one JSON document",
                    e.utf8_error().valid_up_to()
                ))
            })?)
        }
        (None, None) => None,
    };
    Ok(Json::new(method, &args.path, body.as_deref())?)
}
