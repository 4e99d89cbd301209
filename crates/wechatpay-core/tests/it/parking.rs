//! The parking flow (PROTOCOL.md §16): the find request signed over the percent-encoded plate
//! (known answers made with OpenSSL, tests/data/parking/gen-parking.sh, and the raw plate
//! refused), the entrance and deduction bodies byte for byte, every validation rule refused
//! with the field named, and the answers bound to the question.
#![allow(clippy::unwrap_used)]

use crate::common;

use base64::Engine as _;
use common::*;
use http::StatusCode;
use wechatpay_core::api::{
    CreateEntrance, CreateParkingOrder, Deduction, Entrance, FindParkingService, Operation, ParkingSession, PlateNumber,
};
use wechatpay_core::model::{EntranceState, Fen, ParkingTradeState, PlateColor, Rfc3339, ServiceState};
use wechatpay_core::{
    AppId, Error, Host, MchId, Nonce, NotifyUrl, OpenId, OutParkingNo, OutTradeNo, ParkingId, PublicKey, SigningInput,
    SubMchId, VerificationFailure,
};

const APPID: &str = "wxcbda96de0b165486";
const OPENID: &str = "oUpF8uMuAJOM2pxb1Q";
const SUB: &str = "1900000109";
/// 2017-08-26T12:00:00+08:00, the exit of the deductions below.
const EXIT: u64 = 1_503_720_000;

fn find(plate: &str, color: &str, sub: Option<&str>) -> FindParkingService {
    FindParkingService::new(
        AppId::new(APPID).unwrap(),
        sub.map(|s| SubMchId::new(s).unwrap()),
        PlateNumber::new(plate).unwrap(),
        PlateColor::from(color),
        OpenId::new(OPENID).unwrap(),
    )
    .unwrap()
}

fn check_kat(name: &str, op: &FindParkingService) {
    for backend in backends() {
        let config = config_with(backend);
        let input = SigningInput::new(TS, Nonce::new(NONCE).unwrap());
        let prepared = wechatpay_core::prepare(&config, op, Host::Primary, input).unwrap();
        assert_eq!(prepared.string_to_sign(), text(&format!("parking/{name}.msg")), "{name}");
        assert_eq!(prepared.path_and_query(), text(&format!("parking/{name}.target")), "{name}");
        let request = prepared.sign(config.signer()).unwrap();
        // Sent exactly as signed: the URI carries the same encoded target.
        assert_eq!(
            request.uri().to_string(),
            format!("https://api.mch.weixin.qq.com{}", text(&format!("parking/{name}.target")))
        );
        let auth = request.headers()["authorization"].to_str().unwrap();
        let sig = text(&format!("parking/{name}.sig"));
        assert!(auth.contains(&format!("signature=\"{sig}\"")), "{name} with {backend:?}: {auth}");
    }
}

#[test]
fn find_signs_the_percent_encoded_plate_as_openssl_does() {
    check_kat("find_partner", &find("粤B888888", "BLUE", Some(SUB)));
    check_kat("find_merchant", &find("京AD12345", "GREEN", None));
}

#[test]
fn the_signature_over_the_encoded_plate_does_not_verify_the_raw_one() {
    let key = PublicKey::from_pem(&data("merchant_pub.pem")).unwrap();
    let sig = base64::engine::general_purpose::STANDARD.decode(text("parking/find_partner.sig")).unwrap();
    key.verify(&data("parking/find_partner.msg"), &sig).unwrap();
    assert!(key.verify(&data("parking/find_raw_plate.msg"), &sig).is_err());
    // And the crate never produces the raw form.
    let target = find("粤B888888", "BLUE", Some(SUB)).target(&MchId::new(MCHID).unwrap()).to_string();
    assert!(!target.contains('粤') && target.contains("%E7%B2%A4B888888"), "{target}");
}

