use super::*;
use crate::api::{BillOutcome, is_expired_download};
use crate::calendar::civil_from_days;
use crate::keys::{KeyStore, PrivateKey};
use crate::{MchId, Nonce, SerialNo};

fn config(base: Option<&str>) -> Config {
    let key = PrivateKey::from_pem(include_bytes!("../../tests/data/merchant_key.pem")).unwrap();
    let b = Config::builder(MchId::new("1230000109").unwrap(), SerialNo::new("AB12").unwrap(), key, KeyStore::new());
    match base {
        Some(url) => b.base_url(url).build().unwrap(),
        None => b.build().unwrap(),
    }
}

const SPEC_ALL: &[u8] = include_bytes!("../../tests/data/bills/trade_all_spec.csv");
const SPEC_ALL_GZ: &[u8] = include_bytes!("../../tests/data/bills/trade_all_spec.csv.gz");
const FUND: &[u8] = include_bytes!("../../tests/data/bills/fund_basic.csv");
const FUND_GZ: &[u8] = include_bytes!("../../tests/data/bills/fund_basic.csv.gz");
const LEGACY: &[u8] = include_bytes!("../../tests/data/bills/trade_legacy.csv");

/// `sha1sum` of the fixtures (tests/data/bills/README.md).
const SPEC_SHA1: &str = "dcd7ceb3d382a1181798368bb15d8437de46c00f";
const FUND_SHA1: &str = "0e23a649e83093657a4fb9e7fcf746183a8f5104";
const LEGACY_SHA1: &str = "d1f557775491cf995a8acc5284e1db43b1629e6a";

fn hash(hex: &str) -> BillHash {
    BillHash::parse("SHA1", hex).unwrap()
}

fn read(kind: BillKind, expected: &str, bytes: &[u8], chunk: usize) -> (Vec<Record>, Result<Verified, BillError>) {
    let mut records = Vec::new();
    let mut reader = BillReader::new(kind, hash(expected));
    for part in bytes.chunks(chunk.max(1)) {
        if let Err(e) = reader.feed(part, &mut |r| records.push(r)) {
            return (records, Err(e));
        }
    }
    let verified = reader.finish(&mut |r| records.push(r));
    (records, verified)
}

#[test]
fn the_spec_vector_is_proved_plain_and_gzip_in_any_chunk_size() {
    assert_eq!(BillHash::sha1_of(SPEC_ALL).to_string(), SPEC_SHA1);
    for bytes in [SPEC_ALL, SPEC_ALL_GZ] {
        for chunk in [1, 2, 3, 7, 64, 1000, 1 << 20] {
            let (records, verified) = read(BillKind::Trade, SPEC_SHA1, bytes, chunk);
            let verified = verified.unwrap();
            assert_eq!((verified.rows, verified.bytes), (3, 1356), "chunk {chunk}");
            assert_eq!(verified.header.len(), 27);
            assert_eq!(records.len(), 4);
            let Record::Trade(row) = &records[0] else { panic!("not a trade row") };
            assert_eq!(row.trade_time.to_string(), "2021-01-28 17:07:11");
            assert_eq!(row.trade_time.to_rfc3339(), "2021-01-28T17:07:11+08:00");
            assert_eq!(row.trade_time.unix_timestamp(), 1_611_824_831);
            assert_eq!(row.out_trade_no, "S20210128170702357723");
            assert_eq!(row.transaction_id, "4200000925202101284997714292");
            assert_eq!((row.sub_mchid.as_deref(), row.device_info.as_deref()), (None, None));
            assert_eq!((row.refund_id.as_deref(), row.out_refund_no.as_deref()), (None, None));
            assert_eq!((row.settlement_total, row.total, row.refund), (Some(Fen(1)), Some(Fen(1)), Some(Fen(0))));
            assert_eq!((row.fee, row.rate.as_str(), row.rate_remark.as_deref()), (Fee(0), "1.00%", None));
            assert_eq!(row.description, "for testing");
            let Record::TradeSummary(s) = &records[3] else { panic!("no summary") };
            assert_eq!((s.total_count, s.total, s.fee), (3, Some(Fen(3)), Some(Fee(0))));
            assert_eq!(verified.summary, Summary::Trade(s.clone()));
        }
    }
}

