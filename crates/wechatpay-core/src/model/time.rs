//! RFC 3339 times as WeChat Pay sends them (`2018-06-08T10:34:56+08:00`), kept verbatim.
//!
//! [`Rfc3339`] keeps the exact wire text (so a response serialises back byte for byte) and
//! offers the Unix time and offset. For calendar arithmetic, formatting or time zones, the
//! optional feature `jiff` converts it to [`jiff`](https://docs.rs/jiff) types. Jiff was
//! chosen because it is maintained, treats RFC 3339 instants and fixed offsets exactly (no
//! lossy "local time" defaults), and works with `default-features = false` plus `std`, so
//! the feature adds no time-zone database and no system access; users who want
//! `Asia/Shanghai` enable Jiff's own time-zone features in their crate.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::calendar::{civil_from_days, days_from_civil, days_in_month};

/// Beijing time's offset from UTC, in minutes.
const BEIJING_MINUTES: i32 = 8 * 60;

/// A validated RFC 3339 date-time with its offset. The original text is kept, so it
/// serialises back byte for byte.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Rfc3339 {
    text: String,
    unix: i64,
    /// The fraction of a second in nanoseconds (digits past the ninth are dropped).
    nanos: u32,
    offset_minutes: i32,
}

impl Rfc3339 {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    ///
    /// # Errors
    /// A message naming the part that is wrong.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let b = text.as_bytes();
        let num = |range: std::ops::Range<usize>| -> Result<i64, &'static str> {
            let part = b.get(range).ok_or("too short for an RFC 3339 time")?;
            if part.iter().all(u8::is_ascii_digit) {
                Ok(part.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
            } else {
                Err("expected digits in an RFC 3339 time")
            }
        };
        let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
            return Err("not in the form YYYY-MM-DDTHH:MM:SS+HH:MM");
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err("date out of range");
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err("time of day out of range");
        }
        let mut i = 19;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit()) {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(d - b'0');
                }
                i += 1;
            }
            if i == start {
                return Err("empty fraction of a second");
            }
            for _ in (i - start)..9 {
                nanos *= 10;
            }
        }
        let offset_minutes = match b.get(i) {
            Some(b'Z' | b'z') if b.len() == i + 1 => 0,
            Some(&s @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
                let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
                if h > 23 || m > 59 {
                    return Err("offset out of range");
                }
                let minutes = (h * 60 + m) as i32;
                if s == b'-' { -minutes } else { minutes }
            }
            _ => return Err("missing or malformed offset (Z or +HH:MM)"),
        };
        let days = days_from_civil(year, month, day);
        let unix = days * 86_400 + hour * 3600 + minute * 60 + second - i64::from(offset_minutes) * 60;
        Ok(Self { text: text.to_owned(), unix, nanos, offset_minutes })
    }

    /// `time` as WeChat Pay writes times: RFC 3339 in Beijing time, to the second
    /// (`2026-11-23T22:06:01+08:00`); a fraction of a second is dropped.
    pub fn beijing(time: SystemTime) -> Self {
        let unix = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            // Before 1970: round towards the past, as `unix_timestamp` does.
            Err(before) => {
                let d = before.duration();
                -i64::try_from(d.as_secs()).unwrap_or(i64::MAX) - i64::from(d.subsec_nanos() > 0)
            }
        };
        let local = unix.saturating_add(i64::from(BEIJING_MINUTES) * 60);
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        let secs = local.rem_euclid(86_400);
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let text = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}+08:00");
        Self { text, unix, nanos: 0, offset_minutes: BEIJING_MINUTES }
    }

    /// The text exactly as received.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Seconds since the Unix epoch (a fraction of a second is dropped: rounded towards the past).
    pub fn unix_timestamp(&self) -> i64 {
        self.unix
    }

    /// The offset from UTC in minutes (`+08:00` is 480).
    pub fn offset_minutes(&self) -> i32 {
        self.offset_minutes
    }
}

#[cfg(feature = "jiff")]
impl Rfc3339 {
    /// The instant as a [`jiff::Timestamp`], with the fraction of a second to the
    /// nanosecond (digits past the ninth are dropped). A leap second (`23:59:60`) is the
    /// first second of the next minute, as in [`Rfc3339::unix_timestamp`].
    ///
    /// # Errors
    /// When the instant is outside Jiff's range (which ends on 9999-12-30 UTC, so for
    /// example `9999-12-31T00:00:00Z` has no `Timestamp`).
    pub fn to_jiff_timestamp(&self) -> Result<jiff::Timestamp, jiff::Error> {
        let nanos = i32::try_from(self.nanos).unwrap_or(999_999_999);
        jiff::Timestamp::new(self.unix, nanos)
    }

