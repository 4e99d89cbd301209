//! `get-many` for every kind of order (`order`, `partner-order`, `parking-order`): bulk
//! queries for reconciliation. One engine, generic over the query ([`Lookup`]): the order
//! kinds differ only in how an input line becomes an operation and in the answer's type.
//!
//! Lines are read lazily as bytes, at most [`MAX_LINE`] bytes of each kept (the rest of a
//! longer line is skipped while reading), and answered by a bounded pool of workers; results
//! are printed in input order through a reorder window of a few times the concurrency, so
//! memory stays bounded whatever the input. Each query goes through the client's retry
//! policy.
//!
//! Input: a UTF-8 BOM at the start is ignored, so is a `\r` before a line break; blank lines
//! and lines starting with `#` are skipped and counted in the summary; every other line gets
//! exactly one output line, a line that is not UTF-8 or is too long an error line of its own.
//! A closed stdout (`| head`) ends the run at once and quietly: nothing new is started, no
//! worker waits any longer, queries in flight are abandoned (they are reads). It is noticed
//! on the next write, or within a quarter second while no line is ready (`poll` on Unix).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use wechatpay_core::model::{ParkingTransaction, PartnerTransaction, Transaction};
use wechatpay_core::watch::WatchedOrder;
use wechatpay_core::{Error, OutTradeNo, SubMchId, untrusted};

use super::query::{OrderQuery, with_query};
use crate::args::{By, Format, GetManyArgs, Settings};
use crate::csv::{self, Cell};
use crate::failure::{self, Failure};
use crate::{json, settings};

/// The longest input line read; an order number has at most 32 characters.
pub(crate) const MAX_LINE: usize = 4096;

/// How much of a bad line is echoed in its error line.
const ECHO_CHARS: usize = 40;

/// How much of a server's error message goes into an output line.
const MESSAGE_CHARS: usize = 500;

/// One kind of bulk query: what an input line names, and how it is asked and answered.
pub(crate) trait Lookup: Send + Sync + 'static {
    /// The API field each input line holds (`out_trade_no`, `transaction_id`).
    fn field(&self) -> &'static str;

    /// Queries what `id` names and renders the verified answer as one output line.
    ///
    /// # Errors
    /// The query's error; an `id` that breaks its field's rule is
    /// [`Error::InvalidInput`] (nothing is sent).
    fn lookup(&self, client: &wechatpay_ureq::Client, id: &str, render: &Render) -> Result<String, Error>;
}

/// Orders of any kind, by the key `by` names.
pub(crate) enum Orders {
    /// A direct merchant's (no `sub_mchid`) or a sub-merchant's.
    Payment {
        /// Which key the lines hold.
        by: By,
        /// The sub-merchant, for `partner-order`.
        sub_mchid: Option<SubMchId>,
    },
    /// Parking orders, by out_trade_no (`sub_mchid` for service providers).
    Parking {
        /// The sub-merchant, for service providers.
        sub_mchid: Option<SubMchId>,
    },
}

impl Lookup for Orders {
    fn field(&self) -> &'static str {
        match self {
            Orders::Payment { by, .. } => by.field(),
            Orders::Parking { .. } => By::OutTradeNo.field(),
        }
    }

    fn lookup(&self, client: &wechatpay_ureq::Client, id: &str, render: &Render) -> Result<String, Error> {
        let query = match self {
            Orders::Payment { by, sub_mchid } => OrderQuery::order(by.key(id)?, sub_mchid.clone()),
            Orders::Parking { sub_mchid } => OrderQuery::parking(OutTradeNo::new(id)?, sub_mchid.clone()),
        };
        with_query!(&query, |op| client.execute(op).map(|answer| render.answer(&answer)))
    }
}

