//! Every operation's success path and every error code the simulator serves, through both
//! adapters over loopback HTTP.

use wechatpay_core::model::Transaction;
use wechatpay_core::{Error, MchId, PrivateKey, api::Operation, retry::RetryPolicy};
use wechatpay_tests::*;

#[test]
fn every_operation_succeeds() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::with_defaults(adapter, config(&sim));

        let order = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap();
        assert_eq!(order.out_trade_no, SEED_OUT_TRADE_NO, "{adapter:?}");
        assert_eq!(order.trade_state.as_str(), "SUCCESS", "{adapter:?}");
        assert_eq!(order.amount.and_then(|a| a.total).map(|f| f.to_yuan_string()).as_deref(), Some("1.00"));

        // `|` is percent-encoded in the path and signed as sent.
        let piped = client.execute(&by_out_trade_no("SIM|PIPE*0001")).unwrap();
        assert_eq!(piped.out_trade_no, "SIM|PIPE*0001", "{adapter:?}");

        let order = client.execute(&by_transaction_id("4200000985202103031441826014")).unwrap();
        assert_eq!(order.out_trade_no, SEED_OUT_TRADE_NO, "{adapter:?}");

        let partner = client.execute(&partner_by_out_trade_no(SUB_MCHID, SEED_OUT_TRADE_NO)).unwrap();
        assert_eq!((partner.sub_mchid.as_str(), partner.trade_state.as_str()), (SUB_MCHID, "SUCCESS"), "{adapter:?}");

        let partner = client.execute(&partner_by_transaction_id(SUB_MCHID, "4200000991202103031441826020")).unwrap();
        assert_eq!(partner.out_trade_no, SEED_OUT_TRADE_NO, "{adapter:?}");

        let park = client.execute(&parking("20150806125346", Some(SUB_MCHID))).unwrap();
        assert_eq!(park.trade_state.as_str(), "SUCCESS", "{adapter:?}");
        assert_eq!(park.sub_mchid.as_deref(), Some(SUB_MCHID), "{adapter:?}");

        let park = client.execute(&parking("SIM_PARKING_0001", None)).unwrap();
        assert_eq!(park.trade_state.as_str(), "ACCEPTED", "{adapter:?}");

        assert_eq!(sim.requests_seen(), 7, "{adapter:?}: one request per call");
    }
}

#[test]
fn every_trade_state_of_the_seeds_parses() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::with_defaults(adapter, config(&sim));
        for (no, state) in [
            ("SIM_NOTPAY_0001", "NOTPAY"),
            ("SIM_CLOSED_0001", "CLOSED"),
            ("SIM_USERPAYING_0001", "USERPAYING"),
            ("SIM_REFUND_0001", "REFUND"),
            ("SIM_REVOKED_0001", "REVOKED"),
            ("SIM_PAYERROR_0001", "PAYERROR"),
            // An enum value this SDK does not know survives as its string.
            ("SIM_FUTURE_0001", "PARTIAL_REFUND"),
        ] {
            let order = client.execute(&by_out_trade_no(no)).unwrap();
            assert_eq!(order.trade_state.as_str(), state, "{adapter:?} {no}");
        }
    }
}

#[test]
fn answers_signed_with_the_platform_certificate_verify_too() {
    for adapter in ADAPTERS {
        let sim = sim();
        let config = sim.config_builder().wechatpay_serial(sim.credentials().platform_serial()).build().unwrap();
        let client = TestClient::with_defaults(adapter, config);
        let order = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).unwrap();
        assert_eq!(order.trade_state.as_str(), "SUCCESS", "{adapter:?}");
    }
}

