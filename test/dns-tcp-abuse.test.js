'use strict';
// Hostile TCP clients against the real server (docs/tcp.md): attackers connect from 127.0.0.2
// and up, a legitimate client from 127.0.0.1 queries during each attack and must be answered.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { tempDir, startServe, runCli } = require('./helpers/serve');
const { freePort } = require('./helpers/redis');
const { ask } = require('./helpers/dns');
const { holdConnections, legitRate } = require('./helpers/tcpAttack');
const ZONE = require('./fixtures/example.zone');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function setup(t) {
  const dir = tempDir(t);
  const zones = path.join(dir, 'zones');
  fs.mkdirSync(zones);
  fs.writeFileSync(path.join(zones, 'example.com.zone'), ZONE);
  return { dir, zones, store: `file:${path.join(dir, 'store.json')}` };
}

function scrape(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** Poll `check` every 100 ms until it returns truthy or `ms` pass; returns its last value. */
async function eventually(check, ms = 3000) {
  const until = Date.now() + ms;
  let v;
  while (!(v = await check()) && Date.now() < until) await sleep(100);
  return v;
}

test('idle connections to the metrics listener never take the descriptors DNS and the store need', async (t) => {
  const { zones, store } = setup(t);
  const mport = await freePort();
  // 256 descriptors: without a cap on the metrics listener, 300 idle clients exhaust them.
  const s = await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`], { prefix: ['prlimit', '--nofile=256:256', '--'] });
  const flood = holdConnections(mport, ['127.0.0.2'], 300, () => undefined);
  t.after(() => flood.stop());
  await flood.ready;
  await sleep(200);
  assert.ok(flood.open() <= 64, `${flood.open()} metrics connections held open`);
  const legit = await legitRate(s.port, { tries: 5, gapMs: 20 });
  assert.equal(legit.ok, legit.tries, 'TCP DNS answered during the flood');
  // A change made with the CLI reaches the server, which reads the file store to see it.
  assert.equal((await runCli(['pool', 'set', 'ws.example.com', '--check', 'none', '--zones', zones, '--store', store])).code, 0);
  assert.equal((await runCli(['member', 'add', 'ws.example.com', '192.0.2.7', '--zones', zones, '--store', store])).code, 0);
  const served = await eventually(async () => (await ask(s.port, 'ws.example.com', 'A'))?.answers.length === 1);
  assert.ok(served, 'the store change was not served during the flood');
  flood.stop();
  assert.equal((await eventually(async () => (await scrape(mport)).status === 200)), true, 'metrics answer again once the flood stops');
  assert.ok(!s.logs.some((l) => l.code === 'EMFILE'), 'no accept failed for lack of descriptors');
});
