//! PEM armour (RFC 7468) through `rustls-pki-types`, whose reader is maintained, fuzzed
//! and decodes private-key blocks in constant time. This module only adds what that reader
//! does not say: it skips blocks whose label it does not know, so the labels are listed here
//! first to name an encrypted key (`BEGIN ENCRYPTED PRIVATE KEY`, or a legacy
//! `Proc-Type: 4,ENCRYPTED` header) or a block of another kind, instead of "no key found".
//!
//! It depends on nothing else in this crate: callers map [`PemError`] to their own errors.

use rustls_pki_types::pem::{self, PemObject, SectionKind};
use zeroize::Zeroizing;

/// One decoded PEM block. The DER is zeroized on drop because it may hold a private key.
pub(crate) struct Block {
    pub(crate) label: &'static str,
    pub(crate) der: Zeroizing<Vec<u8>>,
}

/// Why the PEM armour could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PemError {
    /// Broken armour; the text says what is wrong.
    Malformed(&'static str),
    /// An encrypted private key (PKCS#8 `ENCRYPTED PRIVATE KEY` or a legacy
    /// `Proc-Type: 4,ENCRYPTED` header).
    Encrypted,
    /// A block with a label this crate does not read (the label, at most 64 characters).
    OtherLabel(String),
}

/// Longest label kept in [`PemError::OtherLabel`]; longer ones are cut.
const MAX_LABEL_CHARS: usize = 64;

/// Every PEM block in `input`, in order. Text outside blocks is ignored (certificate bundles
/// often carry comments).
pub(crate) fn parse_all(input: &[u8]) -> Result<Vec<Block>, PemError> {
    let mut found_begin = false;
    for line in input.split(|&b| b == b'\n' || b == b'\r') {
        if let Some(rest) = line.strip_prefix(b"-----BEGIN ") {
            found_begin = true;
            let label = rest.trim_ascii_end();
            let label = label.strip_suffix(b"-----").unwrap_or(label);
            if SectionKind::try_from(label).is_err() {
                return Err(if label == b"ENCRYPTED PRIVATE KEY" {
                    PemError::Encrypted
                } else {
                    PemError::OtherLabel(String::from_utf8_lossy(label).chars().take(MAX_LABEL_CHARS).collect())
                });
            }
        } else if line.starts_with(b"Proc-Type:") && line.windows(9).any(|w| w == b"ENCRYPTED") {
            return Err(PemError::Encrypted);
        }
    }
    if !found_begin {
        return Err(PemError::Malformed("no PEM block found (expected -----BEGIN ...-----)"));
    }
    let mut blocks = Vec::new();
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(input) {
        let (kind, der) = item.map_err(armour_error)?;
        blocks.push(Block { label: label(kind), der: Zeroizing::new(der) });
    }
    if blocks.is_empty() {
        return Err(PemError::Malformed("no complete PEM block found"));
    }
    Ok(blocks)
}

/// The single block of `input`.
pub(crate) fn parse_one(input: &[u8]) -> Result<Block, PemError> {
    let mut blocks = parse_all(input)?;
    if blocks.len() != 1 {
        return Err(PemError::Malformed("expected exactly one PEM block"));
    }
    Ok(blocks.remove(0))
}

fn armour_error(e: pem::Error) -> PemError {
    PemError::Malformed(match e {
        pem::Error::MissingSectionEnd { .. } => "PEM block without its END line",
        pem::Error::IllegalSectionStart { .. } => "malformed PEM BEGIN line",
        pem::Error::Base64Decode(_) => "PEM block is not valid Base64",
        pem::Error::SectionTooLarge => "PEM block larger than 256 MB",
        _ => "unreadable PEM",
    })
}

/// The RFC 7468 label of a section kind.
fn label(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Certificate => "CERTIFICATE",
        SectionKind::PublicKey => "PUBLIC KEY",
        SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
        SectionKind::PrivateKey => "PRIVATE KEY",
        SectionKind::EcPrivateKey => "EC PRIVATE KEY",
        SectionKind::Crl => "X509 CRL",
        SectionKind::Csr => "CERTIFICATE REQUEST",
        SectionKind::EchConfigList => "ECHCONFIG",
        _ => "another PEM kind",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_among_comments() {
        let text = b"comment\n-----BEGIN PUBLIC KEY-----\nAAEC\n-----END PUBLIC KEY-----\nmore\n\
            -----BEGIN CERTIFICATE-----\r\nAw==\r\n-----END CERTIFICATE-----\n";
        let blocks = parse_all(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "PUBLIC KEY");
        assert_eq!(&blocks[0].der[..], &[0, 1, 2]);
        assert_eq!(blocks[1].label, "CERTIFICATE");
        assert_eq!(&blocks[1].der[..], &[3]);
    }

    #[test]
    fn rejects_broken_armour() {
        let malformed = |input: &[u8]| matches!(parse_all(input), Err(PemError::Malformed(_)));
        assert!(malformed(b""));
        assert!(malformed(b"just text"));
        assert!(malformed(b"-----BEGIN PUBLIC KEY-----\nAAEC\n"));
        assert!(malformed(b"-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----"));
        assert!(malformed(b"-----BEGIN PUBLIC KEY\nAAEC\n-----END PUBLIC KEY-----"));
        let two = b"-----BEGIN PUBLIC KEY-----\nAAEC\n-----END PUBLIC KEY-----\n\
            -----BEGIN PUBLIC KEY-----\nAAEC\n-----END PUBLIC KEY-----\n";
        assert_eq!(parse_all(two).map(|b| b.len()), Ok(2));
        assert_eq!(parse_one(two).err(), Some(PemError::Malformed("expected exactly one PEM block")));
    }

    #[test]
    fn names_encrypted_keys_and_other_kinds() {
        assert_eq!(
            parse_all(
                b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAEC\n-----END RSA PRIVATE KEY-----"
            )
            .err(),
            Some(PemError::Encrypted)
        );
        assert_eq!(
            parse_all(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAEC\n-----END ENCRYPTED PRIVATE KEY-----").err(),
            Some(PemError::Encrypted)
        );
        assert_eq!(
            parse_all(b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAEC\n-----END OPENSSH PRIVATE KEY-----").err(),
            Some(PemError::OtherLabel("OPENSSH PRIVATE KEY".into()))
        );
        let long = format!("-----BEGIN {}-----\nAAEC\n", "X".repeat(500));
        assert_eq!(parse_all(long.as_bytes()).err(), Some(PemError::OtherLabel("X".repeat(64))));
    }
}
