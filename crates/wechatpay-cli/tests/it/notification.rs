//! `wechatpay notification parse` and `listen` through the built binary: the Python-made
//! fixtures of `wechatpay-core/tests/data/notifications` (throwaway keys) for `parse`, and
//! fresh notifications signed and encrypted here (the fixtures' timestamp is old) POSTed
//! over loopback to `listen`.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use wechatpay_core::crypto::Signer as _;

use crate::common;

use common::{BIN, core_data as data};

const NOW: &str = "1554208460";
const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232019092600000000000000000001";

fn case(name: &str, ext: &str) -> String {
    data(&format!("notifications/{name}.{ext}")).to_str().unwrap().to_owned()
}

/// A direct merchant's configuration: both key modes and the APIv3 key file.
fn command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("WECHATPAY_MCHID", "1230000109")
        .env("WECHATPAY_PUBLIC_KEY", data("wechatpay_pub.pem"))
        .env("WECHATPAY_PUBLIC_KEY_ID", PUB_KEY_ID)
        .env("WECHATPAY_PLATFORM_CERTS", data("platform_cert.pem"))
        .env("WECHATPAY_APIV3_KEY_FILE", data("notifications/apiv3_key.txt"));
    cmd
}

fn parse(name: &str, extra: &[&str]) -> Output {
    let (body, headers) = (case(name, "body"), case(name, "headers"));
    let mut args = vec!["notification", "parse", "--body-file", &body, "--headers-file", &headers, "--now", NOW];
    args.extend_from_slice(extra);
    command().args(&args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// One JSON document on stdout, exit 0.
fn document(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A failure: the exit code, an empty stdout, and stderr naming `check`.
fn refused(o: &Output, code: i32, check: &str) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(o.stdout.is_empty(), "stdout must stay empty: {}", text(&o.stdout));
    assert!(err.contains(check), "stderr must name {check:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn plain(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(case(name, "plain")).unwrap()).unwrap()
}

#[test]
fn parse_prints_the_envelope_and_the_decrypted_resource() {
    let doc = document(&parse("direct_success", &[]));
    assert_eq!(doc["id"], "EV-2018022511223320873-direct_success");
    assert_eq!(doc["create_time"], "2015-05-20T13:29:35+08:00");
    assert_eq!(doc["event_type"], "TRANSACTION.SUCCESS");
    assert_eq!(doc["resource_type"], "encrypt-resource");
    assert_eq!(doc["summary"], "支付成功");
    assert_eq!(doc["original_type"], "transaction");
    assert_eq!(doc["resource"], plain("direct_success"));
    assert_eq!(doc.as_object().unwrap().len(), 7);
    for (name, extra) in [
        ("no_associated_data", &[][..]),
        ("partner_success", &["--kind", "partner"][..]),
        ("partner_success", &["--kind", "partner", "--sub-mchid", "1900000109"][..]),
        ("parking_success", &["--kind", "parking"][..]),
        ("parking_fail", &["--kind", "parking"][..]),
        ("parking_pay_back", &["--kind", "parking"][..]),
        ("parking_entrance", &["--kind", "parking"][..]),
        ("refund_other", &[][..]),
        ("security_echo", &[][..]),
    ] {
        let doc = document(&parse(name, extra));
        assert_eq!(doc["resource"], plain(name), "{name} {extra:?}");
    }
}

#[test]
fn parse_tells_the_kind_without_being_told() {
    for (name, extra) in [
        ("direct_success", &[][..]),
        ("partner_success", &[][..]),
        ("partner_success", &["--sub-mchid", "1900000109"][..]),
        ("parking_success", &[][..]),
        ("parking_fail", &["--sub-mchid", "1900000109"][..]),
        ("parking_pay_back", &[][..]),
        ("parking_entrance", &[][..]),
    ] {
        let doc = document(&parse(name, extra));
        assert_eq!(doc["resource"], plain(name), "{name} {extra:?}");
        let with_kind = name.split('_').next().unwrap();
        let mut named = vec!["--kind", with_kind];
        named.extend_from_slice(extra);
        assert_eq!(document(&parse(name, &named)), doc, "{name} {extra:?}");
    }
}

#[test]
fn parse_prints_refund_notifications_like_payment_ones() {
    for (name, event, extra) in [
        ("refund_success", "REFUND.SUCCESS", &[][..]),
        ("refund_empty_aad", "REFUND.SUCCESS", &[][..]),
        ("refund_closed", "REFUND.CLOSED", &[][..]),
        ("refund_partner_abnormal", "REFUND.ABNORMAL", &["--sub-mchid", "1900000109"][..]),
    ] {
        let doc = document(&parse(name, extra));
        assert_eq!((doc["event_type"].as_str(), doc["original_type"].as_str()), (Some(event), Some("refund")));
        assert_eq!(doc["resource"], plain(name), "{name}");
        assert!(doc["resource"]["refund_status"].is_string() && doc["resource"].get("status").is_none());
    }
    refused(&parse("refund_other_merchant", &[]), 4, "another merchant");
    refused(&parse("refund_partner_abnormal", &["--sub-mchid", "1900000110"]), 4, "another merchant");
}

#[test]
fn parse_names_the_failed_check_and_prints_nothing() {
    for (name, extra, code, check) in [
        ("signtest", &[][..], 4, "SIGNTEST probe"),
        ("wrong_key", &[][..], 4, "decryption failed (wrong or reset APIv3 key?)"),
        ("wrong_aad", &[][..], 4, "decryption failed (wrong or reset APIv3 key?)"),
        ("flipped_bit", &[][..], 4, "decryption failed (wrong or reset APIv3 key?)"),
        ("flipped_tag_bit", &[][..], 4, "decryption failed (wrong or reset APIv3 key?)"),
        ("unsupported_algorithm", &[][..], 4, "AEAD_AES_256_GCM"),
        ("other_merchant", &[][..], 4, "answer for another merchant"),
        ("partner_success", &["--kind", "partner", "--sub-mchid", "1900000999"][..], 4, "answer for another merchant"),
        ("bad_resource", &[][..], 1, "lacks the required field `trade_state`"),
        // A partner notification at a direct endpoint has no `mchid`: it does not decode.
        (
            "partner_success",
            &["--kind", "direct"][..],
            1,
            "resource does not decode): the decrypted resource lacks the required field `mchid`",
        ),
        ("partner_success", &["--kind", "direct"][..], 1, "it is a partner resource"),
        // A partner order at a parking endpoint decodes loosely, but is not a parking one.
        ("partner_success", &["--kind", "parking"][..], 4, "a partner resource at a receiver of parking notifications"),
        // Without --kind, a sub-merchant restriction still holds, and excludes direct payments.
        ("partner_success", &["--sub-mchid", "1900000999"][..], 4, "answer for another merchant: its sub_mchid"),
        ("direct_success", &["--sub-mchid", "1900000109"][..], 4, "answer for another merchant: its sub_mchid"),
    ] {
        refused(&parse(name, extra), code, check);
    }
    // The fixtures are from 2019: judged by the real clock they are stale.
    let (body, headers) = (case("direct_success", "body"), case("direct_success", "headers"));
    let o = command().args(["notification", "parse", "--body-file", &body, "--headers-file", &headers]).output();
    refused(&o.unwrap(), 4, "stale timestamp");
}

/// The fixture's header values by lower-case name.
fn fixture_header(name: &str, header: &str) -> String {
    let headers = std::fs::read_to_string(case(name, "headers")).unwrap();
    headers
        .lines()
        .find_map(|l| l.split_once(": ").filter(|(n, _)| n.eq_ignore_ascii_case(header)).map(|(_, v)| v.to_owned()))
        .unwrap()
}

fn temp_file(tag: &str, content: &[u8]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!("wechatpay-notify-test-{}-{n}-{tag}", std::process::id()));
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn headers_file_takes_a_captured_head_with_a_request_line_and_any_case() {
    let h = |n| fixture_header("direct_success", n);
    let captured = format!(
        "POST /notify?x=1 HTTP/1.1\r\nHost: example.com\r\nwechatpay-timestamp: {}\r\nWECHATPAY-NONCE:   {}\r\n\
         Wechatpay-signature: {}\r\nwechatPay-Serial: {}\r\nContent-Length: 1460\r\n\r\n{{\"id\": \"x\"}}\r\n",
        h("Wechatpay-Timestamp"),
        h("Wechatpay-Nonce"),
        h("Wechatpay-Signature"),
        h("Wechatpay-Serial")
    );
    let headers = temp_file("head", captured.as_bytes());
    let body = case("direct_success", "body");
    let o = command()
        .args(["notification", "parse", "--body-file", &body, "--headers-file", headers.to_str().unwrap()])
        .args(["--now", NOW])
        .output()
        .unwrap();
    assert_eq!(document(&o)["resource"], plain("direct_success"));
    // A repeated signature header is refused, not guessed at.
    let doubled = captured.replacen("\r\n\r\n", &format!("\r\nWechatpay-Nonce: {}\r\n\r\n", "X"), 1);
    let doubled = temp_file("doubled", doubled.as_bytes());
    let o = command()
        .args(["notification", "parse", "--body-file", &body, "--headers-file", doubled.to_str().unwrap()])
        .args(["--now", NOW])
        .output()
        .unwrap();
    refused(&o, 4, "duplicate header");
    let _ = std::fs::remove_file(headers);
    let _ = std::fs::remove_file(doubled);
}

#[test]
fn flags_give_the_four_headers() {
    let h = |n| fixture_header("partner_success", n);
    let body = case("partner_success", "body");
    let (ts, nonce, sig, serial) =
        (h("Wechatpay-Timestamp"), h("Wechatpay-Nonce"), h("Wechatpay-Signature"), h("Wechatpay-Serial"));
    let run = |now: &str, serial: &str| {
        command()
            .args(["notification", "parse", "--body-file", &body, "--timestamp", &ts, "--nonce", &nonce])
            .args(["--signature", &sig, "--serial", serial, "--now", now, "--kind", "partner"])
            .output()
            .unwrap()
    };
    assert_eq!(document(&run(NOW, &serial))["resource"]["sub_mchid"], "1900000109");
    refused(&run("1554208761", &serial), 4, "stale timestamp");
    refused(&run(NOW, "PUB_KEY_ID_0000000000000000000000000000000000"), 4, "unknown serial");
    // Another body under the same signature.
    let other = case("direct_success", "body");
    let o = command()
        .args(["notification", "parse", "--body-file", &other, "--timestamp", &ts, "--nonce", &nonce])
        .args(["--signature", &sig, "--serial", &serial, "--now", NOW])
        .output()
        .unwrap();
    refused(&o, 4, "signature mismatch");
    // Flags and a headers file together, or a missing flag: usage.
    let headers = case("partner_success", "headers");
    let o = command()
        .args(["notification", "parse", "--body-file", &body, "--headers-file", &headers, "--nonce", &nonce])
        .output()
        .unwrap();
    refused(&o, 2, "--nonce");
    let o = command().args(["notification", "parse", "--body-file", &body, "--timestamp", &ts]).output().unwrap();
    refused(&o, 2, "--nonce");
}

#[test]
fn apiv3_key_from_the_environment_a_flag_or_a_file() {
    let key = std::fs::read_to_string(data("notifications/apiv3_key.txt")).unwrap().trim().to_owned();
    let (body, headers) = (case("direct_success", "body"), case("direct_success", "headers"));
    let base = ["notification", "parse", "--body-file", &body, "--headers-file", &headers, "--now", NOW];
    let run = |f: &dyn Fn(&mut Command)| {
        let mut cmd = command();
        cmd.env_remove("WECHATPAY_APIV3_KEY_FILE").args(base);
        f(&mut cmd);
        cmd.output().unwrap()
    };
    document(&run(&|c| {
        c.env("WECHATPAY_APIV3_KEY", &key);
    }));
    document(&run(&|c| {
        c.args(["--apiv3-key", &key]);
    }));
    let padded = temp_file("key", format!("  \n{key}\r\n\n ").as_bytes());
    document(&run(&|c| {
        c.args(["--apiv3-key-file", padded.to_str().unwrap()]);
    }));
    // Not 32 bytes, both set, none set: exit 2, and the key is never echoed.
    let o = run(&|c| {
        c.env("WECHATPAY_APIV3_KEY", &key[..31]);
    });
    refused(&o, 2, "31 bytes");
    assert!(!text(&o.stderr).contains(&key[..31]));
    let o = run(&|c| {
        c.args(["--apiv3-key", &key, "--apiv3-key-file", padded.to_str().unwrap()]);
    });
    refused(&o, 2, "WECHATPAY_APIV3_KEY");
    refused(&run(&|_| {}), 2, "missing APIv3 key");
    let o = run(&|c| {
        c.args(["--apiv3-key", &key, "--kind", "direct", "--sub-mchid", "1900000109"]);
    });
    refused(&o, 2, "--sub-mchid");
    let _ = std::fs::remove_file(padded);
}

/// A running `listen`: its address, its stdout lines, the child.
struct Listener {
    child: Child,
    addr: String,
    lines: Option<mpsc::Receiver<String>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Listener {
    fn start(extra: &[&str]) -> Self {
        let mut child = command()
            .args(["notification", "listen", "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
        let addr = first.strip_prefix("listening on http://").unwrap_or_else(|| panic!("first line: {first}"));
        let addr = addr.to_owned();
        Self { child, addr, lines: Some(lines) }
    }

    /// Sends raw request bytes; the status code and body of the answer.
    fn send(&self, request: &[u8]) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.write_all(request).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
        let body = answer.split_once("\r\n\r\n").unwrap().1.to_owned();
        (status, body)
    }

    /// The next line on stdout.
    fn next_line(&self) -> String {
        self.lines.as_ref().unwrap().recv_timeout(Duration::from_secs(30)).unwrap()
    }

    /// Stops the listener; what it printed on stderr, and any stdout lines not yet read.
    fn stop(mut self) -> (String, Vec<String>) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let mut err = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let rest = self.lines.take().unwrap().iter().collect();
        (err, rest)
    }
}

/// A fresh notification for a direct order: (body, signature headers), encrypted with the
/// fixtures' APIv3 key and signed now with the throwaway WeChat Pay key.
fn fresh_notification(id: &str) -> (Vec<u8>, String) {
    fresh("direct_success", "TRANSACTION.SUCCESS", id)
}

/// A fresh notification of event `event` around the plaintext of fixture `name`.
fn fresh(name: &str, event: &str, id: &str) -> (Vec<u8>, String) {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let key = std::fs::read_to_string(data("notifications/apiv3_key.txt")).unwrap();
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.trim().as_bytes()).unwrap());
    let mut sealed = std::fs::read(case(name, "plain")).unwrap();
    let nonce = *b"fresh0nonce1";
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(b"transaction"), &mut sealed).unwrap();
    let body = serde_json::json!({
        "id": id,
        "create_time": "2025-05-20T13:29:35+08:00",
        "resource_type": "encrypt-resource",
        "event_type": event,
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64::engine::general_purpose::STANDARD.encode(&sealed),
            "nonce": "fresh0nonce1",
            "associated_data": "transaction",
        }
    })
    .to_string()
    .into_bytes();
    let signer = wechatpay_core::PrivateKey::from_pem(&std::fs::read(data("wechatpay_key.pem")).unwrap()).unwrap();
    let ts = wechatpay_core::unix_now().to_string();
    let mut message = format!("{ts}\nNONCE123\n").into_bytes();
    message.extend_from_slice(&body);
    message.push(b'\n');
    let sig = base64::engine::general_purpose::STANDARD.encode(signer.sign(&message).unwrap());
    let headers = format!(
        "Wechatpay-Timestamp: {ts}\r\nWechatpay-Nonce: NONCE123\r\nWechatpay-Signature: {sig}\r\n\
         Wechatpay-Serial: {PUB_KEY_ID}\r\nWechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048\r\n"
    );
    (body, headers)
}

