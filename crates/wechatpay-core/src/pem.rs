//! PEM armour (RFC 7468): finds `-----BEGIN LABEL-----` blocks and decodes their Base64.

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::keys::KeyError;

/// One decoded PEM block. The DER is zeroized on drop because it may hold a private key.
pub(crate) struct Block {
    pub label: String,
    pub der: Zeroizing<Vec<u8>>,
}

/// Every PEM block in `input`, in order. Text outside blocks is ignored (certificate bundles
/// often carry comments). A block with RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) is an
/// encrypted legacy key.
pub(crate) fn parse_all(input: &[u8]) -> Result<Vec<Block>, KeyError> {
    let text = std::str::from_utf8(input).map_err(|_| KeyError::Malformed("PEM is not UTF-8 text"))?;
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after.find("-----").ok_or(KeyError::Malformed("unterminated PEM BEGIN line"))?;
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_start.find(&end_marker).ok_or(KeyError::Malformed("PEM block without its END line"))?;
        let body = &body_start[..body_end];
        if body.contains(':') {
            return Err(KeyError::Encrypted);
        }
        let b64: Zeroizing<String> = Zeroizing::new(body.chars().filter(|c| !c.is_ascii_whitespace()).collect());
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| KeyError::Malformed("PEM block is not valid Base64"))?;
        blocks.push(Block { label: label.to_owned(), der: Zeroizing::new(der) });
        rest = &body_start[body_end + end_marker.len()..];
    }
    if blocks.is_empty() {
        return Err(KeyError::Malformed("no PEM block found (expected -----BEGIN ...-----)"));
    }
    Ok(blocks)
}

/// The single block of `input`.
pub(crate) fn parse_one(input: &[u8]) -> Result<Block, KeyError> {
    let mut blocks = parse_all(input)?;
    if blocks.len() != 1 {
        return Err(KeyError::Malformed("expected exactly one PEM block"));
    }
    Ok(blocks.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_among_comments() {
        let text =
            b"comment\n-----BEGIN A-----\nAAEC\n-----END A-----\nmore\n-----BEGIN B-----\r\nAw==\r\n-----END B-----\n";
        let blocks = parse_all(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "A");
        assert_eq!(&blocks[0].der[..], &[0, 1, 2]);
        assert_eq!(&blocks[1].der[..], &[3]);
    }

    #[test]
    fn rejects_broken_armour() {
        assert!(parse_all(b"").is_err());
        assert!(parse_all(b"-----BEGIN A-----\nAAEC\n").is_err());
        assert!(parse_all(b"-----BEGIN A-----\n!!!\n-----END A-----").is_err());
        assert!(matches!(
            parse_all(
                b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAEC\n-----END RSA PRIVATE KEY-----"
            ),
            Err(KeyError::Encrypted)
        ));
    }
}
