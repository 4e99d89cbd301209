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

/// How the input's lines are read.
enum Mode {
    /// One id per line; blank lines and `#` comments are skipped.
    Lines,
    /// CSV records ([`csv::parse_record`]: quoted fields, line breaks inside quotes); the id
    /// is the field in column `index`, named `name` in the header; blank lines are skipped.
    Csv { index: usize, name: String },
}

/// The input, line by line (or record by record).
struct Feed {
    input: Box<dyn BufRead + Send>,
    /// The field each line holds, for error messages.
    field: &'static str,
    buf: Vec<u8>,
    /// A CSV record being gathered over several lines.
    record: Vec<u8>,
    mode: Mode,
    /// The length of a line already in `buf` (read while looking for a header), to be used
    /// as the next line.
    replay: Option<usize>,
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
        Self {
            input,
            field,
            buf: Vec::with_capacity(64),
            record: Vec::new(),
            mode: Mode::Lines,
            replay: None,
            line_no: 0,
            next_index: 0,
            skipped: 0,
            ended: false,
        }
    }

    /// Reads the header, if any. With `column`, the first non-blank line must be a CSV header
    /// naming that column, whose field then is the id of every record. Without, a first line
    /// naming the input's field (`out_trade_no`, or `transaction_id` with `--by
    /// transaction-id`) is a header: the id is in that column; any other first line is data.
    ///
    /// # Errors
    /// A usage message: no header, or no such column.
    fn start(&mut self, column: Option<&str>) -> Result<(), String> {
        let len = loop {
            match self.read_line().map_err(|e| format!("cannot read --input: {e}"))? {
                None if column.is_some() => return Err("--column: the input is empty (no header line)".into()),
                None => return Ok(()),
                Some(len) if len <= MAX_LINE && self.buf.trim_ascii().is_empty() => self.skipped += 1,
                Some(len) => break len,
            }
        };
        let header = std::str::from_utf8(&self.buf).ok().filter(|_| len <= MAX_LINE).map(|h| csv::parse_record(h).0);
        let wanted = column.unwrap_or(self.field);
        let index = header.as_ref().and_then(|h| h.iter().position(|name| name.trim() == wanted));
        match (index, header.as_ref().map_or(0, Vec::len)) {
            (Some(index), columns) if columns > 1 || column.is_some() => {
                self.mode = Mode::Csv { index, name: wanted.to_owned() };
            }
            // A one-column header: the lines below are ids, one per line.
            (Some(_), _) => {}
            (None, _) if column.is_none() => self.replay = Some(len),
            (None, _) => {
                let shown = String::from_utf8_lossy(&self.buf[..self.buf.len().min(4 * MAX_COLUMN_LIST)]);
                return Err(format!(
                    "--column {}: no such column in the header (line {}: {})",
                    untrusted::printable(wanted).max_chars(64),
                    self.line_no,
                    untrusted::printable(&shown).max_chars(MAX_COLUMN_LIST)
                ));
            }
        }
        Ok(())
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

    /// The next line into `buf` (a BOM at the very start dropped): its full length, or
    /// `None` at the end.
    fn read_line(&mut self) -> io::Result<Option<usize>> {
        if let Some(len) = self.replay.take() {
            return Ok(Some(len));
        }
        let Some(mut len) = read_capped(&mut *self.input, &mut self.buf, MAX_LINE)? else {
            return Ok(None);
        };
        self.line_no += 1;
        if self.line_no == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
            len -= 3;
        }
        Ok(Some(len))
    }

    fn next_line(&mut self) -> io::Result<Option<Line>> {
        let Some(len) = self.read_line()? else {
            return Ok(None);
        };
        if let Mode::Csv { .. } = self.mode {
            return self.csv_record(len).map(Some);
        }
        let n = self.line_no;
        let trimmed = self.buf.trim_ascii();
        if trimmed.starts_with(b"#") || (len <= MAX_LINE && trimmed.is_empty()) {
            return Ok(Some(Line::Skip));
        }
        if len > MAX_LINE {
            return Ok(Some(Line::Job(Job::Bad { shown: shown(trimmed), problem: self.too_long(n, len) })));
        }
        match std::str::from_utf8(trimmed) {
            Ok(no) => Ok(Some(Line::Job(Job::Query(no.to_owned())))),
            Err(e) => {
                let problem = format!("line {n}: not valid UTF-8 (at byte {})", e.valid_up_to());
                Ok(Some(Line::Job(Job::Bad { shown: shown(trimmed), problem })))
            }
        }
    }

    fn too_long(&self, n: usize, len: usize) -> String {
        let field = self.field;
        let article = if field.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        format!("line {n}: longer than {MAX_LINE} bytes ({len} bytes); {article} {field} has at most 32")
    }

    /// The CSV record starting with the line in `buf` (`len` bytes long), gathered over as
    /// many lines as a quoted field spans; at most [`MAX_LINE`] bytes of it are kept.
    fn csv_record(&mut self, len: usize) -> io::Result<Line> {
        let Mode::Csv { index, name } = &self.mode else { return Ok(Line::Skip) };
        let (index, name) = (*index, name.clone());
        if len <= MAX_LINE && self.buf.trim_ascii().is_empty() {
            return Ok(Line::Skip);
        }
        let n = self.line_no;
        let strip_cr = |line: &[u8]| line.strip_suffix(b"\r").map_or(line.len(), <[u8]>::len);
        self.record.clear();
        self.record.extend_from_slice(&self.buf[..strip_cr(&self.buf)]);
        let mut total = len;
        loop {
            let open = std::str::from_utf8(&self.record).is_ok_and(|r| csv::parse_record(r).1);
            if !open {
                break;
            }
            let Some(more) = self.read_line()? else { break };
            total = total.saturating_add(more + 1);
            if total <= MAX_LINE {
                self.record.push(b'\n');
                self.record.extend_from_slice(&self.buf[..strip_cr(&self.buf)]);
            } else if !self.buf.contains(&b'"') {
                // Too long already: only a quote can end the record.
                continue;
            } else {
                self.record.clear();
                self.record.extend_from_slice(b"\"");
                self.record.extend_from_slice(&self.buf[..strip_cr(&self.buf)]);
            }
        }
        let record = std::mem::take(&mut self.record);
        let line = if total > MAX_LINE {
            Line::Job(Job::Bad { shown: shown(record.trim_ascii()), problem: self.too_long(n, total) })
        } else {
            match std::str::from_utf8(&record) {
                Ok(text) => {
                    let (fields, _) = csv::parse_record(text);
                    match fields.get(index) {
                        Some(id) => Line::Job(Job::Query(id.trim().to_owned())),
                        None => {
                            let problem = format!(
                                "line {n}: no field in column {} ({}) of the header; the record has {}",
                                index + 1,
                                untrusted::printable(&name).max_chars(64),
                                fields.len()
                            );
                            Line::Job(Job::Bad { shown: shown(record.trim_ascii()), problem })
                        }
                    }
                }
                Err(e) => {
                    let problem = format!("line {n}: not valid UTF-8 (at byte {})", e.valid_up_to());
                    Line::Job(Job::Bad { shown: shown(record.trim_ascii()), problem })
                }
            }
        };
        self.record = record;
        Ok(line)
    }
}

