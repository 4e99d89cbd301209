#!/usr/bin/env bash
# Known answers for the parking flow's find request (PROTOCOL.md §16), made with OpenSSL
# independently of the crate. NAME.msg is the exact string-to-sign (every line ends in \n);
# NAME.target is the request target exactly as sent; NAME.sig is
#   openssl dgst -sha256 -sign ../merchant_key.pem NAME.msg | base64 -w0
# RSASSA-PKCS1-v1_5 is deterministic, so the crate must produce the same Base64 exactly.
# The negative case: find_raw_plate.msg is the same message with the plate's raw UTF-8
# (粤, the way the Python package signs it); find_partner.sig must NOT verify over it:
#   openssl dgst -sha256 -verify ../merchant_pub.pem -signature <(base64 -d find_partner.sig) find_raw_plate.msg
# (prints "Verification failure").
set -euo pipefail
cd "$(dirname "$0")"
TS=1554208460
NONCE=593BEC0C930BF1AFEB40B4A08C8FB242
req() { # name target
  printf 'GET\n%s\n%s\n%s\n\n' "$2" "$TS" "$NONCE" > "$1.msg"
  printf '%s' "$2" > "$1.target"
  openssl dgst -sha256 -sign ../merchant_key.pem "$1.msg" | base64 -w0 > "$1.sig"
}
# A service provider's find for 粤B888888 (UTF-8 E7 B2 A4, upper-case hex), keys sorted.
req find_partner '/v3/vehicle/parking/services/find?appid=wxcbda96de0b165486&openid=oUpF8uMuAJOM2pxb1Q&plate_color=BLUE&plate_number=%E7%B2%A4B888888&sub_mchid=1900000109'
# A merchant's find for a new-energy plate 京AD12345 (京 = E4 BA AC).
req find_merchant '/v3/vehicle/parking/services/find?appid=wxcbda96de0b165486&openid=oUpF8uMuAJOM2pxb1Q&plate_color=GREEN&plate_number=%E4%BA%ACAD12345'
# The message is PROTOCOL.md §16's (spec §16) byte for byte: 202 bytes, its SHA-256 as printed there.
echo "d530fa743acaa279ae4c235a4fff7ec33bf583bd82022e286912fdaa7da998bf  find_partner.msg" | sha256sum -c --quiet
test "$(wc -c < find_partner.msg)" = 202
# The negative case: the raw plate.
printf 'GET\n%s\n%s\n%s\n\n' '/v3/vehicle/parking/services/find?appid=wxcbda96de0b165486&openid=oUpF8uMuAJOM2pxb1Q&plate_color=BLUE&plate_number=粤B888888&sub_mchid=1900000109' "$TS" "$NONCE" > find_raw_plate.msg
if openssl dgst -sha256 -verify ../merchant_pub.pem -signature <(base64 -d find_partner.sig) find_raw_plate.msg >/dev/null 2>&1; then
  echo "the signature verified over the raw plate" >&2; exit 1
fi
openssl dgst -sha256 -verify ../merchant_pub.pem -signature <(base64 -d find_partner.sig) find_partner.msg >/dev/null
