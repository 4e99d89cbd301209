"""Summarises a benches/compare.sh run as a Markdown report (stdout) and results.json.

Usage: summarize.py OUT_DIR CRITERION_DIR N PEER_QUERIES
Every figure is a median with (min-max): over RUNS runs for OpenSSL, get-many and the
peers; over criterion's samples (per-iteration time of each sample) for the benches.
"""
import glob
import json
import os
import re
import statistics
import sys

out, crit_dir, n, peer_queries = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


# --- OpenSSL ---------------------------------------------------------------------------
openssl_sign, openssl_verify = [], []
for line in open(os.path.join(out, "openssl.txt")):
    # "rsa 2048 bits 0.000265s 0.000015s   3770.0  66000.0"  (sign/s, verify/s last)
    parts = line.split()
    sign_per_s, verify_per_s = float(parts[-2]), float(parts[-1])
    openssl_sign.append(1e6 / sign_per_s)
    openssl_verify.append(1e6 / verify_per_s)
ossl_sign, ossl_verify = stats(openssl_sign), stats(openssl_verify)

# --- criterion ---------------------------------------------------------------------------
benches = {}
for path in glob.glob(os.path.join(crit_dir, "**", "new", "benchmark.json"), recursive=True):
    d = os.path.dirname(path)
    full_id = json.load(open(path))["full_id"]
    est = json.load(open(os.path.join(d, "estimates.json")))
    sample = json.load(open(os.path.join(d, "sample.json")))
    per_iter = [t / i for t, i in zip(sample["times"], sample["iters"])]
    benches[full_id] = {
        "median": est["median"]["point_estimate"] / 1e3,  # µs
        "min": min(per_iter) / 1e3,
        "max": max(per_iter) / 1e3,
        "n": len(per_iter),
    }


def fmt_us(s):
    if s is None:
        return "n/a"
    unit = lambda v: f"{v:.1f}" if v >= 10 else f"{v:.2f}" if v >= 1 else f"{v * 1e3:.0f} ns"
    m = unit(s["median"])
    suffix = "" if m.endswith("ns") else " µs"
    return f"{m}{suffix} ({unit(s['min'])}–{unit(s['max'])})"


def ratio(a, b):
    return a["median"] / b["median"] if a and b else None


def fmt_r(r, digits=3):
    return "n/a" if r is None else f"{r:.{digits}f}"


