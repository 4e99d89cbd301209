//! A DER field locator: just enough of ASN.1 to find the fields of PKCS#8, PKCS#1, SPKI and
//! an X.509 certificate this crate reads (algorithm OID, modulus length, certificate serial
//! and public key). Never panics on any input; fuzzed by the `der` and `keys` fuzz targets.
//!
//! Exactly what [`Reader::read`] accepts, per element:
//! - a one-byte tag in low-tag-number form (tag number 0-30); the form `0x1F` for larger
//!   tag numbers is refused;
//! - a definite length in its shortest form, as DER requires: the short form for 0-127, the
//!   long form only for 128 and more, with 1-4 length bytes and no leading zero byte. The
//!   indefinite form (`0x80`), long forms for short lengths (`81 05`) and padded long forms
//!   (`82 00 80`) are refused;
//! - content of exactly that length within the input.
//!
//! It does not check the encoding of contents (minimal INTEGERs, BOOLEAN values, BIT STRING
//! padding) nor the elements it skips over (a certificate's issuer, validity, extensions
//! and signature): it locates fields, it does not validate certificates. The key material it
//! locates is parsed again, fully and strictly, by the crypto backend.

/// One tag-length-value element.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    /// The whole element, tag and length included.
    pub(crate) raw: &'a [u8],
}

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const OID: u8 = 0x06;
pub(crate) const CONTEXT_0: u8 = 0xA0;

/// OID 1.2.840.113549.1.1.1 (rsaEncryption), content bytes.
pub(crate) const OID_RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

/// Why a DER structure could not be read.
pub(crate) type DerError = &'static str;

/// A cursor over a sequence of DER elements.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads the next element: see the module documentation for exactly what is accepted.
    pub(crate) fn read(&mut self) -> Result<Tlv<'a>, DerError> {
        let data = self.data;
        let (&tag, rest) = data.split_first().ok_or("truncated DER")?;
        if tag & 0x1F == 0x1F {
            return Err("unsupported multi-byte DER tag");
        }
        let (&first, rest) = rest.split_first().ok_or("truncated DER length")?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7F);
            if n == 0 {
                return Err("indefinite DER length");
            }
            if n > 4 {
                return Err("DER length of more than 4 bytes");
            }
            let (bytes, rest) = rest.split_at_checked(n).ok_or("truncated DER length")?;
            if bytes[0] == 0 {
                return Err("non-minimal DER length (leading zero byte)");
            }
            let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err("non-minimal DER length (long form for a length below 128)");
            }
            (len, rest)
        };
        if rest.len() < len {
            return Err("DER element longer than its input");
        }
        let header = data.len() - rest.len();
        let tlv = Tlv { tag, content: &rest[..len], raw: &data[..header + len] };
        self.data = &rest[len..];
        Ok(tlv)
    }

    /// Reads the next element and checks its tag.
    pub(crate) fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, DerError> {
        let tlv = self.read()?;
        if tlv.tag == tag { Ok(tlv) } else { Err("unexpected DER tag") }
    }
}

/// Reads a single element that must span the whole input.
pub(crate) fn single(data: &[u8], tag: u8) -> Result<Tlv<'_>, DerError> {
    let mut r = Reader::new(data);
    let tlv = r.expect(tag)?;
    if r.is_empty() { Ok(tlv) } else { Err("trailing bytes after DER element") }
}

/// Number of significant bits of an unsigned big-endian INTEGER content.
pub(crate) fn integer_bits(content: &[u8]) -> usize {
    let start = content.iter().position(|&b| b != 0).unwrap_or(content.len());
    match content.get(start) {
        None => 0,
        Some(&b) => (content.len() - start) * 8 - b.leading_zeros() as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        let tlv = single(&long, OCTET_STRING).unwrap();
        assert_eq!(tlv.content.len(), 0x80);
        assert_eq!(tlv.raw.len(), long.len());
        assert!(single(&[0x04, 0x02, 1], OCTET_STRING).is_err());
        assert!(single(&[0x04, 0x01, 1, 0], OCTET_STRING).is_err());
        assert!(single(&[0x04, 0x85, 0, 0, 0, 0, 1], OCTET_STRING).is_err());
        assert!(single(&[], OCTET_STRING).is_err());
        assert_eq!(single(&[0x04, 0x00], OCTET_STRING).map(|t| t.content.len()), Ok(0));
        let mut two_bytes = vec![0x04, 0x82, 0x01, 0x00];
        two_bytes.extend(std::iter::repeat_n(0u8, 0x100));
        assert_eq!(single(&two_bytes, OCTET_STRING).map(|t| t.content.len()), Ok(0x100));
    }

    #[test]
    fn refuses_non_minimal_and_unsupported_headers() {
        let err = |data: &[u8]| single(data, OCTET_STRING).err();
        // The long form for a length below 128.
        assert_eq!(err(&[0x04, 0x81, 0x01, 7]), Some("non-minimal DER length (long form for a length below 128)"));
        assert_eq!(err(&[0x04, 0x81, 0x7F]), Some("non-minimal DER length (long form for a length below 128)"));
        // A padded long form.
        let mut padded = vec![0x04, 0x82, 0x00, 0x80];
        padded.extend(std::iter::repeat_n(7u8, 0x80));
        assert_eq!(err(&padded), Some("non-minimal DER length (leading zero byte)"));
        // Indefinite length, too many length bytes, truncated length, high tag numbers.
        assert_eq!(err(&[0x04, 0x80, 0, 0]), Some("indefinite DER length"));
        assert_eq!(err(&[0x04, 0x85, 1, 0, 0, 0, 0]), Some("DER length of more than 4 bytes"));
        assert_eq!(err(&[0x04, 0x82, 0x01]), Some("truncated DER length"));
        assert_eq!(err(&[0x1F, 0x01, 0x00]), Some("unsupported multi-byte DER tag"));
        assert_eq!(err(&[0x04]), Some("truncated DER length"));
    }

    #[test]
    fn counts_integer_bits() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x01]), 1);
        assert_eq!(integer_bits(&[0x00]), 0);
    }
}
