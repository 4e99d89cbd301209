//! The sandbox loops of `wechatpay demo`: an order created and paid through the simulator's
//! admin API (plain HTTP to `/sim/` with its bearer token, as any language would), and an
//! order of the demo's own created by a signed prepay and paid by the simulated WeChat client
//! from the signed invoke parameters; each notification received by a listener in this
//! process, verified and decrypted with a [`Receiver`], then confirmed by a signed query.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use wechatpay_core::api::{JsapiPrepay, Order, QueryOrderByOutTradeNo};
use wechatpay_core::invoke::JsapiInvoke;
use wechatpay_core::model::Fen;
use wechatpay_core::notify::{Kind, Notification, NotificationError, Receiver, Resource, answer};
use wechatpay_core::{ApiV3Key, AppId, Config, OpenId, OutTradeNo};

use super::Demo;

/// Read/write timeout of the demo's own HTTP connections.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest head or body the demo reads (notifications and admin answers are a few KiB).
const MAX_BYTES: usize = 64 * 1024;

/// What the listener thread hands back: the verified notification, or why it was refused.
type Outcome = Result<Notification, NotificationError>;

/// Runs the loop against the simulator at `addr` (admin `token`, APIv3 key `apiv3_key`).
pub(super) fn run(
    demo: &mut Demo,
    client: &wechatpay_ureq::Client,
    config: &Config,
    addr: SocketAddr,
    token: &str,
    apiv3_key: &str,
) {
    let out_trade_no = "DEMO_SANDBOX_0001";
    let (notify_url, received) = match listen(config.clone(), apiv3_key) {
        Ok(listening) => listening,
        Err(e) => return demo.check("notification listener", Err(e)),
    };

    let refused = admin(addr, "wrong-token", "GET", "/sim/notifications", None);
    demo.check(
        "admin API without its token",
        match refused {
            Ok((401, _)) => Ok("401, nothing changed".to_owned()),
            other => Err(format!("expected 401, got {other:?}")),
        },
    );

    let order = json!({
        "kind": "direct",
        "order": {"out_trade_no": out_trade_no, "trade_state": "NOTPAY", "amount": {"total": 888, "currency": "CNY"}},
        "notify_url": notify_url,
    });
    demo.check(
        "admin: POST /sim/orders",
        admin(addr, token, "POST", "/sim/orders", Some(&order)).and_then(|(status, stored)| match status {
            201 => Ok(format!("{out_trade_no} {} created, notify_url {notify_url}", text(&stored["trade_state"]))),
            _ => Err(format!("status {status}: {stored}")),
        }),
    );

    let path = format!("/sim/orders/direct/{out_trade_no}/state");
    demo.check(
        "admin: POST .../state SUCCESS",
        admin(addr, token, "POST", &path, Some(&json!({"trade_state": "SUCCESS"}))).and_then(|(status, order)| {
            match status {
                200 => Ok(format!("{out_trade_no} is now {}", text(&order["trade_state"]))),
                _ => Err(format!("status {status}: {order}")),
            }
        }),
    );

    let notified = match received.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(n)) => match &n.resource {
            Resource::Transaction(t) if t.out_trade_no == out_trade_no => Ok(format!(
                "{} {} {} (signature verified, AES-256-GCM opened), answered 204",
                n.event_type, t.out_trade_no, t.trade_state
            )),
            _ => Err(format!("{} for another order", n.event_type)),
        },
        Ok(Err(e)) => Err(format!("refused: {e}")),
        Err(_) => Err("no notification within 10 s".to_owned()),
    };
    demo.check("notification received and verified", notified);

    match OutTradeNo::new(out_trade_no) {
        Ok(no) => {
            demo.expect_ok("order get confirms it", client.execute(&QueryOrderByOutTradeNo { out_trade_no: no }), |t| {
                format!("{} {} (signed query, verified answer)", t.out_trade_no, t.trade_state)
            })
        }
        Err(e) => demo.check("order get confirms it", Err(e.to_string())),
    }
}

/// The payment loop: an order of the demo's own created through the signed JSAPI prepay, the
/// invoke parameters signed with the merchant key and handed to the simulated WeChat client
/// (`POST /sim/request-payment`, which checks them as the client does and pays), the
/// notification verified, and a signed query confirming the order is paid.
pub(super) fn pay(
    demo: &mut Demo,
    client: &wechatpay_ureq::Client,
    config: &Config,
    addr: SocketAddr,
    token: &str,
    apiv3_key: &str,
) {
    let out_trade_no = "DEMO_PAY_0001";
    let (notify_url, received) = match listen(config.clone(), apiv3_key) {
        Ok(listening) => listening,
        Err(e) => return demo.check("notification listener", Err(e)),
    };
    let created = (|| {
        let appid = AppId::new(DEMO_APPID)?;
        let order = Order::new(out_trade_no, "wechatpay demo: QQ公仔", Fen(888), &notify_url)?.attach("demo")?;
        let op = JsapiPrepay { appid: appid.clone(), openid: OpenId::new(DEMO_OPENID)?, order };
        let prepay = client.execute(&op)?;
        Ok::<_, wechatpay_core::Error>((appid, prepay.prepay_id))
    })();
    let (appid, prepay_id) = match created {
        Ok(created) => created,
        Err(e) => return demo.check("order create --scene jsapi", Err(e.to_string())),
    };
    demo.check("order create --scene jsapi", Ok(format!("{out_trade_no}: prepay_id {prepay_id}")));
    let invoke = match JsapiInvoke::sign_now(config.signer(), &appid, &prepay_id) {
        Ok(invoke) => invoke,
        Err(e) => return demo.check("invoke parameters signed", Err(e.to_string())),
    };
    demo.check(
        "invoke parameters signed",
        Ok(format!(
            "appId {} timeStamp {} package {} (paySign over 4 lines)",
            invoke.app_id, invoke.time_stamp, invoke.package
        )),
    );
    let body = serde_json::to_value(&invoke).unwrap_or(Value::Null);
    demo.check(
        "admin: POST /sim/request-payment",
        admin(addr, token, "POST", "/sim/request-payment", Some(&body)).and_then(|(status, answer)| match status {
            200 => Ok(format!("{} (the simulated WeChat client checked and paid)", text(&answer["err_msg"]))),
            _ => Err(format!("status {status}: {answer}")),
        }),
    );
    let notified = match received.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(n)) => match &n.resource {
            Resource::Transaction(t) if t.out_trade_no == out_trade_no => {
                Ok(format!("{} {} {} (verified, decrypted)", n.event_type, t.out_trade_no, t.trade_state))
            }
            _ => Err(format!("{} for another order", n.event_type)),
        },
        Ok(Err(e)) => Err(format!("refused: {e}")),
        Err(_) => Err("no notification within 10 s".to_owned()),
    };
    demo.check("payment notification verified", notified);
    match OutTradeNo::new(out_trade_no) {
        Ok(no) => demo.expect_ok(
            "order get confirms the payment",
            client.execute(&QueryOrderByOutTradeNo { out_trade_no: no }),
            |t| {
                format!(
                    "{} {} {} yuan via {}",
                    t.out_trade_no,
                    t.trade_state,
                    t.amount.as_ref().and_then(|a| a.total).map_or_else(|| "?".to_owned(), |f| f.to_yuan_string()),
                    t.trade_type.as_ref().map_or("-", |t| t.as_str())
                )
            },
        ),
        Err(e) => demo.check("order get confirms the payment", Err(e.to_string())),
    }
}

