//! A car's whole visit to a car park (PROTOCOL.md §16) through both adapters, as a merchant
//! and as a service provider, against the simulator over loopback HTTP: the plate's service
//! found, the entrance (blocked while the service is paused, unblocked when it opens, both
//! notified), the deduction (`ACCEPTED`, watched until `SUCCESS`, notified), and a second
//! car's order advanced by WeChat Pay and paid back (`TRANSACTION.PAY_BACK`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use wechatpay_core::api::{
    CreateEntrance, CreateParkingOrder, Deduction, Entrance, FindParkingService, ParkingSession, PlateNumber,
};
use wechatpay_core::model::{
    BlockReason, EntranceState, Fen, ParkingEntrance, ParkingTradeState, PlateColor, Rfc3339, ServiceState,
};
use wechatpay_core::notify::{Kind, Receiver, Resource};
use wechatpay_core::watch::{WatchEnd, WatchPolicy};
use wechatpay_core::{ApiV3Key, AppId, KeyStore, MchId, NotifyUrl, OpenId, OutParkingNo, OutTradeNo, SubMchId};
use wechatpay_sim::NotifySink;
use wechatpay_tests::*;

const APPID: &str = "wxcbda96de0b165486";
const OPENID: &str = "oUpF8uMuAJOM2pxb1Q";