/// The columns every kind of order fills in the CSV output.
pub(crate) trait Row: Serialize {
    /// The merchant order number.
    fn out_trade_no(&self) -> &str;
    /// The state as WeChat Pay spelled it.
    fn trade_state(&self) -> &str;
    /// WeChat Pay's transaction id, if any.
    fn transaction_id(&self) -> Option<&str>;
    /// The order total in fen, if given.
    fn total_fen(&self) -> Option<i64>;
    /// When it was paid, as WeChat Pay wrote it.
    fn success_time(&self) -> Option<&str>;
}

/// Implements [`Row`] for an order type with the usual field names.
macro_rules! row {
    ($($ty:ty),*) => {$(
        impl Row for $ty {
            fn out_trade_no(&self) -> &str {
                &self.out_trade_no
            }
            fn trade_state(&self) -> &str {
                WatchedOrder::trade_state(self)
            }
            fn transaction_id(&self) -> Option<&str> {
                self.transaction_id.as_deref()
            }
            fn total_fen(&self) -> Option<i64> {
                self.amount.as_ref().and_then(|a| a.total).map(|f| f.0)
            }
            fn success_time(&self) -> Option<&str> {
                self.success_time.as_ref().map(|t| t.as_str())
            }
        }
    )*};
}
row!(Transaction, PartnerTransaction, ParkingTransaction);

/// What one input line asks for.
enum Job {
    /// Query this order number.
    Query(String),
    /// The line cannot be an order number: a short printable prefix and why.
    Bad { shown: String, problem: String },
}

/// What one input line is.
enum Line {
    Job(Job),
    /// Blank, or a `#` comment.
    Skip,
}

/// Reads at most `cap` bytes of the next line into `buf` (which it clears) and skips the
/// rest of the line without keeping it. Returns the line's full length without its `\n`,
/// or `None` at the end of the input.
fn read_capped(input: &mut dyn BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<Option<usize>> {
    buf.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(any.then_some(total));
        }
        any = true;
        let (part, consumed, ended) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        buf.extend_from_slice(&part[..part.len().min(room)]);
        total = total.saturating_add(part.len());
        input.consume(consumed);
        if ended {
            return Ok(Some(total));
        }
    }
}

/// The input, line by line.
struct Feed {
    input: Box<dyn BufRead + Send>,
    /// The field each line holds, for error messages.
    field: &'static str,
    buf: Vec<u8>,
    /// The number of lines read so far (the current line's number, counting from 1).
    line_no: usize,
    /// The number of jobs handed out so far.
    next_index: usize,
    /// Blank and comment lines seen.
    skipped: usize,
    ended: bool,
}

impl Feed {
    fn new(input: Box<dyn BufRead + Send>, field: &'static str) -> Self {
        Self { input, field, buf: Vec::with_capacity(64), line_no: 0, next_index: 0, skipped: 0, ended: false }
    }

    /// The next job and its output index; `Ok(None)` at the end; a read error ends the input.
    fn next_job(&mut self) -> Result<Option<(usize, Job)>, String> {
        while !self.ended {
            let line = match self.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(e) => {
                    self.ended = true;
                    return Err(e.to_string());
                }
            };
            match line {
                Line::Skip => self.skipped += 1,
                Line::Job(job) => {
                    let index = self.next_index;
                    self.next_index += 1;
                    return Ok(Some((index, job)));
                }
            }
        }
        self.ended = true;
        Ok(None)
    }

    fn next_line(&mut self) -> io::Result<Option<Line>> {
        let Some(mut len) = read_capped(&mut *self.input, &mut self.buf, MAX_LINE)? else {
            return Ok(None);
        };
        self.line_no += 1;
        let n = self.line_no;
        let mut bytes = &self.buf[..];
        if n == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes = &bytes[3..];
            len -= 3;
        }
        let trimmed = bytes.trim_ascii();
        if trimmed.starts_with(b"#") || (len <= MAX_LINE && trimmed.is_empty()) {
            return Ok(Some(Line::Skip));
        }
        let shown = || {
            let prefix = String::from_utf8_lossy(&trimmed[..trimmed.len().min(4 * ECHO_CHARS)]);
            untrusted::printable(&prefix).max_chars(ECHO_CHARS).to_string()
        };
        if len > MAX_LINE {
            let field = self.field;
            let article = if field.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
            let problem =
                format!("line {n}: longer than {MAX_LINE} bytes ({len} bytes); {article} {field} has at most 32");
            return Ok(Some(Line::Job(Job::Bad { shown: shown(), problem })));
        }
        match std::str::from_utf8(trimmed) {
            Ok(no) => Ok(Some(Line::Job(Job::Query(no.to_owned())))),
            Err(e) => {
                let problem = format!("line {n}: not valid UTF-8 (at byte {})", e.valid_up_to());
                Ok(Some(Line::Job(Job::Bad { shown: shown(), problem })))
            }
        }
    }
}

