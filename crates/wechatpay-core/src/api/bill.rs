//! Bills (账单, spec §17): apply for the day's trade or fund-flow bill ([`TradeBill`],
//! [`FundFlowBill`], answered by a [`BillAnswer`]), tell "no bill" and "not ready" apart from
//! errors ([`BillOutcome`]). The download ([`crate::bill::BillDownload`]) and the reader that
//! proves the file ([`crate::bill::BillReader`]) are in [`crate::bill`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{Binding, Operation, Target, VerificationFailure};
use crate::calendar::{civil_from_days, days_from_civil, days_in_month};
use crate::error::Error;
use crate::ids::{InvalidInput, MchId, SubMchId};
use crate::model::ErrorCode;

/// A bill's day (`bill_date`, `yyyy-MM-dd`): a Beijing calendar day, not in the future, at
/// most three months back. Today is allowed (WeChat Pay then answers `STATEMENT_CREATING`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BillDate {
    year: i64,
    month: i64,
    day: i64,
}

impl BillDate {
    /// The rule a `bill_date` follows.
    pub const RULE: &'static str = "yyyy-MM-dd, a Beijing calendar day, not in the future, at most three months back";

    /// Validates `text` against the Beijing date of `now` (the clock is an argument).
    ///
    /// # Errors
    /// [`InvalidInput`] naming `bill_date`.
    pub fn new(text: &str, now: SystemTime) -> Result<Self, InvalidInput> {
        let date = Self::parse(text)?;
        let today = Self::today(now);
        if date > today {
            return Err(InvalidInput::new("bill_date", format!("{text} is in the future (Beijing time)"), Self::RULE));
        }
        if date < today.months_back(3) {
            return Err(InvalidInput::new("bill_date", format!("{text} is more than three months back"), Self::RULE));
        }
        Ok(date)
    }

    /// Parses `yyyy-MM-dd` as a calendar date, without the clock rules (a date read from a
    /// file; a simulator judging requests).
    ///
    /// # Errors
    /// [`InvalidInput`] naming `bill_date`.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let b = text.as_bytes();
        let shown = || crate::untrusted::printable(text).max_chars(32).to_string();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(InvalidInput::new("bill_date", format!("{} is not yyyy-MM-dd", shown()), Self::RULE));
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            b[r].iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
        };
        let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
            return Err(InvalidInput::new("bill_date", format!("{} is not yyyy-MM-dd", shown()), Self::RULE));
        };
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(InvalidInput::new("bill_date", format!("{} is not a calendar date", shown()), Self::RULE));
        }
        Ok(Self { year, month, day })
    }

    /// The Beijing calendar day of `now`.
    pub fn today(now: SystemTime) -> Self {
        let secs = now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs() as i64;
        let (year, month, day) = civil_from_days((secs + 8 * 3600).div_euclid(86_400));
        Self { year, month, day }
    }

    /// The day before.
    pub fn previous(self) -> Self {
        let (year, month, day) = civil_from_days(self.days() - 1);
        Self { year, month, day }
    }

    /// The same day `n` months earlier (clamped to the month's last day).
    pub fn months_back(self, n: i64) -> Self {
        let index = self.year * 12 + (self.month - 1) - n;
        let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
        Self { year, month, day: self.day.min(days_in_month(year, month)) }
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    /// Unix seconds of the day's Beijing midnight.
    pub fn beijing_midnight_unix(self) -> i64 {
        self.days() * 86_400 - 8 * 3600
    }
}

impl std::fmt::Display for BillDate {
    /// `yyyy-MM-dd`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Which trade-bill rows (`bill_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TradeBillType {
    /// Every payment and refund (27 columns). The default.
    #[default]
    All,
    /// Successful payments (20 columns).
    Success,
    /// Refunds (29 columns).
    Refund,
}

impl TradeBillType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "ALL",
            Self::Success => "SUCCESS",
            Self::Refund => "REFUND",
        }
    }

    /// Reads `ALL`, `SUCCESS` or `REFUND`.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `bill_type`.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        match text {
            "ALL" => Ok(Self::All),
            "SUCCESS" => Ok(Self::Success),
            "REFUND" => Ok(Self::Refund),
            _ => Err(InvalidInput::new("bill_type", "is not a known bill type", "ALL, SUCCESS or REFUND")),
        }
    }
}

/// Which account's fund-flow bill (`account_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AccountType {
    /// 基本账户. The default.
    #[default]
    Basic,
    /// 运营账户.
    Operation,
    /// 手续费账户.
    Fees,
}

impl AccountType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "BASIC",
            Self::Operation => "OPERATION",
            Self::Fees => "FEES",
        }
    }

    /// Reads `BASIC`, `OPERATION` or `FEES`.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `account_type`.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        match text {
            "BASIC" => Ok(Self::Basic),
            "OPERATION" => Ok(Self::Operation),
            "FEES" => Ok(Self::Fees),
            _ => Err(InvalidInput::new("account_type", "is not a known account type", "BASIC, OPERATION or FEES")),
        }
    }
}

