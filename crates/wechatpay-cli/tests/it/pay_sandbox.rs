//! End to end against the simulator: `order create` and `partner-order create` in every
//! scene, the invoke objects accepted by `POST /sim/request-payment` (the simulated WeChat
//! client), the cashier page paying an H5 order, and `refund create|get|watch|apply-abnormal`
//! in both modes — all through the built binary.
#![allow(clippy::unwrap_used)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::SimEnv;
use crate::pay::{APPID, assert_invoke_verifies, create_args, failed, json, run, setup};

/// The sub-merchant's app id the partner tests name.
const SUB_APPID: &str = "wx8888888888888888";
const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

/// One HTTP/1.1 exchange with the simulator (`Connection: close`): status and body.
pub(crate) fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut fields);
    let head = match parsed.parse(&answer).unwrap() {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => panic!("partial answer: {}", String::from_utf8_lossy(&answer)),
    };
    let length = parsed
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .map(|h| std::str::from_utf8(h.value).unwrap().trim().parse::<usize>().unwrap())
        .unwrap_or(answer.len() - head);
    (parsed.code.unwrap(), String::from_utf8(answer[head..head + length].to_vec()).unwrap())
}

/// `POST /sim/request-payment` with the admin token: status and JSON answer.
fn request_payment(env: &SimEnv, invoke: &Value, result: Option<&str>) -> (u16, Value) {
    let mut body = invoke.clone();
    if let Some(result) = result {
        body["result"] = json!(result);
    }
    let auth = format!("Bearer {}", env.sim.admin_token());
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let (status, answer) = http(env.sim.addr(), "POST", "/sim/request-payment", &headers, &body.to_string());
    (status, serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}")))
}

/// The order as `order get` / `partner-order get` prints it.
fn get(env: &SimEnv, partner: bool, out_trade_no: &str) -> Value {
    let args: Vec<&str> = if partner {
        vec!["partner-order", "get", "--out-trade-no", out_trade_no, "--sub-mchid", "1900000109"]
    } else {
        vec!["order", "get", "--out-trade-no", out_trade_no]
    };
    json(&run(env, &args, &[]))
}

fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// Creates an order through the binary: its printed JSON.
fn create(env: &SimEnv, partner: bool, scene: &str, no: &str, extra: &[(&str, &str)]) -> Value {
    let mut changes = vec![("--out-trade-no", no)];
    changes.extend_from_slice(extra);
    let args = create_args(partner, scene, &changes);
    json(&run(env, &args.iter().map(String::as_str).collect::<Vec<_>>(), &[]))
}

