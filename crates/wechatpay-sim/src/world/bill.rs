//! Bills (spec §17) from the world: the day's paid orders (direct, partner with 特约商户号,
//! parking) in WeChat Pay's layout — UTF-8 BOM, CRLF, backquoted values, the 27 / 20 / 29
//! detail columns, a summary header and values, money in yuan, fees with 5 decimals — and
//! fund bills from the same events; the issued download tokens; synthetic bills of any size
//! for load tests, generated as they stream.
//!
//! The refunds initiated that day are rows of the `ALL` and `REFUND` bills (交易时间 = the
//! refund's create time, 交易状态 `REFUND`, its refund id, number, amount and status as the
//! refund holds them, the fee given back as a negative 手续费) and outflows of the fund bill;
//! a `REFUND` bill of a day without refunds is `NO_STATEMENT_EXIST`.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha1::{Digest as _, Sha1};
use wechatpay_core::api::BillDate;
use wechatpay_core::model::Rfc3339;

use super::refund::Refund;
use super::{Order, OrderKind, TradeState, World};

/// The header of each trade-bill layout.
pub(crate) const ALL_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
pub(crate) const SUCCESS_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注";
pub(crate) const REFUND_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const ALL_SUMMARY: &str =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";
const SUCCESS_SUMMARY: &str = "总交易单数,应结订单总金额,手续费总金额,订单总金额";
pub(crate) const FUND_HEADER: &str = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号";
const FUND_SUMMARY: &str = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额";

/// Which trade-bill layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BillType {
    All,
    Success,
    Refund,
}

impl BillType {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "ALL" => Some(Self::All),
            "SUCCESS" => Some(Self::Success),
            "REFUND" => Some(Self::Refund),
            _ => None,
        }
    }
}

/// Yuan with 2 decimals of `fen`.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.unsigned_abs() / 100, fen.unsigned_abs() % 100)
}

/// Yuan with 5 decimals of a fee of `fen`.
fn fee5(fen: i64) -> String {
    format!("{}000", yuan(fen))
}

/// The 0.60 % fee of `total` fen, rounded half up to whole fen.
fn fee_of(total: i64) -> i64 {
    (total * 6 + 500) / 1000
}

