#!/usr/bin/env node
'use strict';
// Fill a tierdns store with the benchmark pools from gen.js's pools.json.
//   ws.lb.example.com   check $WS_CHECK (default tcp, port 8080: the fake balancers)
//   ws0.. wsN-1         check none (always up: nothing is probed)
// Fast path: one process calls the store directly (dist/store/open.js); the file store
// batches the queued writes into a few rewrites. Fallback (MKPOOLS_CLI=1, or no
// dist/store/open.js): the CLI, one process per call (slow: ~N*5 processes).
//
// usage: mkpools.js STORE_URL POOLS_JSON [ZONES_DIR]
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const [url, poolsFile, zonesDir] = process.argv.slice(2);
if (!url || !poolsFile) { console.error('usage: mkpools.js STORE_URL POOLS_JSON [ZONES_DIR]'); process.exit(2); }
const ROOT = process.env.TIERDNS_DIR || path.resolve(__dirname, '../../..');
const pools = JSON.parse(fs.readFileSync(poolsFile, 'utf8'));
const WS_CHECK = process.env.WS_CHECK || 'tcp';
const check = (p) => (p.ws ? WS_CHECK : 'none');

async function direct() {
  const { openStore } = require(path.join(ROOT, 'dist/store/open.js'));
  let defaults;
  try { defaults = require(path.join(ROOT, 'dist/model/poolConfig.js')).defaultPoolConfig; } catch { /* older layout */ }
  const config = (p) => {
    const c = defaults ? defaults(p.name) : {
      name: p.name, ttlSeconds: 20, check: 'tcp', port: 80, path: '/', expectMin: 200, expectMax: 399,
      intervalMs: 2000, fastIntervalMs: 500, timeoutMs: 1000, rise: 2, fall: 3, maxAnswers: 0, whenAllDown: 'all',
    };
    return { ...c, ttlSeconds: 20, check: check(p), port: 8080 };
  };
  const store = openStore(url);
  try {
    // Queued together, the file store applies them in one lock + rewrite per flush.
    await Promise.all(pools.map((p) => store.setPool(config(p))));
    await Promise.all(pools.flatMap((p) => p.members.map((ip) => store.updateMember(p.name, ip, { create: true }))));
  } finally {
    await store.close();
  }
}

function viaCli() {
  const cli = (...a) => execFileSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), ...a, '--store', url,
    ...(zonesDir && process.env.MKPOOLS_ZONES_FLAG !== '0' ? ['--zones', zonesDir] : [])], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (const p of pools) {
    cli('pool', 'set', p.name, '--check', check(p), '--port', '8080', '--ttl', '20s');
    for (const ip of p.members) cli('member', 'add', p.name, ip);
  }
}

(async () => {
  const t0 = Date.now();
  let how = 'store API';
  if (process.env.MKPOOLS_CLI === '1' || !fs.existsSync(path.join(ROOT, 'dist/store/open.js'))) {
    how = 'CLI';
    viaCli();
  } else {
    await direct();
  }
  const members = pools.reduce((n, p) => n + p.members.length, 0);
  console.log(`mkpools: ${pools.length} pools, ${members} members via ${how} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
})().catch((err) => { console.error(`mkpools: ${err && err.stack ? err.stack : err}`); process.exit(1); });
