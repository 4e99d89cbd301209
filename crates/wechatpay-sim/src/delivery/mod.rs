//! Delivering notifications to a `notify_url` as WeChat Pay does: a signed, sealed `POST`,
//! answered within 5 s by `200` or `204`, else redelivered on WeChat Pay's schedule (scaled
//! by `--notify-time-scale`). Every attempt is logged for `GET /sim/notifications`.
//!
//! `http://` URLs get plain HTTP/1.1 over `std::net`; `https://` URLs get the same over
//! rustls, trusting the CAs given with `--notify-ca` (and, in HTTPS mode, the simulator's own
//! throwaway CA) — a local receiver's certificate is never in a public root store.

pub mod notification;

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;
use wechatpay_core::unix_now;

use crate::clock;
use crate::net::stop::Stop;
use crate::protocol::signing::ResponseKeys;
use crate::world::Notify;
use crate::world::refund::RefundNotify;
use notification::{Event, SignedNotification};

/// How long one attempt may take (connect, send, first answer line).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// The waits before each redelivery, in seconds (WeChat Pay's schedule: 15 s, 15 s, 30 s,
/// 3 m, 10 m, 20 m, 30 m, 30 m, 30 m, 60 m, 3 h, 3 h, 3 h, 6 h, 6 h).
pub(crate) const SCHEDULE: [u64; 15] =
    [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];

/// A `notify_url` the simulator can post to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NotifyUrl {
    /// The URL as given.
    pub raw: String,
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

impl NotifyUrl {
    /// Checks `raw`: `http(s)://HOST[:PORT][/PATH]`, and HOST a loopback address
    /// (`localhost`, `127.0.0.0/8`, `[::1]`) unless `allow_remote`.
    ///
    /// # Errors
    /// A message naming the rule broken.
    pub(crate) fn parse(raw: &str, allow_remote: bool) -> Result<Self, String> {
        let (tls, rest) = match (raw.strip_prefix("https://"), raw.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => return Err("notify_url: must start with http:// or https://".to_owned()),
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') { format!("/{path}") } else { path.to_owned() };
        if path.bytes().any(|b| b.is_ascii_control() || b == b' ') || authority.contains('@') {
            return Err("notify_url: invalid characters".to_owned());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or("notify_url: unclosed [")?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or("notify_url: invalid port")?,
            None if tls => 443,
            None => 80,
        };
        if host.is_empty() {
            return Err("notify_url: no host".to_owned());
        }
        let loopback =
            host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !loopback && !allow_remote {
            return Err(format!(
                "notify_url: host {host:?} is not a loopback address (start the simulator with --allow-remote-notify)"
            ));
        }
        Ok(Self { raw: raw.to_owned(), tls, host: host.to_owned(), port, path })
    }

    fn host_header(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == if self.tls { 443 } else { 80 } { host } else { format!("{host}:{}", self.port) }
    }
}

/// One attempt: when, and the answer's status or what went wrong.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Attempt {
    /// RFC 3339 (Beijing time).
    pub at: String,
    /// The answer's status; `null` when there was none.
    pub status: Option<u16>,
    /// Why there was no answer (connection refused, timeout, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One notification and its attempts.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Record {
    pub id: String,
    pub event_type: String,
    pub kind: &'static str,
    pub out_trade_no: String,
    /// A refund notification's refund (absent for payments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_refund_no: Option<String>,
    pub notify_url: String,
    pub attempts: Vec<Attempt>,
    pub delivered: bool,
}

/// How many notifications `GET /sim/notifications` remembers; the oldest go first.
pub(crate) const NOTIFICATION_LOG_LEN: usize = 10_000;

/// The newest [`NOTIFICATION_LOG_LEN`] notifications, each known by its sequence number, so
/// that a delivery thread finds its record, or learns it was dropped.
#[derive(Debug, Default)]
pub(crate) struct NotificationLog {
    records: VecDeque<Record>,
    /// How many older records were dropped (the sequence number of the first one kept).
    dropped: usize,
}

impl NotificationLog {
    /// Appends `record` (dropping the oldest when full) and returns its sequence number.
    fn push(&mut self, record: Record) -> usize {
        if self.records.len() == NOTIFICATION_LOG_LEN {
            self.records.pop_front();
            self.dropped += 1;
        }
        self.records.push_back(record);
        self.dropped + self.records.len() - 1
    }

    /// The record numbered `seq`, unless it was dropped.
    fn get_mut(&mut self, seq: usize) -> Option<&mut Record> {
        self.records.get_mut(seq.checked_sub(self.dropped)?)
    }
}

/// The kept records, oldest first (the JSON array `GET /sim/notifications` answers).
impl Serialize for NotificationLog {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(&self.records)
    }
}

/// Delivery: what signs and seals notifications, where they go over TLS, the redelivery
/// schedule's scale, and the log of every notification and attempt.
#[derive(Debug)]
pub(crate) struct Delivery {
    keys: Arc<ResponseKeys>,
    apiv3_key: Arc<str>,
    /// The TLS client settings for `https://` notify URLs.
    tls: Arc<rustls::ClientConfig>,
    /// The factor applied to the redelivery schedule.
    time_scale: f64,
    log: Mutex<NotificationLog>,
    stop: Arc<Stop>,
}

