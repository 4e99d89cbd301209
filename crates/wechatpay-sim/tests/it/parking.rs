//! The parking flow against the simulator over real loopback HTTP (PROTOCOL.md §16): plate
//! services set by the admin API and found with the percent-encoded plate (the raw plate's
//! signature refused `401 SIGN_ERROR`), entrances (`NORMAL`/`BLOCKED`, superseded, their
//! state changes notified), deductions (every check, idempotency) and the order's life
//! (`ACCEPTED` → `SUCCESS`/`PAY_FAIL`, an advanced order paid back), in both key modes.

#![allow(clippy::unwrap_used)] // test helpers: a failure is a test failure

use crate::common;

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde_json::{Value, json};
use wechatpay_core::api::{
    CreateEntrance, CreateParkingOrder, Deduction, Entrance, FindParkingService, ParkingSession, PlateNumber,
    QueryParkingOrder,
};
use wechatpay_core::crypto::Signer as _;
use wechatpay_core::model::{
    BlockReason, EntranceState, Fen, ParkingEntrance, ParkingTradeState, PlateColor, Rfc3339, ServiceState,
};
use wechatpay_core::notify::{Kind, Receiver, Resource};
use wechatpay_core::{
    ApiV3Key, AppId, Config, KeyStore, MchId, NotifyUrl, OpenId, OutParkingNo, OutTradeNo, PrivateKey, SubMchId,
};
use wechatpay_sim::{NotifySink, Simulator};

const APPID: &str = "wxcbda96de0b165486";
const OPENID: &str = "oUpF8uMuAJOM2pxb1Q";

