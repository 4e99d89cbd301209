//! A connection flood: 2 000 connections that never finish a request (half never send a
//! byte, half are slowloris heads) do not lock real clients out of the simulator, and cost
//! it a bounded number of threads and bounded memory.
//!
//! The simulator runs in this test process, so the thread count and resident memory read
//! from `/proc/self/status` are the simulator's plus this test's (its 2 000 client sockets
//! and the clients). Linux only (`/proc`); elsewhere the test says so and does nothing.
//!
//! Those counts, the descriptors and the raised open-files limit are the whole process's,
//! and the integration tests share one process: the test runs itself again, alone, in a
//! child process of the test binary (see [`run_alone`]).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use wechatpay_core::retry::RetryPolicy;
use wechatpay_tests::*;

/// Connections opened by the flood.
const FLOOD: usize = 2_000;
/// The simulator's connection slots (`wechatpay_sim`'s `MAX_CONNECTIONS`).
const SIM_SLOTS: usize = 512;
/// Descriptors the test needs: the flood's client sockets, the simulator's side of the
/// connections it keeps, and room for the clients, the runtime and the harness.
const FDS_NEEDED: u64 = (FLOOD + SIM_SLOTS + 500) as u64;

/// A number from `/proc/self/status` (`VmRSS` is in KiB).
fn status(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].trim_start_matches(':').split_whitespace().next()?.parse().ok()
}

/// The soft limit on open files, from `/proc/self/limits`.
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Raises the soft open-files limit of this process to `want` with util-linux `prlimit`
/// (no `unsafe`, no dependency); the limit is then read back.
fn raise_open_files_limit(want: u64) -> Option<u64> {
    let _ = std::process::Command::new("prlimit")
        .arg(format!("--pid={}", std::process::id()))
        .arg(format!("--nofile={want}:"))
        .status();
    open_files_limit()
}

/// Set in the child process that runs the flood with no other test beside it.
const ALONE: &str = "WECHATPAY_TESTS_FLOOD_ALONE";

/// Runs the test named `name` (in this module) in a child process of this test binary,
/// alone, with [`ALONE`] set; its output is passed on and its failure is this test's.
fn run_alone(name: &str) {
    let module = module_path!().split_once("::").map_or(module_path!(), |(_, m)| m);
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new(exe)
        .args(["--exact", &format!("{module}::{name}"), "--nocapture", "--test-threads=1"])
        .env(ALONE, "1")
        .output()
        .expect("run the test binary again");
    eprint!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{name}, run alone in a child process, failed: {}", out.status);
    let ran = String::from_utf8_lossy(&out.stdout);
    assert!(ran.contains("1 passed"), "the child process did not run {name}");
}

#[test]
fn two_thousand_idle_connections_do_not_lock_clients_out() {
    if std::env::var_os(ALONE).is_none() {
        return run_alone("two_thousand_idle_connections_do_not_lock_clients_out");
    }
    let Some(limit) = open_files_limit() else {
        eprintln!("no /proc/self/limits: the flood test runs on Linux only");
        return;
    };
    let limit = if limit < FDS_NEEDED { raise_open_files_limit(FDS_NEEDED).unwrap_or(limit) } else { limit };
    assert!(
        limit >= FDS_NEEDED,
        "the open-files limit is {limit}, the flood needs {FDS_NEEDED}: raise it (ulimit -n) to run this test"
    );

    let sim = sim();
    // Warm up: both adapters once, so lazy initialisation is not counted as flood cost.
    for adapter in ADAPTERS {
        let client = TestClient::new(adapter, config(&sim), RetryPolicy::none(), Duration::from_secs(10));
        client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO)).expect("query before the flood");
    }
    std::thread::sleep(Duration::from_millis(200));
    let (rss_before, threads_before) = (status("VmRSS").unwrap_or(0), status("Threads").unwrap_or(0));

    let flood_start = Instant::now();
    let mut flood = Vec::with_capacity(FLOOD);
    for i in 0..FLOOD {
        let mut stream = TcpStream::connect(sim.addr()).expect("flood connection");
        if i % 2 == 1 {
            // A slowloris: the start of a head, never finished.
            stream.write_all(b"GET /v3/pay/transactions/id/1 HTTP/1.1\r\nHost: x\r\n").expect("slow head");
        }
        flood.push(stream);
    }
    let (rss_flood, threads_flood) = (status("VmRSS").unwrap_or(0), status("Threads").unwrap_or(0));
    eprintln!("{FLOOD} connections opened in {:?}", flood_start.elapsed());

    for adapter in ADAPTERS {
        let client = TestClient::new(adapter, config(&sim), RetryPolicy::none(), Duration::from_secs(10));
        let start = Instant::now();
        let order = client.execute(&by_out_trade_no(SEED_OUT_TRADE_NO));
        let took = start.elapsed();
        assert!(order.is_ok(), "{adapter:?}: {order:?}");
        assert!(took < Duration::from_secs(1), "{adapter:?}: answered in {took:?} with {FLOOD} idle connections open");
        eprintln!("{adapter:?}: answered in {took:?} with {FLOOD} flood connections open");
    }
    let (rss_after, threads_after) = (status("VmRSS").unwrap_or(0), status("Threads").unwrap_or(0));

    // The simulator closed the flood connections it had no room for.
    let mut closed = 0;
    for stream in &mut flood {
        stream.set_nonblocking(true).expect("non-blocking");
        if matches!(stream.read(&mut [0u8; 1]), Ok(0)) {
            closed += 1;
        }
    }
    eprintln!(
        "before the flood: {threads_before} threads, {rss_before} KiB resident; \
         {FLOOD} connections open: {threads_flood} threads, {rss_flood} KiB; \
         after both queries: {threads_after} threads, {rss_after} KiB; \
         {closed} flood connections closed by the simulator"
    );
    assert!(closed >= FLOOD - SIM_SLOTS, "only {closed} of {FLOOD} idle connections were evicted");
    if threads_before > 0 {
        let peak = threads_flood.max(threads_after);
        // Evicted threads take a moment to exit (longer on a busy machine), hence the margin
        // over the slots; without eviction there would be a thread per flood connection.
        assert!(peak <= threads_before + SIM_SLOTS as u64 + 256, "{peak} threads, {threads_before} before the flood");
        // A connection thread costs tens of KiB resident; 512 of them stay far below this.
        let grown = rss_flood.max(rss_after).saturating_sub(rss_before);
        assert!(grown < 64 * 1024, "resident memory grew by {grown} KiB");
    }
}
