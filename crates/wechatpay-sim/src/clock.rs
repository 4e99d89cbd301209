//! Times as WeChat Pay writes them: RFC 3339 in Beijing time (`2026-11-23T22:06:01+08:00`).

/// The civil date and time (UTC) of Unix second `unix`: year, month, day, seconds of the day.
pub(crate) fn civil(unix: i64) -> (i64, u8, u8, u32) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // The ranges are those of a calendar: the casts cannot truncate.
    (year, month as u8, day as u8, secs as u32)
}

/// `unix` as RFC 3339 with the `+08:00` offset (the core's one formatter).
pub(crate) fn beijing_rfc3339(unix: i64) -> String {
    let secs = std::time::Duration::from_secs(unix.unsigned_abs());
    let time = if unix >= 0 { std::time::UNIX_EPOCH + secs } else { std::time::UNIX_EPOCH - secs };
    wechatpay_core::model::Rfc3339::beijing(time).as_str().to_owned()
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    i64::try_from(wechatpay_core::unix_now()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        // Expected values from `TZ=Asia/Shanghai date -d @N --iso-8601=seconds` (GNU date).
        assert_eq!(beijing_rfc3339(0), "1970-01-01T08:00:00+08:00");
        assert_eq!(beijing_rfc3339(951_782_400), "2000-02-29T08:00:00+08:00");
        assert_eq!(beijing_rfc3339(4_102_444_799), "2100-01-01T07:59:59+08:00");
        assert_eq!(beijing_rfc3339(1_795_442_761), "2026-11-23T22:06:01+08:00");
        assert_eq!(civil(-1), (1969, 12, 31, 86_399));
    }
}
