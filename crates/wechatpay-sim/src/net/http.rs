//! Just enough HTTP/1.1: reading request heads (with `httparse`) and bodies with size caps,
//! and writing `Content-Length`-framed responses.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Largest request head accepted, in bytes.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest request body accepted, in bytes.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most header fields accepted.
const MAX_HEADERS: usize = 64;

/// A request as received: method and target exactly as on the request line.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: String,
    pub target: String,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Request {
    /// Every value of header `name` (case-insensitive).
    pub(crate) fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }

    /// The single value of header `name` as text; `None` when absent, repeated or not UTF-8.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let mut all = self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice());
        let first = all.next()?;
        if all.next().is_some() {
            return None;
        }
        std::str::from_utf8(first).ok()
    }

    /// Whether the connection should close after this request.
    pub(crate) fn wants_close(&self) -> bool {
        let tokens = |v: &[u8]| -> Vec<String> {
            String::from_utf8_lossy(v).split(',').map(|t| t.trim().to_ascii_lowercase()).collect()
        };
        let conn: Vec<String> = self.header_all("connection").flat_map(tokens).collect();
        if self.version == 0 { !conn.iter().any(|t| t == "keep-alive") } else { conn.iter().any(|t| t == "close") }
    }
}

/// Why a request could not be read; answered with `status`, then the connection closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HttpError {
    pub status: u16,
    pub message: &'static str,
}

const fn http_error(status: u16, message: &'static str) -> HttpError {
    HttpError { status, message }
}

/// What reading the next request gave.
#[derive(Debug)]
pub(crate) enum Next {
    Request(Request),
    /// The peer closed, went idle too long, broke the connection, or the server stops.
    Closed,
    Invalid(HttpError),
}

/// How long a connection may take: to start a request, and to finish one once started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// Waiting for the first byte of a request (a fresh connection, or a keep-alive one
    /// between requests).
    pub idle: Duration,
    /// From the first byte of a request to its last (head and body): slow senders are cut.
    pub request: Duration,
}

/// The simulator's timeouts: short, so idle and slow connections do not pile up.
pub(crate) const TIMEOUTS: Timeouts = Timeouts { idle: Duration::from_secs(10), request: Duration::from_secs(10) };

/// Reads requests off one connection, keeping bytes that arrive early (pipelining).
pub(crate) struct Reader<'a> {
    buf: Vec<u8>,
    shutdown: &'a AtomicBool,
    timeouts: Timeouts,
}

impl<'a> Reader<'a> {
    /// A reader for a connection whose reads time out after a short while (so `shutdown`
    /// and the deadlines are seen).
    pub(crate) fn new(shutdown: &'a AtomicBool, timeouts: Timeouts) -> Self {
        Self { buf: Vec::new(), shutdown, timeouts }
    }

    /// Reads more bytes; `Ok(false)` on end of stream, deadline or shutdown.
    fn fill(&mut self, conn: &mut impl Read, deadline: Instant) -> io::Result<bool> {
        let mut chunk = [0u8; 8192];
        loop {
            if self.shutdown.load(Ordering::SeqCst) || Instant::now() > deadline {
                return Ok(false);
            }
            match conn.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next request on `conn`.
    pub(crate) fn next_request(&mut self, conn: &mut impl Read) -> Next {
        let started = !self.buf.is_empty();
        let mut deadline = Instant::now() + if started { self.timeouts.request } else { self.timeouts.idle };
        let mut more = |this: &mut Self| {
            let was_empty = this.buf.is_empty();
            let got = matches!(this.fill(conn, deadline), Ok(true));
            if got && was_empty {
                deadline = Instant::now() + this.timeouts.request;
            }
            got
        };
        let (head_len, mut request, content_length) = loop {
            match parse_head(&self.buf) {
                Ok(Some(parsed)) => break parsed,
                Ok(None) if self.buf.len() > MAX_HEAD_BYTES => {
                    return Next::Invalid(http_error(431, "request header fields too large"));
                }
                Ok(None) => {
                    if !more(self) {
                        return Next::Closed;
                    }
                }
                Err(e) => return Next::Invalid(e),
            }
        };
        if head_len > MAX_HEAD_BYTES {
            return Next::Invalid(http_error(431, "request header fields too large"));
        }
        if content_length > MAX_BODY_BYTES {
            return Next::Invalid(http_error(413, "request body too large"));
        }
        while self.buf.len() < head_len + content_length {
            if !more(self) {
                return Next::Closed;
            }
        }
        request.body = self.buf[head_len..head_len + content_length].to_vec();
        self.buf.drain(..head_len + content_length);
        Next::Request(request)
    }
}

/// Parses a complete head: the request, the head's length and the body length.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, Request, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(http_error(431, "too many header fields")),
        Err(_) => return Err(http_error(400, "malformed request")),
    };
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(http_error(400, "malformed request line"));
    };
    let request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        version,
        headers: req.headers.iter().map(|h| (h.name.to_owned(), h.value.to_vec())).collect(),
        body: Vec::new(),
    };
    if request.header_all("transfer-encoding").next().is_some() {
        return Err(http_error(400, "Transfer-Encoding is not supported; send Content-Length"));
    }
    let mut length = None;
    for value in request.header_all("content-length") {
        let text = std::str::from_utf8(value).map_err(|_| http_error(400, "invalid Content-Length"))?.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(http_error(400, "invalid Content-Length"));
        }
        // Saturate: anything that does not fit is over the cap anyway.
        let n = text.parse::<usize>().unwrap_or(usize::MAX);
        if length.is_some_and(|l| l != n) {
            return Err(http_error(400, "conflicting Content-Length headers"));
        }
        length = Some(n);
    }
    Ok(Some((head_len, request, length.unwrap_or(0))))
}

