//! Reading a downloaded bill (账单, spec §17): a streaming [`BillReader`] that takes the
//! file's bytes in chunks of any size, gunzips them when they are gzip, hashes the
//! decompressed bytes exactly as received (SHA-1, before any BOM, CRLF or UTF-8 handling) and
//! hands out typed [`Record`]s: trade-bill rows ([`TradeRow`], `ALL`, `SUCCESS` and `REFUND`
//! layouts), fund-bill rows ([`FundRow`]) and the summary ([`TradeSummary`],
//! [`FundSummary`]).
//!
//! The download is the one answer WeChat Pay does not sign: the SHA-1 of the signed apply
//! answer ([`BillHash`]) is the only proof. Rows are therefore **provisional** until
//! [`BillReader::finish`] has compared the hash: a mismatch is an error that says so, and a
//! caller that stops early has proved nothing.
//!
//! Columns are mapped **by header name**, never by position (old layouts without
//! 应结订单金额 or 代金券金额 still read); each value's one leading backquote is dropped;
//! money is exact ([`Fen`] for 2-decimal yuan columns, [`Fee`] for the 5-decimal fee);
//! times are Beijing local time ([`BeijingTime`]); `0` in 特约商户号 and the refund-id
//! columns reads as none. Memory stays bounded whatever the file's size: at most one
//! decompressed block and one line (≤ [`MAX_LINE_BYTES`]) are held.
//!
//! ```
//! use wechatpay_core::bill::{BillHash, BillKind, BillReader, Record};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let file = "\u{feff}记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号\r\n\
//!     `2024-05-01 10:00:00,`4200000001,`F1,`交易,`交易,`收入,`1.00,`1.00,`system,`,`V1\r\n\
//!     资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n`1,`1,`1.00,`0,`0.00\r\n";
//! let hash = BillHash::sha1_of(file.as_bytes());
//! let mut reader = BillReader::new(BillKind::FundFlow, hash);
//! let mut rows = Vec::new();
//! for chunk in file.as_bytes().chunks(7) {
//!     reader.feed(chunk, &mut |record| rows.push(record))?;
//! }
//! let verified = reader.finish(&mut |record| rows.push(record))?; // only now are the rows proved
//! assert_eq!(verified.rows, 1);
//! assert!(matches!(&rows[0], Record::Fund(row) if row.amount.get() == 100));
//! # Ok(()) }
//! ```

use std::fmt;
use std::io::Write as _;
use std::time::SystemTime;

use serde::{Serialize, Serializer};
use sha1::{Digest as _, Sha1};

use crate::api::{BillAnswer, DownloadFile, FundFlowBill, Operation, TradeBill};
use crate::auth::{SigningInput, prepare};
use crate::calendar::{days_from_civil, days_in_month};
use crate::config::{Config, Host};
use crate::error::Error;
use crate::ids::InvalidInput;
use crate::model::Fen;
use crate::response::parse_response;

/// The longest line the reader accepts (1 MiB); a longer one is an error (real rows are
/// under 4 KiB, 备注 at most 2 048 characters).
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// How much compressed input is decompressed at a time (bounds the output held at once).
const GZIP_SLICE: usize = 8 * 1024;

/// Which bill a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BillKind {
    /// A trade bill (交易账单; `ALL`, `SUCCESS` or `REFUND`: told by its header).
    Trade,
    /// A fund-flow bill (资金账单).
    FundFlow,
}

/// The SHA-1 a bill must hash to (`hash_type` `SHA1`, `hash_value` 40 hex characters).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BillHash([u8; 20]);

impl BillHash {
    /// The rule `hash_type`/`hash_value` follow.
    pub const RULE: &'static str = "hash_type SHA1 and hash_value 40 hex characters";

    /// Reads the apply answer's `hash_type` and `hash_value` (hex in either case).
    ///
    /// # Errors
    /// [`InvalidInput`] naming `hash_type` (not `SHA1`) or `hash_value` (not 40 hex digits).
    pub fn parse(hash_type: &str, hash_value: &str) -> Result<Self, InvalidInput> {
        if hash_type != "SHA1" {
            let shown = crate::untrusted::printable(hash_type).max_chars(32).to_string();
            return Err(InvalidInput::new("hash_type", format!("is {shown}"), Self::RULE));
        }
        let bytes = hash_value.as_bytes();
        if bytes.len() != 40 {
            return Err(InvalidInput::new("hash_value", format!("has {} characters", bytes.len()), Self::RULE));
        }
        let mut out = [0u8; 20];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let (Some(hi), Some(lo)) = (hex_digit(pair[0]), hex_digit(pair[1])) else {
                return Err(InvalidInput::new("hash_value", "is not hexadecimal", Self::RULE));
            };
            out[i] = hi << 4 | lo;
        }
        Ok(Self(out))
    }

    /// The SHA-1 of `bytes` (tests, a simulator).
    pub fn sha1_of(bytes: &[u8]) -> Self {
        Self(Sha1::digest(bytes).into())
    }

    /// The 20 bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }
}

impl fmt::Display for BillHash {
    /// Lower-case hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for BillHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BillHash({self})")
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A fee (手续费, 手续费总金额): yuan with 5 decimals, kept exactly as a count of
/// 1/100 000 yuan (`0.01000` is `Fee(1000)`, one fen).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fee(pub i64);

impl Fee {
    /// The amount in 1/100 000 yuan.
    pub fn get(self) -> i64 {
        self.0
    }

