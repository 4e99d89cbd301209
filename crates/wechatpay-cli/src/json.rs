//! JSON for stdout: `serde_json`'s output with the control characters it leaves as they are
//! also escaped.
//!
//! `serde_json` escapes C0 controls but writes DEL, the C1 controls (`U+0080`–`U+009F`, e.g.
//! the CSI `U+009B` some terminals obey), the line separators `U+2028`/`U+2029` and the
//! bidirectional overrides literally. Here they become `\u00XX`-style escapes: the same
//! JSON value, but nothing a terminal acts on. Kept raw values (unknown fields) are written
//! the same way, and whitespace between their tokens is dropped, so a JSON Lines record is
//! always one line.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter, Serializer};
use wechatpay_core::untrusted::needs_escape;

/// `value` as one line of JSON.
pub(crate) fn to_line(value: &impl Serialize) -> Result<String, serde_json::Error> {
    write(value, Escaping(CompactFormatter))
}

/// `value` as indented JSON.
pub(crate) fn to_pretty(value: &impl Serialize) -> Result<String, serde_json::Error> {
    write(value, Escaping(PrettyFormatter::new()))
}

fn write<F: Formatter>(value: &impl Serialize, formatter: F) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    value.serialize(&mut Serializer::with_formatter(&mut out, formatter))?;
    // Only whole UTF-8 strings and ASCII escapes were written.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// Writes `text`, escaping the characters `serde_json` leaves raw; when `raw` (JSON text of
/// a kept value), whitespace outside strings (the only place JSON allows it) is dropped.
fn write_escaped<W: ?Sized + Write>(writer: &mut W, text: &str, raw: bool) -> io::Result<()> {
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let drop = raw && matches!(c, '\n' | '\r' | '\t');
        if drop || (needs_escape(c) && !c.is_ascii_control()) || c == '\u{7f}' {
            writer.write_all(&text.as_bytes()[start..i])?;
            if !drop {
                write!(writer, "\\u{:04x}", u32::from(c))?;
            }
            start = i + c.len_utf8();
        }
    }
    writer.write_all(&text.as_bytes()[start..])
}

/// A formatter that escapes more (see the module docs) and otherwise does what `F` does.
struct Escaping<F>(F);

impl<F: Formatter> Formatter for Escaping<F> {
    fn write_string_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        write_escaped(writer, fragment, false)
    }

    fn write_raw_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        write_escaped(writer, fragment, true)
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_key(writer)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use serde_json::value::RawValue;

    #[test]
    fn c1_del_separators_and_bidi_are_escaped_and_c0_stays_escaped() {
        let hostile = "a\u{1b}[31m\u{7}\n\u{7f}\u{9b}2J\u{85}\u{2028}\u{202e}中";
        let line = to_line(&json!({ "m": hostile })).unwrap();
        assert_eq!(line, r#"{"m":"a\u001b[31m\u0007\n\u007f\u009b2J\u0085\u2028\u202e中"}"#);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&line).unwrap()["m"], hostile);
        let pretty = to_pretty(&json!({ "m": hostile, "n": [1] })).unwrap();
        assert_eq!(
            pretty,
            "{\n  \"m\": \"a\\u001b[31m\\u0007\\n\\u007f\\u009b2J\\u0085\\u2028\\u202e中\",\n  \"n\": [\n    1\n  ]\n}"
        );
    }

    #[test]
    fn raw_values_are_escaped_and_kept_on_one_line() {
        let raw = RawValue::from_string(
            "{\"a\" :\n [1e2,\t123456789012345678901234567890],\r\n \"b\":\"\u{9b}x\"}".to_owned(),
        )
        .unwrap();
        let line = to_line(&raw).unwrap();
        assert_eq!(line, r#"{"a" : [1e2,123456789012345678901234567890], "b":"\u009bx"}"#);
    }
}
