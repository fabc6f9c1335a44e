'use strict';
// Runs inside a test's client namespace (see ./netns.js), where the test itself cannot reach:
// asks a serve instance for the pool's A records and reads its metrics every EVERY ms, printing
// one JSON line per sample: {"at":ms,"answers":[…],"storeUp":0|1|null,"own":0|1|null}.
//   node netns-poller.js DNS_PORT METRICS_PORT NAME [EVERY_MS]
// Ends by itself after 10 minutes, or when its parent goes away (stdout closes).

const http = require('node:http');
const { Resolver } = require('node:dns').promises;

const [dnsPort, metricsPort, name, everyText = '50'] = process.argv.slice(2);
const everyMs = Number(everyText);
const resolver = new Resolver({ timeout: 300, tries: 1 });
resolver.setServers([`127.0.0.1:${dnsPort}`]);

function metrics() {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: Number(metricsPort), path: '/metrics', timeout: 300 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('error', () => resolve(''));
    req.on('timeout', () => req.destroy());
  });
}

function gauge(text, metric) {
  const m = new RegExp(`^${metric} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

async function main() {
  const deadline = Date.now() + 600_000;
  process.stdout.on('error', () => process.exit(0));
  while (Date.now() < deadline) {
    const at = Date.now();
    const [answers, text] = await Promise.all([resolver.resolve4(name).then((a) => a.sort(), () => []), metrics()]);
    process.stdout.write(`${JSON.stringify({ at, answers, storeUp: gauge(text, 'tierdns_store_up'), own: gauge(text, 'tierdns_own_verdicts') })}\n`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

main();
