//! Validated identifiers. Each newtype can only hold a value that obeys its rule
//! (PROTOCOL.md §6), so a path built from it can never reach another endpoint.

use std::fmt;
use std::str::FromStr;

/// An input value broke its rule. Names the field, what is wrong and the rule; nothing was
/// signed or sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidInput {
    field: &'static str,
    problem: String,
    rule: &'static str,
}

impl InvalidInput {
    /// An error for `field` saying what is wrong (`problem`) and which rule applies.
    pub fn new(field: &'static str, problem: impl Into<String>, rule: &'static str) -> Self {
        Self { field, problem: problem.into(), rule }
    }

    /// The field's name, as the API spells it (`out_trade_no`, `sub_mchid`, ...).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What is wrong with the value.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    /// The rule the value must follow.
    pub fn rule(&self) -> &'static str {
        self.rule
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}; rule: {}", self.field, self.problem, self.rule)
    }
}

impl std::error::Error for InvalidInput {}

/// Checks `value` against a charset and a length range, describing the first problem.
pub(crate) fn check(
    field: &'static str,
    value: &str,
    max_len: usize,
    allowed: fn(u8) -> bool,
    rule: &'static str,
) -> Result<(), InvalidInput> {
    if value.is_empty() {
        return Err(InvalidInput::new(field, "is empty", rule));
    }
    if let Some((pos, c)) = value.char_indices().find(|&(_, c)| !c.is_ascii() || !allowed(c as u8)) {
        let shown = if c.is_ascii_graphic() { format!("'{c}'") } else { format!("{:?}", c) };
        return Err(InvalidInput::new(field, format!("contains {shown} at byte {pos}"), rule));
    }
    if value.len() > max_len {
        return Err(InvalidInput::new(field, format!("is {} characters long", value.len()), rule));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, field = $field:literal, max = $max:literal, allowed = $allowed:expr, rule = $rule:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("The rule a `", $field, "` must follow.")]
            pub const RULE: &'static str = $rule;

            #[doc = concat!("Validates a `", $field, "`.")]
            ///
            /// # Errors
            /// [`InvalidInput`] naming the field, the problem and the rule.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
                let value = value.into();
                check($field, &value, $max, $allowed, $rule)?;
                Ok(Self(value))
            }

            /// The value as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, InvalidInput> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidInput;
            fn try_from(s: &str) -> Result<Self, InvalidInput> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidInput;
            fn try_from(s: String) -> Result<Self, InvalidInput> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

fn is_out_trade_no_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*')
}

id_type!(
    /// A merchant order number (商户订单号): 1-32 of `[0-9A-Za-z_-|*]`.
    OutTradeNo, field = "out_trade_no", max = 32, allowed = is_out_trade_no_byte,
    rule = "1-32 characters of [0-9A-Za-z_-|*]"
);
id_type!(
    /// A WeChat Pay transaction id (微信支付订单号): 1-32 of `[0-9A-Za-z]`.
    TransactionId, field = "transaction_id", max = 32, allowed = |b| b.is_ascii_alphanumeric(),
    rule = "1-32 characters of [0-9A-Za-z]"
);
id_type!(
    /// A merchant id (`mchid`, `sp_mchid`): 1-32 digits.
    MchId, field = "mchid", max = 32, allowed = |b| b.is_ascii_digit(),
    rule = "1-32 digits"
);
id_type!(
    /// A sub-merchant id (`sub_mchid`): 1-32 digits.
    SubMchId, field = "sub_mchid", max = 32, allowed = |b| b.is_ascii_digit(),
    rule = "1-32 digits"
);
id_type!(
    /// A request nonce: 1-32 of `[0-9A-Za-z]` (32 random characters by convention).
    Nonce, field = "nonce", max = 32, allowed = |b| b.is_ascii_alphanumeric(),
    rule = "1-32 characters of [0-9A-Za-z]"
);

fn is_out_refund_no_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*' | b'@')
}

id_type!(
    /// A merchant refund number (商户退款单号): 1-64 of `[0-9A-Za-z_-|*@]` (PROTOCOL.md §15).
    OutRefundNo, field = "out_refund_no", max = 64, allowed = is_out_refund_no_byte,
    rule = "1-64 characters of [0-9A-Za-z_-|*@]"
);
id_type!(
    /// A WeChat Pay refund id (微信支付退款单号): 1-32 of `[0-9A-Za-z]`, like a transaction id.
    RefundId, field = "refund_id", max = 32, allowed = |b| b.is_ascii_alphanumeric(),
    rule = "1-32 characters of [0-9A-Za-z]"
);

fn is_app_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')
}

id_type!(
    /// An app id (`appid`, `sp_appid`, `sub_appid`): 1-32 of `[0-9A-Za-z_-]` (e.g. `wx8888888888888888`).
    AppId, field = "appid", max = 32, allowed = is_app_id_byte,
    rule = "1-32 characters of [0-9A-Za-z_-]"
);
id_type!(
    /// A user's openid under an app id (`openid`, `sp_openid`, `sub_openid`): 1-128 of `[0-9A-Za-z_-]`.
    OpenId, field = "openid", max = 128, allowed = is_app_id_byte,
    rule = "1-128 characters of [0-9A-Za-z_-]"
);

