"""A Python team's whole story against the `wechatpay-sim` process, with the `wechatpayv3`
package from PyPI and nothing from this repository.

Usage: python sandbox_story.py STATE_DIR OUT_FILE
Reads STATE_DIR/env (written by the simulator), then:
  1. creates an order through the admin API (urllib, bearer token from `env`);
  2. queries it with wechatpayv3 (signed request, verified answer);
  3. makes it pay through the admin API, with notify_url at a small http.server of its own
     (which answers the first delivery 503, so the simulator redelivers);
  4. verifies and decrypts the notification with wechatpayv3's own `callback`;
  5. queries the order again, reads the delivery log, and checks a tampered copy is refused;
  6. runs the README's Python snippet as written (its `headers` and `body` are the received
     notification; its `T1001` is created as the README's curl creates it).
Writes the received notification (headers + body) to OUT_FILE for the Node check, prints one
JSON summary line, and exits non-zero on any failure.
Driven by crates/wechatpay-sim/tests/it/sandbox_stories.rs.
"""
import http.server
import json
import os
import pathlib
import queue
import sys
import threading
import time
import urllib.error
import urllib.request

from wechatpayv3 import WeChatPay, WeChatPayType

OUT_TRADE_NO = "PY_SANDBOX_%d" % int(time.time() * 1000)


def read_env(state_dir):
    env = {}
    with open(state_dir + "/env") as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                key, value = line.removeprefix("export ").split("=", 1)
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                env[key] = value
    return env


def admin(env, method, path, body=None, token=None):
    """One admin call; returns (status, parsed JSON)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(env["WECHATPAY_BASE_URL"].rstrip("/") + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + (token if token is not None else env["WECHATPAY_SIM_ADMIN_TOKEN"]))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


README = pathlib.Path(__file__).resolve().parents[4] / "README.md"


def readme_block(language, after):
    """The first ```language block of the repository README after the line starting `after`."""
    lines = README.read_text(encoding="utf-8").split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith(after))
    begin = next(i for i in range(start, len(lines)) if lines[i].strip() == "```" + language)
    end = next(i for i in range(begin + 1, len(lines)) if lines[i].strip() == "```")
    return "\n".join(lines[begin + 1:end]) + "\n"


def expect(cond, what):
    if not cond:
        raise SystemExit("sandbox story failed: " + what)