/// Apply for a trade bill (申请交易账单). `GET /v3/bill/tradebill?bill_date=…&bill_type=…`
/// (`&tar_type=GZIP` when [`TradeBill::gzip`]; a service provider adds `&sub_mchid=…`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TradeBill {
    /// The day.
    pub bill_date: BillDate,
    /// Which rows.
    pub bill_type: TradeBillType,
    /// Whether the file comes gzipped.
    pub gzip: bool,
    /// The sub-merchant (service providers; `None`: every sub-merchant's rows).
    pub sub_mchid: Option<SubMchId>,
}

impl TradeBill {
    /// The `ALL` bill of `bill_date`, plain.
    pub fn new(bill_date: BillDate) -> Self {
        Self { bill_date, bill_type: TradeBillType::All, gzip: false, sub_mchid: None }
    }

    /// Sets the rows asked for.
    pub fn with_bill_type(self, bill_type: TradeBillType) -> Self {
        Self { bill_type, ..self }
    }

    /// Asks for the file gzipped (`tar_type=GZIP`).
    pub fn gzipped(self) -> Self {
        Self { gzip: true, ..self }
    }

    /// Makes it a service provider's bill for `sub_mchid`.
    pub fn with_sub_mchid(self, sub_mchid: SubMchId) -> Self {
        Self { sub_mchid: Some(sub_mchid), ..self }
    }
}

/// Apply for a fund-flow bill (申请资金账单). `GET /v3/bill/fundflowbill?bill_date=…&account_type=…`
/// (`&tar_type=GZIP` when gzipped). A service provider gets its own account's bill.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FundFlowBill {
    /// The day.
    pub bill_date: BillDate,
    /// Which account.
    pub account_type: AccountType,
    /// Whether the file comes gzipped.
    pub gzip: bool,
}

impl FundFlowBill {
    /// The `BASIC` account's bill of `bill_date`, plain.
    pub fn new(bill_date: BillDate) -> Self {
        Self { bill_date, account_type: AccountType::Basic, gzip: false }
    }

    /// Sets the account.
    pub fn with_account_type(self, account_type: AccountType) -> Self {
        Self { account_type, ..self }
    }

    /// Asks for the file gzipped (`tar_type=GZIP`).
    pub fn gzipped(self) -> Self {
        Self { gzip: true, ..self }
    }
}

/// The signed answer to a bill application: how to get the file and what it must hash to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillAnswer {
    /// `SHA1` (the only value).
    pub hash_type: String,
    /// The file's SHA-1, hex.
    pub hash_value: String,
    /// Where to download the file (valid for minutes: download at once).
    pub download_url: String,
}

/// Checks what a bill answer must hold: a SHA-1 hash.
fn check_bill_answer(answer: &BillAnswer) -> Result<Binding, VerificationFailure> {
    if answer.hash_type != "SHA1" {
        return Err(VerificationFailure::AnswerMismatch { field: "hash_type" });
    }
    if answer.hash_value.len() != 40 || !answer.hash_value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(VerificationFailure::AnswerMismatch { field: "hash_value" });
    }
    // The answer names nothing of the question (no date, no merchant): only its signature
    // and the hash vouch for it.
    Ok(Binding::Nothing)
}

impl Operation for TradeBill {
    type Output = BillAnswer;
    const NAME: &'static str = "trade_bill";
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "bill", "tradebill"])
            .query("bill_date", &self.bill_date.to_string())
            .query_opt("sub_mchid", self.sub_mchid.as_ref().map(SubMchId::as_str))
            .query("bill_type", self.bill_type.as_str())
            .query_opt("tar_type", self.gzip.then_some("GZIP"))
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// Applying changes nothing: it may be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// The answer must hold a `SHA1` hash; it names nothing else to bind.
    fn check_answer(&self, _mchid: &MchId, answer: &BillAnswer) -> Result<Binding, VerificationFailure> {
        check_bill_answer(answer)
    }
}

impl Operation for FundFlowBill {
    type Output = BillAnswer;
    const NAME: &'static str = "fundflow_bill";
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::path(&["v3", "bill", "fundflowbill"])
            .query("bill_date", &self.bill_date.to_string())
            .query("account_type", self.account_type.as_str())
            .query_opt("tar_type", self.gzip.then_some("GZIP"))
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// Applying changes nothing: it may be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// The answer must hold a `SHA1` hash; it names nothing else to bind.
    fn check_answer(&self, _mchid: &MchId, answer: &BillAnswer) -> Result<Binding, VerificationFailure> {
        check_bill_answer(answer)
    }
}

/// What applying for a bill came to: the bill, or one of the two normal "no file" answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BillOutcome {
    /// The bill exists: download it now.
    Ready(BillAnswer),
    /// `NO_STATEMENT_EXIST`: no business that day (or no flow on that account). Normal;
    /// never retried.
    NoStatement,
    /// `STATEMENT_CREATING`: not generated yet (bills are ready after 10:00 Beijing time
    /// the next day); ask again later.
    NotReady,
}

