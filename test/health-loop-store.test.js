'use strict';
// HealthLoop against the real stores (Redis and the file store), real WebSocket balancers on
// 127.0.0.x and real time: a killed balancer's verdict goes down within §5's bound and comes
// back within it when restarted; one instance that cannot reach a balancer is outvoted.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const pino = require('pino');
const { HealthLoop } = require('../dist/health/loop');
const { openStore } = require('../dist/store/open');
const { StoreSync } = require('../dist/server/sync');
const { defaultPoolConfig } = require('../dist/model/poolConfig');
const { startRedis, uniquePrefix } = require('./helpers/redis');
const { demoBalancer, closedPort } = require('./helpers/balancers');

const POOL = 'ws.lb.example.com';
const silent = pino({ level: 'silent' });
// Fast settings so the test takes seconds; the bound scales with them (PRODUCT.md §5).
const FAST = { check: 'ws', intervalMs: 400, fastIntervalMs: 100, timeoutMs: 200, rise: 2, fall: 3 };
const LEAVE_BOUND_MS = FAST.intervalMs + (FAST.fall - 1) * FAST.fastIntervalMs + 1000;
const RETURN_BOUND_MS = FAST.intervalMs + (FAST.rise - 1) * FAST.fastIntervalMs + 1000;

let redis;
test.before(async () => { redis = await startRedis(); });
test.after(async () => { if (redis) await redis.stop(); });

const backends = {
  redis: () => `${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`,
  file: (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-health-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    return `file:${path.join(dir, 'store.json')}`;
  },
};

function open(t, url) {
  const store = openStore(url, { log: silent, pollMs: 100 });
  t.after(() => store.close());
  return store;
}

/** A loop fed by StoreSync, the way `serve` wires it. */
async function startInstance(t, url, instance, extra = {}) {
  const store = open(t, url);
  const loop = new HealthLoop({ store, instance, log: silent, ...extra });
  const sync = new StoreSync({ store, log: silent, resyncMs: 5000 });
  sync.on('pool', (name, view) => loop.updatePool(name, view));
  await sync.start();
  for (const [name, view] of sync.current().pools) loop.updatePool(name, view);
  loop.start();
  t.after(async () => {
    await loop.stop();
    await sync.stop();
  });
  return loop;
}

async function member(store, ip) {
  return (await store.readPool(POOL))?.members.find((m) => m.ip === ip);
}

/** Poll until the member's verdict is `want`; resolves with the time it took. */
async function timeUntil(store, ip, want, limitMs) {
  const start = Date.now();
  for (;;) {
    if ((await member(store, ip))?.verdict === want) return Date.now() - start;
    if (Date.now() - start > limitMs) throw new Error(`${ip} not ${want} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const [name, makeUrl] of Object.entries(backends)) {
  test(`${name}: a killed balancer leaves within the bound and returns within it`, async (t) => {
    const url = makeUrl(t);
    const ip = '127.0.0.21';
    const port = await closedPort(ip);
    const admin = open(t, url);
    await admin.setPool({ ...defaultPoolConfig(POOL), ...FAST, port });
    await admin.updateMember(POOL, ip, { create: true });
    let balancer = await demoBalancer(t, { host: ip, port });
    await startInstance(t, url, 'a');
    await startInstance(t, url, 'b');
    await timeUntil(admin, ip, 'up', 3000);
    await balancer.kill();
    const leave = await timeUntil(admin, ip, 'down', LEAVE_BOUND_MS + 2000);
    balancer = await demoBalancer(t, { host: ip, port });
    const back = await timeUntil(admin, ip, 'up', RETURN_BOUND_MS + 2000);
    t.diagnostic(`leave ${leave} ms (bound ${LEAVE_BOUND_MS}), return ${back} ms (bound ${RETURN_BOUND_MS})`);
    assert.ok(leave <= LEAVE_BOUND_MS, `left after ${leave} ms`);
    assert.ok(back <= RETURN_BOUND_MS, `returned after ${back} ms`);
    const m = await member(admin, ip);
    assert.deepEqual(m.observations.map((o) => [o.instance, o.state]).sort(), [['a', 'up'], ['b', 'up']]);
    assert.equal(m.observations[0].lastOk, true);
  });
}

test('redis: an instance that cannot reach a balancer is outvoted (ties keep, 2 of 3 decide)', async (t) => {
  const url = backends.redis(t);
  const ip = '127.0.0.22';
  const port = await closedPort(ip);
  const admin = open(t, url);
  await admin.setPool({ ...defaultPoolConfig(POOL), ...FAST, port });
  await admin.updateMember(POOL, ip, { create: true });
  // The balancer drops connections from 127.0.0.3, where instance c probes from.
  let balancer = await demoBalancer(t, { host: ip, port, refuseFrom: ['127.0.0.3'] });
  await startInstance(t, url, 'a');
  await timeUntil(admin, ip, 'up', 3000);
  const c = await startInstance(t, url, 'c', { sourceAddress: '127.0.0.3' });
  const obsOf = async (inst) => (await member(admin, ip)).observations.find((o) => o.instance === inst)?.state;
  const deadline = Date.now() + 3000;
  while ((await obsOf('c')) !== 'down' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(c.localState(POOL, ip), 'down');
  // One up, one down: a tie keeps the previous verdict.
  assert.equal((await member(admin, ip)).verdict, 'up');
  await startInstance(t, url, 'b');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await member(admin, ip)).verdict, 'up');
  assert.deepEqual([await obsOf('a'), await obsOf('b'), await obsOf('c')], ['up', 'up', 'down']);
  await balancer.kill();
  await timeUntil(admin, ip, 'down', LEAVE_BOUND_MS);
  balancer = await demoBalancer(t, { host: ip, port, refuseFrom: ['127.0.0.3'] });
  await timeUntil(admin, ip, 'up', RETURN_BOUND_MS);
});
