'use strict';
// StoreSync against both stores: pool-level events, resync healing a missed message, the
// state-dir snapshot when the store is unreachable at start.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { StoreSync } = require('../dist/store/sync');
const { redisBackend, fileBackend, captureLog, tmpDir, waitFor, sleep, pool } = require('./helpers/store');
const { rawClient } = require('./helpers/redis');

const A = 'a.lb.example.com';
const B = 'b.lb.example.com';

function startSync(t, store, opts = {}) {
  const { log, entries } = captureLog();
  const sync = new StoreSync({ store, log, resyncMs: 60_000, saveDelayMs: 50, ...opts });
  const events = [];
  sync.on('pool', (name, view) => events.push({ name, members: view ? view.members.map((m) => `${m.ip}:${m.admin}`) : null }));
  sync.on('reset', () => events.push({ reset: true }));
  t.after(() => sync.stop());
  return { sync, events, entries };
}

for (const backend of [redisBackend(), fileBackend()]) {
  describe(`StoreSync: ${backend.name}`, () => {
    before(() => backend.before());
    after(() => backend.after());

    test('start reads everything; a change to one pool re-reads and announces only that pool', async (t) => {
      const loc = backend.location(t);
      const writer = loc.open();
      await writer.setPool(pool(A));
      await writer.setPool(pool(B));
      await writer.addMember(A, { ip: '10.0.0.1', weight: 1 });
      const { sync, events } = startSync(t, loc.open());
      await sync.start();
      assert.deepEqual([...sync.current().pools.keys()].sort(), [A, B]);
      assert.deepEqual(events, [], 'no events for the initial read');
      const viewB = sync.current().pools.get(B);
      await writer.setAdmin(A, '10.0.0.1', 'drained');
      await waitFor(() => events.length > 0, 2000, 'pool event');
      await sleep(200);
      assert.deepEqual(events, [{ name: A, members: ['10.0.0.1:drained'] }]);
      assert.equal(sync.current().pools.get(A).members[0].admin, 'drained');
      assert.equal(sync.current().pools.get(B), viewB, 'pool B was not rebuilt');
      events.length = 0;
      await writer.removePool(B);
      await waitFor(() => events.some((e) => e.name === B && e.members === null), 2000, 'removal event');
      assert.equal(sync.current().pools.has(B), false);
    });

    test('the periodic resync heals a missed notification', async (t) => {
      const loc = backend.location(t);
      const writer = loc.open();
      await writer.setPool(pool(A));
      await writer.setPool(pool(B));
      const { sync, events } = startSync(t, loc.open(), { resyncMs: 400 });
      await sync.start();
      await loc.silentAddMember(A, '10.0.0.7');
      await waitFor(() => events.some((e) => e.name === A), 3000, 'resync to find the silent change');
      assert.deepEqual(sync.current().pools.get(A).members.map((m) => m.ip), ['10.0.0.7']);
      assert.ok(!events.some((e) => e.name === B), 'unchanged pools are not announced');
      assert.ok(events.some((e) => e.reset), 'a resync that found differences says so');
    });

    test('snapshot.json in the state dir round-trips Maps and verdicts', async (t) => {
      const loc = backend.location(t);
      const stateDir = tmpDir(t);
      const writer = loc.open();
      await writer.setPool(pool(A, { check: 'http', host: 'h.example.com' }));
      await writer.addMember(A, { ip: '2001:db8::5', weight: 3, port: 8080 });
      await writer.heartbeat('ns1', 60_000, Date.now());
      await writer.recordObservation(A, '2001:db8::5', { instance: 'ns1', state: 'up', sinceMs: 5, lastOk: true, lastLatencyMs: 0.5 });
      const first = startSync(t, loc.open(), { stateDir });
      await first.sync.start();
      const expected = first.sync.current();
      await writer.addMember(A, { ip: '10.0.0.1', weight: 1 });
      await waitFor(() => fs.existsSync(path.join(stateDir, 'snapshot.json')), 3000, 'snapshot.json');
      await waitFor(() => JSON.parse(fs.readFileSync(path.join(stateDir, 'snapshot.json'), 'utf8')).pools[0].members.length === 2, 3000, 'saved change');
      await first.sync.stop();
      const { loadSnapshot } = require('../dist/store/snapshotFile');
      const loaded = loadSnapshot(stateDir, (p) => assert.fail(p)).snapshot;
      assert.deepEqual(loaded.pools.get(A), expected.pools.get(A));
      assert.ok(loaded.instances instanceof Map);
      assert.deepEqual([...loaded.instances.keys()], ['ns1']);
      assert.equal(loaded.pools.get(A).members.find((m) => m.ip === '2001:db8::5').verdict, 'up');
    });
  });
}