/// Asserts a typed API error and returns it.
fn api_error(
    adapter: Adapter,
    result: Result<impl std::fmt::Debug, Error>,
    status: u16,
    code: &str,
) -> wechatpay_core::ApiError {
    match result {
        Err(Error::Api(e)) => {
            assert_eq!((e.status.as_u16(), e.code.as_str()), (status, code), "{adapter:?}: {e:?}");
            assert!(e.request_id.as_deref().is_some_and(|id| !id.is_empty()), "{adapter:?}: {e:?} has no Request-ID");
            e
        }
        other => panic!("{adapter:?}: expected {status} {code}, got {other:?}"),
    }
}

#[test]
fn not_found_codes() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let e = api_error(adapter, client.execute(&by_out_trade_no("NO_SUCH_ORDER")), 404, "ORDER_NOT_EXIST");
        assert!(e.verified, "{adapter:?}: the simulator signs its errors");
        api_error(adapter, client.execute(&by_transaction_id("1")), 404, "ORDER_NOT_EXIST");
        api_error(
            adapter,
            client.execute(&partner_by_out_trade_no(SUB_MCHID, "NO_SUCH_ORDER")),
            404,
            "ORDER_NOT_EXIST",
        );
        api_error(adapter, client.execute(&partner_by_transaction_id(SUB_MCHID, "1")), 404, "ORDER_NOT_EXIST");
        api_error(adapter, client.execute(&parking("nope", None)), 404, "NOT_FOUND");
        // 4xx answers are final: one request each.
        assert_eq!(sim.requests_seen(), 5, "{adapter:?}");
    }
}

#[test]
fn unbound_sub_merchant_is_an_invalid_request() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::with_defaults(adapter, config(&sim));
        api_error(
            adapter,
            client.execute(&partner_by_out_trade_no("1900000999", SEED_OUT_TRADE_NO)),
            400,
            "INVALID_REQUEST",
        );
        api_error(adapter, client.execute(&parking("SIM_PARKING_0001", Some("1"))), 400, "INVALID_REQUEST");
        assert_eq!(sim.requests_seen(), 2, "{adapter:?}");
    }
}

/// A hand-written operation that leaves out the required `mchid` (the typed operations
/// cannot), to reach the simulator's `PARAM_ERROR`.
struct WithoutMchid;

impl Operation for WithoutMchid {
    type Output = Transaction;
    const NAME: &'static str = "test_without_mchid";
    fn method(&self) -> wechatpay_core::http::Method {
        wechatpay_core::http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn target(&self, _mchid: &MchId) -> wechatpay_core::api::Target {
        wechatpay_core::api::Target::path(&["v3", "pay", "transactions", "id", "4200000985202103031441826014"])
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// Nothing to bind: a test operation.
    fn check_answer(
        &self,
        _mchid: &MchId,
        _answer: &Transaction,
    ) -> Result<wechatpay_core::api::Binding, wechatpay_core::VerificationFailure> {
        wechatpay_core::api::nothing_to_bind()
    }
}

/// An endpoint the simulator does not serve.
struct NoSuchApi;

impl Operation for NoSuchApi {
    type Output = Transaction;
    const NAME: &'static str = "test_no_such_api";
    fn method(&self) -> wechatpay_core::http::Method {
        wechatpay_core::http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn target(&self, _mchid: &MchId) -> wechatpay_core::api::Target {
        wechatpay_core::api::Target::path(&["v3", "no", "such", "api"])
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// Nothing to bind: a test operation.
    fn check_answer(
        &self,
        _mchid: &MchId,
        _answer: &Transaction,
    ) -> Result<wechatpay_core::api::Binding, wechatpay_core::VerificationFailure> {
        wechatpay_core::api::nothing_to_bind()
    }
}

#[test]
fn parameter_errors_carry_their_detail() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::with_defaults(adapter, config(&sim));
        let e = api_error(adapter, client.execute(&WithoutMchid), 400, "PARAM_ERROR");
        assert_eq!((e.field(), e.location()), (Some("mchid"), Some("query")), "{adapter:?}: {e:?}");
        api_error(adapter, client.execute(&NoSuchApi), 404, "NOT_FOUND");
    }
}

#[test]
fn a_wrong_merchant_key_is_a_sign_error_with_the_servers_message() {
    let wrong_key = std::sync::Arc::new(
        PrivateKey::from_pem(include_bytes!("../../../crates/wechatpay-sim/testdata/wechatpay_key.pem")).unwrap(),
    );
    for adapter in ADAPTERS {
        let sim = sim();
        let config = sim.config_builder().signer(std::sync::Arc::clone(&wrong_key)).build().unwrap();
        let client = TestClient::with_defaults(adapter, config);
        let e = api_error(adapter, client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)), 401, "SIGN_ERROR");
        let message = e.truncated_sign_message().unwrap_or_default();
        assert!(message.starts_with("GET\n/v3/pay/transactions/out-trade-no/"), "{adapter:?}: {message:?}");
        assert_eq!(sim.requests_seen(), 1, "{adapter:?}: 401 is never retried");
    }
}

