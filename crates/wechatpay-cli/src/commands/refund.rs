//! `refund create|get|watch|apply-abnormal` (PROTOCOL.md §15): stdout is the refund as JSON
//! (the API's field names, digits kept), exit 0. `watch` prints the final refund (exit 0,
//! whatever the final state) or, at the deadline, the last one with exit 6, one stderr line
//! per change as `order watch` does.
//!
//! Every value goes through the core's validation before the settings are read, so invalid
//! input exits 2 naming the field and the rule, before anything is signed. The bank account
//! and the holder's name of an abnormal refund are read from files (never from the command
//! line, where other users see them), encrypted at once, and never printed.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use wechatpay_core::api::{
    ApplyAbnormalRefund, CreateRefund, QueryRefund, RefundOrder, RefundReason, RefundRequestAmount, SensitiveField,
};
use wechatpay_core::model::{Fen, FundsAccount};
use wechatpay_core::{
    InvalidInput, KeyKind, KeyStore, NotifyUrl, OutRefundNo, OutTradeNo, RefundId, SubMchId, TransactionId,
};
use zeroize::Zeroizing;

use super::print_json;
use super::watch::watch_refund;
use crate::args::{Settings, WatchTiming};
use crate::failure::Failure;
use crate::settings;

/// `wechatpay refund …`
#[derive(Debug, Subcommand)]
pub(crate) enum RefundCommand {
    /// Refund (part of) a paid order; prints the refund (normally PROCESSING).
    Create(RefundCreateArgs),
    /// Query one refund by the merchant's refund number.
    Get {
        /// The merchant's refund number.
        #[arg(long, value_name = "NO")]
        out_refund_no: String,
        /// The sub-merchant's id (service providers); leave out as a merchant.
        #[arg(long, value_name = "ID")]
        sub_mchid: Option<String>,
    },
    /// Query a refund until it is final (SUCCESS, CLOSED or ABNORMAL: exit 0) or the
    /// deadline comes (the last answer, exit 6).
    Watch {
        /// The merchant's refund number.
        #[arg(long, value_name = "NO")]
        out_refund_no: String,
        /// The sub-merchant's id (service providers); leave out as a merchant.
        #[arg(long, value_name = "ID")]
        sub_mchid: Option<String>,
        /// How long and how often.
        #[command(flatten)]
        timing: WatchTiming,
    },
    /// Pay out an ABNORMAL refund another way: to the user's bank card (account number and
    /// holder's name read from files, encrypted for WeChat Pay) or the merchant's.
    ApplyAbnormal(ApplyAbnormalArgs),
}

/// `wechatpay refund create`
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("order").required(true).args(["out_trade_no", "transaction_id"]))]
pub(crate) struct RefundCreateArgs {
    /// The merchant's refund number: 1-64 of `[0-9A-Za-z_-|*@]`; the same number is the same
    /// refund however often it is sent.
    #[arg(long, value_name = "NO")]
    pub(crate) out_refund_no: String,
    /// The refunded order, by merchant order number.
    #[arg(long, value_name = "NO")]
    pub(crate) out_trade_no: Option<String>,
    /// The refunded order, by WeChat Pay transaction id.
    #[arg(long, value_name = "ID")]
    pub(crate) transaction_id: Option<String>,
    /// The amount refunded, in fen: greater than 0, at most --total.
    #[arg(long, value_name = "FEN", allow_hyphen_values = true)]
    pub(crate) refund: String,
    /// The original order's total, in fen.
    #[arg(long, value_name = "FEN", allow_hyphen_values = true)]
    pub(crate) total: String,
    /// Shown to the user: 1-80 characters.
    #[arg(long, value_name = "TEXT")]
    pub(crate) reason: Option<String>,
    /// Where the refund's notifications go (else the merchant console's refund URL).
    #[arg(long, value_name = "URL")]
    pub(crate) notify_url: Option<String>,
    /// The account the refund is paid from: AVAILABLE (service providers also UNSETTLED).
    #[arg(long, value_name = "AVAILABLE")]
    pub(crate) funds_account: Option<String>,
    /// The sub-merchant's id (service providers); leave out as a merchant.
    #[arg(long, value_name = "ID")]
    pub(crate) sub_mchid: Option<String>,
}

