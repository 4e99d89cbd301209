//! The shutdown flag every long wait looks at: connection reads, hangs, delays, redeliveries.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How often blocked reads and waits look at the shutdown flag.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// Whether the simulator is stopping.
#[derive(Debug, Default)]
pub(crate) struct Stop(AtomicBool);

impl Stop {
    /// The flag itself (the HTTP reader polls it).
    pub(crate) fn flag(&self) -> &AtomicBool {
        &self.0
    }

    /// Starts stopping.
    pub(crate) fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the simulator is stopping.
    pub(crate) fn stopping(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps for `d`, waking early when the simulator stops; `false` if it stops.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        while !self.stopping() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(POLL));
        }
        false
    }
}
