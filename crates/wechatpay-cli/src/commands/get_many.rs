//! `wechatpay order get-many`: bulk queries for reconciliation.
//!
//! Lines are read lazily and answered by a bounded pool of workers; results are printed in
//! input order through a reorder window of a few times the concurrency, so memory stays
//! bounded whatever the input size. Each query goes through the client's retry policy.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use wechatpay_core::api::QueryOrderByOutTradeNo;
use wechatpay_core::model::Transaction;
use wechatpay_core::{Error, OutTradeNo};

use crate::args::{Format, GetManyArgs, Settings};
use crate::failure::{self, Failure};
use crate::settings;

/// The input, numbered: blank lines are skipped, read errors end it.
struct Feed {
    lines: std::io::Lines<Box<dyn BufRead + Send>>,
    next_index: usize,
    ended: bool,
}

impl Feed {
    fn next_line(&mut self) -> Result<Option<(usize, String)>, String> {
        if self.ended {
            return Ok(None);
        }
        for line in self.lines.by_ref() {
            let line = line.map_err(|e| {
                self.ended = true;
                e.to_string()
            })?;
            let no = line.trim();
            if !no.is_empty() {
                let index = self.next_index;
                self.next_index += 1;
                return Ok(Some((index, no.to_owned())));
            }
        }
        self.ended = true;
        Ok(None)
    }
}

/// The outcome of one line.
struct Outcome {
    line: String,
    /// `None` on success, else the exit-code class of the failure and its label.
    failure: Option<(u8, String)>,
}

/// Runs the command.
pub fn run(s: &Settings, args: &GetManyArgs) -> Result<(), Failure> {
    let input: Box<dyn BufRead + Send> = if args.input == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(&args.input)
            .map_err(|e| Failure::usage(format!("cannot read --input file {}: {e}", args.input)))?;
        Box::new(BufReader::new(file))
    };
    // With a file, count its lines first (streaming) so the progress bar knows the total.
    let total = if args.input == "-" || !std::io::stderr().is_terminal() {
        None
    } else {
        std::fs::File::open(&args.input)
            .ok()
            .map(|f| BufReader::new(f).lines().map_while(Result::ok).filter(|l| !l.trim().is_empty()).count())
    };
    let client = settings::client(s)?;
    let concurrency = usize::from(args.concurrency);
    let window = concurrency * 4;
    let printed = Mutex::new(0usize);
    let progressed = Condvar::new();
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();

    let mut stdout = std::io::stdout().lock();
    if args.format == Format::Csv {
        writeln!(stdout, "out_trade_no,result,trade_state,transaction_id,total_fen,success_time,http_status,error_code,request_id,message")
            .map_err(write_failed)?;
    }
    let mut counts = Counts::default();
    let read_error: Mutex<Option<String>> = Mutex::new(None);

    // Workers take numbered lines straight from the shared reader, and never run more than
    // `window` lines ahead of what has been printed (bounded memory for any input size).
    let feed = Mutex::new(Feed { lines: input.lines(), next_index: 0, ended: false });
    let waiters = AtomicUsize::new(0);
    std::thread::scope(|scope| -> Result<(), Failure> {
        let (done_tx, done_rx) = mpsc::channel::<(usize, Outcome)>();
        let (printed, progressed, read_error, feed, waiters) = (&printed, &progressed, &read_error, &feed, &waiters);
        for _ in 0..concurrency {
            let (done_tx, client) = (done_tx.clone(), &client);
            let format = args.format;
            scope.spawn(move || {
                loop {
                    let next = feed.lock().unwrap_or_else(|p| p.into_inner()).next_line();
                    let (index, no) = match next {
                        Ok(Some(job)) => job,
                        Ok(None) => break,
                        Err(e) => {
                            *read_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                            break;
                        }
                    };
                    let mut done = printed.lock().unwrap_or_else(|p| p.into_inner());
                    if index >= *done + window {
                        waiters.fetch_add(1, Ordering::SeqCst);
                        while index >= *done + window {
                            done = progressed.wait(done).unwrap_or_else(|p| p.into_inner());
                        }
                        waiters.fetch_sub(1, Ordering::SeqCst);
                    }
                    drop(done);
                    if done_tx.send((index, query(client, &no, format))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);

        // Printer: in input order.
        let mut pending = BTreeMap::new();
        let mut next = 0usize;
        let mut last_progress = Instant::now();
        for (index, outcome) in done_rx {
            pending.insert(index, outcome);
            while let Some(outcome) = pending.remove(&next) {
                writeln!(stdout, "{}", outcome.line).map_err(write_failed)?;
                counts.add(outcome.failure);
                next += 1;
            }
            *printed.lock().unwrap_or_else(|p| p.into_inner()) = next;
            if waiters.load(Ordering::SeqCst) > 0 {
                progressed.notify_all();
            }
            if progress && last_progress.elapsed() > Duration::from_millis(100) {
                last_progress = Instant::now();
                let _ = write!(std::io::stderr(), "\r{}", counts.progress_line(total, started.elapsed()));
            }
        }
        Ok(())
    })?;
    stdout.flush().map_err(write_failed)?;
    if progress {
        let _ = writeln!(std::io::stderr(), "\r{}", counts.progress_line(total, started.elapsed()));
    }
    let _ = writeln!(std::io::stderr(), "{}", counts.summary(started.elapsed()));
    if let Some(e) = read_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(Failure::other(format!("reading --input failed after {} lines: {e}", counts.total)));
    }
    match counts.worst() {
        None => Ok(()),
        Some(code) => Err(Failure { code, message: "some orders could not be queried (see the lines above)".into() }),
    }
}

fn write_failed(e: std::io::Error) -> Failure {
    Failure::other(format!("cannot write to stdout: {e}"))
}

fn query(client: &wechatpay_ureq::Client, no: &str, format: Format) -> Outcome {
    let result = OutTradeNo::new(no)
        .map_err(Error::from)
        .and_then(|out_trade_no| client.execute(&QueryOrderByOutTradeNo { out_trade_no }));
    match result {
        Ok(order) => Outcome { line: success_line(&order, format), failure: None },
        Err(error) => {
            let label = match &error {
                Error::Api(api) => api.code.to_string(),
                Error::Verification(_) => "VERIFICATION_FAILED".to_owned(),
                Error::Transport(_) => "TRANSPORT_FAILED".to_owned(),
                Error::InvalidInput(_) => "INVALID_INPUT".to_owned(),
                _ => "OTHER".to_owned(),
            };
            Outcome { line: error_line(no, &error, &label, format), failure: Some((failure::code_of(&error), label)) }
        }
    }
}

fn success_line(order: &Transaction, format: Format) -> String {
    match format {
        Format::Jsonl => serde_json::to_string(order).unwrap_or_default(),
        Format::Csv => csv_row(&[
            &order.out_trade_no,
            "ok",
            order.trade_state.as_str(),
            order.transaction_id.as_deref().unwrap_or(""),
            &order.amount.as_ref().and_then(|a| a.total).map(|f| f.0.to_string()).unwrap_or_default(),
            order.success_time.as_ref().map_or("", |t| t.as_str()),
            "200",
            "",
            "",
            "",
        ]),
    }
}

fn error_line(no: &str, error: &Error, label: &str, format: Format) -> String {
    let status = error.status().map(|s| s.as_u16());
    let message = match error {
        Error::Api(api) => api.message.clone(),
        other => other.to_string(),
    };
    match format {
        Format::Jsonl => json!({
            "out_trade_no": no,
            "error": {
                "code": label,
                "http_status": status,
                "message": message,
                "request_id": error.request_id(),
                "exit_code": failure::code_of(error),
            }
        })
        .to_string(),
        Format::Csv => csv_row(&[
            no,
            "error",
            "",
            "",
            "",
            "",
            &status.map(|s| s.to_string()).unwrap_or_default(),
            label,
            error.request_id().unwrap_or(""),
            &message,
        ]),
    }
}

fn csv_row(fields: &[&str]) -> String {
    let mut row = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            row.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            let _ = write!(row, "\"{}\"", field.replace('"', "\"\""));
        } else {
            row.push_str(field);
        }
    }
    row
}