/// `yyyy-MM-dd HH:mm:ss` (Beijing) of Unix second `unix`.
fn beijing(unix: i64) -> String {
    let (y, m, d, secs) = crate::clock::civil(unix + 8 * 3600);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// One payment of the day, as a bill row needs it.
#[derive(Clone, Debug)]
struct Payment {
    time: i64,
    appid: String,
    mchid: String,
    sub_mchid: String,
    transaction_id: String,
    out_trade_no: String,
    openid: String,
    trade_type: String,
    bank_type: String,
    total: i64,
    description: String,
    attach: String,
}

impl Payment {
    fn of(order: &Order) -> Option<Self> {
        let time = Rfc3339::parse(order.success_time.as_deref()?).ok()?.unix_timestamp();
        Some(Self::at(order, time))
    }

    /// The order's payment, its time `time`.
    fn at(order: &Order, time: i64) -> Self {
        let payer = order.payer.as_ref();
        let openid = payer.and_then(|p| p.openid.clone().or_else(|| p.sp_openid.clone())).unwrap_or_default();
        let direct = order.kind == OrderKind::Direct;
        Self {
            time,
            appid: order.appid.clone().or_else(|| order.sp_appid.clone()).unwrap_or_default(),
            mchid: if direct { order.mchid.clone() } else { order.sp_mchid.clone() }.unwrap_or_default(),
            sub_mchid: if direct { None } else { order.sub_mchid.clone() }.unwrap_or_else(|| "0".to_owned()),
            transaction_id: order.transaction_id.clone().unwrap_or_default(),
            out_trade_no: order.out_trade_no.clone(),
            openid,
            trade_type: order.trade_type.clone().unwrap_or_else(|| "PARKING".to_owned()),
            bank_type: order.bank_type.clone().unwrap_or_else(|| "OTHERS".to_owned()),
            total: order.amount.as_ref().and_then(|a| a.total).unwrap_or(0),
            description: clean(order.description.as_deref().unwrap_or_default()),
            attach: clean(order.other.get("attach").and_then(|v| v.as_str()).unwrap_or_default()),
        }
    }

    /// The detail row in `bill_type`'s layout.
    fn row(&self, bill_type: BillType) -> String {
        let fee = fee_of(self.total);
        let head = [
            beijing(self.time),
            self.appid.clone(),
            self.mchid.clone(),
            self.sub_mchid.clone(),
            String::new(),
            self.transaction_id.clone(),
            self.out_trade_no.clone(),
            self.openid.clone(),
            self.trade_type.clone(),
            "SUCCESS".to_owned(),
            self.bank_type.clone(),
            "CNY".to_owned(),
            yuan(self.total),
            yuan(0),
        ];
        let mut values: Vec<String> = head.to_vec();
        match bill_type {
            BillType::All => values.extend(["0", "0", "0.00", "0.00", "", ""].map(str::to_owned).into_iter().chain([
                self.description.clone(),
                self.attach.clone(),
                fee5(fee),
                "0.60%".to_owned(),
                yuan(self.total),
                yuan(0),
                String::new(),
            ])),
            BillType::Success => values.extend([
                self.description.clone(),
                self.attach.clone(),
                fee5(fee),
                "0.60%".to_owned(),
                yuan(self.total),
                String::new(),
            ]),
            BillType::Refund => {
                values.extend(["", "", "0", "0", "0.00", "0.00", "", ""].map(str::to_owned).into_iter().chain([
                    self.description.clone(),
                    self.attach.clone(),
                    fee5(fee),
                    "0.60%".to_owned(),
                    yuan(self.total),
                    yuan(0),
                    String::new(),
                ]))
            }
        }
        backquoted(&values)
    }
}

/// A value as a bill holds it: no commas (they would split the row), no line ends.
fn clean(text: &str) -> String {
    text.replace(['\r', '\n'], " ").replace(',', "，")
}

/// `` `v1,`v2,… `` and CRLF.
fn backquoted(values: &[String]) -> String {
    let mut line = String::with_capacity(values.iter().map(|v| v.len() + 2).sum::<usize>() + 2);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push('`');
        line.push_str(v);
    }
    line.push_str("\r\n");
    line
}

/// One refund initiated that day, with its order, as a bill row needs it.
#[derive(Clone, Debug)]
struct RefundEntry {
    /// The refunded order (its `time` is the refund's create time).
    order: Payment,
    success: Option<i64>,
    refund_id: String,
    out_refund_no: String,
    status: String,
    refund: i64,
}

impl RefundEntry {
    fn of(refund: &Refund, order: &Order) -> Option<Self> {
        let create = Rfc3339::parse(&refund.create_time).ok()?.unix_timestamp();
        let success = refund.success_time.as_deref().and_then(|t| Rfc3339::parse(t).ok()).map(|t| t.unix_timestamp());
        Some(Self {
            order: Payment::at(order, create),
            success,
            refund_id: refund.refund_id.clone(),
            out_refund_no: refund.out_refund_no.clone(),
            status: refund.status.clone(),
            refund: i64::try_from(refund.refund).ok()?,
        })
    }