/// The outcome of one line.
struct Outcome {
    line: String,
    /// `None` on success, else the exit-code class of the failure and its label.
    failure: Option<(u8, String)>,
}

/// What the workers and the printer share.
struct Shared<L> {
    client: wechatpay_ureq::Client,
    lookup: L,
    render: Render,
    window: usize,
    feed: Mutex<Feed>,
    /// The number of lines printed.
    printed: Mutex<usize>,
    progressed: Condvar,
    /// Workers waiting on `progressed`.
    waiters: AtomicUsize,
    /// Set when stdout is gone: start nothing new, stop waiting.
    cancelled: AtomicBool,
    read_error: Mutex<Option<String>>,
}

impl<L: Lookup> Shared<L> {
    /// Stops every worker: nothing new starts and nobody waits on the window.
    fn cancel(&self) {
        let _guard = self.printed.lock().unwrap_or_else(|p| p.into_inner());
        self.cancelled.store(true, Ordering::SeqCst);
        self.progressed.notify_all();
    }

    fn worker(&self, done: &mpsc::Sender<(usize, Outcome)>) {
        while !self.cancelled.load(Ordering::SeqCst) {
            let next = self.feed.lock().unwrap_or_else(|p| p.into_inner()).next_job();
            let (index, job) = match next {
                Ok(Some(job)) => job,
                Ok(None) => break,
                Err(e) => {
                    *self.read_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    break;
                }
            };
            let mut printed = self.printed.lock().unwrap_or_else(|p| p.into_inner());
            if index >= *printed + self.window {
                self.waiters.fetch_add(1, Ordering::SeqCst);
                while index >= *printed + self.window && !self.cancelled.load(Ordering::SeqCst) {
                    printed = self.progressed.wait(printed).unwrap_or_else(|p| p.into_inner());
                }
                self.waiters.fetch_sub(1, Ordering::SeqCst);
            }
            drop(printed);
            if self.cancelled.load(Ordering::SeqCst) {
                break;
            }
            let outcome = match job {
                Job::Query(id) => query(&self.client, &self.lookup, &id, &self.render),
                Job::Bad { shown, problem } => bad_line(&shown, &problem, &self.render),
            };
            if done.send((index, outcome)).is_err() {
                break;
            }
        }
    }
}