#[test]
fn plates_and_colours_are_validated() {
    assert_eq!(PlateNumber::new("").unwrap_err().field(), "plate_number");
    assert_eq!(PlateNumber::new("粤B 888").unwrap_err().field(), "plate_number");
    assert_eq!(PlateNumber::new("粤".repeat(33)).unwrap_err().field(), "plate_number");
    let err = FindParkingService::new(
        AppId::new(APPID).unwrap(),
        None,
        PlateNumber::new("粤B888888").unwrap(),
        PlateColor::from("blue"),
        OpenId::new(OPENID).unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.field(), "plate_color");
    // An unknown but well-formed colour is sent (the enum is open).
    assert!(find("粤B888888", "PINK", None).target(&MchId::new(MCHID).unwrap()).to_string().contains("PINK"));
}

fn entrance(name: &str, free: i64) -> Entrance {
    Entrance {
        out_parking_no: OutParkingNo::new("1231243").unwrap(),
        plate_number: PlateNumber::new("粤B888888").unwrap(),
        plate_color: PlateColor::Blue,
        start_time: Rfc3339::parse("2017-08-26T10:43:39+08:00").unwrap(),
        parking_name: name.into(),
        free_duration: free,
        notify_url: NotifyUrl::new("https://yoursite.com/wxpay.html").unwrap(),
    }
}

#[test]
fn entrance_bodies_are_exact_and_validated() {
    let mchid = MchId::new(MCHID).unwrap();
    let op = CreateEntrance::partner(SubMchId::new(SUB).unwrap(), entrance("欢乐海岸停车场", 0)).unwrap();
    assert_eq!(op.method(), http::Method::POST);
    assert_eq!(op.target(&mchid).to_string(), "/v3/vehicle/parking/parkings");
    assert_eq!(
        String::from_utf8(op.body(&mchid).unwrap()).unwrap(),
        r#"{"sub_mchid":"1900000109","out_parking_no":"1231243","plate_number":"粤B888888","plate_color":"BLUE","notify_url":"https://yoursite.com/wxpay.html","start_time":"2017-08-26T10:43:39+08:00","parking_name":"欢乐海岸停车场","free_duration":0}"#
    );
    assert!(op.idempotent());
    let direct = CreateEntrance::new(entrance("P", 3600)).unwrap();
    assert!(!String::from_utf8(direct.body(&mchid).unwrap()).unwrap().contains("sub_mchid"));
    assert_eq!(CreateEntrance::new(entrance("P", -1)).unwrap_err().field(), "free_duration");
    assert_eq!(CreateEntrance::new(entrance("", 0)).unwrap_err().field(), "parking_name");
    assert_eq!(CreateEntrance::new(entrance(&"停".repeat(129), 0)).unwrap_err().field(), "parking_name");
    assert!(CreateEntrance::new(entrance(&"停".repeat(128), 0)).is_ok());
    assert_eq!(OutParkingNo::new("a".repeat(65)).unwrap_err().field(), "out_parking_no");
    assert!(OutParkingNo::new("a".repeat(64)).is_ok());
}

fn session(start: &str, end: &str, charging: i64) -> ParkingSession {
    ParkingSession {
        parking_id: ParkingId::new("5K8264ILTKCH16CQ250").unwrap(),
        plate_number: PlateNumber::new("粤B888888").unwrap(),
        plate_color: PlateColor::Blue,
        start_time: Rfc3339::parse(start).unwrap(),
        end_time: Rfc3339::parse(end).unwrap(),
        parking_name: "欢乐海岸停车场".into(),
        charging_duration: charging,
        device_id: "12313".into(),
    }
}

fn deduction(no: &str, info: ParkingSession) -> Deduction {
    Deduction {
        appid: AppId::new(APPID).unwrap(),
        out_trade_no: OutTradeNo::new(no).unwrap(),
        description: "停车场扣费".into(),
        total: Fen(888),
        notify_url: NotifyUrl::new("https://yoursite.com/wxpay.html").unwrap(),
        parking_info: info,
        attach: Some("深圳分店".into()),
        goods_tag: None,
        profit_sharing: Some(false),
    }
}