#[test]
fn the_published_negatives_do_not_match() {
    // spec §17: the text as printed, BOM + LF, CRLF without BOM each hash differently.
    let lf: Vec<u8> = SPEC_ALL[3..].iter().copied().filter(|&b| b != b'\r').collect();
    let bom_lf = [&SPEC_ALL[..3], &lf[..]].concat();
    for (bytes, sha1) in [
        (&lf[..], "b18b51eb64422040e5ad738d47b358a40b1a7997"),
        (&bom_lf[..], "e544a10e48871765c87b63e03038084f26a03e6a"),
        (&SPEC_ALL[3..], "626ad7e25700d7c51e564d749f71546e0ecea98f"),
    ] {
        assert_eq!(BillHash::sha1_of(bytes).to_string(), sha1);
        // Each parses (BOM/CRLF are accepted) but is not the published file.
        let (records, verified) = read(BillKind::Trade, SPEC_SHA1, bytes, 100);
        assert_eq!(records.len(), 4);
        match verified {
            Err(BillError::HashMismatch { expected, actual }) => {
                assert_eq!(expected.to_string(), SPEC_SHA1);
                assert_eq!(actual.to_string(), sha1);
            }
            other => panic!("{other:?}"),
        }
        // …and with its own hash it is proved.
        assert!(read(BillKind::Trade, sha1, bytes, 100).1.is_ok());
    }
}

#[test]
fn the_hash_compares_case_insensitively_and_a_mismatch_says_so() {
    assert!(read(BillKind::Trade, &SPEC_SHA1.to_uppercase(), SPEC_ALL_GZ, 50).1.is_ok());
    let wrong = "0000000000000000000000000000000000000000";
    let err = read(BillKind::Trade, wrong, SPEC_ALL, 50).1.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("hash mismatch") && text.contains(SPEC_SHA1) && text.contains("not proved"), "{text}");
    assert!(BillHash::parse("MD5", SPEC_SHA1).unwrap_err().to_string().contains("hash_type"));
    assert!(BillHash::parse("SHA1", &SPEC_SHA1[1..]).unwrap_err().to_string().contains("hash_value"));
    assert!(BillHash::parse("SHA1", &SPEC_SHA1.replace('d', "g")).is_err());
}

#[test]
fn fund_bills_read_with_direction_and_summary() {
    for bytes in [FUND, FUND_GZ] {
        let (records, verified) = read(BillKind::FundFlow, FUND_SHA1, bytes, 5);
        let verified = verified.unwrap();
        assert_eq!(verified.rows, 3);
        let Record::Fund(first) = &records[0] else { panic!() };
        assert_eq!((first.direction, first.amount, first.balance), (Direction::Income, Fen(8888), Some(Fen(8888))));
        assert_eq!(first.voucher_no, "");
        let Record::Fund(second) = &records[1] else { panic!() };
        assert_eq!((second.direction, second.amount), (Direction::Expense, Fen(53)));
        assert_eq!(second.remark, "note\\r\\nwith escapes");
        let Summary::Fund(s) = &verified.summary else { panic!() };
        assert_eq!(
            (s.total_count, s.income_count, s.income, s.expense_count, s.expense),
            (3, 1, Fen(8888), 2, Fen(1053))
        );
    }
}

#[test]
fn a_legacy_layout_reads_by_header_name() {
    let (records, verified) = read(BillKind::Trade, LEGACY_SHA1, LEGACY, 9);
    verified.unwrap();
    let Record::Trade(row) = &records[0] else { panic!() };
    assert_eq!((row.settlement_total, row.coupon_amount, row.total), (None, None, None));
    assert_eq!(row.sub_mchid.as_deref(), Some("1608883008"));
    assert_eq!(row.refund_id.as_deref(), Some("50000000012015083100000001"));
    assert_eq!((row.refund, row.fee, row.fee.to_string().as_str()), (Some(Fen(50)), Fee(300), "0.00300"));
    let Record::TradeSummary(s) = &records[1] else { panic!() };
    assert_eq!((s.total_count, s.fee, s.total), (1, Some(Fee(300)), None));
}

