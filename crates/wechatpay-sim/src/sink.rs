//! [`NotifySink`]: a `notify_url` on loopback for tests, the merchant's side of a
//! notification. It records every request it receives (method, target, headers, body, as
//! received) and answers each with a scripted status, so a test can refuse the first
//! delivery and watch the redelivery. Any team's tests can use it beside the simulator.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::net::http::{self, Next, Reader, TIMEOUTS};

/// The path of [`NotifySink::url`].
pub const SINK_PATH: &str = "/wechatpay/notify";

/// A loopback HTTP receiver for notifications (see the module docs). Stops when dropped.
#[derive(Debug)]
pub struct NotifySink {
    url: String,
    addr: std::net::SocketAddr,
    received: Mutex<mpsc::Receiver<wechatpay_core::http::Request<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
}

impl NotifySink {
    /// A sink answering `204` to every request.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub fn start() -> io::Result<NotifySink> {
        NotifySink::answering(&[204])
    }

    /// A sink answering the n-th request with `statuses[n]`, and every later one with the
    /// last status (`&[503, 204]`: refuse the first delivery, accept the rest). An empty
    /// script answers `204`.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub fn answering(statuses: &[u16]) -> io::Result<NotifySink> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let script: Arc<[u16]> = if statuses.is_empty() { Arc::from([204u16]) } else { Arc::from(statuses) };
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(AtomicUsize::new(0));
        let accept_stop = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if accept_stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (tx, script, seen, stop) = (tx.clone(), script.clone(), seen.clone(), accept_stop.clone());
                std::thread::spawn(move || serve(conn, &tx, &script, &seen, &stop));
            }
        });
        Ok(NotifySink { url: format!("http://{addr}{SINK_PATH}"), addr, received: Mutex::new(rx), stop })
    }

    /// The URL to give as `notify_url`: `http://127.0.0.1:PORT/wechatpay/notify`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next request received, in arrival order, waiting at most `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<wechatpay_core::http::Request<Vec<u8>>> {
        let received = self.received.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        received.recv_timeout(timeout).ok()
    }
}

impl Drop for NotifySink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the stop.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Serves the requests of one connection: each recorded, then answered by the script.
fn serve(
    mut conn: TcpStream,
    tx: &mpsc::Sender<wechatpay_core::http::Request<Vec<u8>>>,
    script: &[u16],
    seen: &AtomicUsize,
    stop: &AtomicBool,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
    let mut reader = Reader::new(stop, TIMEOUTS);
    while let Next::Request(request) = reader.next_request(&mut conn) {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        let status = script.get(n).or(script.last()).copied().unwrap_or(204);
        let mut builder =
            wechatpay_core::http::Request::builder().method(request.method.as_str()).uri(request.target.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        let close = request.wants_close();
        let answered = http::write_head(&mut conn, status, &[("Content-Length", "0".to_owned())], close).is_ok();
        if let Ok(recorded) = builder.body(request.body) {
            let _ = tx.send(recorded);
        }
        if !answered || close {
            break;
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
}