fn valid() -> Deduction {
    deduction("20150806125346", session("2017-08-26T10:43:39+08:00", "2017-08-26T12:00:00+08:00", 3600))
}

#[test]
fn deduction_bodies_are_exact() {
    let mchid = MchId::new(MCHID).unwrap();
    let op = CreateParkingOrder::partner(
        SubMchId::new(SUB).unwrap(),
        Some(AppId::new("wxd678efh567hg6999").unwrap()),
        valid(),
        at(EXIT),
    )
    .unwrap();
    assert_eq!(op.target(&mchid).to_string(), "/v3/vehicle/transactions/parking");
    let body = String::from_utf8(op.body(&mchid).unwrap()).unwrap();
    assert_eq!(
        body,
        r#"{"appid":"wxcbda96de0b165486","sub_appid":"wxd678efh567hg6999","sub_mchid":"1900000109","description":"停车场扣费","attach":"深圳分店","out_trade_no":"20150806125346","trade_scene":"PARKING","notify_url":"https://yoursite.com/wxpay.html","profit_sharing":"N","amount":{"total":888,"currency":"CNY"},"parking_info":{"parking_id":"5K8264ILTKCH16CQ250","plate_number":"粤B888888","plate_color":"BLUE","start_time":"2017-08-26T10:43:39+08:00","end_time":"2017-08-26T12:00:00+08:00","parking_name":"欢乐海岸停车场","charging_duration":3600,"device_id":"12313"}}"#
    );
    // Every attempt signs the same bytes.
    assert_eq!(op.body(&mchid).unwrap(), body.as_bytes());
    assert!(op.idempotent());
    let direct = CreateParkingOrder::new(valid(), at(EXIT)).unwrap();
    let body = String::from_utf8(direct.body(&mchid).unwrap()).unwrap();
    assert!(!body.contains("sub_mchid") && !body.contains("sub_appid") && !body.contains("null"), "{body}");
}

#[test]
fn deductions_are_validated_before_signing_with_an_injected_clock() {
    let field = |d: Deduction, now: u64| CreateParkingOrder::new(d, at(now)).unwrap_err().field();
    // end_time equal to now is legal; a second later than now is not.
    assert!(CreateParkingOrder::new(valid(), at(EXIT)).is_ok());
    assert_eq!(field(valid(), EXIT - 1), "parking_info.end_time");
    let same = deduction("A1", session("2017-08-26T12:00:00+08:00", "2017-08-26T12:00:00+08:00", 0));
    assert_eq!(field(same, EXIT), "parking_info.end_time");
    // The same instant in another offset is not "after".
    let other_zone = deduction("A1", session("2017-08-26T04:00:00Z", "2017-08-26T12:00:00+08:00", 0));
    assert_eq!(field(other_zone, EXIT), "parking_info.end_time");
    let negative = deduction("A1", session("2017-08-26T10:43:39+08:00", "2017-08-26T12:00:00+08:00", -1));
    assert_eq!(field(negative, EXIT), "parking_info.charging_duration");
    let zero = deduction("A1", session("2017-08-26T10:43:39+08:00", "2017-08-26T12:00:00+08:00", 0));
    assert!(CreateParkingOrder::new(zero, at(EXIT)).is_ok());
    assert_eq!(field(deduction("A|B", valid().parking_info), EXIT), "out_trade_no");
    assert_eq!(field(Deduction { total: Fen(0), ..valid() }, EXIT), "amount.total");
    assert_eq!(field(Deduction { description: String::new(), ..valid() }, EXIT), "description");
    assert_eq!(field(Deduction { attach: Some("a".repeat(129)), ..valid() }, EXIT), "attach");
    assert_eq!(field(Deduction { goods_tag: Some("g".repeat(33)), ..valid() }, EXIT), "goods_tag");
    let mut d = valid();
    d.parking_info.device_id = "d".repeat(33);
    assert_eq!(field(d, EXIT), "parking_info.device_id");
    let mut d = valid();
    d.parking_info.parking_name = String::new();
    assert_eq!(field(d, EXIT), "parking_info.parking_name");
    let mut d = valid();
    d.parking_info.plate_color = PlateColor::from("Blue");
    assert_eq!(field(d, EXIT), "parking_info.plate_color");
    // The ids stay apart: an out_parking_no with a `|` is no ParkingId.
    assert_eq!(ParkingId::new("12|3").unwrap_err().field(), "parking_id");
}

