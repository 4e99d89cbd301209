//! HTTPS mode, with a bare rustls client: the CA the simulator hands out verifies its
//! certificate for the IP of `base_url` and nothing else, and signed queries are answered
//! over TLS exactly as over plain HTTP; `--tls` writes the CA into the state directory.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use wechatpay_core::OutTradeNo;
use wechatpay_core::api::QueryOrderByOutTradeNo;
use wechatpay_sim::Simulator;

fn client_config(ca_pem: &str) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    let der = pem_to_der(ca_pem);
    roots.add(CertificateDer::from(der)).expect("CA certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// The DER of the single certificate in `pem`.
fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).expect("PEM body")
}

/// A TLS connection to `addr`, verifying the certificate for `name`.
fn connect(addr: SocketAddr, name: &str, config: Arc<ClientConfig>) -> StreamOwned<ClientConnection, TcpStream> {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let name = ServerName::try_from(name.to_owned()).expect("server name");
    StreamOwned::new(ClientConnection::new(config, name).expect("session"), tcp)
}

fn op() -> QueryOrderByOutTradeNo {
    QueryOrderByOutTradeNo { out_trade_no: OutTradeNo::new("1217752501201407033233368018").expect("valid") }
}

#[test]
fn a_trusted_ca_gets_signed_answers_over_tls() {
    let sim = Simulator::builder().tls(true).start().expect("simulator starts");
    let url = sim.base_url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let ca = sim.ca_certificate_pem().expect("a CA in HTTPS mode");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    let config = sim.config_builder().build().expect("config");

    let mut tls = connect(sim.addr(), "127.0.0.1", client_config(ca));
    // Two requests on one connection: keep-alive works over TLS too.
    for _ in 0..2 {
        tls.write_all(&common::encode(&common::signed(&config, &op()))).expect("request");
        let resp = common::read_response(&mut tls, config.max_body_bytes()).expect("answer");
        let order = wechatpay_core::parse_response(&config, &op(), &resp.to_http(), std::time::SystemTime::now());
        assert_eq!(order.expect("verified order").out_trade_no, "1217752501201407033233368018");
    }
    assert_eq!(sim.requests_seen(), 2);
}

#[test]
fn the_certificate_names_only_the_base_url_ip_and_the_ca_only_this_simulator() {
    let sim = Simulator::builder().tls(true).start().expect("simulator starts");
    let other = Simulator::builder().tls(true).start().expect("another simulator starts");
    let request = common::encode(&common::signed(&sim.config_builder().build().expect("config"), &op()));
    let refused = |name: &str, ca: &str| {
        let mut tls = connect(sim.addr(), name, client_config(ca));
        let err = tls.write_all(&request).and_then(|()| tls.flush()).and_then(|()| {
            common::read_response(&mut tls, 1 << 20).map(|r| panic!("an answer through a bad certificate: {r:?}"))
        });
        err.expect_err("the handshake fails")
    };
    let certificate_error = |e: &std::io::Error| match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(c)) => c.clone(),
        _ => panic!("not a certificate error: {e:?}"),
    };
    let wrong_name = refused("localhost", sim.ca_certificate_pem().expect("CA"));
    assert!(
        matches!(
            certificate_error(&wrong_name),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        ),
        "{wrong_name}"
    );
    let wrong_ca = refused("127.0.0.1", other.ca_certificate_pem().expect("CA"));
    assert_eq!(certificate_error(&wrong_ca), CertificateError::UnknownIssuer, "{wrong_ca}");
    assert_eq!(sim.requests_seen(), 0, "nothing reached the server past a failed handshake");
}

#[test]
fn plain_http_to_an_https_simulator_gets_no_answer() {
    let sim = Simulator::builder().tls(true).start().expect("simulator starts");
    let request = common::encode(&common::signed(&sim.config_builder().build().expect("config"), &op()));
    // The server answers with a TLS alert, never with HTTP.
    let answer = common::send_raw(sim.addr(), &request);
    assert!(answer.is_err(), "{answer:?}");
    assert_eq!(sim.requests_seen(), 0);
}

/// Kills the child and removes the state directory when dropped, so a failing test leaves
/// nothing behind.
struct Running(std::process::Child, PathBuf);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

#[test]
fn the_binary_with_tls_writes_the_ca_and_serves_https() {
    let dir = std::env::temp_dir().join(format!("wechatpay-sim-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let child = Command::new(env!("CARGO_BIN_EXE_wechatpay-sim"))
        .args(["--tls", "--state-dir"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut running = Running(child, dir.clone());
    let mut first = String::new();
    BufReader::new(running.0.stdout.take().expect("stdout")).read_line(&mut first).expect("first line");
    let url = first.trim().strip_prefix("listening on ").expect("first line").to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let env = std::fs::read_to_string(dir.join("env")).expect("env");
    let vars = wechatpay_sim::cli::parse_env(&env);
    let ca_path =
        vars.iter().find(|(k, _)| k == "WECHATPAY_SIM_CA").map(|(_, v)| PathBuf::from(v)).expect("WECHATPAY_SIM_CA");
    assert_eq!(ca_path, std::fs::canonicalize(&dir).expect("dir").join("ca.pem"));
    assert!(env.contains(&format!("WECHATPAY_BASE_URL={url}\n")), "{env}");
    let ca = std::fs::read_to_string(&ca_path).expect("ca.pem");
    let addr: SocketAddr = url.strip_prefix("https://").expect("https").parse().expect("address");
    let mut tls = connect(addr, "127.0.0.1", client_config(&ca));
    tls.write_all(b"GET /v3/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("request");
    let resp = common::read_response(&mut tls, 1 << 20).expect("an answer over TLS");
    assert_eq!(resp.status.as_u16(), 400, "no Accept header: INVALID_REQUEST");
    drop(running);
}
