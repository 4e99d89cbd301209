//! `wechatpay bill trade|fundflow|reconcile`: download the day's bill, prove it by the signed
//! SHA-1, and write it (raw, CSV or JSON lines) or compare it with the merchant's own orders.
//!
//! The output file appears only once the hash is proved: it is written beside the target
//! and renamed at the end; on a mismatch nothing is left behind (exit 4). No bill for the day
//! (`NO_STATEMENT_EXIST`) and not ready yet (`STATEMENT_CREATING`) exit 3.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};
use wechatpay_core::api::{AccountType, BillDate, FundFlowBill, TradeBill, TradeBillType};
use wechatpay_core::bill::{BillError, BillFetch, BillRequest, BillSink, FetchError, Progress, Record, Verified};
use wechatpay_core::{SubMchId, untrusted};

use crate::args::Settings;
use crate::csv::{self, Cell};
use crate::failure::{self, Failure};
use crate::settings;

/// Exit code of `bill reconcile` when the bill and the orders differ.
const DIFFERS: u8 = 9;

/// `wechatpay bill …`
#[derive(Debug, Subcommand)]
pub(crate) enum BillCommand {
    /// Download the day's trade bill (交易账单), prove it, write it.
    Trade {
        /// The day (Beijing), YYYY-MM-DD: not in the future, at most three months back.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: String,
        /// Which rows.
        #[arg(long = "type", value_enum, default_value = "ALL")]
        bill_type: BillTypeArg,
        /// A sub-merchant's rows only (service providers).
        #[arg(long, value_name = "ID")]
        sub_mchid: Option<String>,
        /// Where to write it (appears only once proved).
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        /// raw: the verified file as sent (decompressed); csv: detail rows, English column
        /// names; jsonl: one JSON object per row and one for the summary.
        #[arg(long, value_enum, default_value = "raw")]
        format: Format,
    },
    /// Download the day's fund-flow bill (资金账单), prove it, write it.
    Fundflow {
        /// The day (Beijing), YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: String,
        /// Which account.
        #[arg(long, value_enum, default_value = "BASIC")]
        account_type: AccountTypeArg,
        /// Where to write it (appears only once proved).
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        /// raw, csv or jsonl (as for `bill trade`).
        #[arg(long, value_enum, default_value = "raw")]
        format: Format,
    },
    /// Compare the day's proved ALL bill with your own orders (CSV with `out_trade_no` and
    /// `total` in fen): one JSON line per difference on stdout, a summary on stderr; exit 0
    /// when nothing differs, 9 when something does.
    Reconcile {
        /// The day (Beijing), YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: String,
        /// Your orders: CSV with a header naming `out_trade_no` and `total` (fen; also
        /// `total_fen` or `amount.total`); `order get-many --format csv` output as it is (rows
        /// whose `result` is not `ok` are skipped, each named on stderr).
        #[arg(long, value_name = "FILE")]
        orders: PathBuf,
        /// A sub-merchant's bill (service providers).
        #[arg(long, value_name = "ID")]
        sub_mchid: Option<String>,
    },
}

/// `--type`.
#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "verbatim")]
#[allow(clippy::upper_case_acronyms)]
pub(crate) enum BillTypeArg {
    ALL,
    SUCCESS,
    REFUND,
}

/// `--account-type`.
#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "verbatim")]
#[allow(clippy::upper_case_acronyms)]
pub(crate) enum AccountTypeArg {
    BASIC,
    OPERATION,
    FEES,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Raw,
    Csv,
    Jsonl,
}

