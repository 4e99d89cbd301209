//! Fault injection: what goes wrong, for how many requests, on which route.

use std::time::Duration;

use crate::protocol::routes::Route;

/// What the simulator does instead of (or on top of) answering normally.
///
/// Unless noted, a fault applies only to requests that passed verification, and replaces
/// or alters the answer the request would otherwise have got.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `429 FREQUENCY_LIMITED`, signed.
    RateLimited,
    /// `500 SYSTEM_ERROR`, signed.
    SystemError,
    /// `502` with an HTML gateway page and no signature headers.
    HtmlBadGateway,
    /// Waits, then answers normally.
    Delay(Duration),
    /// Never answers; the connection is closed when the simulator stops.
    Hang,
    /// Closes the connection without answering.
    DropConnection,
    /// Signs the answer, then changes a byte of the body.
    TamperedBody,
    /// Signs the answer with a timestamp 600 s in the past.
    StaleTimestamp,
    /// A `WECHATPAY/SIGNTEST/` probe signature.
    SignTestProbe,
    /// A valid signature under a `Wechatpay-Serial` the client holds no key for.
    UnknownSerial,
    /// The normal answer without any signature header.
    UnsignedOk,
    /// `200` with the body `{not json`, validly signed.
    InvalidJson,
    /// The normal answer with the `out_trade_no` and `transaction_id` of another order,
    /// validly signed: only a client that ties an answer to its question (PROTOCOL.md §11) notices.
    AnswerForAnotherOrder,
    /// `200` with a body of this many bytes, streamed (never built in memory), unsigned.
    OversizedBody(usize),
    /// A bill application's answer with a `hash_value` that does not match the file,
    /// validly signed: only a client that proves the download notices.
    WrongBillHash,
}

impl Fault {
    /// The faults without a parameter, by their admin API names.
    const NAMED: [(&'static str, Fault); 13] = [
        ("rate_limited", Fault::RateLimited),
        ("system_error", Fault::SystemError),
        ("html_bad_gateway", Fault::HtmlBadGateway),
        ("hang", Fault::Hang),
        ("drop_connection", Fault::DropConnection),
        ("tampered_body", Fault::TamperedBody),
        ("stale_timestamp", Fault::StaleTimestamp),
        ("sign_test_probe", Fault::SignTestProbe),
        ("unknown_serial", Fault::UnknownSerial),
        ("unsigned_ok", Fault::UnsignedOk),
        ("invalid_json", Fault::InvalidJson),
        ("answer_for_another_order", Fault::AnswerForAnotherOrder),
        ("wrong_bill_hash", Fault::WrongBillHash),
    ];

    /// The fault without a parameter named `name` in the admin API (`rate_limited`, ...;
    /// `delay` and `oversized_body` take a number and are not found here).
    pub(crate) fn from_name(name: &str) -> Option<Fault> {
        Self::NAMED.iter().find(|(n, _)| *n == name).map(|(_, f)| f.clone())
    }
}

/// How many matching requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    /// The next `n` matching requests.
    Next(usize),
    /// Every matching request until [`crate::Simulator::clear_faults`].
    Always,
}

#[derive(Debug)]
struct Entry {
    fault: Fault,
    remaining: Option<usize>,
    route: Option<Route>,
}

/// The injected faults of one simulator, matched first to last.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    entries: Vec<Entry>,
}

impl FaultTable {
    pub(crate) fn inject(&mut self, fault: Fault, times: Times, route: Option<Route>) {
        let remaining = match times {
            Times::Next(0) => return,
            Times::Next(n) => Some(n),
            Times::Always => None,
        };
        self.entries.push(Entry { fault, remaining, route });
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// The fault for a request to `route` (`None`: no known route), consuming one use.
    pub(crate) fn take(&mut self, route: Option<Route>) -> Option<Fault> {
        let pos = self.entries.iter().position(|e| e.route.is_none() || e.route == route)?;
        let entry = &mut self.entries[pos];
        let fault = entry.fault.clone();
        if let Some(n) = entry.remaining.as_mut() {
            *n -= 1;
            if *n == 0 {
                self.entries.remove(pos);
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_n_counts_down_and_routes_filter() {
        let mut t = FaultTable::default();
        t.inject(Fault::RateLimited, Times::Next(2), Some(Route::Parking));
        t.inject(Fault::SystemError, Times::Always, None);
        assert_eq!(t.take(Some(Route::DirectById)), Some(Fault::SystemError));
        assert_eq!(t.take(Some(Route::Parking)), Some(Fault::RateLimited));
        assert_eq!(t.take(Some(Route::Parking)), Some(Fault::RateLimited));
        assert_eq!(t.take(Some(Route::Parking)), Some(Fault::SystemError));
        t.clear();
        assert_eq!(t.take(None), None);
        t.inject(Fault::Hang, Times::Next(0), None);
        assert_eq!(t.take(None), None);
    }
}
