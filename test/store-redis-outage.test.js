'use strict';
// Redis going away under a serving instance (PRODUCT.md §6): the snapshot stays, commands
// fail fast, the connection comes back by itself and a resync catches what was missed.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { StoreSync } = require('../dist/server/sync');
const { openStore } = require('../dist/store/open');
const { startPrivateRedis, uniquePrefix, rawClient } = require('./helpers/redis');
const { captureLog, waitFor, sleep, pool } = require('./helpers/store');
const { failIfStillAlive } = require('./helpers/exitWatch');

failIfStillAlive();

const A = 'a.lb.example.com';

test('Redis outage: keep serving, fail fast, reconnect, resync what was missed', async (t) => {
  const server = await startPrivateRedis();
  t.after(() => server.stop());
  const url = `${server.url}?prefix=${uniquePrefix()}`;
  const open = (opts) => {
    const s = openStore(url, opts);
    t.after(() => s.close());
    return s;
  };
  const writer = open();
  await writer.setPool(pool(A));
  await writer.updateMember(A, '10.0.0.1', { create: true });

  const { log } = captureLog();
  const store = open({ connectWaitMs: 500, log });
  const sync = new StoreSync({ store, log, resyncMs: 300 });
  t.after(() => sync.stop());
  const statuses = [];
  const events = [];
  sync.on('status', (s) => statuses.push(s));
  sync.on('pool', (name, view) => events.push([name, view ? view.members.length : null]));
  await sync.start();
  const before = sync.current().pools.get(A);
  assert.equal(before.members.length, 1);

  // Persist (the test server runs without automatic saves), then kill Redis.
  const raw = await rawClient(server.url);
  await raw.save();
  raw.disconnect();
  await server.kill();
  await waitFor(() => statuses.includes('down'), 3000, "status 'down'");

  // Commands fail fast with a typed error; the snapshot is untouched through failed resyncs.
  const t0 = Date.now();
  await assert.rejects(store.readPool(A), (err) => err.code === 'TIERDNS_E_STORE_UNREACHABLE');
  assert.ok(Date.now() - t0 < 1500, `readPool took ${Date.now() - t0} ms to fail`);
  await sleep(1000);
  assert.equal(sync.current().pools.get(A), before);
  assert.deepEqual(events, []);

  // Back, and a change lands before the instance has reconnected: its message is lost.
  await server.start();
  const late = openStore(url);
  t.after(() => late.close());
  await late.updateMember(A, '10.0.0.2', { create: true });
  await waitFor(() => sync.current().pools.get(A)?.members.length === 2, 10_000, 'resync after reconnect');
  assert.equal(statuses.at(-1), 'ready');
  assert.deepEqual(events.at(-1), [A, 2]);

  // And notifications flow again on the resubscribed channel.
  await late.updateMember(A, '10.0.0.2', { admin: 'drained' });
  await waitFor(() => sync.current().pools.get(A).members[1].admin === 'drained', 3000, 'notification after reconnect');
});

test('an unreachable Redis fails a command within the wait, and a black-holed one too', async (t) => {
  const net = require('node:net');
  // Accepts connections and never answers: the worst case for a CLI.
  const sockets = new Set();
  const hole = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => hole.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of sockets) s.destroy(); hole.close(); });
  const { freePort } = require('./helpers/redis');
  for (const url of [`redis://127.0.0.1:${await freePort()}/0`, `redis://127.0.0.1:${hole.address().port}/0`]) {
    const store = openStore(url, { connectWaitMs: 800 });
    const t0 = Date.now();
    await assert.rejects(store.snapshot(), (err) => err.code === 'TIERDNS_E_STORE_UNREACHABLE' && !/\n/.test(err.message));
    assert.ok(Date.now() - t0 < 2000, `${url}: took ${Date.now() - t0} ms`);
    await store.close();
  }
});

test('the logged cause of an outage is that outage\'s: a reconnect forgets the previous error', async (t) => {
  const server = await startPrivateRedis();
  t.after(() => server.stop());
  const { log, entries } = captureLog();
  const store = openStore(`${server.url}?prefix=${uniquePrefix()}`, { connectWaitMs: 500, log });
  t.after(() => store.close());
  const statuses = [];
  store.onStatus((s, detail) => statuses.push([s, detail]));
  await store.readZones();
  const warnings = () => entries.filter((e) => e.level === 40 && /redis unreachable/.test(e.msg));
  // First outage: the server is gone, reconnects are refused.
  await server.kill();
  await waitFor(() => warnings().length === 1, 3000, 'first outage warning');
  await waitFor(() => entries.some((e) => /ECONNREFUSED/.test(e.err ?? '')), 3000, 'a refused reconnect');
  await server.start();
  await waitFor(() => statuses.at(-1)?.[0] === 'ready', 10_000, 'reconnect');
  // Second outage: the server closes the connection without any error on our side.
  const raw = await rawClient(server.url);
  t.after(() => raw.disconnect());
  await raw.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  await waitFor(() => warnings().length === 2, 3000, 'second outage warning');
  assert.match(warnings()[0].err, /ECONNREFUSED|closed/);
  assert.doesNotMatch(warnings()[1].err, /ECONNREFUSED/, JSON.stringify(warnings()[1]));
  await waitFor(() => statuses.at(-1)?.[0] === 'ready', 10_000, 'second reconnect');
  assert.deepEqual(await store.readZones(), []);
});

test('many commands waiting for one connection share its wait: no listener piles up on the client', async (t) => {
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  const warnings = [];
  const onWarning = (w) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const store = openStore(redis.url, { connectWaitMs: 3000, prefix: uniquePrefix() });
  t.after(() => store.close());
  // Issued at once, before the connection is ready (a big apply, a resync of many pools).
  const reads = await Promise.all(Array.from({ length: 50 }, (_, i) => store.readPool(`p${i}.example.com`).then(() => 'ok', (err) => err.code)));
  assert.equal(reads.filter((r) => r === 'ok').length, 50, JSON.stringify(reads));
  await sleep(50);
  assert.deepEqual(warnings, []);
});