    /// The amount in fen when it is a whole number of fen.
    pub fn to_fen(self) -> Option<Fen> {
        (self.0 % 1000 == 0).then_some(Fen(self.0 / 1000))
    }
}

impl fmt::Display for Fee {
    /// Yuan with 5 decimals, as in the bill (`0.01000`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:05}", abs / 100_000, abs % 100_000)
    }
}

impl Serialize for Fee {
    /// As the decimal string (never a float).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A bill time: `yyyy-MM-dd HH:mm:ss` in Beijing local time (UTC+8, no offset written).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BeijingTime {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl BeijingTime {
    /// Parses `yyyy-MM-dd HH:mm:ss`.
    ///
    /// # Errors
    /// A description of what is wrong.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let b = text.as_bytes();
        if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
            return Err("is not yyyy-MM-dd HH:mm:ss");
        }
        let num = |r: std::ops::Range<usize>| -> Result<u16, &'static str> {
            b[r].iter().try_fold(0u16, |acc, &c| {
                if c.is_ascii_digit() { Ok(acc * 10 + u16::from(c - b'0')) } else { Err("has a non-digit") }
            })
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || day == 0 || i64::from(day) > days_in_month(i64::from(year), i64::from(month)) {
            return Err("is not a calendar date");
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err("is not a time of day");
        }
        let [month, day, hour, minute, second] = [month, day, hour, minute, second].map(|v| v as u8);
        Ok(Self { year, month, day, hour, minute, second })
    }

    /// Seconds since the Unix epoch (the time read as `+08:00`).
    pub fn unix_timestamp(&self) -> i64 {
        let days = days_from_civil(i64::from(self.year), i64::from(self.month), i64::from(self.day));
        days * 86_400 + i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second) - 8 * 3600
    }

    /// RFC 3339 with the offset: `2024-05-01T10:00:00+08:00`.
    pub fn to_rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// The calendar day, `yyyy-MM-dd`.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for BeijingTime {
    /// As in the bill: `yyyy-MM-dd HH:mm:ss`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl Serialize for BeijingTime {
    /// As RFC 3339 with `+08:00`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

/// The download of a bill file: a signed `GET` of `download_url`'s path and query exactly
/// as given, to the configured host it names. Its answer is **not** signed (this request
/// alone): a success is the file, to be fed to a [`BillReader`] that proves it
/// by the apply answer's hash; an error answer is read by [`BillDownload::error`] like any
/// other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillDownload {
    host: Host,
    op: DownloadFile,
}

impl BillDownload {
    /// The rule a `download_url` must follow.
    pub const RULE: &'static str = "the scheme and host[:port] of the configured base or backup URL exactly \
        (no user info, no other port), then an origin-form /path?query";

    /// Checks `download_url` (from a verified apply answer) against `config`'s hosts: only
    /// the scheme and authority of the base URL or of the backup URL, nothing else.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `download_url`.
    pub fn new(config: &Config, download_url: &str) -> Result<Self, InvalidInput> {
        let field = "download_url";
        let shown = || crate::untrusted::printable(download_url).max_chars(80).to_string();
        let hosts: &[Host] = if config.has_backup() { &[Host::Primary, Host::Backup] } else { &[Host::Primary] };
        for &host in hosts {
            let base = config.base_url(host);
            let prefix = format!("{}://{}", base.scheme(), base.authority());
            let Some(target) = download_url.strip_prefix(&prefix) else { continue };
            if !target.starts_with('/') {
                continue;
            }
            if target.contains('#') {
                return Err(InvalidInput::new(field, format!("{} has a fragment", shown()), Self::RULE));
            }
            match http::uri::PathAndQuery::try_from(target) {
                Ok(pq) if pq.as_str() == target => {}
                _ => return Err(InvalidInput::new(field, format!("{} is not a valid target", shown()), Self::RULE)),
            }
            return Ok(Self { host, op: DownloadFile::new(target) });
        }
        Err(InvalidInput::new(field, format!("{} is not on a configured API host", shown()), Self::RULE))
    }

    /// The path and query sent and signed, exactly as in the URL.
    pub fn target(&self) -> &str {
        self.op.target()
    }

    /// The host it goes to.
    pub fn host(&self) -> Host {
        self.host
    }

    /// The signed request (a fresh timestamp and nonce in `input`), with `Accept: */*`.
    ///
    /// # Errors
    /// As [`crate::prepare`] and signing.
    pub fn request(&self, config: &Config, input: SigningInput) -> Result<http::Request<Vec<u8>>, Error> {
        let mut request = prepare(config, &self.op, self.host, input)?.sign(config.signer())?;
        request.headers_mut().insert(http::header::ACCEPT, http::HeaderValue::from_static("*/*"));
        Ok(request)
    }

