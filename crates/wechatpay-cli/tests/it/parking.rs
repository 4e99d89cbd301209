//! `wechatpay parking service find`, `parking entrance create` and `parking-order create`
//! run as a user would against the simulator: a car's whole visit as a merchant and as a
//! service provider (a BLOCKED entrance exits 0 with one stderr line; the deduction is
//! followed by `parking-order watch`), and bad input exiting 2 before anything is sent.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Output;

use serde_json::{Value, json};
use wechatpay_sim::{Route, Simulator};

use crate::common::SimEnv;

const APPID: &str = "wxcbda96de0b165486";
const OPENID: &str = "oUpF8uMuAJOM2pxb1Q";

fn run(env: &SimEnv, args: &[&str]) -> Output {
    env.command(&[]).env("WECHATPAY_APPID", APPID).args(args).output().unwrap()
}

fn ok(o: &Output) -> Value {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    serde_json::from_slice(&o.stdout).unwrap()
}

fn code(o: &Output) -> (Option<i32>, String) {
    assert!(o.stdout.is_empty() || o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn admin(sim: &Simulator, method: &str, path: &str, body: &Value) -> u16 {
    let body = body.to_string();
    let mut stream = TcpStream::connect(sim.addr()).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        sim.addr(),
        sim.admin_token(),
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split(' ').nth(1).unwrap().parse().unwrap()
}

/// Unix second `unix` as RFC 3339 in Beijing time (the core's one formatter).
fn beijing(unix: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    wechatpay_core::model::Rfc3339::beijing(time).as_str().to_owned()
}

/// The `parking-order create` arguments for an entrance.
fn deduction_args(no: &str, parking_id: &str, plate: &str, start: &str, end: &str) -> Vec<String> {
    [
        "parking-order",
        "create",
        "--out-trade-no",
        no,
        "--parking-id",
        parking_id,
        "--description",
        "停车场扣费",
        "--total",
        "1500",
        "--plate-number",
        plate,
        "--plate-color",
        "BLUE",
        "--start-time",
        start,
        "--end-time",
        end,
        "--parking-name",
        "欢乐海岸停车场",
        "--charging-duration",
        "2700",
        "--device-id",
        "gate-1",
        "--notify-url",
        "http://127.0.0.1:9/notify",
        "--attach",
        "深圳分店",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn visit(env: &SimEnv, sub: Option<&str>, tag: &str) {
    let sim = &env.sim;
    let plate = format!("粤B{tag}8888");
    let now = wechatpay_core::unix_now();
    let (start, end) = (beijing(now - 2700), beijing(now));
    let sub_args: Vec<&str> = sub.map(|s| vec!["--sub-mchid", s]).unwrap_or_default();
    let with_sub =
        |args: Vec<&str>| -> Vec<String> { args.iter().chain(sub_args.iter()).map(|s| (*s).to_owned()).collect() };

    // Find: never opened, then paused.
    let find = with_sub(vec![
        "parking",
        "service",
        "find",
        "--plate-number",
        &plate,
        "--plate-color",
        "BLUE",
        "--openid",
        OPENID,
    ]);
    let found = ok(&run(env, &strs(&find)));
    assert_eq!(found["service_state"], "OUT_SERVICE");
    assert!(found.get("service_open_time").is_none());
    let body = json!({"plate_number": plate, "plate_color": "BLUE", "openid": OPENID, "service_state": "PAUSE"});
    assert_eq!(admin(sim, "POST", "/sim/parking/plates", &body), 200);
    assert_eq!(ok(&run(env, &strs(&find)))["service_state"], "PAUSE");

    // Entrance while paused: BLOCKED, exit 0, one stderr line.
    let enter = with_sub(vec![
        "parking",
        "entrance",
        "create",
        "--out-parking-no",
        &format!("IN{tag}"),
        "--plate-number",
        &plate,
        "--plate-color",
        "BLUE",
        "--start-time",
        &start,
        "--parking-name",
        "欢乐海岸停车场",
        "--free-duration",
        "0",
        "--notify-url",
        "http://127.0.0.1:9/notify",
    ]);
    let o = run(env, &strs(&enter));
    let entrance = ok(&o);
    assert_eq!((entrance["state"].as_str(), entrance["block_reason"].as_str()), (Some("BLOCKED"), Some("PAUSE")));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot be charged through WeChat Pay while it stays blocked"), "{err}");
    let id = entrance["id"].as_str().unwrap().to_owned();
    assert_eq!(admin(sim, "POST", &format!("/sim/parking/entrances/{id}/state"), &json!({"state": "NORMAL"})), 200);

    // The deduction: ACCEPTED, then paid, followed by watch.
    let no = format!("PARK{tag}01");
    let mut args = deduction_args(&no, &id, &plate, &start, &end);
    args.extend(sub_args.iter().map(|s| (*s).to_owned()));
    let order = ok(&run(env, &strs(&args)));
    assert_eq!((order["trade_state"].as_str(), order["out_trade_no"].as_str()), (Some("ACCEPTED"), Some(no.as_str())));
    assert_eq!(order["parking_info"]["parking_id"], id.as_str());
    // A retry with the same number and body: the same order.
    assert_eq!(ok(&run(env, &strs(&args)))["out_trade_no"], no.as_str());
    assert_eq!(admin(sim, "POST", &format!("/sim/orders/parking/{no}/state"), &json!({"trade_state": "SUCCESS"})), 200);
    let watch = with_sub(vec!["parking-order", "watch", "--out-trade-no", &no, "--interval", "0.1", "--deadline", "5"]);
    assert_eq!(ok(&run(env, &strs(&watch)))["trade_state"], "SUCCESS");
    // The same number with another body: 403, exit 3.
    let mut other = deduction_args(&no, &id, &plate, &start, &end);
    other[9] = "1501".to_owned();
    other.extend(sub_args.iter().map(|s| (*s).to_owned()));
    let (status, err) = code(&run(env, &strs(&other)));
    assert_eq!(status, Some(3), "{err}");
    assert!(err.contains("OUT_TRADE_NO_USED"), "{err}");
}

#[test]
fn a_cars_visit_through_the_command_in_both_modes() {
    let env = SimEnv::new(Simulator::start().unwrap());
    visit(&env, None, "M");
    visit(&env, Some(env.sim.credentials().sub_mchid()), "P");
}

#[test]
fn bad_parking_input_exits_2_before_anything_is_sent() {
    let env = SimEnv::new(Simulator::start().unwrap());
    let now = wechatpay_core::unix_now();
    let (start, end, future) = (beijing(now - 60), beijing(now), beijing(now + 3600));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (deduction_args("A1", "5K8264ILTKCH16CQ250", "粤B1", &start, &future), "end_time"),
        (deduction_args("A1", "5K8264ILTKCH16CQ250", "粤B1", &end, &start), "end_time"),
        (deduction_args("A|1", "5K8264ILTKCH16CQ250", "粤B1", &start, &end), "out_trade_no"),
        (deduction_args("A1", "IN|1", "粤B1", &start, &end), "parking-id"),
        (
            {
                let mut a = deduction_args("A1", "5K8264ILTKCH16CQ250", "粤B1", &start, &end);
                a[20] = "--charging-duration=-1".to_owned();
                a.remove(21);
                a
            },
            "charging",
        ),
        (
            {
                let mut a = deduction_args("A1", "5K8264ILTKCH16CQ250", "粤B1", &start, &end);
                a[13] = "PINK".to_owned();
                a
            },
            "plate-color",
        ),
        (
            {
                let mut a = deduction_args("A1", "5K8264ILTKCH16CQ250", "粤B1", &start, &end);
                a.extend(["--sub-appid".to_owned(), "wxd678efh567hg6999".to_owned()]);
                a
            },
            "sub-mchid",
        ),
    ];
    for (args, named) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, err) = code(&run(&env, &args));
        assert_eq!(status, Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?}: {err}");
    }
    let entrance = [
        "parking",
        "entrance",
        "create",
        "--out-parking-no",
        "IN1",
        "--plate-number",
        "粤B1",
        "--plate-color",
        "BLUE",
        "--start-time",
        &start,
        "--parking-name",
        "P",
        "--free-duration=-1",
        "--notify-url",
        "http://127.0.0.1:9/n",
    ];
    let (status, err) = code(&run(&env, &entrance));
    assert_eq!(status, Some(2), "{err}");
    assert!(err.contains("free_duration"), "{err}");
    // A negative number written as a user types it (`--flag -1`, no `=`) gets the field and
    // its rule too, not clap's "unexpected argument '-1'".
    let mut spaced: Vec<&str> = entrance.iter().copied().filter(|a| *a != "--free-duration=-1").collect();
    spaced.extend(["--free-duration", "-1"]);
    let (status, err) = code(&run(&env, &spaced));
    assert_eq!(status, Some(2), "{err}");
    assert!(err.contains("free_duration") && err.contains("not negative"), "{err}");
    for (flag, named) in [("--total", "amount.total"), ("--charging-duration", "charging_duration")] {
        let mut a = deduction_args("A1", "5K8264ILTKCH16CQ250", "粤B1", &start, &end);
        let at = a.iter().position(|x| x == flag).unwrap();
        a[at + 1] = "-1".to_owned();
        let (status, err) = code(&run(&env, &strs(&a)));
        assert_eq!(status, Some(2), "{flag}: {err}");
        assert!(err.contains(named) && err.contains("rule"), "{flag}: {err}");
    }
    // No app id at all (the simulator's env names one: take it away).
    let find = ["parking", "service", "find", "--plate-number", "粤B1", "--plate-color", "BLUE", "--openid", OPENID];
    let o = env.command(&[]).env_remove("WECHATPAY_APPID").args(find).output().unwrap();
    let (status, err) = code(&o);
    assert_eq!(status, Some(2), "{err}");
    assert!(err.contains("WECHATPAY_APPID") && err.contains("--appid"), "{err}");
    assert_eq!(env.sim.requests_for(Route::ParkingDeduct) + env.sim.requests_for(Route::ParkingEntrance), 0);
    assert_eq!(env.sim.requests_for(Route::ParkingFind), 0);
}
