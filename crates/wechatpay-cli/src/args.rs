//! The command line: flags, their environment variables, and the subcommands.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use wechatpay_core::{OutTradeNo, SubMchId, TransactionId};

/// Create, query and refund WeChat Pay API v3 orders, debug signatures, and run a local simulator.
#[derive(Debug, Parser)]
#[command(name = "wechatpay", version, propagate_version = true)]
pub(crate) struct Cli {
    /// Raise log verbosity (-v info, -vv debug). Logs go to stderr and never hold secrets.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub(crate) verbose: u8,

    /// Credentials and hosts (flags win over environment variables).
    #[command(flatten)]
    pub(crate) settings: Settings,

    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Who is calling and where. Each flag has an environment variable of the same meaning,
/// read when a command needs it (`crate::settings`, through the core's `env::Loader`): a
/// flag always wins, and a setting given only by its variable is not shown as a required
/// flag in usage lines.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Settings (each flag wins over its WECHATPAY_* variable)")]
pub(crate) struct Settings {
    /// The caller's merchant id (the service provider's for partner and parking calls). [env: WECHATPAY_MCHID]
    #[arg(long, global = true, value_name = "MCHID")]
    pub(crate) mchid: Option<String>,
    /// Merchant API certificate serial. [env: WECHATPAY_SERIAL_NO]
    #[arg(long, global = true, value_name = "SERIAL")]
    pub(crate) serial_no: Option<String>,
    /// Path to the merchant private key PEM (PKCS#8 or PKCS#1). [env: WECHATPAY_PRIVATE_KEY]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) private_key: Option<PathBuf>,
    /// Path to the WeChat Pay public key PEM. [env: WECHATPAY_PUBLIC_KEY]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) public_key: Option<PathBuf>,
    /// The WeChat Pay public key's id (PUB_KEY_ID_…). [env: WECHATPAY_PUBLIC_KEY_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub(crate) public_key_id: Option<String>,
    /// Platform certificate PEM paths, comma-separated; a directory adds every `.pem` in it. [env: WECHATPAY_PLATFORM_CERTS]
    #[arg(long, global = true, value_name = "FILES", value_delimiter = ',')]
    pub(crate) platform_certs: Vec<PathBuf>,
    /// Primary host (default: the official api.mch.weixin.qq.com, over HTTPS). [env: WECHATPAY_BASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// Backup host (default: the official api2.mch.weixin.qq.com, but only while the base is
    /// the official primary; with another base there is no failover unless this is given).
    /// [env: WECHATPAY_BACKUP_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) backup_url: Option<String>,
    /// Per-attempt timeout in seconds (default 30). [env: WECHATPAY_TIMEOUT]
    #[arg(long, global = true, value_name = "SECONDS")]
    pub(crate) timeout: Option<String>,
    /// The merchant's APIv3 key itself (32 characters; decrypts notifications and certificates). [env: WECHATPAY_APIV3_KEY]
    #[arg(long = "apiv3-key", global = true, value_name = "KEY")]
    pub(crate) apiv3_key: Option<String>,
    /// A file holding the APIv3 key (surrounding whitespace ignored). [env: WECHATPAY_APIV3_KEY_FILE]
    #[arg(long = "apiv3-key-file", global = true, value_name = "FILE")]
    pub(crate) apiv3_key_file: Option<PathBuf>,
    /// The merchant's app id (for partner calls the sp_appid): creating orders, opening the payment sheet, parking calls. [env: WECHATPAY_APPID]
    #[arg(long, global = true, value_name = "APPID")]
    pub(crate) appid: Option<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// A direct merchant's orders.
    Order {
        /// What to do with them.
        #[command(subcommand)]
        command: OrderCommand,
    },
    /// A sub-merchant's orders, queried by its service provider.
    PartnerOrder {
        /// What to do with them.
        #[command(subcommand)]
        command: PartnerOrderCommand,
    },
    /// The parking service (微信支付分停车服务): plates' service state and cars' entrances.
    Parking {
        /// What to do.
        #[command(subcommand)]
        command: crate::commands::parking::ParkingCommand,
    },
    /// Parking-service orders (微信支付分停车服务).
    ParkingOrder {
        /// What to do with them.
        #[command(subcommand)]
        command: ParkingOrderCommand,
    },
    /// Refunds: create one, query it, watch it until final, pay out an abnormal one.
    Refund {
        /// What to do.
        #[command(subcommand)]
        command: crate::commands::refund::RefundCommand,
    },
    /// Call any endpoint: METHOD PATH [--body JSON | --body-file FILE] (like `gh api`); prints
    /// the verified answer (nothing for a 204).
    Api(ApiArgs),
    /// Print a request's string-to-sign and its Authorization header (debug SIGN_ERROR).
    Sign(SignArgs),
    /// Check a response or callback signature against the configured WeChat Pay keys.
    Verify(VerifyArgs),
    /// Platform certificates (平台证书): download them with the APIv3 key.
    Certificates {
        /// What to do with them.
        #[command(subcommand)]
        command: CertificatesCommand,
    },
    /// Verify, decrypt and print payment notifications (PROTOCOL.md §8).
    Notification {
        /// What to do with them.
        #[command(subcommand)]
        command: NotificationCommand,
    },
    /// Bills (账单): download the day's trade or fund-flow bill, prove it by its signed SHA-1,
    /// write it; or reconcile it with your own orders.
    Bill {
        /// Which bill, or reconcile.
        #[command(subcommand)]
        command: crate::commands::bill::BillCommand,
    },
    /// Start the simulator in-process and run every query type against it.
    Demo,
    /// Run the local WeChat Pay simulator (same options as `wechatpay-sim`).
    Sim {
        /// Simulator options: --addr ADDR --state-dir DIR [--orders FILE] [--sign-with public-key|platform-cert]
        /// [--tls] [--apiv3-key KEY] [--public-key-only] [--notify-time-scale F] [--allow-remote-notify].
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
}

/// `wechatpay certificates …`
#[derive(Debug, Subcommand)]
pub(crate) enum CertificatesCommand {
    /// Download every usable platform certificate, check it (bootstrap rule, PROTOCOL.md §9), and
    /// write `DIR/wechatpay_<SERIAL>.pem` for each. Needs no WeChat Pay key configured.
    Download {
        /// Where to write the certificates (created if missing).
        #[arg(long, value_name = "DIR")]
        output_dir: PathBuf,
    },
}

/// Which order. Each id is checked by its core type while the command line is parsed: an
/// invalid one exits 2 naming the field and the rule, before anything is signed.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct OrderId {
    /// The merchant order number.
    #[arg(long)]
    pub(crate) out_trade_no: Option<OutTradeNo>,
    /// The WeChat Pay transaction id.
    #[arg(long)]
    pub(crate) transaction_id: Option<TransactionId>,
}

/// One order's key: what [`OrderId`] holds once clap has checked it.
#[derive(Clone, Debug)]
pub(crate) enum OrderKey {
    /// By merchant order number.
    OutTradeNo(OutTradeNo),
    /// By WeChat Pay transaction id.
    TransactionId(TransactionId),
}

impl OrderId {
    /// The key given (clap's group guarantees exactly one).
    pub(crate) fn key(&self) -> Result<OrderKey, crate::failure::Failure> {
        match (&self.out_trade_no, &self.transaction_id) {
            (Some(no), None) => Ok(OrderKey::OutTradeNo(no.clone())),
            (None, Some(id)) => Ok(OrderKey::TransactionId(id.clone())),
            _ => Err(crate::failure::Failure::usage("give --out-trade-no or --transaction-id")),
        }
    }
}

/// `wechatpay order …`
#[derive(Debug, Subcommand)]
pub(crate) enum OrderCommand {
    /// Create an order (jsapi, app, h5 or native); prints its prepay_id and the signed
    /// parameters that open the payment sheet, its code_url, or its h5_url.
    Create(Box<crate::commands::prepay::OrderCreateArgs>),
    /// Sign the parameters that open the payment sheet for a prepay id (nothing is sent).
    Invoke(crate::commands::prepay::OrderInvokeArgs),
    /// Query one order.
    Get {
        /// Which order.
        #[command(flatten)]
        id: OrderId,
    },
    /// Query many orders by out_trade_no (or transaction_id), for reconciliation.
    GetMany {
        /// Input, output and concurrency.
        #[command(flatten)]
        bulk: GetManyArgs,
        /// Which id the input lines hold.
        #[arg(long, value_enum, default_value_t = By::OutTradeNo)]
        by: By,
    },
    /// Close an unpaid order.
    Close {
        /// The merchant order number.
        #[arg(long)]
        out_trade_no: OutTradeNo,
    },
    /// Query an order until its state is final or the deadline comes.
    Watch {
        /// Which order.
        #[command(flatten)]
        id: OrderId,
        /// How long and how often.
        #[command(flatten)]
        timing: WatchTiming,
        /// At the deadline, close a NOTPAY order and print the answer to one more query.
        #[arg(long)]
        close_if_unpaid: bool,
    },
    /// Charge a scanned payment code to a known end: paid (exit 0), not paid (exit 7) or
    /// unresolved (exit 8: query and reverse again).
    Charge(crate::commands::charge::ChargeArgs),
    /// Reverse (撤销) a payment-code order: an unpaid one ends REVOKED, a paid one is refunded.
    Reverse(crate::commands::charge::ReverseArgs),
}

/// `wechatpay partner-order …`
#[derive(Debug, Subcommand)]
pub(crate) enum PartnerOrderCommand {
    /// Create a sub-merchant order (jsapi, app, h5 or native), as `order create` does.
    Create(Box<crate::commands::prepay::PartnerOrderCreateArgs>),
    /// Query one sub-merchant order.
    Get {
        /// Which order.
        #[command(flatten)]
        id: OrderId,
        /// The sub-merchant's id.
        #[arg(long)]
        sub_mchid: SubMchId,
    },
    /// Query many sub-merchant orders by out_trade_no (or transaction_id), for reconciliation.
    GetMany {
        /// Input, output and concurrency.
        #[command(flatten)]
        bulk: GetManyArgs,
        /// Which id the input lines hold.
        #[arg(long, value_enum, default_value_t = By::OutTradeNo)]
        by: By,
        /// The sub-merchant's id.
        #[arg(long)]
        sub_mchid: SubMchId,
    },
    /// Close an unpaid sub-merchant order.
    Close {
        /// The sub-merchant's order number.
        #[arg(long)]
        out_trade_no: OutTradeNo,
        /// The sub-merchant's id.
        #[arg(long)]
        sub_mchid: SubMchId,
    },
    /// Query a sub-merchant order until its state is final or the deadline comes.
    Watch {
        /// Which order.
        #[command(flatten)]
        id: OrderId,
        /// The sub-merchant's id.
        #[arg(long)]
        sub_mchid: SubMchId,
        /// How long and how often.
        #[command(flatten)]
        timing: WatchTiming,
        /// At the deadline, close a NOTPAY order and print the answer to one more query.
        #[arg(long)]
        close_if_unpaid: bool,
    },
    /// Charge a scanned payment code for a sub-merchant (as `order charge`).
    Charge {
        /// The charge.
        #[command(flatten)]
        charge: crate::commands::charge::ChargeArgs,
        /// The sub-merchant's id.
        #[arg(long)]
        sub_mchid: SubMchId,
        /// The sub-merchant's app id.
        #[arg(long, value_name = "ID")]
        sub_appid: Option<String>,
    },
    /// Reverse a sub-merchant's payment-code order.
    Reverse {
        /// Which order.
        #[command(flatten)]
        reverse: crate::commands::charge::ReverseArgs,
        /// The sub-merchant's id.
        #[arg(long)]
        sub_mchid: SubMchId,
        /// The sub-merchant's app id.
        #[arg(long, value_name = "ID")]
        sub_appid: Option<String>,
    },
}

/// `wechatpay parking-order …`
#[derive(Debug, Subcommand)]
pub(crate) enum ParkingOrderCommand {
    /// Query one parking order.
    Get {
        /// The merchant order number.
        #[arg(long)]
        out_trade_no: OutTradeNo,
        /// The sub-merchant's id (service providers); leave out as a merchant.
        #[arg(long)]
        sub_mchid: Option<SubMchId>,
    },
    /// Query many parking orders by out_trade_no, for reconciliation.
    GetMany {
        /// Input, output and concurrency.
        #[command(flatten)]
        bulk: GetManyArgs,
        /// The sub-merchant's id (service providers); leave out as a merchant.
        #[arg(long)]
        sub_mchid: Option<SubMchId>,
    },
    /// Query a parking order until its state is final or the deadline comes.
    Watch {
        /// The merchant order number.
        #[arg(long)]
        out_trade_no: OutTradeNo,
        /// The sub-merchant's id (service providers); leave out as a merchant.
        #[arg(long)]
        sub_mchid: Option<SubMchId>,
        /// How long and how often.
        #[command(flatten)]
        timing: WatchTiming,
    },
    /// Ask for the deduction that creates a parking order (扣费受理); prints the order
    /// (normally ACCEPTED: follow it with `parking-order watch`).
    Create(Box<crate::commands::parking::CreateOrderArgs>),
}

/// How long a watch asks, and how often.
#[derive(Debug, Args)]
pub(crate) struct WatchTiming {
    /// Seconds to keep asking; then exit 6 with the last answer (fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = deadline_secs)]
    pub(crate) deadline: f64,
    /// Ask every SECS seconds (at least 0.1) instead of the rhythm of PROTOCOL.md §10 (USERPAYING
    /// every 5 s; NOTPAY and ACCEPTED after 5, 10, 30, then every 60 s; a refund's PROCESSING
    /// every 60 s).
    #[arg(long, value_name = "SECS", value_parser = interval_secs)]
    pub(crate) interval: Option<f64>,
}

/// `--deadline`: a number of seconds from 0 to 7 days (unpaid orders close themselves then).
fn deadline_secs(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.0..=604_800.0).contains(&secs) => Ok(secs),
        _ => Err("rule: a number of seconds from 0 to 604800 (7 days)".to_owned()),
    }
}