    /// The error of a non-2xx download answer (`body`: its JSON, read under the usual cap),
    /// reported like any other call's: [`Error::Api`] with its code (`400 INVALID_REQUEST`
    /// for an expired URL, `403 NO_AUTH`), verified if it carries a signature.
    pub fn error(&self, config: &Config, response: &http::Response<Vec<u8>>, now: SystemTime) -> Error {
        match parse_response(config, &self.op, response, now) {
            Err(e) => e,
            // A 2xx is not an error; say so rather than guess.
            Ok(_) => Error::InvalidInput(InvalidInput::new(
                "status",
                format!("{} is a success", response.status()),
                "BillDownload::error reads error answers only",
            )),
        }
    }
}

impl BillHash {
    /// The hash a bill answer names.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `hash_type` or `hash_value` (never after a successful apply:
    /// the driver checks the answer when it binds it).
    pub fn of_answer(answer: &BillAnswer) -> Result<Self, InvalidInput> {
        Self::parse(&answer.hash_type, &answer.hash_value)
    }
}

/// A bill application: an operation answered by a [`BillAnswer`] that knows which bill it
/// asks for (the adapters' bill download takes one).
pub trait BillRequest: Operation<Output = BillAnswer> {
    /// The kind of file it yields.
    const KIND: BillKind;
}

impl BillRequest for TradeBill {
    const KIND: BillKind = BillKind::Trade;
}

impl BillRequest for FundFlowBill {
    const KIND: BillKind = BillKind::FundFlow;
}

/// Direction of a fund-bill row (收支类型): amounts are unsigned, this says which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// 收入: money in.
    Income,
    /// 支出: money out.
    Expense,
}

/// One detail row of a trade bill (`ALL`, `SUCCESS` or `REFUND`). A column the file's layout
/// lacks is `None` (or empty text); `0` in 特约商户号 and the refund-id columns is `None`.
/// Field names are the API's where one exists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TradeRow {
    /// 交易时间: payment success, or refund initiation for a refund row.
    pub trade_time: BeijingTime,
    /// 公众账号ID.
    pub appid: String,
    /// 商户号.
    pub mchid: String,
    /// 特约商户号 (`None` for a direct merchant's bill: `0`).
    pub sub_mchid: Option<String>,
    /// 设备号.
    pub device_info: Option<String>,
    /// 微信订单号.
    pub transaction_id: String,
    /// 商户订单号.
    pub out_trade_no: String,
    /// 用户标识.
    pub openid: String,
    /// 交易类型 (`JSAPI`, `NATIVE`, …).
    pub trade_type: String,
    /// 交易状态 (`SUCCESS`, `REFUND`, `REVOKED`, …).
    pub trade_state: String,
    /// 付款银行.
    pub bank_type: String,
    /// 货币种类.
    pub currency: String,
    /// 应结订单金额 (absent in legacy layouts).
    pub settlement_total: Option<Fen>,
    /// 代金券金额 (absent in legacy layouts).
    pub coupon_amount: Option<Fen>,
    /// 退款申请时间 (`REFUND` layout).
    pub refund_create_time: Option<BeijingTime>,
    /// 退款成功时间 (`REFUND` layout; empty while not yet successful).
    pub refund_success_time: Option<BeijingTime>,
    /// 微信退款单号 (`None` on a payment row: `0`).
    pub refund_id: Option<String>,
    /// 商户退款单号 (`None` on a payment row: `0`).
    pub out_refund_no: Option<String>,
    /// 退款金额.
    pub refund: Option<Fen>,
    /// 充值券退款金额.
    pub recharge_refund: Option<Fen>,
    /// 退款类型.
    pub refund_type: Option<String>,
    /// 退款状态.
    pub refund_status: Option<String>,
    /// 商品名称.
    pub description: String,
    /// 商户数据包.
    pub attach: String,
    /// 手续费 (5 decimals).
    pub fee: Fee,
    /// 费率, as written (`0.60%`).
    pub rate: String,
    /// 订单金额.
    pub total: Option<Fen>,
    /// 申请退款金额.
    pub refund_request: Option<Fen>,
    /// 费率备注.
    pub rate_remark: Option<String>,
}

/// One detail row of a fund-flow bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FundRow {
    /// 记账时间.
    pub time: BeijingTime,
    /// 微信支付业务单号.
    pub business_no: String,
    /// 资金流水单号.
    pub flow_no: String,
    /// 业务名称.
    pub business_name: String,
    /// 业务类型.
    pub business_type: String,
    /// 收支类型.
    pub direction: Direction,
    /// 收支金额(元), unsigned.
    pub amount: Fen,
    /// 账户结余(元).
    pub balance: Option<Fen>,
    /// 资金变更提交申请人.
    pub applicant: String,
    /// 备注.
    pub remark: String,
    /// 业务凭证号.
    pub voucher_no: String,
}

/// The summary of a trade bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TradeSummary {
    /// 总交易单数.
    pub total_count: u64,
    /// 应结订单总金额.
    pub settlement_total: Option<Fen>,
    /// 退款总金额.
    pub refund: Option<Fen>,
    /// 充值券退款总金额.
    pub recharge_refund: Option<Fen>,
    /// 手续费总金额 (5 decimals).
    pub fee: Option<Fee>,
    /// 订单总金额.
    pub total: Option<Fen>,
    /// 申请退款总金额.
    pub refund_request: Option<Fen>,
}

