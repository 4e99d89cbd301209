#!/usr/bin/env python3
"""Known-answer payment notifications (PROTOCOL.md §8), built independently of the Rust crate with
Python's `cryptography` package (AES-256-GCM and RSA PKCS#1 v1.5 SHA-256) from the
repository's THROWAWAY keys:

    pip install cryptography   # tested with 48.0.0
    python3 crates/wechatpay-core/tests/data/notifications/make.py

For every case NAME it writes NAME.body (the exact bytes POSTed), NAME.headers (one
`Name: value` per line) and, when the resource decrypts, NAME.plain (the plaintext JSON).
Nonces and keys are fixed and both algorithms are deterministic, so a rerun rewrites the
same bytes. The APIv3 key is in apiv3_key.txt (throwaway). See README.md for the cases.
"""
import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)

TS = "1554208460"
NONCE = "593BEC0C930BF1AFEB40B4A08C8FB242"
PUB_KEY_ID = "PUB_KEY_ID_0114232019092600000000000000000001"
PLATFORM_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
API_V3_KEY = open(os.path.join(HERE, "apiv3_key.txt"), "rb").read().rstrip(b"\n")
OTHER_API_V3_KEY = b"ZYXWVUTSRQPONMLKJIHGFEDCBA987654"  # stands for a reset key
assert len(API_V3_KEY) == 32 and len(OTHER_API_V3_KEY) == 32


