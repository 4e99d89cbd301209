#!/usr/bin/env bash
# Produces the known-answer vectors in kat/ with OpenSSL, independently of the crate.
# Request vectors: kat/req_NAME.msg is the exact string-to-sign, kat/req_NAME.sig is
#   openssl dgst -sha256 -sign merchant_key.pem kat/req_NAME.msg | base64 -w0
# Response vectors: kat/resp_NAME.msg is "timestamp\nnonce\nbody\n" over the raw fixture bytes,
#   signed by wechatpay_key.pem (public-key mode) or platform_key.pem (certificate mode).
set -euo pipefail
cd "$(dirname "$0")"
TS=1554208460
NONCE=593BEC0C930BF1AFEB40B4A08C8FB242
req() { # name target
  printf 'GET\n%s\n%s\n%s\n\n' "$2" "$TS" "$NONCE" > "kat/req_$1.msg"
  printf '%s' "$2" > "kat/req_$1.target"
  openssl dgst -sha256 -sign merchant_key.pem "kat/req_$1.msg" | base64 -w0 > "kat/req_$1.sig"
}
req direct_out_trade_no '/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109'
req direct_id '/v3/pay/transactions/id/4200000985202103031441826014?mchid=1230000109'
req partner_out_trade_no '/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018?sp_mchid=1230000109&sub_mchid=1900000109'
req partner_id '/v3/pay/partner/transactions/id/4200000985202103031441826014?sp_mchid=1230000109&sub_mchid=1900000109'
req parking_sp '/v3/vehicle/transactions/out-trade-no/20150806125346?sub_mchid=1900000109'
req parking_merchant '/v3/vehicle/transactions/out-trade-no/20150806125346'
req direct_pipe '/v3/pay/transactions/out-trade-no/A%7CB*c-d_e?mchid=1230000109'
resp() { # name body-file key
  { printf '%s\n%s\n' "$TS" "$NONCE"; cat "$2"; printf '\n'; } > "kat/resp_$1.msg"
  openssl dgst -sha256 -sign "$3" "kat/resp_$1.msg" | base64 -w0 > "kat/resp_$1.sig"
}
resp direct_pubkey responses/direct_seed.json wechatpay_key.pem
resp parking_pubkey responses/parking_seed.json wechatpay_key.pem
resp parking_cert responses/parking_seed.json platform_key.pem