#[test]
fn stopping_early_or_truncating_proves_nothing() {
    let cut = &SPEC_ALL_GZ[..SPEC_ALL_GZ.len() - 10];
    assert!(matches!(read(BillKind::Trade, SPEC_SHA1, cut, 64).1, Err(BillError::Gzip(_))));
    // A plain file cut before its summary: the hash differs first of all.
    let cut = &SPEC_ALL[..SPEC_ALL.len() - 60];
    assert!(matches!(read(BillKind::Trade, SPEC_SHA1, cut, 64).1, Err(BillError::HashMismatch { .. })));
    // With a matching hash, a file without its summary is still refused.
    let head = &SPEC_ALL[..600];
    let sha1 = BillHash::sha1_of(head).to_string();
    assert!(matches!(
        read(BillKind::Trade, &sha1, head, 64).1,
        Err(BillError::Incomplete(_) | BillError::Format { .. })
    ));
    let mut reader = BillReader::new(BillKind::Trade, hash(SPEC_SHA1));
    reader.feed(SPEC_ALL, &mut |_| {}).unwrap();
    reader.finish(&mut |_| {}).unwrap();
    assert_eq!(reader.feed(b"x", &mut |_| {}), Err(BillError::Closed));
}

#[test]
fn format_errors_name_the_line_and_column() {
    let bad = |text: &str| {
        let bytes = text.as_bytes();
        let sha1 = BillHash::sha1_of(bytes).to_string();
        read(BillKind::Trade, &sha1, bytes, 3).1.unwrap_err().to_string()
    };
    let header = "交易时间,商户号,微信订单号,商户订单号,交易状态,订单金额\n";
    assert!(bad("商户号\n").contains("lacks the column 交易时间"));
    let e = bad(&format!("{header}`2021-01-28 17:07:11,`1,`2,`3,`SUCCESS\n"));
    assert!(e.contains("line 2") && e.contains("5 values"), "{e}");
    let e = bad(&format!("{header}`2021-01-28 17:07:11,`1,`2,`3,`SUCCESS,`0.001\n"));
    assert!(e.contains("订单金额") && e.contains("whole number of fen"), "{e}");
    let e = bad(&format!("{header}`2021-02-30 17:07:11,`1,`2,`3,`SUCCESS,`0.01\n"));
    assert!(e.contains("交易时间"), "{e}");
    let e = bad(&format!("{header}`2021-01-28 17:07:11,`1,`2,`3,`SUCCESS,`1e3\n"));
    assert!(e.contains("decimal"), "{e}");
    let e = bad(&format!("{header}总交易单数\n`1.5\n"));
    assert!(e.contains("count"), "{e}");
    let e = bad(&format!("{header}总交易单数\n`1\n`2\n"));
    assert!(e.contains("after the summary"), "{e}");
    let e = bad("\u{feff}\u{fffd}\n");
    assert!(e.contains("lacks the column"), "{e}");
    assert!(bad(&format!("{header}`\u{0}\n")).contains("line 2"));
}

#[test]
fn an_overlong_line_is_refused_with_bounded_memory() {
    let mut reader = BillReader::new(BillKind::Trade, hash(SPEC_SHA1));
    let block = vec![b'a'; 64 * 1024];
    let mut result = Ok(());
    for _ in 0..40 {
        result = reader.feed(&block, &mut |_| {});
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(BillError::LineTooLong { line: 1 }));
}