id_type!(
    /// The merchant's number for a car's entrance (`out_parking_no`, 商户入场ID): 1-64 of
    /// `[0-9A-Za-z_-|*]` (PROTOCOL.md §16). Not a [`ParkingId`]: a deduction never accepts it.
    OutParkingNo, field = "out_parking_no", max = 64, allowed = is_out_trade_no_byte,
    rule = "1-64 characters of [0-9A-Za-z_-|*]"
);
id_type!(
    /// WeChat Pay's id of a car's entrance (`parking_id`, the entrance answer's `id`, 停车入场ID):
    /// 1-32 of `[0-9A-Za-z_-]`. The only id a deduction accepts (never an [`OutParkingNo`]).
    ParkingId, field = "parking_id", max = 32, allowed = is_app_id_byte,
    rule = "1-32 characters of [0-9A-Za-z_-]"
);

/// Renames the field of an id error (`appid` → `sp_appid`, `openid` → `payer.sub_openid`, …).
fn renamed(field: &'static str, e: InvalidInput) -> InvalidInput {
    InvalidInput::new(field, e.problem(), e.rule())
}

impl AppId {
    /// [`AppId::new`] for a field with another name (`sp_appid`, `sub_appid`): the error names it.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `field`.
    pub fn named(field: &'static str, value: impl Into<String>) -> Result<Self, InvalidInput> {
        Self::new(value).map_err(|e| renamed(field, e))
    }
}

impl OpenId {
    /// [`OpenId::new`] for a field with another name (`payer.sp_openid`, …): the error names it.
    ///
    /// # Errors
    /// [`InvalidInput`] naming `field`.
    pub fn named(field: &'static str, value: impl Into<String>) -> Result<Self, InvalidInput> {
        Self::new(value).map_err(|e| renamed(field, e))
    }
}

/// The merchant API certificate serial (`serial_no`): hex, normalised to upper case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SerialNo(String);

impl SerialNo {
    /// The rule a `serial_no` must follow.
    pub const RULE: &'static str = "1-64 hexadecimal characters (normalised to upper case)";

    /// Validates a certificate serial and upper-cases it.
    ///
    /// # Errors
    /// [`InvalidInput`] naming the field, the problem and the rule.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
        let mut value = value.into();
        check("serial_no", &value, 64, |b| b.is_ascii_hexdigit(), Self::RULE)?;
        value.make_ascii_uppercase();
        Ok(Self(value))
    }

    /// The serial in upper-case hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SerialNo {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, InvalidInput> {
        Self::new(s)
    }
}

impl fmt::Display for SerialNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SerialNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SerialNo({:?})", self.0)
    }
}

impl Nonce {
    /// 32 characters of `[0-9A-Za-z]` from the operating system's CSPRNG.
    ///
    /// # Errors
    /// An I/O error if the operating system's random source fails (it converts into a
    /// [`crate::crypto::SignError`] with `?`).
    pub fn random() -> std::io::Result<Self> {
        const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut out = String::with_capacity(32);
        let mut buf = [0u8; 64];
        while out.len() < 32 {
            getrandom::fill(&mut buf).map_err(|e| std::io::Error::other(e.to_string()))?;
            // Rejection sampling keeps every character equally likely.
            for &b in buf.iter().filter(|&&b| b < 248) {
                if out.len() == 32 {
                    break;
                }
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
        Ok(Self(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_ids() {
        assert!(OutTradeNo::new("1217752501201407033233368018").is_ok());
        assert!(OutTradeNo::new("A|B*c-d_e").is_ok());
        assert!(OutTradeNo::new("x".repeat(32)).is_ok());
        assert!(TransactionId::new("4200000985202103031441826014").is_ok());
        assert!(MchId::new("1230000109").is_ok());
        assert_eq!(
            SerialNo::new("444f4864ea9b34415c8c4d3f4ea5b46d0e2dcfc0").unwrap().as_str(),
            "444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0"
        );
    }

    #[test]
    fn rejects_dangerous_ids_naming_field_and_rule() {
        for bad in ["../x", "a?mchid=1", "a b", "订单", "", "a/b", "a%2F", "a#b", "a\nb"] {
            let err = OutTradeNo::new(bad).unwrap_err();
            assert_eq!(err.field(), "out_trade_no");
            assert!(err.to_string().contains("rule: 1-32 characters"), "{err}");
        }
        let err = OutTradeNo::new("x".repeat(33)).unwrap_err();
        assert_eq!(err.problem(), "is 33 characters long");
        assert_eq!(
            MchId::new("12a").unwrap_err().to_string(),
            "invalid mchid: contains 'a' at byte 2; rule: 1-32 digits"
        );
        assert_eq!(SubMchId::new("").unwrap_err().to_string(), "invalid sub_mchid: is empty; rule: 1-32 digits");
        assert!(TransactionId::new("42_0").is_err());
    }

    #[test]
    fn random_nonces_are_valid_and_differ() {
        let a = Nonce::random().unwrap();
        let b = Nonce::random().unwrap();
        assert_eq!(a.as_str().len(), 32);
        assert!(Nonce::new(a.as_str()).is_ok());
        assert_ne!(a, b);
    }
}