/// Runs a `bill` subcommand.
pub(crate) fn run(s: &Settings, command: &BillCommand) -> Result<(), Failure> {
    match command {
        BillCommand::Trade { date, bill_type, sub_mchid, output, format } => {
            let bill_type = match bill_type {
                BillTypeArg::ALL => TradeBillType::All,
                BillTypeArg::SUCCESS => TradeBillType::Success,
                BillTypeArg::REFUND => TradeBillType::Refund,
            };
            let date = bill_date(date)?;
            let mut op = TradeBill::new(date).with_bill_type(bill_type).gzipped();
            if let Some(sub) = sub_mchid {
                op = op.with_sub_mchid(sub_mchid_arg(sub)?);
            }
            write_bill(s, &op, date, output, *format)
        }
        BillCommand::Fundflow { date, account_type, output, format } => {
            let account_type = match account_type {
                AccountTypeArg::BASIC => AccountType::Basic,
                AccountTypeArg::OPERATION => AccountType::Operation,
                AccountTypeArg::FEES => AccountType::Fees,
            };
            let date = bill_date(date)?;
            let op = FundFlowBill::new(date).with_account_type(account_type).gzipped();
            write_bill(s, &op, date, output, *format)
        }
        BillCommand::Reconcile { date, orders, sub_mchid } => reconcile(s, date, orders, sub_mchid.as_deref()),
    }
}

fn sub_mchid_arg(text: &str) -> Result<SubMchId, Failure> {
    SubMchId::new(text).map_err(|e| Failure::usage(format!("--sub-mchid: {e}")))
}

fn bill_date(text: &str) -> Result<BillDate, Failure> {
    BillDate::new(text, SystemTime::now()).map_err(|e| Failure::usage(format!("--date: {e}")))
}

/// Exit 3 for the two "no file" outcomes, naming the code.
fn no_file(fetched: &BillFetch, date: &BillDate) -> Option<Failure> {
    let message = match fetched {
        BillFetch::NoStatement => format!("NO_STATEMENT_EXIST: no bill for {date} (no business that day)"),
        BillFetch::NotReady => {
            format!("STATEMENT_CREATING: the bill for {date} is not ready yet; try again after 10:00 Beijing time")
        }
        _ => return None,
    };
    Some(Failure { code: failure::API, message })
}

fn fetch_failure(e: FetchError) -> Failure {
    match e {
        FetchError::Call(e) => Failure::from(e),
        FetchError::Bill(e @ BillError::HashMismatch { .. }) => {
            Failure { code: failure::VERIFICATION, message: format!("{e}; nothing was written") }
        }
        FetchError::Bill(e) => {
            Failure::other(format!("{}; nothing was written", untrusted::printable(&e.to_string()).max_chars(400)))
        }
        other => Failure::other(other.to_string()),
    }
}

