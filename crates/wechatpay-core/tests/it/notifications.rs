//! Payment notifications against known answers made by Python's `cryptography` package
//! (`tests/data/notifications/make.py`, see its README), on every backend compiled in: the
//! checks of PROTOCOL.md §8 in order, the typed resources, the merchant check of §11, the answer,
//! and certificate decryption (§9).
#![allow(clippy::unwrap_used, clippy::vec_init_then_push)]

use std::sync::OnceLock;

use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use proptest::prelude::*;
use serde_json::Value;
use std::time::{Duration, SystemTime};
use wechatpay_core::model::{BlockedState, ParkingState, ParkingTradeState, TradeState, UserRepaid};

use wechatpay_core::notify::{self, EventType, Kind, Receiver, Resource};
use wechatpay_core::{
    ApiV3Key, DecryptError, EncryptedResource, KeyStore, MchId, SubMchId, VerificationFailure, crypto::Backend,
    crypto::Verifier, crypto::VerifyError, notify::Notification, notify::NotificationError,
};

use crate::common::{PLATFORM_SERIAL, PUB_KEY_ID, backends, data};

const NOW: u64 = 1554208460;

fn keys(backend: Backend) -> KeyStore {
    let mut keys = KeyStore::with_backend(backend);
    keys.add_public_key(PUB_KEY_ID, &data("wechatpay_pub.pem")).unwrap();
    keys.add_platform_certificates(&data("platform_cert.pem")).unwrap();
    keys
}

fn api_v3_key(backend: Backend) -> ApiV3Key {
    let path = format!("{}/tests/data/notifications/apiv3_key.txt", env!("CARGO_MANIFEST_DIR"));
    ApiV3Key::from_file(path).unwrap().with_backend(backend)
}

/// A fixture case: the request WeChat Pay would POST.
fn request(case: &str) -> Request<Vec<u8>> {
    let mut builder = Request::post("/notify");
    for line in String::from_utf8(data(&format!("notifications/{case}.headers"))).unwrap().lines() {
        let (name, value) = line.split_once(": ").unwrap();
        builder = builder.header(name, value);
    }
    builder.body(data(&format!("notifications/{case}.body"))).unwrap()
}

fn plain(case: &str) -> Value {
    serde_json::from_slice(&data(&format!("notifications/{case}.plain"))).unwrap()
}

fn mchid(s: &str) -> MchId {
    MchId::new(s).unwrap()
}

/// Whose notifications an endpoint takes: the settings of its receiver.
#[derive(Clone, Debug)]
struct Endpoint {
    kind: Option<Kind>,
    mchid: &'static str,
    sub_mchid: Option<&'static str>,
}

impl Endpoint {
    fn of(kind: Option<Kind>, mchid: &'static str, sub_mchid: Option<&'static str>) -> Self {
        Self { kind, mchid, sub_mchid }
    }

    /// The receiver with these settings, `verifier`, and the clock at `now`.
    fn receiver(&self, verifier: impl Verifier + 'static, key: ApiV3Key, now: u64) -> Receiver {
        let mut r = Receiver::new(verifier, key, mchid(self.mchid))
            .clock(move || SystemTime::UNIX_EPOCH + Duration::from_secs(now));
        if let Some(kind) = self.kind {
            r = r.kind(kind);
        }
        if let Some(sub) = self.sub_mchid {
            r = r.sub_merchant(SubMchId::new(sub).unwrap());
        }
        r
    }
}

fn direct() -> Endpoint {
    Endpoint::of(Some(Kind::Direct), "1230000109", None)
}

fn partner(sub: Option<&'static str>) -> Endpoint {
    Endpoint::of(Some(Kind::Partner), "1230000109", sub)
}

fn parking(sub: Option<&'static str>) -> Endpoint {
    Endpoint::of(Some(Kind::Parking), "1230000109", sub)
}

/// No kind named: the receiver tells it.
fn any_kind(sub: Option<&'static str>) -> Endpoint {
    Endpoint::of(None, "1230000109", sub)
}

/// Parses `case` on every backend (verifier and AES-GCM alike); all must agree.
fn parse_all(request: &Request<Vec<u8>>, expect: &Endpoint, now: u64) -> Result<Notification, NotificationError> {
    let outcomes: Vec<_> =
        backends().into_iter().map(|b| expect.receiver(keys(b), api_v3_key(b), now).receive_request(request)).collect();
    for other in &outcomes[1..] {
        assert_eq!(other, &outcomes[0], "the backends disagree");
    }
    outcomes.into_iter().next().unwrap()
}

fn parse_case(case: &str, expect: &Endpoint) -> Result<Notification, NotificationError> {
    parse_all(&request(case), expect, NOW)
}

