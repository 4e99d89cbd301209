//! Platform certificates (平台证书, PROTOCOL.md §9): the download operation and its answer, items
//! still encrypted. Decrypting and trusting them is [`crate::certificates`]' work.

use serde::{Deserialize, Serialize};

use super::{Binding, Operation, Target, VerificationFailure, nothing_to_bind};
use crate::apiv3_key::EncryptedResource;
use crate::ids::MchId;
use crate::model::Rfc3339;

/// `GET /v3/certificates`: every platform certificate currently usable, encrypted with the
/// APIv3 key. With `algorithm_type_rsa`, the signed target is
/// `/v3/certificates?algorithm_type=RSA`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DownloadCertificates {
    /// Send `?algorithm_type=RSA` (and sign it).
    pub algorithm_type_rsa: bool,
}

impl Operation for DownloadCertificates {
    type Output = CertificateList;
    const NAME: &'static str = "download_certificates";
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn target(&self, _mchid: &MchId) -> Target {
        let rsa = self.algorithm_type_rsa.then_some("RSA");
        Target::path(&["v3", "certificates"]).query_opt("algorithm_type", rsa)
    }
    fn body(&self, _mchid: &MchId) -> Option<Vec<u8>> {
        None
    }
    /// A download changes nothing: it may always be repeated.
    fn idempotent(&self) -> bool {
        true
    }
    /// Nothing to bind here: the list names no id of the request. It is checked instead by
    /// the bootstrap rule ([`crate::certificates::verify_download`]) before anything in it is
    /// trusted.
    fn check_answer(&self, _mchid: &MchId, _answer: &CertificateList) -> Result<Binding, VerificationFailure> {
        nothing_to_bind()
    }
}

/// The body of a `/v3/certificates` answer, items still encrypted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CertificateList {
    /// Every certificate currently usable (old and new overlap during a rotation).
    pub data: Vec<EncryptedCertificate>,
}

/// One item of a `/v3/certificates` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EncryptedCertificate {
    /// The certificate's serial, upper-case hex.
    pub serial_no: String,
    /// From when it may sign.
    pub effective_time: Rfc3339,
    /// When to stop trusting it (shortened ~24 h before a replacement takes over).
    pub expire_time: Rfc3339,
    /// The certificate PEM, AEAD_AES_256_GCM with AAD `certificate`.
    pub encrypt_certificate: EncryptedResource,
}