    /// The detail row in `bill_type`'s layout (`ALL` or `REFUND`): the order's columns,
    /// 交易状态 `REFUND`, nothing to settle, the refund's columns and the fee given back.
    fn row(&self, bill_type: BillType) -> String {
        let p = &self.order;
        let mut values = vec![
            beijing(p.time),
            p.appid.clone(),
            p.mchid.clone(),
            p.sub_mchid.clone(),
            String::new(),
            p.transaction_id.clone(),
            p.out_trade_no.clone(),
            p.openid.clone(),
            p.trade_type.clone(),
            "REFUND".to_owned(),
            p.bank_type.clone(),
            "CNY".to_owned(),
            yuan(0),
            yuan(0),
        ];
        if bill_type == BillType::Refund {
            values.push(beijing(p.time));
            values.push(self.success.map(beijing).unwrap_or_default());
        }
        values.extend([
            self.refund_id.clone(),
            self.out_refund_no.clone(),
            yuan(self.refund),
            yuan(0),
            "ORIGINAL".to_owned(),
            self.status.clone(),
            p.description.clone(),
            p.attach.clone(),
            fee5(-fee_of(self.refund)),
            "0.60%".to_owned(),
            yuan(0),
            yuan(self.refund),
            String::new(),
        ]);
        backquoted(&values)
    }
}

/// A detail row of a trade bill.
enum Line {
    Payment(Payment),
    Refund(RefundEntry),
}

impl Line {
    fn time(&self) -> i64 {
        match self {
            Line::Payment(p) => p.time,
            Line::Refund(r) => r.order.time,
        }
    }
}

/// The running totals of a trade bill.
#[derive(Default)]
struct Totals {
    count: u64,
    total: i64,
    refund: i64,
    fee: i64,
}

impl Totals {
    fn add(&mut self, total: i64) {
        self.count += 1;
        self.total += total;
        self.fee += fee_of(total);
    }

    fn add_refund(&mut self, refund: i64) {
        self.count += 1;
        self.refund += refund;
        self.fee -= fee_of(refund);
    }

    fn summary(&self, bill_type: BillType) -> String {
        let header = if bill_type == BillType::Success { SUCCESS_SUMMARY } else { ALL_SUMMARY };
        let values = match bill_type {
            BillType::Success => vec![self.count.to_string(), yuan(self.total), fee5(self.fee), yuan(self.total)],
            _ => vec![
                self.count.to_string(),
                yuan(self.total),
                yuan(self.refund),
                yuan(0),
                fee5(self.fee),
                yuan(self.total),
                yuan(self.refund),
            ],
        };
        format!("{header}\r\n{}", backquoted(&values))
    }
}

fn trade_header(bill_type: BillType) -> &'static str {
    match bill_type {
        BillType::All => ALL_HEADER,
        BillType::Success => SUCCESS_HEADER,
        BillType::Refund => REFUND_HEADER,
    }
}

impl World {
    /// The payments of `date` (Beijing) that `caller` may see, oldest first.
    fn payments(&self, caller: &str, date: BillDate, sub_mchid: Option<&str>) -> Vec<Payment> {
        let start = date.beijing_midnight_unix();
        let mut payments: Vec<Payment> = self
            .orders
            .iter()
            .filter(|o| matches!(o.trade_state, Some(TradeState::Success | TradeState::Refund)))
            .filter(|o| match o.kind {
                OrderKind::Direct => o.mchid.as_deref() == Some(caller),
                _ => o.sp_mchid.as_deref() == Some(caller),
            })
            .filter(|o| sub_mchid.is_none() || (o.kind != OrderKind::Direct && o.sub_mchid.as_deref() == sub_mchid))
            .filter_map(Payment::of)
            .filter(|p| (start..start + 86_400).contains(&p.time))
            .collect();
        payments.sort_by_key(|p| p.time);
        payments
    }