/// The summary of a fund-flow bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FundSummary {
    /// 资金流水总笔数.
    pub total_count: u64,
    /// 收入笔数.
    pub income_count: u64,
    /// 收入金额.
    pub income: Fen,
    /// 支出笔数.
    pub expense_count: u64,
    /// 支出金额.
    pub expense: Fen,
}

/// What the reader hands out: a detail row or the summary. **Provisional** until
/// [`BillReader::finish`] returns `Ok`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
#[non_exhaustive]
// Records are handed out one at a time and moved, never stored in bulk by the reader: boxing
// the trade row would cost an allocation per row for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Record {
    /// A trade-bill detail row.
    Trade(TradeRow),
    /// A fund-bill detail row.
    Fund(FundRow),
    /// A trade bill's summary.
    TradeSummary(TradeSummary),
    /// A fund bill's summary.
    FundSummary(FundSummary),
}

/// The summary of a proved bill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Summary {
    /// A trade bill's.
    Trade(TradeSummary),
    /// A fund bill's.
    Fund(FundSummary),
}

/// What [`BillReader::finish`] proved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The SHA-1 of the decompressed bytes, equal to the expected one.
    pub hash: BillHash,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Detail rows read.
    pub rows: u64,
    /// The summary.
    pub summary: Summary,
    /// The header names of the detail rows, as in the file.
    pub header: Vec<String>,
}

/// Why a bill was not read or not proved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BillError {
    /// The decompressed bytes do not hash to the apply answer's `hash_value`: the file is
    /// not the one WeChat Pay vouched for, and nothing read from it is proved.
    HashMismatch {
        /// The SHA-1 the apply answer gave.
        expected: BillHash,
        /// The SHA-1 of the bytes received.
        actual: BillHash,
    },
    /// The gzip stream is broken or truncated.
    Gzip(String),
    /// A line breaks the bill format (1-based line number, after decompression).
    Format {
        /// The line.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// A line is longer than [`MAX_LINE_BYTES`].
    LineTooLong {
        /// The line.
        line: u64,
    },
    /// The file ended before its summary (a truncated download, or no bill at all).
    Incomplete(&'static str),
    /// Bytes were fed after [`BillReader::finish`], or after an error.
    Closed,
}

impl fmt::Display for BillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HashMismatch { expected, actual } => write!(
                f,
                "bill hash mismatch: the file hashes to SHA-1 {actual}, the signed apply answer said {expected}; \
                 the file is not proved and nothing read from it may be used"
            ),
            Self::Gzip(e) => write!(f, "bill gzip stream is broken: {e}"),
            Self::Format { line, problem } => write!(f, "bill line {line}: {problem}"),
            Self::LineTooLong { line } => write!(f, "bill line {line} is longer than {MAX_LINE_BYTES} bytes"),
            Self::Incomplete(what) => write!(f, "bill file is incomplete: {what}"),
            Self::Closed => f.write_str("bill reader is closed (finished, or failed earlier)"),
        }
    }
}

impl std::error::Error for BillError {}

/// Receives the reader's records.
type Out<'a> = &'a mut dyn FnMut(Record);

/// Where a [`BillReader`] puts what it reads: every record, and (if wanted) the
/// decompressed bytes exactly as received — both provisional until
/// [`BillReader::finish_into`] returns `Ok`.
pub trait BillSink {
    /// A detail row or the summary.
    fn record(&mut self, record: Record);
    /// The next decompressed bytes of the file, in order (the default ignores them).
    fn raw(&mut self, bytes: &[u8]) {
        let _ = bytes;
    }
}

/// Any closure over records is a sink of records (the raw bytes ignored).
impl<F: FnMut(Record)> BillSink for F {
    fn record(&mut self, record: Record) {
        self(record)
    }
}

/// A closure as a sink of records only.
struct Records<'a>(Out<'a>);

impl BillSink for Records<'_> {
    fn record(&mut self, record: Record) {
        (self.0)(record)
    }
}

/// How far a download is: bytes received (as sent, before gunzip) and the total when the
/// answer declared it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes received so far.
    pub bytes: u64,
    /// The declared length (`Content-Length`), when known.
    pub total: Option<u64>,
}

impl Progress {
    /// `bytes` of `total`.
    pub fn new(bytes: u64, total: Option<u64>) -> Self {
        Self { bytes, total }
    }
}

/// What downloading a day's bill came to (the adapters' bill calls).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BillFetch {
    /// Downloaded, read and proved by the signed hash.
    Proved(Verified),
    /// `NO_STATEMENT_EXIST`: no bill for that day (no business): a normal outcome.
    NoStatement,
    /// `STATEMENT_CREATING`: not ready yet; try again after 10:00 Beijing time.
    NotReady,
}

/// Why a bill download failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum FetchError {
    /// The apply call or the download request failed (an API error, a transport error, a
    /// `download_url` off the configured hosts, …).
    Call(Error),
    /// The file was not read or not proved (a hash mismatch among them).
    Bill(BillError),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Call(e) => e.fmt(f),
            Self::Bill(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Call(e) => Some(e),
            Self::Bill(e) => Some(e),
        }
    }
}

impl From<Error> for FetchError {
    fn from(e: Error) -> Self {
        Self::Call(e)
    }
}

impl From<BillError> for FetchError {
    fn from(e: BillError) -> Self {
        Self::Bill(e)
    }
}

