//! The control API of refunds: what the admin API (`GET /sim/refunds/{out_refund_no}`,
//! `POST /sim/refunds/{out_refund_no}/state`) and the Rust handle call, and the ticker that
//! completes `auto` refunds on time even when nobody asks.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::{Control, ControlError};
use crate::net::stop::Stop;
use crate::world::refund::STATUSES;

/// How often the ticker looks for refunds due.
const TICK: Duration = Duration::from_millis(20);

impl Control {
    /// The newest refund numbered `out_refund_no`, as the API answers it.
    pub(crate) fn refund(&self, out_refund_no: &str) -> Result<Value, ControlError> {
        self.world(|w| w.refund(out_refund_no))
            .ok_or_else(|| ControlError::NotFound(format!("no refund {out_refund_no:?}")))
    }

    /// Moves the newest refund numbered `out_refund_no` to `status` (`SUCCESS`, `ABNORMAL`,
    /// `CLOSED` or `PROCESSING`); a final state is notified to the refund's `notify_url`.
    pub(crate) fn set_refund_status(&self, out_refund_no: &str, status: &str) -> Result<Value, ControlError> {
        if !STATUSES.contains(&status) {
            return Err(ControlError::Invalid(format!("status: one of {}", STATUSES.join(", "))));
        }
        self.world(|w| w.set_refund_status(out_refund_no, status))
            .ok_or_else(|| ControlError::NotFound(format!("no refund {out_refund_no:?}")))
    }
}

/// Starts the thread that completes `auto` refunds when they are due (it ends when the
/// simulator stops).
pub(crate) fn spawn_ticker(control: Arc<Control>, stop: Arc<Stop>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("wechatpay-sim-refunds".to_owned())
        .stack_size(128 * 1024)
        .spawn(move || {
            while stop.sleep(TICK) {
                control.world(|_| ());
            }
        })
        .map(drop)
}
