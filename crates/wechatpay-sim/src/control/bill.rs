//! Bills in the control API: synthetic bills of any size for load tests.

use serde_json::{Value, json};

use super::{Control, ControlError};
use crate::credentials::MCHID;
use crate::protocol::bill;

impl Control {
    /// Makes a synthetic trade bill of `rows` plausible rows for `bill_date` (`bill_type`
    /// `ALL` or `SUCCESS`): applications for that day and type are then answered with it. The
    /// bill is generated (and hashed) once here, and again as it streams: never held.
    pub(crate) fn synthetic_bill(&self, bill_date: &str, rows: u64, bill_type: &str) -> Result<Value, ControlError> {
        let synthetic = bill::synthetic(bill_date, rows, bill_type, MCHID).map_err(ControlError::Invalid)?;
        let answer = json!({
            "bill_date": bill_date,
            "bill_type": bill_type,
            "rows": rows,
            "hash_value": synthetic.sha1,
            "bytes": synthetic.len,
        });
        self.world(|w| w.bills().add_synthetic(synthetic));
        Ok(answer)
    }
}
