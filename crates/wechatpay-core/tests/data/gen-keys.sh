#!/usr/bin/env bash
# Generates the throwaway test keys of this folder. Run from this folder.
set -euo pipefail
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out merchant_key.pem
openssl rsa -in merchant_key.pem -traditional -out merchant_key_pkcs1.pem
openssl pkcs8 -topk8 -nocrypt -in merchant_key.pem -outform DER -out merchant_key.der
openssl pkey -in merchant_key.pem -pubout -out merchant_pub.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out wechatpay_key.pem
openssl pkey -in wechatpay_key.pem -pubout -out wechatpay_pub.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out platform_key.pem
openssl req -new -x509 -key platform_key.pem -days 1825 -sha256 \
  -set_serial 0x5157F09EFDC096DE15EBE81A47057A7232F1B8E1 \
  -subj "/C=CN/O=Tenpay.com (TEST ONLY)/OU=Tenpay.com CA Center (TEST ONLY)/CN=Tenpay.com Root CA (TEST ONLY)" \
  -out platform_cert.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024_key.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec_key.pem
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:test -in merchant_key.pem -out encrypted_key.pem
openssl pkey -in ec_key.pem -pubout -out ec_pub.pem