describe('StoreSync: periodic resync of a file store', () => {
  test('is skipped while the watch has seen every change, and runs after an edit that left seq alone', async (t) => {
    const backend = fileBackend();
    const loc = backend.location(t);
    const writer = loc.open();
    await writer.setPool(pool(A));
    const store = loc.open();
    let fullReads = 0;
    const snapshot = store.snapshot.bind(store);
    store.snapshot = () => { fullReads++; return snapshot(); };
    const { sync, events } = startSync(t, store, { resyncMs: 150 });
    await sync.start();
    assert.equal(fullReads, 1);
    await writer.addMember(A, { ip: '10.0.0.1', weight: 1 });
    await waitFor(() => events.length > 0, 2000, 'the change, by notification');
    await sleep(800);
    assert.equal(fullReads, 1, 'five resync periods without a full read');
    await loc.silentAddMember(A, '10.0.0.9');
    await waitFor(() => sync.current().pools.get(A).members.some((m) => m.ip === '10.0.0.9'), 3000, 'the silent edit, by a full read');
    assert.ok(fullReads >= 2);
  });
});

describe('StoreSync: periodic resync of a Redis store', () => {
  const backend = redisBackend();
  before(() => backend.before());
  after(() => backend.after());

  /** A sync on a fresh location with pool A, counting full reads. */
  async function counted(t, resyncMs) {
    const loc = backend.location(t);
    const writer = loc.open();
    await writer.setPool(pool(A));
    const store = loc.open();
    const reads = { n: 0 };
    const snapshot = store.snapshot.bind(store);
    store.snapshot = (...args) => { reads.n++; return snapshot(...args); };
    const { sync, events } = startSync(t, store, { resyncMs });
    await sync.start();
    return { loc, writer, sync, events, reads };
  }

  test('is skipped while nothing was written, and runs after a write whose message was lost', async (t) => {
    const { loc, writer, sync, events, reads } = await counted(t, 150);
    assert.equal(reads.n, 1);
    await writer.addMember(A, { ip: '10.0.0.1', weight: 1 });
    await waitFor(() => events.length > 0, 2000, 'the change, by notification');
    // The notified write moved the count: one full read, then none while nothing is written.
    await sleep(500);
    const after = reads.n;
    assert.ok(after <= 2, `${after} full reads`);
    await sleep(800);
    assert.equal(reads.n, after, 'five resync periods without a full read');
    await loc.silentAddMember(A, '10.0.0.9');
    await waitFor(() => sync.current().pools.get(A).members.some((m) => m.ip === '10.0.0.9'), 3000, 'the lost change, by a full read');
  });

  test('a full read keeps the view of a pool unchanged for answers, and rebuilds a changed one', async (t) => {
    const { loc, writer, sync } = await counted(t, 150);
    await writer.addMember(A, { ip: '10.0.0.1', weight: 1 });
    await writer.setPool(pool(B));
    const obs = { instance: 'ns1', state: 'up', sinceMs: 5, lastProbeMs: 1, lastOk: true, lastLatencyMs: 1 };
    await writer.recordObservation(A, '10.0.0.1', obs);
    await waitFor(() => sync.current().pools.get(A)?.members[0]?.observations.length === 1 && sync.current().pools.has(B), 3000, 'both pools');
    await sleep(400); // the resync that the notified writes called for
    const viewA = sync.current().pools.get(A);
    // Last-probe details only, as a probe loop refreshes them (no notification, not counted).
    assert.equal(await writer.refreshObservation(A, '10.0.0.1', { ...obs, lastProbeMs: 2 }), true);
    // A counted change to B: the next resync reads everything.
    await loc.silentAddMember(B, '10.0.0.9');
    await waitFor(() => sync.current().pools.get(B).members.some((m) => m.ip === '10.0.0.9'), 3000, 'the change to B, by a full read');
    assert.equal(sync.current().pools.get(A), viewA, 'A was not rebuilt');
    // A change to A that answers depend on is not hidden by the kept view.
    await loc.silentAddMember(A, '10.0.0.2');
    await waitFor(() => sync.current().pools.get(A).members.some((m) => m.ip === '10.0.0.2'), 3000, 'the change to A, by a full read');
  });

  test('an edit that was not counted (redis-cli, an older build) is read by the full read every tenth resync', async (t) => {
    const { loc, sync, reads } = await counted(t, 100);
    await loc.foreignAddMember(A, '10.0.0.8');
    await sleep(500);
    assert.equal(reads.n, 1, 'not within five periods');
    await waitFor(() => sync.current().pools.get(A).members.some((m) => m.ip === '10.0.0.8'), 3000, 'the forced full read');
    assert.equal(reads.n, 2);
  });
});