    /// The refunds initiated on `date` (Beijing) that `caller` may see, with their orders,
    /// oldest first.
    fn refunds_of_day(&self, caller: &str, date: BillDate, sub_mchid: Option<&str>) -> Vec<RefundEntry> {
        let start = date.beijing_midnight_unix();
        let mut refunds: Vec<RefundEntry> = self
            .refund_list()
            .iter()
            .filter(|r| r.mchid == caller)
            .filter(|r| sub_mchid.is_none() || r.sub_mchid.as_deref() == sub_mchid)
            .filter_map(|r| {
                let order = self.orders.iter().find(|o| {
                    o.kind == r.order_kind
                        && o.out_trade_no == r.out_trade_no
                        && o.transaction_id.as_deref() == Some(r.transaction_id.as_str())
                })?;
                RefundEntry::of(r, order)
            })
            .filter(|r| (start..start + 86_400).contains(&r.order.time))
            .collect();
        refunds.sort_by_key(|r| r.order.time);
        refunds
    }

    /// The day's trade bill, or `None` when it has no rows.
    pub(crate) fn trade_bill(
        &self,
        caller: &str,
        date: BillDate,
        bill_type: BillType,
        sub_mchid: Option<&str>,
    ) -> Option<Vec<u8>> {
        let mut lines: Vec<Line> = Vec::new();
        if bill_type != BillType::Refund {
            lines.extend(self.payments(caller, date, sub_mchid).into_iter().map(Line::Payment));
        }
        if bill_type != BillType::Success {
            lines.extend(self.refunds_of_day(caller, date, sub_mchid).into_iter().map(Line::Refund));
        }
        if lines.is_empty() {
            return None;
        }
        lines.sort_by_key(Line::time);
        let mut text = format!("\u{feff}{}\r\n", trade_header(bill_type));
        let mut totals = Totals::default();
        for line in &lines {
            match line {
                Line::Payment(p) => {
                    text.push_str(&p.row(bill_type));
                    totals.add(p.total);
                }
                Line::Refund(r) => {
                    text.push_str(&r.row(bill_type));
                    totals.add_refund(r.refund);
                }
            }
        }
        text.push_str(&totals.summary(bill_type));
        Some(text.into_bytes())
    }

    /// The day's fund bill of the basic account: each payment in, its fee out; each refund
    /// initiated that day (and not closed) out. Other accounts have no flows here (`None`).
    pub(crate) fn fund_bill(&self, caller: &str, date: BillDate, account_type: &str) -> Option<Vec<u8>> {
        if account_type != "BASIC" {
            return None;
        }
        let mut lines: Vec<Line> = self.payments(caller, date, None).into_iter().map(Line::Payment).collect();
        lines.extend(
            self.refunds_of_day(caller, date, None).into_iter().filter(|r| r.status != "CLOSED").map(Line::Refund),
        );
        if lines.is_empty() {
            return None;
        }
        lines.sort_by_key(Line::time);
        let mut text = format!("\u{feff}{FUND_HEADER}\r\n");
        let (mut balance, mut income, mut expense, mut n_in, mut n_out) = (0i64, 0i64, 0i64, 0u64, 0u64);
        let mut flows = 0u64;
        let mut flow = |text: &mut String, time: i64, id: &str, names: [&str; 3], amount: i64, balance: i64| {
            let row = [
                beijing(time),
                id.to_owned(),
                format!("{time:016}{flows:04}"),
                names[0].to_owned(),
                names[1].to_owned(),
                names[2].to_owned(),
                yuan(amount),
                yuan(balance),
                "system".to_owned(),
                String::new(),
                String::new(),
            ];
            flows += 1;
            text.push_str(&backquoted(&row));
        };
        for line in &lines {
            match line {
                Line::Payment(p) => {
                    balance += p.total;
                    income += p.total;
                    n_in += 1;
                    flow(&mut text, p.time, &p.transaction_id, ["交易", "交易", "收入"], p.total, balance);
                    let fee = fee_of(p.total);
                    if fee > 0 {
                        balance -= fee;
                        expense += fee;
                        n_out += 1;
                        flow(&mut text, p.time, &p.transaction_id, ["扣除交易手续费", "手续费", "支出"], fee, balance);
                    }
                }
                Line::Refund(r) => {
                    balance -= r.refund;
                    expense += r.refund;
                    n_out += 1;
                    flow(&mut text, r.order.time, &r.refund_id, ["退款", "退款", "支出"], r.refund, balance);
                }
            }
        }
        let summary = [(n_in + n_out).to_string(), n_in.to_string(), yuan(income), n_out.to_string(), yuan(expense)];
        text.push_str(&format!("{FUND_SUMMARY}\r\n{}", backquoted(&summary)));
        Some(text.into_bytes())
    }

