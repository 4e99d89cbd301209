//! The fuzz targets over the simulator (`wechatpay-sim`): what a server parses. Shared, via
//! `#[path]`, by the cargo-fuzz crate in `fuzz/` and by the corpus replay test of
//! `wechatpay-sim`, so a corpus file means the same in both.

use wechatpay_sim::auth::parse_authorization;

/// `authorization`: the simulator's strict `Authorization` parser; whatever it accepts
/// re-serialises into a header that parses to the same fields.
pub fn authorization(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(f) = parse_authorization(text) {
        assert!(text.starts_with("WECHATPAY2-SHA256-RSA2048 "));
        let rebuilt = format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{}\",signature=\"{}\",timestamp=\"{}\",serial_no=\"{}\"",
            f.mchid, f.nonce_str, f.signature, f.timestamp, f.serial_no
        );
        let again = parse_authorization(&rebuilt).expect("a re-serialised header parses");
        assert_eq!(f, again);
    }
}
