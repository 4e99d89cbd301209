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

impl fmt::Display for Fen {
    /// Formats as yuan with two decimals, e.g. `8.88`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_refuses_floats() {
        assert_eq!(Fen(888).to_string(), "8.88");
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(i64::MIN).to_string(), "-92233720368547758.08");
        assert!(serde_json::from_str::<Fen>("1.5").is_err());
        assert_eq!(serde_json::from_str::<Fen>("100").unwrap(), Fen(100));
    }
}