fn resource_json(n: &Notification) -> Value {
    match &n.resource {
        Resource::Transaction(t) => serde_json::to_value(t).unwrap(),
        Resource::PartnerTransaction(t) => serde_json::to_value(t).unwrap(),
        Resource::ParkingTransaction(t) => serde_json::to_value(t).unwrap(),
        Resource::EntranceStateChange(e) => serde_json::to_value(e).unwrap(),
        Resource::Refund(r) => serde_json::to_value(r).unwrap(),
        Resource::Other(v) => v.clone(),
        other => panic!("unexpected resource {other:?}"),
    }
}

#[test]
fn direct_payment_gives_the_transaction_python_encrypted() {
    let n = parse_case("direct_success", &direct()).unwrap();
    assert_eq!(n.id, "EV-2018022511223320873-direct_success");
    assert_eq!(n.event_type, EventType::TransactionSuccess);
    assert_eq!(n.create_time, "2015-05-20T13:29:35+08:00");
    assert_eq!(n.created_at().unwrap().unix_timestamp(), 1432099775);
    assert_eq!((n.resource_type.as_str(), n.summary.as_str()), ("encrypt-resource", "支付成功"));
    assert_eq!(n.original_type.as_deref(), Some("transaction"));
    let Resource::Transaction(t) = &n.resource else { panic!("{:?}", n.resource) };
    assert_eq!((t.mchid.as_str(), &t.trade_state), ("1230000109", &TradeState::Success));
    assert_eq!(resource_json(&n), plain("direct_success"));
}

#[test]
fn every_kind_of_event_is_typed_by_what_it_is() {
    let n = parse_case("partner_success", &partner(Some("1900000109"))).unwrap();
    let Resource::PartnerTransaction(t) = &n.resource else { panic!("{:?}", n.resource) };
    assert_eq!((t.sp_mchid.as_str(), t.sub_mchid.as_str()), ("1230000109", "1900000109"));
    assert_eq!(resource_json(&n), plain("partner_success"));

    for (case, event, state) in [
        ("parking_success", EventType::TransactionSuccess, ParkingTradeState::Success),
        ("parking_fail", EventType::TransactionFail, ParkingTradeState::PayFail),
        ("parking_pay_back", EventType::TransactionPayBack, ParkingTradeState::Success),
    ] {
        let n = parse_case(case, &parking(Some("1900000109"))).unwrap();
        assert_eq!(n.event_type, event, "{case}");
        let Resource::ParkingTransaction(t) = &n.resource else { panic!("{case}: {:?}", n.resource) };
        assert_eq!(t.trade_state, state, "{case}");
        assert_eq!(resource_json(&n), plain(case), "{case}");
    }
    let n = parse_case("parking_pay_back", &parking(None)).unwrap();
    let Resource::ParkingTransaction(t) = &n.resource else { panic!() };
    assert_eq!((t.bank_type.as_deref(), &t.user_repaid), (Some("BPA"), &Some(UserRepaid::Yes)));

    let n = parse_case("parking_entrance", &parking(None)).unwrap();
    assert_eq!(n.event_type, EventType::VehicleEntranceStateChange);
    let Resource::EntranceStateChange(e) = &n.resource else { panic!("{:?}", n.resource) };
    assert_eq!((&e.parking_state, &e.blocked_state_description), (&ParkingState::Blocked, &Some(BlockedState::Pause)));
    assert_eq!(resource_json(&n), plain("parking_entrance"));

    // Events without a model at this receiver's kind: the decrypted JSON exactly as it is
    // (a refund at a receiver of direct payments; refunds are typed at an unnamed or a refund
    // receiver, see tests/it/refund_notifications.rs).
    let n = parse_case("refund_other", &direct()).unwrap();
    assert_eq!(n.event_type, EventType::RefundSuccess);
    assert_eq!(n.original_type.as_deref(), Some("refund"));
    assert_eq!(n.resource, Resource::Other(plain("refund_other")));
    for expect in [direct(), partner(None), parking(None)] {
        let n = parse_case("security_echo", &expect).unwrap();
        assert_eq!(n.event_type, EventType::SecurityEchoSuccess);
        assert_eq!(n.resource, Resource::Other(plain("security_echo")));
    }
    // An entry-state event outside a parking endpoint is not typed as one.
    let n = parse_case("parking_entrance", &partner(None)).unwrap();
    assert_eq!(n.resource, Resource::Other(plain("parking_entrance")));
}