def private_key(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


SIGNERS = {PUB_KEY_ID: private_key("wechatpay_key.pem"), PLATFORM_SERIAL: private_key("platform_key.pem")}


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def direct_transaction(mchid="1230000109"):
    with open(os.path.join(DATA, "responses", "direct_seed.json"), "rb") as f:
        t = json.load(f)
    t["mchid"] = mchid
    return t


PARTNER = {
    "sp_appid": "wx8888888888888888", "sp_mchid": "1230000109", "sub_appid": "wxd678efh567hg6999",
    "sub_mchid": "1900000109", "out_trade_no": "1217752501201407033233368018",
    "transaction_id": "4200000985202103031441826014", "trade_type": "JSAPI", "trade_state": "SUCCESS",
    "trade_state_desc": "支付成功", "bank_type": "CMC", "attach": "自定义数据",
    "success_time": "2018-06-08T10:34:56+08:00",
    "payer": {"sp_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "sub_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
}


def parking(trade_state, bank_type="CMC", user_repaid=None, description="停车场扣费"):
    with open(os.path.join(DATA, "responses", "parking_seed.json"), "rb") as f:
        t = json.load(f)
    t["trade_state"] = trade_state
    t["bank_type"] = bank_type
    t["trade_state_description"] = description
    t.pop("user_repaid", None)
    if user_repaid:
        t["user_repaid"] = user_repaid
    return t


ENTRANCE = {
    "sp_mchid": "1230000109", "sub_mchid": "1900000109", "parking_id": "5K8264ILTKCH16CQ250",
    "out_parking_no": "1231243", "plate_number": "粤B888888", "plate_color": "BLUE",
    "start_time": "2017-08-26T10:43:39+08:00", "parking_name": "欢乐海岸停车场", "free_duration": 3600,
    "parking_state": "BLOCKED", "blocked_state_description": "PAUSE",
    "state_update_time": "2017-08-26T10:43:39+08:00",
}

REFUND = {
    "mchid": "1230000109", "out_trade_no": "1217752501201407033233368018",
    "transaction_id": "1217752501201407033233368018", "out_refund_no": "1217752501201407033233368018",
    "refund_id": "1217752501201407033233368018", "refund_status": "SUCCESS",
    "success_time": "2018-06-08T10:34:56+08:00", "user_received_account": "招商银行信用卡0403",
    "amount": {"total": 999, "refund": 999, "payer_total": 999, "payer_refund": 999},
}


def write(name, suffix, content):
    with open(os.path.join(HERE, f"{name}.{suffix}"), "wb") as f:
        f.write(content)


def case(name, *, event, plaintext, original_type="transaction", aad="transaction", serial=PUB_KEY_ID,
         summary="支付成功", key=API_V3_KEY, envelope_aad=None, flip_bit=None, algorithm="AEAD_AES_256_GCM",
         signature=None, signature_type=True):
    """One notification. `aad` is what encrypts; the envelope says `envelope_aad` (default:
    the same; None for both = the field is absent). `flip_bit` flips one ciphertext bit
    before signing; `signature` replaces the real signature."""
    nonce = hashlib.sha256(name.encode()).hexdigest()[:12]  # fixed per case, never reused
    plain = compact(plaintext) if not isinstance(plaintext, bytes) else plaintext
    sealed = AESGCM(key).encrypt(nonce.encode(), plain, aad.encode() if aad is not None else None)
    if flip_bit is not None:
        sealed = bytearray(sealed)
        sealed[flip_bit // 8] ^= 1 << (flip_bit % 8)
        sealed = bytes(sealed)
    resource = {"original_type": original_type, "algorithm": algorithm,
                "ciphertext": base64.b64encode(sealed).decode(), "nonce": nonce}
    said_aad = aad if envelope_aad is None else envelope_aad
    if said_aad is not None:
        resource["associated_data"] = said_aad
    envelope = {"id": f"EV-2018022511223320873-{name}", "create_time": "2015-05-20T13:29:35+08:00",
                "resource_type": "encrypt-resource", "event_type": event, "summary": summary,
                "resource": resource}
    body = compact(envelope)
    message = f"{TS}\n{NONCE}\n".encode() + body + b"\n"
    if signature is None:
        raw = SIGNERS[serial].sign(message, padding.PKCS1v15(), hashes.SHA256())
        signature = base64.b64encode(raw).decode()
    headers = [("Content-Type", "application/json"), ("Request-ID", "08F78BB5AF0610D302A2F5BA03-0"),
               ("Wechatpay-Nonce", NONCE), ("Wechatpay-Serial", serial), ("Wechatpay-Signature", signature),
               ("Wechatpay-Timestamp", TS)]
    if signature_type:
        headers.append(("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"))
    write(name, "body", body)
    write(name, "headers", "".join(f"{k}: {v}\n" for k, v in headers).encode())
    decrypts = key == API_V3_KEY and flip_bit is None and said_aad == aad and algorithm == "AEAD_AES_256_GCM"
    path = os.path.join(HERE, f"{name}.plain")
    if decrypts:
        write(name, "plain", plain)
    elif os.path.exists(path):
        os.remove(path)


case("direct_success", event="TRANSACTION.SUCCESS", plaintext=direct_transaction())
case("partner_success", event="TRANSACTION.SUCCESS", plaintext=PARTNER, serial=PLATFORM_SERIAL)
case("parking_success", event="TRANSACTION.SUCCESS", plaintext=parking("SUCCESS"), serial=PLATFORM_SERIAL)
case("parking_fail", event="TRANSACTION.FAIL", plaintext=parking("PAY_FAIL", description="支付失败"),
     summary="支付失败")
case("parking_pay_back", event="TRANSACTION.PAY_BACK", plaintext=parking("SUCCESS", "BPA", "Y"),
     summary="用户还款成功", signature_type=False)
case("parking_entrance", event="VEHICLE.ENTRANCE_STATE_CHANGE", plaintext=ENTRANCE,
     original_type="vehicle", aad="vehicle", summary="入场状态变更")
case("refund_other", event="REFUND.SUCCESS", plaintext=REFUND, original_type="refund", aad="refund",
     summary="退款成功")
# Refund notifications (spec §15): typed as RefundNotice. The official direct example (AAD as real
# ones send it), the doc's empty AAD, the partner shape, the other final states, another merchant.
REFUND_DOC = {
    "mchid": "1230000109", "out_trade_no": "ORDER_20230408144355425", "transaction_id": "4200001736202304084431828716",
    "out_refund_no": "REFUND20230412121456353", "refund_id": "50301405352023041233178680856",
    "refund_status": "SUCCESS", "success_time": "2023-04-12T12:15:06+08:00",
    "amount": {"total": 1, "refund": 1, "payer_total": 1, "payer_refund": 1}, "user_received_account": "支付用户零钱",
}
REFUND_PARTNER = {
    "sp_mchid": "1230000109", "sub_mchid": "1900000109", "out_trade_no": "1217752501201407033233368018",
    "transaction_id": "4200000985202103031441826014", "out_refund_no": "R-partner|1@x",
    "refund_id": "50000000382019052709732678859", "refund_status": "ABNORMAL",
    "user_received_account": "招商银行信用卡0403", "fund_source": "REFUND_SOURCE_UNSETTLED_FUNDS",
    "amount": {"total": 100, "refund": 40, "payer_total": 90, "payer_refund": 36, "new_amount": 4},
}
case("refund_success", event="REFUND.SUCCESS", plaintext=REFUND_DOC, original_type="refund", aad="refund",
     summary="退款成功")
case("refund_empty_aad", event="REFUND.SUCCESS", plaintext=REFUND_DOC, original_type="refund", aad="",
     summary="退款成功")
case("refund_partner_abnormal", event="REFUND.ABNORMAL", plaintext=REFUND_PARTNER, original_type="refund",
     aad="refund", summary="退款异常", serial=PLATFORM_SERIAL)
case("refund_closed", event="REFUND.CLOSED", plaintext={k: v for k, v in dict(REFUND_DOC, refund_status="CLOSED").items()
                                                            if k != "success_time"},
     original_type="refund", aad="refund", summary="退款关闭")
case("refund_other_merchant", event="REFUND.SUCCESS", plaintext=dict(REFUND_DOC, mchid="1900000999"),
     original_type="refund", aad="refund", summary="退款成功")
case("security_echo", event="SECURITY_ECHO.SUCCESS", plaintext={"echo": "hello"}, original_type="security",
     aad="", summary="回调测试")
case("no_associated_data", event="TRANSACTION.SUCCESS", plaintext=direct_transaction(), aad=None)
case("wrong_aad", event="TRANSACTION.SUCCESS", plaintext=direct_transaction(), envelope_aad="certificate")
case("wrong_key", event="TRANSACTION.SUCCESS", plaintext=direct_transaction(), key=OTHER_API_V3_KEY)
case("flipped_bit", event="TRANSACTION.SUCCESS", plaintext=direct_transaction(), flip_bit=100)
case("flipped_tag_bit", event="TRANSACTION.SUCCESS", plaintext=direct_transaction(), flip_bit=8 * (
    len(compact(direct_transaction())) + 15) + 7)
case("unsupported_algorithm", event="TRANSACTION.SUCCESS", plaintext=direct_transaction(),
     algorithm="AEAD_CHACHA20_POLY1305")
case("signtest", event="TRANSACTION.SUCCESS", plaintext=direct_transaction(),
     signature="WECHATPAY/SIGNTEST/" + base64.b64encode(b"probe" * 40).decode())
case("other_merchant", event="TRANSACTION.SUCCESS", plaintext=direct_transaction("1900000999"))
case("bad_resource", event="TRANSACTION.SUCCESS", plaintext={"mchid": "1230000109", "out_trade_no": "1"})

# A /v3/certificates item (PROTOCOL.md §9): the platform certificate encrypted with AAD `certificate`.
with open(os.path.join(DATA, "platform_cert.pem"), "rb") as f:
    cert = f.read()
cert_nonce = "d215b0511e9c"
sealed = AESGCM(API_V3_KEY).encrypt(cert_nonce.encode(), cert, b"certificate")
item = {"serial_no": PLATFORM_SERIAL, "effective_time": "2018-06-08T10:34:56+08:00",
        "expire_time": "2023-06-08T10:34:56+08:00",
        "encrypt_certificate": {"algorithm": "AEAD_AES_256_GCM", "nonce": cert_nonce,
                                "associated_data": "certificate",
                                "ciphertext": base64.b64encode(sealed).decode()}}
write("certificates", "json", json.dumps({"data": [item]}, indent=2).encode() + b"\n")