#[test]
fn money_and_counts_are_exact() {
    assert_eq!(parse_fen("0.01"), Ok(Fen(1)));
    assert_eq!(parse_fen("88.88"), Ok(Fen(8888)));
    assert_eq!(parse_fen("-1.5"), Ok(Fen(-150)));
    assert_eq!(parse_fen("1"), Ok(Fen(100)));
    assert!(parse_fen("0.011").is_err());
    assert!(parse_fen("1.").is_err() && parse_fen(".1").is_err() && parse_fen("").is_err());
    assert!(parse_fen("999999999999999").is_err());
    assert_eq!(parse_fee("0.01000"), Ok(Fee(1000)));
    assert_eq!(Fee(1000).to_fen(), Some(Fen(1)));
    assert_eq!(Fee(1).to_fen(), None);
    assert_eq!(Fee(-123_456).to_string(), "-1.23456");
    assert_eq!(parse_count("45.0"), Ok(45));
    assert!(parse_count("-1").is_err());
}

#[test]
fn civil_dates_round_trip() {
    for days in [-1, 0, 1, 18_000, 19_000, 20_000, 60_000] {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(days_from_civil(y, m, d), days);
    }
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(19_723), (2024, 1, 1));
}

#[test]
fn download_urls_are_checked_and_signed_verbatim() {
    let config = config(None);
    let url = "https://api.mch.weixin.qq.com/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO&tartype=gzip";
    let dl = BillDownload::new(&config, url).unwrap();
    assert_eq!(dl.host(), Host::Primary);
    let input = SigningInput::new(1_700_000_000, Nonce::new("N".repeat(32)).unwrap());
    let request = dl.request(&config, input).unwrap();
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(request.uri().to_string(), url);
    assert!(request.headers()["authorization"].to_str().unwrap().starts_with("WECHATPAY2-SHA256-RSA2048 "));
    let backup = BillDownload::new(&config, "https://api2.mch.weixin.qq.com/v3/billdownload/file?token=a%2Fb").unwrap();
    assert_eq!((backup.host(), backup.target()), (Host::Backup, "/v3/billdownload/file?token=a%2Fb"));
    for bad in [
        "http://api.mch.weixin.qq.com/v3/billdownload/file?token=x",
        "https://api.mch.weixin.qq.com:8443/v3/billdownload/file?token=x",
        "https://user@api.mch.weixin.qq.com/v3/billdownload/file?token=x",
        "https://api.mch.weixin.qq.com.evil.example/v3/x",
        "https://evil.example/v3/billdownload/file?token=x",
        "https://api.mch.weixin.qq.com/v3/billdownload/file?token=x#frag",
        "https://api.mch.weixin.qq.com/v3/bill download",
        "//api.mch.weixin.qq.com/v3/x",
    ] {
        assert_eq!(BillDownload::new(&config, bad).unwrap_err().field(), "download_url", "{bad}");
    }
    let sim = config_sim();
    assert!(BillDownload::new(&sim, "http://127.0.0.1:8080/v3/billdownload/file?token=t").is_ok());
    assert!(BillDownload::new(&sim, "http://127.0.0.1:8081/v3/billdownload/file?token=t").is_err());
    assert!(BillDownload::new(&sim, "https://api.mch.weixin.qq.com/v3/billdownload/file?token=t").is_err());
}

fn config_sim() -> Config {
    config(Some("http://127.0.0.1:8080"))
}

