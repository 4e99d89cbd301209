//! `wechatpay notification listen`: a local notification receiver for development (the
//! counterpart of `stripe listen`).
//!
//! A small HTTP/1.1 server on `std::net`: one thread per connection (at most
//! [`MAX_CONNECTIONS`] at once; more are answered `503`), one request per connection,
//! [`IO_TIMEOUT`] on reads and writes, a head of at most [`MAX_HEAD_BYTES`], a body of at most
//! [`MAX_BODY_BYTES`] framed by `Content-Length` (chunked bodies get `411`). A `POST` to the
//! path that passes every check of PROTOCOL.md §8 is printed on stdout as one JSON line and answered
//! `204`; everything else gets a `4xx` with `{"code":"FAIL",…}` and a line on stderr saying
//! why. Nothing unverified reaches stdout. A closed stdout ends the process quietly.

use std::io::{self, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use wechatpay_core::notify::{Receiver, answer};
use wechatpay_core::untrusted;

use super::notification::{Document, receiver};
use crate::args::{NotificationListenArgs, Settings};
use crate::failure::Failure;

/// Connections served at once.
pub(crate) const MAX_CONNECTIONS: usize = 64;
/// Read and write timeout of a connection.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head accepted, in bytes.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest request body accepted, in bytes (real notifications are a few KiB).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most header fields accepted.
const MAX_HEADERS: usize = 64;

/// `wechatpay notification listen`: runs until killed (or stdout closes).
pub(crate) fn run(s: &Settings, args: &NotificationListenArgs) -> Result<(), Failure> {
    if !args.path.starts_with('/') {
        return Err(Failure::usage(format!("invalid --path {:?}: rule: it starts with /", args.path)));
    }
    let receiver = Arc::new(receiver(s, &args.kind, None)?);
    let listener = TcpListener::bind(args.addr.as_str())
        .map_err(|e| Failure::usage(format!("cannot listen on --addr {:?}: {e}", args.addr)))?;
    let local = listener.local_addr().map_err(|e| Failure::other(format!("cannot read the bound address: {e}")))?;
    print_line(&format!("listening on http://{local}"));
    tally(None);
    std::thread::spawn(watch_stdout);
    let active = Arc::new(AtomicUsize::new(0));
    let path: Arc<str> = Arc::from(args.path.as_str());
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
            let _ = write_response(&mut stream, &fail(StatusCode::SERVICE_UNAVAILABLE, "too many connections"));
            continue;
        }
        let (receiver, path, active) = (receiver.clone(), path.clone(), active.clone());
        std::thread::spawn(move || {
            serve(stream, &receiver, &path);
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}

/// Serves one request on `stream`, then closes it.
fn serve(mut stream: TcpStream, receiver: &Receiver, path: &str) {
    let peer = stream.peer_addr().map_or_else(|_| "?".to_owned(), |a| a.to_string());
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let response = match handle(&mut stream, receiver, path) {
        Ok(response) => {
            tally(Some(Counted::Printed));
            response
        }
        Err(Refusal { response, why }) => {
            log(&format!("refused a request from {peer}: {why}"));
            tally(Some(Counted::Refused));
            *response
        }
    };
    let _ = write_response(&mut stream, &response);
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// What one request came to, for [`tally`].
enum Counted {
    Printed,
    Refused,
}

/// Counts the notifications printed and the requests refused, and keeps the line printed on
/// Ctrl-C current (`listen stopped after 3 notifications printed, 1 request refused`).
fn tally(request: Option<Counted>) {
    static PRINTED: AtomicUsize = AtomicUsize::new(0);
    static REFUSED: AtomicUsize = AtomicUsize::new(0);
    match request {
        Some(Counted::Printed) => PRINTED.fetch_add(1, Ordering::SeqCst),
        Some(Counted::Refused) => REFUSED.fetch_add(1, Ordering::SeqCst),
        None => 0,
    };
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    crate::interrupt::note(format!(
        "listen stopped after {} printed, {} refused",
        plural(PRINTED.load(Ordering::SeqCst), "notification", "notifications"),
        plural(REFUSED.load(Ordering::SeqCst), "request", "requests")
    ));
}

/// A refused request: the answer, and why (for stderr).
struct Refusal {
    response: Box<Response<Vec<u8>>>,
    why: String,
}

fn refuse(status: StatusCode, why: &str) -> Refusal {
    Refusal { response: Box::new(fail(status, why)), why: why.to_owned() }
}

/// Reads one request and judges it.
fn handle(stream: &mut TcpStream, receiver: &Receiver, path: &str) -> Result<Response<Vec<u8>>, Refusal> {
    let (head, mut buffered) = read_head(stream)?;
    let mut parsed_headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut parsed_headers);
    let head_len = match request.parse(&head) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) | Err(_) => {
            return Err(refuse(StatusCode::BAD_REQUEST, "malformed request head"));
        }
    };
    buffered.extend_from_slice(&head[head_len..]);
    let target = request.path.unwrap_or("");
    if target.split('?').next() != Some(path) {
        return Err(refuse(StatusCode::NOT_FOUND, "not the notification path"));
    }
    let method = Method::from_bytes(request.method.unwrap_or("").as_bytes())
        .map_err(|_| refuse(StatusCode::BAD_REQUEST, "malformed method"))?;
    let mut headers = HeaderMap::new();
    for h in request.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| refuse(StatusCode::BAD_REQUEST, "malformed header name"))?;
        let value =
            HeaderValue::from_bytes(h.value).map_err(|_| refuse(StatusCode::BAD_REQUEST, "malformed header value"))?;
        headers.append(name, value);
    }
    if method != Method::POST {
        return Err(refuse(StatusCode::METHOD_NOT_ALLOWED, "the method is not POST"));
    }
    if headers.contains_key(http::header::TRANSFER_ENCODING) {
        return Err(refuse(StatusCode::LENGTH_REQUIRED, "chunked or encoded body (Content-Length required)"));
    }
    let length = content_length(&headers)?;
    if length > MAX_BODY_BYTES {
        return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "body larger than 64 KiB"));
    }
    let expects_continue =
        headers.get(http::header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue && buffered.len() < length {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let body = read_body(stream, buffered, length)?;
    match receiver.receive(&method, &headers, &body) {
        Ok(notification) => {
            let document = Document::new(&notification).map_err(|f| refuse(StatusCode::BAD_REQUEST, &f.message))?;
            let line = crate::json::to_line(&document)
                .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot print JSON: {e}")))?;
            print_line(&line);
            Ok(answer(&Ok::<_, wechatpay_core::notify::NotificationError>(())))
        }
        Err(e) => {
            let why = untrusted::printable(&e.to_string()).max_chars(2000).to_string();
            Err(Refusal { response: Box::new(answer(&Err::<(), _>(e))), why })
        }
    }
}

/// The one `Content-Length` (repeats must agree).
fn content_length(headers: &HeaderMap) -> Result<usize, Refusal> {
    let mut values = headers.get_all(http::header::CONTENT_LENGTH).iter();
    let Some(first) = values.next() else {
        return Err(refuse(StatusCode::LENGTH_REQUIRED, "no Content-Length"));
    };
    if values.any(|v| v != first) {
        return Err(refuse(StatusCode::BAD_REQUEST, "conflicting Content-Length headers"));
    }
    let text = first.to_str().ok().filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
    text.and_then(|t| t.parse().ok()).ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "malformed Content-Length"))
}