    /// The issued bills and the synthetic ones.
    pub(crate) fn bills(&mut self) -> &mut Bills {
        &mut self.bills
    }
}

/// A synthetic trade bill of `rows` plausible rows: never held, generated as it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Synthetic {
    pub date: BillDate,
    pub bill_type: BillType,
    pub rows: u64,
    pub mchid: String,
    /// SHA-1 (hex) and length of the plain file, computed when it was made.
    pub sha1: String,
    pub len: u64,
}

impl Synthetic {
    /// Makes the bill, hashing it once as it is generated.
    pub(crate) fn new(date: BillDate, bill_type: BillType, rows: u64, mchid: &str) -> Self {
        let mut spec = Self { date, bill_type, rows, mchid: mchid.to_owned(), sha1: String::new(), len: 0 };
        let mut hasher = HashCount { hasher: Sha1::new(), len: 0 };
        // Writing to a hasher cannot fail.
        let _ = spec.write(&mut hasher);
        spec.sha1 = hasher.hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        spec.len = hasher.len;
        spec
    }

    /// Writes the file (plain) to `out`, row by row: payments (`ALL`, `SUCCESS`), or each a
    /// whole refund of its payment, successful 5 s later (`REFUND`).
    pub(crate) fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let bill_type = self.bill_type;
        let mut out = io::BufWriter::with_capacity(64 * 1024, out);
        write!(out, "\u{feff}{}\r\n", trade_header(bill_type))?;
        let start = self.date.beijing_midnight_unix();
        let mut totals = Totals::default();
        for i in 0..self.rows {
            let total = 1 + (i.wrapping_mul(7919) % 99_999) as i64;
            let payment = Payment {
                time: start + (i * 86_400 / self.rows.max(1)) as i64,
                appid: "wxd678efh567hg6787".to_owned(),
                mchid: self.mchid.clone(),
                sub_mchid: "0".to_owned(),
                transaction_id: format!("42000{:023}", i),
                out_trade_no: format!("SYN{}{:012}", self.date.days(), i),
                openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".to_owned(),
                trade_type: "JSAPI".to_owned(),
                bank_type: "OTHERS".to_owned(),
                total,
                description: "synthetic".to_owned(),
                attach: String::new(),
            };
            if bill_type == BillType::Refund {
                let refund = RefundEntry {
                    success: Some(payment.time + 5),
                    refund_id: format!("50300{:024}", i),
                    out_refund_no: format!("SYNR{}{:012}", self.date.days(), i),
                    status: "SUCCESS".to_owned(),
                    refund: total,
                    order: payment,
                };
                out.write_all(refund.row(bill_type).as_bytes())?;
                totals.add_refund(total);
            } else {
                out.write_all(payment.row(bill_type).as_bytes())?;
                totals.add(total);
            }
        }
        out.write_all(totals.summary(bill_type).as_bytes())?;
        out.flush()
    }
}

struct HashCount {
    hasher: Sha1,
    len: u64,
}

impl Write for HashCount {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a download token serves.
#[derive(Clone, Debug)]
pub(crate) enum Content {
    /// A bill made from the world, held (small).
    Bytes(Arc<[u8]>),
    /// A synthetic bill, generated as it streams.
    Synthetic(Arc<Synthetic>),
}

impl Content {
    /// SHA-1 (hex) of the plain file.
    pub(crate) fn sha1(&self) -> String {
        match self {
            Content::Bytes(b) => Sha1::digest(b).iter().map(|b| format!("{b:02x}")).collect(),
            Content::Synthetic(s) => s.sha1.clone(),
        }
    }

