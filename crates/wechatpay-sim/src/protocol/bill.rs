//! The bill routes (spec §17): applying for a trade or fund bill (a signed JSON answer with
//! `hash_type`, `hash_value` and a `download_url` holding a random token), and the download
//! itself — verified like any request, answered **unsigned**, streamed (plain or gzip)
//! without holding a synthetic bill in memory.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde_json::json;
use wechatpay_core::api::BillDate;
use wechatpay_core::{Nonce, SubMchId};

use super::reply::Reply;
use super::respond::RequestIds;
use super::routes::{Call, Ctx, Query};
use crate::net::http::write_head;
use crate::net::stop::Stop;
use crate::world::bill::{BillType, Content, Issued, Synthetic, TokenError};

/// `400 INVALID_REQUEST` with a message.
fn invalid(message: &str) -> Reply {
    Reply::invalid_request(message)
}

/// `bill_date`: a calendar date (`PARAM_ERROR` otherwise); not in the future and at most
/// three months back (`INVALID_REQUEST`); not today (`STATEMENT_CREATING`).
fn bill_date(query: &Query) -> Result<BillDate, Reply> {
    let text = query
        .get("bill_date")
        .ok_or_else(|| Reply::param_error("bill_date", "query", "缺少参数 bill_date (missing required parameter)"))?;
    let date = BillDate::parse(text).map_err(|e| Reply::param_error("bill_date", "query", e.problem()))?;
    let today = BillDate::today(SystemTime::now());
    if date > today {
        return Err(invalid("bill_date 不能是未来的日期 (a future date)"));
    }
    if date < today.months_back(3) {
        return Err(invalid("bill_date 超出三个月 (more than three months back)"));
    }
    if date == today {
        return Err(Reply::error(
            400,
            "STATEMENT_CREATING",
            "账单生成中，请在次日10点后再试 (try again after 10:00 Beijing time)",
            None,
        ));
    }
    Ok(date)
}

/// `tar_type`: absent (plain) or `GZIP`.
fn gzip(query: &Query) -> Result<bool, Reply> {
    match query.get("tar_type") {
        None => Ok(false),
        Some("GZIP") => Ok(true),
        Some(_) => Err(Reply::param_error("tar_type", "query", "tar_type: GZIP or absent")),
    }
}

fn no_statement() -> Reply {
    Reply::error(400, "NO_STATEMENT_EXIST", "账单不存在 (no business that day)", None)
}

/// `GET /v3/bill/tradebill`.
pub(crate) fn trade_bill(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let query = Query::parse(call.target.query)?;
    let date = bill_date(&query)?;
    let bill_type = match query.get("bill_type") {
        None => BillType::All,
        Some(v) => BillType::parse(v)
            .ok_or_else(|| Reply::param_error("bill_type", "query", "bill_type: ALL, SUCCESS or REFUND"))?,
    };
    let gzip = gzip(&query)?;
    let sub_mchid = match query.get("sub_mchid") {
        None => None,
        Some(v) => {
            let sub = SubMchId::new(v).map_err(|e| Reply::param_error("sub_mchid", "query", e.problem()))?;
            if !ctx.world.is_bound(sub.as_str()) {
                return Err(Reply::error(403, "NO_AUTH", "无该子商户的权限 (not your sub-merchant)", None));
            }
            Some(sub)
        }
    };
    let sub = sub_mchid.as_ref().map(SubMchId::as_str);
    let synthetic = if sub.is_none() { ctx.world.bills().synthetic(call.caller, date, bill_type) } else { None };
    let content = match synthetic {
        Some(s) => Content::Synthetic(s),
        None => {
            Content::Bytes(Arc::from(ctx.world.trade_bill(call.caller, date, bill_type, sub).ok_or_else(no_statement)?))
        }
    };
    issue(call, ctx, content, gzip)
}