#[derive(Default)]
struct Counts {
    total: usize,
    ok: usize,
    by_label: BTreeMap<String, usize>,
    codes: Vec<u8>,
}

impl Counts {
    fn add(&mut self, failure: Option<(u8, String)>) {
        self.total += 1;
        match failure {
            None => self.ok += 1,
            Some((code, label)) => {
                *self.by_label.entry(label).or_default() += 1;
                if !self.codes.contains(&code) {
                    self.codes.push(code);
                }
            }
        }
    }

    fn progress_line(&self, total: Option<usize>, elapsed: Duration) -> String {
        let counts = format!("({} ok, {} failed) {:.1} s", self.ok, self.total - self.ok, elapsed.as_secs_f64());
        match total {
            Some(total) if total > 0 => {
                const WIDTH: usize = 30;
                let filled = (self.total * WIDTH / total).min(WIDTH);
                format!("[{}{}] {}/{total} {counts}", "#".repeat(filled), " ".repeat(WIDTH - filled), self.total)
            }
            _ => format!("{} done {counts}", self.total),
        }
    }

    fn summary(&self, elapsed: Duration) -> String {
        let mut s = format!(
            "get-many: {} orders, {} ok, {} failed in {:.1} s",
            self.total,
            self.ok,
            self.total - self.ok,
            elapsed.as_secs_f64()
        );
        if !self.by_label.is_empty() {
            let parts: Vec<String> = self.by_label.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let _ = write!(s, " ({})", parts.join(", "));
        }
        s
    }

    /// The exit code: the most serious failure class seen (verification, transport,
    /// other, WeChat Pay errors, invalid lines), or none when every order was answered.
    fn worst(&self) -> Option<u8> {
        [failure::VERIFICATION, failure::TRANSPORT, failure::OTHER, failure::API, failure::USAGE]
            .into_iter()
            .find(|c| self.codes.contains(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_row(&["a", "b,c", "d\"e", ""]), "a,\"b,c\",\"d\"\"e\",");
    }

    #[test]
    fn worst_failure_wins() {
        let mut c = Counts::default();
        c.add(None);
        assert_eq!(c.worst(), None);
        c.add(Some((failure::API, "ORDER_NOT_EXIST".into())));
        assert_eq!(c.worst(), Some(failure::API));
        c.add(Some((failure::VERIFICATION, "VERIFICATION_FAILED".into())));
        assert_eq!(c.worst(), Some(failure::VERIFICATION));
        assert!(c.summary(Duration::ZERO).contains("ORDER_NOT_EXIST: 1"));
        assert!(c.progress_line(Some(6), Duration::ZERO).starts_with("[###############               ] 3/6"));
        assert!(c.progress_line(None, Duration::ZERO).starts_with("3 done (1 ok, 2 failed)"));
    }
}