impl From<InvalidInput> for FetchError {
    fn from(e: InvalidInput) -> Self {
        Self::Call(Error::InvalidInput(e))
    }
}

/// The hash and the not-yet-parsed tail of the decompressed bytes.
#[derive(Debug)]
struct Sink {
    hasher: Sha1,
    bytes: u64,
    buf: Vec<u8>,
}

impl Sink {
    fn new() -> Self {
        Self { hasher: Sha1::new(), bytes: 0, buf: Vec::with_capacity(64 * 1024) }
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether the input is gzip, once its first bytes are known.
enum Input {
    /// Fewer than two bytes seen yet (held here).
    Undecided(Vec<u8>),
    /// Plain text.
    Plain(Sink),
    /// A gzip file.
    Gzip(Box<flate2::write::MultiGzDecoder<Sink>>),
    /// Finished or failed.
    Closed,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Input::Undecided(_) => "Undecided",
            Input::Plain(_) => "Plain",
            Input::Gzip(_) => "Gzip",
            Input::Closed => "Closed",
        })
    }
}

/// A streaming bill reader: [`feed`](BillReader::feed) chunks of any size, then
/// [`finish`](BillReader::finish). See the [module documentation](self).
#[derive(Debug)]
pub struct BillReader {
    input: Input,
    parser: Parser,
    expected: BillHash,
}

impl BillReader {
    /// A reader of a `kind` bill that must hash to `expected`. Gzip is recognised by its
    /// magic bytes (`1f 8b`; a bill's text never starts so).
    pub fn new(kind: BillKind, expected: BillHash) -> Self {
        Self { input: Input::Undecided(Vec::new()), parser: Parser::new(kind), expected }
    }

    /// Decompressed bytes so far.
    pub fn bytes(&self) -> u64 {
        match &self.input {
            Input::Plain(sink) => sink.bytes,
            Input::Gzip(dec) => dec.get_ref().bytes,
            Input::Undecided(_) | Input::Closed => 0,
        }
    }

    /// Reads `chunk` (the next bytes of the file as received), handing each complete record
    /// to `out`. Records are provisional until [`BillReader::finish`].
    ///
    /// # Errors
    /// A [`BillError`]; the reader is then closed.
    pub fn feed(&mut self, chunk: &[u8], out: Out<'_>) -> Result<(), BillError> {
        self.feed_into(chunk, &mut Records(out))
    }

    /// [`BillReader::feed`] into a [`BillSink`] (records and, if it wants them, the
    /// decompressed bytes).
    ///
    /// # Errors
    /// As [`BillReader::feed`].
    pub fn feed_into(&mut self, chunk: &[u8], out: &mut dyn BillSink) -> Result<(), BillError> {
        let result = self.feed_inner(chunk, out);
        if result.is_err() {
            self.input = Input::Closed;
        }
        result
    }