/// `--interval`: a number of seconds from 0.1 (the watch's floor) to 3600.
fn interval_secs(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.1..=3600.0).contains(&secs) => Ok(secs),
        _ => Err("rule: a number of seconds from 0.1 to 3600".to_owned()),
    }
}

/// Output format of `get-many`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    /// One JSON document per line.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
}

/// Which id `get-many`'s input lines hold.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum By {
    /// Merchant order numbers.
    OutTradeNo,
    /// WeChat Pay transaction ids.
    TransactionId,
}

impl By {
    /// The API field's name.
    pub(crate) fn field(self) -> &'static str {
        match self {
            By::OutTradeNo => "out_trade_no",
            By::TransactionId => "transaction_id",
        }
    }

    /// `id` as this kind of key.
    pub(crate) fn key(self, id: &str) -> Result<OrderKey, wechatpay_core::InvalidInput> {
        Ok(match self {
            By::OutTradeNo => OrderKey::OutTradeNo(OutTradeNo::new(id)?),
            By::TransactionId => OrderKey::TransactionId(TransactionId::new(id)?),
        })
    }
}

/// `get-many` of every kind: where the ids come from, the output format, the concurrency.
#[derive(Debug, Args)]
pub(crate) struct GetManyArgs {
    /// File with one id per line (blank lines and # comments are skipped), or - for
    /// standard input.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) input: String,
    /// Queries in flight at once (1-64).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) concurrency: u16,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub(crate) format: Format,
    /// Read --input as CSV and take the ids from this column (named in its header line).
    /// Without it, a first line that is a header naming the id's field (out_trade_no, or
    /// transaction_id with --by transaction-id) is used as such.
    #[arg(long, value_name = "NAME")]
    pub(crate) column: Option<String>,
    /// The CSV output's columns, comma-separated: API field names, nested with dots
    /// (out_trade_no,trade_state,amount.total,payer.openid), and result, http_status,
    /// error_code, request_id, message, total_fen.
    #[arg(long, value_name = "A,B,C")]
    pub(crate) fields: Option<String>,
}