#[test]
fn absent_associated_data_means_an_empty_aad() {
    let n = parse_case("no_associated_data", &direct()).unwrap();
    assert_eq!(resource_json(&n), plain("no_associated_data"));
    let envelope: Value = serde_json::from_slice(request("no_associated_data").body()).unwrap();
    assert!(envelope["resource"].get("associated_data").is_none());
}

#[test]
fn known_failures_each_get_their_own_error() {
    for (case, expected) in [
        ("wrong_aad", NotificationError::Decryption),
        ("wrong_key", NotificationError::Decryption),
        ("flipped_bit", NotificationError::Decryption),
        ("flipped_tag_bit", NotificationError::Decryption),
        ("unsupported_algorithm", NotificationError::UnsupportedAlgorithm),
        ("signtest", NotificationError::Signature(VerificationFailure::SignTestProbe)),
        ("other_merchant", NotificationError::WrongMerchant { field: "mchid" }),
    ] {
        assert_eq!(parse_case(case, &direct()).unwrap_err(), expected, "{case}");
    }
    let e = parse_case("bad_resource", &direct()).unwrap_err();
    assert!(matches!(e, NotificationError::Decode { line: 1, column: 41, .. }), "{e:?}");
    assert_eq!(e.check(), "resource does not decode");
    // The first required field the model declares and the resource lacks is named.
    assert_eq!(
        e.to_string(),
        "notification rejected (resource does not decode): the decrypted resource lacks the required field \
         `trade_state` (JSON error at line 1, column 41)"
    );

    let e = parse_case("wrong_key", &direct()).unwrap_err();
    assert_eq!(e.to_string(), "notification rejected (decryption): decryption failed (wrong or reset APIv3 key?)");
    let probe = parse_case("signtest", &direct()).unwrap_err();
    assert!(probe.is_sign_test_probe() && probe.check() == "SIGNTEST probe");
}

#[test]
fn direct_and_partner_notifications_are_told_apart() {
    for (case, expect, missing) in [
        ("partner_success", direct(), "mchid"),
        ("direct_success", partner(None), "sp_mchid"),
        ("parking_success", direct(), "mchid"),
        ("parking_success", partner(None), "trade_state_desc"),
    ] {
        let e = parse_case(case, &expect).unwrap_err();
        match &e {
            NotificationError::Decode { missing_field, .. } => {
                assert_eq!(missing_field.as_deref(), Some(missing), "{case} as {expect:?}")
            }
            _ => panic!("{case} as {expect:?}: {e:?}"),
        }
    }
    // A direct order read as a parking one has no `sp_mchid`: not ours.
    assert_eq!(
        parse_case("direct_success", &parking(None)),
        Err(NotificationError::WrongMerchant { field: "sp_mchid" })
    );
}

#[test]
fn a_resource_for_another_merchant_is_refused() {
    let other = |e: Result<Notification, NotificationError>| e.unwrap_err();
    let wrong = |field| NotificationError::WrongMerchant { field };
    assert_eq!(
        other(parse_case("direct_success", &Endpoint::of(Some(Kind::Direct), "1230000110", None))),
        wrong("mchid")
    );
    let sp = Endpoint::of(Some(Kind::Partner), "1230000110", None);
    assert_eq!(other(parse_case("partner_success", &sp)), wrong("sp_mchid"));
    assert_eq!(other(parse_case("partner_success", &partner(Some("1900000110")))), wrong("sub_mchid"));
    let sp = Endpoint::of(Some(Kind::Parking), "1230000110", None);
    assert_eq!(other(parse_case("parking_success", &sp)), wrong("sp_mchid"));
    assert_eq!(other(parse_case("parking_entrance", &sp)), wrong("sp_mchid"));
    assert_eq!(other(parse_case("parking_fail", &parking(Some("1900000110")))), wrong("sub_mchid"));
    assert_eq!(other(parse_case("parking_entrance", &parking(Some("1900000110")))), wrong("sub_mchid"));
    // Untyped resources: the merchant fields present must be ours.
    assert_eq!(
        other(parse_case("refund_other", &Endpoint::of(Some(Kind::Direct), "1230000110", None))),
        wrong("mchid")
    );
}