/// Every scene, direct and partner: the printed shape, the invoke object verifying with
/// OpenSSL under the app id the rule names, and the order the query then answers.
#[test]
fn every_scene_in_both_modes_creates_an_order_the_query_answers() {
    let env = setup();
    let jsapi_payer = [("--openid", OPENID)];
    let partner_sp = [("--sp-openid", OPENID)];
    let partner_sub = [("--sub-openid", OPENID), ("--sub-appid", SUB_APPID)];
    type Case<'a> = (bool, &'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case<'_>; 9] = [
        (false, "jsapi", &jsapi_payer, "JSAPI", APPID),
        (false, "app", &[], "APP", APPID),
        (false, "h5", &[("--payer-client-ip", "203.0.113.7"), ("--h5-type", "iOS")], "MWEB", ""),
        (false, "native", &[("--attach", "cart 42"), ("--qr", "")], "NATIVE", ""),
        (true, "jsapi", &partner_sp, "JSAPI", APPID),
        (true, "jsapi", &partner_sub, "JSAPI", SUB_APPID),
        (true, "app", &[], "APP", APPID),
        (true, "h5", &[("--payer-client-ip", "::1"), ("--h5-type", "Wap")], "MWEB", ""),
        (true, "native", &[("--profit-sharing", "")], "NATIVE", ""),
    ];
    for (i, (partner, scene, extra, trade_type, invoke_appid)) in cases.into_iter().enumerate() {
        let no = format!("CLI_SCENE_{i:04}");
        let out = create(&env, partner, scene, &no, extra);
        assert_eq!(out["out_trade_no"], no.as_str(), "{out}");
        match scene {
            "jsapi" | "app" => {
                assert_eq!(keys(&out), ["invoke", "out_trade_no", "prepay_id"], "{out}");
                let prepay_id = out["prepay_id"].as_str().unwrap();
                assert!(prepay_id.starts_with("wx") && prepay_id.len() >= 32, "{prepay_id}");
                assert_invoke_verifies(&out["invoke"], invoke_appid, prepay_id);
            }
            "h5" => {
                assert_eq!(keys(&out), ["h5_url", "out_trade_no"], "{out}");
                let url = out["h5_url"].as_str().unwrap();
                assert!(url.starts_with(&format!("{}/sim/cashier/wx", env.sim.base_url())), "{url}");
            }
            _ => {
                assert_eq!(keys(&out), ["code_url", "out_trade_no"], "{out}");
                assert!(out["code_url"].as_str().unwrap().starts_with("weixin://wxpay/bizpayurl?pr="), "{out}");
            }
        }
        let order = get(&env, partner, &no);
        assert_eq!((order["trade_state"].as_str(), order["trade_type"].as_str()), (Some("NOTPAY"), Some(trade_type)));
        assert_eq!(order["amount"]["total"], 1, "{order}");
        if partner {
            assert_eq!((order["sp_appid"].as_str(), order["sub_mchid"].as_str()), (Some(APPID), Some("1900000109")));
        } else {
            assert_eq!(order["appid"], APPID, "{order}");
        }
    }
    // The same request again re-issues the same artefact; another body for the number is refused.
    let again = create(&env, false, "app", "CLI_SCENE_0001", &[]);
    let first = create(&env, false, "app", "CLI_SCENE_0001", &[]);
    assert_eq!(again["prepay_id"], first["prepay_id"]);
    let args = create_args(false, "app", &[("--out-trade-no", "CLI_SCENE_0001"), ("--total", "2")]);
    let err = failed(&run(&env, &args.iter().map(String::as_str).collect::<Vec<_>>(), &[]), 3);
    assert!(err.contains("OUT_TRADE_NO_USED"), "{err}");
}

/// The invoke objects printed by `order create` and `order invoke` are what the WeChat
/// client accepts: `requestPayment:ok` pays the order (notification included); `cancel`
/// leaves it `NOTPAY`; another app id or a tampered signature is refused.
#[test]
fn invoke_objects_are_accepted_by_request_payment() {
    let env = setup();
    for (i, (partner, scene, extra)) in [
        (false, "jsapi", vec![("--openid", OPENID)]),
        (false, "app", vec![]),
        (true, "jsapi", vec![("--sub-openid", OPENID), ("--sub-appid", SUB_APPID)]),
        (true, "app", vec![("--sub-appid", SUB_APPID)]),
    ]
    .into_iter()
    .enumerate()
    {
        let no = format!("CLI_INVOKE_{i:04}");
        let out = create(&env, partner, scene, &no, &extra);
        let (status, answer) = request_payment(&env, &out["invoke"], Some("cancel"));
        assert_eq!((status, answer["err_msg"].as_str()), (200, Some("requestPayment:fail cancel")), "{answer}");
        assert_eq!(get(&env, partner, &no)["trade_state"], "NOTPAY");
        // A fresh object from `order invoke`, for the app id that opened the sheet.
        let prepay_id = out["prepay_id"].as_str().unwrap();
        let opener = if partner && scene == "jsapi" { SUB_APPID } else { APPID };
        let invoke_args = ["order", "invoke", "--scene", scene, "--prepay-id", prepay_id, "--invoke-appid", opener];
        let fresh = json(&run(&env, &invoke_args, &[]));
        assert_invoke_verifies(&fresh, opener, prepay_id);
        let mut tampered = fresh.clone();
        let sign = if scene == "jsapi" { "paySign" } else { "sign" };
        let nonce = if scene == "jsapi" { "nonceStr" } else { "noncestr" };
        tampered[nonce] = json!("0000000000000000000000000000000X");
        let (status, answer) = request_payment(&env, &tampered, None);
        assert_eq!((status, answer["code"].as_str()), (400, Some("SIGN_ERROR")), "{answer}");
        let wrong =
            ["order", "invoke", "--scene", scene, "--prepay-id", prepay_id, "--invoke-appid", "wxd0000000000000"];
        let (status, answer) = request_payment(&env, &json(&run(&env, &wrong, &[])), None);
        assert_eq!((status, answer["code"].as_str()), (400, Some("INVALID_REQUEST")), "{answer}");
        assert!(!fresh[sign].as_str().unwrap().is_empty());
        let (status, answer) = request_payment(&env, &fresh, None);
        assert_eq!((status, answer["err_msg"].as_str()), (200, Some("requestPayment:ok")), "{answer}");
        assert_eq!(get(&env, partner, &no)["trade_state"], "SUCCESS");
    }
}