/// `wechatpay api`
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// The HTTP method (GET, POST, PUT, PATCH, DELETE, …).
    #[arg(value_name = "METHOD")]
    pub(crate) method: String,
    /// The request target, starting with /v3/, already percent-encoded: sent and signed as
    /// given (e.g. /v3/pay/transactions/id/4200000985202103031441826014?mchid=1230000109).
    #[arg(value_name = "PATH")]
    pub(crate) path: String,
    /// The JSON request body, sent byte for byte.
    #[arg(long, value_name = "JSON", conflicts_with = "body_file")]
    pub(crate) body: Option<String>,
    /// A file holding the JSON request body (- for standard input), sent byte for byte.
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: Option<PathBuf>,
}

/// `wechatpay sign`
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// HTTP method (GET, POST, ...).
    #[arg(long)]
    pub(crate) method: String,
    /// The request target: /path?query as sent (a full URL is accepted; its host is ignored).
    #[arg(long, value_name = "PATH_AND_QUERY")]
    pub(crate) url: String,
    /// File holding the request body, byte for byte.
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: Option<PathBuf>,
    /// Unix time in seconds (default: now).
    #[arg(long)]
    pub(crate) timestamp: Option<u64>,
    /// Nonce (default: 32 random characters).
    #[arg(long)]
    pub(crate) nonce: Option<String>,
}

