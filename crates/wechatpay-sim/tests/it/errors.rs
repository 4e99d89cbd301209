//! Every error code the simulator serves, judged by the core, and hostile HTTP input.

use crate::common;

use std::io::Write;

use common::{any_direct, api_error, call, config, parse, send, send_raw, signed, signed_raw};
use wechatpay_core::api::{
    QueryOrderByOutTradeNo, QueryOrderByTransactionId, QueryParkingOrder, QueryPartnerOrderByOutTradeNo,
};
use wechatpay_core::model::ErrorCode;
use wechatpay_core::{Host, KeyStore, Nonce, OutTradeNo, PrivateKey, SigningInput, SubMchId, TransactionId, unix_now};
use wechatpay_sim::{Route, Simulator};

fn no(s: &str) -> OutTradeNo {
    OutTradeNo::new(s).expect("valid out_trade_no")
}

#[test]
fn unknown_orders_are_order_not_exist_or_not_found() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    let e = api_error(call(&sim, &config, &QueryOrderByOutTradeNo { out_trade_no: no("NO_SUCH_ORDER") }));
    assert_eq!((e.status.as_u16(), &e.code, e.message.as_str()), (404, &ErrorCode::OrderNotExist, "订单不存在"));
    assert!(e.verified, "error answers are signed");
    assert!(e.request_id.is_some());
    let by_id =
        QueryOrderByTransactionId { transaction_id: TransactionId::new("4200000000000000000000000000").unwrap() };
    assert_eq!(api_error(call(&sim, &config, &by_id)).code, ErrorCode::OrderNotExist);
    let parking = QueryParkingOrder { out_trade_no: no("NO_SUCH_ORDER"), sub_mchid: None };
    let e = api_error(call(&sim, &config, &parking));
    assert_eq!((e.status.as_u16(), &e.code), (404, &ErrorCode::NotFound));
}

#[test]
fn unbound_sub_merchants_are_invalid_requests() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    let sub_mchid = SubMchId::new("1900000999").unwrap();
    let op = QueryPartnerOrderByOutTradeNo {
        sub_mchid: sub_mchid.clone(),
        out_trade_no: no("1217752501201407033233368018"),
    };
    let e = api_error(call(&sim, &config, &op));
    assert_eq!((e.status.as_u16(), &e.code), (400, &ErrorCode::InvalidRequest));
    assert!(e.message.contains("绑定"));
    let e = api_error(call(&sim, &config, &QueryParkingOrder { out_trade_no: no("X1"), sub_mchid: Some(sub_mchid) }));
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    // Binding it makes the same call a plain "not found".
    sim.bind_sub_mchid("1900000999");
    assert_eq!(api_error(call(&sim, &config, &op)).code, ErrorCode::OrderNotExist);
}

#[test]
fn bad_parameters_are_param_errors_naming_field_and_location() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    let cases: [(&str, &str, &str); 6] = [
        ("/v3/pay/partner/transactions/out-trade-no/X1?sp_mchid=1230000109", "sub_mchid", "query"),
        ("/v3/pay/partner/transactions/out-trade-no/X1?sub_mchid=1900000109", "sp_mchid", "query"),
        ("/v3/pay/transactions/out-trade-no/X1", "mchid", "query"),
        ("/v3/pay/transactions/out-trade-no/X1?mchid=1230000110", "mchid", "query"),
        ("/v3/pay/transactions/id/42_0?mchid=1230000109", "transaction_id", "path"),
        ("/v3/vehicle/transactions/out-trade-no/a%20b", "out_trade_no", "path"),
    ];
    for (target, field, location) in cases {
        let e = api_error(parse(&config, sim.addr(), &any_direct(), &signed_raw(&config, target)));
        assert_eq!((e.status.as_u16(), &e.code), (400, &ErrorCode::ParamError), "{target}");
        assert_eq!((e.field(), e.location()), (Some(field), Some(location)), "{target}");
        assert!(e.verified);
    }
}