/// `GET /v3/bill/fundflowbill`.
pub(crate) fn fundflow_bill(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let query = Query::parse(call.target.query)?;
    let date = bill_date(&query)?;
    let account_type = query.get("account_type").unwrap_or("BASIC");
    if !matches!(account_type, "BASIC" | "OPERATION" | "FEES") {
        return Err(Reply::param_error("account_type", "query", "account_type: BASIC, OPERATION or FEES"));
    }
    let gzip = gzip(&query)?;
    let bytes = ctx.world.fund_bill(call.caller, date, account_type).ok_or_else(no_statement)?;
    issue(call, ctx, Content::Bytes(Arc::from(bytes)), gzip)
}

/// Issues a token for `content` and answers with its hash and download URL.
fn issue(call: &Call<'_>, ctx: &mut Ctx<'_>, content: Content, gzip: bool) -> Result<Reply, Reply> {
    let token = Nonce::random().map_err(|_| Reply::error(500, "SYSTEM_ERROR", "no randomness", None))?;
    let token = token.as_str().to_owned();
    let bills = ctx.world.bills();
    let url = format!("{}/v3/billdownload/file?token={token}", bills.base_url());
    let hash = content.sha1();
    let expires = Instant::now() + bills.ttl();
    bills.issue(token, Issued { caller: call.caller.to_owned(), content, gzip, expires });
    let body = json!({ "hash_type": "SHA1", "hash_value": hash, "download_url": url });
    Ok(Reply::ok(serde_json::to_vec(&body).unwrap_or_default().into()))
}

/// What a valid download streams.
#[derive(Debug)]
pub(crate) struct Download {
    content: Content,
    gzip: bool,
}

/// The download a verified `GET /v3/billdownload/file?token=…` from `caller` gets: the bill,
/// or the error answer (`400 INVALID_REQUEST` for an unknown or expired token, `403 NO_AUTH`
/// for another merchant's).
pub(crate) fn download(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Download, Reply> {
    let query = Query::parse(call.target.query)?;
    let token = query.get("token").unwrap_or_default();
    match ctx.world.bills().redeem(token, call.caller) {
        Ok(issued) => Ok(Download { content: issued.content, gzip: issued.gzip }),
        Err(TokenError::Invalid) => Err(invalid("下载链接已过期或无效 (the download URL is unknown or expired)")),
        Err(TokenError::NotYours) => {
            Err(Reply::error(403, "NO_AUTH", "无权下载该账单 (another merchant's bill)", None))
        }
    }
}

/// The route-table handler of the download, for the fault paths that answer through it: the
/// error answer, or a held bill in memory (a synthetic one is only streamed).
pub(crate) fn download_in_memory(call: &Call<'_>, ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    let download = download(call, ctx)?;
    let mut body = Vec::new();
    download.write_body(&mut body).map_err(|_| Reply::error(500, "SYSTEM_ERROR", "bill write failed", None))?;
    Ok(Reply::ok(body.into()))
}

impl Download {
    fn write_body(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.gzip { self.gzip_on_helper(out, false) } else { self.content.write(out) }
    }

    /// Streams the file, unsigned: plain with `Content-Length`, gzip in chunks
    /// (`Transfer-Encoding: chunked`: its length is known only once compressed). `false` when
    /// the connection must close.
    pub(crate) fn respond(&self, stream: &mut dyn Write, ids: &RequestIds, stop: &Stop, close: bool) -> bool {
        let plain_len = match &self.content {
            Content::Bytes(b) => Some(b.len() as u64),
            Content::Synthetic(s) => Some(s.len),
        };
        let length = if self.gzip { None } else { plain_len };
        let content_type = if self.gzip { "application/x-gzip" } else { "text/plain; charset=utf-8" };
        let mut headers = vec![
            ("Content-Type", content_type.to_owned()),
            ("Request-ID", ids.next()),
            ("Server", "wechatpay-sim".to_owned()),
        ];
        match length {
            Some(len) => headers.push(("Content-Length", len.to_string())),
            None => headers.push(("Transfer-Encoding", "chunked".to_owned())),
        }
        let mut head = Vec::with_capacity(256);
        let _ = write_head(&mut head, 200, &headers, close);
        if stream.write_all(&head).and_then(|()| stream.flush()).is_err() {
            return false;
        }
        let mut out = Stopping { inner: stream, stop };
        let written = if self.gzip { self.gzip_on_helper(&mut out, true) } else { self.content.write(&mut out) };
        written.and_then(|()| out.flush()).is_ok() && !close
    }

    /// Gzips on a helper thread with a stack of its own (the compressor's state is too big
    /// for a connection thread's small stack in debug builds), passing compressed blocks back
    /// through a bounded channel: memory stays bounded.
    fn gzip_on_helper(&self, out: &mut dyn Write, chunked: bool) -> io::Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        std::thread::scope(|scope| {
            let helper = std::thread::Builder::new()
                .name("wechatpay-sim-gzip".to_owned())
                .stack_size(4 * 1024 * 1024)
                .spawn_scoped(scope, move || {
                    let sender = Blocks { tx, buf: Vec::with_capacity(BLOCK) };
                    let mut gz = flate2::write::GzEncoder::new(sender, flate2::Compression::default());
                    self.content.write(&mut gz)?;
                    gz.finish()?.flush()
                })?;
            let mut sent = Ok(());
            for block in rx {
                if sent.is_ok() {
                    sent = if chunked {
                        write!(out, "{:x}\r\n", block.len())
                            .and_then(|()| out.write_all(&block))
                            .and_then(|()| out.write_all(b"\r\n"))
                    } else {
                        out.write_all(&block)
                    };
                }
                // After a failed write, keep draining so the helper ends.
            }
            let made = helper.join().unwrap_or_else(|_| Err(io::Error::other("gzip helper panicked")));
            let sent = sent.and(made);
            if chunked { sent.and_then(|()| out.write_all(b"0\r\n\r\n")) } else { sent }
        })
    }
}

