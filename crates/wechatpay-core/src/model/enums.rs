//! Every enumerated field of the responses in scope, as open enums.

use super::open_enum::open_enum;

open_enum! {
    /// How the order was paid (`trade_type`).
    pub enum TradeType {
        /// Official account / mini program (公众号支付).
        Jsapi = "JSAPI",
        /// QR code (扫码支付).
        Native = "NATIVE",
        /// In-app (APP支付).
        App = "APP",
        /// Payment code scanned by the merchant (付款码支付).
        Micropay = "MICROPAY",
        /// Mobile web (H5支付).
        Mweb = "MWEB",
        /// Face payment (刷脸支付).
        Facepay = "FACEPAY",
    }
}

open_enum! {
    /// State of a direct or partner order (`trade_state`).
    pub enum TradeState {
        /// Paid (支付成功).
        Success = "SUCCESS",
        /// Moved to refund (转入退款).
        Refund = "REFUND",
        /// Not paid (未支付).
        NotPay = "NOTPAY",
        /// Closed (已关闭).
        Closed = "CLOSED",
        /// Revoked; payment code only (已撤销).
        Revoked = "REVOKED",
        /// The user is paying; payment code only (用户支付中).
        UserPaying = "USERPAYING",
        /// Payment failed; payment code only (支付失败).
        PayError = "PAYERROR",
    }
}

open_enum! {
    /// State of a parking-service order (`trade_state`).
    pub enum ParkingTradeState {
        /// Paid (支付成功).
        Success = "SUCCESS",
        /// Accepted, waiting to be charged (已接收,等待扣款).
        Accepted = "ACCEPTED",
        /// Accepted, the other spelling WeChat Pay's pages use (PROTOCOL.md §16): pending,
        /// like `ACCEPTED`.
        Accept = "ACCEPT",
        /// Payment failed, e.g. the bank declined (支付失败).
        PayFail = "PAY_FAIL",
        /// Failed: the spelling parking `TRANSACTION.FAIL` notifications are seen to use
        /// (PROTOCOL.md §8).
        Fail = "FAIL",
        /// Moved to refund (转入退款).
        Refund = "REFUND",
    }
}

open_enum! {
    /// Colour of a number plate (`plate_color`).
    pub enum PlateColor {
        /// 蓝色.
        Blue = "BLUE",
        /// 绿色.
        Green = "GREEN",
        /// 黄色.
        Yellow = "YELLOW",
        /// 黑色.
        Black = "BLACK",
        /// 白色.
        White = "WHITE",
        /// 黄绿色.
        LimeGreen = "LIMEGREEN",
    }
}

open_enum! {
    /// Scope of a promotion (`scope`).
    pub enum PromotionScope {
        /// Whole-order coupon (全场代金券).
        Global = "GLOBAL",
        /// Single-item discount (单品优惠).
        Single = "SINGLE",
    }
}

open_enum! {
    /// Kind of a promotion (`type`).
    pub enum PromotionType {
        /// Funded (充值).
        Cash = "CASH",
        /// Not pre-funded (预充值 / 免充值).
        NoCash = "NOCASH",
    }
}

open_enum! {
    /// ISO 4217 currency code (`currency`, `payer_currency`).
    pub enum Currency {
        /// Chinese yuan; amounts are in fen (分).
        Cny = "CNY",
    }
}

open_enum! {
    /// Scene of a parking-service order (`trade_scene`).
    pub enum TradeScene {
        /// A car park (车场停车场景).
        Parking = "PARKING",
    }
}

open_enum! {
    /// Whether the user has repaid an order WeChat Pay advanced (`user_repaid`); meaningful
    /// only when `bank_type` is `BPA` and `trade_state` is `SUCCESS`.
    pub enum UserRepaid {
        /// Repaid (用户已还款).
        Yes = "Y",
        /// Not repaid (用户未还款).
        No = "N",
    }
}