/// Reads until the end of the head (`\r\n\r\n`); returns the bytes read so far and an empty
/// buffer for the body.
fn read_head(stream: &mut TcpStream) -> Result<(Vec<u8>, Vec<u8>), Refusal> {
    let mut head = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).map_err(|e| io_refusal(&e))?;
        if n == 0 {
            return Err(refuse(StatusCode::BAD_REQUEST, "connection closed before the end of the head"));
        }
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&chunk[..n]);
        if head[from..].windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok((head, Vec::new()));
        }
        if head.len() > MAX_HEAD_BYTES {
            return Err(refuse(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "request head larger than 16 KiB"));
        }
    }
}

/// Reads the rest of a `length`-byte body after `body` (already read with the head).
fn read_body(stream: &mut TcpStream, mut body: Vec<u8>, length: usize) -> Result<Vec<u8>, Refusal> {
    if body.len() > length {
        return Err(refuse(StatusCode::BAD_REQUEST, "more bytes than Content-Length (one request per connection)"));
    }
    let start = body.len();
    body.resize(length, 0);
    stream.read_exact(&mut body[start..]).map_err(|e| io_refusal(&e))?;
    Ok(body)
}

fn io_refusal(e: &io::Error) -> Refusal {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => refuse(StatusCode::REQUEST_TIMEOUT, "read timed out"),
        io::ErrorKind::UnexpectedEof => refuse(StatusCode::BAD_REQUEST, "body shorter than Content-Length"),
        _ => refuse(StatusCode::BAD_REQUEST, &format!("read failed: {e}")),
    }
}

/// A failure answer with `{"code":"FAIL","message":…}` (`message` is this program's text).
fn fail(status: StatusCode, message: &str) -> Response<Vec<u8>> {
    let body = serde_json::json!({ "code": "FAIL", "message": message }).to_string();
    let mut response = Response::new(body.into_bytes());
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn write_response(stream: &mut TcpStream, response: &Response<Vec<u8>>) -> io::Result<()> {
    let status = response.status();
    let mut out = format!("HTTP/1.1 {} {}\r\n", status.as_u16(), status.canonical_reason().unwrap_or("Unknown"));
    for (name, value) in response.headers() {
        out.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap_or("")));
    }
    if status != StatusCode::NO_CONTENT {
        out.push_str(&format!("Content-Length: {}\r\n", response.body().len()));
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(response.body());
    stream.write_all(&bytes)?;
    stream.flush()
}

/// Prints one line on stdout and flushes it; a closed stdout ends the process quietly.
fn print_line(line: &str) {
    let mut out = io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

/// A line on stderr (a closed stderr is ignored).
fn log(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// Ends the process quietly once stdout's reader has gone (checked four times a second).
fn watch_stdout() {
    loop {
        std::thread::sleep(Duration::from_millis(250));
        if super::get_many::stdout_gone() {
            std::process::exit(0);
        }
    }
}
