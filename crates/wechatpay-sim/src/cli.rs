//! The command line: `wechatpay-sim --addr A --state-dir DIR [--orders FILE] [--sign-with K] [--tls]
//! [--apiv3-key KEY] [--public-key-only] [--notify-time-scale F] [--allow-remote-notify]`.
//!
//! [`run_cli`] is the whole program, so another binary (a `wechatpay sim` subcommand) can
//! reuse it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::{SigningKeyChoice, Simulator};

/// The usage text.
pub const USAGE: &str = "\
usage: wechatpay-sim [--addr HOST:PORT] --state-dir DIR [--orders FILE.json] [--sign-with public-key|platform-cert] [--tls]
                     [--apiv3-key KEY] [--public-key-only] [--notify-time-scale F] [--allow-remote-notify]
                     [--notify-ca FILE.pem] [--refunds auto|manual]

A local WeChat Pay API v3 simulator with THROWAWAY keys. Writes into DIR the merchant key,
the WeChat Pay public key, the platform certificate and `env` (WECHATPAY_* variables), prints
`listening on http://HOST:PORT` (https with --tls) as its first line, then serves until killed.
The admin API under /sim/ (orders, states, notifications, faults, rotation, request log) takes
`Authorization: Bearer TOKEN`, TOKEN being DIR/admin_token (WECHATPAY_SIM_ADMIN_TOKEN in `env`).

  --addr HOST:PORT     address to listen on (default 127.0.0.1:0, a free port)
  --state-dir DIR      where to write the keys and `env` (created if missing)
  --orders FILE.json   extra orders: {\"direct\":[...],\"partner\":[...],\"parking\":[...]}
  --sign-with KEY      the key that signs answers to requests naming none: public-key or
                       platform-cert (default: public-key, but platform-cert for the
                       /v3/certificates download, as WeChat Pay does)
  --tls                serve HTTPS with a throwaway CA generated at start; its certificate is
                       written to DIR/ca.pem and named by WECHATPAY_SIM_CA in `env`
  --apiv3-key KEY      the merchant's APIv3 key (32 visible ASCII characters) that seals
                       /v3/certificates and notifications (default: a random one per start);
                       written to `env` as WECHATPAY_APIV3_KEY
  --public-key-only    a merchant without platform certificates: every answer is signed with
                       the WeChat Pay public key, /v3/certificates answers 404 RESOURCE_NOT_EXISTS
  --notify-time-scale F
                       multiplies the notification redelivery schedule (15s, 15s, 30s, 3m, ...)
                       and the 5-minute life of a bill download URL by F (default 1; e.g.
                       0.001 in tests)
  --allow-remote-notify
                       accept notify_url hosts other than loopback
  --refunds MODE       auto (default): a refund becomes SUCCESS 1 s (x the notify time scale)
                       after it was created; manual: it stays PROCESSING until
                       POST /sim/refunds/{out_refund_no}/state moves it
  --notify-ca FILE.pem CA certificate(s) trusted for https:// notify_urls (with --tls the
                       simulator's own CA is trusted too); a local receiver's certificate is
                       never in a public root store
";

/// Parsed command-line options.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The address to listen on.
    pub addr: String,
    /// Where keys and `env` are written.
    pub state_dir: PathBuf,
    /// An extra orders file.
    pub orders: Option<PathBuf>,
    /// CA certificates (PEM files) trusted for `https://` notify URLs.
    pub notify_ca: Vec<PathBuf>,
    /// The signing key chosen with `--sign-with` (`None`: the simulator's default, the
    /// public key but a platform certificate for the certificate download).
    pub sign_with: Option<SigningKeyChoice>,
    /// Serve HTTPS.
    pub tls: bool,
    /// The APIv3 key (else a random one).
    pub apiv3_key: Option<String>,
    /// No platform certificates: sign with the public key only.
    pub public_key_only: bool,
    /// The factor applied to the notification redelivery schedule.
    pub notify_time_scale: f64,
    /// Accept non-loopback `notify_url` hosts.
    pub allow_remote_notify: bool,
    /// How refunds complete (`--refunds auto|manual`).
    pub refunds: crate::RefundMode,
}

