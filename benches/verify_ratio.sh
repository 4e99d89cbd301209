#!/usr/bin/env bash
# The verify-side ratios, measured the way a noisy shared machine allows: ROUNDS (default 7)
# rounds, each `openssl speed -seconds 3 rsa2048` then, right after it, the criterion benches
# of the paths compared with an OpenSSL verify:
#   notify/aws-lc-rs/direct             verify + decrypt + parse of a direct notification
#   verify_parse/aws-lc-rs/parking_seed verify + parse of the parking answer
#   verify_parse/aws-lc-rs/direct_seed  verify + parse of the direct answer
#   notify/raw_verify/aws-lc-rs/direct  the RSA verify of that notification alone
# Each ratio is taken within its round (the bench against the OpenSSL verify measured just
# before it), then the median and range over the rounds are printed: a single run of each
# can land 5 % off on a shared VM, and its neighbour in time is its fairest reference.
# Everything runs on one core (`taskset -c ${CPU:-1}`) when taskset is there.
#
# Usage: benches/verify_ratio.sh [ROUNDS]      Output: target/bench-report/verify_ratio.txt
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-7}
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
OUT=$TARGET/bench-report
mkdir -p "$OUT"
cargo bench --locked -p wechatpay-benches --bench notify --bench verify_parse --no-run 2>/dev/null
newest() { ls -t "$TARGET"/release/deps/"$1"-* | grep -v '\.d$' | head -n 1; }
NOTIFY=$(newest notify)
VERIFY=$(newest verify_parse)
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c "${CPU:-1}")
# Criterion's median of a bench id's per-iteration times, in µs. (The median, not the mean:
# `openssl speed` divides by CPU time, so preemption does not count against it; the median of
# criterion's wall-clock samples leaves preemption out alike.)
median_of() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"] / 1000)' \
    "$TARGET/criterion/$1/new/estimates.json"
}

{
  echo "# verify_ratio.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (dirty)')"
  echo "# round openssl_verify_us notify_us raw_verify_us parking_us direct_us"
  for i in $(seq "$ROUNDS"); do
    openssl_us=$("${PIN[@]}" openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa +2048 bits/ {print 1e6/$NF}')
    "${PIN[@]}" "$NOTIFY" --bench --noplot 'notify/(aws-lc-rs|raw_verify/aws-lc-rs)/direct' >/dev/null 2>&1
    "${PIN[@]}" "$VERIFY" --bench --noplot 'verify_parse/aws-lc-rs/(parking|direct)_seed' >/dev/null 2>&1
    echo "$i $openssl_us $(median_of notify/aws-lc-rs_direct) $(median_of notify/raw_verify_aws-lc-rs_direct)" \
      "$(median_of verify_parse/aws-lc-rs_parking_seed) $(median_of verify_parse/aws-lc-rs_direct_seed)"
  done
} | tee "$OUT/verify_ratio.txt"

python3 - "$OUT/verify_ratio.txt" <<'EOF'
import statistics, sys
rows = [list(map(float, l.split()[1:])) for l in open(sys.argv[1]) if not l.startswith("#")]
def show(name, col):
    ratios = [r[col] / r[0] for r in rows]
    times = [r[col] for r in rows]
    print(f"{name:<42} {statistics.median(times):6.2f} µs  ratio median {statistics.median(ratios):.3f}"
          f" (min {min(ratios):.3f}, max {max(ratios):.3f})")
print(f"{'openssl verify':<42} {statistics.median(r[0] for r in rows):6.2f} µs  over {len(rows)} rounds")
show("notify/aws-lc-rs/direct", 1)
show("notify/raw_verify/aws-lc-rs/direct", 2)
show("verify_parse/aws-lc-rs/parking_seed", 3)
show("verify_parse/aws-lc-rs/direct_seed", 4)
EOF