#[test]
fn every_kind_parses_without_being_named() {
    for (case, kind, event) in [
        ("direct_success", Kind::Direct, EventType::TransactionSuccess),
        ("no_associated_data", Kind::Direct, EventType::TransactionSuccess),
        ("partner_success", Kind::Partner, EventType::TransactionSuccess),
        ("parking_success", Kind::Parking, EventType::TransactionSuccess),
        ("parking_fail", Kind::Parking, EventType::TransactionFail),
        ("parking_pay_back", Kind::Parking, EventType::TransactionPayBack),
        ("parking_entrance", Kind::Parking, EventType::VehicleEntranceStateChange),
    ] {
        for expect in [any_kind(None), any_kind(Some("1900000109"))] {
            if kind == Kind::Direct && expect.sub_mchid.is_some() {
                continue;
            }
            let n = parse_case(case, &expect).unwrap_or_else(|e| panic!("{case} {expect:?}: {e}"));
            assert_eq!((n.event_type.clone(), n.resource.kind()), (event.clone(), Some(kind)), "{case}");
            assert_eq!(resource_json(&n), plain(case), "{case}");
            // The same notification as the receiver of its own kind gives it.
            let named = Endpoint::of(Some(kind), expect.mchid, expect.sub_mchid);
            assert_eq!(parse_case(case, &named).unwrap(), n, "{case}");
        }
    }
    let n = parse_case("direct_success", &any_kind(None)).unwrap();
    let Resource::Transaction(t) = &n.resource else { panic!("{:?}", n.resource) };
    assert_eq!((t.mchid.as_str(), &t.trade_state), ("1230000109", &TradeState::Success));
    let n = parse_case("parking_entrance", &any_kind(None)).unwrap();
    let Resource::EntranceStateChange(e) = &n.resource else { panic!("{:?}", n.resource) };
    assert_eq!(e.parking_state, ParkingState::Blocked);
    // Events no kind owns stay untyped, ours checked; refunds are typed.
    let n = parse_case("refund_other", &any_kind(None)).unwrap();
    assert_eq!(n.resource.kind(), Some(Kind::Refund));
    assert_eq!(resource_json(&n), plain("refund_other"));
    let n = parse_case("security_echo", &any_kind(None)).unwrap();
    assert_eq!(n.resource, Resource::Other(plain("security_echo")));
    assert_eq!(n.resource.kind(), None);
    // A direct payment has no sub-merchant: a receiver restricted to one refuses it.
    assert_eq!(
        parse_case("direct_success", &any_kind(Some("1900000109"))),
        Err(NotificationError::WrongMerchant { field: "sub_mchid" })
    );
}

#[test]
fn a_named_kind_is_enforced_and_the_mismatch_named() {
    // Decodes as the named kind's model, but is of another kind by its own fields.
    let e = parse_case("partner_success", &parking(None)).unwrap_err();
    assert_eq!(e, NotificationError::WrongKind { expected: Kind::Parking, found: Kind::Partner });
    assert_eq!(e.check(), "another kind");
    assert_eq!(
        e.to_string(),
        "notification rejected (another kind): a partner resource at a receiver of parking notifications"
    );
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    // Does not decode as the named kind: the error says what it is.
    for (case, expect, looks_like) in [
        ("partner_success", direct(), Kind::Partner),
        ("direct_success", partner(None), Kind::Direct),
        ("parking_success", direct(), Kind::Parking),
        ("parking_success", partner(None), Kind::Parking),
    ] {
        let e = parse_case(case, &expect).unwrap_err();
        assert!(
            matches!(&e, NotificationError::Decode { looks_like: Some(k), .. } if *k == looks_like),
            "{case} {expect:?}: {e:?}"
        );
        assert!(
            e.to_string().ends_with(&format!("; it is a {looks_like} resource, not of the kind this receiver takes"))
        );
    }
    // Its own kind: no hint.
    let e = parse_case("bad_resource", &any_kind(None)).unwrap_err();
    assert!(matches!(e, NotificationError::Decode { looks_like: None, .. }), "{e:?}");
    assert_eq!(e, parse_case("bad_resource", &direct()).unwrap_err());
}

#[test]
fn wrong_merchants_are_refused_without_a_kind_named() {
    let wrong = |field| Err(NotificationError::WrongMerchant { field });
    let other = |sub| Endpoint::of(None, "1230000110", sub);
    for (case, field) in [
        ("direct_success", "mchid"),
        ("other_merchant", "mchid"),
        ("partner_success", "sp_mchid"),
        ("parking_success", "sp_mchid"),
        ("parking_fail", "sp_mchid"),
        ("parking_entrance", "sp_mchid"),
        ("refund_other", "mchid"),
    ] {
        assert_eq!(parse_case(case, &other(None)), wrong(field), "{case}");
    }
    assert_eq!(parse_case("other_merchant", &any_kind(None)), wrong("mchid"));
    for case in ["partner_success", "parking_success", "parking_pay_back", "parking_entrance"] {
        assert_eq!(parse_case(case, &any_kind(Some("1900000110"))), wrong("sub_mchid"), "{case}");
    }
}