/// A short printable prefix of a bad line.
fn shown(bytes: &[u8]) -> String {
    let prefix = String::from_utf8_lossy(&bytes[..bytes.len().min(4 * ECHO_CHARS)]);
    untrusted::printable(&prefix).max_chars(ECHO_CHARS).to_string()
}

/// How much of a header line a `--column` error shows.
const MAX_COLUMN_LIST: usize = 200;

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
    let render = Render::new(args.format, field, args.fields.as_deref())?;
    let column = args.column.as_deref();
    let input: Box<dyn BufRead + Send> = if args.input == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        Box::new(BufReader::new(open_input(&args.input)?))
    };
    let mut feed = Feed::new(input, field);
    feed.start(column).map_err(Failure::usage)?;
    // With a file, count its lines first (streaming) so the progress bar knows the total.
    let total = if args.input == "-" || !std::io::stderr().is_terminal() {
        None
    } else {
        open_input(&args.input).ok().and_then(|f| count_jobs(Box::new(BufReader::new(f)), field, column))
    };
    let client = settings::client(s)?;
    let concurrency = usize::from(args.concurrency);
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();

    crate::interrupt::cooperate();
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
        feed: Mutex::new(feed),
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
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if crate::interrupt::requested() {
                    return stop_on_interrupt(&shared, &mut stdout, next);
                }
                continue;
            }
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
        if crate::interrupt::requested() {
            return stop_on_interrupt(&shared, &mut stdout, next);
        }
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