    /// Writes the plain file to `out`.
    pub(crate) fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Content::Bytes(b) => out.write_all(b),
            Content::Synthetic(s) => s.write(out),
        }
    }
}

/// A download token's bill.
#[derive(Clone, Debug)]
pub(crate) struct Issued {
    pub caller: String,
    pub content: Content,
    pub gzip: bool,
    pub expires: Instant,
}

/// Why a token serves nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// Unknown or expired.
    Invalid,
    /// Issued to another merchant.
    NotYours,
}

/// The issued download tokens and the synthetic bills.
#[derive(Debug, Default)]
pub(crate) struct Bills {
    issued: HashMap<String, Issued>,
    synthetic: Vec<Arc<Synthetic>>,
    base_url: String,
    ttl: Duration,
}

impl Bills {
    /// Sets the base of download URLs and how long a token lives (5 minutes × the time scale).
    pub(crate) fn configure(&mut self, base_url: String, ttl: Duration) {
        self.base_url = base_url;
        self.ttl = ttl;
    }

    /// The base of download URLs (`http://127.0.0.1:PORT`).
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// How long a download token lives.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Remembers `issued` under `token`, forgetting expired tokens.
    pub(crate) fn issue(&mut self, token: String, issued: Issued) {
        let now = Instant::now();
        self.issued.retain(|_, i| i.expires > now);
        self.issued.insert(token, issued);
    }

    /// The bill of `token` for `caller`.
    pub(crate) fn redeem(&self, token: &str, caller: &str) -> Result<Issued, TokenError> {
        let issued = self.issued.get(token).filter(|i| i.expires > Instant::now()).ok_or(TokenError::Invalid)?;
        if issued.caller != caller {
            return Err(TokenError::NotYours);
        }
        Ok(issued.clone())
    }

    /// Adds a synthetic bill (replacing one of the same day and type).
    pub(crate) fn add_synthetic(&mut self, bill: Synthetic) {
        self.synthetic.retain(|s| (s.date, s.bill_type) != (bill.date, bill.bill_type));
        self.synthetic.push(Arc::new(bill));
    }

    /// The synthetic bill of that day and type for `caller`, if one was made.
    pub(crate) fn synthetic(&self, caller: &str, date: BillDate, bill_type: BillType) -> Option<Arc<Synthetic>> {
        self.synthetic.iter().find(|s| s.date == date && s.bill_type == bill_type && s.mchid == caller).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechatpay_core::bill::{BillHash, BillKind, BillReader, Record};

    fn read(kind: BillKind, bytes: &[u8]) -> (Vec<Record>, u64) {
        let mut records = Vec::new();
        let mut reader = BillReader::new(kind, BillHash::sha1_of(bytes));
        reader.feed(bytes, &mut |r| records.push(r)).unwrap();
        let verified = reader.finish(&mut |r| records.push(r)).unwrap();
        (records, verified.rows)
    }

    #[test]
    fn synthetic_bills_are_hashed_as_written_and_read_back() {
        let date = BillDate::parse("2024-05-01").unwrap();
        for bill_type in [BillType::All, BillType::Success, BillType::Refund] {
            let s = Synthetic::new(date, bill_type, 1000, "1230000109");
            let mut bytes = Vec::new();
            s.write(&mut bytes).unwrap();
            assert_eq!((bytes.len() as u64, BillHash::sha1_of(&bytes).to_string()), (s.len, s.sha1.clone()));
            assert!(bytes.starts_with(b"\xEF\xBB\xBF") && bytes.ends_with(b"\r\n"));
            let (records, rows) = read(BillKind::Trade, &bytes);
            assert_eq!(rows, 1000);
            let Some(Record::TradeSummary(summary)) = records.last() else { panic!() };
            assert_eq!(summary.total_count, 1000);
        }
    }
}