/// An envelope around `plaintext` with this `original_type`, as [`sealed_envelope`] makes it.
fn sealed_with_original_type(event: &str, original_type: &str, plaintext: &[u8]) -> Vec<u8> {
    let mut envelope: Value = serde_json::from_slice(&sealed_envelope(event, plaintext)).unwrap();
    envelope["resource"]["original_type"] = original_type.into();
    serde_json::to_vec(&envelope).unwrap()
}

#[test]
fn a_resource_of_unknown_kind_is_never_read_as_a_payment() {
    let receive = |expect: &Endpoint, body: &[u8]| {
        expect.receiver(AcceptAll, api_v3_key(Backend::default()), NOW).receive(
            &Method::POST,
            signed_looking_headers(),
            body,
        )
    };
    let refund = data("notifications/refund_other.plain");
    let direct_order = data("notifications/direct_success.plain");
    // A payment event that says it carries a refund: not typed, whatever the kind named.
    for expect in [any_kind(None), direct(), partner(None), parking(None)] {
        for plaintext in [&refund, &direct_order] {
            let body = sealed_with_original_type("TRANSACTION.SUCCESS", "refund", plaintext);
            assert_eq!(receive(&expect, &body), Err(NotificationError::UnknownKind), "{expect:?}");
        }
        // The refund event itself: typed when no kind is named, else the JSON as it is.
        let body = sealed_with_original_type("REFUND.SUCCESS", "refund", &refund);
        let resource = receive(&expect, &body).unwrap().resource;
        if expect.kind.is_none() {
            assert!(matches!(resource, Resource::Refund(_)), "{resource:?}");
        } else {
            assert_eq!(resource, Resource::Other(plain("refund_other")));
        }
    }
    // A payment resource naming no merchant.
    let body = sealed_envelope("TRANSACTION.SUCCESS", br#"{"out_trade_no":"o","trade_state":"SUCCESS"}"#);
    let e = receive(&any_kind(None), &body).unwrap_err();
    assert_eq!(e, NotificationError::UnknownKind);
    assert_eq!(e.check(), "unknown kind");
    // Explicit `transaction`, as WeChat Pay sends it, changes nothing.
    let body = sealed_with_original_type("TRANSACTION.SUCCESS", "transaction", &direct_order);
    assert!(matches!(receive(&any_kind(None), &body).unwrap().resource, Resource::Transaction(_)));
}

#[test]
fn the_receiver_shows_no_key() {
    let receiver = partner(Some("1900000109")).receiver(keys(Backend::default()), api_v3_key(Backend::default()), NOW);
    let shown = format!("{receiver:?}");
    let key_text = String::from_utf8(data("notifications/apiv3_key.txt")).unwrap();
    assert!(!shown.contains(key_text.trim()), "{shown}");
    assert!(shown.contains("[redacted]") && shown.contains("1230000109") && shown.contains("Partner"), "{shown}");
    assert_eq!(receiver.expected_kind(), Some(Kind::Partner));
    assert_eq!(receiver.mchid().as_str(), "1230000109");
    assert_eq!(receiver.sub_mchid().map(|s| s.as_str()), Some("1900000109"));
    // The receiver is shared between threads.
    fn shared<T: Send + Sync>(_: &T) {}
    shared(&receiver);
}

#[test]
fn one_table_names_every_failed_check() {
    use VerificationFailure as F;
    let failures = [
        (F::MissingHeader("Wechatpay-Nonce"), "header", "missing header"),
        (F::DuplicateHeader("Wechatpay-Nonce"), "header", "duplicate header"),
        (F::InvalidHeader("Wechatpay-Nonce"), "header", "invalid header"),
        (F::SignTestProbe, "sign-test probe", "SIGNTEST probe"),
        (F::UnsupportedSignatureType, "header", "unsupported signature type"),
        (F::InvalidTimestamp, "timestamp", "invalid timestamp"),
        (F::StaleTimestamp { skew_secs: 301, max_secs: 300 }, "timestamp", "stale timestamp"),
        (F::UnknownSerial("PUB_KEY_ID_X".into()), "serial", "unknown serial"),
        (F::InvalidBase64, "Base64", "invalid signature encoding"),
        (F::WrongSignatureLength { expected: 256, actual: 3 }, "signature length", "wrong signature length"),
        (F::SignatureMismatch, "signature", "signature mismatch"),
        (F::AnswerMismatch { field: "mchid" }, "answer", "answer mismatch"),
        (F::Verifier(wechatpay_core::crypto::OtherError::new("an HSM timed out")), "verifier", "verifier"),
    ];
    for (failure, check, label) in failures {
        assert_eq!((failure.check(), failure.label()), (check, label), "{failure:?}");
        // A notification names it by the same label; so does the client's error.
        assert_eq!(NotificationError::Signature(failure.clone()).check(), label);
        let error =
            wechatpay_core::Error::Verification(wechatpay_core::VerificationError::new(failure, StatusCode::OK, None));
        assert_eq!(error.label(), format!("verification: {label}"));
    }
}

fn without(mut request: Request<Vec<u8>>, name: &str) -> Request<Vec<u8>> {
    request.headers_mut().remove(name);
    request
}

fn with(mut request: Request<Vec<u8>>, name: &'static str, value: &str) -> Request<Vec<u8>> {
    request.headers_mut().insert(HeaderName::from_static(name), HeaderValue::from_str(value).unwrap());
    request
}

#[test]
fn checks_run_in_spec_order() {
    use VerificationFailure as F;
    let sig = |f| Err(NotificationError::Signature(f));
    let expect = direct();
    let ok = request("direct_success");
    assert!(parse_all(&ok, &expect, NOW).is_ok());

    let mut get = ok.clone();
    *get.method_mut() = Method::GET;
    assert_eq!(parse_all(&get, &expect, NOW), Err(NotificationError::MethodNotPost));

    for (name, shown) in [
        ("wechatpay-timestamp", "Wechatpay-Timestamp"),
        ("wechatpay-nonce", "Wechatpay-Nonce"),
        ("wechatpay-signature", "Wechatpay-Signature"),
        ("wechatpay-serial", "Wechatpay-Serial"),
    ] {
        assert_eq!(parse_all(&without(ok.clone(), name), &expect, NOW), sig(F::MissingHeader(shown)));
        let mut twice = ok.clone();
        let value = twice.headers()[name].clone();
        twice.headers_mut().append(HeaderName::from_static(name), value);
        assert_eq!(parse_all(&twice, &expect, NOW), sig(F::DuplicateHeader(shown)));
    }
    // Missing headers come before the probe; the probe before anything else about the signature.
    let probe = request("signtest");
    assert_eq!(
        parse_all(&without(probe.clone(), "wechatpay-nonce"), &expect, NOW),
        sig(F::MissingHeader("Wechatpay-Nonce"))
    );
    assert_eq!(parse_all(&probe, &expect, NOW + 10_000), sig(F::SignTestProbe));
    assert_eq!(
        parse_all(&with(probe, "wechatpay-signature-type", "WECHATPAY2-SM2-WITH-SM3"), &expect, NOW),
        sig(F::SignTestProbe)
    );
    assert_eq!(
        parse_all(&with(ok.clone(), "wechatpay-signature-type", "WECHATPAY2-SM2-WITH-SM3"), &expect, NOW),
        sig(F::UnsupportedSignatureType)
    );
    // The 300 s window, both directions, inclusive.
    for now in [NOW - 300, NOW + 300] {
        assert!(parse_all(&ok, &expect, now).is_ok());
    }
    assert_eq!(parse_all(&ok, &expect, NOW + 301), sig(F::StaleTimestamp { skew_secs: -301, max_secs: 300 }));
    assert_eq!(parse_all(&ok, &expect, NOW - 301), sig(F::StaleTimestamp { skew_secs: 301, max_secs: 300 }));
    let other_serial = "PUB_KEY_ID_0114232019092600000000000000000002";
    let unknown = with(ok.clone(), "wechatpay-serial", other_serial);
    assert_eq!(parse_all(&unknown, &expect, NOW), sig(F::UnknownSerial(other_serial.into())));
    // Stale beats unknown serial.
    assert!(matches!(
        parse_all(&unknown, &expect, NOW + 1000),
        Err(NotificationError::Signature(F::StaleTimestamp { .. }))
    ));
    // The platform key's serial with a signature by the public key: a mismatch.
    let swapped = with(ok.clone(), "wechatpay-serial", PLATFORM_SERIAL);
    assert_eq!(parse_all(&swapped, &expect, NOW), sig(F::SignatureMismatch));

    // One changed byte of the body, and the same JSON re-serialised by a framework.
    let mut tampered = ok.clone();
    let pos = tampered.body().windows(7).position(|w| w == b"encrypt").unwrap();
    tampered.body_mut()[pos] = b'E';
    assert_eq!(parse_all(&tampered, &expect, NOW), sig(F::SignatureMismatch));
    let mut reserialised = ok.clone();
    let value: Value = serde_json::from_slice(ok.body()).unwrap();
    *reserialised.body_mut() = serde_json::to_vec_pretty(&value).unwrap();
    assert_eq!(parse_all(&reserialised, &expect, NOW), sig(F::SignatureMismatch));

    // Another case's headers do not verify this body.
    let mut mixed = request("wrong_key");
    *mixed.body_mut() = request("direct_success").into_body();
    assert_eq!(parse_all(&mixed, &expect, NOW), sig(F::SignatureMismatch), "headers verify only their own body");
}

#[test]
fn the_parts_entry_point_agrees_with_the_request_one() {
    let req = request("parking_entrance");
    let b = Backend::default();
    let receiver = parking(None).receiver(keys(b), api_v3_key(b), NOW);
    let a = receiver.receive_request(&req);
    let p = receiver.receive(req.method(), req.headers(), req.body());
    assert_eq!(a, p);
    assert!(a.is_ok());
}

#[test]
fn errors_and_answers_leak_nothing() {
    let cases = [
        "wrong_aad",
        "wrong_key",
        "flipped_bit",
        "unsupported_algorithm",
        "signtest",
        "other_merchant",
        "bad_resource",
    ];
    let key_text = String::from_utf8(data("notifications/apiv3_key.txt")).unwrap();
    for case in cases {
        let req = request(case);
        let e = parse_case(case, &direct()).unwrap_err();
        let shown = format!("{e} {e:?}");
        let signature = req.headers()["wechatpay-signature"].to_str().unwrap();
        for secret in [key_text.trim(), &signature[..40], "1217752501201407033233368018", "oUpF8uMuAJO", "1900000999"] {
            assert!(!shown.contains(secret), "{case}: {shown}");
        }
        let answer = notify::answer(&Err::<(), _>(e.clone()));
        assert!(answer.status().is_client_error(), "{case}");
        assert_eq!(answer.body().as_slice(), notify::FAIL_BODY.as_bytes(), "{case}: one fixed body for every failure");
        assert_eq!(answer.headers()["content-type"], "application/json");
    }
    assert_eq!(notify::answer(&parse_case("signtest", &direct())).status(), StatusCode::UNAUTHORIZED);
    assert_eq!(notify::answer(&parse_case("wrong_key", &direct())).status(), StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(notify::FAIL_BODY).unwrap();
    assert_eq!(body["code"], "FAIL");
    let ok = notify::answer(&parse_case("direct_success", &direct()));
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert!(ok.body().is_empty());
    let later = notify::answer_retry_later();
    assert_eq!(later.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(serde_json::from_slice::<Value>(later.body()).unwrap()["code"], "FAIL");
}

#[test]
fn certificate_items_decrypt_to_the_platform_certificate() {
    let answer: Value = serde_json::from_slice(&data("notifications/certificates.json")).unwrap();
    let item: EncryptedResource = serde_json::from_value(answer["data"][0]["encrypt_certificate"].clone()).unwrap();
    let expected = String::from_utf8(data("platform_cert.pem")).unwrap();
    for b in backends() {
        let pem = api_v3_key(b).decrypt_certificate(&item).unwrap();
        assert_eq!(pem, expected);
        let mut store = KeyStore::with_backend(b);
        assert_eq!(store.add_platform_certificates(pem.as_bytes()).unwrap(), vec![PLATFORM_SERIAL.to_owned()]);
        let wrong = ApiV3Key::new("ZYXWVUTSRQPONMLKJIHGFEDCBA987654").unwrap().with_backend(b);
        assert_eq!(wrong.decrypt_certificate(&item), Err(DecryptError::Authentication));
    }
    // A notification resource is not a certificate, even under the right key.
    let envelope: Value = serde_json::from_slice(request("direct_success").body()).unwrap();
    let resource: EncryptedResource = serde_json::from_value(envelope["resource"].clone()).unwrap();
    assert!(api_v3_key(Backend::default()).decrypt(&resource).is_ok());
    assert_eq!(
        api_v3_key(Backend::default()).decrypt_certificate(&resource),
        Err(DecryptError::UnexpectedAssociatedData { expected: "certificate" })
    );
}

/// Knows every serial and accepts every signature, so random envelopes reach decryption.
#[derive(Debug)]
struct AcceptAll;

impl Verifier for AcceptAll {
    fn knows(&self, _serial: &str) -> bool {
        true
    }
    fn verify(&self, _serial: &str, _message: &[u8], _signature: &[u8]) -> Result<(), VerifyError> {
        Ok(())
    }
}

fn signed_looking_headers() -> &'static HeaderMap {
    static HEADERS: OnceLock<HeaderMap> = OnceLock::new();
    HEADERS.get_or_init(|| {
        let mut h = HeaderMap::new();
        h.insert("wechatpay-timestamp", HeaderValue::from(NOW));
        h.insert("wechatpay-nonce", HeaderValue::from_static("n"));
        let sig = base64::engine::general_purpose::STANDARD.encode([0u8; 256]);
        h.insert("wechatpay-signature", HeaderValue::from_str(&sig).unwrap());
        h.insert("wechatpay-serial", HeaderValue::from_static(PUB_KEY_ID));
        h
    })
}

/// An envelope around `plaintext`, encrypted with RustCrypto's `aes-gcm` directly.
fn sealed_envelope(event: &str, plaintext: &[u8]) -> Vec<u8> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let key = data("notifications/apiv3_key.txt");
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key[..32]).unwrap();
    let ct = cipher.encrypt(b"0123456789ab".into(), Payload { msg: plaintext, aad: b"transaction" }).unwrap();
    serde_json::to_vec(&serde_json::json!({
        "id": "EV-1", "create_time": "now", "event_type": event, "resource_type": "encrypt-resource", "summary": "",
        "resource": { "algorithm": "AEAD_AES_256_GCM", "nonce": "0123456789ab", "associated_data": "transaction",
                      "ciphertext": base64::engine::general_purpose::STANDARD.encode(ct) }
    }))
    .unwrap()
}