fn admin(sim: &Simulator, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
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

/// The next notification, verified and decrypted as the merchant's receiver would.
fn next(sim: &Simulator, rx: &NotifySink) -> (String, Resource) {
    let request = rx.next(Duration::from_secs(10)).expect("a notification");
    let mut store = KeyStore::new();
    let creds = sim.credentials();
    store.add_public_key(creds.wechatpay_public_key_id(), creds.wechatpay_public_key_pem().as_bytes()).unwrap();
    if !sim.is_public_key_only() {
        store.add_platform_certificates(sim.platform_certificates_pem().as_bytes()).unwrap();
    }
    let receiver = Receiver::new(store, ApiV3Key::new(sim.apiv3_key()).unwrap(), MchId::new(creds.mchid()).unwrap())
        .kind(Kind::Parking);
    let n = receiver.receive_request(&request).unwrap();
    (n.event_type.as_str().to_owned(), n.resource)
}

fn find(sim: &Simulator, config: &Config, plate: &str, sub: Option<&str>) -> wechatpay_core::model::ParkingService {
    let op = FindParkingService::new(
        AppId::new(APPID).unwrap(),
        sub.map(|s| SubMchId::new(s).unwrap()),
        PlateNumber::new(plate).unwrap(),
        PlateColor::Blue,
        OpenId::new(OPENID).unwrap(),
    )
    .unwrap();
    common::call(sim, config, &op).unwrap()
}

fn entrance(no: &str, plate: &str, start: &str, url: &str) -> Entrance {
    Entrance {
        out_parking_no: OutParkingNo::new(no).unwrap(),
        plate_number: PlateNumber::new(plate).unwrap(),
        plate_color: PlateColor::Blue,
        start_time: Rfc3339::parse(start).unwrap(),
        parking_name: "欢乐海岸停车场".into(),
        free_duration: 0,
        notify_url: NotifyUrl::new(url).unwrap(),
    }
}

fn enter(sim: &Simulator, config: &Config, sub: Option<&str>, e: Entrance) -> ParkingEntrance {
    let op = match sub {
        Some(sub) => CreateEntrance::partner(SubMchId::new(sub).unwrap(), e).unwrap(),
        None => CreateEntrance::new(e).unwrap(),
    };
    common::call(sim, config, &op).unwrap()
}

/// Unix second `unix` as RFC 3339 in Beijing time (the core's one formatter).
fn beijing(unix: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    wechatpay_core::model::Rfc3339::beijing(time).as_str().to_owned()
}

fn deduction(no: &str, e: &ParkingEntrance, end: &str, url: &str) -> Deduction {
    Deduction {
        appid: AppId::new(APPID).unwrap(),
        out_trade_no: OutTradeNo::new(no).unwrap(),
        description: "停车场扣费".into(),
        total: Fen(888),
        notify_url: NotifyUrl::new(url).unwrap(),
        parking_info: ParkingSession {
            parking_id: e.parking_id().unwrap(),
            plate_number: PlateNumber::new(e.plate_number.clone().unwrap()).unwrap(),
            plate_color: e.plate_color.clone().unwrap(),
            start_time: e.start_time.clone().unwrap(),
            end_time: Rfc3339::parse(end).unwrap(),
            parking_name: "欢乐海岸停车场".into(),
            charging_duration: 3600,
            device_id: "gate-1".into(),
        },
        attach: Some("深圳分店".into()),
        goods_tag: None,
        profit_sharing: None,
    }
}

fn deduct(
    sim: &Simulator,
    config: &Config,
    sub: Option<&str>,
    d: Deduction,
) -> Result<wechatpay_core::model::ParkingTransaction, wechatpay_core::Error> {
    let op = match sub {
        Some(sub) => CreateParkingOrder::partner(SubMchId::new(sub).unwrap(), None, d, SystemTime::now()).unwrap(),
        None => CreateParkingOrder::new(d, SystemTime::now()).unwrap(),
    };
    common::call(sim, config, &op)
}

/// A whole visit, in one mode: find, entrance (blocked, then unblocked, notified), deduction,
/// `ACCEPTED` → `SUCCESS` notified, and a second car's advanced order paid back.
fn a_visit(sim: &Simulator, sub: Option<&str>, tag: &str) {
    let config = common::config(sim);
    let rx = NotifySink::start().unwrap();
    let url = rx.url().to_owned();
    let plate = format!("粤B{tag}8888");
    let now = wechatpay_core::unix_now();
    let start = beijing(now - 3600);

    // Never opened, then opened but paused.
    let never = find(sim, &config, &plate, sub);
    assert_eq!((never.service_state, never.service_open_time), (ServiceState::OutService, None));
    let body = json!({"plate_number": plate, "plate_color": "BLUE", "openid": OPENID, "service_state": "PAUSE"});
    let (status, set) = admin(sim, "POST", "/sim/parking/plates", Some(&body));
    assert_eq!(status, 200, "{set}");
    let paused = find(sim, &config, &plate, sub);
    assert_eq!(paused.service_state, ServiceState::Pause);
    assert!(paused.service_open_time.is_some());

    // A paused plate's entrance is BLOCKED (a 200), then opened: NORMAL, notified.
    let blocked = enter(sim, &config, sub, entrance(&format!("IN{tag}1"), &plate, &start, &url));
    assert_eq!(
        (blocked.state.clone(), blocked.block_reason.clone()),
        (EntranceState::Blocked, Some(BlockReason::Pause))
    );
    assert!(blocked.id.len() >= 16 && blocked.id.bytes().all(|b| b.is_ascii_alphanumeric()), "{}", blocked.id);
    assert_eq!(blocked.sub_mchid.as_deref(), sub);
    let path = format!("/sim/parking/entrances/{}", blocked.id);
    let (status, _) =
        admin(sim, "POST", &format!("{path}/state"), Some(&json!({"state": "BLOCKED", "block_reason": "OVERDUE"})));
    assert_eq!(status, 200);
    let (event, resource) = next(sim, &rx);
    assert_eq!(event, "VEHICLE.ENTRANCE_STATE_CHANGE");
    let Resource::EntranceStateChange(change) = resource else { panic!("{resource:?}") };
    assert_eq!(change.parking_id.as_deref(), Some(blocked.id.as_str()));
    assert_eq!(change.blocked_state_description.as_ref().map(|b| b.as_str()), Some("OVERDUE"));
    let (status, _) = admin(sim, "POST", &format!("{path}/state"), Some(&json!({"state": "NORMAL"})));
    assert_eq!(status, 200);
    let (_, resource) = next(sim, &rx);
    let Resource::EntranceStateChange(change) = resource else { panic!("{resource:?}") };
    assert_eq!(change.parking_state.as_str(), "NORMAL");
    assert!(change.blocked_state_description.is_none());
    assert_eq!(change.out_parking_no.as_deref(), Some(format!("IN{tag}1").as_str()));
    let (_, seen) = admin(sim, "GET", &path, None);
    assert_eq!((seen["state"].as_str(), seen.get("block_reason")), (Some("NORMAL"), None));

    // The deduction: ACCEPTED, answered again for an identical retry, refused for another body.
    let no = format!("PK{tag}0001");
    let d = deduction(&no, &blocked, &beijing(now), &url);
    let order = deduct(sim, &config, sub, d.clone()).unwrap();
    assert_eq!(order.trade_state, ParkingTradeState::Accepted);
    assert_eq!(order.parking_info.as_ref().unwrap().parking_id.as_deref(), Some(blocked.id.as_str()));
    assert_eq!(order.sub_mchid.as_deref(), sub);
    assert_eq!(deduct(sim, &config, sub, d.clone()).unwrap(), order);
    let other = Deduction { total: Fen(889), ..d.clone() };
    let e = common::api_error(deduct(sim, &config, sub, other));
    assert_eq!((e.status.as_u16(), e.code.as_str()), (403, "OUT_TRADE_NO_USED"));
    // The entrance is used now.
    let again = Deduction { out_trade_no: OutTradeNo::new(format!("PK{tag}0002")).unwrap(), ..d };
    let e = common::api_error(deduct(sim, &config, sub, again));
    assert_eq!(e.code.as_str(), "INVALID_REQUEST");

    // The query answers it; the admin state call pays it, notified.
    let query = QueryParkingOrder {
        out_trade_no: OutTradeNo::new(&no).unwrap(),
        sub_mchid: sub.map(|s| SubMchId::new(s).unwrap()),
    };
    assert_eq!(common::call(sim, &config, &query).unwrap().trade_state, ParkingTradeState::Accepted);
    let (status, _) =
        admin(sim, "POST", &format!("/sim/orders/parking/{no}/state"), Some(&json!({"trade_state": "SUCCESS"})));
    assert_eq!(status, 200);
    let (event, resource) = next(sim, &rx);
    assert_eq!(event, "TRANSACTION.SUCCESS");
    let Resource::ParkingTransaction(paid) = resource else { panic!("{resource:?}") };
    assert_eq!((paid.out_trade_no.as_str(), paid.trade_state.clone()), (no.as_str(), ParkingTradeState::Success));
    assert_eq!(common::call(sim, &config, &query).unwrap().trade_state, ParkingTradeState::Success);

    // A second car: advanced by WeChat Pay, then paid back by the user.
    let plate2 = format!("京A{tag}1234");
    let body = json!({"plate_number": plate2, "plate_color": "BLUE", "openid": OPENID, "service_state": "NORMAL"});
    assert_eq!(admin(sim, "POST", "/sim/parking/plates", Some(&body)).0, 200);
    let e2 = enter(sim, &config, sub, entrance(&format!("IN{tag}2"), &plate2, &start, &url));
    assert_eq!((e2.state.clone(), e2.block_reason.clone()), (EntranceState::Normal, None));
    let no2 = format!("PK{tag}0003");
    deduct(sim, &config, sub, deduction(&no2, &e2, &beijing(now), &url)).unwrap();
    let advanced = json!({"trade_state": "SUCCESS", "bank_type": "BPA", "user_repaid": "N"});
    assert_eq!(admin(sim, "POST", &format!("/sim/orders/parking/{no2}/state"), Some(&advanced)).0, 200);
    let (event, _) = next(sim, &rx);
    assert_eq!(event, "TRANSACTION.SUCCESS");
    let (status, repaid) =
        admin(sim, "POST", &format!("/sim/orders/parking/{no2}/state"), Some(&json!({"user_repaid": "Y"})));
    assert_eq!(status, 200, "{repaid}");
    let (event, resource) = next(sim, &rx);
    assert_eq!(event, "TRANSACTION.PAY_BACK");
    let Resource::ParkingTransaction(back) = resource else { panic!("{resource:?}") };
    assert_eq!(back.trade_state, ParkingTradeState::Success, "a pay-back never changes SUCCESS");
    assert_eq!(back.user_repaid.as_ref().map(|u| u.as_str()), Some("Y"));
    assert_eq!(back.bank_type.as_deref(), Some("BPA"));
    // Repaid once: a second repayment changes nothing and notifies nobody.
    let again = json!({"trade_state": "SUCCESS", "user_repaid": "Y"});
    assert_eq!(admin(sim, "POST", &format!("/sim/orders/parking/{no2}/state"), Some(&again)).0, 200);
    // Sent with its state, the repayment of a third (advanced) order notifies PAY_BACK too.
    let plate3 = format!("桂C{tag}7777");
    let body = json!({"plate_number": plate3, "plate_color": "BLUE", "openid": OPENID, "service_state": "NORMAL"});
    assert_eq!(admin(sim, "POST", "/sim/parking/plates", Some(&body)).0, 200);
    let e3 = enter(sim, &config, sub, entrance(&format!("IN{tag}3"), &plate3, &start, &url));
    let no3 = format!("PK{tag}0004");
    deduct(sim, &config, sub, deduction(&no3, &e3, &beijing(now), &url)).unwrap();
    assert_eq!(admin(sim, "POST", &format!("/sim/orders/parking/{no3}/state"), Some(&advanced)).0, 200);
    assert_eq!(next(sim, &rx).0, "TRANSACTION.SUCCESS");
    assert_eq!(admin(sim, "POST", &format!("/sim/orders/parking/{no3}/state"), Some(&again)).0, 200);
    let (event, resource) = next(sim, &rx);
    let Resource::ParkingTransaction(back) = resource else { panic!("{resource:?}") };
    assert_eq!((event.as_str(), back.out_trade_no.as_str()), ("TRANSACTION.PAY_BACK", no3.as_str()));
    // Nothing else was sent: the second repayment of no2 notified nobody.
    assert!(rx.next(Duration::from_millis(300)).is_none());
}

#[test]
fn a_car_visit_in_both_modes_and_both_key_modes() {
    let sim = Simulator::builder().notify_time_scale(0.001).start().unwrap();
    a_visit(&sim, None, "M");
    a_visit(&sim, Some(sim.credentials().sub_mchid()), "P");
    let pk = Simulator::builder().public_key_only(true).notify_time_scale(0.001).start().unwrap();
    a_visit(&pk, Some(pk.credentials().sub_mchid()), "K");
}

#[test]
fn deductions_are_checked_against_their_entrance() {
    let sim = Simulator::builder().start().unwrap();
    let config = common::config(&sim);
    let url = "http://127.0.0.1:9/notify";
    let now = wechatpay_core::unix_now();
    let (start, end) = (beijing(now - 600), beijing(now));
    let sub = Some(sim.credentials().sub_mchid());
    let first = enter(&sim, &config, sub, entrance("OLD1", "粤B11111", &start, url));
    let newer = enter(&sim, &config, sub, entrance("NEW1", "粤B11111", &start, url));
    let code = |r: Result<_, _>| {
        let e = common::api_error(r);
        (e.status.as_u16(), e.code.as_str().to_owned(), e.message.clone())
    };
    // Superseded by the newer entrance for the same plate.
    let (status, c, m) = code(deduct(&sim, &config, sub, deduction("D1", &first, &end, url)));
    assert_eq!((status, c.as_str()), (400, "INVALID_REQUEST"), "{m}");
    // parking_info must repeat the entrance: plate, colour, start_time.
    let mut d = deduction("D2", &newer, &end, url);
    d.parking_info.start_time = Rfc3339::parse(&beijing(now - 601)).unwrap();
    let (_, c, m) = code(deduct(&sim, &config, sub, d));
    assert_eq!(c, "INVALID_REQUEST");
    assert!(m.contains("start_time"), "{m}");
    let mut d = deduction("D3", &newer, &end, url);
    d.parking_info.plate_color = PlateColor::Green;
    let (_, _, m) = code(deduct(&sim, &config, sub, d));
    assert!(m.contains("plate_color"), "{m}");
    // Another sub-merchant (bound, but not the entrance's).
    sim.bind_sub_mchid("1900000999");
    let (_, c, m) = code(deduct(&sim, &config, Some("1900000999"), deduction("D4", &newer, &end, url)));
    assert_eq!(c, "INVALID_REQUEST");
    assert!(m.contains("sub_mchid"), "{m}");
    // Not a WeChat entrance id.
    let mut d = deduction("D5", &newer, &end, url);
    d.parking_info.parking_id = wechatpay_core::ParkingId::new("NEW1").unwrap();
    let (_, c, m) = code(deduct(&sim, &config, sub, d));
    assert!(c == "INVALID_REQUEST" && m.contains("停车入场id不存在"), "{m}");
    // Times the client would refuse, sent raw: the server's PARAM_ERROR.
    let body = |end: &str| {
        json!({"appid": APPID, "sub_mchid": sub, "description": "x", "out_trade_no": "D6", "trade_scene": "PARKING",
            "notify_url": url, "amount": {"total": 1}, "parking_info": {"parking_id": newer.id, "plate_number": "粤B11111",
            "plate_color": "BLUE", "start_time": start, "end_time": end, "parking_name": "P", "charging_duration": 0,
            "device_id": "d"}})
        .to_string()
    };
    for end in [start.clone(), beijing(now + 3600)] {
        let op =
            wechatpay_core::api::Json::new(http::Method::POST, "/v3/vehicle/transactions/parking", Some(&body(&end)))
                .unwrap();
        let e = common::api_error(common::call(&sim, &config, &op));
        assert_eq!((e.status.as_u16(), e.code.as_str()), (400, "PARAM_ERROR"), "{end}");
    }
    // The newest, unused, repeated exactly: accepted.
    let ok = deduct(&sim, &config, sub, deduction("D7", &newer, &end, url)).unwrap();
    assert_eq!(ok.trade_state, ParkingTradeState::Accepted);
    // An entrance repeated with the same number and body is the same entrance.
    let repeat = enter(&sim, &config, sub, entrance("NEW1", "粤B11111", &start, url));
    assert_eq!(repeat.id, newer.id);
    let (_, seen) = admin(&sim, "GET", &format!("/sim/parking/entrances/{}", newer.id), None);
    assert_eq!((seen["used"].as_bool(), seen["superseded"].as_bool()), (Some(true), Some(false)));
    let (_, old) = admin(&sim, "GET", &format!("/sim/parking/entrances/{}", first.id), None);
    assert_eq!(old["superseded"], true);
    assert_eq!(admin(&sim, "GET", "/sim/parking/entrances/NOPE", None).0, 404);
    let bad = json!({"plate_number": "粤B1", "plate_color": "PINK", "openid": OPENID, "service_state": "NORMAL"});
    let (status, e) = admin(&sim, "POST", "/sim/parking/plates", Some(&bad));
    assert!(status == 400 && e["message"].as_str().unwrap().contains("plate_color"), "{e}");
}

/// The Python package's way: the raw plate signed, the encoded one sent. The simulator
/// verifies what it receives, as WeChat Pay does: `401 SIGN_ERROR`.
#[test]
fn a_find_signed_over_the_raw_plate_is_refused() {
    let sim = Simulator::builder().start().unwrap();
    let config = common::config(&sim);
    let op = FindParkingService::new(
        AppId::new(APPID).unwrap(),
        None,
        PlateNumber::new("粤B888888").unwrap(),
        PlateColor::Blue,
        OpenId::new(OPENID).unwrap(),
    )
    .unwrap();
    let mut req = common::signed(&config, &op);
    let auth = req.headers()["authorization"].to_str().unwrap().to_owned();
    let field = |name: &str| auth.split(&format!("{name}=\"")).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let raw_target = "/v3/vehicle/parking/services/find?appid=wxcbda96de0b165486&openid=oUpF8uMuAJOM2pxb1Q&plate_color=BLUE&plate_number=粤B888888";
    let message = format!("GET\n{raw_target}\n{}\n{}\n\n", field("timestamp"), field("nonce_str"));
    let key = PrivateKey::from_pem(sim.credentials().merchant_private_key_pem().as_bytes()).unwrap();
    let raw_sig = base64::engine::general_purpose::STANDARD.encode(key.sign(message.as_bytes()).unwrap());
    let forged = auth.replace(&field("signature"), &raw_sig);
    req.headers_mut().insert("authorization", forged.parse().unwrap());
    let e = common::api_error(common::parse(&config, sim.addr(), &op, &req));
    assert_eq!((e.status.as_u16(), e.code.as_str()), (401, "SIGN_ERROR"));
    // The same request signed over the encoded target is answered.
    assert_eq!(common::call(&sim, &config, &op).unwrap().service_state, ServiceState::OutService);
}