impl Options {
    /// Parses arguments (without the program name).
    ///
    /// # Errors
    /// A message saying what is wrong; `Err(None)` for `--help`.
    pub fn parse(args: impl Iterator<Item = String>) -> Result<Self, Option<String>> {
        let mut addr = "127.0.0.1:0".to_owned();
        let mut state_dir = None;
        let mut orders = None;
        let mut sign_with = None;
        let mut tls = false;
        let mut apiv3_key = None;
        let mut public_key_only = false;
        let mut notify_time_scale = 1.0;
        let mut allow_remote_notify = false;
        let mut notify_ca = Vec::new();
        let mut refunds = crate::RefundMode::Auto;
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                return Err(None);
            }
            if arg == "--tls" {
                tls = true;
                continue;
            }
            if arg == "--allow-remote-notify" {
                allow_remote_notify = true;
                continue;
            }
            if arg == "--public-key-only" {
                public_key_only = true;
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value =
                || inline.clone().or_else(|| args.next()).ok_or_else(|| Some(format!("{name} needs a value")));
            match name.as_str() {
                "--addr" => addr = value()?,
                "--state-dir" => state_dir = Some(PathBuf::from(value()?)),
                "--orders" => orders = Some(PathBuf::from(value()?)),
                "--notify-ca" => notify_ca.push(PathBuf::from(value()?)),
                "--refunds" => {
                    let v = value()?;
                    refunds = crate::RefundMode::from_name(&v)
                        .ok_or_else(|| Some(format!("--refunds: {v:?} is neither auto nor manual")))?;
                }
                "--notify-time-scale" => {
                    let v = value()?;
                    notify_time_scale = v
                        .parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite() && *f >= 0.0)
                        .ok_or_else(|| Some(format!("--notify-time-scale: {v:?} is not a non-negative number")))?;
                }
                "--apiv3-key" => {
                    let key = value()?;
                    crate::protocol::apiv3_key::validate(&key).map_err(|e| Some(format!("--apiv3-key: {e}")))?;
                    apiv3_key = Some(key);
                }
                "--sign-with" => {
                    sign_with = match value()?.as_str() {
                        "public-key" => Some(SigningKeyChoice::PublicKey),
                        "platform-cert" => Some(SigningKeyChoice::PlatformCertificate),
                        other => return Err(Some(format!("--sign-with: unknown key {other:?}"))),
                    }
                }
                other => return Err(Some(format!("unknown argument {other:?}"))),
            }
        }
        let state_dir = state_dir.ok_or_else(|| Some("--state-dir is required".to_owned()))?;
        Ok(Self {
            addr,
            state_dir,
            orders,
            notify_ca,
            sign_with,
            tls,
            apiv3_key,
            public_key_only,
            notify_time_scale,
            allow_remote_notify,
            refunds,
        })
    }
}