/// Where an abnormal refund is paid instead (`--type`).
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum AbnormalType {
    /// The user's bank card: needs --bank-type, --bank-account-file and --real-name-file.
    UserBankCard,
    /// The merchant's bank card (the merchant refunds offline).
    MerchantBankCard,
}

/// `wechatpay refund apply-abnormal`
#[derive(Debug, Args)]
pub(crate) struct ApplyAbnormalArgs {
    /// WeChat Pay's refund id (from `refund get`).
    #[arg(long, value_name = "ID")]
    pub(crate) refund_id: String,
    /// The merchant's refund number.
    #[arg(long, value_name = "NO")]
    pub(crate) out_refund_no: String,
    /// Where the refund is paid instead.
    #[arg(long = "type", value_enum, value_name = "USER_BANK_CARD|MERCHANT_BANK_CARD")]
    pub(crate) kind: AbnormalType,
    /// The user's bank (USER_BANK_CARD), e.g. ICBC_DEBIT.
    #[arg(long, value_name = "CODE")]
    pub(crate) bank_type: Option<String>,
    /// A file holding the user's bank account number (USER_BANK_CARD; whitespace around it ignored).
    #[arg(long, value_name = "F")]
    pub(crate) bank_account_file: Option<PathBuf>,
    /// A file holding the account holder's real name (USER_BANK_CARD; whitespace around it ignored).
    #[arg(long, value_name = "F")]
    pub(crate) real_name_file: Option<PathBuf>,
    /// The sub-merchant's id (service providers); leave out as a merchant.
    #[arg(long, value_name = "ID")]
    pub(crate) sub_mchid: Option<String>,
}

/// Runs a `refund` subcommand.
pub(crate) fn run(s: &Settings, command: &RefundCommand) -> Result<(), Failure> {
    match command {
        RefundCommand::Create(args) => {
            let op = create_op(args)?;
            print_json(&settings::client(s)?.execute(&op)?)
        }
        RefundCommand::Get { out_refund_no, sub_mchid } => {
            let op = query_op(out_refund_no, sub_mchid.as_deref())?;
            print_json(&settings::client(s)?.execute(&op)?)
        }
        RefundCommand::Watch { out_refund_no, sub_mchid, timing } => {
            let op = query_op(out_refund_no, sub_mchid.as_deref())?;
            watch_refund(s, &op, timing)
        }
        RefundCommand::ApplyAbnormal(args) => apply_abnormal(s, args),
    }
}

/// A fen amount for `field`: a whole number (its other rules are the core's).
fn fen(field: &'static str, text: &str) -> Result<Fen, InvalidInput> {
    text.trim()
        .parse::<i64>()
        .map(Fen)
        .map_err(|_| InvalidInput::new(field, format!("is {text:?}, not a whole number"), RefundRequestAmount::RULE))
}

fn sub_mchid(text: Option<&str>) -> Result<Option<SubMchId>, InvalidInput> {
    text.map(SubMchId::new).transpose()
}