def start_receiver():
    """A notify_url on 127.0.0.1:0: the first delivery gets 503, later ones 204."""
    received = queue.Queue()
    attempts = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            attempts.append(self.path)
            if len(attempts) == 1:
                self.send_response(503)
                self.end_headers()
                return
            received.put(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received, attempts


def main():
    state_dir, out_file = sys.argv[1], sys.argv[2]
    env = read_env(state_dir)
    wx = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=env["WECHATPAY_MCHID"],
        private_key=open(env["WECHATPAY_PRIVATE_KEY"]).read(),
        cert_serial_no=env["WECHATPAY_SERIAL_NO"],
        appid="wxd678efh567hg6787",
        apiv3_key=env["WECHATPAY_APIV3_KEY"],
        notify_url="https://example.invalid/notify",
        public_key=open(env["WECHATPAY_PUBLIC_KEY"]).read(),
        public_key_id=env["WECHATPAY_PUBLIC_KEY_ID"],
        timeout=(5, 10),
    )
    # wechatpayv3 has no base-URL option; its gateway is a plain attribute.
    wx._core._gate_way = env["WECHATPAY_BASE_URL"].rstrip("/")
    server, received, attempts = start_receiver()
    notify_url = "http://127.0.0.1:%d/wxpay/notify" % server.server_address[1]

    # A wrong token is refused and changes nothing.
    status, _ = admin(env, "POST", "/sim/orders", {"kind": "direct", "order": {"out_trade_no": OUT_TRADE_NO}}, "wrong")
    expect(status == 401, "a wrong admin token got %s, not 401" % status)
    status, _ = admin(env, "GET", "/sim/orders/direct/" + OUT_TRADE_NO)
    expect(status == 404, "the order exists after a refused create (%s)" % status)

    # 1. Create the order.
    order = {"out_trade_no": OUT_TRADE_NO, "trade_state": "NOTPAY", "amount": {"total": 888, "currency": "CNY"}}
    status, stored = admin(env, "POST", "/sim/orders", {"kind": "direct", "order": order, "notify_url": notify_url})
    expect(status == 201, "create answered %s: %s" % (status, stored))
    expect(stored["out_trade_no"] == OUT_TRADE_NO, "create stored %s" % stored)

    # 2. Query it with wechatpayv3 (which raises if the answer's signature does not verify).
    code, message = wx.query(out_trade_no=OUT_TRADE_NO)
    first = json.loads(message)
    expect(code == 200 and first["trade_state"] == "NOTPAY", "first query: %s %s" % (code, message))

    # 3. Make it pay.
    status, paid = admin(env, "POST", "/sim/orders/direct/%s/state" % OUT_TRADE_NO, {"trade_state": "SUCCESS"})
    expect(status == 200 and paid["trade_state"] == "SUCCESS", "state answered %s: %s" % (status, paid))

    # 4. The notification arrives (after one refused delivery) and wechatpayv3 verifies it.
    try:
        headers, body = received.get(timeout=20)
    except queue.Empty:
        raise SystemExit("sandbox story failed: no notification within 20 s (attempts: %s)" % attempts)
    result = wx.callback(headers, body)
    expect(result is not None, "wechatpayv3 callback refused the notification")
    resource = result["resource"]
    expect(result["event_type"] == "TRANSACTION.SUCCESS", "event_type %s" % result["event_type"])
    expect(resource["out_trade_no"] == OUT_TRADE_NO, "notified out_trade_no %s" % resource["out_trade_no"])
    expect(resource["trade_state"] == "SUCCESS", "notified trade_state %s" % resource["trade_state"])
    expect(resource["amount"]["total"] == 888, "notified amount %s" % resource["amount"])

    # A tampered copy of the same notification does not pass wechatpayv3's verifier.
    tampered = body.replace(b'"id":"', b'"id":"X', 1)
    expect(tampered != body, "could not tamper the body")
    expect(wx.callback(headers, tampered) is None, "wechatpayv3 accepted a tampered notification")

    # 5. The query agrees, and the delivery log shows the retry.
    code, message = wx.query(out_trade_no=OUT_TRADE_NO)
    expect(code == 200 and json.loads(message)["trade_state"] == "SUCCESS", "second query: %s %s" % (code, message))
    status, log = admin(env, "GET", "/sim/notifications")
    expect(status == 200, "notifications answered %s" % status)
    expect(isinstance(log, list), "the delivery log is a JSON array: %s" % log)
    entries = log
    ours = [n for n in entries if n.get("out_trade_no") == OUT_TRADE_NO]
    expect(len(ours) == 1, "delivery log for %s: %s" % (OUT_TRADE_NO, log))
    expect(ours[0].get("delivered") is True, "delivery log says not delivered: %s" % ours[0])
    statuses = [a.get("status") for a in ours[0].get("attempts", [])]
    expect(statuses[:1] == [503] and statuses[-1] in (200, 204), "delivery attempts %s" % ours[0])

    # 6. The README's Python snippet, as written: after `. /tmp/wxsim/env` (here: the same
    #    variables in os.environ), with the README's T1001 created, inside a notify handler
    #    that was given this notification.
    status, _ = admin(env, "POST", "/sim/orders", {"kind": "direct", "order": {"out_trade_no": "T1001", "amount": {"total": 888}}})
    expect(status == 201, "creating the README's T1001 answered %s" % status)
    os.environ.update(env)
    snippet = {"headers": headers, "body": body}
    exec(compile(readme_block("python", "Python, with"), str(README) + " (python snippet)", "exec"), snippet)
    expect(json.loads(snippet["answer"]).get("out_trade_no") == "T1001", "the README snippet's query: %s" % snippet["answer"])
    expect(snippet["code"] == 200, "the README snippet's last call answered %s" % snippet["code"])
    # Its payment-code lines (a codepay answered 202, then codepay_reverse) left the order
    # REVOKED: a codepay refused for its out_trade_no (6-32 characters) would leave none.
    status, order = admin(env, "GET", "/sim/orders/direct/TILL1002")
    expect(status == 200, "the README snippet's payment-code order: %s %s" % (status, order))
    expect(order.get("trade_type") == "MICROPAY" and order.get("trade_state") == "REVOKED",
           "the README snippet's payment-code order: %s" % order)
    expect(snippet["event"]["resource"]["out_trade_no"] == OUT_TRADE_NO, "the README snippet's event: %s" % snippet["event"])

    with open(out_file, "w") as f:
        json.dump({"headers": headers, "body": body.decode("utf-8")}, f)
    server.shutdown()
    print(json.dumps({
        "out_trade_no": OUT_TRADE_NO,
        "event_type": result["event_type"],
        "trade_state": resource["trade_state"],
        "deliveries": len(attempts),
        "attempt_statuses": statuses,
    }))


if __name__ == "__main__":
    main()
