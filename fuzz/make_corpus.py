"""Builds the seed corpus fuzz/corpus/<target>/ from the fixtures in
crates/wechatpay-core/tests/data. Rerun after changing a target's input format:
    python3 fuzz/make_corpus.py
Files found by the fuzzers are kept next to these as regression-*."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "crates", "wechatpay-core", "tests", "data")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def data(name):
    return open(os.path.join(DATA, name), "rb").read()


def write(target, name, content):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, "seed-" + name), "wb") as f:
        f.write(content)


PUB = b"PUB_KEY_ID_0114232019092600000000000000000001"
CERT_SERIAL = b"5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
direct, parking = data("responses/direct_seed.json"), data("responses/parking_seed.json")


def headers(sig_file, serial, extra=b""):
    msg = data(f"kat/{sig_file}.msg").split(b"\n")
    return (b"Wechatpay-Timestamp: " + msg[0] + b"\nWechatpay-Nonce: " + msg[1] + b"\nWechatpay-Signature: "
            + data(f"kat/{sig_file}.sig").strip() + b"\nWechatpay-Serial: " + serial
            + b"\nRequest-ID: 08F78BB5AF0610D302A2F5BA03-0\n" + extra + b"\n")


# parse_response: byte 0 = status (bits 0-3) | synthesised headers (0x10) | type (bits 5-6).
write("parse_response", "direct", bytes([0x10]) + direct)
write("parse_response", "partner", bytes([0x30]) + b'{"sp_mchid":"1","sub_mchid":"2","out_trade_no":"o","trade_state":"PARTIAL","trade_state_desc":"d","trade_type":"NEWPAY","future":{"a":[1,2]},"amount":{"total":5,"currency":"USD","fx":1},"payer":{"sp_openid":"x","sub_openid":"y"}}')
write("parse_response", "parking", bytes([0x50]) + parking)
write("parse_response", "value", bytes([0x70]) + b'{"a":[1,2.5,"x",null,true],"b":{}}')
write("parse_response", "direct-real-headers", bytes([0x00]) + headers("resp_direct_pubkey", PUB) + direct)
write("parse_response", "parking-cert-headers", bytes([0x40]) + headers("resp_parking_cert", CERT_SERIAL) + parking)
write("parse_response", "signtest", bytes([0x00]) + b"Wechatpay-Timestamp: 1554208460\nWechatpay-Nonce: N\nWechatpay-Signature: WECHATPAY/SIGNTEST/abc\nWechatpay-Serial: PUB_KEY_ID_01\n\n{}")
write("parse_response", "signature-type", bytes([0x00]) + headers("resp_direct_pubkey", PUB, b"Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048\n") + direct)
write("parse_response", "states", bytes([0x10]) + b'{"mchid":"1","out_trade_no":"o","trade_state":"USERPAYING","trade_state_desc":"d","success_time":"2016-12-31T23:59:60Z","amount":{"total":-1}}')
write("parse_response", "error-429", bytes([0x19]) + b'{"code":"FREQUENCY_LIMITED","message":"slow down"}')

# error_body: byte 0 = status index (bits 0-6) | synthesised headers (0x80).
write("error_body", "param-error", bytes([0x00]) + b'{"code":"PARAM_ERROR","message":"bad","detail":{"field":"out_trade_no","location":"uri"}}')
write("error_body", "not-found-signed", bytes([0x83]) + b'{"code":"ORDER_NOT_EXIST","message":"no such order"}')
write("error_body", "ratelimit", bytes([0x05]) + b'{"code":"RATELIMIT_EXCEEDED","message":"x"}')
write("error_body", "system-error", bytes([0x86]) + b'{"code":"SYSTEM_ERROR","message":"\\u7cfb\\u7edf\\u9519\\u8bef"}')
write("error_body", "html-502", bytes([0x07]) + b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>")
write("error_body", "code-not-string", bytes([0x00]) + b'{"code":17,"message":"x"}')
write("error_body", "empty", bytes([0x09]))

# authorization: a real header, and the malformed ones of the unit tests.
sig = data("kat/req_direct_out_trade_no.sig").strip()
write("authorization", "valid", b'WECHATPAY2-SHA256-RSA2048 mchid="1230000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="' + sig + b'",timestamp="1554208460",serial_no="444F4864EA9B34415C8C4D3F4EA5B46D0E2DCFC0"')
write("authorization", "reordered", b'WECHATPAY2-SHA256-RSA2048 serial_no="AB",timestamp="2",signature="s",nonce_str="n",mchid="1"')
write("authorization", "missing-field", b'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="2"')
write("authorization", "space", b'WECHATPAY2-SHA256-RSA2048 mchid="1", nonce_str="n",signature="s",timestamp="2",serial_no="AB"')
write("authorization", "duplicate", b'WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="AB"')
write("authorization", "trailing-comma", b'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="2",serial_no="AB",')
write("authorization", "unterminated", b'WECHATPAY2-SHA256-RSA2048 mchid="1')
write("authorization", "bearer", b"Bearer x")

# keys: byte 0 = loader (0 private PEM, 1 private DER, 2 public PEM, 3 certificates, 4 "id\npem").
write("keys", "pkcs8-pem", b"\x00" + data("merchant_key.pem"))
write("keys", "pkcs1-pem", b"\x00" + data("merchant_key_pkcs1.pem"))
write("keys", "encrypted", b"\x00" + data("encrypted_key.pem"))
write("keys", "ec-private", b"\x00" + data("ec_key.pem"))
write("keys", "rsa1024", b"\x00" + data("rsa1024_key.pem"))
write("keys", "cert-as-private", b"\x00" + data("platform_cert.pem"))
write("keys", "pkcs8-der", b"\x01" + data("merchant_key.der"))
write("keys", "public-pem", b"\x02" + data("wechatpay_pub.pem"))
write("keys", "ec-public", b"\x02" + data("ec_pub.pem"))
write("keys", "certificate", b"\x03" + data("platform_cert.pem"))
write("keys", "two-certificates", b"\x03" + data("platform_cert.pem") + data("platform_cert.pem"))
write("keys", "public-key-id", b"\x04" + PUB + b"\n" + data("wechatpay_pub.pem"))

# ids: one string per file.
for name, s in [("out-trade-no", "1217752501201407033233368018"), ("pipe", "SIM|PIPE*0001"),
                ("transaction-id", "4200000985202103031441826014"), ("serial-lower", "444f4864ea9b34415c8c4d3f4ea5b46d0e2dcfc0"),
                ("nonce", "593BEC0C930BF1AFEB40B4A08C8FB242"), ("too-long", "1" * 33), ("unicode", "订单1"),
                ("time", "2018-06-08T10:34:56+08:00"), ("time-z-fraction", "2016-12-31T23:59:60.123Z"),
                ("time-negative-offset", "1970-01-01T00:00:00-23:59"), ("time-bad-day", "2019-02-29T00:00:00Z"),
                ("empty", "")]:
    write("ids", name, s.encode())

# open_enums: bare strings and JSON strings.
for name, s in [("success", "SUCCESS"), ("json-notpay", '"NOTPAY"'), ("blue", "BLUE"), ("param-error", "PARAM_ERROR"),
                ("json-unknown", '"PARTIAL_REFUND"'), ("json-escape", '"SUC\\u0043ESS"'), ("empty", ""),
                ("json-number", "17"), ("micropay", "MICROPAY"), ("yes", "Y")]:
    write("open_enums", name, s.encode())

# der: byte 0 = loader (0 private key DER, 1 SubjectPublicKeyInfo DER, 2 certificate DER).
import base64


def pem_der(name):
    text = data(name).decode()
    body = text.split("-----", 2)[2].split("-----END", 1)[0]
    return base64.b64decode("".join(body.split()))


def pad_outer(der):
    """The outermost length one byte longer than DER allows (what the target checks)."""
    if der[1] < 0x80:
        return der[:1] + bytes([0x81, der[1]]) + der[2:]
    return der[:1] + bytes([der[1] + 1, 0]) + der[2:]


write("der", "pkcs8", b"\x00" + data("merchant_key.der"))
write("der", "pkcs1", b"\x00" + pem_der("merchant_key_pkcs1.pem"))
write("der", "pkcs8-padded-length", b"\x00" + pad_outer(data("merchant_key.der")))
write("der", "rsa1024", b"\x00" + pem_der("rsa1024_key.pem"))
write("der", "ec-pkcs8", b"\x00" + pem_der("ec_key.pem"))
write("der", "spki", b"\x01" + pem_der("wechatpay_pub.pem"))
write("der", "spki-ec", b"\x01" + pem_der("ec_pub.pem"))
write("der", "spki-indefinite", b"\x01\x30\x80" + pem_der("wechatpay_pub.pem")[4:] + b"\x00\x00")
write("der", "certificate", b"\x02" + pem_der("platform_cert.pem"))
write("der", "certificate-padded-length", b"\x02" + pad_outer(pem_der("platform_cert.pem")))
write("der", "certificate-truncated", b"\x02" + pem_der("platform_cert.pem")[:200])

# notification: byte 0 = receiver (bits 0-1: direct, partner, parking+sub, partner+sub) |
# synthesised headers (0x04) | seal mode (0x08: the rest is "event_type\nplaintext") | GET (0x10) |
# no kind named (0x20: the receiver tells it; the sub-merchant restriction stays).
NOTIFY = os.path.join(DATA, "notifications")


def notify_case(name):
    return open(os.path.join(NOTIFY, name + ".headers"), "rb").read() + b"\n" + open(os.path.join(NOTIFY, name + ".body"), "rb").read()


for case, kind in [("direct_success", 0), ("partner_success", 3), ("parking_success", 2), ("parking_entrance", 2),
                   ("refund_other", 0), ("security_echo", 1), ("no_associated_data", 0), ("wrong_aad", 0),
                   ("flipped_bit", 0), ("unsupported_algorithm", 0), ("signtest", 0), ("other_merchant", 0),
                   ("bad_resource", 0)]:
    write("notification", case.replace("_", "-"), bytes([kind]) + notify_case(case))
write("notification", "get", bytes([0x10]) + notify_case("direct_success"))
write("notification", "synthesised-headers", bytes([0x04]) + open(os.path.join(NOTIFY, "direct_success.body"), "rb").read())
write("notification", "sealed-direct", bytes([0x0C]) + b"TRANSACTION.SUCCESS\n" + open(os.path.join(NOTIFY, "direct_success.plain"), "rb").read())
write("notification", "sealed-partner", bytes([0x0D]) + b"TRANSACTION.SUCCESS\n" + open(os.path.join(NOTIFY, "partner_success.plain"), "rb").read())
write("notification", "sealed-parking", bytes([0x0E]) + b"TRANSACTION.FAIL\n" + open(os.path.join(NOTIFY, "parking_fail.plain"), "rb").read())
write("notification", "sealed-entrance", bytes([0x0E]) + b"VEHICLE.ENTRANCE_STATE_CHANGE\n" + open(os.path.join(NOTIFY, "parking_entrance.plain"), "rb").read())
write("notification", "sealed-other", bytes([0x0F]) + b"REFUND.SUCCESS\n" + b'{"sp_mchid":"1230000109","sub_mchid":"1900000109","x":[1,{}]}')
write("notification", "sealed-array", bytes([0x0C]) + b"TRANSACTION.SUCCESS\n" + b'["1230000109","o","SUCCESS","d"]')
write("notification", "sealed-not-json", bytes([0x0C]) + b"X\n" + b"\xff\xfe not json")
for case, kind in [("direct_success", 0x20), ("partner_success", 0x20), ("parking_pay_back", 0x22),
                   ("parking_entrance", 0x20), ("refund_other", 0x20)]:
    write("notification", "detect-" + case.replace("_", "-"), bytes([kind]) + notify_case(case))
write("notification", "sealed-detect-partner", bytes([0x2F]) + b"TRANSACTION.SUCCESS\n" + open(os.path.join(NOTIFY, "partner_success.plain"), "rb").read())
write("notification", "sealed-detect-refund-as-payment", bytes([0x28]) + b"TRANSACTION.SUCCESS\n" + open(os.path.join(NOTIFY, "refund_other.plain"), "rb").read())
write("notification", "sealed-detect-no-merchant", bytes([0x28]) + b"TRANSACTION.SUCCESS\n" + b'{"out_trade_no":"o","trade_state":"SUCCESS"}')
