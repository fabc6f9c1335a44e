'use strict';
// The probe loop reading load feeds (docs/steering.md) against the real file store and real
// agents and JSON endpoints on 127.0.0.x, in real time: factors reach the store and are merged,
// the agent's down fails probes, and feeds that hang, flood or lie cost one clear log line each
// while probing of every member goes on.

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
const { tcpBalancer, closedPort } = require('./helpers/balancers');
const { agentFeed, jsonFeed, badFeed } = require('./helpers/loadFeeds');
const { waitFor } = require('./helpers/store');

const POOL = 'ws.lb.example.com';
const FAST = { intervalMs: 300, fastIntervalMs: 100, timeoutMs: 200, rise: 1, fall: 2 };

function tempStore(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-load-loop-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = openStore(`file:${path.join(dir, 'store.json')}`, { pollMs: 50 });
  t.after(() => store.close());
  return store;
}

/** A loop fed by StoreSync, as `serve` wires it; `lines` collects its log entries. */
async function startLoop(t, store, instance = 'a') {
  const lines = [];
  const log = pino({ level: 'info' }, { write: (l) => lines.push(JSON.parse(l)) });
  const loop = new HealthLoop({ store, instance, log, heartbeatMs: 200 });
  const sync = new StoreSync({ store, log: pino({ level: 'silent' }), resyncMs: 5000 });
  sync.on('pool', (name, view) => loop.updatePool(name, view));
  await sync.start();
  for (const [name, view] of sync.current().pools) loop.updatePool(name, view);
  loop.start();
  t.after(async () => {
    await loop.stop();
    await sync.stop();
  });
  return { loop, lines };
}

async function members(store) {
  return Object.fromEntries((await store.readPool(POOL)).members.map((m) => [m.ip, m]));
}

/** TCP listeners (the health check) on every host, on one port. */
async function listeners(t, hosts) {
  const port = await closedPort(hosts[0]);
  for (const host of hosts) {
    const b = await tcpBalancer(t, host);
    // tcpBalancer picks a port of its own; move it to the shared one.
    await b.close();
    await new Promise((resolve, reject) => {
      b.server.once('error', reject);
      b.server.listen(port, host, resolve);
    });
    t.after(() => new Promise((r) => b.server.close(() => r())));
  }
  return port;
}

test('agent percentages reach the store as the shared load; down fails probes, up restores', async (t) => {
  const hosts = ['127.0.0.21', '127.0.0.22', '127.0.0.23'];
  const port = await listeners(t, hosts);
  const agentPort = await closedPort(hosts[0]);
  const agents = [];
  for (const [i, host] of hosts.entries()) agents.push(await agentFeed(t, { host, port: agentPort, reply: `${[25, 50, 100][i]}%\n` }));
  const store = tempStore(t);
  await store.setPool({ ...defaultPoolConfig(POOL), ...FAST, port, load: 'agent', loadPort: agentPort });
  for (const ip of hosts) await store.updateMember(POOL, ip, { weight: 1, create: true });
  await startLoop(t, store);
  await waitFor(async () => {
    const m = await members(store);
    return hosts.every((ip) => m[ip].verdict === 'up' && m[ip].load) && m[hosts[0]].load.factor === 0.25 && m[hosts[1]].load.factor === 0.5;
  }, 8000, 'factors 0.25 / 0.5 / 1');
  assert.deepEqual((await members(store))[hosts[2]].load, { factor: 1, state: 'ready' });
  agents[1].reply = 'down#maintenance script\n';
  await waitFor(async () => (await members(store))[hosts[1]].verdict === 'down', 8000, 'down from the agent');
  const m = await members(store);
  assert.equal(m[hosts[1]].load.state, 'down');
  assert.equal(m[hosts[1]].observations[0].lastError, 'agent says down');
  agents[1].reply = 'up\n';
  await waitFor(async () => (await members(store))[hosts[1]].verdict === 'up', 8000, 'up again');
  agents[0].reply = 'maint\n';
  await waitFor(async () => (await members(store))[hosts[0]].load.state === 'maint', 8000, 'maint shown as maint');
  assert.equal((await members(store))[hosts[0]].verdict, 'up', 'maint does not fail probes');
});

test('feeds that hang, flood, lie or vanish: one clear log line each, probing and the good feed go on', async (t) => {
  const hosts = ['127.0.0.31', '127.0.0.32', '127.0.0.33', '127.0.0.34', '127.0.0.35'];
  const port = await listeners(t, hosts);
  const feedPort = await closedPort(hosts[0]);
  await badFeed(t, 'hang', { host: hosts[0], port: feedPort });
  await badFeed(t, 'flood', { host: hosts[1], port: feedPort, http: true });
  const liar = await jsonFeed(t, { host: hosts[2], port: feedPort, body: { connections: -5, capacity: 100 } });
  const good = await jsonFeed(t, { host: hosts[3], port: feedPort, body: { connections: 10, capacity: 100 } });
  // hosts[4]: nothing listens on the feed port at all.
  const store = tempStore(t);
  await store.setPool({ ...defaultPoolConfig(POOL), ...FAST, port, load: 'json', loadPort: feedPort });
  for (const ip of hosts) await store.updateMember(POOL, ip, { weight: 1, create: true });
  const { loop, lines } = await startLoop(t, store);
  await waitFor(async () => (await members(store))[hosts[3]].load?.factor === 0.9, 8000, 'the good feed read');
  const probesBefore = loop.stats().ok;
  good.body = { connections: 60, capacity: 100 };
  await waitFor(async () => {
    const f = (await members(store))[hosts[3]].load.factor;
    return f >= 0.4 && f < 0.6;
  }, 10_000, 'the good feed followed (smoothed) towards 0.4');
  // Every member kept being probed and stayed up: feeds do not decide health.
  assert.ok(loop.stats().ok - probesBefore >= 5 * 3, `probes meanwhile: ${loop.stats().ok - probesBefore}`);
  const m = await members(store);
  for (const ip of hosts) assert.equal(m[ip].verdict, 'up', ip);
  const warned = (ip) => lines.filter((l) => l.level === 40 && l.member === ip && /load feed/.test(l.msg));
  assert.match(warned(hosts[0])[0]?.msg ?? '', /failed: timeout after 200ms \(factor 1 until it reads\)/);
  // 1 MB may take longer than the 200 ms timeout on a busy machine: either ends the read.
  assert.match(warned(hosts[1])[0]?.msg ?? '', /failed: (response larger than 1024 KB|timeout after 200ms)/);
  assert.match(warned(hosts[2])[0]?.msg ?? '', /failed: connections is negative \(-5\)/);
  assert.match(warned(hosts[4])[0]?.msg ?? '', /failed: (connect )?ECONNREFUSED.*factor 1 until it reads/);
  for (const ip of [hosts[0], hosts[1], hosts[2], hosts[4]]) {
    assert.equal(warned(ip).length, 1, `${ip}: one line per failure streak, not one per read`);
    assert.equal(m[ip].load.factor, 1, `${ip}: never read, so factor 1`);
    assert.match(m[ip].observations[0].load.error, /./, `${ip}: the reason is in the store for status`);
  }
  assert.equal(warned(hosts[3]).length, 0);
  // The liar mends its ways: one line says so.
  liar.body = { connections: 50, capacity: 100 };
  await waitFor(() => lines.some((l) => l.member === hosts[2] && /reads again/.test(l.msg)), 8000, 'reads again');
});
