//! Bills in the control API: synthetic bills of any size for load tests, and back-dating a
//! refund (its create and success times) so that a past day's bill holds it.

use serde_json::{Value, json};

use super::{Control, ControlError};
use crate::credentials::MCHID;
use crate::protocol::bill;
use wechatpay_core::model::Rfc3339;

impl Control {
    /// Makes a synthetic trade bill of `rows` plausible rows for `bill_date` (`bill_type`
    /// `ALL`, `SUCCESS` or `REFUND`): applications for that day and type are then answered with it. The
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

    /// Sets the `create_time` and/or `success_time` (RFC 3339, kept as Beijing time) of the
    /// newest refund numbered `out_refund_no`: a refund belongs to the bills of the day it was
    /// created, and today's bill is never ready, so tests back-date refunds. Nothing changes
    /// when a time does not parse. Returns the refund.
    pub(crate) fn set_refund_times(
        &self,
        out_refund_no: &str,
        create_time: Option<&str>,
        success_time: Option<&str>,
    ) -> Result<Value, ControlError> {
        let parse = |field: &str, text: Option<&str>| {
            text.map(|t| {
                Rfc3339::parse(t).map(|t| crate::clock::beijing_rfc3339(t.unix_timestamp())).map_err(|_| {
                    ControlError::Invalid(format!("{field}: RFC 3339 (2024-05-01T10:00:00+08:00), got {t:?}"))
                })
            })
            .transpose()
        };
        let (create, success) = (parse("create_time", create_time)?, parse("success_time", success_time)?);
        self.world(|w| {
            let refund = w.refund_mut(out_refund_no)?;
            if let Some(t) = create {
                refund.create_time = t;
            }
            if success.is_some() {
                refund.success_time = success;
            }
            Some(refund.to_json())
        })
        .ok_or_else(|| ControlError::NotFound(format!("no refund {out_refund_no:?}")))
    }
}