/// The reason phrase of the statuses the simulator sends.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Unknown",
    }
}

/// Writes a status line and headers, ending the head. `Content-Length` is among `headers`.
pub(crate) fn write_head(out: &mut impl Write, status: u16, headers: &[(&str, String)], close: bool) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str(if close { "Connection: close\r\n" } else { "Connection: keep-alive\r\n" });
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

/// Flushes and ignores errors: the peer may be gone.
pub(crate) fn write_all(stream: &mut impl Write, bytes: &[u8]) -> bool {
    stream.write_all(bytes).and_then(|()| stream.flush()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_and_limits_hold() {
        let raw = b"GET /v3/x?a=%7C HTTP/1.1\r\nAccept: */*\r\ncontent-length: 2\r\n\r\nhi";
        let (len, req, body) = parse_head(raw).unwrap().unwrap();
        assert_eq!((req.method.as_str(), req.target.as_str(), body), ("GET", "/v3/x?a=%7C", 2));
        assert_eq!(len, raw.len() - 2);
        assert_eq!(req.header("ACCEPT"), Some("*/*"));
        assert!(!req.wants_close());
        assert!(parse_head(b"GET / HTTP/1.1\r\nHost: x").unwrap().is_none());
        for bad in [
            &b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"\x00\x01garbage\r\n\r\n",
            b"GET / HTTP/9.9\r\n\r\n",
        ] {
            assert_eq!(parse_head(bad).unwrap_err().status, 400, "{:?}", String::from_utf8_lossy(bad));
        }
        let many: String = (0..100).map(|i| format!("X-{i}: y\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse_head(raw.as_bytes()).unwrap_err().status, 431);
        let huge = format!("GET / HTTP/1.1\r\nContent-Length: {}0\r\n\r\n", u128::MAX);
        assert_eq!(parse_head(huge.as_bytes()).unwrap().unwrap().2, usize::MAX);
    }

    #[test]
    fn idle_and_slow_connections_are_cut_and_a_prompt_request_is_read() {
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        let shutdown = AtomicBool::new(false);
        let timeouts = Timeouts { idle: Duration::from_millis(200), request: Duration::from_millis(300) };
        let mut reader = Reader::new(&shutdown, timeouts);

        client.write_all(b"GET /a HTTP/1.1\r\n\r\n").unwrap();
        assert!(matches!(reader.next_request(&mut &server), Next::Request(r) if r.target == "/a"));

        let start = Instant::now();
        assert!(matches!(reader.next_request(&mut &server), Next::Closed), "nothing sent");
        assert!(start.elapsed() >= Duration::from_millis(200));

        // A slowloris: a byte every 20 ms would take 4 s; the request timeout cuts it.
        let slow = std::thread::spawn(move || {
            for b in format!("GET / HTTP/1.1\r\nX-Slow: {}\r\n\r\n", "a".repeat(200)).bytes() {
                if client.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let start = Instant::now();
        assert!(matches!(reader.next_request(&mut &server), Next::Closed), "too slow");
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        drop(server);
        slow.join().unwrap();
    }

    #[test]
    fn connection_semantics() {
        let (_, req, _) = parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(req.wants_close());
        let (_, req, _) = parse_head(b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").unwrap().unwrap();
        assert!(req.wants_close());
    }
}