/// Runs the command: `lookup` for each line of `--input`.
pub(crate) fn run(s: &Settings, args: &GetManyArgs, lookup: impl Lookup) -> Result<(), Failure> {
    let field = lookup.field();
    let input: Box<dyn BufRead + Send> = if args.input == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        Box::new(BufReader::new(open_input(&args.input)?))
    };
    // With a file, count its lines first (streaming) so the progress bar knows the total.
    let total = if args.input == "-" || !std::io::stderr().is_terminal() {
        None
    } else {
        open_input(&args.input).ok().map(|f| count_jobs(Box::new(BufReader::new(f)), field))
    };
    let client = settings::client(s)?;
    let concurrency = usize::from(args.concurrency);
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();

    let render = Render { format: args.format, field };
    let mut stdout = std::io::stdout().lock();
    if let Some(header) = render.header() {
        if let Err(e) = writeln!(stdout, "{header}") {
            return quiet_if_closed(e);
        }
    }
    let mut counts = Counts::default();

    // Workers take numbered lines straight from the shared reader, and never run more than
    // `window` lines ahead of what has been printed (bounded memory for any input size).
    // They are not joined: when stdout closes, the run ends without waiting for queries in
    // flight.
    let shared = Arc::new(Shared {
        client,
        lookup,
        render,
        window: concurrency * 4,
        feed: Mutex::new(Feed::new(input, field)),
        printed: Mutex::new(0),
        progressed: Condvar::new(),
        waiters: AtomicUsize::new(0),
        cancelled: AtomicBool::new(false),
        read_error: Mutex::new(None),
    });
    let (done_tx, done_rx) = mpsc::channel::<(usize, Outcome)>();
    for _ in 0..concurrency {
        let (shared, done_tx) = (Arc::clone(&shared), done_tx.clone());
        std::thread::spawn(move || shared.worker(&done_tx));
    }
    drop(done_tx);

    // Printer: in input order. The loop ends when every worker has finished.
    let mut pending = BTreeMap::new();
    let mut next = 0usize;
    let mut last_progress = Instant::now();
    loop {
        let (index, outcome) = match done_rx.recv_timeout(Duration::from_millis(250)) {
            Ok(done) => done,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            // No line ready (a slow answer): a reader that went away ends the run now.
            Err(mpsc::RecvTimeoutError::Timeout) if stdout_gone() => {
                shared.cancel();
                return Ok(());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
        };
        pending.insert(index, outcome);
        while let Some(outcome) = pending.remove(&next) {
            if let Err(e) = writeln!(stdout, "{}", outcome.line) {
                shared.cancel();
                return quiet_if_closed(e);
            }
            counts.add(outcome.failure);
            next += 1;
        }
        *shared.printed.lock().unwrap_or_else(|p| p.into_inner()) = next;
        if shared.waiters.load(Ordering::SeqCst) > 0 {
            shared.progressed.notify_all();
        }
        if progress && last_progress.elapsed() > Duration::from_millis(100) {
            last_progress = Instant::now();
            let _ = write!(std::io::stderr(), "\r{}", counts.progress_line(total, started.elapsed()));
        }
    }
    if let Err(e) = stdout.flush() {
        return quiet_if_closed(e);
    }
    counts.skipped = shared.feed.lock().unwrap_or_else(|p| p.into_inner()).skipped;
    if progress {
        let _ = writeln!(std::io::stderr(), "\r{}", counts.progress_line(total, started.elapsed()));
    }
    let _ = writeln!(std::io::stderr(), "{}", counts.summary(started.elapsed()));
    if let Some(e) = shared.read_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(Failure::other(format!("reading --input failed after {} lines: {e}", counts.total)));
    }
    match counts.worst() {
        None => Ok(()),
        Some(code) => Err(Failure { code, message: "some orders could not be queried (see the lines above)".into() }),
    }
}

/// Opens `--input`; a missing, unreadable or non-regular path is a usage error.
fn open_input(path: &str) -> Result<std::fs::File, Failure> {
    let unreadable = |why: &dyn std::fmt::Display| Failure::usage(format!("cannot read --input file {path}: {why}"));
    let file = std::fs::File::open(path).map_err(|e| unreadable(&e))?;
    if file.metadata().map_err(|e| unreadable(&e))?.is_dir() {
        return Err(unreadable(&"is a directory"));
    }
    Ok(file)
}

/// The number of lines that will be answered (not blank, not comments).
fn count_jobs(input: Box<dyn BufRead + Send>, field: &'static str) -> usize {
    let mut feed = Feed::new(input, field);
    let mut n = 0;
    while let Ok(Some(_)) = feed.next_job() {
        n += 1;
    }
    n
}

