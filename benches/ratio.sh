#!/usr/bin/env bash
# The ratios to one OpenSSL RSA-2048 operation, measured the way a noisy shared machine
# allows: ROUNDS (default 7) rounds, each `openssl speed -seconds 3 rsa2048` then, right after
# it, the criterion benches compared with that operation.
#
#   verify: against an OpenSSL verify
#     notify/aws-lc-rs/direct                 verify + decrypt + parse of a direct notification
#     notify/raw_verify/aws-lc-rs/direct      the RSA verify of that notification alone
#     verify_parse/aws-lc-rs/parking_seed     verify + parse of the parking answer
#     verify_parse/aws-lc-rs/direct_seed      verify + parse of the direct answer
#   sign: against an OpenSSL sign
#     sign/raw/aws-lc-rs                      the RSA sign of a query's string-to-sign alone
#     sign/prepare_sign/aws-lc-rs/prepay_jsapi    a JSAPI prepay: body, string-to-sign, sign, request
#     sign/prepare_sign/aws-lc-rs/query_order_by_out_trade_no   the same for a query
#     sign/invoke/aws-lc-rs/jsapi             the front end's JSAPI invoke parameters
#     sign/invoke/aws-lc-rs/app               the APP invoke parameters
#
# Each ratio is taken within its round (the bench against the OpenSSL figure measured just
# before it), then the median and range over the rounds are printed: a single run of each
# can land 5 % off on a shared VM, and its neighbour in time is its fairest reference.
# Everything runs on one core (`taskset -c ${CPU:-1}`) when taskset is there.
#
# Usage: benches/ratio.sh verify|sign [ROUNDS]    Output: target/bench-report/<side>_ratio.txt
set -euo pipefail
cd "$(dirname "$0")/.."
SIDE=${1:?usage: benches/ratio.sh verify|sign [ROUNDS]}
ROUNDS=${2:-7}
case "$SIDE" in
  verify)
    OPENSSL_FIELD='$NF' # verifies per second
    BENCHES=(notify verify_parse)
    FILTERS=('notify/(aws-lc-rs|raw_verify/aws-lc-rs)/direct' 'verify_parse/aws-lc-rs/(parking|direct)_seed')
    IDS=(notify/aws-lc-rs/direct notify/raw_verify/aws-lc-rs/direct verify_parse/aws-lc-rs/parking_seed
      verify_parse/aws-lc-rs/direct_seed)
    ;;
  sign)
    OPENSSL_FIELD='$(NF-1)' # signs per second
    BENCHES=(sign)
    FILTERS=('sign/(raw/aws-lc-rs$|prepare_sign/aws-lc-rs/(prepay_jsapi|query_order_by_out_trade_no)|invoke/aws-lc-rs/)')
    IDS=(sign/raw/aws-lc-rs sign/prepare_sign/aws-lc-rs/prepay_jsapi
      sign/prepare_sign/aws-lc-rs/query_order_by_out_trade_no sign/invoke/aws-lc-rs/jsapi sign/invoke/aws-lc-rs/app)
    ;;
  *) echo "usage: benches/ratio.sh verify|sign [ROUNDS]" >&2; exit 2 ;;
esac
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
OUT=$TARGET/bench-report
mkdir -p "$OUT"
cargo bench --locked -p wechatpay-benches "${BENCHES[@]/#/--bench=}" --no-run 2>/dev/null
newest() { ls -t "$TARGET"/release/deps/"$1"-* | grep -v '\.d$' | head -n 1; }
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c "${CPU:-1}")
# Criterion's median of a bench id's per-iteration times, in µs. (The median, not the mean:
# `openssl speed` divides by CPU time, so preemption does not count against it; the median of
# criterion's wall-clock samples leaves preemption out alike.)
median_of() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"] / 1000)' \
    "$TARGET/criterion/$1/new/estimates.json"
}
# Criterion's folder for the bench id group/a/b is group/a_b.
folder() { local group=${1%%/*}; echo "$group/$(echo "${1#*/}" | tr / _)"; }

{
  echo "# ratio.sh $SIDE, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (dirty)')"
  echo "# round openssl_${SIDE}_us ${IDS[*]}"
  for i in $(seq "$ROUNDS"); do
    openssl_us=$("${PIN[@]}" openssl speed -seconds 3 rsa2048 2>/dev/null | awk "/^rsa +2048 bits/ {print 1e6/$OPENSSL_FIELD}")
    for j in "${!BENCHES[@]}"; do
      "${PIN[@]}" "$(newest "${BENCHES[$j]}")" --bench --noplot "${FILTERS[$j]}" >/dev/null 2>&1
    done
    line="$i $openssl_us"
    for id in "${IDS[@]}"; do line="$line $(median_of "$(folder "$id")")"; done
    echo "$line"
  done
} | tee "$OUT/${SIDE}_ratio.txt"

python3 - "$OUT/${SIDE}_ratio.txt" "$SIDE" "${IDS[@]}" <<'PY'
import statistics, sys
path, side, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [list(map(float, l.split()[1:])) for l in open(path) if not l.startswith("#")]
print(f"{'openssl ' + side:<58} {statistics.median(r[0] for r in rows):7.2f} µs  over {len(rows)} rounds")
for col, name in enumerate(ids, start=1):
    ratios = [r[col] / r[0] for r in rows]
    print(f"{name:<58} {statistics.median(r[col] for r in rows):7.2f} µs  ratio median {statistics.median(ratios):.3f}"
          f" (min {min(ratios):.3f}, max {max(ratios):.3f})")
PY
