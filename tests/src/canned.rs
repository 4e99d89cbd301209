//! Canned raw HTTP answers for transport tests: what the simulator's faults do not cover
//! (redirects, chunked bodies, unsigned errors), served byte for byte on loopback by a
//! throwaway server that checks nothing but two request headers. Used by
//! `tests/it/transport_faults.rs` over every adapter; never a WeChat Pay stand-in.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wechatpay_core::api::QueryOrderByOutTradeNo;
use wechatpay_core::{
    Config, MchId, OutTradeNo, SerialNo, crypto::SignError, crypto::Signer, crypto::Verifier, crypto::VerifyError,
};

/// Signs with 256 zero bytes (the canned server never checks signatures).
#[derive(Debug)]
struct ZeroSigner;

impl Signer for ZeroSigner {
    fn sign(&self, _: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(vec![0; 256])
    }
}

/// Knows no key: any answer that reaches verification fails it.
#[derive(Debug)]
struct NoKeys;

impl Verifier for NoKeys {
    fn knows(&self, _: &str) -> bool {
        false
    }
    fn verify(&self, _: &str, _: &[u8], _: &[u8]) -> Result<(), VerifyError> {
        Err(VerifyError::UnknownSerial)
    }
}

/// A configuration for transport tests: a dummy signer, no WeChat Pay key, the given hosts
/// and body cap.
///
/// # Panics
/// If `base` or `backup` is not a valid base URL (a test bug).
pub fn transport_config(base: &str, backup: &str, max_body: usize) -> Config {
    Config::builder(
        MchId::new("1230000109").expect("valid mchid"),
        SerialNo::new("444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0").expect("valid serial"),
        ZeroSigner,
        NoKeys,
    )
    .base_url(base)
    .backup_url(backup)
    .max_body_bytes(max_body)
    .build()
    .expect("valid test configuration")
}

/// The query the canned tests send.
///
/// # Panics
/// Never (the id is valid).
pub fn query() -> QueryOrderByOutTradeNo {
    QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018").expect("valid id") }
}

/// Serves up to `max` connections with `respond`, counting them, after reading each request
/// head (which must ask for an identity encoding and carry a WeChat Pay `Authorization`).
/// The thread ends after `max` connections. Returns the base URL and the counter.
///
/// # Panics
/// If no loopback port can be bound.
pub fn serve(max: usize, respond: fn(&mut TcpStream)) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max) {
            let Ok(mut stream) = stream else { return };
            seen.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
            assert!(head.contains("accept-encoding: identity\r\n"), "{head}");
            assert!(head.contains("authorization: wechatpay2-sha256-rsa2048 "), "{head}");
            respond(&mut stream);
        }
    });
    (url, count)
}

/// An unsigned `500 SYSTEM_ERROR`.
pub fn unsigned_500(stream: &mut TcpStream) {
    let body = r#"{"code":"SYSTEM_ERROR","message":"try again"}"#;
    let _ = write!(
        stream,
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nRequest-ID: rid-500\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// An unsigned `400 PARAM_ERROR`.
pub fn unsigned_400(stream: &mut TcpStream) {
    let body = r#"{"code":"PARAM_ERROR","message":"bad","detail":{"field":"mchid"}}"#;
    let _ = write!(
        stream,
        "HTTP/1.1 400 Bad Request\r\nRequest-ID: rid-400\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A 200 announcing 64 MiB, of which 4 KiB are sent.
pub fn huge_content_length(stream: &mut TcpStream) {
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 67108864\r\n\r\n");
    let _ = stream.write_all(&[b'x'; 4096]);
}

/// A 200 with a 64 KiB chunked body (no length announced).
pub fn huge_chunked(stream: &mut TcpStream) {
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    let chunk = [b'x'; 1024];
    for _ in 0..64 {
        if stream
            .write_all(b"400\r\n")
            .and_then(|()| stream.write_all(&chunk))
            .and_then(|()| stream.write_all(b"\r\n"))
            .is_err()
        {
            return;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
}

/// A `302` to another host.
pub fn redirect(stream: &mut TcpStream) {
    let _ = stream.write_all(
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
}

/// Holds the connection for 5 s without answering.
pub fn hang(stream: &mut TcpStream) {
    std::thread::sleep(Duration::from_secs(5));
    let _ = stream.flush();
}
