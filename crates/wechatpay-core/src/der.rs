//! A minimal, strict DER reader: just enough of ASN.1 to read PKCS#8, PKCS#1, SPKI and the
//! few fields of an X.509 certificate this crate needs. Never panics on any input.

/// One tag-length-value element.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// The whole element, tag and length included.
    pub raw: &'a [u8],
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
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads the next element (single-byte tags; definite lengths up to 4 bytes).
    pub fn read(&mut self) -> Result<Tlv<'a>, DerError> {
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
            if n == 0 || n > 4 || rest.len() < n {
                return Err("invalid DER length");
            }
            let len = rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, &rest[n..])
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
    pub fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, DerError> {
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
    }

    #[test]
    fn counts_integer_bits() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x01]), 1);
        assert_eq!(integer_bits(&[0x00]), 0);
    }
}