fn answer<Op: Operation>(op: &Op, body: &str) -> Result<Op::Output, Error> {
    let headers = signed_headers(body.as_bytes(), TS, By::PublicKey);
    wechatpay_core::parse_response(&config(), op, &response(StatusCode::OK, &headers, body.as_bytes()), at(TS))
}

fn mismatch(e: Error) -> &'static str {
    match e {
        Error::Verification(v) => match v.failure {
            VerificationFailure::AnswerMismatch { field } => field,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn answers_are_bound_to_the_question() {
    let op = find("粤B888888", "BLUE", Some(SUB));
    let ok = r#"{"plate_number":"粤B888888","plate_color":"BLUE","openid":"oUpF8uMuAJOM2pxb1Q","service_state":"OUT_SERVICE"}"#;
    assert_eq!(answer(&op, ok).unwrap().service_state, ServiceState::OutService);
    let other =
        r#"{"plate_number":"粤B888889","plate_color":"BLUE","openid":"oUpF8uMuAJOM2pxb1Q","service_state":"NORMAL"}"#;
    assert_eq!(mismatch(answer(&op, other).unwrap_err()), "plate_number");

    let op = CreateEntrance::partner(SubMchId::new(SUB).unwrap(), entrance("P", 0)).unwrap();
    let blocked = r#"{"id":"5K8264ILTKCH16CQ250","sub_mchid":"1900000109","out_parking_no":"1231243","state":"BLOCKED","block_reason":"PAUSE"}"#;
    let e = answer(&op, blocked).unwrap();
    assert_eq!(e.state, EntranceState::Blocked);
    assert_eq!(e.parking_id().unwrap().as_str(), "5K8264ILTKCH16CQ250");
    let wrong_sub =
        r#"{"id":"5K8264ILTKCH16CQ250","sub_mchid":"1900000110","out_parking_no":"1231243","state":"NORMAL"}"#;
    assert_eq!(mismatch(answer(&op, wrong_sub).unwrap_err()), "sub_mchid");
    let wrong_no =
        r#"{"id":"5K8264ILTKCH16CQ250","sub_mchid":"1900000109","out_parking_no":"1231244","state":"NORMAL"}"#;
    assert_eq!(mismatch(answer(&op, wrong_no).unwrap_err()), "out_parking_no");

    let op = CreateParkingOrder::partner(SubMchId::new(SUB).unwrap(), None, valid(), at(EXIT)).unwrap();
    let accepted = r#"{"sp_mchid":"1230000109","sub_mchid":"1900000109","out_trade_no":"20150806125346","trade_state":"ACCEPTED","trade_scene":"PARKING"}"#;
    assert_eq!(answer(&op, accepted).unwrap().trade_state, ParkingTradeState::Accepted);
    let other = r#"{"sub_mchid":"1900000109","out_trade_no":"20150806125347","trade_state":"ACCEPTED"}"#;
    assert_eq!(mismatch(answer(&op, other).unwrap_err()), "out_trade_no");
    let other = r#"{"sub_mchid":"1900000111","out_trade_no":"20150806125346","trade_state":"ACCEPTED"}"#;
    assert_eq!(mismatch(answer(&op, other).unwrap_err()), "sub_mchid");
}
