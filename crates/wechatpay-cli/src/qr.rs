//! `order create --qr`: a Native order's `code_url` drawn as a QR code with Unicode half
//! blocks, for a terminal (stdout keeps the JSON).

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

/// `text` as a QR code: two modules per character cell, light modules drawn (for the usual
/// light-on-dark terminal), with the quiet zone scanners need. `None` when `text` is too long
/// for a QR code.
pub(crate) fn render(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    Some(code.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).quiet_zone(true).build())
}

/// Draws `text` on stderr (a closed stderr is ignored; text too long for a QR code draws nothing).
pub(crate) fn draw(text: &str) {
    use std::io::Write as _;
    if let Some(image) = render(text) {
        let _ = writeln!(std::io::stderr(), "{image}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_url_is_a_square_of_half_blocks_with_its_quiet_zone() {
        let image = render("weixin://wxpay/bizpayurl?pr=JyC91EIz1").unwrap();
        let width = QrCode::new(b"weixin://wxpay/bizpayurl?pr=JyC91EIz1").unwrap().width() + 8;
        let lines: Vec<&str> = image.lines().collect();
        assert_eq!(lines.len(), width.div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == width), "{image}");
        assert!(image.chars().all(|c| matches!(c, ' ' | '█' | '▀' | '▄' | '\n')), "{image}");
        // The quiet zone is light: drawn, so the first line is full blocks.
        assert!(lines[0].chars().all(|c| c == '█'), "{}", lines[0]);
        assert_eq!(render(&"x".repeat(8000)), None);
    }
}