#[test]
fn outcomes_and_download_errors() {
    let config = config(None);
    let dl = BillDownload::new(&config, "https://api.mch.weixin.qq.com/v3/billdownload/file?token=t").unwrap();
    let answer =
        |status: u16, body: &str| http::Response::builder().status(status).body(body.as_bytes().to_vec()).unwrap();
    let expired =
        dl.error(&config, &answer(400, r#"{"code":"INVALID_REQUEST","message":"expired"}"#), SystemTime::now());
    assert!(is_expired_download(&expired));
    let no_auth = dl.error(&config, &answer(403, r#"{"code":"NO_AUTH","message":"no"}"#), SystemTime::now());
    assert_eq!(no_auth.api_code(), Some("NO_AUTH"));
    assert!(!is_expired_download(&no_auth));
    let none = dl.error(&config, &answer(400, r#"{"code":"NO_STATEMENT_EXIST","message":"none"}"#), SystemTime::now());
    assert!(matches!(BillOutcome::from_result(Err(none)), Ok(BillOutcome::NoStatement)));
    let creating =
        dl.error(&config, &answer(400, r#"{"code":"STATEMENT_CREATING","message":"wait"}"#), SystemTime::now());
    assert!(matches!(BillOutcome::from_result(Err(creating)), Ok(BillOutcome::NotReady)));
    assert!(BillOutcome::from_result(Err(no_auth)).is_err());
}

/// Collects the raw bytes and the records.
#[derive(Default)]
struct Collect {
    raw: Vec<u8>,
    records: usize,
}

impl BillSink for Collect {
    fn record(&mut self, _record: Record) {
        self.records += 1;
    }
    fn raw(&mut self, bytes: &[u8]) {
        self.raw.extend_from_slice(bytes);
    }
}

#[test]
fn the_raw_bytes_come_out_exactly_as_decompressed() {
    for (bytes, plain) in [(SPEC_ALL_GZ, SPEC_ALL), (SPEC_ALL, SPEC_ALL), (FUND_GZ, FUND)] {
        let kind = if plain == FUND { BillKind::FundFlow } else { BillKind::Trade };
        for chunk in [1, 5, 333, 100_000] {
            let mut sink = Collect::default();
            let mut reader = BillReader::new(kind, BillHash::sha1_of(plain));
            for part in bytes.chunks(chunk) {
                reader.feed_into(part, &mut sink).unwrap();
            }
            let verified = reader.finish_into(&mut sink).unwrap();
            assert_eq!(sink.raw, plain, "chunk {chunk}");
            assert_eq!(sink.records as u64, verified.rows + 1);
            assert_eq!(verified.bytes, plain.len() as u64);
        }
    }
}

/// Reads `bytes` in `chunk`-sized pieces with their own hash: records and verdict.
fn verdict(kind: BillKind, bytes: &[u8], chunk: usize) -> (Vec<Record>, Result<u64, BillError>) {
    let hex = BillHash::sha1_of(bytes).to_string();
    let (records, verified) = read(kind, &hex, bytes, chunk);
    (records, verified.map(|v| v.rows))
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// A damaged bill (plain or gzip) never panics, and how it is chunked changes neither the
    /// records nor the verdict.
    #[test]
    fn damaged_bills_never_panic_and_chunking_does_not_matter(
        which in 0usize..5,
        edits in proptest::collection::vec((0usize..4096, proptest::num::u8::ANY), 0..6),
        cut in 0usize..4096,
        chunk in 1usize..700,
    ) {
        let (kind, base) = [
            (BillKind::Trade, SPEC_ALL), (BillKind::Trade, SPEC_ALL_GZ), (BillKind::FundFlow, FUND),
            (BillKind::FundFlow, FUND_GZ), (BillKind::Trade, LEGACY),
        ][which];
        let mut bytes = base.to_vec();
        for (at, byte) in edits {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        bytes.truncate(bytes.len() - cut % (bytes.len() / 4 + 1));
        let (records, result) = verdict(kind, &bytes, chunk);
        let (whole_records, whole_result) = verdict(kind, &bytes, bytes.len().max(1));
        proptest::prop_assert_eq!(result.is_ok(), whole_result.is_ok());
        if result.is_ok() {
            proptest::prop_assert_eq!(records, whole_records);
        }
    }
}

#[test]
fn a_long_line_fed_byte_by_byte_is_scanned_once() {
    // 300 000 one-byte feeds of one line: linear, not 300 000 rescans of the held tail.
    let line = format!("交易时间,商户号,微信订单号,商户订单号,交易状态{}\n", ",其他".repeat(40_000));
    let started = std::time::Instant::now();
    let mut reader = BillReader::new(BillKind::Trade, hash(SPEC_SHA1));
    for byte in line.as_bytes() {
        reader.feed(std::slice::from_ref(byte), &mut |_| {}).unwrap();
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
}
