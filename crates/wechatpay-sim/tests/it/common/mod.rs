//! A tiny blocking HTTP/1.1 client for the tests: it sends what the core signs and hands
//! the raw answer back to the core.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Child;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use wechatpay_core::{Config, Error, Host, SigningInput, TransportError, TransportErrorKind, api::Operation};
use wechatpay_sim::Simulator;

/// A raw answer.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The same answer as an `http::Response`, for `wechatpay_core::parse_response`.
    pub(crate) fn to_http(&self) -> http::Response<Vec<u8>> {
        let mut r = http::Response::new(self.body.clone());
        *r.status_mut() = self.status;
        *r.headers_mut() = self.headers.clone();
        r
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// Connects with a read timeout (so a hung server shows up as a timeout).
pub(crate) fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(stream)
}

/// Serialises `req` onto the wire: origin-form target, `Host`, the core's headers.
pub(crate) fn encode(req: &http::Request<Vec<u8>>) -> Vec<u8> {
    let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let host = req.uri().authority().map_or("localhost", |a| a.as_str());
    let mut out = format!("{} {target} HTTP/1.1\r\nHost: {host}\r\n", req.method());
    for (name, value) in req.headers() {
        out.push_str(&format!("{name}: {}\r\n", value.to_str().expect("ASCII header")));
    }
    if !req.body().is_empty() {
        out.push_str(&format!("Content-Length: {}\r\n", req.body().len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(req.body());
    bytes
}

/// Reads one answer, keeping at most `cap + 1` body bytes (as an adapter with a cap would).
pub(crate) fn read_response(stream: &mut impl Read, cap: usize) -> io::Result<Response> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_len, status, headers) = loop {
        let mut hs = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut hs);
        match resp.parse(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))? {
            httparse::Status::Complete(n) => {
                let status = StatusCode::from_u16(resp.code.unwrap_or(0))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                let mut headers = HeaderMap::new();
                for h in resp.headers.iter() {
                    let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(io::Error::other)?;
                    headers.append(name, HeaderValue::from_bytes(h.value).map_err(io::Error::other)?);
                }
                break (n, status, headers);
            }
            httparse::Status::Partial => {
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed before an answer"));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    };
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Content-Length"))?;
    let want = length.min(cap.saturating_add(1));
    let mut body = buf.split_off(head_len);
    while body.len() < want {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "body cut short"));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(want);
    Ok(Response { status, headers, body })
}

/// Sends raw bytes on a new connection and reads the answer.
pub(crate) fn send_raw(addr: SocketAddr, bytes: &[u8]) -> io::Result<Response> {
    let mut stream = connect(addr)?;
    stream.write_all(bytes)?;
    read_response(&mut stream, usize::MAX - 1)
}

/// Sends a request on a new connection and reads the answer.
pub(crate) fn send(addr: SocketAddr, req: &http::Request<Vec<u8>>) -> io::Result<Response> {
    send_raw(addr, &encode(req))
}

/// Signs `op` now with `config`.
pub(crate) fn signed<Op: Operation>(config: &Config, op: &Op) -> http::Request<Vec<u8>> {
    wechatpay_core::prepare(config, op, Host::Primary, SigningInput::now().expect("random"))
        .expect("signed")
        .sign(config.signer())
        .expect("signed")
}

/// Signs a raw GET for `target` now with `config`.
pub(crate) fn signed_raw(config: &Config, target: &str) -> http::Request<Vec<u8>> {
    let input = SigningInput::now().expect("random");
    let op = wechatpay_core::api::Json::new(http::Method::GET, target, None).expect("a valid target");
    wechatpay_core::prepare(config, &op, Host::Primary, input).expect("prepared").sign(config.signer()).expect("signed")
}

fn transport(e: io::Error) -> Error {
    let kind = match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportErrorKind::Timeout,
        io::ErrorKind::ConnectionRefused => TransportErrorKind::Connect,
        _ => TransportErrorKind::Io,
    };
    Error::Transport(TransportError::new(kind, e))
}

/// Sends the raw request and lets the core judge the answer as the answer to `op`.
pub(crate) fn parse<Op: Operation>(
    config: &Config,
    addr: SocketAddr,
    op: &Op,
    req: &http::Request<Vec<u8>>,
) -> Result<Op::Output, Error> {
    let mut stream = connect(addr).map_err(transport)?;
    stream.write_all(&encode(req)).map_err(transport)?;
    let resp = read_response(&mut stream, config.max_body_bytes()).map_err(transport)?;
    wechatpay_core::parse_response(config, op, &resp.to_http(), std::time::SystemTime::now())
}

/// A direct query whose answer is expected to be an error.
pub(crate) fn any_direct() -> wechatpay_core::api::QueryOrderByOutTradeNo {
    wechatpay_core::api::QueryOrderByOutTradeNo { out_trade_no: "X1".parse().expect("valid") }
}

/// Signs, sends and parses `op` against the simulator.
pub(crate) fn call<Op: Operation>(sim: &Simulator, config: &Config, op: &Op) -> Result<Op::Output, Error> {
    parse(config, sim.addr(), op, &signed(config, op))
}

/// The default configuration for `sim`.
pub(crate) fn config(sim: &Simulator) -> Config {
    sim.config_builder().build().expect("config")
}

/// The API error inside `result`, or a panic saying what came instead.
pub(crate) fn api_error<T: std::fmt::Debug>(result: Result<T, Error>) -> wechatpay_core::ApiError {
    match result {
        Err(Error::Api(e)) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// The built `wechatpay-sim` binary.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_wechatpay-sim");

/// Kills the child when dropped, so a failing test leaves no process behind.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