/// The progress line on stderr, when it is a terminal.
fn progress_bar() -> impl FnMut(Progress) {
    let tty = std::io::stderr().is_terminal();
    let mut last = 0u64;
    move |p: Progress| {
        if !tty || (p.bytes != 0 && p.bytes - last < 256 * 1024 && Some(p.bytes) != p.total) {
            return;
        }
        last = p.bytes;
        let line = match p.total {
            Some(total) if total > 0 => format!("\r{} / {} bytes ({}%)", p.bytes, total, p.bytes * 100 / total),
            _ => format!("\r{} bytes", p.bytes),
        };
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

/// A file written beside its target and renamed when done; removed if dropped before.
struct Pending {
    tmp: PathBuf,
    target: PathBuf,
    out: Option<BufWriter<File>>,
    committed: bool,
}

impl Pending {
    fn create(target: &Path) -> Result<Self, Failure> {
        if target.is_dir() {
            // Refused before anything is sent: the rename at the end could not replace it.
            return Err(Failure::usage(format!(
                "--output {}: is a directory; rule: the path of the file to write",
                target.display()
            )));
        }
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "bill".to_owned());
        let tmp = target.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        let file = File::create(&tmp).map_err(|e| {
            Failure::usage(format!("--output {}: cannot create {}: {e}", target.display(), tmp.display()))
        })?;
        Ok(Self {
            tmp,
            target: target.to_owned(),
            out: Some(BufWriter::with_capacity(256 * 1024, file)),
            committed: false,
        })
    }

    fn commit(mut self) -> Result<(), Failure> {
        let out = self.out.take().ok_or_else(|| Failure::other("output already closed"))?;
        let file = out.into_inner().map_err(|e| Failure::other(format!("cannot write {}: {e}", self.tmp.display())))?;
        file.sync_all().map_err(|e| Failure::other(format!("cannot write {}: {e}", self.tmp.display())))?;
        std::fs::rename(&self.tmp, &self.target)
            .map_err(|e| Failure::other(format!("cannot rename to {}: {e}", self.target.display())))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        drop(self.out.take());
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes records (CSV or JSON lines) or the raw bytes into the pending file; keeps the first
/// write error (reported after the download).
struct FileSink {
    out: BufWriter<File>,
    format: Format,
    header_done: bool,
    error: Option<std::io::Error>,
}

impl FileSink {
    fn put(&mut self, bytes: &[u8]) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(bytes) {
                self.error = Some(e);
            }
        }
    }
}

/// CSV columns of the detail rows: the serialised field names of the row types.
const TRADE_COLUMNS: &[&str] = &[
    "trade_time",
    "appid",
    "mchid",
    "sub_mchid",
    "device_info",
    "transaction_id",
    "out_trade_no",
    "openid",
    "trade_type",
    "trade_state",
    "bank_type",
    "currency",
    "settlement_total",
    "coupon_amount",
    "refund_create_time",
    "refund_success_time",
    "refund_id",
    "out_refund_no",
    "refund",
    "recharge_refund",
    "refund_type",
    "refund_status",
    "description",
    "attach",
    "fee",
    "rate",
    "total",
    "refund_request",
    "rate_remark",
];
const FUND_COLUMNS: &[&str] = &[
    "time",
    "business_no",
    "flow_no",
    "business_name",
    "business_type",
    "direction",
    "amount",
    "balance",
    "applicant",
    "remark",
    "voucher_no",
];

impl BillSink for FileSink {
    fn record(&mut self, record: Record) {
        match self.format {
            Format::Raw => {}
            Format::Jsonl => {
                let mut line = crate::json::to_line(&record).unwrap_or_default();
                line.push('\n');
                self.put(line.as_bytes());
            }
            Format::Csv => {
                let columns = match &record {
                    Record::Trade(_) => TRADE_COLUMNS,
                    Record::Fund(_) => FUND_COLUMNS,
                    _ => return,
                };
                if !self.header_done {
                    self.header_done = true;
                    let header: Vec<Cell<'_>> = columns.iter().map(|c| Cell::Text(c)).collect();
                    let line = format!("{}\n", csv::row(&header));
                    self.put(line.as_bytes());
                }
                let value = serde_json::to_value(&record).unwrap_or(Value::Null);
                let texts: Vec<(String, bool)> = columns
                    .iter()
                    .map(|c| match value.get(c) {
                        // 手续费 is the core's exact decimal (`-0.01000` for a refund's fee
                        // given back): a number this program formats, never a formula.
                        Some(Value::String(s)) if *c == "fee" => (s.clone(), true),
                        Some(Value::String(s)) => (s.clone(), false),
                        Some(Value::Number(n)) => (n.to_string(), true),
                        _ => (String::new(), false),
                    })
                    .collect();
                let cells: Vec<Cell<'_>> =
                    texts.iter().map(|(t, number)| if *number { Cell::Number(t) } else { Cell::Text(t) }).collect();
                let line = format!("{}\n", csv::row(&cells));
                self.put(line.as_bytes());
            }
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        if self.format == Format::Raw {
            self.put(bytes);
        }
    }
}

/// Downloads, proves and writes one bill.
fn write_bill<Op: BillRequest>(
    s: &Settings,
    op: &Op,
    date: BillDate,
    output: &Path,
    format: Format,
) -> Result<(), Failure> {
    let client = settings::client(s)?;
    let mut pending = Pending::create(output)?;
    let out = pending.out.take().ok_or_else(|| Failure::other("output not open"))?;
    let mut sink = FileSink { out, format, header_done: false, error: None };
    let fetched = client.bill(op, &mut sink, progress_bar());
    if std::io::stderr().is_terminal() {
        let _ = std::io::stderr().write_all(b"\n");
    }
    let verified = match fetched {
        Ok(BillFetch::Proved(v)) => v,
        Ok(other) => {
            return Err(no_file(&other, &date).unwrap_or_else(|| Failure::other("unexpected bill outcome")));
        }
        Err(e) => return Err(fetch_failure(e)),
    };
    if let Some(e) = sink.error {
        return Err(Failure::other(format!("cannot write {}: {e}", output.display())));
    }
    pending.out = Some(sink.out);
    pending.commit()?;
    let _ = writeln!(
        std::io::stderr(),
        "bill proved (SHA-1 {}): {} rows, {} bytes, written to {}",
        verified.hash,
        verified.rows,
        verified.bytes,
        output.display()
    );
    Ok(())
}

/// What the bill says of one order.
#[derive(Default)]
struct Billed {
    transaction_id: String,
    paid: Option<i64>,
    refunds: Vec<Value>,
}

/// Collects the bill's payments and refunds by `out_trade_no`.
#[derive(Default)]
struct Ledger {
    orders: HashMap<String, Billed>,
    order: Vec<String>,
}

impl BillSink for Ledger {
    fn record(&mut self, record: Record) {
        let Record::Trade(row) = record else { return };
        if !self.orders.contains_key(&row.out_trade_no) {
            self.order.push(row.out_trade_no.clone());
        }
        let billed = self.orders.entry(row.out_trade_no.clone()).or_default();
        billed.transaction_id.clone_from(&row.transaction_id);
        if row.refund_id.is_some() || row.out_refund_no.is_some() || row.trade_state == "REFUND" {
            billed.refunds.push(json!({
                "refund_id": row.refund_id, "out_refund_no": row.out_refund_no,
                "refund": row.refund.map(|f| f.get()), "refund_status": row.refund_status,
            }));
        } else {
            let total = row.total.or(row.settlement_total).map_or(0, |f| f.get());
            billed.paid = Some(billed.paid.unwrap_or(0) + total);
        }
    }
}

/// Reads the merchant's orders: `out_trade_no` → total in fen, in file order.
fn read_orders(path: &Path) -> Result<Vec<(String, i64)>, Failure> {
    let unreadable = |why: String| Failure::usage(format!("--orders {}: {why}", path.display()));
    let file = File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut lines = BufReader::new(file).lines().enumerate();
    let header = loop {
        match lines.next() {
            None => return Err(unreadable("empty: a CSV header naming out_trade_no and total is needed".into())),
            Some((_, line)) => {
                let line = line.map_err(|e| unreadable(e.to_string()))?;
                if !line.trim().is_empty() {
                    break csv::parse_record(line.trim_start_matches('\u{feff}').trim_end_matches('\r')).0;
                }
            }
        }
    };
    let find = |names: &[&str]| header.iter().position(|h| names.contains(&h.trim()));
    let no = find(&["out_trade_no"]).ok_or_else(|| unreadable("the header has no out_trade_no column".into()))?;
    let total = find(&["total", "total_fen", "amount.total"])
        .ok_or_else(|| unreadable("the header has no total column (fen; also total_fen or amount.total)".into()))?;
    // `order get-many --format csv` output has a `result` column: a row whose query failed
    // (`error`) holds no total; it is skipped, and said so, never given an amount.
    let result = find(&["result"]);
    let mut orders = Vec::new();
    for (n, line) in lines {
        let line = line.map_err(|e| unreadable(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let fields = csv::parse_record(line.trim_end_matches('\r')).0;
        let at = |i: usize| fields.get(i).map(|f| f.trim().to_owned()).unwrap_or_default();
        if let Some(r) = result.map(at).filter(|r| r != "ok") {
            let shown = |t: &str| untrusted::printable(t).max_chars(64).to_string();
            let _ = writeln!(
                std::io::stderr(),
                "--orders {}: line {}: skipped: result {:?} (a failed query holds no total) for out_trade_no {:?}",
                path.display(),
                n + 1,
                shown(&r),
                shown(&at(no))
            );
            continue;
        }
        let (out_trade_no, total_text) = (at(no), at(total));
        let total: i64 = total_text.parse().map_err(|_| {
            let shown = untrusted::printable(&total_text).max_chars(32).to_string();
            unreadable(format!("line {}: total {shown:?} is not a whole number of fen", n + 1))
        })?;
        if out_trade_no.is_empty() {
            return Err(unreadable(format!("line {}: empty out_trade_no", n + 1)));
        }
        orders.push((out_trade_no, total));
    }
    Ok(orders)
}

/// `wechatpay bill reconcile`.
fn reconcile(s: &Settings, date: &str, orders_path: &Path, sub_mchid: Option<&str>) -> Result<(), Failure> {
    let date = bill_date(date)?;
    let orders = read_orders(orders_path)?;
    let mut op = TradeBill::new(date).gzipped();
    if let Some(sub) = sub_mchid {
        op = op.with_sub_mchid(sub_mchid_arg(sub)?);
    }
    let client = settings::client(s)?;
    let mut ledger = Ledger::default();
    let verified: Verified = match client.bill(&op, &mut ledger, progress_bar()) {
        Ok(BillFetch::Proved(v)) => v,
        Ok(other) => return Err(no_file(&other, &date).unwrap_or_else(|| Failure::other("unexpected bill outcome"))),
        Err(e) => return Err(fetch_failure(e).with_note("nothing is compared")),
    };
    if std::io::stderr().is_terminal() {
        let _ = std::io::stderr().write_all(b"\n");
    }
    let mut lines = Vec::new();
    let mut mine: HashMap<&str, i64> = HashMap::new();
    for (no, total) in &orders {
        *mine.entry(no.as_str()).or_default() += total;
    }
    let mut seen = std::collections::HashSet::new();
    for (no, _) in &orders {
        if !seen.insert(no.as_str()) {
            continue;
        }
        let total = mine[no.as_str()];
        match ledger.orders.get(no).and_then(|b| b.paid.map(|paid| (b, paid))) {
            None => lines.push(json!({"difference":"missing_in_bill","out_trade_no":no,"orders_total":total})),
            Some((b, paid)) if paid != total => lines.push(json!({"difference":"amount_differs","out_trade_no":no,
                "transaction_id":b.transaction_id,"orders_total":total,"bill_total":paid})),
            Some(_) => {}
        }
    }
    for no in &ledger.order {
        let billed = &ledger.orders[no];
        if let Some(paid) = billed.paid.filter(|_| !mine.contains_key(no.as_str())) {
            lines.push(json!({"difference":"missing_in_orders","out_trade_no":no,
                "transaction_id":billed.transaction_id,"bill_total":paid}));
        }
        for refund in &billed.refunds {
            let mut line = json!({"difference":"refunded","out_trade_no":no,"transaction_id":billed.transaction_id});
            if let (Some(line), Some(refund)) = (line.as_object_mut(), refund.as_object()) {
                line.extend(refund.clone());
            }
            lines.push(line);
        }
    }
    for line in &lines {
        super::emit(&crate::json::to_line(line).map_err(|e| Failure::other(format!("cannot print JSON: {e}")))?)?;
    }
    let _ = writeln!(
        std::io::stderr(),
        "reconcile {date}: {} orders, {} bill rows (proved, SHA-1 {}), {} differences",
        seen.len(),
        verified.rows,
        verified.hash,
        lines.len()
    );
    if lines.is_empty() {
        Ok(())
    } else {
        Err(Failure { code: DIFFERS, message: format!("{} differences", lines.len()) })
    }
}

trait Note {
    fn with_note(self, note: &str) -> Self;
}

impl Note for Failure {
    fn with_note(mut self, note: &str) -> Self {
        self.message.push_str("; ");
        self.message.push_str(note);
        self
    }
}