# --- get-many ----------------------------------------------------------------------------
def read_time(path):
    t = {}
    for line in open(path):
        key, _, val = line.strip().rpartition(": ")
        t[key] = val
    wall = t["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
    return {
        "user": float(t["User time (seconds)"]),
        "sys": float(t["System time (seconds)"]),
        "wall": secs,
        "rss_kib": int(t["Maximum resident set size (kbytes)"]),
    }


clk = int(open(os.path.join(out, "clk_tck")).read().strip() or "100")
runs = sorted(glob.glob(os.path.join(out, "getmany-[0-9]*.time")))
gm = [read_time(p) for p in runs]
sim_ticks = [int(open(p.replace(".time", ".simticks")).read()) for p in runs]
cpu_per_q = stats([(t["user"] + t["sys"]) / n * 1e6 for t in gm])
user_per_q = stats([t["user"] / n * 1e6 for t in gm])
sys_per_q = stats([t["sys"] / n * 1e6 for t in gm])
wall = stats([t["wall"] for t in gm])
wall_per_q = stats([t["wall"] / n * 1e6 for t in gm])
rss = stats([t["rss_kib"] / 1024 for t in gm])
sim_per_q = stats([ticks / clk / n * 1e6 for ticks in sim_ticks])
async_n = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
asy = [read_time(p) for p in sorted(glob.glob(os.path.join(out, "async-[0-9]*.time")))]
async_cpu_per_q = stats([(t["user"] + t["sys"]) / async_n * 1e6 for t in asy]) if asy else None
async_wall_per_q = stats([t["wall"] / async_n * 1e6 for t in asy]) if asy else None
async_rss = stats([t["rss_kib"] / 1024 for t in asy]) if asy else None
seq = [read_time(p) for p in sorted(glob.glob(os.path.join(out, "getmany-seq-*.time")))]
seq_wall_per_q = stats([t["wall"] / peer_queries * 1e6 for t in seq])
seq_cpu_per_q = stats([(t["user"] + t["sys"]) / peer_queries * 1e6 for t in seq])


# --- keys parsed per query (callgrind) ---------------------------------------------------
def callgrind_calls(path, patterns):
    names, counts, current = {}, {p: 0 for p in patterns}, None
    for line in open(path, errors="replace"):
        if line.startswith("cfn="):
            m = re.match(r"cfn=\((\d+)\)(?: (.*))?", line.strip())
            if m:
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                current = names.get(m.group(1), "")
        elif line.startswith("fn="):
            m = re.match(r"fn=\((\d+)\)(?: (.*))?", line.strip())
            if m and m.group(2):
                names[m.group(1)] = m.group(2)
        elif line.startswith("calls=") and current is not None:
            for p in patterns:
                if re.search(p, current):
                    counts[p] += int(line.split("=")[1].split()[0])
            current = None
    return counts


keys = None
cg = {k: os.path.join(out, f"callgrind-{k}.out") for k in (20, 60)}
if all(os.path.exists(p) for p in cg.values()):
    pats = [r"_(RSA|EVP)_parse_private_key$", r"_EVP_parse_public_key$", r"_RSA_sign$"]
    c20, c60 = callgrind_calls(cg[20], pats), callgrind_calls(cg[60], pats)
    keys = {
        "private_key_parses": [c20[pats[0]], c60[pats[0]]],
        "public_key_parses": [c20[pats[1]], c60[pats[1]]],
        "rsa_signs": [c20[pats[2]], c60[pats[2]]],
        "keys_parsed_per_query": (c60[pats[0]] + c60[pats[1]] - c20[pats[0]] - c20[pats[1]]) / 40,
    }


# --- peers ------------------------------------------------------------------------------
def peer(name):
    path = os.path.join(out, f"peer-{name}.jsonl")
    if not os.path.exists(path):
        return None
    rows = [json.loads(line) for line in open(path) if line.strip().startswith("{")]
    if not rows:
        return None
    version = open(os.path.join(out, f"peer-{name}.version")).read().strip() if os.path.exists(
        os.path.join(out, f"peer-{name}.version")) else ""
    return {
        "name": rows[0]["peer"],
        "version": version,
        "wall": {"median": statistics.median(r["wall_us_median"] for r in rows),
                 "min": min(r["wall_us_min"] for r in rows), "max": max(r["wall_us_max"] for r in rows)},
        "wall_mean": stats([r["wall_us_mean"] for r in rows]),
        "cpu": stats([r["cpu_us_per_query"] for r in rows]),
        "rss_mib": max(r["max_rss_kib"] for r in rows) / 1024,
        "runs": len(rows),
    }


peers = [p for p in (peer("python"), peer("node")) if p]

# --- report -----------------------------------------------------------------------------
B = lambda i: benches.get(i)
OPS = ["query_order_by_out_trade_no", "query_order_by_transaction_id", "query_partner_order_by_out_trade_no",
       "query_partner_order_by_transaction_id", "query_parking_order"]
lines = []
p = lines.append
p(f"OpenSSL `speed -seconds 3 rsa2048` ({ossl_sign['n']} runs): sign {fmt_us(ossl_sign)}, verify {fmt_us(ossl_verify)}")
p("")
p("| figure | aws-lc-rs | ratio | rustcrypto | ratio |")
p("|---|---|---|---|---|")
for name, ref_label, ref in [("raw", "sign", ossl_sign)]:
    a, r = B("sign/raw/aws-lc-rs"), B("sign/raw/rustcrypto")
    p(f"| raw backend sign | {fmt_us(a)} | {fmt_r(ratio(a, ref))} × openssl sign | {fmt_us(r)} | {fmt_r(ratio(r, ref))} × openssl sign |")
for op in OPS:
    a, r = B(f"sign/prepare_sign/aws-lc-rs/{op}"), B(f"sign/prepare_sign/rustcrypto/{op}")
    p(f"| prepare+sign `{op}` | {fmt_us(a)} | {fmt_r(ratio(a, ossl_sign))} × openssl sign | {fmt_us(r)} | {fmt_r(ratio(r, ossl_sign))} × openssl sign |")
a, r = B("sign/prepare_sign_now/aws-lc-rs"), B("sign/prepare_sign_now/rustcrypto")
p(f"| prepare+sign with clock + OS nonce | {fmt_us(a)} | {fmt_r(ratio(a, ossl_sign))} × openssl sign | {fmt_us(r)} | {fmt_r(ratio(r, ossl_sign))} × openssl sign |")
for what in ["direct_seed", "parking_seed"]:
    a, r = B(f"verify_parse/aws-lc-rs/{what}"), B(f"verify_parse/rustcrypto/{what}")
    p(f"| verify+parse {what} | {fmt_us(a)} | {fmt_r(ratio(a, ossl_verify))} × openssl verify | {fmt_us(r)} | {fmt_r(ratio(r, ossl_verify))} × openssl verify |")
a, r = B("verify_parse/raw_verify/aws-lc-rs/parking_seed"), B("verify_parse/raw_verify/rustcrypto/parking_seed")
p(f"| raw backend verify (parking message) | {fmt_us(a)} | {fmt_r(ratio(a, ossl_verify))} × openssl verify | {fmt_us(r)} | {fmt_r(ratio(r, ossl_verify))} × openssl verify |")
a, r = B("notify/aws-lc-rs/direct"), B("notify/rustcrypto/direct")
p(f"| notification: verify + decrypt + parse, direct | {fmt_us(a)} | {fmt_r(ratio(a, ossl_verify))} × openssl verify | {fmt_us(r)} | {fmt_r(ratio(r, ossl_verify))} × openssl verify |")
a, r = B("notify/decrypt_only/aws-lc-rs/direct"), B("notify/decrypt_only/rustcrypto/direct")
p(f"| notification: Base64 + AES-256-GCM of its resource | {fmt_us(a)} | | {fmt_us(r)} | |")
for k in ["private_key_pem", "private_key_der", "public_key_pem", "platform_cert"]:
    a, r = B(f"keys/{k}/aws-lc-rs"), B(f"keys/{k}/rustcrypto")
    p(f"| load key: {k} | {fmt_us(a)} | {fmt_r(ratio(a, ossl_sign))} × openssl sign | {fmt_us(r)} | {fmt_r(ratio(r, ossl_sign))} × openssl sign |")
p("")
p("Overhead of prepare+sign over the same backend's raw sign (ratio of medians − 1):")
p("")
p("| operation | aws-lc-rs | rustcrypto |")
p("|---|---|---|")
for op in OPS:
    cells = []
    for b in ["aws-lc-rs", "rustcrypto"]:
        x = ratio(B(f"sign/prepare_sign/{b}/{op}"), B(f"sign/raw/{b}"))
        cells.append("n/a" if x is None else f"{(x - 1) * 100:+.2f} %")
    p(f"| `{op}` | {cells[0]} | {cells[1]} |")
prep = [B(f"sign/prepare_only/{op}") for op in OPS]
p("")
p("SDK work without RSA: " + ", ".join(f"prepare `{op}` {fmt_us(s)}" for op, s in zip(OPS, prep) if s)
  + f"; finish (Base64 + header + request) {fmt_us(B('sign/finish_only'))}.")
p("")
p("| deserialisation alone | median (min–max) |")
p("|---|---|")
for k in ["direct_seed", "parking_seed", "direct_seed_value", "error_body"]:
    p(f"| `parse/{k}` | {fmt_us(B('parse/' + k))} |")
p("")
p(f"End to end, `wechatpay order get-many` over {n} orders, --concurrency 4, against `wechatpay sim` on loopback ({len(gm)} runs; aws-lc-rs):")
p("")
p("| figure | median (min–max) | ratio |")
p("|---|---|---|")
p(f"| client CPU per query (user+sys / N) | {fmt_us(cpu_per_q)} | {fmt_r(ratio(cpu_per_q, ossl_sign))} × openssl sign |")
p(f"| … of which user / sys | {fmt_us(user_per_q)} / {fmt_us(sys_per_q)} | |")
p(f"| simulator CPU per query (signs each answer) | {fmt_us(sim_per_q)} | {fmt_r(ratio(sim_per_q, ossl_sign))} × openssl sign |")
p(f"| wall time, {n} orders | {wall['median']:.2f} s ({wall['min']:.2f}–{wall['max']:.2f}) | {fmt_us(wall_per_q)} per query |")
p(f"| peak RSS (max resident) | {rss['median']:.1f} MiB ({rss['min']:.1f}–{rss['max']:.1f}) | |")
p(f"| sequential (--concurrency 1, {peer_queries} queries): wall per query | {fmt_us(seq_wall_per_q)} | |")
p(f"| sequential: client CPU per query | {fmt_us(seq_cpu_per_q)} | {fmt_r(ratio(seq_cpu_per_q, ossl_sign))} × openssl sign |")
if asy:
    p(f"| async: wechatpay-reqwest, {async_n} queries, 64 in flight: client CPU per query | {fmt_us(async_cpu_per_q)} | {fmt_r(ratio(async_cpu_per_q, ossl_sign))} × openssl sign |")
    p(f"| async: wall per query / peak RSS | {fmt_us(async_wall_per_q)} / {async_rss['median']:.1f} MiB ({async_rss['min']:.1f}–{async_rss['max']:.1f}) | |")
if keys:
    p(f"| keys parsed per query (callgrind: AWS-LC key parser calls at 20 → 60 queries: private {keys['private_key_parses'][0]} → {keys['private_key_parses'][1]}, public {keys['public_key_parses'][0]} → {keys['public_key_parses'][1]}; RSA_sign {keys['rsa_signs'][0]} → {keys['rsa_signs'][1]}) | {keys['keys_parsed_per_query']:g} | |")
p("")
if peers:
    p(f"Peers: sequential signed + verified queries against the same simulator ({peer_queries} per run), compared with `wechatpay order get-many --concurrency 1` (mean per query):")
    p("")
    p("| client | wall per query, median (min–max) | mean wall per query | client CPU per query | peak RSS |")
    p("|---|---|---|---|---|")
    p(f"| wechatpay (this SDK, ureq + aws-lc-rs) | – | {fmt_us(seq_wall_per_q)} | {fmt_us(seq_cpu_per_q)} | {max(t['rss_kib'] for t in seq) / 1024:.1f} MiB |")
    for pe in peers:
        p(f"| {pe['name']} ({pe['version']}) | {fmt_us(pe['wall'])} | {fmt_us(pe['wall_mean'])} | {fmt_us(pe['cpu'])} | {pe['rss_mib']:.1f} MiB |")
    p("")

# Targets.
t_sign = ratio(B("sign/prepare_sign/aws-lc-rs/query_order_by_out_trade_no"), ossl_sign)
t_over = max((ratio(B(f"sign/prepare_sign/aws-lc-rs/{op}"), B("sign/raw/aws-lc-rs")) or 0) - 1 for op in OPS)
t_vp = ratio(B("verify_parse/aws-lc-rs/parking_seed"), ossl_verify)
t_notify = ratio(B("notify/aws-lc-rs/direct"), ossl_verify)
t_cpu = ratio(cpu_per_q, ossl_sign)
t_rss = rss["max"]
check = lambda ok: "met" if ok else "**missed**"
p("| target | measured | met? |")
p("|---|---|---|")
p(f"| prepare+sign, default backend / openssl sign ≤ 1.05 | {fmt_r(t_sign)} | {check(t_sign is not None and t_sign <= 1.05)} |")
p(f"| prepare+sign overhead over raw sign ≤ 3 % (worst operation, aws-lc-rs) | {t_over * 100:+.2f} % | {check(t_over <= 0.03)} |")
p(f"| verify+parse parking seed, default backend / openssl verify ≤ 1.3 | {fmt_r(t_vp)} | {check(t_vp is not None and t_vp <= 1.3)} |")
p(f"| notification verify+decrypt+parse, default backend / openssl verify ≤ 1.3 | {fmt_r(t_notify)} | {check(t_notify is not None and t_notify <= 1.3)} |")
p(f"| client CPU per query in get-many / openssl sign ≤ 1.4 | {fmt_r(t_cpu)} | {check(t_cpu <= 1.4)} |")
p(f"| peak memory of get-many over {n} orders ≤ 32 MiB (worst run) | {t_rss:.1f} MiB | {check(t_rss <= 32)} |")
if asy:
    t_async = ratio(async_cpu_per_q, ossl_sign)
    p(f"| client CPU per query, async (reqwest, 64 in flight) / openssl sign ≤ 1.4 | {fmt_r(t_async)} | {check(t_async <= 1.4)} |")
if keys:
    p(f"| keys parsed per query = 0 | {keys['keys_parsed_per_query']:g} | {check(keys['keys_parsed_per_query'] == 0)} |")
print("\n".join(lines))

json.dump({"openssl": {"sign_us": ossl_sign, "verify_us": ossl_verify}, "benches_us": benches,
           "get_many": {"n": n, "cpu_us_per_query": cpu_per_q, "wall_s": wall, "rss_mib": rss,
                        "sim_cpu_us_per_query": sim_per_q, "seq_wall_us_per_query": seq_wall_per_q,
                        "seq_cpu_us_per_query": seq_cpu_per_q},
           "async": {"n": async_n, "in_flight": 64, "cpu_us_per_query": async_cpu_per_q,
                     "wall_us_per_query": async_wall_per_q, "rss_mib": async_rss},
           "keys": keys, "peers": peers}, open(os.path.join(out, "results.json"), "w"), indent=1)