#[test]
fn wrong_signature_is_sign_error_with_the_servers_view() {
    let sim = Simulator::start().unwrap();
    let wrong_key = PrivateKey::from_pem(include_bytes!("../../testdata/wechatpay_key.pem")).unwrap();
    let config = sim.config_builder().signer(wrong_key).build().unwrap();
    let op = QueryOrderByOutTradeNo { out_trade_no: no("1217752501201407033233368018") };
    let prepared = wechatpay_core::prepare(&config, &op, Host::Primary, SigningInput::now().unwrap()).unwrap();
    let expected = prepared.string_to_sign().to_owned();
    let request = prepared.sign(config.signer()).unwrap();
    let e = api_error(parse(&config, sim.addr(), &any_direct(), &request));
    assert_eq!((e.status.as_u16(), &e.code), (401, &ErrorCode::SignError));
    assert_eq!(e.truncated_sign_message(), Some(expected.as_str()));
    let info = &e.detail.as_ref().unwrap()["sign_information"];
    assert_eq!(info["method"], "GET");
    assert_eq!(info["sign_message_length"], expected.len());
    assert_eq!(e.detail.as_ref().unwrap()["detail"]["issue"], "sign not match");
    assert!(e.verified);
}

#[test]
fn the_signature_covers_the_target_exactly_as_sent() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    let mut request = signed(&config, &QueryOrderByOutTradeNo { out_trade_no: no("SIM_NOTPAY_0001") });
    // Same order, different bytes on the wire: the server does no canonicalisation.
    *request.uri_mut() =
        format!("{}/v3/pay/transactions/out-trade-no/SIM_NOTPAY_000%31?mchid=1230000109", sim.base_url())
            .parse()
            .unwrap();
    let e = api_error(parse(&config, sim.addr(), &any_direct(), &request));
    assert_eq!(e.code, ErrorCode::SignError);
    assert!(e.truncated_sign_message().unwrap().contains("SIM_NOTPAY_000%31"));
}

#[test]
fn stale_timestamps_wrong_mchid_or_serial_are_sign_errors() {
    let sim = Simulator::start().unwrap();
    let op = QueryOrderByOutTradeNo { out_trade_no: no("SIM_NOTPAY_0001") };
    let config = config(&sim);
    let stale = SigningInput::new(unix_now() - 1000, Nonce::random().unwrap());
    let request = wechatpay_core::prepare(&config, &op, Host::Primary, stale).unwrap().sign(config.signer()).unwrap();
    let e = api_error(parse(&config, sim.addr(), &any_direct(), &request));
    assert_eq!((e.status.as_u16(), &e.code), (401, &ErrorCode::SignError));

    let merchant_key = || PrivateKey::from_pem(sim.credentials().merchant_private_key_pem().as_bytes()).unwrap();
    for (mchid, serial) in [("1230000110", sim.credentials().merchant_serial()), ("1230000109", "ABCDEF")] {
        let config = wechatpay_core::Config::builder(
            mchid.parse().unwrap(),
            serial.parse().unwrap(),
            merchant_key(),
            KeyStore::new(),
        )
        .base_url(sim.base_url())
        .build()
        .unwrap();
        let resp = send(sim.addr(), &signed(&config, &op)).unwrap();
        assert_eq!(resp.status, 401, "{mchid} {serial}");
        assert_eq!(resp.json()["code"], "SIGN_ERROR");
    }
    let mut request = signed(&config, &op);
    request.headers_mut().insert("authorization", "Bearer x".parse().unwrap());
    assert_eq!(send(sim.addr(), &request).unwrap().status, 401);
    request.headers_mut().remove("authorization");
    assert_eq!(send(sim.addr(), &request).unwrap().status, 401);
}

#[test]
fn missing_accept_or_user_agent_is_400_invalid_request() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    for header in ["accept", "user-agent"] {
        let mut request = signed(&config, &QueryOrderByOutTradeNo { out_trade_no: no("SIM_NOTPAY_0001") });
        request.headers_mut().remove(header);
        let e = api_error(parse(&config, sim.addr(), &any_direct(), &request));
        assert_eq!((e.status.as_u16(), &e.code), (400, &ErrorCode::InvalidRequest), "{header}");
    }
}

