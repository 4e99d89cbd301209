//! Reads a bill file as the SDK does — gunzip (when gzip), SHA-1 over the decompressed
//! bytes, typed rows — in 64 KiB chunks, and prints what it proved. Measured by
//! `benches/bill.sh` beside `gzip -dc FILE | sha1sum`.
//!
//! Usage: bill_read FILE SHA1 [trade|fundflow]

use std::io::Read as _;
use std::process::ExitCode;

use wechatpay_core::bill::{BillHash, BillKind, BillReader, Record};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: bill_read FILE SHA1 [trade|fundflow]");
        return ExitCode::from(2);
    }
    let kind = if args.get(3).map(String::as_str) == Some("fundflow") { BillKind::FundFlow } else { BillKind::Trade };
    let hash = match BillHash::parse("SHA1", &args[2]) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut file = match std::fs::File::open(&args[1]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}: {e}", args[1]);
            return ExitCode::from(2);
        }
    };
    let mut reader = BillReader::new(kind, hash);
    let mut buf = vec![0u8; 64 * 1024];
    let (mut rows, mut fen) = (0u64, 0i64);
    let mut count = |record: Record| {
        if let Record::Trade(row) = record {
            rows += 1;
            fen += row.total.map_or(0, |f| f.get());
        }
    };
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                eprintln!("read: {e}");
                return ExitCode::from(1);
            }
        };
        if let Err(e) = reader.feed(&buf[..n], &mut count) {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    }
    match reader.finish(&mut count) {
        Ok(v) => {
            println!("proved {} ({} bytes, {} rows, {rows} trade rows totalling {fen} fen)", v.hash, v.bytes, v.rows);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(4)
        }
    }
}
