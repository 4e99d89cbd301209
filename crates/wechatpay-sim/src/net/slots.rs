//! Connection slots: how many connections are served at once, and which one gives way when
//! a new one arrives at capacity.
//!
//! The simulator keeps its simple design, a thread per connection, and makes idle
//! connections cheap to lose instead of cheap to keep:
//!
//! - At most [`MAX_CONNECTIONS`] connections hold a slot (and a thread).
//! - A connection is *idle* while it waits for, or is still receiving, a request (a fresh
//!   connection that has sent nothing, a keep-alive connection between requests, a
//!   slowloris sending its head a byte at a time, a TLS handshake in progress); it is
//!   *busy* from a complete request until its answer is written.
//! - A new connection at capacity evicts the connection idle longest: its socket is shut
//!   down, so its thread's blocked read ends at once and the thread exits. Only when every
//!   slot is busy is the new connection closed.
//! - Idle connections also time out on their own (the reader's idle and request timeouts),
//!   so a flood leaves nothing behind.
//!
//! So any number of connections that never send a byte cost at most [`MAX_CONNECTIONS`]
//! threads, and a real client always gets a slot as long as fewer than that many requests
//! are being answered at the same moment.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Most connections served at once.
pub(crate) const MAX_CONNECTIONS: usize = 512;

/// A socket shared by its connection thread and the slot table (which may shut it down).
#[derive(Clone, Debug)]
pub(crate) struct SharedStream(Arc<TcpStream>);

impl SharedStream {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Self(Arc::new(stream))
    }

    pub(crate) fn get(&self) -> &TcpStream {
        &self.0
    }
}

impl Read for SharedStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl Write for SharedStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self.0).flush()
    }
}

#[derive(Debug)]
struct Entry {
    stream: SharedStream,
    /// `Some(since)` while idle, `None` while busy.
    idle_since: Option<Instant>,
    /// Shut down to make room; its thread is on its way out and no longer counts.
    evicted: bool,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    entries: HashMap<u64, Entry>,
    /// Entries not evicted.
    counted: usize,
}

/// The slot table of one simulator.
#[derive(Clone, Debug, Default)]
pub(crate) struct Slots(Arc<Mutex<Table>>);

impl Slots {
    /// A slot for `stream`, evicting the connection idle longest if the table is full;
    /// `None` when every slot is busy.
    pub(crate) fn admit(&self, stream: &SharedStream) -> Option<Slot> {
        self.admit_within(stream, MAX_CONNECTIONS)
    }

    fn admit_within(&self, stream: &SharedStream, max: usize) -> Option<Slot> {
        let mut table = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if table.counted >= max {
            let oldest = table
                .entries
                .iter()
                .filter(|(_, e)| !e.evicted)
                .filter_map(|(id, e)| e.idle_since.map(|since| (since, *id)))
                .min()?;
            let victim = table.entries.get_mut(&oldest.1)?;
            victim.evicted = true;
            let _ = victim.stream.get().shutdown(Shutdown::Both);
            table.counted -= 1;
        }
        let id = table.next_id;
        table.next_id += 1;
        table.entries.insert(id, Entry { stream: stream.clone(), idle_since: Some(Instant::now()), evicted: false });
        table.counted += 1;
        Some(Slot { slots: self.clone(), id })
    }

    /// Connection threads still running (evicted ones included until they exit).
    pub(crate) fn threads(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).entries.len()
    }

    /// Shuts every connection down (the simulator stops).
    pub(crate) fn close_all(&self) {
        let table = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for entry in table.entries.values() {
            let _ = entry.stream.get().shutdown(Shutdown::Both);
        }
    }

    fn set_idle(&self, id: u64, idle: bool) {
        let mut table = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = table.entries.get_mut(&id) {
            entry.idle_since = idle.then(Instant::now);
        }
    }
}

/// A connection's slot; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Slots,
    id: u64,
}

impl Slot {
    /// Waiting for (or receiving) a request: may be evicted, oldest first.
    pub(crate) fn idle(&self) {
        self.slots.set_idle(self.id, true);
    }

    /// Answering a request: not evicted.
    pub(crate) fn busy(&self) {
        self.slots.set_idle(self.id, false);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = self.slots.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = table.entries.remove(&self.id)
            && !entry.evicted
        {
            table.counted -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    /// A connected pair: (client side, server side).
    fn pair(listener: &TcpListener) -> (TcpStream, SharedStream) {
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, SharedStream::new(server))
    }

    fn closed_by_server(client: &mut TcpStream) -> bool {
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        matches!(client.read(&mut [0u8; 1]), Ok(0) | Err(_))
    }

    fn still_open(client: &mut TcpStream) -> bool {
        client.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let read = client.read(&mut [0u8; 1]);
        matches!(read, Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }

    #[test]
    fn the_connection_idle_longest_gives_way_and_busy_ones_never_do() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let slots = Slots::default();
        let (mut c1, s1) = pair(&listener);
        let (mut c2, s2) = pair(&listener);
        let slot1 = slots.admit_within(&s1, 2).unwrap();
        let slot2 = slots.admit_within(&s2, 2).unwrap();
        slot1.busy();
        // Full: the new connection takes the slot of the idle one (2), not the busy one (1).
        let (mut c3, s3) = pair(&listener);
        let slot3 = slots.admit_within(&s3, 2).unwrap();
        assert!(closed_by_server(&mut c2));
        assert!(still_open(&mut c1));
        assert_eq!(slots.threads(), 3, "the evicted thread still runs until it drops its slot");
        drop(slot2);
        assert_eq!(slots.threads(), 2);
        // Every slot busy: the next connection is refused and nobody is evicted.
        slot3.busy();
        let (_c4, s4) = pair(&listener);
        assert!(slots.admit_within(&s4, 2).is_none());
        assert!(still_open(&mut c1) && still_open(&mut c3));
        // Both idle: slot 3 (idle first) goes, slot 1 (idle since later) stays.
        slot3.idle();
        std::thread::sleep(Duration::from_millis(2));
        slot1.idle();
        let slot4 = slots.admit_within(&s4, 2).unwrap();
        assert!(closed_by_server(&mut c3));
        assert!(still_open(&mut c1));
        drop((slot1, slot3, slot4));
        assert_eq!(slots.threads(), 0);
    }
}
