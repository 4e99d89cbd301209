//! The admin API under `/sim/`, driven through the `wechatpay-sim` process as another
//! language would: raw HTTP with the bearer token from the state directory, a notification
//! listener on loopback, and a signed client built only from `env`.

#![allow(clippy::unwrap_used)] // test helpers: a failure is a test failure

use crate::common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use wechatpay_core::api::QueryOrderByOutTradeNo;
use wechatpay_core::notify::{Kind, Receiver, Resource};
use wechatpay_core::{ApiV3Key, Config, KeyStore, MchId, OutTradeNo, PrivateKey, SerialNo};
use wechatpay_sim::OrderKind;

const BIN: &str = env!("CARGO_BIN_EXE_wechatpay-sim");

/// A running `wechatpay-sim` process, killed when dropped.
struct Sim {
    child: Child,
    env: HashMap<String, String>,
    addr: SocketAddr,
    stderr: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(name: &str, extra: &[&str]) -> Sim {
    let dir = std::env::temp_dir().join(format!("wechatpay-sim-admin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(BIN)
        .arg("--state-dir")
        .arg(&dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("listening on http://").expect("first line").to_owned();
    let text = std::fs::read_to_string(dir.join("env")).unwrap();
    let env: HashMap<String, String> = wechatpay_sim::cli::parse_env(&text).into_iter().collect();
    let token = std::fs::read_to_string(dir.join("admin_token")).unwrap();
    assert_eq!(env["WECHATPAY_SIM_ADMIN_TOKEN"], token);
    assert!(token.len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("admin_token")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    Sim { child, env, addr: url.parse().unwrap(), stderr: String::new() }
}

impl Sim {
    fn token(&self) -> &str {
        &self.env["WECHATPAY_SIM_ADMIN_TOKEN"]
    }

    /// An admin call with the right token.
    fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(method, path, Some(self.token()), body.map(|b| b.to_string()).as_deref())
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, Value) {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        if let Some(token) = token {
            raw.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = body.unwrap_or_default();
        raw.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
        let resp = common::send_raw(self.addr, raw.as_bytes()).unwrap();
        assert!(resp.header("wechatpay-signature").is_none(), "admin answers are not signed");
        (resp.status.as_u16(), serde_json::from_slice(&resp.body).expect("a JSON answer"))
    }

    /// A client configuration built only from `env`.
    fn config(&self) -> Config {
        let env = &self.env;
        let key = PrivateKey::from_pem(&std::fs::read(&env["WECHATPAY_PRIVATE_KEY"]).unwrap()).unwrap();
        Config::builder(
            MchId::new(env["WECHATPAY_MCHID"].as_str()).unwrap(),
            SerialNo::new(env["WECHATPAY_SERIAL_NO"].as_str()).unwrap(),
            key,
            self.key_store(),
        )
        .base_url(&env["WECHATPAY_BASE_URL"])
        .build()
        .unwrap()
    }

    fn key_store(&self) -> KeyStore {
        let env = &self.env;
        let mut store = KeyStore::new();
        store
            .add_public_key(&env["WECHATPAY_PUBLIC_KEY_ID"], &std::fs::read(&env["WECHATPAY_PUBLIC_KEY"]).unwrap())
            .unwrap();
        if let Some(certs) = env.get("WECHATPAY_PLATFORM_CERTS") {
            store.add_platform_certificates(&std::fs::read(certs).unwrap()).unwrap();
        }
        store
    }

    fn query(&self, out_trade_no: &str) -> Result<wechatpay_core::model::Transaction, wechatpay_core::Error> {
        let config = self.config();
        let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new(out_trade_no).unwrap() };
        common::parse(&config, self.addr, &op, &common::signed(&config, &op))
    }
}

/// A notification endpoint on loopback answering each POST with the next of `statuses`
/// (the last one repeated), handing every request it got to the channel.
fn listener(statuses: &[u16]) -> (String, mpsc::Receiver<http::Request<Vec<u8>>>) {
    serve_notifications(statuses, None)
}

/// [`listener`] over TLS: a throwaway CA (returned as PEM) and a certificate for 127.0.0.1.
fn https_listener(statuses: &[u16]) -> (String, String, mpsc::Receiver<http::Request<Vec<u8>>>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "notify receiver test CA (throwaway)");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().unwrap())];
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    let (url, rx) = serve_notifications(statuses, Some(std::sync::Arc::new(config)));
    (url, ca_cert.pem(), rx)
}

fn serve_notifications(
    statuses: &[u16],
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
) -> (String, mpsc::Receiver<http::Request<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}/wechatpay/notify", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    let statuses = statuses.to_vec();
    std::thread::spawn(move || {
        for (i, conn) in listener.incoming().enumerate() {
            let Ok(conn) = conn else { return };
            let status = statuses[i.min(statuses.len() - 1)];
            let request = match &tls {
                None => answer_one(conn, status),
                Some(config) => {
                    let server = rustls::ServerConnection::new(std::sync::Arc::clone(config)).unwrap();
                    answer_one(rustls::StreamOwned::new(server, conn), status)
                }
            };
            if tx.send(request).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

/// Reads one request from `conn` and answers it with `status`.
fn answer_one(conn: impl Read + Write, status: u16) -> http::Request<Vec<u8>> {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split(' ');
    let mut req = http::Request::builder().method(parts.next().unwrap()).uri(parts.next().unwrap());
    let mut length = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':').unwrap();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().unwrap();
        }
        req = req.header(name, value.trim());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let conn = reader.get_mut();
    let _ = conn.write_all(format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
    let _ = conn.flush();
    req.body(body).unwrap()
}

/// `https://` notify URLs are delivered over TLS, trusting only the CAs given with
/// `--notify-ca`; without it the receiver's certificate is not trusted and nothing arrives.
#[test]
fn notifications_reach_an_https_receiver_whose_ca_is_given() {
    let (url, ca_pem, got) = https_listener(&[204]);
    let dir = std::env::temp_dir().join(format!("wechatpay-sim-notify-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("receiver-ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let sim = start("https-notify", &["--notify-time-scale", "0.001", "--notify-ca", ca_file.to_str().unwrap()]);
    let order = json!({"kind": "direct", "order": {"out_trade_no": "ADMIN_TLS_1"}, "notify_url": url});
    assert_eq!(sim.admin("POST", "/sim/orders", Some(order)).0, 201);
    assert_eq!(
        sim.admin("POST", "/sim/orders/direct/ADMIN_TLS_1/state", Some(json!({"trade_state": "SUCCESS"}))).0,
        200
    );
    let request = got.recv_timeout(Duration::from_secs(10)).expect("a notification over TLS");
    let key = ApiV3Key::new(sim.env["WECHATPAY_APIV3_KEY"].as_str()).unwrap();
    let receiver = Receiver::new(sim.key_store(), key, MchId::new("1230000109").unwrap());
    let n = receiver.receive_request(&request).unwrap();
    let Resource::Transaction(t) = &n.resource else { panic!("{:?}", n.resource) };
    assert_eq!(t.out_trade_no, "ADMIN_TLS_1");

    // Without the receiver's CA the handshake fails: attempts are logged, nothing is delivered.
    let (url, _ca, got) = https_listener(&[204]);
    let untrusting = start("https-untrusted", &["--notify-time-scale", "0.001"]);
    let order = json!({"kind": "direct", "order": {"out_trade_no": "ADMIN_TLS_2"}, "notify_url": url});
    assert_eq!(untrusting.admin("POST", "/sim/orders", Some(order)).0, 201);
    let paid =
        untrusting.admin("POST", "/sim/orders/direct/ADMIN_TLS_2/state", Some(json!({"trade_state": "SUCCESS"})));
    assert_eq!(paid.0, 200);
    let mut log = Value::Null;
    for _ in 0..100 {
        log = untrusting.admin("GET", "/sim/notifications", None).1;
        if log[0]["attempts"].as_array().is_some_and(|a| a.len() >= 2) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let n = &log[0];
    assert_eq!(n["delivered"], false, "{n}");
    assert!(n["attempts"][0]["status"].is_null() && n["attempts"][0]["error"].is_string(), "{n}");
    assert!(got.try_recv().is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_the_token_nothing_happens() {
    let sim = start("token", &[]);
    let order = json!({"kind": "direct", "order": {"out_trade_no": "ADMIN_TOKEN_1"}}).to_string();
    for token in [None, Some("wrong"), Some("")] {
        let (status, body) = sim.call("POST", "/sim/orders", token, Some(&order));
        assert_eq!((status, body["code"].as_str()), (401, Some("UNAUTHORIZED")), "{body}");
    }
    let (status, body) = sim.call("GET", "/sim/requests", Some(&format!("{}x", sim.token())), None);
    assert_eq!(status, 401, "{body}");
    let (status, body) = sim.admin("GET", "/sim/orders/direct/ADMIN_TOKEN_1", None);
    assert_eq!((status, body["code"].as_str()), (404, Some("ORDER_NOT_EXIST")));
    // Admin calls are not API requests.
    let (_, body) = sim.admin("GET", "/sim/requests", None);
    assert_eq!(body, json!([]));
}

#[test]
fn an_order_created_queried_paid_and_notified_with_a_redelivery() {
    let sim = start("story", &["--notify-time-scale", "0.001"]);
    let (url, got) = listener(&[500, 204]);
    let order = json!({"kind": "direct", "order": {"out_trade_no": "ADMIN_STORY_1", "amount": {"total": 250, "currency": "CNY"}}, "notify_url": url});
    let (status, created) = sim.admin("POST", "/sim/orders", Some(order));
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["trade_state"].as_str(), created["mchid"].as_str()), (Some("NOTPAY"), Some("1230000109")));
    let (status, stored) = sim.admin("GET", "/sim/orders/direct/ADMIN_STORY_1", None);
    assert_eq!((status, &stored), (200, &created));

    // A signed query from a client built from `env` sees it, verified.
    let t = sim.query("ADMIN_STORY_1").unwrap();
    assert_eq!(t.trade_state.as_str(), "NOTPAY");
    assert_eq!(serde_json::to_value(&t.amount).unwrap()["total"], 250);

    let (status, paid) = sim.admin(
        "POST",
        "/sim/orders/direct/ADMIN_STORY_1/state",
        Some(json!({"trade_state": "SUCCESS", "attach": "x"})),
    );
    assert_eq!(status, 200, "{paid}");
    assert_eq!((paid["trade_state"].as_str(), paid["attach"].as_str()), (Some("SUCCESS"), Some("x")));
    let transaction_id = paid["transaction_id"].as_str().unwrap().to_owned();
    assert!(paid["success_time"].is_string() && paid["payer"]["openid"].is_string());

    // The listener answers 500 first: the notification comes again (15 s x 0.001), same id.
    let key = ApiV3Key::new(sim.env["WECHATPAY_APIV3_KEY"].as_str()).unwrap();
    let receiver = Receiver::new(sim.key_store(), key, MchId::new("1230000109").unwrap());
    let mut ids = Vec::new();
    for _ in 0..2 {
        let request = got.recv_timeout(Duration::from_secs(10)).expect("a notification");
        assert_eq!(request.uri(), "/wechatpay/notify");
        let n = receiver.receive_request(&request).unwrap();
        assert_eq!(n.event_type, wechatpay_core::notify::EventType::TransactionSuccess);
        let Resource::Transaction(t) = &n.resource else { panic!("{:?}", n.resource) };
        assert_eq!(
            (t.out_trade_no.as_str(), t.transaction_id.as_deref()),
            ("ADMIN_STORY_1", Some(transaction_id.as_str()))
        );
        ids.push(n.id);
    }
    assert_eq!(ids[0], ids[1]);

    let mut log = Value::Null;
    for _ in 0..100 {
        log = sim.admin("GET", "/sim/notifications", None).1;
        if log[0]["delivered"] == true {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let n = &log[0];
    assert_eq!(n["id"], ids[0].as_str());
    assert_eq!(
        (n["event_type"].as_str(), n["out_trade_no"].as_str()),
        (Some("TRANSACTION.SUCCESS"), Some("ADMIN_STORY_1"))
    );
    assert_eq!((n["notify_url"].as_str(), n["delivered"].as_bool()), (Some(url.as_str()), Some(true)));
    let statuses: Vec<&Value> = n["attempts"].as_array().unwrap().iter().map(|a| &a["status"]).collect();
    assert_eq!(statuses, [&json!(500), &json!(204)]);
    assert!(n["attempts"][0]["at"].as_str().unwrap().ends_with("+08:00"));

    // The query sees the paid order; the request log has both queries, verified.
    assert_eq!(sim.query("ADMIN_STORY_1").unwrap().trade_state.as_str(), "SUCCESS");
    let (_, requests) = sim.admin("GET", "/sim/requests", None);
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1]["method"], "GET");
    assert_eq!(requests[1]["target"], "/v3/pay/transactions/out-trade-no/ADMIN_STORY_1?mchid=1230000109");
    assert_eq!((requests[1]["verified"].as_bool(), requests[1]["status"].as_u64()), (Some(true), Some(200)));
}

#[test]
fn bad_admin_input_is_named() {
    let sim = start("bad", &[]);
    let bad = |body: &str| {
        let (status, v) = sim.call("POST", "/sim/orders", Some(sim.token()), Some(body));
        assert_eq!(status, 400, "{v}");
        v["message"].as_str().unwrap().to_owned()
    };
    assert!(bad("{not json").contains("JSON"));
    assert!(bad(r#"{"kind":"refund","order":{"out_trade_no":"A"}}"#).contains("kind"));
    assert!(bad(r#"{"kind":"direct","order":{}}"#).contains("out_trade_no"));
    assert!(bad(r#"{"kind":"direct","order":{"out_trade_no":"a b"}}"#).contains("out_trade_no"));
    assert!(bad(r#"{"kind":"partner","order":{"out_trade_no":"A"}}"#).contains("sub_mchid"));
    assert!(
        bad(r#"{"kind":"direct","order":{"out_trade_no":"A"},"notify_url":"http://example.com/n"}"#)
            .contains("loopback")
    );
    let (status, _) = sim.admin("POST", "/sim/orders/direct/NOPE/state", Some(json!({"trade_state": "SUCCESS"})));
    assert_eq!(status, 404);
    let (status, _) = sim.admin("POST", "/sim/orders/direct/SIM_NOTPAY_0001/state", Some(json!({})));
    assert_eq!(status, 400);
    let (status, v) = sim.admin("POST", "/sim/faults", Some(json!({"fault": "delay"})));
    assert!(status == 400 && v["message"].as_str().unwrap().contains("ms"), "{v}");
    let (status, _) = sim.admin("POST", "/sim/faults", Some(json!({"fault": "hang", "route": "nowhere"})));
    assert_eq!(status, 400);
    let (status, _) = sim.admin("GET", "/sim/nothing", None);
    assert_eq!(status, 404);
    // Partner and parking orders are created with their own shapes.
    let (status, p) = sim.admin(
        "POST",
        "/sim/orders",
        Some(json!({"kind": "partner", "order": {"out_trade_no": "ADMIN_P1", "sub_mchid": "1900000109"}})),
    );
    assert_eq!((status, p["sp_mchid"].as_str()), (201, Some("1230000109")));
    let (status, p) =
        sim.admin("POST", "/sim/orders", Some(json!({"kind": "parking", "order": {"out_trade_no": "ADMIN_K1"}})));
    assert_eq!(
        (status, p["trade_state"].as_str(), p["trade_scene"].as_str()),
        (201, Some("ACCEPTED"), Some("PARKING"))
    );
}

#[test]
fn faults_and_rotation_over_http() {
    let sim = start("faults", &["--sign-with", "platform-cert"]);
    let (status, v) = sim.admin(
        "POST",
        "/sim/faults",
        Some(json!({"fault": "system_error", "times": 1, "route": "direct_by_out_trade_no"})),
    );
    assert_eq!(status, 200, "{v}");
    let e = sim.query("SIM_NOTPAY_0001").unwrap_err();
    assert!(e.to_string().contains("SYSTEM_ERROR"), "{e}");
    assert_eq!(sim.query("SIM_NOTPAY_0001").unwrap().trade_state.as_str(), "NOTPAY");
    sim.admin("POST", "/sim/faults", Some(json!({"fault": "tampered_body", "times": "always"})));
    assert!(sim.query("SIM_NOTPAY_0001").is_err());
    assert!(sim.query("SIM_NOTPAY_0001").is_err());
    let (status, _) = sim.admin("DELETE", "/sim/faults", None);
    assert_eq!(status, 200);
    assert!(sim.query("SIM_NOTPAY_0001").is_ok());
    let (_, requests) = sim.admin("GET", "/sim/requests", None);
    let statuses: Vec<u64> = requests.as_array().unwrap().iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [500, 200, 200, 200, 200]);

    let old = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
    let (status, first) = sim.admin("POST", "/sim/certificates/rotate", None);
    assert_eq!(status, 200, "{first}");
    let new = first["serial_no"].as_str().unwrap().to_owned();
    assert_eq!(first["serials"], json!([old, new]));
    assert_eq!(first["signing_serial"], old);
    let (_, second) = sim.admin("POST", "/sim/certificates/rotate", None);
    assert_eq!(second["signing_serial"], new.as_str());

    let pk = start("pk", &["--public-key-only"]);
    let (status, v) = pk.admin("POST", "/sim/certificates/rotate", None);
    assert_eq!(status, 409, "{v}");
}

#[test]
fn a_non_loopback_address_is_announced() {
    let mut sim = start("any", &["--addr", "0.0.0.0:0"]);
    let mut line = String::new();
    BufReader::new(sim.child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    sim.stderr = line;
    assert!(sim.stderr.contains("reachable from other machines"), "{}", sim.stderr);
}

/// An admin call to an in-process simulator.
fn admin_in_process(sim: &wechatpay_sim::Simulator, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        sim.addr(),
        sim.admin_token(),
        body.len()
    );
    let resp = common::send_raw(sim.addr(), raw.as_bytes()).unwrap();
    (resp.status.as_u16(), serde_json::from_slice(&resp.body).expect("a JSON answer"))
}

/// `order` without what differs between two orders made by the same change at different
/// moments: their ids and times.
fn shape(mut order: Value) -> Value {
    for field in ["out_trade_no", "transaction_id", "success_time", "create_time"] {
        if let Some(map) = order.as_object_mut() {
            map.remove(field);
        }
    }
    order
}

/// The decrypted resource of a notification, and its event type.
fn open_notification(sim: &wechatpay_sim::Simulator, request: &http::Request<Vec<u8>>) -> (String, Value) {
    let mut store = KeyStore::new();
    let creds = sim.credentials();
    store.add_public_key(creds.wechatpay_public_key_id(), creds.wechatpay_public_key_pem().as_bytes()).unwrap();
    store.add_platform_certificates(sim.platform_certificates_pem().as_bytes()).unwrap();
    let key = ApiV3Key::new(sim.apiv3_key()).unwrap();
    let receiver = Receiver::new(store, key, MchId::new("1230000109").unwrap()).kind(Kind::Direct);
    let n = receiver.receive_request(request).unwrap();
    let Resource::Transaction(t) = &n.resource else { panic!("{:?}", n.resource) };
    (format!("{:?}", n.event_type), serde_json::to_value(t).unwrap())
}

/// The Rust handle and the admin API are two doors to one control API: the same change
/// gives the same order and the same notification.
#[test]
fn the_rust_handle_and_the_admin_api_make_the_same_changes() {
    let sim = wechatpay_sim::Simulator::builder().notify_time_scale(0.001).start().unwrap();
    let (rust_url, rust_got) = listener(&[204]);
    let (http_url, http_got) = listener(&[204]);
    let fields = json!({"amount": {"total": 250}, "attach": "a"});
    let mut by_rust = fields.clone();
    by_rust["out_trade_no"] = json!("SAME_RUST");
    let mut by_http = fields;
    by_http["out_trade_no"] = json!("SAME_HTTP");

    let created_rust = sim.create_order(OrderKind::Direct, by_rust, Some(&rust_url)).unwrap();
    let body = json!({"kind": "direct", "order": by_http, "notify_url": http_url});
    let (status, created_http) = admin_in_process(&sim, "POST", "/sim/orders", &body);
    assert_eq!(status, 201, "{created_http}");
    assert_eq!(shape(created_rust.clone()), shape(created_http.clone()));
    assert_eq!(sim.order(OrderKind::Direct, "SAME_RUST"), Some(created_rust));

    let paid_rust = sim.set_state(OrderKind::Direct, "SAME_RUST", "SUCCESS", json!({"attach": "b"})).unwrap();
    let change = json!({"trade_state": "SUCCESS", "attach": "b"});
    let (status, paid_http) = admin_in_process(&sim, "POST", "/sim/orders/direct/SAME_HTTP/state", &change);
    assert_eq!(status, 200, "{paid_http}");
    assert_eq!(shape(paid_rust.clone()), shape(paid_http.clone()));
    for paid in [&paid_rust, &paid_http] {
        assert!(paid["success_time"].is_string() && paid["payer"]["openid"].is_string(), "{paid}");
        assert_eq!((paid["bank_type"].as_str(), paid["amount"]["payer_total"].as_u64()), (Some("OTHERS"), Some(250)));
    }

    let (rust_event, rust_resource) = open_notification(&sim, &rust_got.recv_timeout(Duration::from_secs(10)).unwrap());
    let (http_event, http_resource) = open_notification(&sim, &http_got.recv_timeout(Duration::from_secs(10)).unwrap());
    assert_eq!(rust_event, http_event);
    assert_eq!(shape(rust_resource.clone()), shape(http_resource));
    assert_eq!(rust_resource["transaction_id"], paid_rust["transaction_id"]);

    // Paying a paid order again changes nothing and notifies nobody, through either door.
    assert_eq!(sim.set_state(OrderKind::Direct, "SAME_RUST", "SUCCESS", Value::Null).unwrap(), paid_rust);
    let (_, again) = admin_in_process(&sim, "POST", "/sim/orders/direct/SAME_HTTP/state", &change);
    assert_eq!(again, paid_http);
    std::thread::sleep(Duration::from_millis(200));
    assert!(rust_got.try_recv().is_err() && http_got.try_recv().is_err(), "a second notification");
    let log = sim.notifications();
    assert_eq!(log.as_array().map(Vec::len), Some(2), "{log}");
    let (_, over_http) = admin_in_process(&sim, "GET", "/sim/notifications", &Value::Null);
    assert_eq!(over_http.as_array().map(Vec::len), Some(2));
}

/// A payment scheduled from Rust is the same payment as one over HTTP: paid fields and a
/// notification; an order added from Rust without `mchid` gets one and parses.
#[test]
fn a_payment_scheduled_from_rust_is_paid_in_full_and_notified() {
    let sim = wechatpay_sim::Simulator::builder().notify_time_scale(0.001).start().unwrap();
    let (url, got) = listener(&[204]);
    sim.create_order(OrderKind::Direct, json!({"out_trade_no": "SCHED_1"}), Some(&url)).unwrap();
    sim.pay_after_queries(OrderKind::Direct, "SCHED_1", 1).unwrap();
    let config = common::config(&sim);
    let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("SCHED_1").unwrap() };
    assert_eq!(common::call(&sim, &config, &op).unwrap().trade_state.as_str(), "NOTPAY");
    let paid = common::call(&sim, &config, &op).unwrap();
    assert_eq!(paid.trade_state.as_str(), "SUCCESS");
    assert!(paid.success_time.is_some() && paid.payer.is_some() && paid.bank_type.is_some());
    let (event, resource) = open_notification(&sim, &got.recv_timeout(Duration::from_secs(10)).unwrap());
    assert_eq!(event, "TransactionSuccess");
    assert_eq!(resource["transaction_id"].as_str(), paid.transaction_id.as_deref());

    sim.add_order(OrderKind::Direct, json!({"out_trade_no": "BARE_1"})).unwrap();
    let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("BARE_1").unwrap() };
    let bare = common::call(&sim, &config, &op).unwrap();
    assert_eq!((bare.mchid.as_str(), bare.trade_state.as_str()), ("1230000109", "NOTPAY"));
}

/// A parking order created over the admin API without `parking_info` gets a plausible one
/// (WeChat Pay returns it whenever `trade_scene` is `PARKING`), and the client reads it.
#[test]
fn a_parking_order_created_without_parking_info_gets_one() {
    let sim = wechatpay_sim::Simulator::start().unwrap();
    let body = json!({"kind": "parking", "order": {"out_trade_no": "PARK_NO_INFO"}});
    let (status, created) = admin_in_process(&sim, "POST", "/sim/orders", &body);
    assert_eq!((status, created["trade_scene"].as_str()), (201, Some("PARKING")), "{created}");
    let info = &created["parking_info"];
    assert!(info["plate_number"].is_string() && info["start_time"].is_string() && info["end_time"].is_string());
    let config = common::config(&sim);
    let op = wechatpay_core::api::QueryParkingOrder {
        out_trade_no: OutTradeNo::new("PARK_NO_INFO").unwrap(),
        sub_mchid: Some(wechatpay_core::SubMchId::new("1900000109").unwrap()),
    };
    let order = common::call(&sim, &config, &op).unwrap();
    let parsed = serde_json::to_value(order.parking_info.expect("parking_info")).unwrap();
    assert_eq!(parsed["plate_number"], info["plate_number"]);
    // Given ones are kept as given.
    let mine = json!({"parking_id": "MINE", "plate_number": "粤B000001"});
    let body = json!({"kind": "parking", "order": {"out_trade_no": "PARK_INFO", "parking_info": mine}});
    assert_eq!(admin_in_process(&sim, "POST", "/sim/orders", &body).1["parking_info"], mine);
}

/// The admin API (and the Rust handle, through the same control API) refuses what WeChat
/// Pay would never hold: `400 PARAM_ERROR` naming the field and what is allowed.
#[test]
fn the_admin_api_refuses_what_wechat_pay_would_never_hold() {
    let sim = wechatpay_sim::Simulator::start().unwrap();
    let refused = |method: &str, path: &str, body: Value| {
        let (status, v) = admin_in_process(&sim, method, path, &body);
        assert_eq!((status, v["code"].as_str()), (400, Some("PARAM_ERROR")), "{v}");
        v["message"].as_str().unwrap().to_owned()
    };
    let create = |order: Value| json!({"kind": "direct", "order": order});
    let m = refused("POST", "/sim/orders", create(json!({"out_trade_no": "R1", "trade_state": "PAIDD"})));
    assert!(m.contains("order.trade_state") && m.contains("SUCCESS") && m.contains("allow_unknown"), "{m}");
    let m = refused("POST", "/sim/orders", create(json!({"out_trade_no": "R1", "amount": {"total": -100}})));
    assert!(m.contains("order.amount.total") && m.contains("0 or more"), "{m}");
    let m = refused("POST", "/sim/orders", create(json!({"out_trade_no": "R1", "amount": {"total": 0.5}})));
    assert!(m.contains("order.amount.total"), "{m}");
    let m = refused("POST", "/sim/orders", create(json!({"out_trade_no": "R1", "success_time": "2026-11-23"})));
    assert!(m.contains("order.success_time") && m.contains("+08:00"), "{m}");
    let state = "/sim/orders/direct/SIM_NOTPAY_0001/state";
    let m = refused("POST", state, json!({"trade_state": "PAIDD"}));
    assert!(m.starts_with("trade_state:") && m.contains("NOTPAY"), "{m}");
    let m = refused("POST", state, json!({"trade_state": "SUCCESS", "success_time": "now"}));
    assert!(m.starts_with("success_time:"), "{m}");
    let m = refused("POST", state, json!({"trade_state": "SUCCESS", "amount": {"total": -1, "currency": "CNY"}}));
    assert!(m.starts_with("amount.total:"), "{m}");
    assert_eq!(sim.order(OrderKind::Direct, "SIM_NOTPAY_0001").unwrap()["trade_state"], "NOTPAY", "nothing changed");

    // On purpose (fault injection), with "allow_unknown": true.
    let body =
        json!({"kind": "direct", "order": {"out_trade_no": "R2", "trade_state": "PAIDD"}, "allow_unknown": true});
    let (status, created) = admin_in_process(&sim, "POST", "/sim/orders", &body);
    assert_eq!((status, created["trade_state"].as_str()), (201, Some("PAIDD")), "{created}");
    let (status, changed) =
        admin_in_process(&sim, "POST", state, &json!({"trade_state": "PAIDD", "allow_unknown": true}));
    assert_eq!((status, changed["trade_state"].as_str()), (200, Some("PAIDD")), "{changed}");
    // The Rust handle answers the same.
    let e = sim.create_order(OrderKind::Direct, json!({"out_trade_no": "R3", "amount": {"total": -1}}), None);
    assert!(e.unwrap_err().to_string().contains("order.amount.total"));
}

/// Scheduling is a control operation too: over HTTP as from Rust, due after queries, and
/// the change is the order's one transition (paid fields, notification).
#[test]
fn changes_are_scheduled_over_http_as_from_rust() {
    let sim = wechatpay_sim::Simulator::builder().notify_time_scale(0.001).start().unwrap();
    let (url, got) = listener(&[204]);
    let body = json!({"kind": "direct", "order": {"out_trade_no": "SCHED_HTTP"}, "notify_url": url});
    assert_eq!(admin_in_process(&sim, "POST", "/sim/orders", &body).0, 201);
    let path = "/sim/orders/direct/SCHED_HTTP/schedule";
    let (status, v) = admin_in_process(&sim, "POST", path, &json!({"trade_state": "SUCCESS", "after_queries": 1}));
    assert_eq!(status, 200, "{v}");
    for bad in [
        json!({"trade_state": "SUCCESS"}),
        json!({"trade_state": "SUCCESS", "after_queries": -1}),
        json!({"trade_state": "SUCCESS", "after_queries": 1, "after_ms": 1}),
        json!({"trade_state": "LATER", "after_ms": 0}),
    ] {
        let (status, v) = admin_in_process(&sim, "POST", path, &bad);
        assert_eq!((status, v["code"].as_str()), (400, Some("PARAM_ERROR")), "{bad} -> {v}");
    }
    let missing = json!({"trade_state": "SUCCESS", "after_ms": 0});
    assert_eq!(admin_in_process(&sim, "POST", "/sim/orders/direct/NOPE/schedule", &missing).0, 404);

    let config = common::config(&sim);
    let op = QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("SCHED_HTTP").unwrap() };
    assert_eq!(common::call(&sim, &config, &op).unwrap().trade_state.as_str(), "NOTPAY");
    let paid = common::call(&sim, &config, &op).unwrap();
    assert!(paid.trade_state.as_str() == "SUCCESS" && paid.success_time.is_some() && paid.payer.is_some());
    let (event, resource) = open_notification(&sim, &got.recv_timeout(Duration::from_secs(10)).unwrap());
    assert_eq!((event.as_str(), resource["out_trade_no"].as_str()), ("TransactionSuccess", Some("SCHED_HTTP")));
    let requests = sim.requests();
    assert_eq!(requests.as_array().map(Vec::len), Some(2), "{requests}");
    assert_eq!(requests, admin_in_process(&sim, "GET", "/sim/requests", &Value::Null).1);
}

/// The process with `--refunds manual`: a refund stays `PROCESSING` until
/// `POST /sim/refunds/{no}/state` moves it; the final state is notified and logged with
/// `out_refund_no`. With the default (`auto`) it succeeds by itself.
#[test]
fn refunds_over_the_admin_api_in_manual_and_auto_mode() {
    use wechatpay_core::api::{CreateRefund, RefundOrder, RefundRequestAmount};
    use wechatpay_core::{NotifyUrl, OutRefundNo, model::Fen};
    for manual in [true, false] {
        let args: &[&str] = if manual {
            &["--refunds", "manual", "--notify-time-scale", "0.001"]
        } else {
            &["--notify-time-scale", "0.001"]
        };
        let sim = start(if manual { "refunds-manual" } else { "refunds-auto" }, args);
        let (url, got) = listener(&[204]);
        let order = json!({"kind": "direct", "order": {"out_trade_no": "ADMIN_REFUND_1", "trade_state": "SUCCESS", "amount": {"total": 100}}});
        assert_eq!(sim.admin("POST", "/sim/orders", Some(order)).0, 201);
        let config = sim.config();
        let op = CreateRefund::new(
            RefundOrder::OutTradeNo(OutTradeNo::new("ADMIN_REFUND_1").unwrap()),
            OutRefundNo::new("ADMIN-R-1").unwrap(),
            RefundRequestAmount::new(Fen(100), Fen(100)).unwrap(),
        )
        .with_notify_url(NotifyUrl::new(url).unwrap());
        let created = common::parse(&config, sim.addr, &op, &common::signed(&config, &op)).unwrap();
        assert_eq!(created.status.as_str(), "PROCESSING");
        if manual {
            std::thread::sleep(Duration::from_millis(100));
            let (status, r) = sim.admin("GET", "/sim/refunds/ADMIN-R-1", None);
            assert_eq!((status, r["status"].as_str()), (200, Some("PROCESSING")), "{r}");
            let (status, r) = sim.admin("POST", "/sim/refunds/ADMIN-R-1/state", Some(json!({"status": "SUCCESS"})));
            assert_eq!((status, r["status"].as_str()), (200, Some("SUCCESS")), "{r}");
        }
        let key = ApiV3Key::new(sim.env["WECHATPAY_APIV3_KEY"].as_str()).unwrap();
        let receiver = Receiver::new(sim.key_store(), key, MchId::new("1230000109").unwrap());
        let n = receiver.receive_request(&got.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
        assert_eq!(n.event_type.as_str(), "REFUND.SUCCESS");
        assert!(matches!(&n.resource, Resource::Refund(r) if r.out_refund_no == "ADMIN-R-1"));
        let (_, r) = sim.admin("GET", "/sim/refunds/ADMIN-R-1", None);
        assert!(r["success_time"].is_string() && r["user_received_account"].is_string(), "{r}");
        let mut log = Value::Null;
        for _ in 0..100 {
            log = sim.admin("GET", "/sim/notifications", None).1;
            if log[0]["delivered"] == true {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            (log[0]["event_type"].as_str(), log[0]["out_refund_no"].as_str(), log[0]["kind"].as_str()),
            (Some("REFUND.SUCCESS"), Some("ADMIN-R-1"), Some("refund"))
        );
        assert_eq!(log[0]["id"], n.id.as_str());
    }
}
