// A Node team verifies the simulator's notification with `wechatpay-axios-plugin`'s own helpers
// (Formatter.response + Rsa.verify for the signature, Aes.AesGcm.decrypt for the resource).
//
// Usage: node verify_notification.js STATE_DIR NOTIFICATION.json   (NODE_PATH -> node_modules)
// NOTIFICATION.json is {"headers": {...lower-case names...}, "body": "..."} as received by the
// Python story. Then runs the README's Node snippet as written, given the same notification
// (`h`, `body`) and the simulator's variables as `process.env`. Prints one JSON line; exits
// non-zero when anything does not verify.
// Driven by crates/wechatpay-sim/tests/sandbox_stories.rs.
'use strict';
const { readFileSync } = require('fs');
const path = require('path');
const { Rsa, Aes, Formatter } = require('wechatpay-axios-plugin');

function fail(what) {
  console.error(`node story failed: ${what}`);
  process.exit(1);
}

const [stateDir, notificationFile] = process.argv.slice(2);
// `export NAME=value` lines; the values used here are never quoted (paths, ids).
const env = Object.fromEntries(readFileSync(path.join(stateDir, 'env'), 'utf8').split('\n')
  .map((l) => l.replace(/^export /, '')).filter((l) => l.includes('='))
  .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const { headers, body } = JSON.parse(readFileSync(notificationFile, 'utf8'));

const publicKey = Rsa.from(readFileSync(env.WECHATPAY_PUBLIC_KEY, 'utf8'), Rsa.KEY_TYPE_PUBLIC);
const verifies = (text) => Rsa.verify(
  Formatter.response(headers['wechatpay-timestamp'], headers['wechatpay-nonce'], text),
  headers['wechatpay-signature'],
  publicKey,
);

if (headers['wechatpay-serial'] !== env.WECHATPAY_PUBLIC_KEY_ID) {
  fail(`signed by ${headers['wechatpay-serial']}, not the WeChat Pay public key ${env.WECHATPAY_PUBLIC_KEY_ID}`);
}
if (!verifies(body)) fail('Rsa.verify refused the notification');
if (verifies(body.replace('"id":"', '"id":"X'))) fail('Rsa.verify accepted a tampered body');

const { resource, event_type: eventType } = JSON.parse(body);
if (resource.algorithm !== 'AEAD_AES_256_GCM') fail(`algorithm ${resource.algorithm}`);
const order = JSON.parse(Aes.AesGcm.decrypt(
  resource.ciphertext,
  env.WECHATPAY_APIV3_KEY,
  resource.nonce,
  resource.associated_data || '',
));
let wrongKeyRefused = false;
try {
  Aes.AesGcm.decrypt(resource.ciphertext, 'x'.repeat(32), resource.nonce, resource.associated_data || '');
} catch (e) {
  wrongKeyRefused = true;
}
if (!wrongKeyRefused) fail('Aes.AesGcm.decrypt accepted a wrong APIv3 key');

// The README's Node snippet, as written (the first ```js block after "Node, with").
const readme = readFileSync(path.join(__dirname, '..', '..', '..', '..', 'README.md'), 'utf8').split('\n');
const begin = readme.findIndex((l, i) => l.trim() === '```js' && readme.slice(0, i).some((m) => m.startsWith('Node, with')));
const end = readme.findIndex((l, i) => i > begin && l.trim() === '```');
if (begin < 0 || end < 0) fail('no ```js block after "Node, with" in README.md');
const snippet = readme.slice(begin + 1, end).join('\n');
// eslint-disable-next-line no-new-func
const fromReadme = new Function('require', 'process', 'h', 'body', `${snippet}\nreturn { ok, order };`)(
  require, { env: { ...process.env, ...env } }, headers, body,
);
if (fromReadme.ok !== true) fail("the README's Node snippet did not verify the notification");
if (fromReadme.order.out_trade_no !== order.out_trade_no) fail(`the README's Node snippet decrypted ${JSON.stringify(fromReadme.order)}`);

console.log(JSON.stringify({
  event_type: eventType,
  associated_data: resource.associated_data,
  out_trade_no: order.out_trade_no,
  trade_state: order.trade_state,
}));
