'use strict';
// tierdns_live_instances follows instances that start and stop within seconds, not at the next
// 30 s resync: two real `tierdns serve` processes on one store (Redis, then the file store).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { httpGet } = require('./helpers/http');
const { tempDir, startServe } = require('./helpers/serve');
const { startPrivateRedis, freePort } = require('./helpers/redis');

const ZONE = `$ORIGIN t.example.
$TTL 60
@ SOA ns1 h 1 2 3 4 30
@ NS ns1
ns1 A 127.0.0.1
`;

async function liveInstances(mport) {
  const m = /^tierdns_live_instances (\d+)$/m.exec(await httpGet(mport, '/metrics'));
  return m ? Number(m[1]) : undefined;
}

/** Poll until the metric reads `want`, at most `ms`; returns how long it took. */
async function waitLive(mport, want, ms) {
  const start = Date.now();
  let seen;
  while (Date.now() - start < ms) {
    seen = await liveInstances(mport);
    if (seen === want) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`tierdns_live_instances stayed ${seen} for ${ms} ms, expected ${want}`);
}

async function twoInstances(t, store) {
  const dir = tempDir(t);
  const zones = path.join(dir, 'zones');
  fs.mkdirSync(zones);
  fs.writeFileSync(path.join(zones, 't.example.zone'), ZONE);
  const mport = await freePort();
  const common = ['--zones', zones, '--store', store];
  await startServe(t, [...common, '--instance', 'a', '--metrics', `127.0.0.1:${mport}`, '--state-dir', path.join(dir, 'a')]);
  assert.equal(await liveInstances(mport), 1);
  const b = await startServe(t, [...common, '--instance', 'b', '--state-dir', path.join(dir, 'b')]);
  // Well below the periodic resync (30 s), which used to be the only read of the instances.
  await waitLive(mport, 2, 10_000);
  await b.stop('SIGKILL');
  // Its heartbeat goes stale after 5 s.
  await waitLive(mport, 1, 15_000);
}

test('live instances follow a peer that starts and dies (Redis)', async (t) => {
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  await twoInstances(t, redis.url);
});

test('live instances follow a peer that starts and dies (file store)', async (t) => {
  await twoInstances(t, `file:${path.join(tempDir(t), 'store.json')}`);
});
