//! Text from the network, made safe to show to people.
//!
//! A server's error `message`, `detail`, `truncated_sign_message` or a body excerpt may hold
//! terminal escape sequences (ESC, the C1 CSI `U+009B`), bells, line breaks that forge a
//! second `error:` line in a log, or megabytes of text. [`printable`] shows such text on one
//! line with every control character escaped, cut to a bounded number of characters:
//!
//! - `\n`, `\r`, `\t` become `\n`, `\r`, `\t` (a backslash and a letter);
//! - every other C0 control, DEL and every C1 control (`U+0080`–`U+009F`) becomes
//!   `\u{..}` in hex, e.g. ESC is `\u{1b}` and CSI is `\u{9b}`;
//! - the Unicode line and paragraph separators (`U+2028`, `U+2029`) and the bidirectional
//!   overrides and isolates (`U+202A`–`U+202E`, `U+2066`–`U+2069`), which reorder or break
//!   what a reader sees, are escaped the same way;
//! - after [`MAX_CHARS`] characters (or the limit given) the text is cut and
//!   `… (N bytes in all)` is appended.
//!
//! Backslashes are left as they are: the result is for reading, not for parsing back.

use std::fmt;

/// The default bound on the characters of untrusted text shown.
pub const MAX_CHARS: usize = 300;

/// Untrusted text as one printable line; see the [module docs](self).
#[derive(Clone, Copy, Debug)]
pub struct Printable<'a> {
    text: &'a str,
    max_chars: usize,
}

/// Shows `text` escaped, on one line, cut to [`MAX_CHARS`] characters.
pub fn printable(text: &str) -> Printable<'_> {
    Printable { text, max_chars: MAX_CHARS }
}

impl Printable<'_> {
    /// Cuts after `max_chars` characters instead of [`MAX_CHARS`].
    #[must_use]
    pub fn max_chars(mut self, max_chars: usize) -> Self {
        self.max_chars = max_chars;
        self
    }
}

/// Whether `c` must not reach a terminal or a log as it is.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Writes `c` escaped if [`needs_escape`] says so, else as it is.
pub fn write_char(f: &mut impl fmt::Write, c: char) -> fmt::Result {
    match c {
        '\n' => f.write_str("\\n"),
        '\r' => f.write_str("\\r"),
        '\t' => f.write_str("\\t"),
        c if needs_escape(c) => write!(f, "\\u{{{:x}}}", u32::from(c)),
        c => f.write_char(c),
    }
}

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.text.chars();
        for c in chars.by_ref().take(self.max_chars) {
            write_char(f, c)?;
        }
        if chars.next().is_some() {
            write!(f, "… ({} bytes in all)", self.text.len())?;
        }
        Ok(())
    }
}

/// The first `max_chars` characters of `text`, with `… (N bytes in all)` appended when cut;
/// nothing escaped. For output that escapes by itself (JSON, CSV) but must stay bounded.
pub fn cut(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}… ({} bytes in all)", &text[..end], text.len())),
    }
}

/// A printable excerpt of an untrusted body: the first `max_chars` characters (invalid UTF-8
/// replaced by `�`), escaped as by [`printable`], with the body's full length noted when cut.
/// Reads at most `4 * max_chars` bytes of `body`.
pub fn excerpt(body: &[u8], max_chars: usize) -> String {
    let head = &body[..body.len().min(max_chars.saturating_mul(4))];
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    let mut chars = text.chars();
    for c in chars.by_ref().take(max_chars) {
        // Writing to a String cannot fail.
        let _ = write_char(&mut out, c);
    }
    if chars.next().is_some() || head.len() < body.len() {
        out.push_str(&format!("… ({} bytes in all)", body.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_text_stays_on_one_line() {
        let hostile = "a\nerror: forged\r\x1b[31mred\x07\x7f\u{9b}2J\u{85}\u{2028}\u{202e}\ttab 中文";
        let shown = printable(hostile).to_string();
        assert_eq!(
            shown,
            "a\\nerror: forged\\r\\u{1b}[31mred\\u{7}\\u{7f}\\u{9b}2J\\u{85}\\u{2028}\\u{202e}\\ttab 中文"
        );
        assert!(!shown.chars().any(needs_escape));
    }

    #[test]
    fn long_text_is_cut_with_its_length_noted() {
        let big = "é".repeat(3 * 1024 * 1024 / 2);
        let shown = printable(&big).to_string();
        assert_eq!(shown.chars().count(), MAX_CHARS + "… (3145728 bytes in all)".chars().count());
        assert!(shown.ends_with("é… (3145728 bytes in all)"), "{shown}");
        assert_eq!(printable("abc").max_chars(3).to_string(), "abc");
        assert_eq!(printable("abcd").max_chars(3).to_string(), "abc… (4 bytes in all)");
        assert_eq!(printable("").to_string(), "");
        assert_eq!(cut("a\nb", 3), "a\nb");
        assert_eq!(cut("a\nbc", 3), "a\nb… (4 bytes in all)");
    }

    #[test]
    fn excerpts_read_a_bounded_prefix_of_bytes() {
        assert_eq!(excerpt(b"<html>\n<b>bad</b>", 100), "<html>\\n<b>bad</b>");
        assert_eq!(excerpt(b"abcdef", 3), "abc… (6 bytes in all)");
        assert_eq!(excerpt(b"\xff\x1b", 10), "\u{fffd}\\u{1b}");
        let big = vec![b'x'; 10_000];
        assert_eq!(excerpt(&big, 2), "xx… (10000 bytes in all)");
        // A cut inside the byte budget, not the character count, is still noted.
        assert_eq!(excerpt("中中中中".as_bytes(), 1), "中… (12 bytes in all)");
    }
}
