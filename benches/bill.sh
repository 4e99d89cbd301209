#!/usr/bin/env bash
# The bill reader against the physical limit: `gzip -dc FILE | sha1sum` (GNU gzip and
# coreutils, the same gunzip + SHA-1 with no parsing) beside `bill_read FILE SHA1` (the SDK:
# gunzip + SHA-1 + typed rows, benches/src/bin/bill_read.rs), on the same gzip bill made by the
# simulator: a synthetic ALL bill of ROWS rows (POST /sim/bills/synthetic), downloaded and
# proved by `wechatpay bill trade --format raw`, then `gzip -n`.
#
# Each side runs RUNS times under /usr/bin/time -v: CPU (user + sys) and peak RSS. Targets
# (issue 23): the SDK within 1.5 x the pipeline's CPU time, peak RSS at most 32 MiB.
#
# Usage: benches/bill.sh [ROWS]     (default 800000: about 200 MB decompressed, ~251 bytes a row)
# Env:   RUNS=3
# Output: target/bench-bill/ (the bill, raw outputs, report.md). Slow: builds --release and
# generates the bill twice (hash, then download); do not run while the machine is busy.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${1:-800000}
RUNS=${RUNS:-3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$TARGET/bench-bill
STATE=$OUT/sim-state
rm -rf "$OUT"
mkdir -p "$OUT" "$STATE"

cargo build --release --locked -p wechatpay-cli -p wechatpay-benches --bin wechatpay --bin bill_read
BIN=$TARGET/release

"$BIN/wechatpay" sim --addr 127.0.0.1:0 --state-dir "$STATE" > "$OUT/sim.out" 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null || true' EXIT
until grep -q '^listening on' "$OUT/sim.out"; do sleep 0.1; done
set -a; . "$STATE/env"; set +a

DATE=$(TZ=Asia/Shanghai date -d yesterday +%F)
curl -sf -X POST "$WECHATPAY_BASE_URL/sim/bills/synthetic" \
  -H "Authorization: Bearer $WECHATPAY_SIM_ADMIN_TOKEN" \
  -d "{\"bill_date\":\"$DATE\",\"rows\":$ROWS}" > "$OUT/synthetic.json"
SHA1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hash_value"])' "$OUT/synthetic.json")
"$BIN/wechatpay" bill trade --date "$DATE" --output "$OUT/bill.csv" --format raw
gzip -n -f "$OUT/bill.csv"
FILE=$OUT/bill.csv.gz
echo "bill: $(gzip -dc "$FILE" | wc -c) bytes decompressed, $(wc -c < "$FILE") gzipped, sha1 $SHA1" | tee "$OUT/report.md"

measure() { # name, command...
  local name=$1; shift
  for i in $(seq "$RUNS"); do
    /usr/bin/time -v "$@" > "$OUT/$name.$i.out" 2> "$OUT/$name.$i.time"
    awk -v n="$name" -F': ' '/User time/{u=$2} /System time/{s=$2} /Maximum resident/{r=$2}
      END{printf "%s cpu_s=%.2f peak_rss_kib=%d\n", n, u+s, r}' "$OUT/$name.$i.time"
  done | tee -a "$OUT/report.md"
}
measure gzip_sha1sum sh -c "gzip -dc '$FILE' | sha1sum"
grep -q "$SHA1" "$OUT/gzip_sha1sum.1.out"
measure bill_read "$BIN/bill_read" "$FILE" "$SHA1"
echo "report: $OUT/report.md"