open_enum! {
    /// A WeChat Pay error code (`code` of an error body).
    pub enum ErrorCode {
        /// 400: a parameter is wrong.
        ParamError = "PARAM_ERROR",
        /// 400: the request breaks the API v3 rules, or the sub-merchant is not bound.
        InvalidRequest = "INVALID_REQUEST",
        /// 400: AppID and mchid do not match.
        AppidMchidNotMatch = "APPID_MCHID_NOT_MATCH",
        /// 400 to a bill application: no bill for that day (no business, or no flow on
        /// that account); a normal outcome, never retried.
        NoStatementExist = "NO_STATEMENT_EXIST",
        /// 400 to a bill application: the bill is not generated yet; ask again later.
        StatementCreating = "STATEMENT_CREATING",
        /// 400: the merchant does not exist.
        MchNotExists = "MCH_NOT_EXISTS",
        /// 400: the order is closed.
        OrderClosed = "ORDER_CLOSED",
        /// 401: the request signature was rejected.
        SignError = "SIGN_ERROR",
        /// 403: the user's account is abnormal.
        AccountError = "ACCOUNT_ERROR",
        /// 403: the merchant lacks permission for this API.
        NoAuth = "NO_AUTH",
        /// 403: insufficient balance.
        NotEnough = "NOT_ENOUGH",
        /// 403: duplicate merchant order number.
        OutTradeNoUsed = "OUT_TRADE_NO_USED",
        /// 403: a business rule limits the request.
        RuleLimit = "RULE_LIMIT",
        /// 403: the trade failed for a business reason.
        TradeError = "TRADE_ERROR",
        /// 404: no such order (direct and partner APIs).
        OrderNotExist = "ORDER_NOT_EXIST",
        /// 404: no such order (parking API).
        NotFound = "NOT_FOUND",
        /// 404 to `GET /v3/certificates`: the merchant has no platform certificate; use the
        /// WeChat Pay public key (`PUB_KEY_ID_…`) instead (PROTOCOL.md §9).
        ResourceNotExists = "RESOURCE_NOT_EXISTS",
        /// 429: too frequent.
        FrequencyLimited = "FREQUENCY_LIMITED",
        /// 429: rate limit reached (parking API).
        RatelimitExceeded = "RATELIMIT_EXCEEDED",
        /// 500: system error; repeat with the same parameters.
        SystemError = "SYSTEM_ERROR",
        /// 500: system error, spelled as in the official error table (sic).
        SysteMerror = "SYSTE_MERROR",
        /// 500: bank system error; repeat with the same parameters.
        BankError = "BANK_ERROR",
        /// 500: invalid transaction id.
        InvalidTransactionid = "INVALID_TRANSACTIONID",
        /// 500: OpenID and AppID do not match.
        OpenidMismatch = "OPENID_MISMATCH",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_values_round_trip() {
        for state in TradeState::KNOWN {
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(&serde_json::from_str::<TradeState>(&json).unwrap(), state);
        }
        let odd: TradeState = serde_json::from_str("\"PARTIAL_REFUND\"").unwrap();
        assert!(matches!(&odd, TradeState::Unknown(v) if v.as_str() == "PARTIAL_REFUND"));
        assert_eq!(odd, TradeState::from("PARTIAL_REFUND"));
        assert!(!odd.is_known());
        assert_eq!(serde_json::to_string(&odd).unwrap(), "\"PARTIAL_REFUND\"");
        assert_eq!(ErrorCode::from("SYSTE_MERROR"), ErrorCode::SysteMerror);
        assert_eq!(UserRepaid::from("Y").as_str(), "Y");
        assert!(serde_json::from_str::<TradeState>("1").is_err());
    }

    #[test]
    fn known_strings_never_become_unknown() {
        // Every path from a string (From<&str>, From<String>, FromStr, serde) picks the
        // known variant; `Unknown` cannot be built by hand, so it cannot shadow one.
        for state in TradeState::KNOWN {
            let s = state.as_str();
            assert_eq!(&TradeState::from(s), state);
            assert_eq!(&TradeState::from(s.to_owned()), state);
            assert_eq!(&s.parse::<TradeState>().unwrap(), state);
            assert_eq!(&serde_json::from_value::<TradeState>(serde_json::Value::String(s.into())).unwrap(), state);
        }
        // Matching is exact: case and whitespace variants are unknown values, kept verbatim.
        for odd in ["success", "SUCCESS ", " SUCCESS"] {
            let v = TradeState::from(odd);
            assert!(matches!(&v, TradeState::Unknown(u) if u.as_str() == odd), "{odd:?}");
            assert_ne!(v, TradeState::Success);
        }
        assert_eq!(format!("{:?}", TradeState::from("X")), "Unknown(\"X\")");
    }
}
