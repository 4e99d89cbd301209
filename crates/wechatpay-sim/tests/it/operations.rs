//! Every operation's success path, over real loopback HTTP, verified and parsed by the core.

use crate::common;

use std::io::Write;
use std::time::SystemTime;

use common::{call, config, connect, encode, read_response, signed};
use wechatpay_core::api::{
    QueryOrderByOutTradeNo, QueryOrderByTransactionId, QueryParkingOrder, QueryPartnerOrderByOutTradeNo,
    QueryPartnerOrderByTransactionId,
};
use wechatpay_core::model::{ParkingTradeState, TradeState, TradeType, UserRepaid};
use wechatpay_core::{OutTradeNo, SubMchId, TransactionId};
use wechatpay_sim::{OrderKind, Route, SigningKeyChoice, Simulator};

fn no(s: &str) -> OutTradeNo {
    OutTradeNo::new(s).expect("valid out_trade_no")
}

#[test]
fn direct_orders_by_out_trade_no_and_id() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    let order =
        call(&sim, &config, &QueryOrderByOutTradeNo { out_trade_no: no("1217752501201407033233368018") }).unwrap();
    assert_eq!(order.trade_state, TradeState::Success);
    assert_eq!(order.mchid, "1230000109");
    assert_eq!(order.trade_type, Some(TradeType::Micropay));
    assert_eq!(order.amount.and_then(|a| a.total).map(|f| f.to_yuan_string()).as_deref(), Some("1.00"));
    assert_eq!(order.promotion_detail.map(|p| p.len()), Some(1));

    let by_id =
        QueryOrderByTransactionId { transaction_id: TransactionId::new("4200000985202103031441826014").unwrap() };
    let order = call(&sim, &config, &by_id).unwrap();
    assert_eq!(order.out_trade_no, "1217752501201407033233368018");
    assert_eq!(sim.requests_for(Route::DirectByOutTradeNo), 1);
    assert_eq!(sim.requests_for(Route::DirectById), 1);
    assert_eq!(sim.requests_seen(), 2);
}

#[test]
fn other_trade_states_pipes_and_unknown_fields() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    for (out_trade_no, state) in [
        ("SIM_NOTPAY_0001", TradeState::NotPay),
        ("SIM_CLOSED_0001", TradeState::Closed),
        ("SIM_USERPAYING_0001", TradeState::UserPaying),
        ("SIM_REFUND_0001", TradeState::Refund),
        ("SIM_REVOKED_0001", TradeState::Revoked),
        ("SIM_PAYERROR_0001", TradeState::PayError),
        ("SIM|PIPE*0001", TradeState::Success),
    ] {
        let order = call(&sim, &config, &QueryOrderByOutTradeNo { out_trade_no: no(out_trade_no) }).unwrap();
        assert_eq!((order.out_trade_no.as_str(), &order.trade_state), (out_trade_no, &state));
    }
    let future = call(&sim, &config, &QueryOrderByOutTradeNo { out_trade_no: no("SIM_FUTURE_0001") }).unwrap();
    assert!(matches!(&future.trade_state, TradeState::Unknown(v) if v.as_str() == "PARTIAL_REFUND"));
    assert_eq!(future.extra.value("new_field_from_the_future").unwrap()["value"], 42);
}

#[test]
fn partner_orders_by_out_trade_no_and_id() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    let sub_mchid = SubMchId::new(sim.credentials().sub_mchid()).unwrap();
    let op = QueryPartnerOrderByOutTradeNo {
        sub_mchid: sub_mchid.clone(),
        out_trade_no: no("1217752501201407033233368018"),
    };
    let order = call(&sim, &config, &op).unwrap();
    assert_eq!((order.sp_mchid.as_str(), order.sub_mchid.as_str()), ("1230000109", "1900000109"));
    assert!(order.sp_appid.is_some() && order.sub_appid.is_some());
    let payer = order.payer.unwrap();
    assert!(payer.sp_openid.is_some() && payer.sub_openid.is_some());

    let op = QueryPartnerOrderByTransactionId {
        sub_mchid,
        transaction_id: TransactionId::new(order.transaction_id.unwrap()).unwrap(),
    };
    assert_eq!(call(&sim, &config, &op).unwrap().out_trade_no, "1217752501201407033233368018");
}

#[test]
fn parking_orders_for_a_service_provider_and_a_merchant() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    let sub = Some(SubMchId::new("1900000109").unwrap());
    let order = call(&sim, &config, &QueryParkingOrder { out_trade_no: no("20150806125346"), sub_mchid: sub }).unwrap();
    assert_eq!(order.trade_state, ParkingTradeState::Success);
    assert_eq!(order.parking_info.unwrap().charging_duration, Some(3600));
    assert_eq!(order.user_repaid, Some(UserRepaid::Yes));

    let order =
        call(&sim, &config, &QueryParkingOrder { out_trade_no: no("SIM_PARKING_0001"), sub_mchid: None }).unwrap();
    assert_eq!(order.trade_state, ParkingTradeState::Accepted);
    let order =
        call(&sim, &config, &QueryParkingOrder { out_trade_no: no("SIM_PARKING_BPA_0001"), sub_mchid: None }).unwrap();
    assert_eq!(order.bank_type.as_deref(), Some("BPA"));
    assert_eq!(sim.requests_for(Route::Parking), 3);
}