fn post(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

#[test]
fn listen_prints_verified_notifications_and_refuses_the_rest() {
    let listener = Listener::start(&["--path", "/wechatpay/notify"]);
    let (body, headers) = fresh_notification("EV-fresh-1");
    assert_eq!(listener.send(&post("/wechatpay/notify", &headers, &body)), (204, String::new()));
    let line = listener.next_line();
    let doc: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(doc["id"], "EV-fresh-1");
    assert_eq!(doc["resource"], plain("direct_success"));

    // Tampered after signing: 401 FAIL, nothing printed.
    let tampered = String::from_utf8(body.clone()).unwrap().replace("EV-fresh-1", "EV-fresh-2").into_bytes();
    let (status, answer) = listener.send(&post("/wechatpay/notify", &headers, &tampered));
    assert_eq!(status, 401);
    assert_eq!(serde_json::from_str::<Value>(&answer).unwrap()["code"], "FAIL");
    // Old fixtures are stale; another path, another method, no length, chunked, too big.
    let fixture = std::fs::read(case("direct_success", "body")).unwrap();
    let fixture_headers = std::fs::read_to_string(case("direct_success", "headers")).unwrap().replace('\n', "\r\n");
    let fixture_headers: String =
        fixture_headers.lines().filter(|l| !l.starts_with("Content-Type")).map(|l| format!("{l}\r\n")).collect();
    assert_eq!(listener.send(&post("/wechatpay/notify", &fixture_headers, &fixture)).0, 401);
    assert_eq!(listener.send(&post("/", &headers, &body)).0, 404);
    assert_eq!(listener.send(b"GET /wechatpay/notify HTTP/1.1\r\nHost: x\r\n\r\n").0, 405);
    assert_eq!(listener.send(b"POST /wechatpay/notify HTTP/1.1\r\nHost: x\r\n\r\n").0, 411);
    let chunked = b"POST /wechatpay/notify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_eq!(listener.send(chunked).0, 411);
    // (Only the head: the answer comes before any body is read.)
    let big = format!("POST /wechatpay/notify HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", 65 * 1024);
    assert_eq!(listener.send(big.as_bytes()).0, 413);
    assert_eq!(listener.send(b"NOT HTTP\r\n\r\n").0, 400);

    // Still serving after all that: a second verified one.
    let (body, headers) = fresh_notification("EV-fresh-3");
    assert_eq!(listener.send(&post("/wechatpay/notify", &headers, &body)).0, 204);
    let line = listener.next_line();
    assert_eq!(serde_json::from_str::<Value>(&line).unwrap()["id"], "EV-fresh-3");

    let (err, rest) = listener.stop();
    assert!(rest.is_empty(), "only verified notifications reach stdout: {rest:?}");
    for check in ["signature mismatch", "stale timestamp", "not the notification path", "Content-Length"] {
        assert!(err.contains(check), "stderr must say {check:?}: {err}");
    }
    assert!(!err.contains("EV-fresh-2"), "unverified content on stderr: {err}");
}

#[test]
fn listen_takes_every_kind_unless_one_is_named() {
    let kinds = [
        ("direct_success", "TRANSACTION.SUCCESS"),
        ("partner_success", "TRANSACTION.SUCCESS"),
        ("parking_success", "TRANSACTION.SUCCESS"),
        ("parking_entrance", "VEHICLE.ENTRANCE_STATE_CHANGE"),
    ];
    let listener = Listener::start(&[]);
    for (i, (name, event)) in kinds.iter().enumerate() {
        let (body, headers) = fresh(name, event, &format!("EV-kind-{i}"));
        assert_eq!(listener.send(&post("/", &headers, &body)), (204, String::new()), "{name}");
        let doc: Value = serde_json::from_str(&listener.next_line()).unwrap();
        assert_eq!((&doc["id"], &doc["resource"]), (&Value::from(format!("EV-kind-{i}")), &plain(name)), "{name}");
    }
    drop(listener);
    // Named: only that kind; the others get 400 and a line on stderr naming what they are.
    let listener = Listener::start(&["--kind", "partner"]);
    for (i, (name, event)) in kinds.iter().enumerate() {
        let (body, headers) = fresh(name, event, &format!("EV-partner-{i}"));
        let expected = if *name == "partner_success" || *name == "parking_entrance" { 204 } else { 400 };
        assert_eq!(listener.send(&post("/", &headers, &body)).0, expected, "{name}");
    }
    let (err, rest) = listener.stop();
    let printed: Vec<Value> = rest.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    // The entry event at a partner endpoint is kept untyped, as before.
    assert_eq!(printed.iter().map(|d| d["id"].as_str().unwrap()).collect::<Vec<_>>(), ["EV-partner-1", "EV-partner-3"]);
    assert!(err.contains("it is a direct resource") && err.contains("it is a parking resource"), "{err}");
}

#[test]
fn listen_ends_quietly_when_stdout_closes() {
    let mut listener = Listener::start(&[]);
    drop(listener.lines.take());
    // The reader thread ends on its next send; send one verified notification to make it.
    let (body, headers) = fresh_notification("EV-close-1");
    let _ = TcpStream::connect(&listener.addr).and_then(|mut s| s.write_all(&post("/", &headers, &body)));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = listener.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "listen did not end after stdout closed");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn listen_refuses_bad_configuration_with_exit_2() {
    let o = command().args(["notification", "listen", "--addr", "not-an-address"]).output().unwrap();
    refused(&o, 2, "--addr");
    let o = command()
        .env("WECHATPAY_APIV3_KEY_FILE", data("wechatpay_pub.pem"))
        .args(["notification", "listen", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    refused(&o, 2, "APIv3 key");
}
