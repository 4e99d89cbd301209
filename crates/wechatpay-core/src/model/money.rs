//! Money: an integer count of fen (分), never a float.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in fen (1/100 yuan) as WeChat Pay sends it: a JSON integer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    /// The amount in fen.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl Fen {
    /// The amount in yuan with two decimals, e.g. `8.88` for `Fen(888)` (exact: integer
    /// arithmetic, no float).
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Display for Fen {
    /// The fen integer, as on the wire (`888`); yuan is [`Fen::to_yuan_string`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_refuses_floats() {
        assert_eq!(Fen(888).to_yuan_string(), "8.88");
        assert_eq!(Fen(-5).to_yuan_string(), "-0.05");
        assert_eq!(Fen(i64::MIN).to_yuan_string(), "-92233720368547758.08");
        // Display says what the type is: fen, not yuan.
        assert_eq!(Fen(888).to_string(), "888");
        assert_eq!(Fen(-5).to_string(), "-5");
        assert_eq!(format!("{:>5}", Fen(7)), "    7");
        assert!(serde_json::from_str::<Fen>("1.5").is_err());
        assert_eq!(serde_json::from_str::<Fen>("100").unwrap(), Fen(100));
    }
}