/// The refund request of `args`, every value checked by the core.
fn create_op(args: &RefundCreateArgs) -> Result<CreateRefund, InvalidInput> {
    let out_refund_no = OutRefundNo::new(args.out_refund_no.as_str())?;
    let order = match (&args.out_trade_no, &args.transaction_id) {
        (Some(no), _) => RefundOrder::OutTradeNo(OutTradeNo::new(no.as_str())?),
        (None, Some(id)) => RefundOrder::TransactionId(TransactionId::new(id.as_str())?),
        (None, None) => {
            return Err(InvalidInput::new("out_trade_no", "is missing", "give --out-trade-no or --transaction-id"));
        }
    };
    let amount = RefundRequestAmount::new(fen("amount.refund", &args.refund)?, fen("amount.total", &args.total)?)?;
    let mut op = CreateRefund::new(order, out_refund_no, amount);
    if let Some(sub) = sub_mchid(args.sub_mchid.as_deref())? {
        op = op.with_sub_mchid(sub);
    }
    if let Some(reason) = &args.reason {
        op = op.with_reason(RefundReason::new(reason.as_str())?);
    }
    if let Some(url) = &args.notify_url {
        op = op.with_notify_url(NotifyUrl::new(url.as_str())?);
    }
    if let Some(account) = &args.funds_account {
        op = op.with_funds_account(funds_account(account, args.sub_mchid.is_some())?);
    }
    Ok(op)
}

/// `--funds-account`: `AVAILABLE`, and `UNSETTLED` for a service provider (spec §15).
fn funds_account(text: &str, partner: bool) -> Result<FundsAccount, InvalidInput> {
    match (text, partner) {
        ("AVAILABLE", _) => Ok(FundsAccount::Available),
        ("UNSETTLED", true) => Ok(FundsAccount::Unsettled),
        _ => Err(InvalidInput::new(
            "funds_account",
            format!("is {text:?}"),
            "AVAILABLE (service providers, with --sub-mchid, also UNSETTLED)",
        )),
    }
}

fn query_op(out_refund_no: &str, sub: Option<&str>) -> Result<QueryRefund, InvalidInput> {
    let op = QueryRefund::new(OutRefundNo::new(out_refund_no)?);
    Ok(match sub_mchid(sub)? {
        Some(sub) => op.with_sub_mchid(sub),
        None => op,
    })
}

/// A secret read from a file named by `flag`: surrounding whitespace dropped, wiped from
/// memory when dropped; errors name the flag and the file, never the content.
fn secret_file(flag: &str, field: &'static str, path: &Path) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let bytes = Zeroizing::new(settings::read_file(flag, path)?);
    let trimmed = Zeroizing::new(bytes.trim_ascii().to_vec());
    if trimmed.is_empty() {
        return Err(InvalidInput::new(field, format!("is empty in {}", path.display()), "not empty").into());
    }
    if std::str::from_utf8(&trimmed).is_err() {
        return Err(InvalidInput::new(field, format!("in {} is not UTF-8", path.display()), "UTF-8 text").into());
    }
    Ok(trimmed)
}

/// The key sensitive fields are encrypted under (spec §15): the WeChat Pay public key when
/// one is configured, else the newest platform certificate (the latest `notBefore`), whatever
/// order the certificates were configured in.
fn encryption_key(keys: &KeyStore) -> Result<(String, &wechatpay_core::PublicKey), Failure> {
    let serial = keys
        .serials()
        .find(|(_, kind)| *kind == KeyKind::PublicKey)
        .map(|(serial, _)| serial)
        .or_else(|| keys.newest_platform_certificate())
        .ok_or_else(|| Failure::usage("no WeChat Pay key configured to encrypt bank_account and real_name"))?;
    let key = keys.get(serial).ok_or_else(|| Failure::other("the chosen WeChat Pay key vanished"))?;
    Ok((serial.to_owned(), key))
}