describe('StoreSync: store unreachable at start', () => {
  test('file store: serves the saved snapshot, then the store once it is readable again', async (t) => {
    const backend = fileBackend();
    const loc = backend.location(t);
    const stateDir = tmpDir(t);
    const writer = loc.open();
    await writer.setPool(pool(A));
    await writer.addMember(A, { ip: '10.0.0.1', weight: 1 });
    const first = startSync(t, loc.open(), { stateDir });
    await first.sync.start();
    await writer.setAdmin(A, '10.0.0.1', 'drained');
    const saved = path.join(stateDir, 'snapshot.json');
    await waitFor(() => fs.existsSync(saved) && /drained/.test(fs.readFileSync(saved, 'utf8')), 3000, 'saved snapshot');
    await first.sync.stop();

    const restore = loc.breakFile();
    const second = startSync(t, loc.open(), { stateDir });
    await second.sync.start();
    assert.equal(second.sync.current().pools.get(A).members[0].admin, 'drained', 'serves the saved snapshot');
    assert.ok(second.entries.some((e) => /saved snapshot/.test(e.msg)), 'logs that it serves the saved snapshot');
    restore();
    await writer.addMember(A, { ip: '10.0.0.2', weight: 1 });
    await waitFor(() => second.sync.current().pools.get(A).members.length === 2, 5000, 'recovery from the store');
  });

  test('redis: serves the saved snapshot while Redis is down, the store after it is back', async (t) => {
    const backend = redisBackend({ private: true });
    await backend.before();
    t.after(() => backend.after());
    const loc = backend.location(t);
    const stateDir = tmpDir(t);
    const writer = loc.open();
    await writer.setPool(pool(A));
    await writer.addMember(A, { ip: '10.0.0.1', weight: 1 });
    const first = startSync(t, loc.open(), { stateDir });
    await first.sync.start();
    await waitFor(() => fs.existsSync(path.join(stateDir, 'snapshot.json')), 3000, 'saved snapshot');
    await first.sync.stop();
    // Persist, then take Redis away.
    const raw = await rawClient(backend.server.url);
    await raw.save();
    raw.disconnect();
    await backend.server.kill();

    const store = loc.open({ connectWaitMs: 300 });
    const second = startSync(t, store, { stateDir });
    const started = Date.now();
    await second.sync.start();
    assert.ok(Date.now() - started < 3000, `start took ${Date.now() - started} ms`);
    assert.deepEqual(second.sync.current().pools.get(A).members.map((m) => m.ip), ['10.0.0.1']);
    await backend.server.start();
    await writer.addMember(A, { ip: '10.0.0.2', weight: 1 }).catch(async () => {
      // The writer's connection may still be in backoff; retry once it reconnects.
      await sleep(3500);
      await writer.addMember(A, { ip: '10.0.0.2', weight: 1 });
    });
    await waitFor(() => second.sync.current().pools.get(A).members.length === 2, 8000, 'resync after Redis is back');
    assert.equal(second.sync.storeStatus, 'ready');
  });
});

describe('state dir snapshot file', () => {
  const { serializeSnapshot, parseSnapshot } = require('../dist/store/snapshotFile');
  const member = (ip, verdict) => ({ ip, weight: 1, admin: 'enabled', addedAtMs: 1, verdict, verdictSinceMs: 2, observations: [] });
  const view = (name, ips, verdict = 'up') => ({ config: pool(name), members: ips.map((ip) => member(ip, verdict)) });

  test('is the JSON of the whole snapshot, written in slices, with each save as the pools are then', async () => {
    const pools = new Map();
    for (let i = 0; i < 450; i++) pools.set(`p${i}.lb.example.com`, view(`p${i}.lb.example.com`, [`10.0.${i >> 8}.${i & 255}`]));
    const snap = { pools, zones: ['lb.example.com'], instances: new Map([['ns1', 5]]) };
    const reference = (savedAtMs) => JSON.stringify({
      format: 'tierdns-snapshot', version: 1, savedAtMs, pools: [...snap.pools.values()], zones: snap.zones, instances: Object.fromEntries(snap.instances),
    });
    const text = (savedAtMs) => serializeSnapshot(snap, savedAtMs);
    assert.equal(await text(7), reference(7));
    // A replaced view (a change) and a removed pool show in the next save.
    pools.set('p3.lb.example.com', view('p3.lb.example.com', ['10.9.9.9', '10.9.9.10'], 'down'));
    pools.delete('p4.lb.example.com');
    assert.equal(await text(8), reference(8));
    const back = parseSnapshot(await text(9), (p) => assert.fail(p));
    assert.equal(back.pools.size, 449);
    assert.deepEqual(back.pools.get('p3.lb.example.com').members.map((m) => [m.ip, m.verdict]), [['10.9.9.9', 'down'], ['10.9.9.10', 'down']]);
    // An empty snapshot is valid JSON too.
    assert.deepEqual(JSON.parse(await serializeSnapshot({ pools: new Map(), zones: [], instances: new Map() }, 1)).pools, []);
  });
});