/// Runs the simulator program with `args` (without the program name): exit code 2 with the
/// usage on stderr for bad arguments, 1 when it cannot start; otherwise it serves until the
/// process is killed.
pub fn run_cli(args: impl Iterator<Item = String>) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(o) => o,
        Err(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(Some(message)) => {
            eprintln!("wechatpay-sim: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let handle = match start(&options) {
        Ok(h) => h,
        Err(message) => {
            eprintln!("wechatpay-sim: {message}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "listening on {}", handle.base_url()).and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    loop {
        std::thread::park();
    }
}

/// Starts the simulator and writes the state directory.
fn start(options: &Options) -> Result<Simulator, String> {
    let mut builder = Simulator::builder()
        .addr(options.addr.clone())
        .tls(options.tls)
        .public_key_only(options.public_key_only)
        .notify_time_scale(options.notify_time_scale)
        .refunds(options.refunds)
        .allow_remote_notify(options.allow_remote_notify);
    if let Some(key) = &options.apiv3_key {
        builder = builder.apiv3_key(key.clone());
    }
    if let Some(choice) = options.sign_with {
        builder = builder.signing(choice);
    }
    if let Some(orders) = &options.orders {
        builder = builder.orders_file(orders);
    }
    for path in &options.notify_ca {
        let pem = std::fs::read_to_string(path).map_err(|e| format!("--notify-ca {}: {e}", path.display()))?;
        builder = builder.notify_ca_pem(pem);
    }
    let handle = builder.start().map_err(|e| format!("cannot start on {}: {e}", options.addr))?;
    if !handle.addr().ip().is_loopback() {
        eprintln!(
            "wechatpay-sim: warning: listening on {}, which is reachable from other machines; the keys are \
             throwaway test keys and the admin API is guarded only by its token",
            handle.addr()
        );
    }
    write_state(&options.state_dir, &handle)
        .map_err(|e| format!("cannot write the state directory {}: {e}", options.state_dir.display()))?;
    Ok(handle)
}

/// Writes the keys and `env` into `dir`; in HTTPS mode also `ca.pem` (the CA to trust),
/// named by `WECHATPAY_SIM_CA` in `env`.
pub fn write_state(dir: &Path, handle: &Simulator) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let dir = std::fs::canonicalize(dir)?;
    let creds = handle.credentials();
    let key_path = dir.join("merchant_key.pem");
    write_private(&key_path, creds.merchant_private_key_pem())?;
    let pub_path = dir.join("wechatpay_pub.pem");
    std::fs::write(&pub_path, creds.wechatpay_public_key_pem())?;
    let url = handle.base_url();
    let mut vars: Vec<(&str, String)> = vec![
        ("WECHATPAY_MCHID", creds.mchid().to_string()),
        ("WECHATPAY_SERIAL_NO", creds.merchant_serial().to_string()),
        ("WECHATPAY_PRIVATE_KEY", key_path.display().to_string()),
        ("WECHATPAY_PUBLIC_KEY", pub_path.display().to_string()),
        ("WECHATPAY_PUBLIC_KEY_ID", creds.wechatpay_public_key_id().to_string()),
        ("WECHATPAY_APIV3_KEY", handle.apiv3_key().to_owned()),
        ("WECHATPAY_BASE_URL", url.clone()),
        ("WECHATPAY_BACKUP_URL", url),
        // The app id prepay, invoke and codepay calls name (`wechatpay order create`, `order
        // charge` read it); the simulator accepts any well-formed one.
        ("WECHATPAY_APPID", creds.appid().to_string()),
    ];
    // A merchant in public-key-only mode has no platform certificate to name.
    if !handle.is_public_key_only() {
        let cert_path = dir.join("platform_cert.pem");
        std::fs::write(&cert_path, handle.platform_certificates_pem())?;
        vars.push(("WECHATPAY_PLATFORM_CERTS", cert_path.display().to_string()));
    }
    if let Some(ca) = handle.ca_certificate_pem() {
        let ca_path = dir.join("ca.pem");
        std::fs::write(&ca_path, ca)?;
        vars.push(("WECHATPAY_SIM_CA", ca_path.display().to_string()));
    }
    write_private(&dir.join("admin_token"), handle.admin_token())?;
    vars.push(("WECHATPAY_SIM_ADMIN_TOKEN", handle.admin_token().to_owned()));
    let env: String = vars.iter().map(|(name, value)| env_line(name, value)).collect();
    // Write then rename, so a reader polling for `env` never sees half of it (and it is
    // complete before the `listening on` line is printed). Owner-only: it holds the APIv3 key.
    let tmp = dir.join("env.tmp");
    write_private(&tmp, &env)?;
    std::fs::rename(&tmp, dir.join("env"))
}

/// Whether `c` needs no quoting in a shell word or a dotenv value.
fn plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_./:@%+,=-".contains(c)
}

/// One line of `env`: `export NAME=value`, which `. STATE_DIR/env` exports and dotenv
/// loaders read. A value with anything but letters, digits and `_./:@%+,=-` is quoted:
/// single quotes (literal for shells and dotenv loaders alike), or, for a value holding a
/// single quote, double quotes with `\`, `"`, `$` and `` ` `` escaped.
pub fn env_line(name: &str, value: &str) -> String {
    if !value.is_empty() && value.chars().all(plain) {
        format!("export {name}={value}\n")
    } else if !value.contains('\'') {
        format!("export {name}='{value}'\n")
    } else {
        let escaped: String = value
            .chars()
            .flat_map(|c| if matches!(c, '\\' | '"' | '$' | '`') { vec!['\\', c] } else { vec![c] })
            .collect();
        format!("export {name}=\"{escaped}\"\n")
    }
}

/// Reads an `env` file as [`write_state`] writes it (and as dotenv loaders read one):
/// `NAME=value` lines with an optional `export `, values unquoted, single-quoted (literal)
/// or double-quoted (with `\` escapes); blank lines and `#` comments skipped.
pub fn parse_env(text: &str) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else { continue };
        let value = if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            inner.to_owned()
        } else if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
            }
            out
        } else {
            value.to_owned()
        };
        vars.push((name.trim().to_owned(), value));
    }
    vars
}