/// Size of a compressed block passed from the gzip helper.
const BLOCK: usize = 64 * 1024;

/// A writer that sends full blocks down a channel.
struct Blocks {
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl Write for Blocks {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= BLOCK {
            self.flush()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let block = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
            self.tx.send(block).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "receiver gone"))?;
        }
        Ok(())
    }
}

/// A writer that fails once the simulator is stopping.
struct Stopping<'a> {
    inner: &'a mut dyn Write,
    stop: &'a Stop,
}

impl Write for Stopping<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.stop.stopping() {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "stopping"));
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A synthetic bill of `rows` rows for `mchid` on `bill_date` (`ALL`, `SUCCESS` or `REFUND`),
/// hashed as it is generated once; served by the next applications for that day and type.
pub(crate) fn synthetic(bill_date: &str, rows: u64, bill_type: &str, mchid: &str) -> Result<Synthetic, String> {
    let date = BillDate::parse(bill_date).map_err(|e| format!("bill_date: {}", e.problem()))?;
    let bill_type = BillType::parse(bill_type).ok_or("bill_type: ALL, SUCCESS or REFUND")?;
    Ok(Synthetic::new(date, bill_type, rows, mchid))
}

/// The `wrong_bill_hash` fault: the apply answer's `hash_value` with its first digit changed.
pub(crate) fn wrong_hash(reply: Reply) -> Reply {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&reply.body) else { return reply };
    let Some(serde_json::Value::String(hash)) = value.get_mut("hash_value") else { return reply };
    let flipped: String =
        hash.chars().enumerate().map(|(i, c)| if i == 0 { if c == '0' { '1' } else { '0' } } else { c }).collect();
    *hash = flipped;
    Reply { status: reply.status, body: serde_json::to_vec(&value).unwrap_or_default().into() }
}