#[test]
fn both_signing_modes_verify() {
    let op = QueryOrderByOutTradeNo { out_trade_no: no("1217752501201407033233368018") };
    for choice in [SigningKeyChoice::PublicKey, SigningKeyChoice::PlatformCertificate] {
        let sim = Simulator::builder().signing(choice).start().unwrap();
        let config = config(&sim);
        let resp = common::send(sim.addr(), &signed(&config, &op)).unwrap();
        assert_eq!(resp.header("wechatpay-serial"), Some(choice.serial()));
        assert_eq!(resp.header("wechatpay-signature-type"), Some("WECHATPAY2-SHA256-RSA2048"));
        assert_eq!(resp.header("content-type").map(|c| c.starts_with("application/json")), Some(true));
        assert!(resp.header("request-id").is_some());
        wechatpay_core::parse_response(&config, &op, &resp.to_http(), SystemTime::now()).unwrap();

        // The request's Wechatpay-Serial wins over the default.
        for asked in [sim.credentials().wechatpay_public_key_id(), sim.credentials().platform_serial()] {
            let config = sim.config_builder().wechatpay_serial(asked).build().unwrap();
            let resp = common::send(sim.addr(), &signed(&config, &op)).unwrap();
            assert_eq!(resp.header("wechatpay-serial"), Some(asked));
            wechatpay_core::parse_response(&config, &op, &resp.to_http(), SystemTime::now()).unwrap();
        }
    }
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection_with_unique_request_ids() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    let mut stream = connect(sim.addr()).unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let op = QueryOrderByOutTradeNo { out_trade_no: no("SIM_NOTPAY_0001") };
        stream.write_all(&encode(&signed(&config, &op))).unwrap();
        let resp = read_response(&mut stream, usize::MAX - 1).unwrap();
        assert_eq!(resp.status, 200);
        ids.push(resp.header("request-id").unwrap().to_owned());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(sim.requests_seen(), 3);
}

#[test]
fn orders_are_served_byte_for_byte_and_can_be_added_while_running() {
    let sim = Simulator::builder().seeds(false).start().unwrap();
    let config = config(&sim);
    let order = serde_json::json!({"mchid": "1230000109", "out_trade_no": "LIVE_1", "trade_state": "NOTPAY",
        "trade_state_desc": "未支付", "zz_unknown": [1, 2]});
    sim.add_order(OrderKind::Direct, order.clone()).unwrap();
    assert!(sim.add_order(OrderKind::Direct, serde_json::json!([1])).is_err());
    let op = QueryOrderByOutTradeNo { out_trade_no: no("LIVE_1") };
    let resp = common::send(sim.addr(), &signed(&config, &op)).unwrap();
    assert_eq!(resp.body, serde_json::to_vec(&order).unwrap());
    let parsed = wechatpay_core::parse_response(&config, &op, &resp.to_http(), SystemTime::now()).unwrap();
    assert_eq!(parsed.extra.value("zz_unknown").unwrap(), serde_json::json!([1, 2]));
    // Without seeds the seed order is unknown.
    let seed = QueryOrderByOutTradeNo { out_trade_no: no("1217752501201407033233368018") };
    assert!(call(&sim, &config, &seed).is_err());
}

#[test]
fn orders_file_is_merged_with_the_seeds() {
    let dir = std::env::temp_dir().join(format!("wechatpay-sim-orders-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("orders.json");
    std::fs::write(
        &path,
        r#"{"direct":[{"mchid":"1230000109","out_trade_no":"FILE_1","trade_state":"CLOSED","trade_state_desc":"x"}],
            "partner":[{"sp_mchid":"1230000109","sub_mchid":"1900000222","out_trade_no":"FILE_P","trade_state":"SUCCESS","trade_state_desc":"y"}],
            "parking":[{"out_trade_no":"FILE_K","trade_state":"PAY_FAIL"}]}"#,
    )
    .unwrap();
    let sim = Simulator::builder().orders_file(&path).start().unwrap();
    let config = config(&sim);
    let order = call(&sim, &config, &QueryOrderByOutTradeNo { out_trade_no: no("FILE_1") }).unwrap();
    assert_eq!(order.trade_state, TradeState::Closed);
    let p =
        QueryPartnerOrderByOutTradeNo { sub_mchid: SubMchId::new("1900000222").unwrap(), out_trade_no: no("FILE_P") };
    assert_eq!(call(&sim, &config, &p).unwrap().sub_mchid, "1900000222");
    let k = call(&sim, &config, &QueryParkingOrder { out_trade_no: no("FILE_K"), sub_mchid: None }).unwrap();
    assert_eq!(k.trade_state, ParkingTradeState::PayFail);
    // Seeds are still there.
    assert!(call(&sim, &config, &QueryOrderByOutTradeNo { out_trade_no: no("SIM_NOTPAY_0001") }).is_ok());

    std::fs::write(&path, r#"{"direct":"nope"}"#).unwrap();
    let err = Simulator::builder().orders_file(&path).start().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(Simulator::builder().orders_file(dir.join("missing.json")).start().is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stop_ends_the_listener() {
    let sim = Simulator::start().unwrap();
    let addr = sim.addr();
    let _idle = connect(addr).unwrap();
    sim.stop();
    // Nothing accepts any more: either refused or closed without an answer.
    let answered = common::send_raw(addr, b"GET / HTTP/1.1\r\n\r\n");
    assert!(answered.is_err());
}