impl BillOutcome {
    /// Sorts an apply result: the two typed "no file" codes become outcomes, every other
    /// error stays an error.
    ///
    /// # Errors
    /// Any other [`Error`] of the call.
    pub fn from_result(result: Result<BillAnswer, Error>) -> Result<Self, Error> {
        match result {
            Ok(answer) => Ok(Self::Ready(answer)),
            Err(Error::Api(e)) if e.code == ErrorCode::NoStatementExist => Ok(Self::NoStatement),
            Err(Error::Api(e)) if e.code == ErrorCode::StatementCreating => Ok(Self::NotReady),
            Err(e) => Err(e),
        }
    }
}

/// The download as an operation, only to sign it (never run through the driver; see
/// [`crate::bill::BillDownload`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DownloadFile {
    target: String,
}

impl DownloadFile {
    /// The download of `target` (path and query, already checked), signed as given.
    pub(crate) fn new(target: &str) -> Self {
        Self { target: target.to_owned() }
    }

    /// The target.
    pub(crate) fn target(&self) -> &str {
        &self.target
    }
}

impl Operation for DownloadFile {
    type Output = serde_json::Value;
    const NAME: &'static str = "download_bill";
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, _mchid: &MchId) -> Target {
        Target::verbatim(&self.target)
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    fn idempotent(&self) -> bool {
        true
    }
    /// Never asked: a download's success is not parsed here.
    fn check_answer(&self, _mchid: &MchId, _answer: &serde_json::Value) -> Result<Binding, VerificationFailure> {
        super::nothing_to_bind()
    }
}

/// Whether `err` is the answer to an expired download URL (`400 INVALID_REQUEST`): apply
/// again, once.
pub fn is_expired_download(err: &Error) -> bool {
    matches!(err, Error::Api(e) if e.status == http::StatusCode::BAD_REQUEST && e.code == ErrorCode::InvalidRequest)
}

#[cfg(test)]
mod tests {
    use super::*;
    fn at(text: &str) -> SystemTime {
        // `text` is a Beijing date-time `yyyy-MM-dd HH:mm:ss`.
        let t = crate::bill::BeijingTime::parse(text).unwrap();
        UNIX_EPOCH + Duration::from_secs(t.unix_timestamp() as u64)
    }

    #[test]
    fn bill_dates_follow_beijing_time_and_three_months() {
        // 2024-05-01 00:30 Beijing is still 2024-04-30 in UTC.
        let now = at("2024-05-01 00:30:00");
        assert_eq!(BillDate::today(now).to_string(), "2024-05-01");
        assert!(BillDate::new("2024-05-01", now).is_ok());
        assert!(BillDate::new("2024-04-30", now).is_ok());
        let e = BillDate::new("2024-05-02", now).unwrap_err();
        assert_eq!(e.field(), "bill_date");
        assert!(e.problem().contains("future"));
        assert!(BillDate::new("2024-02-01", now).is_ok());
        assert!(BillDate::new("2024-01-31", now).unwrap_err().problem().contains("three months"));
        assert!(BillDate::new("2024-5-01", now).is_err());
        assert!(BillDate::new("2023-02-29", now).is_err());
        assert!(BillDate::new("２０２４-05-01", now).is_err());
        assert_eq!(BillDate::parse("2024-05-31").unwrap().months_back(3).to_string(), "2024-02-29");
        assert_eq!(BillDate::parse("2024-01-01").unwrap().previous().to_string(), "2023-12-31");
    }

    #[test]
    fn apply_targets() {
        let mchid = MchId::new("1230000109").unwrap();
        let date = BillDate::parse("2024-04-30").unwrap();
        let op = TradeBill::new(date).with_bill_type(TradeBillType::Refund).gzipped();
        assert_eq!(
            op.target(&mchid).to_string(),
            "/v3/bill/tradebill?bill_date=2024-04-30&bill_type=REFUND&tar_type=GZIP"
        );
        let op = TradeBill::new(date).with_sub_mchid(SubMchId::new("1900000109").unwrap());
        assert_eq!(
            op.target(&mchid).to_string(),
            "/v3/bill/tradebill?bill_date=2024-04-30&sub_mchid=1900000109&bill_type=ALL"
        );
        let op = FundFlowBill::new(date).with_account_type(AccountType::Fees);
        assert_eq!(op.target(&mchid).to_string(), "/v3/bill/fundflowbill?bill_date=2024-04-30&account_type=FEES");
        let good = BillAnswer { hash_type: "SHA1".into(), hash_value: "a".repeat(40), download_url: "x".into() };
        assert_eq!(op.check_answer(&mchid, &good), Ok(Binding::Nothing));
        let bad = BillAnswer { hash_type: "SM3".into(), ..good.clone() };
        assert_eq!(op.check_answer(&mchid, &bad), Err(VerificationFailure::AnswerMismatch { field: "hash_type" }));
    }
}