/// `wechatpay verify`
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The Wechatpay-Timestamp header.
    #[arg(long)]
    pub(crate) timestamp: String,
    /// The Wechatpay-Nonce header.
    #[arg(long)]
    pub(crate) nonce: String,
    /// The Wechatpay-Signature header.
    #[arg(long)]
    pub(crate) signature: String,
    /// The Wechatpay-Serial header.
    #[arg(long)]
    pub(crate) serial: String,
    /// File holding the raw response or callback body.
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: PathBuf,
    /// Judge the timestamp as if it were this Unix time (for old captures; default: now).
    #[arg(long)]
    pub(crate) now: Option<u64>,
}

/// `wechatpay notification …`
#[derive(Debug, Subcommand)]
pub(crate) enum NotificationCommand {
    /// Verify, decrypt and print one captured notification (exit 4 naming the failed check).
    Parse(NotificationParseArgs),
    /// Receive notifications over HTTP for development: print each verified one as a JSON line.
    Listen(NotificationListenArgs),
}

/// Whose notifications these are: `--kind` and `--sub-mchid` (the merchant id is `--mchid`).
#[derive(Debug, Args)]
pub(crate) struct NotificationKind {
    /// Take only this kind: a direct merchant's, a service provider's for its sub-merchants,
    /// or the parking service's (`--mchid` is then the `sp_mchid` they carry). Default: every
    /// kind, told apart by the notification itself.
    #[arg(long, value_enum)]
    pub(crate) kind: Option<Kind>,
    /// Accept only this sub-merchant's notifications (not with `--kind direct`).
    #[arg(long)]
    pub(crate) sub_mchid: Option<String>,
}

