//! Writing answers: signed (or deliberately mis-signed) JSON, the gateway page and the
//! streamed oversized body.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use wechatpay_core::unix_now;

use crate::net::http::{write_all, write_head};
use crate::net::stop::Stop;
use crate::protocol::reply::Reply;
use crate::protocol::signing::{ResponseKey, SignatureHeaders, UNKNOWN_SERIAL};

static INSTANCES: AtomicU64 = AtomicU64::new(0);

/// The `Request-ID`s of one simulator: unique per answer.
#[derive(Debug)]
pub(crate) struct RequestIds {
    next: AtomicU64,
    instance: u64,
}

impl Default for RequestIds {
    fn default() -> Self {
        Self { next: AtomicU64::new(0), instance: INSTANCES.fetch_add(1, Ordering::Relaxed) }
    }
}

impl RequestIds {
    /// A fresh `Request-ID`.
    pub(crate) fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("08{:08X}{:04X}{:010X}", unix_now() & 0xFFFF_FFFF, self.instance & 0xFFFF, n)
    }
}

/// How an answer is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signature {
    /// Correctly.
    Valid,
    /// Correctly, then a byte of the body is changed.
    Tampered,
    /// Correctly, but 600 s in the past.
    Stale,
    /// With a `WECHATPAY/SIGNTEST/` probe.
    Probe,
    /// Correctly, under a serial no client holds.
    UnknownSerial,
    /// Not at all.
    None,
}

/// Sends `reply` as JSON; `false` when the connection must close.
pub(crate) fn json(
    stream: &mut impl Write,
    ids: &RequestIds,
    reply: &Reply,
    key: &ResponseKey,
    signature: Signature,
    close: bool,
) -> bool {
    let now = unix_now();
    let mut body = reply.body.to_vec();
    // A 204 has no body, so neither Content-Type nor Content-Length (RFC 9110 §8.6).
    let no_content = reply.status == 204;
    let mut headers = Vec::with_capacity(10);
    if !no_content {
        headers.push(("Content-Type", "application/json; charset=utf-8".to_owned()));
    }
    headers.push(("Request-ID", ids.next()));
    headers.push(("Server", "wechatpay-sim".to_owned()));
    let signed = match signature {
        Signature::None => None,
        Signature::Valid => Some(SignatureHeaders::new(key, now, &body)),
        Signature::Stale => Some(SignatureHeaders::new(key, now.saturating_sub(600), &body)),
        Signature::UnknownSerial => {
            let mut h = SignatureHeaders::new(key, now, &body);
            h.serial = UNKNOWN_SERIAL.to_owned();
            Some(h)
        }
        Signature::Probe => {
            let mut h = SignatureHeaders::new(key, now, &body);
            let junk: Vec<u8> = (0u8..=255).collect();
            h.signature = format!("WECHATPAY/SIGNTEST/{}", base64::engine::general_purpose::STANDARD.encode(junk));
            Some(h)
        }
        Signature::Tampered => {
            let h = SignatureHeaders::new(key, now, &body);
            tamper(&mut body);
            Some(h)
        }
    };
    if let Some(h) = signed {
        headers.extend(h.to_headers());
    }
    if !no_content {
        headers.push(("Content-Length", body.len().to_string()));
    }
    let mut out = Vec::with_capacity(body.len() + 1024);
    // Writing into a Vec cannot fail.
    let _ = write_head(&mut out, reply.status, &headers, close);
    out.extend_from_slice(&body);
    write_all(stream, &out) && !close
}

/// Changes one byte: the first digit if there is one (an amount, say), else the last byte.
fn tamper(body: &mut [u8]) {
    if let Some(b) = body.iter_mut().find(|b| b.is_ascii_digit()) {
        *b = if *b == b'9' { b'8' } else { *b + 1 };
    } else if let Some(b) = body.last_mut() {
        *b ^= 0x01;
    }
}

/// A gateway's `502` HTML page, without `Request-ID` or signature.
pub(crate) fn bad_gateway(stream: &mut impl Write, close: bool) -> bool {
    const PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
        <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n</body>\r\n</html>\r\n";
    let headers = [("Content-Type", "text/html".to_owned()), ("Content-Length", PAGE.len().to_string())];
    let mut out = Vec::with_capacity(PAGE.len() + 256);
    let _ = write_head(&mut out, 502, &headers, close);
    out.extend_from_slice(PAGE.as_bytes());
    write_all(stream, &out) && !close
}

/// A `200` whose body is `len` bytes, streamed in chunks, unsigned.
pub(crate) fn oversized(stream: &mut impl Write, ids: &RequestIds, stop: &Stop, len: usize, close: bool) -> bool {
    static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];
    let headers = [
        ("Content-Type", "application/json; charset=utf-8".to_owned()),
        ("Request-ID", ids.next()),
        ("Content-Length", len.to_string()),
    ];
    let mut head = Vec::with_capacity(256);
    let _ = write_head(&mut head, 200, &headers, close);
    if !write_all(stream, &head) {
        return false;
    }
    let mut left = len;
    while left > 0 {
        if stop.stopping() {
            return false;
        }
        let n = left.min(CHUNK.len());
        if !write_all(stream, &CHUNK[..n]) {
            return false;
        }
        left -= n;
    }
    !close
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tampering_changes_exactly_one_byte() {
        let mut a = br#"{"total":100}"#.to_vec();
        tamper(&mut a);
        assert_eq!(a, br#"{"total":200}"#);
        let mut b = b"{}".to_vec();
        tamper(&mut b);
        assert_eq!(b, b"{|");
        let mut c = Vec::new();
        tamper(&mut c);
        assert!(c.is_empty());
    }
}