/// Whether stdout is a pipe or socket whose reader has gone (`poll` reports an error or
/// hang-up on it). Never true for files and terminals, nor off Unix.
pub(crate) fn stdout_gone() -> bool {
    #[cfg(unix)]
    {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let stdout = std::io::stdout();
        let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
        let now = Timespec { tv_sec: 0, tv_nsec: 0 };
        matches!(poll(&mut fds, Some(&now)), Ok(n) if n > 0)
            && fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP)
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// A closed stdout (`| head`) ends the run quietly with success; any other write error fails.
fn quiet_if_closed(e: io::Error) -> Result<(), Failure> {
    if e.kind() == io::ErrorKind::BrokenPipe { Ok(()) } else { Err(write_failed(e)) }
}

fn write_failed(e: io::Error) -> Failure {
    Failure::other(format!("cannot write to stdout: {e}"))
}

fn query(client: &wechatpay_ureq::Client, lookup: &impl Lookup, id: &str, render: &Render) -> Outcome {
    match lookup.lookup(client, id, render) {
        Ok(line) => Outcome { line, failure: None },
        Err(error) => {
            let label = match &error {
                Error::Api(api) => untrusted::cut(api.code.as_str(), 64).into_owned(),
                Error::Verification(_) => "VERIFICATION_FAILED".to_owned(),
                Error::Transport(_) => "TRANSPORT_FAILED".to_owned(),
                Error::InvalidInput(_) => "INVALID_INPUT".to_owned(),
                _ => "OTHER".to_owned(),
            };
            Outcome { line: render.error(id, &error, &label), failure: Some((failure::code_of(&error), label)) }
        }
    }
}

/// The error line of an input line that cannot be an id.
fn bad_line(shown: &str, problem: &str, render: &Render) -> Outcome {
    let label = "INVALID_INPUT";
    let line = render.failure(shown, None, label, problem, None, failure::USAGE);
    Outcome { line, failure: Some((failure::USAGE, label.to_owned())) }
}

/// How lines are written: the format, and the field the input lines hold.
pub(crate) struct Render {
    format: Format,
    field: &'static str,
}

impl Render {
    /// The CSV header line (the same columns for every kind of order); none for JSON Lines.
    fn header(&self) -> Option<&'static str> {
        (self.format == Format::Csv).then_some(
            "out_trade_no,result,trade_state,transaction_id,total_fen,success_time,http_status,error_code,request_id,message",
        )
    }

    /// The line of a verified answer.
    pub(crate) fn answer<T: Row>(&self, order: &T) -> String {
        match self.format {
            Format::Jsonl => json::to_line(order).unwrap_or_default(),
            Format::Csv => csv::row(&[
                Cell::Text(order.out_trade_no()),
                Cell::Text("ok"),
                Cell::Text(order.trade_state()),
                Cell::Text(order.transaction_id().unwrap_or("")),
                Cell::Number(&order.total_fen().map(|f| f.to_string()).unwrap_or_default()),
                Cell::Text(order.success_time().unwrap_or("")),
                Cell::Number("200"),
                Cell::Text(""),
                Cell::Text(""),
                Cell::Text(""),
            ]),
        }
    }

    /// The line of a failed query for `id`.
    fn error(&self, id: &str, error: &Error, label: &str) -> String {
        let status = error.status().map(|s| s.as_u16());
        let message = match error {
            Error::Api(api) => untrusted::cut(&api.message, MESSAGE_CHARS).into_owned(),
            other => untrusted::cut(&other.to_string(), MESSAGE_CHARS).into_owned(),
        };
        self.failure(id, status, label, &message, error.request_id(), failure::code_of(error))
    }

    /// An error line: in JSON keyed by the input's field, in CSV the id in its field's column.
    fn failure(
        &self,
        id: &str,
        status: Option<u16>,
        label: &str,
        message: &str,
        request_id: Option<&str>,
        exit_code: u8,
    ) -> String {
        match self.format {
            Format::Jsonl => {
                let mut line = serde_json::Map::new();
                line.insert(self.field.to_owned(), json!(id));
                line.insert(
                    "error".to_owned(),
                    json!({
                        "code": label,
                        "http_status": status,
                        "message": message,
                        "request_id": request_id,
                        "exit_code": exit_code,
                    }),
                );
                json::to_line(&line).unwrap_or_default()
            }
            Format::Csv => {
                let (out_trade_no, transaction_id) =
                    if self.field == By::TransactionId.field() { ("", id) } else { (id, "") };
                csv::row(&[
                    Cell::Text(out_trade_no),
                    Cell::Text("error"),
                    Cell::Text(""),
                    Cell::Text(transaction_id),
                    Cell::Text(""),
                    Cell::Text(""),
                    Cell::Number(&status.map(|s| s.to_string()).unwrap_or_default()),
                    Cell::Text(label),
                    Cell::Text(request_id.unwrap_or("")),
                    Cell::Text(message),
                ])
            }
        }
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    ok: usize,
    by_label: BTreeMap<String, usize>,
    codes: Vec<u8>,
    /// Blank and comment lines skipped.
    skipped: usize,
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
            // Labels are WeChat Pay's error codes: server text.
            let parts: Vec<String> =
                self.by_label.iter().map(|(k, v)| format!("{}: {v}", untrusted::printable(k))).collect();
            let _ = write!(s, " ({})", parts.join(", "));
        }
        if self.skipped > 0 {
            let _ = write!(s, "; {} blank or comment line(s) skipped", self.skipped);
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

    fn jobs(input: &[u8], capacity: usize) -> (Vec<String>, usize) {
        let reader = BufReader::with_capacity(capacity, std::io::Cursor::new(input.to_vec()));
        let mut feed = Feed::new(Box::new(reader), "out_trade_no");
        let mut out = Vec::new();
        while let Some((index, job)) = feed.next_job().unwrap() {
            assert_eq!(index, out.len());
            out.push(match job {
                Job::Query(no) => no,
                Job::Bad { shown, problem } => format!("BAD {shown} | {problem}"),
            });
        }
        (out, feed.skipped)
    }

    #[test]
    fn bom_crlf_blank_lines_and_comments() {
        let (got, skipped) = jobs(b"\xEF\xBB\xBFA1\r\n\n  \t\r\n# note\n  #x\nB2 \nC3", 8192);
        assert_eq!(got, ["A1", "B2", "C3"]);
        assert_eq!(skipped, 4);
        // A BOM is only special at the very start.
        let (got, _) = jobs(b"A1\n\xEF\xBB\xBFB2\n", 8192);
        assert_eq!(got[1], "\u{feff}B2");
    }

    #[test]
    fn bad_lines_are_jobs_of_their_own_and_the_rest_is_read() {
        let mut input = b"A1\n\xff\xfeZ\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 3 * MAX_LINE));
        input.extend(b"\x1b\nB2\n");
        for capacity in [7, 64, 8192] {
            let (got, _) = jobs(&input, capacity);
            assert_eq!(got.len(), 4, "{got:?}");
            assert_eq!(got[0], "A1");
            assert_eq!(got[1], "BAD \u{fffd}\u{fffd}Z | line 2: not valid UTF-8 (at byte 0)");
            assert!(
                got[2].starts_with(&format!(
                    "BAD {}… (160 bytes in all) | line 3: longer than 4096 bytes ({} bytes)",
                    "x".repeat(40),
                    3 * MAX_LINE + 1
                )),
                "{}",
                got[2]
            );
            assert_eq!(got[3], "B2");
        }
    }

    #[test]
    fn long_lines_are_not_kept() {
        let mut buf = Vec::new();
        let mut input = std::io::Cursor::new(vec![b'y'; 1 << 20]);
        assert_eq!(read_capped(&mut input, &mut buf, 10).unwrap(), Some(1 << 20));
        assert_eq!(buf.len(), 10);
        assert_eq!(read_capped(&mut input, &mut buf, 10).unwrap(), None);
    }
}
