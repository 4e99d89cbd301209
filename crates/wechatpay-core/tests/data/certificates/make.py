#!/usr/bin/env python3
"""Known-answer `GET /v3/certificates` answers (PROTOCOL.md §9), built independently of the Rust crate
with Python's `cryptography` package (AES-256-GCM, RSA PKCS#1 v1.5 SHA-256) from THROWAWAY keys:

    pip install cryptography   # tested with 48.0.0
    python3 crates/wechatpay-core/tests/data/certificates/make.py

The second platform certificate and the EC certificate of this folder were made with:

    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out platform2_key.pem
    openssl req -new -x509 -key platform2_key.pem -days 1825 -sha256 \
      -set_serial 0x7A1B2C3D4E5F60718293A4B5C6D7E8F901234567 \
      -subj "/C=CN/O=Tenpay.com (TEST ONLY)/CN=Tenpay.com platform 2 (TEST ONLY)" -out platform2_cert.pem
    openssl ecparam -name prime256v1 -genkey -noout -out ec_platform_key.pem
    openssl req -new -x509 -key ec_platform_key.pem -days 1825 -sha256 \
      -set_serial 0x0EC0000000000000000000000000000000000001 -subj "/CN=EC platform (TEST ONLY)" \
      -out ec_platform_cert.pem

For every case NAME it writes NAME.body (the exact answer bytes) and NAME.headers (one
`Name: value` per line), signed at the fixed timestamp TS below (tests pass it as "now").
Nonces are fixed, so a rerun rewrites the same bytes. The APIv3 key is
../notifications/apiv3_key.txt (throwaway).
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
NONCE = "C5AC6F8A2B5E4E0F9F3E7A1B2C3D4E5F"
OLD = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
NEW = "7A1B2C3D4E5F60718293A4B5C6D7E8F901234567"
PUB_KEY_ID = "PUB_KEY_ID_0114232019092600000000000000000001"
API_V3_KEY = open(os.path.join(DATA, "notifications", "apiv3_key.txt"), "rb").read().rstrip(b"\n")
OTHER_API_V3_KEY = b"ZYXWVUTSRQPONMLKJIHGFEDCBA987654"


def read(*path):
    with open(os.path.join(*path), "rb") as f:
        return f.read()


def key(*path):
    return serialization.load_pem_private_key(read(*path), password=None)


CERTS = {OLD: read(DATA, "platform_cert.pem"), NEW: read(HERE, "platform2_cert.pem"),
         "EC": read(HERE, "ec_platform_cert.pem")}
SIGNERS = {OLD: key(DATA, "platform_key.pem"), NEW: key(HERE, "platform2_key.pem"),
           PUB_KEY_ID: key(DATA, "wechatpay_key.pem")}
TIMES = {OLD: ("2018-06-08T10:34:56+08:00", "2023-06-08T10:34:56+08:00"),
         NEW: ("2023-06-01T10:34:56+08:00", "2028-06-01T10:34:56+08:00")}


def item(case, serial_no, cert, api_v3_key=API_V3_KEY):
    nonce = hashlib.sha256(f"{case}/{serial_no}".encode()).hexdigest()[:12]
    sealed = AESGCM(api_v3_key).encrypt(nonce.encode(), CERTS[cert], b"certificate")
    effective, expire = TIMES.get(serial_no, TIMES[OLD])
    return {"serial_no": serial_no, "effective_time": effective, "expire_time": expire,
            "encrypt_certificate": {"algorithm": "AEAD_AES_256_GCM", "nonce": nonce,
                                    "associated_data": "certificate",
                                    "ciphertext": base64.b64encode(sealed).decode()}}


def case(name, items, signer, serial=None, tamper=False):
    body = json.dumps({"data": items}, separators=(",", ":")).encode()
    message = f"{TS}\n{NONCE}\n".encode() + body + b"\n"
    if tamper:
        message = message.replace(b"data", b"DATA")
    signature = base64.b64encode(SIGNERS[signer].sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    headers = [("Content-Type", "application/json"), ("Request-ID", f"08F78BB5AF0610D302A2F5BA03-{name}"),
               ("Wechatpay-Nonce", NONCE), ("Wechatpay-Serial", serial or signer),
               ("Wechatpay-Signature", signature), ("Wechatpay-Timestamp", TS),
               ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")]
    with open(os.path.join(HERE, f"{name}.body"), "wb") as f:
        f.write(body)
    with open(os.path.join(HERE, f"{name}.headers"), "wb") as f:
        f.write("".join(f"{k}: {v}\n" for k, v in headers).encode())


case("bootstrap", [item("bootstrap", OLD, OLD), item("bootstrap", NEW, NEW)], OLD)
case("signed_by_new", [item("signed_by_new", OLD, OLD), item("signed_by_new", NEW, NEW)], NEW)
case("signed_by_public_key", [item("signed_by_public_key", OLD, OLD)], PUB_KEY_ID)
case("wrong_key", [item("wrong_key", OLD, OLD, OTHER_API_V3_KEY)], OLD)
case("serial_mismatch", [item("serial_mismatch", OLD, OLD), item("serial_mismatch", NEW, OLD)], OLD)
case("not_rsa", [item("not_rsa", OLD, OLD), item("not_rsa", NEW, "EC")], OLD)
case("bad_signature", [item("bad_signature", OLD, OLD)], OLD, tamper=True)
case("unlisted_signer", [item("unlisted_signer", NEW, NEW)], OLD)
