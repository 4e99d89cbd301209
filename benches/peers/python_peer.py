"""Signed + verified order queries with the Python peer `wechatpayv3` against wechatpay-sim.

Usage: python_peer.py STATE_DIR COUNT
Reads STATE_DIR/env (written by the simulator), runs COUNT sequential queries of seeded
orders (each: build + RSA-sign the request, HTTP on loopback, verify the response
signature) and prints one JSON line: per-query wall-time median/min/max in microseconds and
the client's CPU time (user+sys) per query.
"""
import json
import os
import resource
import statistics
import sys
import time

from wechatpayv3 import WeChatPay, WeChatPayType

ORDERS = ["1217752501201407033233368018", "SIM_NOTPAY_0001", "SIM_CLOSED_0001", "SIM_USERPAYING_0001",
          "SIM_REFUND_0001", "SIM_REVOKED_0001", "SIM_PAYERROR_0001", "SIM_FUTURE_0001"]


def main():
    state_dir, count = sys.argv[1], int(sys.argv[2])
    env = dict(line.strip().removeprefix("export ").split("=", 1) for line in open(os.path.join(state_dir, "env")) if "=" in line)
    read = lambda p: open(p).read()
    pay = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=env["WECHATPAY_MCHID"],
        private_key=read(env["WECHATPAY_PRIVATE_KEY"]),
        cert_serial_no=env["WECHATPAY_SERIAL_NO"],
        appid="wxd678efh567hg6787",
        apiv3_key="0" * 32,  # unused: no certificate download or decryption happens here
        public_key=read(env["WECHATPAY_PUBLIC_KEY"]),
        public_key_id=env["WECHATPAY_PUBLIC_KEY_ID"],
        timeout=(5, 30),
    )
    # The library has no base-URL option; its gateway is a plain attribute of its core.
    pay._core._gate_way = env["WECHATPAY_BASE_URL"].rstrip("/")
    # Warm up (imports, first connection), then measure.
    for no in ORDERS:
        code, _ = pay.query(out_trade_no=no)
        assert code == 200, code
    walls = []
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(count):
        start = time.perf_counter()
        code, body = pay.query(out_trade_no=ORDERS[i % len(ORDERS)])  # raises if the signature fails
        walls.append(time.perf_counter() - start)
        if code != 200:
            raise SystemExit(f"query {i}: HTTP {code}: {body}")
        json.loads(body)
    cpu, total = time.process_time() - cpu0, time.perf_counter() - t0
    us = lambda s: round(s * 1e6, 1)
    print(json.dumps({
        "peer": "python wechatpayv3",
        "queries": count,
        "wall_us_median": us(statistics.median(walls)),
        "wall_us_min": us(min(walls)),
        "wall_us_max": us(max(walls)),
        "wall_us_mean": us(total / count),
        "cpu_us_per_query": us(cpu / count),
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
