//! CSV rows that a spreadsheet shows as text and never runs.
//!
//! RFC 4180 quoting (a cell holding `,`, `"`, CR or LF is quoted, its quotes doubled); control
//! characters escaped as in [`wechatpay_core::untrusted`] (so no cell spans lines); and a text
//! cell starting with `=`, `+`, `-`, `@`, tab or CR (which Excel, LibreOffice and Google Sheets
//! would run as a formula: OWASP's CSV injection) gets a leading `'`. Numbers the program
//! formats itself (amounts, HTTP status) are written as they are.

use std::fmt::Write as _;

use wechatpay_core::untrusted;

/// One cell.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cell<'a> {
    /// Text, possibly from the network or the input file.
    Text(&'a str),
    /// A number this program formatted.
    Number(&'a str),
}

/// The row, without a line break.
pub(crate) fn row(cells: &[Cell<'_>]) -> String {
    let mut row = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            row.push(',');
        }
        match cell {
            Cell::Number(n) => row.push_str(n),
            Cell::Text(text) => push_text(&mut row, text),
        }
    }
    row
}

fn push_text(row: &mut String, text: &str) {
    let mut cell = String::with_capacity(text.len() + 1);
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        cell.push('\'');
    }
    for c in text.chars() {
        // Writing to a String cannot fail.
        let _ = untrusted::write_char(&mut cell, c);
    }
    if cell.contains([',', '"', '\n', '\r']) {
        let _ = write!(row, "\"{}\"", cell.replace('"', "\"\""));
    } else {
        row.push_str(&cell);
    }
}

/// Splits one CSV record (RFC 4180, leniently): fields separated by `,`; a field starting
/// with `"` is quoted (`""` inside is one `"`, commas and line breaks are kept, text after
/// its closing quote is appended as it is); a `"` inside an unquoted field is literal.
/// Returns the fields and whether the text ended inside a quoted field (the record goes on
/// on the next line).
pub(crate) fn parse_record(text: &str) -> (Vec<String>, bool) {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.next_if_eq(&'"').is_some() => field.push('"'),
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
            }
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    fields.push(field);
    (fields, quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_split_as_rfc_4180_says() {
        let fields = |text: &str| parse_record(text).0;
        assert_eq!(fields("a,b,,c"), ["a", "b", "", "c"]);
        assert_eq!(fields(r#""a,1","b ""q""",c"#), ["a,1", "b \"q\"", "c"]);
        assert_eq!(fields(r#"x"y,"z"w"#), ["x\"y", "zw"]);
        assert_eq!(fields(""), [""]);
        assert_eq!(parse_record("\"a\nb\",c"), (vec!["a\nb".to_owned(), "c".to_owned()], false));
        assert_eq!(parse_record("1,\"open"), (vec!["1".to_owned(), "open".to_owned()], true));
        assert_eq!(parse_record("\"\"\"\"").0, ["\""]);
    }

    #[test]
    fn quotes_only_when_needed() {
        let cells = [Cell::Text("a"), Cell::Text("b,c"), Cell::Text("d\"e"), Cell::Text(""), Cell::Number("-5")];
        assert_eq!(row(&cells), "a,\"b,c\",\"d\"\"e\",,-5");
    }

    #[test]
    fn formulas_are_neutralised_and_controls_escaped() {
        for (text, shown) in [
            ("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\\t=1"),
            ("\r=1", "'\\r=1"),
            ("a\nb\r\nc", "a\\nb\\r\\nc"),
            ("x\u{1b}[2J\u{9b}\u{7f}", "x\\u{1b}[2J\\u{9b}\\u{7f}"),
            ("1=1", "1=1"),
            ("SUCCESS", "SUCCESS"),
        ] {
            assert_eq!(row(&[Cell::Text(text)]), shown, "{text:?}");
        }
    }
}
