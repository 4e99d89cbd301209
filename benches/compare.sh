#!/usr/bin/env bash
# Measures the SDK against the physical limit, side by side in one run on this machine:
#
#   1. `openssl speed -seconds 3 rsa2048` (RUNS times): the RSA sign/verify reference;
#   2. the criterion benches (sign, verify_parse, parse, keys) of benches/;
#   3. end to end: `wechatpay order get-many` over N orders against `wechatpay sim` on
#      loopback, under /usr/bin/time -v (client CPU per query, wall, peak RSS), RUNS times,
#      plus a sequential run (--concurrency 1) for per-query latency;
#   3b. the async path: ASYNC_N (default 1000) queries through wechatpay-reqwest with 64 in
#      flight (benches/src/bin/async_load.rs) against the same simulator, under time -v;
#   4. keys parsed per query, counted with callgrind (calls into AWS-LC's key parsers);
#   5. the peers: Python `wechatpayv3` and Node `wechatpay-axios-plugin`, installed into
#      target/peers/, each doing PEER_QUERIES signed+verified queries against the same
#      simulator.
#
# Then prints a table of medians (min-max) with each figure as a ratio to OpenSSL.
#
# Usage: benches/compare.sh [N]        (N orders for get-many, default 10000)
# Env:   RUNS=3  PEER_QUERIES=200  ASYNC_N=1000  SKIP_PEERS=1  SKIP_CALLGRIND=1  SKIP_BENCHES=1
#        CRITERION_ARGS="--warm-up-time 1 --measurement-time 3"
# Output: target/bench-report/ (raw outputs, results.json, report.md).
# Slow (about 10 minutes); not run by CI. Uses the checkout's own target/ directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-10000}
RUNS=${RUNS:-3}
PEER_QUERIES=${PEER_QUERIES:-200}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$TARGET/bench-report
PEERS=$TARGET/peers
STATE=$OUT/sim-state
rm -rf "$OUT"
mkdir -p "$OUT" "$PEERS" "$STATE"

step() { printf '\n==== %s ====\n' "$*" >&2; }