/// Writes a private key readable by the owner only (where the platform allows).
fn write_private(path: &Path, pem: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(pem.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, Option<String>> {
        Options::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn env_lines_are_exported_and_quoted_when_needed() {
        assert_eq!(env_line("A", "/tmp/x-1/key.pem"), "export A=/tmp/x-1/key.pem\n");
        assert_eq!(env_line("A", "http://127.0.0.1:80"), "export A=http://127.0.0.1:80\n");
        assert_eq!(env_line("A", "a b$c"), "export A='a b$c'\n");
        assert_eq!(env_line("A", ""), "export A=''\n");
        assert_eq!(env_line("A", "it's $x \\ \"q\" `c`"), "export A=\"it's \\$x \\\\ \\\"q\\\" \\`c\\`\"\n");
        for value in ["plain", "a b$c", "it's $x \\ \"q\" `c`", "", "#!&;|<>*~"] {
            assert_eq!(parse_env(&env_line("NAME", value)), [("NAME".to_owned(), value.to_owned())], "{value}");
        }
        assert_eq!(parse_env("# c\n\nB=1\nexport C='2'\n"), [("B".into(), "1".into()), ("C".into(), "2".into())]);
    }

    #[test]
    fn options() {
        let o = parse(&["--addr", "127.0.0.1:9", "--state-dir=/tmp/x", "--sign-with", "platform-cert"]).unwrap();
        assert_eq!(o.addr, "127.0.0.1:9");
        assert_eq!(o.state_dir, PathBuf::from("/tmp/x"));
        assert_eq!(o.sign_with, Some(SigningKeyChoice::PlatformCertificate));
        assert_eq!(parse(&["--state-dir", "x"]).unwrap().sign_with, None);
        assert!(!o.tls);
        assert!(parse(&["--tls", "--state-dir", "x"]).unwrap().tls);
        assert_eq!(parse(&["--help"]), Err(None));
        assert!(parse(&[]).unwrap_err().unwrap().contains("--state-dir"));
        assert!(parse(&["--state-dir"]).unwrap_err().unwrap().contains("needs a value"));
        assert!(parse(&["--state-dir", "x", "--sign-with", "rsa"]).is_err());
        assert!(parse(&["--state-dir", "x", "--verbose"]).is_err());
        let o = parse(&["--state-dir", "x", "--public-key-only", "--apiv3-key", "0123456789abcdefghijABCDEFGHIJ+/"])
            .unwrap();
        assert!(o.public_key_only);
        assert_eq!(o.apiv3_key.as_deref(), Some("0123456789abcdefghijABCDEFGHIJ+/"));
        let o = parse(&["--state-dir", "x", "--notify-time-scale", "0.001", "--allow-remote-notify"]).unwrap();
        assert!(o.allow_remote_notify && (o.notify_time_scale - 0.001).abs() < 1e-12);
        assert!(parse(&["--state-dir", "x", "--notify-time-scale", "-1"]).is_err());
        assert_eq!(parse(&["--state-dir", "x"]).unwrap().refunds, crate::RefundMode::Auto);
        assert_eq!(parse(&["--state-dir", "x", "--refunds", "manual"]).unwrap().refunds, crate::RefundMode::Manual);
        assert_eq!(parse(&["--state-dir", "x", "--refunds=auto"]).unwrap().refunds, crate::RefundMode::Auto);
        assert!(parse(&["--state-dir", "x", "--refunds", "later"]).unwrap_err().unwrap().contains("--refunds"));
        let e = parse(&["--state-dir", "x", "--apiv3-key", "short"]).unwrap_err().unwrap();
        assert!(e.contains("--apiv3-key") && e.contains("32"), "{e}");
    }
}