/// The kind of notification endpoint.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A direct merchant's payments (`mchid` must be ours).
    Direct,
    /// A service provider's payments for sub-merchants (`sp_mchid` must be ours).
    Partner,
    /// The parking service's orders and entry state changes (`sp_mchid` must be ours).
    Parking,
}

/// `wechatpay notification parse`
#[derive(Debug, Args)]
pub(crate) struct NotificationParseArgs {
    /// File holding the raw notification body, byte for byte.
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: PathBuf,
    /// File holding the request's header lines as captured (`Name: value`, any case; other
    /// lines, such as the request line, are ignored).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["timestamp", "nonce", "signature", "serial"])]
    pub(crate) headers_file: Option<PathBuf>,
    /// The Wechatpay-Timestamp header (instead of --headers-file).
    #[arg(long, required_unless_present = "headers_file")]
    pub(crate) timestamp: Option<String>,
    /// The Wechatpay-Nonce header.
    #[arg(long, required_unless_present = "headers_file")]
    pub(crate) nonce: Option<String>,
    /// The Wechatpay-Signature header.
    #[arg(long, required_unless_present = "headers_file")]
    pub(crate) signature: Option<String>,
    /// The Wechatpay-Serial header.
    #[arg(long, required_unless_present = "headers_file")]
    pub(crate) serial: Option<String>,
    /// Judge the timestamp as if it were this Unix time (for old captures; default: now).
    #[arg(long, value_name = "UNIX")]
    pub(crate) now: Option<u64>,
    /// Whose notifications.
    #[command(flatten)]
    pub(crate) kind: NotificationKind,
}

/// `wechatpay notification listen`
#[derive(Debug, Args)]
pub(crate) struct NotificationListenArgs {
    /// Where to listen, HOST:PORT (port 0 picks a free one).
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) addr: String,
    /// The path notifications are POSTed to; other paths get 404.
    #[arg(long, default_value = "/", value_name = "PATH")]
    pub(crate) path: String,
    /// Whose notifications.
    #[command(flatten)]
    pub(crate) kind: NotificationKind,
}