/// Ctrl-C: stops the workers, flushes the complete lines printed, and says how many.
fn stop_on_interrupt<L: Lookup>(shared: &Shared<L>, stdout: &mut impl Write, done: usize) -> Result<(), Failure> {
    shared.cancel();
    let _ = stdout.flush();
    let lines = if done == 1 { "line" } else { "lines" };
    Err(crate::interrupt::interrupted(format!("get-many stopped after {done} {lines} answered and printed")))
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
fn count_jobs(input: Box<dyn BufRead + Send>, field: &'static str, column: Option<&str>) -> Option<usize> {
    let mut feed = Feed::new(input, field);
    feed.start(column).ok()?;
    let mut n = 0;
    while let Ok(Some(_)) = feed.next_job() {
        n += 1;
    }
    Some(n)
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

/// The CSV columns without `--fields`.
const DEFAULT_FIELDS: &str =
    "out_trade_no,result,trade_state,transaction_id,total_fen,success_time,http_status,error_code,request_id,message";

/// One CSV column.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Column {
    OutTradeNo,
    TradeState,
    TransactionId,
    SuccessTime,
    /// `total_fen`, or `amount.total`.
    TotalFen,
    /// `ok` or `error`.
    Result,
    HttpStatus,
    ErrorCode,
    RequestId,
    Message,
    /// Any other field of the answer, by its path (`payer.openid`, `promotion_detail.0.amount`).
    Path(Vec<String>),
}

impl Column {
    /// The column `name` stands for.
    fn parse(name: &str) -> Result<Column, String> {
        let rule = "rule: API field names ([A-Za-z0-9_]), nested with dots (amount.total), comma-separated";
        Ok(match name {
            "out_trade_no" => Column::OutTradeNo,
            "trade_state" => Column::TradeState,
            "transaction_id" => Column::TransactionId,
            "success_time" => Column::SuccessTime,
            "total_fen" | "amount.total" => Column::TotalFen,
            "result" => Column::Result,
            "http_status" => Column::HttpStatus,
            "error_code" => Column::ErrorCode,
            "request_id" => Column::RequestId,
            "message" => Column::Message,
            path => {
                let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
                if segments.iter().any(|s| s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')) {
                    return Err(format!(
                        "invalid --fields: {:?} is not a field name; {rule}",
                        untrusted::printable(path).max_chars(64).to_string()
                    ));
                }
                Column::Path(segments)
            }
        })
    }
}

/// How lines are written: the format, the field the input lines hold, the CSV columns.
pub(crate) struct Render {
    format: Format,
    field: &'static str,
    /// The CSV header's names, as given.
    names: Vec<String>,
    columns: Vec<Column>,
}

impl Render {
    /// A renderer; `fields` chooses the CSV columns (`--fields`, CSV only).
    fn new(format: Format, field: &'static str, fields: Option<&str>) -> Result<Render, Failure> {
        if fields.is_some() && format != Format::Csv {
            return Err(Failure::usage("--fields chooses CSV columns: give --format csv too"));
        }
        let names: Vec<String> = fields.unwrap_or(DEFAULT_FIELDS).split(',').map(|f| f.trim().to_owned()).collect();
        if names.len() > 256 {
            return Err(Failure::usage("invalid --fields: more than 256 columns"));
        }
        let columns = names.iter().map(|n| Column::parse(n)).collect::<Result<_, _>>().map_err(Failure::usage)?;
        Ok(Render { format, field, names, columns })
    }

    /// The CSV header line; none for JSON Lines.
    fn header(&self) -> Option<String> {
        let cells: Vec<Cell<'_>> = self.names.iter().map(|n| Cell::Text(n)).collect();
        (self.format == Format::Csv).then(|| csv::row(&cells))
    }

    /// The line of a verified answer.
    pub(crate) fn answer<T: Row>(&self, order: &T) -> String {
        if self.format == Format::Jsonl {
            return json::to_line(order).unwrap_or_default();
        }
        // Other fields are read from the answer's JSON, numbers as written.
        let text = if self.columns.iter().any(|c| matches!(c, Column::Path(_))) {
            serde_json::to_string(order).unwrap_or_default()
        } else {
            String::new()
        };
        let total = order.total_fen().map(|f| f.to_string()).unwrap_or_default();
        let paths: Vec<Option<(String, bool)>> = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Path(path) => field_at(&text, path),
                _ => None,
            })
            .collect();
        let cells: Vec<Cell<'_>> = self
            .columns
            .iter()
            .zip(&paths)
            .map(|(column, value)| match column {
                Column::OutTradeNo => Cell::Text(order.out_trade_no()),
                Column::TradeState => Cell::Text(order.trade_state()),
                Column::TransactionId => Cell::Text(order.transaction_id().unwrap_or("")),
                Column::SuccessTime => Cell::Text(order.success_time().unwrap_or("")),
                Column::TotalFen => Cell::Number(&total),
                Column::Result => Cell::Text("ok"),
                Column::HttpStatus => Cell::Number("200"),
                Column::ErrorCode | Column::RequestId | Column::Message => Cell::Text(""),
                Column::Path(_) => match value {
                    Some((text, true)) => Cell::Number(text),
                    Some((text, false)) => Cell::Text(text),
                    None => Cell::Text(""),
                },
            })
            .collect();
        csv::row(&cells)
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
        if self.format == Format::Jsonl {
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
            return json::to_line(&line).unwrap_or_default();
        }
        let status = status.map(|s| s.to_string()).unwrap_or_default();
        let by_id = self.field == By::TransactionId.field();
        let cells: Vec<Cell<'_>> = self
            .columns
            .iter()
            .map(|column| match column {
                Column::OutTradeNo if !by_id => Cell::Text(id),
                Column::TransactionId if by_id => Cell::Text(id),
                Column::Result => Cell::Text("error"),
                Column::HttpStatus => Cell::Number(&status),
                Column::ErrorCode => Cell::Text(label),
                Column::RequestId => Cell::Text(request_id.unwrap_or("")),
                Column::Message => Cell::Text(message),
                _ => Cell::Text(""),
            })
            .collect();
        csv::row(&cells)
    }
}

