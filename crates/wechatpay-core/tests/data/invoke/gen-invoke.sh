#!/usr/bin/env bash
# Known answers for the invoke parameters (PROTOCOL.md §13), made with OpenSSL independently
# of the crate. NAME.msg is the exact four-line message (every line ends in \n, the last one
# included); NAME.sig is
#   openssl dgst -sha256 -sign ../merchant_key.pem NAME.msg | base64 -w0
# RSASSA-PKCS1-v1_5 is deterministic, so the crate must produce the same Base64 exactly.
# The negative case: jsapi.sig must NOT verify over jsapi_no_final_newline.msg
#   openssl dgst -sha256 -verify ../merchant_pub.pem -signature <(base64 -d jsapi.sig) jsapi_no_final_newline.msg
# (prints "Verification failure").
set -euo pipefail
cd "$(dirname "$0")"
kat() { # name line1 line2 line3 line4
  printf '%s\n%s\n%s\n%s\n' "$2" "$3" "$4" "$5" > "$1.msg"
  openssl dgst -sha256 -sign ../merchant_key.pem "$1.msg" | base64 -w0 > "$1.sig"
}
# JSAPI / mini-program, the documentation's data (vector A of §13).
kat jsapi wx8888888888888888 1414561699 5K8264ILTKCH16CQ2502SI8ZNMTM67VS prepay_id=wx201410272009395522657a690389285100
# A partner's JSAPI invoked by the sub_appid.
kat partner_jsapi wxd678efh567hg6999 1554208460 593BEC0C930BF1AFEB40B4A08C8FB242 prepay_id=wx26112221580621e9b071c00d9e093b0000
# APP, the documentation's data (vector C of §13): the bare prepay id on line 4.
kat app wx8888888888888888 1414561699 5K8264ILTKCH16CQ2502SI8ZNMTM67VS WX1217752501201407033233368018
# The negative case: the JSAPI message without its final \n.
printf '%s\n%s\n%s\n%s' wx8888888888888888 1414561699 5K8264ILTKCH16CQ2502SI8ZNMTM67VS prepay_id=wx201410272009395522657a690389285100 > jsapi_no_final_newline.msg
if openssl dgst -sha256 -verify ../merchant_pub.pem -signature <(base64 -d jsapi.sig) jsapi_no_final_newline.msg >/dev/null 2>&1; then
  echo "the signature verified without the final newline" >&2; exit 1
fi
# The messages are PROTOCOL.md §13's vectors A and C byte for byte (their SHA-256 as printed there).
echo "e9f240553b798164cd07071a90bf684071b40781f3dafca1f828346682147df3  jsapi.msg" | sha256sum -c --quiet
echo "b4e00a5385076c87318f7417c4e0d00124d1f53275ad85b81d3f466f0dcc68ed  app.msg" | sha256sum -c --quiet
