//! Sockets, HTTP/1.1 and TLS: the accept loop and one thread per connection (at most
//! [`slots::MAX_CONNECTIONS`]; see `slots.rs` for who gives way when more arrive). This
//! layer knows nothing of payments: it hands each parsed request to a [`Service`].

pub(crate) mod http;
pub(crate) mod slots;
pub(crate) mod stop;
pub(crate) mod tls;

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use slots::{SharedStream, Slot, Slots};
use stop::{POLL, Stop};
use tls::Conn;

/// How long `stop` waits for connection threads to finish.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// The accept queue: a burst of connections (a flood, or many clients at once) waits
/// here for the accept loop instead of having its SYNs dropped (a 1 s retransmit each).
const LISTEN_BACKLOG: i32 = 4096;
/// How long writing an answer may block on a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The stack of a connection thread (request parsing, JSON, one RSA signature).
const CONNECTION_STACK: usize = 256 * 1024;

/// What answers the requests of a connection.
pub(crate) trait Service: Send + Sync + 'static {
    /// Answers a request that could not be parsed (`status`, `message`); the connection
    /// closes after.
    fn invalid(&self, stream: &mut dyn Write, status: u16, message: &str);

    /// Answers one request; `false` when the connection must close.
    fn handle(&self, stream: &mut dyn Write, req: &http::Request) -> bool;
}

/// What serving connections needs: the shutdown flag, the connection slots, and the TLS
/// server configuration in HTTPS mode.
#[derive(Debug)]
pub(crate) struct Net {
    stop: Arc<Stop>,
    slots: Slots,
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Net {
    pub(crate) fn new(stop: Arc<Stop>, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        Self { stop, slots: Slots::default(), tls }
    }

    /// Stops serving: wakes the accept loop (`listener`, listening on `addr`) so it exits,
    /// closes open connections and waits a little for their threads.
    pub(crate) fn shutdown(&self, addr: SocketAddr, listener: JoinHandle<()>) {
        self.stop.stop();
        // Wake the accept loop; if even that fails, leave the thread behind rather than hang.
        if TcpStream::connect_timeout(&connectable(addr), Duration::from_secs(1)).is_ok() {
            let _ = listener.join();
        }
        self.slots.close_all();
        let deadline = Instant::now() + STOP_GRACE;
        while self.slots.threads() > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Starts the accept loop on a thread of its own.
pub(crate) fn spawn<S: Service>(listener: TcpListener, net: Arc<Net>, service: Arc<S>) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name("wechatpay-sim-accept".to_owned()).spawn(move || accept_loop(&listener, &net, &service))
}

/// `addr`, with an unspecified IP replaced by loopback.
pub(crate) fn connectable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port()),
        _ => addr,
    }
}

/// Binds and listens with a long accept queue ([`LISTEN_BACKLOG`]), trying each address
/// `addr` resolves to as [`TcpListener::bind`] does.
pub(crate) fn listen(addr: &str) -> io::Result<TcpListener> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, format!("{addr}: no address to listen on"));
    for addr in addr.to_socket_addrs()? {
        let socket = match Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)) {
            Ok(socket) => socket,
            Err(e) => {
                last = e;
                continue;
            }
        };
        let bound = socket
            .set_reuse_address(cfg!(unix))
            .and_then(|()| socket.bind(&addr.into()))
            .and_then(|()| socket.listen(LISTEN_BACKLOG));
        match bound {
            Ok(()) => return Ok(socket.into()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn accept_loop<S: Service>(listener: &TcpListener, net: &Arc<Net>, service: &Arc<S>) {
    for conn in listener.incoming() {
        if net.stop.stopping() {
            break;
        }
        let Ok(stream) = conn else {
            // Out of descriptors or similar: back off instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let stream = SharedStream::new(stream);
        // At capacity the connection idle longest gives way; if all are busy, this one is
        // closed (dropped) here.
        let Some(slot) = net.slots.admit(&stream) else { continue };
        let (net, service) = (Arc::clone(net), Arc::clone(service));
        let spawned = thread::Builder::new()
            .name("wechatpay-sim-conn".to_owned())
            .stack_size(CONNECTION_STACK)
            .spawn(move || serve_connection(stream, &net, &*service, &slot));
        // A failed spawn drops the closure, and with it the slot and the stream.
        let _ = spawned;
    }
}

fn serve_connection(stream: SharedStream, net: &Net, service: &dyn Service, slot: &Slot) {
    let _ = stream.get().set_read_timeout(Some(POLL));
    let _ = stream.get().set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.get().set_nodelay(true);
    let Ok(mut conn) = Conn::new(stream, net.tls.as_ref()) else { return };
    let mut reader = http::Reader::new(net.stop.flag(), http::TIMEOUTS);
    loop {
        slot.idle();
        let next = reader.next_request(&mut conn);
        slot.busy();
        match next {
            http::Next::Closed => return,
            http::Next::Invalid(e) => {
                service.invalid(&mut conn, e.status, e.message);
                return;
            }
            http::Next::Request(req) => {
                if !service.handle(&mut conn, &req) {
                    return;
                }
            }
        }
    }
}