/// The value at `path` in the JSON object `text`: its text (a string decoded; a number,
/// `true` or `false` as written; an object or array as compact JSON) and whether it is a
/// number. `None` when absent or `null`. A numeric segment indexes an array.
fn field_at(text: &str, path: &[String]) -> Option<(String, bool)> {
    use serde_json::value::RawValue;
    let mut raw: &RawValue = serde_json::from_str(text).ok()?;
    for segment in path {
        let inner = raw.get();
        raw = if inner.starts_with('[') {
            let items: Vec<&RawValue> = serde_json::from_str(inner).ok()?;
            *items.get(segment.parse::<usize>().ok()?)?
        } else {
            let fields: BTreeMap<String, &RawValue> = serde_json::from_str(inner).ok()?;
            *fields.get(segment.as_str())?
        };
    }
    let value = raw.get();
    match value.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(value).ok().map(|s| (s, false)),
        b'n' => None,
        b'-' | b'0'..=b'9' => Some((value.to_owned(), true)),
        _ => Some((value.to_owned(), false)),
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
        csv_jobs(input, capacity, None).unwrap()
    }

    fn csv_jobs(input: &[u8], capacity: usize, column: Option<&str>) -> Result<(Vec<String>, usize), String> {
        let reader = BufReader::with_capacity(capacity, std::io::Cursor::new(input.to_vec()));
        let mut feed = Feed::new(Box::new(reader), "out_trade_no");
        feed.start(column)?;
        let mut out = Vec::new();
        while let Some((index, job)) = feed.next_job().unwrap() {
            assert_eq!(index, out.len());
            out.push(match job {
                Job::Query(no) => no,
                Job::Bad { shown, problem } => format!("BAD {shown} | {problem}"),
            });
        }
        Ok((out, feed.skipped))
    }

    #[test]
    fn csv_input_with_a_column_bom_crlf_and_quoted_fields() {
        let input = "\u{feff}交易时间,商户订单号,\"备注, 含逗号\"\r\n\
                     2024-01-01,A1,\"x\"\"y\"\r\n\
                     \r\n\
                     2024-01-02,\" B2 \",\"two\r\nlines\"\r\n\
                     2024-01-03\r\n\
                     2024-01-04,\"C,3\",z";
        for capacity in [5, 64, 8192] {
            let (got, skipped) = csv_jobs(input.as_bytes(), capacity, Some("商户订单号")).unwrap();
            assert_eq!(got.len(), 4, "{got:?}");
            assert_eq!(got[0], "A1");
            assert_eq!(got[1], "B2", "quoted, trimmed, its record spanning two lines");
            assert!(got[2].starts_with("BAD 2024-01-03 | line 6: no field in column 2"), "{}", got[2]);
            assert_eq!(got[3], "C,3");
            assert_eq!(skipped, 1);
        }
        let err = csv_jobs(input.as_bytes(), 64, Some("out_trade_no")).unwrap_err();
        assert!(
            err.starts_with("--column out_trade_no: no such column in the header (line 1: 交易时间,商户订单号"),
            "{err}"
        );
        assert!(csv_jobs(b"", 64, Some("x")).unwrap_err().contains("empty"));
    }

    #[test]
    fn a_header_naming_the_field_is_used_without_column() {
        let (got, _) = csv_jobs(b"time,out_trade_no\r\n1,A1\r\n2,\"B2\"\n", 64, None).unwrap();
        assert_eq!(got, ["A1", "B2"]);
        // One column: a header, then one id per line as usual (comments still skipped).
        let (got, skipped) = csv_jobs(b"out_trade_no\n# c\nA1\n", 64, None).unwrap();
        assert_eq!((got, skipped), (vec!["A1".to_owned()], 1));
        // No header: the first line is data.
        let (got, _) = csv_jobs(b"A1\nB2\n", 64, None).unwrap();
        assert_eq!(got, ["A1", "B2"]);
        // An unterminated quote runs to the end, kept bounded.
        let mut long = b"out_trade_no,x\nA1,\"open\n".to_vec();
        long.extend(std::iter::repeat_n(b'q', 3 * MAX_LINE));
        long.extend(b"\nB2,x\n");
        let (got, _) = csv_jobs(&long, 64, None).unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("longer than 4096 bytes"), "{got:?}");
    }

    #[test]
    fn fields_pick_csv_columns_by_api_name() {
        let render = Render::new(
            Format::Csv,
            "out_trade_no",
            Some("out_trade_no,amount.total,payer.openid,promotion_detail.0.goods_detail,result,big"),
        )
        .unwrap();
        assert_eq!(
            render.header().unwrap(),
            "out_trade_no,amount.total,payer.openid,promotion_detail.0.goods_detail,result,big"
        );
        let text = r#"{"mchid":"1","out_trade_no":"=A","trade_state":"SUCCESS","trade_state_desc":"","payer":{"openid":"o-1"},"amount":{"total":5},"promotion_detail":[{"goods_detail":[{"goods_id":"g,1"}]}],"big":123456789012345678901234567890}"#;
        let order: Transaction = serde_json::from_str(text).unwrap();
        assert_eq!(
            render.answer(&order),
            "'=A,5,o-1,\"[{\"\"goods_id\"\":\"\"g,1\"\"}]\",ok,123456789012345678901234567890"
        );
        assert_eq!(render.failure("B", Some(404), "NOT_FOUND", "m", None, 3), "B,,,,error,");
        assert!(Render::new(Format::Jsonl, "out_trade_no", Some("a")).is_err());
        assert!(Render::new(Format::Csv, "out_trade_no", Some("a..b")).is_err());
        assert!(Render::new(Format::Csv, "out_trade_no", Some("a,b c")).is_err());
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