#[test]
fn rate_limits_and_system_errors_surface_when_retries_are_off() {
    for adapter in ADAPTERS {
        let sim = sim();
        let client = TestClient::new(adapter, config(&sim), RetryPolicy::none(), std::time::Duration::from_secs(30));
        sim.inject(Fault::RateLimited, Times::Next(1), None);
        api_error(adapter, client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)), 429, "FREQUENCY_LIMITED");
        sim.inject(Fault::RateLimited, Times::Next(1), Some(Route::Parking));
        api_error(adapter, client.execute(&parking("SIM_PARKING_0001", None)), 429, "RATELIMIT_EXCEEDED");
        sim.inject(Fault::SystemError, Times::Next(1), None);
        api_error(adapter, client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)), 500, "SYSTEM_ERROR");
        sim.inject(Fault::HtmlBadGateway, Times::Next(1), None);
        match client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)) {
            Err(Error::UnexpectedResponse(e)) => {
                assert_eq!(e.status.as_u16(), 502, "{adapter:?}");
                assert!(!e.verified, "{adapter:?}");
            }
            other => panic!("{adapter:?}: expected an unexpected 502, got {other:?}"),
        }
        assert_eq!(sim.requests_seen(), 4, "{adapter:?}");
    }
}

/// `api::Json` through both adapters against the simulator: the verified text of a query is
/// the answer the typed operation reads, a close is an empty `204`, an error is typed.
#[test]
fn the_generic_json_call_reads_what_the_typed_one_reads() {
    use wechatpay_core::api::Json;
    use wechatpay_core::http::Method;
    for adapter in ADAPTERS {
        let sim = sim();
        let config = config(&sim);
        let mchid = config.mchid().to_string();
        let client = TestClient::with_defaults(adapter, config);
        let typed = client.execute(&by_out_trade_no("SIM|PIPE*0001")).unwrap();
        let target = format!("/v3/pay/transactions/out-trade-no/SIM%7CPIPE*0001?mchid={mchid}");
        let text = client.execute(&Json::new(Method::GET, &target, None).unwrap()).unwrap();
        let text = text.as_str().expect("a JSON answer");
        let parsed: Transaction = serde_json::from_str(text).unwrap();
        assert_eq!(parsed, typed, "{adapter:?}");

        let close = Json::new(
            Method::POST,
            "/v3/pay/transactions/out-trade-no/SIM_NOTPAY_0001/close",
            Some(&format!(r#"{{"mchid":"{mchid}"}}"#)),
        )
        .unwrap();
        assert_eq!(client.execute(&close).unwrap().as_str(), None, "{adapter:?}: a 204 is no text");
        let order = client.execute(&by_out_trade_no("SIM_NOTPAY_0001")).unwrap();
        assert_eq!(order.trade_state.as_str(), "CLOSED", "{adapter:?}");

        let missing = Json::new(Method::GET, &format!("/v3/pay/transactions/out-trade-no/NOPE?mchid={mchid}"), None);
        api_error(adapter, client.execute(&missing.unwrap()), 404, "ORDER_NOT_EXIST");
    }
}