    fn feed_inner(&mut self, mut chunk: &[u8], out: &mut dyn BillSink) -> Result<(), BillError> {
        if let Input::Undecided(head) = &mut self.input {
            let take = (2 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if head.len() < 2 {
                return Ok(());
            }
            let head = std::mem::take(head);
            let sink = Sink::new();
            self.input = if head == [0x1f, 0x8b] {
                Input::Gzip(Box::new(flate2::write::MultiGzDecoder::new(sink)))
            } else {
                Input::Plain(sink)
            };
            self.write(&head, out)?;
        }
        self.write(chunk, out)
    }

    fn write(&mut self, mut data: &[u8], out: &mut dyn BillSink) -> Result<(), BillError> {
        match &mut self.input {
            Input::Plain(sink) => {
                // Bounded: the plain bytes are parsed slice by slice.
                for part in data.chunks(64 * 1024) {
                    let _ = sink.write(part);
                    out.raw(part);
                    self.parser.lines(&mut sink.buf, false, out)?;
                }
                Ok(())
            }
            Input::Gzip(dec) => {
                while !data.is_empty() {
                    let slice = &data[..data.len().min(GZIP_SLICE)];
                    let before = dec.get_ref().buf.len();
                    let n = dec.write(slice).map_err(|e| BillError::Gzip(e.to_string()))?;
                    out.raw(&dec.get_ref().buf[before..]);
                    if n == 0 {
                        return Err(BillError::Gzip("data after the end of the gzip stream".into()));
                    }
                    data = &data[n..];
                    self.parser.lines(&mut dec.get_mut().buf, false, out)?;
                }
                Ok(())
            }
            Input::Undecided(_) => Ok(()),
            Input::Closed => Err(BillError::Closed),
        }
    }

    /// Ends the file: reads the last line, checks the gzip trailer and that the summary
    /// came, and compares the SHA-1 of everything decompressed with the expected one. Only
    /// an `Ok` here proves the records handed out.
    ///
    /// # Errors
    /// [`BillError::HashMismatch`] first of all when the hash differs; otherwise a
    /// format, gzip or [`BillError::Incomplete`] error.
    pub fn finish(&mut self, out: Out<'_>) -> Result<Verified, BillError> {
        self.finish_into(&mut Records(out))
    }

    /// [`BillReader::finish`] into a [`BillSink`].
    ///
    /// # Errors
    /// As [`BillReader::finish`].
    pub fn finish_into(&mut self, out: &mut dyn BillSink) -> Result<Verified, BillError> {
        let input = std::mem::replace(&mut self.input, Input::Closed);
        let mut sink = match input {
            Input::Closed => return Err(BillError::Closed),
            Input::Undecided(head) => {
                let mut sink = Sink::new();
                let _ = sink.write(&head);
                out.raw(&head);
                sink
            }
            Input::Plain(sink) => sink,
            Input::Gzip(mut dec) => {
                let before = dec.get_ref().buf.len();
                let finished = dec.try_finish();
                out.raw(&dec.get_ref().buf[before..]);
                let sink = std::mem::replace(dec.get_mut(), Sink::new());
                finished.map_err(|e| BillError::Gzip(e.to_string()))?;
                sink
            }
        };
        let parsed = self.parser.lines(&mut sink.buf, true, out);
        let actual = BillHash(sink.hasher.clone().finalize().into());
        if actual != self.expected {
            return Err(BillError::HashMismatch { expected: self.expected, actual });
        }
        parsed?;
        let summary = self.parser.summary.take().ok_or(match self.parser.phase {
            Phase::Header => BillError::Incomplete("no header line"),
            Phase::Details => BillError::Incomplete("no summary section"),
            Phase::SummaryValues | Phase::Done => BillError::Incomplete("no summary values"),
        })?;
        Ok(Verified {
            hash: actual,
            bytes: sink.bytes,
            rows: self.parser.rows,
            summary,
            header: std::mem::take(&mut self.parser.header),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Header,
    Details,
    SummaryValues,
    Done,
}

/// Trade-bill detail columns, by header name.
const TRADE_COLUMNS: [&str; 29] = [
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "退款申请时间",
    "退款成功时间",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];
/// The trade columns a file must have (indices into [`TRADE_COLUMNS`]).
const TRADE_REQUIRED: [usize; 5] = [0, 2, 5, 6, 9];

const FUND_COLUMNS: [&str; 11] = [
    "记账时间",
    "微信支付业务单号",
    "资金流水单号",
    "业务名称",
    "业务类型",
    "收支类型",
    "收支金额(元)",
    "账户结余(元)",
    "资金变更提交申请人",
    "备注",
    "业务凭证号",
];
const FUND_REQUIRED: [usize; 4] = [0, 2, 5, 6];

const TRADE_SUMMARY: [&str; 7] =
    ["总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额"];
const FUND_SUMMARY: [&str; 5] = ["资金流水总笔数", "收入笔数", "收入金额", "支出笔数", "支出金额"];

/// The line-by-line state of the reader.
#[derive(Debug)]
struct Parser {
    kind: BillKind,
    phase: Phase,
    line: u64,
    rows: u64,
    header: Vec<String>,
    /// Known column → its position in the file's header.
    map: Vec<Option<usize>>,
    width: usize,
    summary_map: Vec<Option<usize>>,
    summary_width: usize,
    summary: Option<Summary>,
    values: Vec<(usize, usize)>,
    /// How much of the held tail is known to hold no line end.
    scanned: usize,
}

fn map_columns(names: &[&str], header: &[String]) -> Vec<Option<usize>> {
    names.iter().map(|name| header.iter().position(|h| h == name)).collect()
}

impl Parser {
    fn new(kind: BillKind) -> Self {
        Self {
            kind,
            phase: Phase::Header,
            line: 0,
            rows: 0,
            header: Vec::new(),
            map: Vec::new(),
            width: 0,
            summary_map: Vec::new(),
            summary_width: 0,
            summary: None,
            values: Vec::new(),
            scanned: 0,
        }
    }

    /// Parses every complete line of `buf` (and, at the end, the last one without a line end),
    /// keeping the incomplete tail.
    fn lines(&mut self, buf: &mut Vec<u8>, at_end: bool, out: &mut dyn BillSink) -> Result<(), BillError> {
        // Bytes before `scanned` were searched already: a long line fed in small pieces is
        // scanned once, not once per piece.
        let (mut start, mut from) = (0, self.scanned.min(buf.len()));
        while let Some(pos) = buf[from..].iter().position(|&b| b == b'\n') {
            let end = from + pos;
            self.line(&buf[start..end], out)?;
            start = end + 1;
            from = start;
        }
        if at_end && start < buf.len() {
            let end = buf.len();
            self.line(&buf[start..end], out)?;
            start = end;
        }
        buf.drain(..start);
        self.scanned = buf.len();
        if buf.len() > MAX_LINE_BYTES {
            return Err(BillError::LineTooLong { line: self.line + 1 });
        }
        Ok(())
    }

    fn format(&self, problem: impl Into<String>) -> BillError {
        BillError::Format { line: self.line, problem: problem.into() }
    }

    fn line(&mut self, raw: &[u8], out: &mut dyn BillSink) -> Result<(), BillError> {
        self.line += 1;
        if raw.len() > MAX_LINE_BYTES {
            return Err(BillError::LineTooLong { line: self.line });
        }
        let mut raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if self.line == 1 {
            raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        }
        let text =
            std::str::from_utf8(raw).map_err(|e| self.format(format!("is not UTF-8 (at byte {})", e.valid_up_to())))?;
        if text.is_empty() {
            return Ok(());
        }
        match self.phase {
            Phase::Header => self.header_line(text),
            Phase::Details if text.starts_with('`') => {
                let record = self.detail(text)?;
                self.rows += 1;
                out.record(record);
                Ok(())
            }
            Phase::Details => {
                let names: Vec<String> = text.split(',').map(str::to_owned).collect();
                let known: &[&str] = match self.kind {
                    BillKind::Trade => &TRADE_SUMMARY,
                    BillKind::FundFlow => &FUND_SUMMARY,
                };
                self.summary_map = map_columns(known, &names);
                if self.summary_map[0].is_none() {
                    return Err(self.format(format!("summary header lacks {}", known[0])));
                }
                self.summary_width = names.len();
                self.phase = Phase::SummaryValues;
                Ok(())
            }
            Phase::SummaryValues => {
                let summary = self.summary_values(text)?;
                out.record(match &summary {
                    Summary::Trade(s) => Record::TradeSummary(s.clone()),
                    Summary::Fund(s) => Record::FundSummary(s.clone()),
                });
                self.summary = Some(summary);
                self.phase = Phase::Done;
                Ok(())
            }
            Phase::Done => Err(self.format("text after the summary")),
        }
    }

    fn header_line(&mut self, text: &str) -> Result<(), BillError> {
        if text.starts_with('`') {
            return Err(self.format("a value row where the header belongs"));
        }
        self.header = text.split(',').map(str::to_owned).collect();
        let (known, required): (&[&str], &[usize]) = match self.kind {
            BillKind::Trade => (&TRADE_COLUMNS, &TRADE_REQUIRED),
            BillKind::FundFlow => (&FUND_COLUMNS, &FUND_REQUIRED),
        };
        self.map = map_columns(known, &self.header);
        if let Some(&missing) = required.iter().find(|&&i| self.map[i].is_none()) {
            return Err(self.format(format!("header lacks the column {}", known[missing])));
        }
        self.width = self.header.len();
        self.phase = Phase::Details;
        Ok(())
    }

    /// Splits a backquoted row into value ranges: drop the first backquote, split on `` ,` ``.
    fn split(&mut self, text: &str, width: usize) -> Result<(), BillError> {
        self.values.clear();
        let body = &text[1..];
        let mut start = 1;
        for part in body.split(",`") {
            self.values.push((start, start + part.len()));
            start += part.len() + 2;
        }
        if self.values.len() != width {
            return Err(self.format(format!("has {} values, the header {width} names", self.values.len())));
        }
        Ok(())
    }

    fn detail(&mut self, text: &str) -> Result<Record, BillError> {
        self.split(text, self.width)?;
        let row = Row {
            parser: self,
            text,
            names: if self.kind == BillKind::Trade { &TRADE_COLUMNS } else { &FUND_COLUMNS },
        };
        match self.kind {
            BillKind::Trade => row.trade().map(Record::Trade),
            BillKind::FundFlow => row.fund().map(Record::Fund),
        }
    }

    fn summary_values(&mut self, text: &str) -> Result<Summary, BillError> {
        if !text.starts_with('`') {
            return Err(self.format("summary values do not start with a backquote"));
        }
        self.split(text, self.summary_width)?;
        let map = std::mem::take(&mut self.summary_map);
        let names: &[&str] = if self.kind == BillKind::Trade { &TRADE_SUMMARY } else { &FUND_SUMMARY };
        let row = SummaryRow { parser: self, text, map: &map, names };
        let summary = match self.kind {
            BillKind::Trade => Summary::Trade(TradeSummary {
                total_count: row.count(0)?.unwrap_or_default(),
                settlement_total: row.fen(1)?,
                refund: row.fen(2)?,
                recharge_refund: row.fen(3)?,
                fee: row.fee(4)?,
                total: row.fen(5)?,
                refund_request: row.fen(6)?,
            }),
            BillKind::FundFlow => Summary::Fund(FundSummary {
                total_count: row.count(0)?.unwrap_or_default(),
                income_count: row.count(1)?.unwrap_or_default(),
                income: row.fen(2)?.unwrap_or_default(),
                expense_count: row.count(3)?.unwrap_or_default(),
                expense: row.fen(4)?.unwrap_or_default(),
            }),
        };
        Ok(summary)
    }
}

/// One split detail row, read by known column.
struct Row<'a> {
    parser: &'a Parser,
    text: &'a str,
    names: &'a [&'a str],
}

impl<'a> Row<'a> {
    fn get(&self, col: usize) -> Option<&'a str> {
        let pos = self.parser.map[col]?;
        let (start, end) = self.parser.values[pos];
        Some(&self.text[start..end])
    }

    fn err(&self, col: usize, problem: &str) -> BillError {
        self.parser.format(format!("{} {problem}", self.names[col]))
    }

    fn text(&self, col: usize) -> String {
        self.get(col).unwrap_or_default().to_owned()
    }

    /// Empty → `None`.
    fn opt(&self, col: usize) -> Option<String> {
        self.get(col).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// Empty or `0` → `None`.
    fn id(&self, col: usize) -> Option<String> {
        self.get(col).filter(|v| !v.is_empty() && *v != "0").map(str::to_owned)
    }

    fn time(&self, col: usize) -> Result<Option<BeijingTime>, BillError> {
        match self.get(col).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => BeijingTime::parse(v).map(Some).map_err(|p| self.err(col, p)),
        }
    }

    fn required_time(&self, col: usize) -> Result<BeijingTime, BillError> {
        self.time(col)?.ok_or_else(|| self.err(col, "is empty"))
    }

    fn fen(&self, col: usize) -> Result<Option<Fen>, BillError> {
        match self.get(col).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => parse_fen(v).map(Some).map_err(|p| self.err(col, p)),
        }
    }