fn expectations() -> [Endpoint; 6] {
    [
        direct(),
        partner(None),
        parking(Some("1900000109")),
        partner(Some("1900000109")),
        any_kind(None),
        any_kind(Some("1900000109")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_headers_and_bytes_never_panic(
        headers in proptest::collection::vec(
            (prop::sample::select(vec!["wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature",
                                       "wechatpay-serial", "wechatpay-signature-type", "content-type"]),
             proptest::collection::vec(any::<u8>(), 0..40)), 0..8),
        body in proptest::collection::vec(any::<u8>(), 0..400),
        expect in 0usize..6,
    ) {
        let mut h = HeaderMap::new();
        for (name, value) in headers {
            if let Ok(v) = HeaderValue::from_bytes(&value) {
                h.append(name, v);
            }
        }
        let b = Backend::default();
        let real = expectations()[expect].receiver(keys(b), api_v3_key(b), NOW).receive(&Method::POST, &h, &body);
        prop_assert!(real.is_err(), "random bytes never verify");
        let accepted = expectations()[expect].receiver(AcceptAll, api_v3_key(b), NOW).receive(&Method::POST, signed_looking_headers(), &body);
        prop_assert!(accepted.is_err(), "random bytes never decrypt");
    }

    #[test]
    fn arbitrary_plaintexts_never_panic_and_only_ours_are_returned(
        event in prop::sample::select(vec!["TRANSACTION.SUCCESS", "TRANSACTION.FAIL", "VEHICLE.ENTRANCE_STATE_CHANGE", "REFUND.SUCCESS", "X"]),
        mchid_field in prop::sample::select(vec!["mchid", "sp_mchid", "sub_mchid", "other"]),
        mchid_value in prop::sample::select(vec!["1230000109", "1900000109", "1", ""]),
        extra in proptest::collection::vec(any::<u8>(), 0..60),
        raw in any::<bool>(),
        expect in 0usize..6,
    ) {
        let plaintext = if raw {
            extra.clone()
        } else {
            serde_json::to_vec(&serde_json::json!({
                mchid_field: mchid_value, "sub_mchid": "1900000109", "out_trade_no": "o", "trade_state": "SUCCESS",
                "trade_state_desc": "d", "parking_state": "NORMAL", "x": String::from_utf8_lossy(&extra),
            })).unwrap()
        };
        let body = sealed_envelope(event, &plaintext);
        for b in backends() {
            let expect = &expectations()[expect];
            match expect.receiver(AcceptAll, api_v3_key(b), NOW).receive(&Method::POST, signed_looking_headers(), &body) {
                Ok(n) => {
                    let v = resource_json(&n);
                    let ours = |f: &str, id: &str| v.get(f).is_none_or(|x| x == id);
                    let mchid = expect.mchid;
                    match expect.kind {
                        Some(Kind::Direct) => prop_assert!(ours("mchid", mchid)),
                        Some(Kind::Partner) => prop_assert!(ours("sp_mchid", mchid)),
                        Some(Kind::Parking) => prop_assert!(ours("sp_mchid", mchid) && ours("mchid", mchid)),
                        None => prop_assert!(ours("sp_mchid", mchid) && ours("mchid", mchid)),
                        _ => {}
                    }
                    if let Some(sub) = expect.sub_mchid {
                        prop_assert!(ours("sub_mchid", sub));
                    }
                    // A named kind is the kind of every typed resource it returns.
                    if let (Some(named), Some(kind)) = (expect.kind, n.resource.kind()) {
                        prop_assert_eq!(named, kind);
                    }
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }
}
