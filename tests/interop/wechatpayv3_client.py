"""An independent client — the `wechatpayv3` package from PyPI — against wechatpay-sim.

Driven by tests/tests/it/interop_python.rs. Prints one JSON object: for each query the HTTP
status and the parsed answer, or "rejected" when wechatpayv3's own verifier refused it.

`refunds`: its `refund()` and `query_refund()` (direct and partner) against the simulator's
paid orders SIM_REFUND_ORDER / SIM_REFUND_PARTNER_ORDER (100 fen), refunds notified to
SIM_NOTIFY_URL. `callback HEADERS.json BODY`: a captured notification verified and decrypted
by its own `callback()` (with the simulator's APIv3 key, SIM_APIV3_KEY).
"""
import gzip
import hashlib
import json
import os
import sys
import time
import uuid

from wechatpayv3 import WeChatPay, WeChatPayType


def client(partner_mode):
    wx = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=os.environ["SIM_MCHID"],
        private_key=open(os.environ["SIM_PRIVATE_KEY"]).read(),
        cert_serial_no=os.environ["SIM_SERIAL_NO"],
        appid="wxd678efh567hg6787",
        apiv3_key=os.environ.get("SIM_APIV3_KEY", "0" * 32),
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


def prepay(direct, partner, sub):
    """Orders created with wechatpayv3's own `pay()`, in every scene it has, both modes; and
    the JSAPI invoke parameters signed with its own `sign()`."""
    openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    amount = {"total": 1, "currency": "CNY"}
    h5_scene = {"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}}

    def pay(wx, pay_type, no, **extra):
        return outcome(lambda: wx.pay(description="Python wechatpayv3 order", out_trade_no=no, amount=amount,
                                      pay_type=pay_type, attach="from python", **extra))

    results = {
        "direct_native": pay(direct, WeChatPayType.NATIVE, "PY_NATIVE_1"),
        "direct_jsapi": pay(direct, WeChatPayType.JSAPI, "PY_JSAPI_1", payer={"openid": openid}),
        "direct_app": pay(direct, WeChatPayType.APP, "PY_APP_1"),
        "direct_h5": pay(direct, WeChatPayType.H5, "PY_H5_1", scene_info=h5_scene),
        "partner_native": pay(partner, WeChatPayType.NATIVE, "PY_P_NATIVE_1", sub_mchid=sub),
        "partner_jsapi": pay(partner, WeChatPayType.JSAPI, "PY_P_JSAPI_1", sub_mchid=sub,
                             sub_appid="wx9999999999999999", payer={"sub_openid": openid}),
    }
    # The parameters a front end gets, signed by wechatpayv3 (its JSAPI recipe).
    prepay_id = (results["direct_jsapi"].get("body") or {}).get("prepay_id", "")
    appid, timestamp, nonce = "wxd678efh567hg6787", str(int(time.time())), uuid.uuid4().hex
    package = "prepay_id=" + prepay_id
    results["invoke"] = {
        "appId": appid, "timeStamp": timestamp, "nonceStr": nonce, "package": package, "signType": "RSA",
        "paySign": direct.sign([appid, timestamp, nonce, package]),
    }
    return results


def parking(direct, partner, sub, start, end):
    """The parking flow (PROTOCOL.md §16): find with a Chinese plate (wechatpayv3 signs the raw
    plate and sends it percent-encoded: refused), then an entrance and its deduction, as a
    merchant and as a service provider."""
    results = {
        "find_direct": outcome(lambda: direct.parking_service_find(plate_number="粤B888888", plate_color="BLUE", openid="oUpF8uMuAJOM2pxb1Q")),
        "find_partner": outcome(lambda: partner.parking_service_find(plate_number="粤B888888", plate_color="BLUE", openid="oUpF8uMuAJOM2pxb1Q", sub_mchid=sub)),
    }
    for name, wx, plate, sub_mchid in [("direct", direct, "粤B888888", None), ("partner", partner, "京A12345", sub)]:
        enter = outcome(lambda: wx.parking_enter(out_parking_no="PYIN-" + name, plate_number=plate, plate_color="BLUE",
                                                start_time=start, parking_name="欢乐海岸停车场", free_duration=3600,
                                                sub_mchid=sub_mchid))
        results["enter_" + name] = enter
        parking_id = (enter.get("body") or {}).get("id", "")
        results["order_" + name] = outcome(lambda: wx.parking_order(
            description="停车场扣费", out_trade_no="PY-" + name, total=888, parking_id=parking_id,
            plate_number=plate, plate_color="BLUE", start_time=start, end_time=end,
            parking_name="欢乐海岸停车场", charging_duration=3600, device_id="12313", attach="深圳分店",
            appid="wxcbda96de0b165486", sub_mchid=sub_mchid,
            sub_appid="wxd678efh567hg6999" if sub_mchid else None))
    return results


def codepay(direct, partner, sub):
    """Payment code: pay(pay_type=CODEPAY) and codepay_reverse(), direct and partner."""
    scene = {"device_ip": "10.0.0.7", "store_info": {"out_id": "SZ-001"}}

    def charge(wx, no, code, **kw):
        return outcome(lambda: wx.pay(description="Coffee", out_trade_no=no, amount={"total": 1200},
                                      payer={"auth_code": code}, scene_info=scene,
                                      pay_type=WeChatPayType.CODEPAY, **kw))

    return {
        "paid": charge(direct, "PY_CODEPAY_0", "134567890123456780"),
        "paying": charge(direct, "PY_CODEPAY_3", "134567890123456783"),
        "not_enough": charge(direct, "PY_CODEPAY_4", "134567890123456784"),
        "reverse": outcome(lambda: direct.codepay_reverse(out_trade_no="PY_CODEPAY_3")),
        "reversed": outcome(lambda: direct.query(out_trade_no="PY_CODEPAY_3")),
        "partner_paying": charge(partner, "PY_PCODEPAY_3", "134567890123456783", sub_mchid=sub),
        "partner_reverse": outcome(lambda: partner.codepay_reverse(out_trade_no="PY_PCODEPAY_3", sub_mchid=sub)),
    }


def main():
    sub = os.environ["SIM_SUB_MCHID"]
    direct, partner = client(False), client(True)
    if sys.argv[1:] == ["prepay"]:
        print(json.dumps(prepay(direct, partner, sub)))
        return
    if sys.argv[1:2] == ["callback"]:
        headers = json.load(open(sys.argv[2]))
        body = open(sys.argv[3], "rb").read().decode("utf-8")
        try:
            print(json.dumps({"callback": direct.callback(headers, body)}))
        except Exception as e:
            print(json.dumps({"callback": None, "error": str(e)}))
        return
    if sys.argv[1:] == ["refunds"]:
        url = os.environ["SIM_NOTIFY_URL"]
        amount = {"refund": 30, "total": 100, "currency": "CNY"}
        direct_order, partner_order = os.environ["SIM_REFUND_ORDER"], os.environ["SIM_REFUND_PARTNER_ORDER"]
        results = {
            "refund": outcome(lambda: direct.refund(out_refund_no="PY-R-1", amount=amount, out_trade_no=direct_order,
                                                    reason="interop", notify_url=url)),
            "refund_again": outcome(lambda: direct.refund(out_refund_no="PY-R-1", amount=amount,
                                                          out_trade_no=direct_order, reason="interop",
                                                          notify_url=url)),
            "over_refund": outcome(lambda: direct.refund(out_refund_no="PY-R-2", amount=dict(amount, refund=71),
                                                         out_trade_no=direct_order, notify_url=url)),
            "partner_refund": outcome(lambda: partner.refund(out_refund_no="PY-R-3", amount=amount,
                                                             out_trade_no=partner_order, sub_mchid=sub,
                                                             notify_url=url)),
            "query_refund": outcome(lambda: direct.query_refund(out_refund_no="PY-R-1")),
            "partner_query_refund": outcome(lambda: partner.query_refund(out_refund_no="PY-R-3", sub_mchid=sub)),
            "unknown_refund": outcome(lambda: direct.query_refund(out_refund_no="PY-NONE")),
        }
        print(json.dumps(results))
        return
    if sys.argv[1:2] == ["parking"]:
        print(json.dumps(parking(direct, partner, sub, sys.argv[2], sys.argv[3])))
        return
    if sys.argv[1:] == ["codepay"]:
        print(json.dumps(codepay(direct, partner, sub)))
        return
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
