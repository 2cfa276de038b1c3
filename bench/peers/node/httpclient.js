'use strict';
// httpclient: many small keep-alive GETs against the nginx of
// bench/httpclient/with-nginx ($CIO_BENCH_URL), from 1 and 64 concurrent
// requests; requests/s and the process's CPU time per request (user +
// system, every thread). Two clients: the http module with a keep-alive
// Agent (impl "node"), and the global fetch (undici, impl "node-fetch").
const http = require('http');
const { scaled } = require('./common');

const url = process.env.CIO_BENCH_URL;
if (!url) {
  console.error('httpclient: no CIO_BENCH_URL (run it under bench/httpclient/with-nginx)');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function getHttp() {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      let n = 0;
      res.on('data', (d) => { n += d.length; });
      res.on('end', () => (res.statusCode === 200 && n === 13 ? resolve()
        : reject(new Error(`status ${res.statusCode}, ${n} bytes`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function getFetch() {
  const res = await fetch(url);
  const body = await res.arrayBuffer();
  if (res.status !== 200 || body.byteLength !== 13) throw new Error(`status ${res.status}`);
}

async function roundOf(get, conc, n) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const workers = [];
  for (let i = 0; i < conc; i++) {
    const k = Math.floor(n / conc) + (i < n % conc ? 1 : 0);
    workers.push((async () => { for (let j = 0; j < k; j++) await get(); })());
  }
  await Promise.all(workers);
  const c = process.cpuUsage(c0);
  return [Number(process.hrtime.bigint() - t0) / 1e9, (c.user + c.system) / 1e6];
}

async function main() {
  const n = scaled(4000), reps = 3;
  for (const [impl, get] of [['node', getHttp], ['node-fetch', getFetch]]) {
    for (const conc of [1, 64]) {
      const total = conc === 1 ? n : 4 * n;
      await roundOf(get, conc, Math.floor(total / 10) + conc);
      let bestRps = 0, bestCpu = 1e9;
      for (let i = 0; i < reps; i++) {
        const [wall, cpu] = await roundOf(get, conc, total);
        bestRps = Math.max(bestRps, total / wall);
        bestCpu = Math.min(bestCpu, cpu / total);
      }
      console.log(JSON.stringify({ bench: 'httpclient', impl, metric: `cpu_us_per_req_c${conc}`,
        value: Math.round(bestCpu * 1e9) / 1000, unit: 'us', n: total, best_of: reps }));
      console.log(JSON.stringify({ bench: 'httpclient', impl, metric: `req_per_s_c${conc}`,
        value: Math.round(bestRps * 1000) / 1000, unit: 'req/s', n: total, best_of: reps,
        better: 'higher' }));
    }
  }
  agent.destroy();
}

main().catch((e) => { console.error('httpclient:', e.message); process.exit(1); });
