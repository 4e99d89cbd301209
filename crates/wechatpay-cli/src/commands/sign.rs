//! `wechatpay sign`: the string-to-sign with visible line breaks, then the Authorization
//! header value as the last line.

use http::Method;
use wechatpay_core::api::Json;
use wechatpay_core::{Host, Nonce, SigningInput, unix_now};

use super::emit;
use crate::args::{Settings, SignArgs};
use crate::failure::{Failure, visible_newlines};
use crate::settings;

/// Runs the command.
pub(crate) fn run(s: &Settings, args: &SignArgs) -> Result<(), Failure> {
    let method_rule = "an HTTP method such as GET or POST (letters only)";
    if args.method.is_empty() || !args.method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(Failure::usage(format!("invalid method {:?}: rule: {method_rule}", args.method)));
    }
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Failure::usage(format!("invalid method {:?}: rule: {method_rule}", args.method)))?;
    let target = request_target(&args.url)?;
    let body = match &args.body_file {
        Some(path) => String::from_utf8(settings::read_file("--body-file", path)?)
            .map_err(|_| Failure::usage("invalid --body-file: rule: the body must be UTF-8 (JSON)"))?,
        None => String::new(),
    };
    let body = (!body.is_empty()).then_some(body.as_str());
    // The generic call checks the target and body (and is what gets prepared and signed).
    let op = Json::new(method, &target, body).map_err(|e| match e.field() {
        "target" => Failure::usage(format!("invalid url {:?}: {}; rule: {}", args.url, e.problem(), e.rule())),
        _ => Failure::usage(format!("invalid --body-file: {}; rule: {}", e.problem(), e.rule())),
    })?;
    let nonce = match &args.nonce {
        Some(n) => Nonce::new(n.as_str()).map_err(|e| Failure::usage(e.to_string()))?,
        None => Nonce::random().map_err(|e| Failure::other(e.to_string()))?,
    };
    let input = SigningInput::new(args.timestamp.unwrap_or_else(unix_now), nonce);
    let config = settings::config(s, false)?;
    let prepared = wechatpay_core::prepare(&config, &op, Host::Primary, input)?;
    let signature =
        config.signer().sign(prepared.string_to_sign().as_bytes()).map_err(|e| Failure::other(e.to_string()))?;
    let shown = visible_newlines(prepared.string_to_sign());
    emit(&format!(
        "string-to-sign (each line ends in a line break, shown as \\n):\n{}Authorization header:\n{}",
        shown,
        prepared.authorization(&signature)
    ))
}

/// The path-and-query of `url`, which may be a full URL.
fn request_target(url: &str) -> Result<String, Failure> {
    if url.starts_with("http://") || url.starts_with("https://") {
        let uri: http::Uri = url.parse().map_err(|_| Failure::usage(format!("invalid url {url:?}: not a URL")))?;
        Ok(uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned())
    } else {
        Ok(url.to_owned())
    }
}