impl Delivery {
    pub(crate) fn new(
        keys: Arc<ResponseKeys>,
        apiv3_key: Arc<str>,
        tls: Arc<rustls::ClientConfig>,
        time_scale: f64,
        stop: Arc<Stop>,
    ) -> Self {
        Self { keys, apiv3_key, tls, time_scale, log: Mutex::default(), stop }
    }

    /// The log as `GET /sim/notifications` answers it.
    pub(crate) fn log_json(&self) -> serde_json::Value {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        serde_json::to_value(&*log).unwrap_or_default()
    }

    /// Logs the notification of a transition and starts delivering it on a thread of its
    /// own. One event keeps its id through every redelivery.
    pub(crate) fn send(self: &Arc<Self>, notify: Notify) {
        let event = Event::new(notify.event_type, notify.summary, notify.resource);
        let record = Record {
            id: event.as_ref().map(|e| e.id.clone()).unwrap_or_default(),
            event_type: notify.event_type.to_owned(),
            kind: notify.kind.file_key(),
            out_trade_no: notify.out_trade_no,
            out_refund_no: None,
            notify_url: notify.url.raw.clone(),
            attempts: Vec::new(),
            delivered: false,
        };
        self.start(event, record, notify.url);
    }

    /// Logs a refund notification (`original_type` and AAD `refund`, spec §15) and starts
    /// delivering it, as [`Delivery::send`] does a payment's.
    pub(crate) fn send_refund(self: &Arc<Self>, notify: RefundNotify) {
        let event = Event::new(notify.event_type, notify.summary, notify.resource).map(|mut e| {
            e.original_type = "refund".to_owned();
            e.associated_data = Some("refund".to_owned());
            e
        });
        let record = Record {
            id: event.as_ref().map(|e| e.id.clone()).unwrap_or_default(),
            event_type: notify.event_type.to_owned(),
            kind: "refund",
            out_trade_no: notify.out_trade_no,
            out_refund_no: Some(notify.out_refund_no),
            notify_url: notify.url.raw.clone(),
            attempts: Vec::new(),
            delivered: false,
        };
        self.start(event, record, notify.url);
    }

    /// Logs `record` and delivers `event` to `url` on a thread of its own.
    fn start(self: &Arc<Self>, event: io::Result<Event>, record: Record, url: NotifyUrl) {
        let index = self.log.lock().unwrap_or_else(PoisonError::into_inner).push(record);
        let spawned = match event {
            Ok(event) => {
                let worker = Arc::clone(self);
                thread::Builder::new()
                    .name("wechatpay-sim-notify".to_owned())
                    .stack_size(256 * 1024)
                    .spawn(move || worker.deliver(&event, &url, index))
                    .map(drop)
                    .map_err(|e| format!("cannot start the delivery thread: {e}"))
            }
            Err(e) => Err(format!("cannot make the notification: {e}")),
        };
        if let Err(error) = spawned {
            let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(record) = log.get_mut(index) {
                let attempt = Attempt { at: clock::beijing_rfc3339(clock::now()), status: None, error: Some(error) };
                record.attempts.push(attempt);
            }
        }
    }

    /// Attempts until delivered, the schedule is exhausted or the simulator stops.
    fn deliver(&self, event: &Event, url: &NotifyUrl, index: usize) {
        for attempt in 0..=SCHEDULE.len() {
            if attempt > 0 {
                let wait = Duration::from_secs_f64(SCHEDULE[attempt - 1] as f64 * self.time_scale);
                if !self.stop.sleep(wait) {
                    return;
                }
            }
            let at = clock::beijing_rfc3339(clock::now());
            let key = self.keys.choose(None);
            let result = notification::build(event, &self.apiv3_key, key.private_key(), key.serial(), unix_now())
                .map_err(|e| format!("building the notification: {e}"))
                .and_then(|n| post(url, &n, &self.tls));
            let (status, error) = match result {
                Ok(s) => (Some(s), None),
                Err(e) => (None, Some(e)),
            };
            let delivered = matches!(status, Some(200 | 204));
            {
                let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(record) = log.get_mut(index) {
                    record.attempts.push(Attempt { at, status, error });
                    record.delivered = delivered;
                }
            }
            if delivered || self.stop.stopping() {
                return;
            }
        }
    }
}