/// The app id of the demo's own order (any valid one: the simulator keeps what the order names).
const DEMO_APPID: &str = "wxd678efh567hg6787";
/// The payer of the demo's order (the documentation's example openid).
const DEMO_OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

/// A listener on `127.0.0.1:0` for the simulator's notifications: its URL and where verified
/// ones arrive. Every request is answered as [`answer`] says; the thread ends after the first
/// one that verifies.
fn listen(config: Config, apiv3_key: &str) -> Result<(String, mpsc::Receiver<Outcome>), String> {
    let key = ApiV3Key::new(apiv3_key).map_err(|e| format!("the simulator's APIv3 key: {e}"))?;
    let receiver = Receiver::from_config(&config, key).kind(Kind::Direct);
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot listen: {e}"))?;
    let url = format!("http://{}/notify", listener.local_addr().map_err(|e| e.to_string())?);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Ok(request) = read_request(&mut stream) else { continue };
            let outcome = receiver.receive_request(&request);
            let _ = write_answer(&mut stream, &answer(&outcome));
            let done = outcome.is_ok();
            if tx.send(outcome).is_err() || done {
                return;
            }
        }
    });
    Ok((url, rx))
}

/// One HTTP/1.1 request (body framed by `Content-Length`).
fn read_request(stream: &mut TcpStream) -> Result<http::Request<Vec<u8>>, String> {
    stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    let (head, rest) = read_head(stream)?;
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut fields);
    parsed.parse(&head).map_err(|e| e.to_string())?;
    let mut builder = http::Request::builder().method(parsed.method.unwrap_or("GET")).uri(parsed.path.unwrap_or("/"));
    for h in parsed.headers.iter() {
        builder = builder.header(h.name, h.value);
    }
    let length = content_length(parsed.headers)?;
    builder.body(read_body(stream, rest, length)?).map_err(|e| e.to_string())
}

/// One answer from the admin API: status and JSON body.
fn admin(
    addr: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
    let (head, rest) = read_head(&mut stream)?;
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut fields);
    parsed.parse(&head).map_err(|e| e.to_string())?;
    let status = parsed.code.ok_or("no status")?;
    let length = content_length(parsed.headers)?;
    let body = read_body(&mut stream, rest, length)?;
    let value = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).map_err(|e| e.to_string())? };
    Ok((status, value))
}

/// The bytes up to and including the blank line, and what was read after it.
fn read_head(stream: &mut TcpStream) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((buf, rest));
        }
        if buf.len() > MAX_BYTES {
            return Err("head too large".to_owned());
        }
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the head ended".to_owned());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn content_length(headers: &[httparse::Header<'_>]) -> Result<usize, String> {
    let Some(h) = headers.iter().find(|h| h.name.eq_ignore_ascii_case("content-length")) else { return Ok(0) };
    let length = std::str::from_utf8(h.value).ok().and_then(|v| v.trim().parse::<usize>().ok());
    match length {
        Some(n) if n <= MAX_BYTES => Ok(n),
        _ => Err("bad or too large Content-Length".to_owned()),
    }
}

fn read_body(stream: &mut TcpStream, mut body: Vec<u8>, length: usize) -> Result<Vec<u8>, String> {
    if body.len() < length {
        let mut more = vec![0u8; length - body.len()];
        stream.read_exact(&mut more).map_err(|e| e.to_string())?;
        body.extend_from_slice(&more);
    }
    body.truncate(length);
    Ok(body)
}

fn write_answer(stream: &mut TcpStream, response: &http::Response<Vec<u8>>) -> std::io::Result<()> {
    let status = response.status();
    let mut out = format!("HTTP/1.1 {} {}\r\n", status.as_str(), status.canonical_reason().unwrap_or(""));
    for (name, value) in response.headers() {
        out.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap_or("")));
    }
    out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", response.body().len()));
    stream.write_all(out.as_bytes())?;
    stream.write_all(response.body())
}

/// A JSON string field for display (`-` when absent).
fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("-")
}