/// `wechatpay refund apply-abnormal`
fn apply_abnormal(s: &Settings, args: &ApplyAbnormalArgs) -> Result<(), Failure> {
    let refund_id = RefundId::new(args.refund_id.as_str())?;
    let out_refund_no = OutRefundNo::new(args.out_refund_no.as_str())?;
    let sub = sub_mchid(args.sub_mchid.as_deref())?;
    // The secrets, read (and checked) before the settings; encrypted once the keys are known.
    let secrets = match args.kind {
        AbnormalType::MerchantBankCard => {
            for (given, field) in [
                (args.bank_type.is_some(), "bank_type"),
                (args.bank_account_file.is_some(), "bank_account"),
                (args.real_name_file.is_some(), "real_name"),
            ] {
                if given {
                    return Err(InvalidInput::new(field, "is given", "only for --type USER_BANK_CARD").into());
                }
            }
            None
        }
        AbnormalType::UserBankCard => {
            const RULE: &str = "USER_BANK_CARD needs --bank-type, --bank-account-file and --real-name-file";
            let bank_type =
                args.bank_type.as_deref().ok_or_else(|| InvalidInput::new("bank_type", "is missing", RULE))?;
            // Checked now, before any file is read (the operation checks it again).
            let bank_type_ok = !bank_type.is_empty()
                && bank_type.len() <= 16
                && bank_type.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !bank_type_ok {
                let problem = format!("is {bank_type:?}");
                return Err(InvalidInput::new("bank_type", problem, ApplyAbnormalRefund::BANK_TYPE_RULE).into());
            }
            let account_path = args
                .bank_account_file
                .as_deref()
                .ok_or_else(|| InvalidInput::new("bank_account", "is missing", RULE))?;
            let name_path =
                args.real_name_file.as_deref().ok_or_else(|| InvalidInput::new("real_name", "is missing", RULE))?;
            let account = secret_file("--bank-account-file", "bank_account", account_path)?;
            let name = secret_file("--real-name-file", "real_name", name_path)?;
            Some((bank_type, account, name))
        }
    };
    let keys = settings::key_store(s)?;
    let config = settings::config_with(s, keys.clone(), true)?;
    let op = match secrets {
        None => ApplyAbnormalRefund::merchant_bank_card(refund_id, out_refund_no),
        Some((bank_type, account, name)) => {
            let (serial, key) = encryption_key(&keys)?;
            let encrypt = |field: &str, plaintext: &[u8]| {
                SensitiveField::encrypt(&serial, key, plaintext)
                    .map_err(|e| Failure::other(format!("cannot encrypt {field}: {e}")))
            };
            let bank_account = encrypt("bank_account", &account)?;
            let real_name = encrypt("real_name", &name)?;
            ApplyAbnormalRefund::user_bank_card(refund_id, out_refund_no, bank_type, bank_account, real_name)?
        }
    };
    let op = match sub {
        Some(sub) => op.with_sub_mchid(sub),
        None => op,
    };
    let client = wechatpay_ureq::Client::new(settings::driver(s, config)?);
    print_json(&client.execute(&op)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Certificates only: the newest one (platform2_cert.pem, notBefore Nov 24 2026, after
    /// platform_cert.pem's Nov 23: `openssl x509 -noout -startdate`), even configured last;
    /// with a public key, the public key.
    #[test]
    fn sensitive_fields_use_the_public_key_else_the_newest_certificate() {
        let data = |name: &str| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wechatpay-core/tests/data");
            std::fs::read(dir.join(name)).unwrap()
        };
        let mut keys = KeyStore::new();
        keys.add_platform_certificates(&data("platform_cert.pem")).unwrap(); // the older, first
        keys.add_platform_certificates(&data("certificates/platform2_cert.pem")).unwrap();
        assert_eq!(encryption_key(&keys).unwrap().0, "7A1B2C3D4E5F60718293A4B5C6D7E8F901234567");
        keys.add_public_key("PUB_KEY_ID_0114232019092600000000000000000001", &data("wechatpay_pub.pem")).unwrap();
        assert_eq!(encryption_key(&keys).unwrap().0, "PUB_KEY_ID_0114232019092600000000000000000001");
        assert!(encryption_key(&KeyStore::new()).is_err());
    }

    #[test]
    fn funds_account_is_available_or_unsettled_for_a_partner() {
        assert_eq!(funds_account("AVAILABLE", false), Ok(FundsAccount::Available));
        assert_eq!(funds_account("UNSETTLED", true), Ok(FundsAccount::Unsettled));
        assert_eq!(funds_account("UNSETTLED", false).unwrap_err().field(), "funds_account");
        assert_eq!(funds_account("available", true).unwrap_err().field(), "funds_account");
    }
}
