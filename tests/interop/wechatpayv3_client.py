"""An independent client — the `wechatpayv3` package from PyPI — against wechatpay-sim.

Driven by tests/tests/it/interop_python.rs. Prints one JSON object: for each query the HTTP
status and the parsed answer, or "rejected" when wechatpayv3's own verifier refused it.
"""
import gzip
import hashlib
import json
import os
import sys

from wechatpayv3 import WeChatPay, WeChatPayType


def client(partner_mode):
    wx = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=os.environ["SIM_MCHID"],
        private_key=open(os.environ["SIM_PRIVATE_KEY"]).read(),
        cert_serial_no=os.environ["SIM_SERIAL_NO"],
        appid="wxd678efh567hg6787",
        apiv3_key="0" * 32,
        notify_url="https://example.invalid/notify",
        partner_mode=partner_mode,
        public_key=open(os.environ["SIM_PUBLIC_KEY"]).read(),
        public_key_id=os.environ["SIM_PUBLIC_KEY_ID"],
        timeout=(5, 10),
    )
    # wechatpayv3 has no base-URL option; its gateway is a plain attribute.
    wx._core._gate_way = os.environ["SIM_BASE_URL"]
    return wx


def outcome(call):
    try:
        code, message = call()
    except Exception as e:  # wechatpayv3 raises when a signature does not verify
        return {"rejected": str(e)}
    try:
        body = json.loads(message)
    except (TypeError, ValueError):
        body = None
    return {"status": code, "body": body}


def main():
    sub = os.environ["SIM_SUB_MCHID"]
    direct, partner = client(False), client(True)
    if sys.argv[1:2] == ["bill"]:
        # trade_bill() then download_bill(): the bytes (gunzipped when GZIP) and their SHA-1.
        bill_date, tar_type = sys.argv[2], sys.argv[3]
        code, message = direct.trade_bill(bill_date=bill_date, tar_type=tar_type)
        answer = json.loads(message)
        status, content = direct.download_bill(answer["download_url"])
        raw = gzip.decompress(content) if tar_type == "GZIP" else content
        print(json.dumps({"apply_status": code, "answer": answer, "download_status": status,
                          "sha1": hashlib.sha1(raw).hexdigest(), "bytes": len(raw),
                          "bom": raw.startswith(b"\xef\xbb\xbf")}))
        return
    if sys.argv[1:] == ["tampered"]:
        print(json.dumps({"tampered": outcome(lambda: direct.query(out_trade_no="1217752501201407033233368018"))}))
        return
    results = {
        "direct_out_trade_no": outcome(lambda: direct.query(out_trade_no="1217752501201407033233368018")),
        "direct_transaction_id": outcome(lambda: direct.query(transaction_id="4200000985202103031441826014")),
        "partner_out_trade_no": outcome(lambda: partner.query(out_trade_no="1217752501201407033233368018", sub_mchid=sub)),
        "partner_transaction_id": outcome(lambda: partner.query(transaction_id="4200000991202103031441826020", sub_mchid=sub)),
        "parking_sub_mchid": outcome(lambda: partner.parking_order_query(out_trade_no="20150806125346", sub_mchid=sub)),
        "parking_merchant": outcome(lambda: direct.parking_order_query(out_trade_no="SIM_PARKING_0001")),
        "unknown_order": outcome(lambda: direct.query(out_trade_no="NO_SUCH_ORDER")),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
