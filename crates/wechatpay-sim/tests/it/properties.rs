//! Property tests of the server-side `Authorization` parser: every request the core signs
//! carries a header the simulator parses to the timestamp and nonce signed, under a
//! signature that verifies over the request target as sent; arbitrary input never panics
//! it, and what it accepts re-serialises to the same fields.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use proptest::prelude::*;
use wechatpay_core::api::*;
use wechatpay_core::{Config, Host, Nonce, OutTradeNo, PublicKey, SigningInput, SubMchId, TransactionId};
use wechatpay_sim::Simulator;
use wechatpay_sim::auth::parse_authorization;

/// The merchant's public key: the simulator verifies requests with it.
const MERCHANT_PUB_PEM: &str = include_str!("../../testdata/merchant_pub.pem");

/// The simulated merchant's configuration (the simulator itself is not needed after).
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| Simulator::start().unwrap().config_builder().build().unwrap())
}

fn valid_out_trade_no() -> impl Strategy<Value = String> {
    "[0-9A-Za-z_|*-]{1,32}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn valid_ids_build_and_the_signed_message_is_the_request(
        no in valid_out_trade_no(),
        id in "[0-9A-Za-z]{1,32}",
        sub in "[0-9]{1,32}",
        ts in 1_000_000_000u64..4_000_000_000,
        nonce in "[0-9A-Za-z]{1,32}",
    ) {
        let config = config();
        let key = PublicKey::from_pem(MERCHANT_PUB_PEM.as_bytes()).unwrap();
        let no = OutTradeNo::new(no).unwrap();
        let id = TransactionId::new(id).unwrap();
        let sub = SubMchId::new(sub).unwrap();
        let input = || SigningInput::new(ts, Nonce::new(nonce.clone()).unwrap());
        let requests = [
            wechatpay_core::prepare(config, &QueryOrderByOutTradeNo { out_trade_no: no.clone() }, Host::Primary, input()).and_then(|p| p.sign(config.signer())),
            wechatpay_core::prepare(config, &QueryOrderByTransactionId { transaction_id: id.clone() }, Host::Backup, input()).and_then(|p| p.sign(config.signer())),
            wechatpay_core::prepare(config, &QueryPartnerOrderByOutTradeNo { sub_mchid: sub.clone(), out_trade_no: no.clone() }, Host::Primary, input()).and_then(|p| p.sign(config.signer())),
            wechatpay_core::prepare(config, &QueryPartnerOrderByTransactionId { sub_mchid: sub.clone(), transaction_id: id }, Host::Primary, input()).and_then(|p| p.sign(config.signer())),
            wechatpay_core::prepare(config, &QueryParkingOrder { out_trade_no: no, sub_mchid: Some(sub) }, Host::Primary, input()).and_then(|p| p.sign(config.signer())),
        ];
        for request in requests {
            let request = request.unwrap();
            let target = request.uri().path_and_query().unwrap().as_str().to_owned();
            prop_assert!(target.starts_with("/v3/"));
            prop_assert!(!target.contains("..") && !target.contains('|') && target.matches('?').count() <= 1);
            let auth = parse_authorization(request.headers()["authorization"].to_str().unwrap()).unwrap();
            prop_assert_eq!(&auth.timestamp, &ts.to_string());
            prop_assert_eq!(&auth.nonce_str, &nonce);
            let message = format!("GET\n{target}\n{ts}\n{nonce}\n\n");
            let sig = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &auth.signature).unwrap();
            prop_assert!(key.verify(message.as_bytes(), &sig).is_ok());
        }
    }

    #[test]
    fn the_parser_never_panics_and_round_trips(value in "\\PC{0,200}", fields in proptest::collection::vec("[ -~]{0,12}", 5)) {
        let _ = parse_authorization(&value);
        let quoted: Vec<String> = fields.iter().map(|f| f.replace('"', "")).collect();
        let header = format!(
            "WECHATPAY2-SHA256-RSA2048 serial_no=\"{}\",mchid=\"{}\",timestamp=\"{}\",nonce_str=\"{}\",signature=\"{}\"",
            quoted[0], quoted[1], quoted[2], quoted[3], quoted[4]
        );
        let f = parse_authorization(&header).unwrap();
        prop_assert_eq!(
            [f.serial_no, f.mchid, f.timestamp, f.nonce_str, f.signature],
            [quoted[0].clone(), quoted[1].clone(), quoted[2].clone(), quoted[3].clone(), quoted[4].clone()]
        );
    }
}
