//! HTTPS mode: a throwaway certificate authority and a server certificate made at start
//! (rcgen, ECDSA P-256), and the rustls server that serves them.
//!
//! The server certificate names exactly one subject: the IP address of
//! [`crate::Simulator::base_url`] (e.g. `127.0.0.1`), so a client trusting the CA succeeds
//! at that URL and fails the name check anywhere else (`https://localhost:PORT`, say).
//! Nothing is kept: a new CA every start, its private key never leaves memory.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::net::slots::SharedStream;

/// A simulator's TLS identity: the CA clients must trust and the server's configuration.
pub(crate) struct TlsIdentity {
    /// The CA certificate (PEM).
    pub ca_pem: String,
    /// The rustls server configuration: the server certificate, then the CA, and its key.
    pub config: Arc<ServerConfig>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

fn tls_error(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("TLS setup: {what}: {e}"))
}

/// A fresh CA and a server certificate for `addr`'s IP, signed by it.
pub(crate) fn identity(addr: SocketAddr) -> io::Result<TlsIdentity> {
    let ca_key = KeyPair::generate().map_err(|e| tls_error("CA key", e))?;
    let mut ca_params = CertificateParams::default();
    // A name of its own: a client holding another simulator's CA must see an unknown
    // issuer, not a CA of the same name whose signature does not match.
    let started = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    let name = format!("wechatpay-sim throwaway CA {addr} {started:x}");
    ca_params.distinguished_name.push(DnType::CommonName, name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(|e| tls_error("CA certificate", e))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(|e| tls_error("server key", e))?;
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, "wechatpay-sim");
    params.subject_alt_names = vec![SanType::IpAddress(addr.ip())];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = params.signed_by(&server_key, &issuer).map_err(|e| tls_error("server certificate", e))?;

    let chain = vec![server_cert.der().clone(), CertificateDer::from(ca_cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    // An explicit provider: both rustls providers may be compiled into the process (the
    // adapters pick different ones), and then there is no process-wide default.
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| tls_error("server certificate", e))?;
    Ok(TlsIdentity { ca_pem: ca_cert.pem(), config: Arc::new(config) })
}

/// The TLS client settings for delivering notifications to `https://` URLs: the CA
/// certificates in `pems` (PEM, several per text allowed) are the only roots.
///
/// # Errors
/// When a PEM holds no certificate or one that rustls cannot use as a root.
pub(crate) fn notify_client<'a>(pems: impl Iterator<Item = &'a str>) -> io::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for pem in pems {
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| tls_error("notify CA", e))?;
            roots.add(cert).map_err(|e| tls_error("notify CA", e))?;
            found = true;
        }
        if !found {
            return Err(tls_error("notify CA", "no certificate in the PEM"));
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("protocol versions", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// One connection, in plain text or TLS.
pub(crate) enum Conn {
    Plain(SharedStream),
    Tls(Box<StreamOwned<ServerConnection, SharedStream>>),
}

impl Conn {
    /// `stream` as is, or wrapped in a TLS server session (the handshake happens on the
    /// first read, under the reader's deadlines).
    pub(crate) fn new(stream: SharedStream, tls: Option<&Arc<ServerConfig>>) -> io::Result<Self> {
        match tls {
            None => Ok(Self::Plain(stream)),
            Some(config) => {
                let session = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
                Ok(Self::Tls(Box::new(StreamOwned::new(session, stream))))
            }
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}