#[test]
fn unknown_paths_are_404_and_other_methods_405() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    // (The refund query is served since issue 20: an unknown path beneath it stands in.)
    let resp = send(sim.addr(), &signed_raw(&config, "/v3/refund/domestic/refunds/1/unknown")).unwrap();
    assert_eq!((resp.status.as_u16(), resp.json()["code"].as_str()), (404, Some("NOT_FOUND")));
    let input = SigningInput::now().unwrap();
    let target = "/v3/pay/transactions/out-trade-no/SIM_NOTPAY_0001?mchid=1230000109";
    let op = wechatpay_core::api::Json::new(http::Method::POST, target, Some("{}")).unwrap();
    let request = wechatpay_core::prepare(&config, &op, Host::Primary, input).unwrap().sign(config.signer()).unwrap();
    assert_eq!(send(sim.addr(), &request).unwrap().status, 405);
    assert_eq!(sim.requests_for(Route::DirectByOutTradeNo), 1);
}

#[test]
fn hostile_http_gets_an_answer_and_never_kills_the_server() {
    let sim = Simulator::start().unwrap();
    let addr = sim.addr();
    assert_eq!(send_raw(addr, b"\x00\x01\x02 garbage\r\n\r\n").unwrap().status, 400);
    assert_eq!(send_raw(addr, b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").unwrap().status, 400);
    assert_eq!(send_raw(addr, b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n").unwrap().status, 413);
    let huge = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(20 * 1024));
    assert_eq!(send_raw(addr, huge.as_bytes()).unwrap().status, 431);
    let many: String = (0..200).map(|i| format!("X-{i}: y\r\n")).collect();
    assert_eq!(send_raw(addr, format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()).unwrap().status, 431);
    // Unsigned garbage with the required headers: 401, signed.
    let resp = send_raw(addr, b"GET /%%%?\xff HTTP/1.1\r\nAccept: */*\r\nUser-Agent: x\r\n\r\n");
    if let Ok(resp) = resp {
        assert!(resp.status.is_client_error());
    }
    // Half a request, then gone.
    let mut s = common::connect(addr).unwrap();
    s.write_all(b"GET /v3/pay/transactions/id/1 HT").unwrap();
    drop(s);
    // Still serving.
    let config = config(&sim);
    assert!(call(&sim, &config, &QueryOrderByOutTradeNo { out_trade_no: no("SIM_NOTPAY_0001") }).is_ok());
}

#[test]
fn random_bytes_never_kill_the_server() {
    let sim = Simulator::start().unwrap();
    let addr = sim.addr();
    // A fixed linear congruential generator: reproducible, no extra dependency.
    let mut state: u64 = 0x5EED;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as u8
    };
    let prefixes: [&[u8]; 4] =
        [b"", b"GET ", b"GET /v3/pay/transactions/id/1?mchid=1 HTTP/1.1\r\n", b"GET / HTTP/1.1\r\nA"];
    for i in 0..200 {
        let mut bytes = prefixes[i % prefixes.len()].to_vec();
        let len = usize::from(next()) * 4;
        bytes.extend((0..len).map(|_| next()));
        if i % 2 == 0 {
            bytes.extend_from_slice(b"\r\n\r\n");
        }
        let mut s = common::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_millis(100))).unwrap();
        let _ = s.write_all(&bytes);
        let _ = common::read_response(&mut s, 1 << 20);
    }
    let config = config(&sim);
    assert!(call(&sim, &config, &QueryOrderByOutTradeNo { out_trade_no: no("SIM_NOTPAY_0001") }).is_ok());
}

#[test]
fn connection_close_is_honoured() {
    let sim = Simulator::start().unwrap();
    let config = config(&sim);
    let mut request = signed(&config, &QueryOrderByOutTradeNo { out_trade_no: no("SIM_NOTPAY_0001") });
    request.headers_mut().insert("connection", "close".parse().unwrap());
    let mut stream = common::connect(sim.addr()).unwrap();
    stream.write_all(&common::encode(&request)).unwrap();
    let resp = common::read_response(&mut stream, usize::MAX - 1).unwrap();
    assert_eq!((resp.status.as_u16(), resp.header("connection")), (200, Some("close")));
    let mut rest = Vec::new();
    assert_eq!(std::io::Read::read_to_end(&mut stream, &mut rest).unwrap(), 0, "closed after the answer");
}