step "tools"
if ! command -v /usr/bin/time >/dev/null 2>&1 || [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
  else
    echo "GNU time (/usr/bin/time) is needed: apt-get install time" >&2
    exit 1
  fi
fi
command -v openssl >/dev/null || { echo "openssl is needed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "nproc: $(nproc)"
  lscpu | head -n 20
  echo "uptime: $(uptime)"
  rustc --version
  cargo --version
  openssl version
  python3 --version
  node --version 2>/dev/null | sed 's/^/node /' || echo "node: not found"
  (ps -eo comm | grep -c -E '^(rustc|cc1|cc1plus|cargo)$' || true) | sed 's/^/compiler processes at start: /'
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt" >&2

step "build (release)"
cargo build --release --locked -p wechatpay-cli -p wechatpay-sim
cargo build --release --locked -p wechatpay-benches --bin async_load
cargo bench --locked -p wechatpay-benches --no-run

step "openssl speed -seconds 3 rsa2048 (x$RUNS)"
for i in $(seq "$RUNS"); do
  openssl speed -seconds 3 rsa2048 2>/dev/null | grep -E '^rsa +2048 bits' | tee -a "$OUT/openssl.txt" >&2
done

if [ -z "${SKIP_BENCHES:-}" ]; then
  for b in sign verify_parse parse keys; do
    step "criterion: $b"
    rm -rf "$TARGET/criterion/$b"
    # shellcheck disable=SC2086
    cargo bench --locked -p wechatpay-benches --bench "$b" -- --noplot ${CRITERION_ARGS:-} 2>&1 | tee "$OUT/bench-$b.txt" >&2
  done
fi

step "end to end: wechatpay sim + wechatpay order get-many"
SIM_PID=
cleanup() { if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT
"$TARGET/release/wechatpay" sim --addr 127.0.0.1:0 --state-dir "$STATE" > "$OUT/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 100); do grep -q '^listening on' "$OUT/sim.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^listening on' "$OUT/sim.log" || { echo "the simulator did not start:" >&2; cat "$OUT/sim.log" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. "$STATE/env"
set +a
sim_cpu() { awk '{print $14 + $15}' "/proc/$SIM_PID/stat"; } # utime+stime, clock ticks
echo "$(getconf CLK_TCK)" > "$OUT/clk_tck"

# N lines cycling over the seeded direct orders.
python3 - "$N" > "$OUT/orders.txt" <<'PY'
import sys
seeds = ["1217752501201407033233368018", "SIM_NOTPAY_0001", "SIM_CLOSED_0001", "SIM_USERPAYING_0001",
         "SIM_REFUND_0001", "SIM_REVOKED_0001", "SIM_PAYERROR_0001", "SIM|PIPE*0001", "SIM_FUTURE_0001"]
for i in range(int(sys.argv[1])):
    print(seeds[i % len(seeds)])
PY
head -n "$PEER_QUERIES" "$OUT/orders.txt" > "$OUT/orders-seq.txt"

# Warm-up (page cache, the simulator's first connections).
"$TARGET/release/wechatpay" order get-many --input "$OUT/orders-seq.txt" --concurrency 4 > /dev/null 2>&1
for i in $(seq "$RUNS"); do
  before=$(sim_cpu)
  /usr/bin/time -v -o "$OUT/getmany-$i.time" \
    "$TARGET/release/wechatpay" order get-many --input "$OUT/orders.txt" --concurrency 4 > "$OUT/getmany-$i.out" 2> "$OUT/getmany-$i.err"
  echo "$(( $(sim_cpu) - before ))" > "$OUT/getmany-$i.simticks"
  tail -n 1 "$OUT/getmany-$i.err" >&2
  if [ "$(grep -c '"trade_state"' "$OUT/getmany-$i.out")" != "$N" ]; then
    echo "get-many did not answer every order" >&2; exit 1
  fi
  /usr/bin/time -v -o "$OUT/getmany-seq-$i.time" \
    "$TARGET/release/wechatpay" order get-many --input "$OUT/orders-seq.txt" --concurrency 1 > /dev/null 2> "$OUT/getmany-seq-$i.err"
done

ASYNC_N=${ASYNC_N:-1000}
head -n "$ASYNC_N" "$OUT/orders.txt" > "$OUT/orders-async.txt"
"$TARGET/release/async_load" "$OUT/orders-async.txt" 64 > /dev/null 2>&1 # warm-up
for i in $(seq "$RUNS"); do
  /usr/bin/time -v -o "$OUT/async-$i.time" \
    "$TARGET/release/async_load" "$OUT/orders-async.txt" 64 > "$OUT/async-$i.out" 2> "$OUT/async-$i.err"
  cat "$OUT/async-$i.out" >&2
done

if [ -z "${SKIP_CALLGRIND:-}" ] && command -v valgrind >/dev/null; then
  step "keys parsed per query (callgrind call counts, 20 vs 60 queries)"
  for n in 20 60; do
    head -n "$n" "$OUT/orders.txt" > "$OUT/orders-$n.txt"
    valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind-$n.out" \
      "$TARGET/release/wechatpay" order get-many --input "$OUT/orders-$n.txt" --concurrency 1 > /dev/null 2> "$OUT/callgrind-$n.log"
  done
fi

if [ -z "${SKIP_PEERS:-}" ]; then
  step "peer: Python wechatpayv3"
  if [ ! -x "$PEERS/venv/bin/python" ]; then python3 -m venv "$PEERS/venv"; fi
  if "$PEERS/venv/bin/pip" install -q 'wechatpayv3==2.0.4' > "$OUT/pip.log" 2>&1; then
    "$PEERS/venv/bin/python" -c 'import importlib.metadata as m; print("wechatpayv3", m.version("wechatpayv3"), "cryptography", m.version("cryptography"), "requests", m.version("requests"))' > "$OUT/peer-python.version"
    for i in $(seq "$RUNS"); do
      "$PEERS/venv/bin/python" benches/peers/python_peer.py "$STATE" "$PEER_QUERIES" | tee -a "$OUT/peer-python.jsonl" >&2 \
        || echo "python peer run $i failed" >&2
    done
  else
    echo "pip install wechatpayv3 failed (see $OUT/pip.log)" >&2
  fi

  step "peer: Node wechatpay-axios-plugin"
  if command -v npm >/dev/null; then
    mkdir -p "$PEERS/node"
    if (cd "$PEERS/node" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --silent --no-audit --no-fund 'wechatpay-axios-plugin@0.9.6') > "$OUT/npm.log" 2>&1; then
      (cd "$PEERS/node" && node -p '"wechatpay-axios-plugin " + require("wechatpay-axios-plugin/package.json").version + " axios " + require("axios/package.json").version') > "$OUT/peer-node.version" 2>/dev/null || true
      for i in $(seq "$RUNS"); do
        NODE_PATH="$PEERS/node/node_modules" node benches/peers/node_peer.js "$STATE" "$PEER_QUERIES" | tee -a "$OUT/peer-node.jsonl" >&2 \
          || echo "node peer run $i failed" >&2
      done
    else
      echo "npm install wechatpay-axios-plugin failed (see $OUT/npm.log)" >&2
    fi
  else
    echo "npm not found: node peer skipped" >&2
  fi
fi

cleanup
SIM_PID=
trap - EXIT
echo "uptime at end: $(uptime)" >> "$OUT/machine.txt"

step "summary"
python3 benches/summarize.py "$OUT" "$TARGET/criterion" "$N" "$PEER_QUERIES" "$ASYNC_N" | tee "$OUT/report.md"
