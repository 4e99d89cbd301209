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

/// Valid JSON `text` indented as [`to_pretty`] indents, token for token as written: numbers
/// keep their digits and spelling (`123456789012345678901234567890`, `1e2`), strings their
/// escapes, objects their key order and duplicates; only whitespace between tokens changes,
/// and the characters [`to_pretty`] escapes are escaped inside strings. Iterative, so any
/// depth is fine; levels deeper than [`MAX_INDENT`] are written compactly, so the output
/// stays within a small multiple of the input. Text that is not JSON comes out mangled,
/// never a panic.
/// The deepest level [`pretty_raw`] indents (serde_json refuses deeper documents by default).
const MAX_INDENT: usize = 128;

pub(crate) fn pretty_raw(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut depth = 0usize;
    let mut chars = text.trim().chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        if depth > MAX_INDENT {
            return;
        }
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                    let mut buf = Vec::with_capacity(4);
                    // Writing to a Vec cannot fail; the result is UTF-8 (ASCII escapes or `c`).
                    let _ = write_escaped(&mut buf, c.encode_utf8(&mut [0; 4]), false);
                    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
                }
                out.push('"');
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
                out.push(c);
                if chars.next_if_eq(&close).is_some() {
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                // The line break before a closing bracket belongs to the level it closes.
                if depth <= MAX_INDENT {
                    newline(&mut out, depth.saturating_sub(1));
                }
                depth = depth.saturating_sub(1);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
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
    fn raw_text_is_indented_as_serde_json_would_with_every_token_as_written() {
        for text in [
            r#"{"a":1,"b":[true,false,null,{}],"c":{"d":[]},"e":"x\"y,:{[","f":-0.5}"#,
            "[]",
            "{}",
            "\"s\"",
            " { \"k\" :\n [ 1 ,\t2 ] , \"z\": { } } ",
            r#"[[[[1]]],{"a":{"b":{"c":"é\n"}}}]"#,
        ] {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(pretty_raw(text), to_pretty(&value).unwrap(), "{text}");
        }
        let kept = pretty_raw(r#"{"big":123456789012345678901234567890,"exp":1e2,"n":[1.0E+2, -0]}"#);
        assert_eq!(
            kept,
            "{\n  \"big\": 123456789012345678901234567890,\n  \"exp\": 1e2,\n  \"n\": [\n    1.0E+2,\n    -0\n  ]\n}"
        );
        assert_eq!(pretty_raw(r#"["\u00e9"]"#), "[\n  \"\\u00e9\"\n]", "escapes as written");
        let hostile = pretty_raw("{\"m\":\"a\u{9b}2J\u{85}\u{2028}\u{202e}\u{7f}中\\u001b\"}");
        assert_eq!(hostile, "{\n  \"m\": \"a\\u009b2J\\u0085\\u2028\\u202e\\u007f中\\u001b\"\n}");
        // Deeper than MAX_INDENT: compact there, so the output stays proportionate.
        let deep = "[".repeat(100_000) + &"1,".repeat(1000) + "1" + &"]".repeat(100_000);
        let shown = pretty_raw(&deep);
        assert_eq!(shown.matches('[').count(), 100_000);
        assert!(shown.len() < 200_000 + 2 * MAX_INDENT * MAX_INDENT + 10_000, "{}", shown.len());
        assert!(shown.contains("[[[1,1,1"), "compact below the indented levels");
        assert!(shown.contains("1]]]"), "compact below the indented levels");
        assert_eq!(shown.replace(['\n', ' '], ""), deep);
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