    fn fee(&self, col: usize) -> Result<Fee, BillError> {
        match self.get(col).filter(|v| !v.is_empty()) {
            None => Ok(Fee(0)),
            Some(v) => parse_fee(v).map_err(|p| self.err(col, p)),
        }
    }

    fn trade(&self) -> Result<TradeRow, BillError> {
        Ok(TradeRow {
            trade_time: self.required_time(0)?,
            appid: self.text(1),
            mchid: self.text(2),
            sub_mchid: self.id(3),
            device_info: self.opt(4),
            transaction_id: self.text(5),
            out_trade_no: self.text(6),
            openid: self.text(7),
            trade_type: self.text(8),
            trade_state: self.text(9),
            bank_type: self.text(10),
            currency: self.text(11),
            settlement_total: self.fen(12)?,
            coupon_amount: self.fen(13)?,
            refund_create_time: self.time(14)?,
            refund_success_time: self.time(15)?,
            refund_id: self.id(16),
            out_refund_no: self.id(17),
            refund: self.fen(18)?,
            recharge_refund: self.fen(19)?,
            refund_type: self.opt(20),
            refund_status: self.opt(21),
            description: self.text(22),
            attach: self.text(23),
            fee: self.fee(24)?,
            rate: self.text(25),
            total: self.fen(26)?,
            refund_request: self.fen(27)?,
            rate_remark: self.opt(28),
        })
    }