    /// The date-time in the fixed offset it was sent with, as a [`jiff::ZonedDateTime`]
    /// (`2018-06-08T10:34:56+08:00` stays 10:34:56 at `+08:00`). Convert it to a named
    /// zone with Jiff when needed.
    ///
    /// # Errors
    /// As [`Rfc3339::to_jiff_timestamp`].
    pub fn to_jiff_zoned(&self) -> Result<jiff::ZonedDateTime, jiff::Error> {
        let offset = jiff::tz::Offset::from_seconds(self.offset_minutes * 60)?;
        Ok(self.to_jiff_timestamp()?.to_zoned_datetime(jiff::tz::TimeZone::fixed(offset)))
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rfc3339({:?})", self.text)
    }
}

impl std::str::FromStr for Rfc3339 {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Rfc3339 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Rfc3339;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 date-time string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Rfc3339, E> {
                Rfc3339::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wechat_times() {
        let t = Rfc3339::parse("2018-06-08T10:34:56+08:00").unwrap();
        assert_eq!(t.unix_timestamp(), 1_528_425_296);
        assert_eq!(t.offset_minutes(), 480);
        assert_eq!(t.as_str(), "2018-06-08T10:34:56+08:00");
        assert_eq!(Rfc3339::parse("1970-01-01T00:00:00Z").unwrap().unix_timestamp(), 0);
        assert_eq!(Rfc3339::parse("2000-02-29T23:59:59.123-01:30").unwrap().unix_timestamp(), 951_868_799 + 5400);
    }

    #[test]
    fn writes_beijing_times() {
        use std::time::Duration;
        let at = |unix: u64| Rfc3339::beijing(UNIX_EPOCH + Duration::from_secs(unix));
        // Expected values from `TZ=Asia/Shanghai date -d @N --iso-8601=seconds` (GNU date).
        for (unix, text) in [
            (0, "1970-01-01T08:00:00+08:00"),
            (951_782_400, "2000-02-29T08:00:00+08:00"),
            (1_528_425_296, "2018-06-08T10:34:56+08:00"),
            (4_102_444_799, "2100-01-01T07:59:59+08:00"),
        ] {
            let t = at(unix);
            assert_eq!(t.as_str(), text);
            assert_eq!(Rfc3339::parse(text).unwrap(), t, "the same value as parsing its text");
        }
        let before = Rfc3339::beijing(UNIX_EPOCH - Duration::from_millis(500));
        assert_eq!((before.as_str(), before.unix_timestamp()), ("1970-01-01T07:59:59+08:00", -1));
        assert_eq!(Rfc3339::beijing(UNIX_EPOCH + Duration::from_millis(1_999)).unix_timestamp(), 1);
    }

    #[cfg(feature = "jiff")]
    #[test]
    fn converts_to_jiff() {
        let t = Rfc3339::parse("2018-06-08T10:34:56.25+08:00").unwrap();
        let ts = t.to_jiff_timestamp().unwrap();
        assert_eq!(ts.to_string(), "2018-06-08T02:34:56.25Z");
        assert_eq!(ts.as_second(), t.unix_timestamp());
        let zoned = t.to_jiff_zoned().unwrap();
        assert_eq!(zoned.to_string(), "2018-06-08T10:34:56.25+08:00[+08:00]");
        assert_eq!((zoned.hour(), zoned.offset().seconds()), (10, 8 * 3600));
        assert_eq!(t.as_str(), "2018-06-08T10:34:56.25+08:00", "the wire text is unchanged");

        let t = Rfc3339::parse("1969-12-31T23:59:59.123456789123-00:30").unwrap();
        assert_eq!(t.to_jiff_timestamp().unwrap().to_string(), "1970-01-01T00:29:59.123456789Z");
        assert_eq!(t.to_jiff_zoned().unwrap().to_string(), "1969-12-31T23:59:59.123456789-00:30[-00:30]");
        // A leap second is the next minute's first second, as `unix_timestamp` says.
        let t = Rfc3339::parse("2016-12-31T23:59:60Z").unwrap();
        assert_eq!(t.to_jiff_timestamp().unwrap().to_string(), "2017-01-01T00:00:00Z");
        // Jiff's range ends on 9999-12-30 UTC: later valid RFC 3339 times are an error, not a panic.
        assert!(Rfc3339::parse("9999-12-31T23:59:59Z").unwrap().to_jiff_timestamp().is_err());
        assert!(Rfc3339::parse("0000-01-01T00:00:00+23:59").unwrap().to_jiff_zoned().is_ok());
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "",
            "2018-06-08",
            "2018-06-08T10:34:56",
            "2018-13-08T10:34:56+08:00",
            "2019-02-29T10:34:56Z",
            "2018-06-08 10:34:56+08:00",
            "2018-06-08T24:00:00Z",
            "2018-06-08T10:34:56+0800",
            "2018-06-08T10:34:56.Z",
            "2018-06-08T10:34:56Zx",
            "２018-06-08T10:34:56Z",
        ] {
            assert!(Rfc3339::parse(bad).is_err(), "{bad}");
        }
    }
}
