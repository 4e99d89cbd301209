#!/usr/bin/env bash
# Produces the RSA-OAEP (SHA-1, MGF1-SHA-1: OpenSSL's defaults for rsa_padding_mode:oaep)
# known-answer fixtures in kat/, with OpenSSL, independently of the crate. OAEP is
# randomised: each run gives a new ciphertext for the same plaintext; any of them decrypts.
#   kat/oaep_plain.txt          the plaintext (a test bank card number, no newline)
#   kat/oaep_wechatpay_pub.b64  openssl pkeyutl -encrypt -pubin -inkey wechatpay_pub.pem
#                                 -pkeyopt rsa_padding_mode:oaep | base64 -w0
#   kat/oaep_platform.b64       the same under platform_cert.pem's key (-certin)
set -euo pipefail
cd "$(dirname "$0")"
printf '%s' '6214830000000000001' > kat/oaep_plain.txt
openssl pkeyutl -encrypt -pubin -inkey wechatpay_pub.pem -pkeyopt rsa_padding_mode:oaep \
  -in kat/oaep_plain.txt | base64 -w0 > kat/oaep_wechatpay_pub.b64
openssl pkeyutl -encrypt -certin -inkey platform_cert.pem -pkeyopt rsa_padding_mode:oaep \
  -in kat/oaep_plain.txt | base64 -w0 > kat/oaep_platform.b64