    fn fund(&self) -> Result<FundRow, BillError> {
        let direction = match self.get(5).unwrap_or_default() {
            "收入" => Direction::Income,
            "支出" => Direction::Expense,
            _ => return Err(self.err(5, "is neither 收入 nor 支出")),
        };
        Ok(FundRow {
            time: self.required_time(0)?,
            business_no: self.text(1),
            flow_no: self.text(2),
            business_name: self.text(3),
            business_type: self.text(4),
            direction,
            amount: self.fen(6)?.ok_or_else(|| self.err(6, "is empty"))?,
            balance: self.fen(7)?,
            applicant: self.text(8),
            remark: self.text(9),
            voucher_no: self.text(10),
        })
    }
}

/// The split summary values, read by known column.
struct SummaryRow<'a> {
    parser: &'a Parser,
    text: &'a str,
    map: &'a [Option<usize>],
    names: &'a [&'a str],
}

impl SummaryRow<'_> {
    fn get(&self, col: usize) -> Option<&str> {
        let pos = self.map[col]?;
        let (start, end) = self.parser.values[pos];
        Some(&self.text[start..end])
    }

    fn err(&self, col: usize, problem: &str) -> BillError {
        self.parser.format(format!("{} {problem}", self.names[col]))
    }

    fn count(&self, col: usize) -> Result<Option<u64>, BillError> {
        match self.get(col) {
            None => Ok(None),
            Some(v) => parse_count(v).map(Some).map_err(|p| self.err(col, p)),
        }
    }

    fn fen(&self, col: usize) -> Result<Option<Fen>, BillError> {
        match self.get(col) {
            None => Ok(None),
            Some(v) => parse_fen(v).map(Some).map_err(|p| self.err(col, p)),
        }
    }

    fn fee(&self, col: usize) -> Result<Option<Fee>, BillError> {
        match self.get(col) {
            None => Ok(None),
            Some(v) => parse_fee(v).map(Some).map_err(|p| self.err(col, p)),
        }
    }
}

/// A decimal with at most 5 places, in 1/100 000 units: `-?digits(.digits)?`.
fn parse_units(text: &str) -> Result<i64, &'static str> {
    const RULE: &str = "is not a decimal with at most 5 places";
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() || int.len() > 12 || frac.len() > 5 || digits.ends_with('.') {
        return Err(RULE);
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(RULE);
    }
    let mut value: i64 = 0;
    for b in int.bytes().chain(frac.bytes()).chain(std::iter::repeat_n(b'0', 5 - frac.len())) {
        value = value * 10 + i64::from(b - b'0');
    }
    Ok(if negative { -value } else { value })
}

/// Yuan (exactly a whole number of fen) → fen.
fn parse_fen(text: &str) -> Result<Fen, &'static str> {
    let units = parse_units(text)?;
    if units % 1000 != 0 {
        return Err("is not a whole number of fen");
    }
    Ok(Fen(units / 1000))
}

fn parse_fee(text: &str) -> Result<Fee, &'static str> {
    parse_units(text).map(Fee)
}

/// A count: `3` or `45.0` (a decimal that must be an integer).
fn parse_count(text: &str) -> Result<u64, &'static str> {
    let units = parse_units(text)?;
    if units < 0 || units % 100_000 != 0 {
        return Err("is not a whole, non-negative count");
    }
    Ok((units / 100_000) as u64)
}

#[cfg(test)]
mod tests;
