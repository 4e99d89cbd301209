// Signed + verified order queries with the Node peer `wechatpay-axios-plugin` against wechatpay-sim.
//
// Usage: node node_peer.js STATE_DIR COUNT   (run with NODE_PATH pointing at its node_modules)
// Reads STATE_DIR/env (written by the simulator), runs COUNT sequential queries of seeded
// orders (each: build + RSA-sign the request, HTTP on loopback, verify the response
// signature) and prints one JSON line: per-query wall-time median/min/max in microseconds
// and the client's CPU time (user+sys) per query.
'use strict';
const { readFileSync } = require('fs');
const path = require('path');
const { Wechatpay } = require('wechatpay-axios-plugin');

const ORDERS = ['1217752501201407033233368018', 'SIM_NOTPAY_0001', 'SIM_CLOSED_0001', 'SIM_USERPAYING_0001',
  'SIM_REFUND_0001', 'SIM_REVOKED_0001', 'SIM_PAYERROR_0001', 'SIM_FUTURE_0001'];

async function main() {
  const [stateDir, countArg] = process.argv.slice(2);
  const count = Number(countArg);
  const env = Object.fromEntries(readFileSync(path.join(stateDir, 'env'), 'utf8').split('\n')
    .map((l) => l.replace(/^export /, '')).filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
  const certs = { [env.WECHATPAY_PUBLIC_KEY_ID]: readFileSync(env.WECHATPAY_PUBLIC_KEY, 'utf8') };
  const wxpay = new Wechatpay({
    mchid: env.WECHATPAY_MCHID,
    serial: env.WECHATPAY_SERIAL_NO,
    privateKey: readFileSync(env.WECHATPAY_PRIVATE_KEY, 'utf8'),
    certs,
    baseURL: env.WECHATPAY_BASE_URL.replace(/\/?$/, '/'),
    // Ask for answers signed by the WeChat Pay public key (the key configured above).
    headers: { 'Wechatpay-Serial': env.WECHATPAY_PUBLIC_KEY_ID },
  });
  const query = (no) => wxpay.v3.pay.transactions.outTradeNo.$out_trade_no$
    .get({ params: { mchid: env.WECHATPAY_MCHID }, out_trade_no: no });
  for (const no of ORDERS) { await query(no); } // warm-up; throws when verification fails
  const walls = [];
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) {
    const start = process.hrtime.bigint();
    const res = await query(ORDERS[i % ORDERS.length]);
    walls.push(Number(process.hrtime.bigint() - start) / 1e3);
    if (res.status !== 200 || typeof res.data !== 'object') throw new Error(`query ${i}: ${res.status}`);
  }
  const total = Number(process.hrtime.bigint() - t0) / 1e3;
  const cpu = process.cpuUsage(cpu0);
  walls.sort((a, b) => a - b);
  const mid = walls.length >> 1;
  const median = walls.length % 2 ? walls[mid] : (walls[mid - 1] + walls[mid]) / 2;
  const r = (x) => Math.round(x * 10) / 10;
  console.log(JSON.stringify({
    peer: 'node wechatpay-axios-plugin',
    queries: count,
    wall_us_median: r(median),
    wall_us_min: r(walls[0]),
    wall_us_max: r(walls[walls.length - 1]),
    wall_us_mean: r(total / count),
    cpu_us_per_query: r((cpu.user + cpu.system) / count),
    max_rss_kib: Math.round(process.resourceUsage().maxRSS),
  }));
}

main().catch((e) => {
  const r = e.response;
  console.error('node peer failed:', e.message, r ? `${r.status} ${JSON.stringify(r.data)}` : '');
  process.exit(1);
});
