'use strict';
// Two instances split 1-1 (docs/health.md "Split votes"): one of them cut off from a balancer
// (it probes from 127.0.0.3, which the balancer refuses), the other reaching it. The tie keeps
// the verdict the member had, and `tierdns status` shows the split: the votes in --json, a
// marker in the member table.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startRedis, uniquePrefix } = require('./helpers/redis');
const { demoBalancer, closedPort } = require('./helpers/balancers');
const { runCli } = require('./helpers/cli');
const { POOL, serveInstance, setupPool, untilVerdict } = require('./helpers/cluster');

const ZONES = path.join(__dirname, '..', 'zones');

test('a 1-1 split keeps the verdict and status shows it', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const url = `${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`;
  const ip = '127.0.0.81';
  const port = await closedPort(ip);
  await demoBalancer(t, { host: ip, port, refuseFrom: ['127.0.0.3'] });
  const admin = await setupPool(t, url, [ip], port);
  await serveInstance(t, url, 'ns1');
  await untilVerdict(admin, [ip], 'up');
  await serveInstance(t, url, 'ns2', { env: { TIERDNS_PROBE_SOURCE: '127.0.0.3' } });
  const deadline = Date.now() + 10_000;
  let member;
  for (;;) {
    const r = await runCli(['status', POOL, '--json', '--store', url, '--zones', ZONES]);
    assert.equal(r.code, 0, r.stderr);
    member = JSON.parse(r.stdout).pools[0].members[0];
    if (member.split || Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(member.split, true, JSON.stringify(member));
  assert.deepEqual(member.votes, { up: 1, down: 1 });
  assert.equal(member.verdict, 'up', 'a tie keeps the previous verdict');
  const table = await runCli(['status', POOL, '--store', url, '--zones', ZONES]);
  assert.match(table.stdout, /1 split vote/);
  assert.match(table.stdout, /up \S+ split 1-1/);
});