/// An admin call over raw HTTP (as any language would make it): status and JSON answer.
fn admin(sim: &Simulator, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let mut stream = TcpStream::connect(sim.addr()).expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        sim.addr(),
        sim.admin_token(),
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
    let json = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

/// The next notification, verified and decrypted by the merchant's receiver.
fn next(sim: &Simulator, rx: &NotifySink) -> (String, Resource) {
    let request = rx.next(Duration::from_secs(10)).expect("a notification");
    let creds = sim.credentials();
    let mut store = KeyStore::new();
    store.add_public_key(creds.wechatpay_public_key_id(), creds.wechatpay_public_key_pem().as_bytes()).expect("key");
    store.add_platform_certificates(sim.platform_certificates_pem().as_bytes()).expect("certificates");
    let receiver =
        Receiver::new(store, ApiV3Key::new(sim.apiv3_key()).expect("key"), MchId::new(creds.mchid()).expect("mchid"))
            .kind(Kind::Parking);
    let n = receiver.receive_request(&request).expect("a valid notification");
    (n.event_type.as_str().to_owned(), n.resource)
}

/// Unix second `unix` as RFC 3339 in Beijing time (Howard Hinnant's `civil_from_days`).
fn beijing(unix: u64) -> String {
    let t = i64::try_from(unix).expect("a time") + 8 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+08:00", secs / 3600, secs / 60 % 60, secs % 60)
}

fn plate(sim: &Simulator, number: &str, state: &str) {
    let body = json!({"plate_number": number, "plate_color": "BLUE", "openid": OPENID, "service_state": state});
    assert_eq!(admin(sim, "POST", "/sim/parking/plates", &body).0, 200);
}

fn enter(
    client: &TestClient,
    sub: Option<&SubMchId>,
    no: &str,
    number: &str,
    start: &str,
    url: &str,
) -> ParkingEntrance {
    let e = Entrance {
        out_parking_no: OutParkingNo::new(no).expect("no"),
        plate_number: PlateNumber::new(number).expect("plate"),
        plate_color: PlateColor::Blue,
        start_time: Rfc3339::parse(start).expect("time"),
        parking_name: "欢乐海岸停车场".into(),
        free_duration: 900,
        notify_url: NotifyUrl::new(url).expect("url"),
    };
    let op = match sub {
        Some(sub) => CreateEntrance::partner(sub.clone(), e),
        None => CreateEntrance::new(e),
    };
    client.execute(&op.expect("valid")).expect("an entrance")
}

fn deduct(
    client: &TestClient,
    sub: Option<&SubMchId>,
    no: &str,
    e: &ParkingEntrance,
    url: &str,
) -> wechatpay_core::model::ParkingTransaction {
    let d = Deduction {
        appid: AppId::new(APPID).expect("appid"),
        out_trade_no: OutTradeNo::new(no).expect("no"),
        description: "停车场扣费".into(),
        total: Fen(1500),
        notify_url: NotifyUrl::new(url).expect("url"),
        parking_info: ParkingSession {
            parking_id: e.parking_id().expect("id"),
            plate_number: PlateNumber::new(e.plate_number.clone().expect("plate")).expect("plate"),
            plate_color: e.plate_color.clone().expect("colour"),
            start_time: e.start_time.clone().expect("start"),
            end_time: Rfc3339::parse(&beijing(wechatpay_core::unix_now())).expect("end"),
            parking_name: "欢乐海岸停车场".into(),
            charging_duration: 2700,
            device_id: "gate-1".into(),
        },
        attach: None,
        goods_tag: Some("PARK".into()),
        profit_sharing: Some(false),
    };
    let op = match sub {
        Some(sub) => CreateParkingOrder::partner(sub.clone(), None, d, SystemTime::now()),
        None => CreateParkingOrder::new(d, SystemTime::now()),
    };
    let op = op.expect("valid");
    let order = client.execute(&op).expect("a parking order");
    // A retry re-sends the identical body and gets the same order.
    assert_eq!(client.execute(&op).expect("the same order"), order);
    order
}

#[test]
fn a_cars_whole_visit_through_both_adapters_in_both_modes() {
    for adapter in ADAPTERS {
        for partner in [false, true] {
            let sim = Simulator::builder().notify_time_scale(0.001).start().expect("simulator");
            let client = TestClient::with_defaults(adapter, config(&sim));
            let sub = partner.then(|| SubMchId::new(SUB_MCHID).expect("sub"));
            let what = format!("{adapter:?} partner={partner}");
            let rx = NotifySink::start().expect("a sink");
            let url = rx.url().to_owned();
            let now = wechatpay_core::unix_now();
            let start = beijing(now - 2700);

            // Find: not opened, then paused.
            let find = FindParkingService::new(
                AppId::new(APPID).expect("appid"),
                sub.clone(),
                PlateNumber::new("粤B888888").expect("plate"),
                PlateColor::Blue,
                OpenId::new(OPENID).expect("openid"),
            )
            .expect("valid");
            assert_eq!(client.execute(&find).expect("find").service_state, ServiceState::OutService, "{what}");
            plate(&sim, "粤B888888", "PAUSE");
            assert_eq!(client.execute(&find).expect("find").service_state, ServiceState::Pause, "{what}");

            // Entrance while paused: BLOCKED, data not an error; opened while parked: NORMAL.
            let e = enter(&client, sub.as_ref(), "IN-0001", "粤B888888", &start, &url);
            assert_eq!(
                (e.state.clone(), e.block_reason.clone()),
                (EntranceState::Blocked, Some(BlockReason::Pause)),
                "{what}"
            );
            let path = format!("/sim/parking/entrances/{}/state", e.id);
            assert_eq!(admin(&sim, "POST", &path, &json!({"state": "BLOCKED", "block_reason": "OVERDUE"})).0, 200);
            let (event, r) = next(&sim, &rx);
            let Resource::EntranceStateChange(c) = r else { panic!("{what}: {r:?}") };
            assert_eq!(
                (event.as_str(), c.parking_state.as_str()),
                ("VEHICLE.ENTRANCE_STATE_CHANGE", "BLOCKED"),
                "{what}"
            );
            assert_eq!(c.sub_mchid.as_deref(), sub.as_ref().map(SubMchId::as_str), "{what}");
            assert_eq!(admin(&sim, "POST", &path, &json!({"state": "NORMAL"})).0, 200);
            let (_, r) = next(&sim, &rx);
            let Resource::EntranceStateChange(c) = r else { panic!("{what}: {r:?}") };
            assert_eq!(c.parking_state.as_str(), "NORMAL", "{what}");

            // Deduction on exit: ACCEPTED, watched until SUCCESS, notified.
            let order = deduct(&client, sub.as_ref(), "PARK-0001", &e, &url);
            assert_eq!(order.trade_state, ParkingTradeState::Accepted, "{what}");
            sim.pay_after_queries(OrderKind::Parking, "PARK-0001", 1).expect("scheduled");
            let policy = WatchPolicy::default()
                .with_fixed_interval(Duration::from_millis(100))
                .with_deadline(Duration::from_secs(10));
            let (outcome, states) = client.watch(&parking("PARK-0001", partner.then_some(SUB_MCHID)), &policy);
            let outcome = outcome.expect("watched");
            assert_eq!(
                (outcome.end, outcome.order.trade_state.clone()),
                (WatchEnd::Final, ParkingTradeState::Success),
                "{what}"
            );
            assert_eq!(states.first().map(String::as_str), Some("ACCEPTED"), "{what}: {states:?}");
            let (event, r) = next(&sim, &rx);
            let Resource::ParkingTransaction(t) = r else { panic!("{what}: {r:?}") };
            assert_eq!((event.as_str(), t.out_trade_no.as_str()), ("TRANSACTION.SUCCESS", "PARK-0001"), "{what}");

            // A second car: advanced by WeChat Pay (BPA), then paid back by the user.
            plate(&sim, "京A12345", "NORMAL");
            let e2 = enter(&client, sub.as_ref(), "IN-0002", "京A12345", &start, &url);
            assert_eq!(e2.state, EntranceState::Normal, "{what}");
            deduct(&client, sub.as_ref(), "PARK-0002", &e2, &url);
            let advanced = json!({"trade_state": "SUCCESS", "bank_type": "BPA", "user_repaid": "N"});
            assert_eq!(admin(&sim, "POST", "/sim/orders/parking/PARK-0002/state", &advanced).0, 200);
            assert_eq!(next(&sim, &rx).0, "TRANSACTION.SUCCESS", "{what}");
            assert_eq!(admin(&sim, "POST", "/sim/orders/parking/PARK-0002/state", &json!({"user_repaid": "Y"})).0, 200);
            let (event, r) = next(&sim, &rx);
            let Resource::ParkingTransaction(t) = r else { panic!("{what}: {r:?}") };
            assert_eq!(event, "TRANSACTION.PAY_BACK", "{what}");
            assert_eq!(
                (t.trade_state.clone(), t.user_repaid.as_ref().map(|u| u.as_str().to_owned())),
                (ParkingTradeState::Success, Some("Y".into())),
                "{what}"
            );
            let queried = client.execute(&parking("PARK-0002", partner.then_some(SUB_MCHID))).expect("query");
            assert_eq!(queried.bank_type.as_deref(), Some("BPA"), "{what}");
        }
    }
}
