//! `wechatpay verify`: checks a response or callback signature and names the failed check.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wechatpay_core::wire::MAX_CLOCK_SKEW_SECS;
use wechatpay_core::{SignatureHeaders, verify_signature};

use super::emit;
use crate::args::{Settings, VerifyArgs};
use crate::failure::{Failure, VERIFICATION};
use crate::settings;

/// Runs the command.
pub(crate) fn run(s: &Settings, args: &VerifyArgs) -> Result<(), Failure> {
    let keys = settings::key_store(s)?;
    let body = settings::read_file("--body-file", &args.body_file)?;
    let headers = SignatureHeaders::new(&args.timestamp, &args.nonce, &args.signature, &args.serial);
    let now = args.now.map_or_else(SystemTime::now, |secs| UNIX_EPOCH + Duration::from_secs(secs));
    match verify_signature(&keys, &headers, &body, now, MAX_CLOCK_SKEW_SECS) {
        Ok(()) => {
            emit(&format!("valid: signed by {} over {} body bytes at {}", args.serial, body.len(), args.timestamp))
        }
        Err(failure) => Err(Failure {
            code: VERIFICATION,
            message: format!("invalid: the {} check failed: {failure}", failure.check()),
        }),
    }
}