/// An H5 order's `h5_url` is the simulator's cashier page: it shows the order, and its Pay
/// button (a form POST of `action=pay`) pays it and sends the notification.
#[test]
fn the_cashier_page_pays_an_h5_order() {
    let env = setup();
    let extra = [("--payer-client-ip", "203.0.113.7"), ("--h5-type", "Android"), ("--total", "1234")];
    let out = create(&env, false, "h5", "CLI_CASHIER_0001", &extra);
    let url = out["h5_url"].as_str().unwrap();
    let path = &url[env.sim.base_url().len()..];
    let (status, page) = http(env.sim.addr(), "GET", path, &[], "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("12.34") && page.contains("NOTPAY"), "{page}");
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let (status, _) = http(env.sim.addr(), "POST", path, &form, "action=cancel");
    assert!(status < 400, "{status}");
    assert_eq!(get(&env, false, "CLI_CASHIER_0001")["trade_state"], "NOTPAY");
    let (status, page) = http(env.sim.addr(), "POST", path, &form, "action=pay");
    assert!(status < 400, "{status}: {page}");
    assert_eq!(get(&env, false, "CLI_CASHIER_0001")["trade_state"], "SUCCESS");
    let notes = env.sim.notifications();
    assert!(notes.as_array().unwrap().iter().any(|n| n["out_trade_no"] == "CLI_CASHIER_0001"), "{notes}");
}

/// An admin call with the token: status and JSON answer.
fn admin(env: &SimEnv, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let auth = format!("Bearer {}", env.sim.admin_token());
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let body = if body.is_null() { String::new() } else { body.to_string() };
    let (status, answer) = http(env.sim.addr(), method, path, &headers, &body);
    (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
}

/// A paid order of `total` fen, direct or partner, made through the admin API.
fn paid_order(env: &SimEnv, partner: bool, out_trade_no: &str, total: i64) {
    let kind = if partner { "partner" } else { "direct" };
    let mut order = json!({"out_trade_no": out_trade_no, "amount": {"total": total}});
    if partner {
        order["sub_mchid"] = json!("1900000109");
    }
    let (status, answer) = admin(env, "POST", "/sim/orders", &json!({"kind": kind, "order": order}));
    assert_eq!(status, 201, "{answer}");
    let path = format!("/sim/orders/{kind}/{out_trade_no}/state");
    let (status, answer) = admin(env, "POST", &path, &json!({"trade_state": "SUCCESS"}));
    assert_eq!(status, 200, "{answer}");
}

fn with_sub(partner: bool, mut args: Vec<String>) -> Vec<String> {
    if partner {
        args.extend(["--sub-mchid".to_owned(), "1900000109".to_owned()]);
    }
    args
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

fn run_s(env: &SimEnv, args: &[String]) -> std::process::Output {
    run(env, &args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
}

/// Create, query and watch a refund to SUCCESS, direct and partner: the order becomes
/// `REFUND`, the notification is sent, a repeat answers the same refund, an over-refund is
/// refused (exit 3).
#[test]
fn refunds_in_both_modes_are_created_queried_and_watched_to_success() {
    let env = SimEnv::new(wechatpay_sim::Simulator::builder().notify_time_scale(0.05).start().unwrap());
    for partner in [false, true] {
        let no = if partner { "CLI_REFUND_PARTNER" } else { "CLI_REFUND_DIRECT" };
        let r = format!("R_{no}");
        paid_order(&env, partner, no, 100);
        let create_args = with_sub(
            partner,
            strings(&[
                "refund",
                "create",
                "--out-refund-no",
                &r,
                "--out-trade-no",
                no,
                "--refund",
                "30",
                "--total",
                "100",
                "--reason",
                "商品已售完",
                "--funds-account",
                "AVAILABLE",
                "--notify-url",
                "http://127.0.0.1:9/refunds",
            ]),
        );
        let created = json(&run_s(&env, &create_args));
        assert_eq!((created["out_refund_no"].as_str(), created["out_trade_no"].as_str()), (Some(r.as_str()), Some(no)));
        assert_eq!((created["amount"]["refund"].as_i64(), created["amount"]["total"].as_i64()), (Some(30), Some(100)));
        assert!(matches!(created["status"].as_str(), Some("PROCESSING" | "SUCCESS")), "{created}");
        let again = json(&run_s(&env, &create_args));
        assert_eq!(again["refund_id"], created["refund_id"], "one out_refund_no is one refund");
        let got = json(&run_s(&env, &with_sub(partner, strings(&["refund", "get", "--out-refund-no", &r]))));
        assert_eq!(got["refund_id"], created["refund_id"]);
        let watch = with_sub(
            partner,
            strings(&["refund", "watch", "--out-refund-no", &r, "--interval", "0.1", "--deadline", "20"]),
        );
        let o = run_s(&env, &watch);
        let done = json(&o);
        assert_eq!(done["status"], "SUCCESS", "{done}");
        let order = get(&env, partner, no);
        assert_eq!(order["trade_state"], "REFUND", "{order}");
        // More than what is left to refund: refused by the simulator, exit 3.
        let over = with_sub(
            partner,
            strings(&[
                "refund",
                "create",
                "--out-refund-no",
                &format!("{r}_2"),
                "--out-trade-no",
                no,
                "--refund",
                "80",
                "--total",
                "100",
            ]),
        );
        let err = failed(&run_s(&env, &over), 3);
        assert!(err.contains("INVALID_REQUEST"), "{err}");
    }
    // A partner refund asked for without its sub_mchid is unknown (exit 3).
    let err = failed(&run_s(&env, &strings(&["refund", "get", "--out-refund-no", "R_CLI_REFUND_PARTNER"])), 3);
    assert!(err.contains("RESOURCE_NOT_EXISTS"), "{err}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let notes = env.sim.notifications();
        let refunds: Vec<&Value> =
            notes.as_array().unwrap().iter().filter(|n| n["event_type"] == "REFUND.SUCCESS").collect();
        if refunds.len() >= 2 {
            assert!(refunds.iter().any(|n| n["out_refund_no"] == "R_CLI_REFUND_DIRECT"), "{notes}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no REFUND.SUCCESS notifications: {notes}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A refund kept `PROCESSING` (completion 1 s × 30 away): `watch` ends at its deadline with
/// the last answer and exit 6; moved to `ABNORMAL` it is final (exit 0); `apply-abnormal`
/// with the bank account and name from files moves it back to `PROCESSING`; `SUCCESS` then.
#[test]
fn an_abnormal_refund_is_applied_for_with_secrets_from_files_in_both_modes() {
    let env = SimEnv::new(wechatpay_sim::Simulator::builder().notify_time_scale(30.0).start().unwrap());
    let dir = std::env::temp_dir().join(format!("wechatpay-cli-abnormal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (account, name) = (dir.join("account"), dir.join("name"));
    std::fs::write(&account, "6214830000000000001\n").unwrap();
    std::fs::write(&name, "张三\n").unwrap();
    for (partner, kind) in [(false, "USER_BANK_CARD"), (true, "USER_BANK_CARD"), (false, "MERCHANT_BANK_CARD")] {
        let no = format!("CLI_AB_{}_{}", if partner { "P" } else { "D" }, &kind[..4]);
        let r = format!("R_{no}");
        paid_order(&env, partner, &no, 100);
        let create = with_sub(
            partner,
            strings(&[
                "refund",
                "create",
                "--out-refund-no",
                &r,
                "--transaction-id",
                "",
                "--refund",
                "100",
                "--total",
                "100",
            ]),
        );
        // By transaction id: the one the paid order was given.
        let transaction_id = get(&env, partner, &no)["transaction_id"].as_str().unwrap().to_owned();
        let create: Vec<String> =
            create.into_iter().map(|a| if a.is_empty() { transaction_id.clone() } else { a }).collect();
        let created = json(&run_s(&env, &create));
        assert_eq!(created["status"], "PROCESSING", "{created}");
        let watch = with_sub(
            partner,
            strings(&["refund", "watch", "--out-refund-no", &r, "--interval", "0.1", "--deadline", "0.5"]),
        );
        let o = run_s(&env, &watch);
        assert_eq!(o.status.code(), Some(6), "{}", String::from_utf8_lossy(&o.stderr));
        let last: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(last["status"], "PROCESSING");
        assert!(String::from_utf8_lossy(&o.stderr).contains("still pending at the deadline"));
        let (status, answer) = admin(&env, "POST", &format!("/sim/refunds/{r}/state"), &json!({"status": "ABNORMAL"}));
        assert_eq!(status, 200, "{answer}");
        let o = run_s(&env, &watch);
        assert_eq!(json(&o)["status"], "ABNORMAL", "final: exit 0");
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(stderr.contains("ABNORMAL"), "{stderr}");
        let mut apply = strings(&[
            "refund",
            "apply-abnormal",
            "--refund-id",
            created["refund_id"].as_str().unwrap(),
            "--out-refund-no",
            &r,
            "--type",
            kind,
        ]);
        if kind == "USER_BANK_CARD" {
            apply.extend(strings(&[
                "--bank-type",
                "ICBC_DEBIT",
                "--bank-account-file",
                account.to_str().unwrap(),
                "--real-name-file",
                name.to_str().unwrap(),
            ]));
        }
        let o = run_s(&env, &with_sub(partner, apply));
        let output = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(!output.contains("6214830000000000001") && !output.contains("张三"), "{output}");
        assert_eq!(json(&o)["status"], "PROCESSING");
        let (status, answer) = admin(&env, "POST", &format!("/sim/refunds/{r}/state"), &json!({"status": "SUCCESS"}));
        assert_eq!(status, 200, "{answer}");
        let got = json(&run_s(&env, &with_sub(partner, strings(&["refund", "get", "--out-refund-no", &r]))));
        assert_eq!(got["status"], "SUCCESS");
        let (status, stored) = admin(&env, "GET", &format!("/sim/refunds/{r}"), &Value::Null);
        assert_eq!((status, stored["status"].as_str()), (200, Some("SUCCESS")), "{stored}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The whole loop through the binary, one `notify_url` for both kinds: `notification
/// listen` prints the payment notification of an order paid by the simulated WeChat client,
/// then the refund notification of its refund (`refund_status`), each verified.
#[test]
fn notification_listen_prints_the_payment_and_then_the_refund() {
    use std::io::BufRead as _;
    let env = SimEnv::new(wechatpay_sim::Simulator::builder().notify_time_scale(0.05).start().unwrap());
    /// Kills the listener however the test ends.
    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut listen = Child(
        env.command(&[])
            .args(["notification", "listen", "--addr", "127.0.0.1:0", "--path", "/notify"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = listen.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let next = || rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let first = next();
    let url = format!("{}/notify", first.strip_prefix("listening on ").unwrap_or_else(|| panic!("{first}")));
    let out = create(
        &env,
        false,
        "jsapi",
        "CLI_LOOP_0001",
        &[("--openid", OPENID), ("--total", "300"), ("--notify-url", &url)],
    );
    let (status, answer) = request_payment(&env, &out["invoke"], None);
    assert_eq!(status, 200, "{answer}");
    let paid: Value = serde_json::from_str(&next()).unwrap();
    assert_eq!(paid["event_type"], "TRANSACTION.SUCCESS", "{paid}");
    assert_eq!(
        (paid["resource"]["out_trade_no"].as_str(), paid["resource"]["trade_state"].as_str()),
        (Some("CLI_LOOP_0001"), Some("SUCCESS"))
    );
    let refund = [
        "refund",
        "create",
        "--out-refund-no",
        "R_CLI_LOOP_0001",
        "--out-trade-no",
        "CLI_LOOP_0001",
        "--refund",
        "300",
        "--total",
        "300",
        "--notify-url",
        &url,
    ];
    assert_eq!(json(&run(&env, &refund, &[]))["status"], "PROCESSING");
    let refunded: Value = serde_json::from_str(&next()).unwrap();
    assert_eq!(refunded["event_type"], "REFUND.SUCCESS", "{refunded}");
    let r = &refunded["resource"];
    assert_eq!(
        (r["out_refund_no"].as_str(), r["refund_status"].as_str()),
        (Some("R_CLI_LOOP_0001"), Some("SUCCESS")),
        "{r}"
    );
    assert_eq!(r["amount"]["refund"], 300, "{r}");
}