/// Posts `n` to `url` (over TLS with `tls` for `https://`) and reads the answer's status line,
/// within [`ATTEMPT_TIMEOUT`].
fn post(url: &NotifyUrl, n: &SignedNotification, tls: &Arc<rustls::ClientConfig>) -> Result<u16, String> {
    let deadline = Instant::now() + ATTEMPT_TIMEOUT;
    let addrs = (url.host.as_str(), url.port).to_socket_addrs().map_err(|e| format!("resolving {}: {e}", url.host))?;
    let mut last = format!("{}: no address", url.host);
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, ATTEMPT_TIMEOUT) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("connecting to {addr}: {e}"),
        }
    }
    let stream = stream.ok_or(last)?;
    if !url.tls {
        return exchange(url, n, stream, deadline);
    }
    let name = rustls::pki_types::ServerName::try_from(url.host.clone()).map_err(|e| format!("TLS name: {e}"))?;
    let conn = rustls::ClientConnection::new(Arc::clone(tls), name).map_err(|e| format!("TLS: {e}"))?;
    exchange(url, n, rustls::StreamOwned::new(conn, stream), deadline)
}

/// The socket under a plain or TLS stream, for its timeouts.
trait Socket: Read + Write {
    fn socket(&self) -> &TcpStream;
}

impl Socket for TcpStream {
    fn socket(&self) -> &TcpStream {
        self
    }
}

impl Socket for rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    fn socket(&self) -> &TcpStream {
        &self.sock
    }
}

/// Writes the request and reads the answer's status line before `deadline`.
fn exchange(
    url: &NotifyUrl,
    n: &SignedNotification,
    mut stream: impl Socket,
    deadline: Instant,
) -> Result<u16, String> {
    let mut head = format!("POST {} HTTP/1.1\r\nHost: {}\r\n", url.path, url.host_header());
    for (name, value) in &n.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "User-Agent: Mozilla/4.0 (wechatpay-sim)\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        n.body.len()
    ));
    let left = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    stream.socket().set_write_timeout(Some(left())).map_err(|e| e.to_string())?;
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&n.body)).map_err(|e| format!("sending: {e}"))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        if Instant::now() >= deadline {
            return Err("timeout: no answer within 5 s".to_owned());
        }
        stream.socket().set_read_timeout(Some(left())).map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => return Err("the connection closed without an answer".to_owned()),
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err("timeout: no answer within 5 s".to_owned());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the answer: {e}")),
        }
        if buf.len() > 8192 {
            break;
        }
    }
    let line = String::from_utf8_lossy(&buf);
    let mut parts = line.split(' ');
    match (parts.next(), parts.next().and_then(|s| s.trim().parse::<u16>().ok())) {
        (Some(v), Some(status)) if v.starts_with("HTTP/1.") => Ok(status),
        _ => Err("the answer is not HTTP/1.x".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: usize) -> Record {
        Record {
            id: n.to_string(),
            event_type: "TRANSACTION.SUCCESS".to_owned(),
            kind: "direct",
            out_trade_no: format!("A{n}"),
            out_refund_no: None,
            notify_url: "http://127.0.0.1/".to_owned(),
            attempts: Vec::new(),
            delivered: false,
        }
    }

    #[test]
    fn the_notification_log_keeps_the_newest_and_finds_records_by_number() {
        let mut log = NotificationLog::default();
        for n in 0..NOTIFICATION_LOG_LEN + 5 {
            assert_eq!(log.push(record(n)), n);
        }
        assert_eq!(log.records.len(), NOTIFICATION_LOG_LEN);
        assert!(log.get_mut(4).is_none(), "dropped");
        log.get_mut(5).unwrap().delivered = true;
        assert_eq!(log.records.front().map(|r| (r.id.as_str(), r.delivered)), Some(("5", true)));
        assert_eq!(log.get_mut(NOTIFICATION_LOG_LEN + 4).unwrap().id, (NOTIFICATION_LOG_LEN + 4).to_string());
        assert!(log.get_mut(NOTIFICATION_LOG_LEN + 5).is_none());
        let json = serde_json::to_value(&log).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(NOTIFICATION_LOG_LEN));
        assert_eq!(json[0]["id"], "5");
    }

    #[test]
    fn notify_urls_are_checked() {
        let u = NotifyUrl::parse("http://127.0.0.1:8080/notify?x=1", false).unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path.as_str()), ("127.0.0.1", 8080, "/notify?x=1"));
        let u = NotifyUrl::parse("http://[::1]:9/", false).unwrap();
        assert_eq!((u.host_header().as_str(), u.port), ("[::1]:9", 9));
        assert_eq!(NotifyUrl::parse("http://localhost", false).unwrap().path, "/");
        assert!(NotifyUrl::parse("http://example.com/n", false).unwrap_err().contains("--allow-remote-notify"));
        assert!(NotifyUrl::parse("http://example.com/n", true).is_ok());
        let https = NotifyUrl::parse("https://127.0.0.1/n", false).unwrap();
        assert!(https.tls && https.port == 443 && https.host_header() == "127.0.0.1");
        assert!(NotifyUrl::parse("ftp://127.0.0.1/n", false).unwrap_err().contains("http"));
        assert!(NotifyUrl::parse("ftp://127.0.0.1/n", false).is_err());
        assert!(NotifyUrl::parse("http://127.0.0.1:0/n", false).is_err());
        assert!(NotifyUrl::parse("http://127.0.0.1/a b", false).is_err());
    }
}
