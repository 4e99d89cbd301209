//! The one percent-encoder (RFC 3986 §2.1) for every path segment and query value the
//! crate puts in a request target.
//!
//! Kept as they are: the unreserved characters `A-Z a-z 0-9 - . _ ~`, and `*`. Everything
//! else — `|`, `/`, `?`, `&`, `=`, `+`, `%`, a space, every non-ASCII character — becomes `%XX`
//! per UTF-8 byte, with upper-case hex. So `粤B12345` is `%E7%B2%A4B12345` and `A|B` is
//! `A%7CB`.
//!
//! `*` is kept because WeChat Pay's `out_trade_no` rule admits it and the targets this crate
//! has always signed carry it literally (the known-answer vectors prove it): it is a
//! sub-delimiter that RFC 3986 allows as is in a path segment and a query, and unlike `&`,
//! `=`, `+` or `/` it means nothing there. A segment that is exactly `.` or `..` has its dots
//! encoded too, so that no value can ever act as a dot-segment.

/// Whether `byte` is written as is.
fn keeps(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'*')
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `value` to `out`, percent-encoded.
pub(crate) fn encode_into(out: &mut String, value: &str) {
    if value == "." || value == ".." {
        out.push_str(if value == "." { "%2E" } else { "%2E%2E" });
        return;
    }
    for &byte in value.as_bytes() {
        if keeps(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
}

/// `value`, percent-encoded.
#[cfg(test)]
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    encode_into(&mut out, value);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Decodes `%XX` sequences (any case), for the round trip.
    fn decode(text: &str) -> Option<String> {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).ok()
    }

    #[test]
    fn known_values() {
        assert_eq!(encode("粤B12345"), "%E7%B2%A4B12345");
        assert_eq!(encode("|"), "%7C");
        assert_eq!(encode("A|B*c-d_e"), "A%7CB*c-d_e");
        assert_eq!(encode("a b/c?d&e=f+g%h#i"), "a%20b%2Fc%3Fd%26e%3Df%2Bg%25h%23i");
        assert_eq!(encode("~.-_09azAZ"), "~.-_09azAZ");
        assert_eq!(encode(".."), "%2E%2E");
        assert_eq!(encode("."), "%2E");
        assert_eq!(encode("..."), "...");
        assert_eq!(encode(""), "");
        assert_eq!(encode("\u{7f}\u{0}é"), "%7F%00%C3%A9");
    }

    proptest! {
        #[test]
        fn decoding_gives_the_input_back_and_only_safe_bytes_are_written(value in any::<String>()) {
            let encoded = encode(&value);
            prop_assert_eq!(decode(&encoded), Some(value.clone()));
            let bytes = encoded.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' {
                    prop_assert!(bytes.len() >= i + 3);
                    for &h in &bytes[i + 1..i + 3] {
                        prop_assert!(h.is_ascii_digit() || (b'A'..=b'F').contains(&h), "{}", encoded);
                    }
                    i += 3;
                } else {
                    prop_assert!(keeps(bytes[i]), "{}", encoded);
                    i += 1;
                }
            }
        }

        #[test]
        fn plate_like_text_round_trips(value in "[\\p{Han}A-Z0-9|* ./-]{0,12}") {
            prop_assert_eq!(decode(&encode(&value)), Some(value.clone()));
        }
    }
}
