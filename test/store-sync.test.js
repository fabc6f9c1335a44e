'use strict';
// StoreSync against both stores: pool-level events, resync healing a missed message, the
// state-dir snapshot when the store is unreachable at start.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { StoreSync } = require('../dist/server/sync');
const { redisBackend, fileBackend, captureLog, tmpDir, waitFor, sleep, pool } = require('./helpers/store');
const { rawClient } = require('./helpers/redis');
const { ChangeCounts } = require('../dist/store/redisWatch');
const { parseChangeMessage } = require('../dist/store/redisLayout');

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
      await writer.updateMember(A, '10.0.0.1', { create: true });
      const { sync, events } = startSync(t, loc.open());
      await sync.start();
      assert.deepEqual([...sync.current().pools.keys()].sort(), [A, B]);
      assert.deepEqual(events, [], 'no events for the initial read');
      const viewB = sync.current().pools.get(B);
      await writer.updateMember(A, '10.0.0.1', { admin: 'drained' });
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

    test('the serving instance counts itself at once; another one shows at the next periodic check', async (t) => {
      const loc = backend.location(t);
      const writer = loc.open();
      await writer.setPool(pool(A));
      const { sync } = startSync(t, loc.open(), { instance: 'self', resyncMs: 150 });
      await sync.start();
      assert.deepEqual([...sync.current().instances.keys()], ['self']);
      await writer.heartbeat('ns9', 10_000, Date.now());
      await waitFor(() => sync.current().instances.has('ns9'), 3000, 'the other instance');
      assert.ok(sync.current().instances.has('self'));
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
      await writer.updateMember(A, '2001:db8::5', { weight: 3, port: 8080, create: true });
      await writer.heartbeat('ns1', 60_000, Date.now());
      await writer.recordObservation(A, '2001:db8::5', { instance: 'ns1', state: 'up', sinceMs: 5, lastOk: true, lastLatencyMs: 0.5 });
      const first = startSync(t, loc.open(), { stateDir });
      await first.sync.start();
      const expected = first.sync.current();
      await writer.updateMember(A, '10.0.0.1', { create: true });
      await waitFor(() => fs.existsSync(path.join(stateDir, 'snapshot.json')), 3000, 'snapshot.json');
      await waitFor(() => JSON.parse(fs.readFileSync(path.join(stateDir, 'snapshot.json'), 'utf8')).pools[0].members.length === 2, 3000, 'saved change');
      await first.sync.stop();
      const { loadSnapshot } = require('../dist/server/snapshotFile');
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
    await writer.updateMember(A, '10.0.0.1', { create: true });
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
  async function counted(t, resyncMs, opts = {}) {
    const loc = backend.location(t);
    const writer = loc.open();
    await writer.setPool(pool(A));
    const store = loc.open();
    const reads = { n: 0, unforced: 0 };
    const snapshot = store.snapshot.bind(store);
    store.snapshot = (...args) => { reads.n++; return snapshot(...args); };
    // Every tenth check forces a full read (FULL_READ_EVERY); count the checks that failed before.
    const inSync = store.inSync.bind(store);
    let since = 0;
    store.inSync = async () => {
      const ok = await inSync();
      since++;
      if (!ok) {
        if (since < 10) reads.unforced++;
        since = 0;
      }
      return ok;
    };
    const { sync, events } = startSync(t, store, { resyncMs, ...opts });
    await sync.start();
    return { loc, writer, sync, events, reads };
  }

  test('is skipped while every change was heard, and runs after a write whose message was lost', async (t) => {
    const { loc, writer, sync, events, reads } = await counted(t, 150);
    assert.equal(reads.n, 1);
    await writer.updateMember(A, '10.0.0.1', { create: true });
    await waitFor(() => events.length > 0, 2000, 'the change, by notification');
    await sleep(500);
    assert.equal(reads.n, 1, 'a heard change needs no full read');
    // Writes going on through the resyncs (members flapping): each one heard, none read twice.
    await writer.setPool(pool(B));
    for (let i = 0; i < 20; i++) {
      await writer.updateMember(i % 2 ? A : B, `10.0.1.${i}`, { create: true });
      await sleep(40);
    }
    await waitFor(() => sync.current().pools.get(A).members.length === 11 && sync.current().pools.get(B)?.members.length === 10,
      3000, 'every change, by notification');
    await sleep(400);
    assert.equal(reads.unforced, 0, 'changes during resyncs, all heard: only the forced full reads');
    await loc.silentAddMember(A, '10.0.0.9');
    await waitFor(() => sync.current().pools.get(A).members.some((m) => m.ip === '10.0.0.9'), 3000, 'the lost change, by a full read');
    // Counting resumes after a full read: heard changes need none again.
    await sleep(300);
    const unforced = reads.unforced;
    await writer.updateMember(B, '10.0.0.3', { create: true });
    await waitFor(() => sync.current().pools.get(B).members.some((m) => m.ip === '10.0.0.3'), 2000, 'the change, by notification');
    await sleep(500);
    assert.equal(reads.unforced, unforced);
  });

  test('a hand edit published as a bare pool name (README) is re-read, and its count gap forces a full read', async (t) => {
    const { loc, sync, reads } = await counted(t, 150);
    await loc.handEditMember(A, '10.0.0.4');
    await waitFor(() => sync.current().pools.get(A).members.some((m) => m.ip === '10.0.0.4'), 2000, 'the hand edit, by notification');
    await waitFor(() => reads.unforced === 1, 3000, 'a full read: the count moved without a counted message');
  });

  test('a change count that is not a number: changes still announced, and every check reads in full', async (t) => {
    const { loc, writer, sync, reads } = await counted(t, 150);
    const raw = await rawClient(loc.url);
    await raw.set(`${loc.prefix}changecount`, 'x');
    raw.disconnect();
    await writer.updateMember(A, '10.0.0.5', { create: true });
    await waitFor(() => sync.current().pools.get(A).members.some((m) => m.ip === '10.0.0.5'), 2000, 'the change, by notification');
    await waitFor(() => reads.unforced >= 1, 3000, 'a full read: the count cannot vouch for anything');
  });

  test('a new live instance and a newly published zone are taken without a full read', async (t) => {
    const { writer, sync, events, reads } = await counted(t, 150);
    assert.equal(sync.current().instances.has('ns9'), false);
    await writer.heartbeat('ns9', 10_000, Date.now());
    await writer.publishZones('ns9', ['lb.example.com']);
    await waitFor(() => sync.current().instances.has('ns9') && sync.current().zones.includes('lb.example.com'), 2000, 'the instance and its zone');
    assert.ok(events.some((e) => e.reset), 'announced');
    assert.equal(reads.n, 1, 'no full read');
    assert.equal(reads.unforced, 0);
  });

  test('a new instance or zone alone is not saved to the state dir; the next pool change saves them', async (t) => {
    const stateDir = tmpDir(t);
    const saved = path.join(stateDir, 'snapshot.json');
    const { writer, sync, events } = await counted(t, 150, { stateDir });
    await waitFor(() => fs.existsSync(saved), 3000, 'the save after the first read');
    const first = JSON.parse(fs.readFileSync(saved, 'utf8'));
    await writer.heartbeat('ns9', 10_000, Date.now());
    await writer.publishZones('ns9', ['lb.example.com']);
    await waitFor(() => sync.current().instances.has('ns9') && sync.current().zones.includes('lb.example.com'), 2000, 'the instance and its zone');
    assert.ok(events.some((e) => e.reset), 'announced');
    await sleep(300); // six save delays (saveDelayMs 50)
    assert.equal(JSON.parse(fs.readFileSync(saved, 'utf8')).savedAtMs, first.savedAtMs, 'not saved again');
    await writer.updateMember(A, '10.0.0.7', { create: true });
    await waitFor(() => JSON.parse(fs.readFileSync(saved, 'utf8')).savedAtMs !== first.savedAtMs, 3000, 'a save after the pool change');
    const second = JSON.parse(fs.readFileSync(saved, 'utf8'));
    assert.ok(second.pools[0].members.some((m) => m.ip === '10.0.0.7'));
    assert.deepEqual(second.zones, ['lb.example.com']);
    assert.ok('ns9' in second.instances, 'the instance, with that save');
  });

  test('a full read keeps the view of a pool unchanged for answers, and rebuilds a changed one', async (t) => {
    const { loc, writer, sync } = await counted(t, 150);
    await writer.updateMember(A, '10.0.0.1', { create: true });
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

describe('change counts heard on the channel', () => {
  test('messages: a pool name with or without its count', () => {
    assert.deepEqual(parseChangeMessage('ws.lb.example.com 42'), { name: 'ws.lb.example.com', count: 42 });
    assert.deepEqual(parseChangeMessage('ws.lb.example.com'), { name: 'ws.lb.example.com' });
    assert.deepEqual(parseChangeMessage('ws.lb.example.com x1'), { name: 'ws.lb.example.com x1' });
    assert.deepEqual(parseChangeMessage('a 1234567890123456'), { name: 'a 1234567890123456' }, 'past 15 digits: not a count');
  });

  test('every count after the last full read heard: in sync; a gap or a lapse: not', async () => {
    const c = new ChangeCounts();
    assert.equal(await c.heardAll(10, 10, 0), true, 'nothing changed');
    assert.equal(await c.heardAll(10, 9, 0), false, 'the count went back (FLUSHDB)');
    assert.equal(await c.heardAll(10, 11, 0), false, 'nothing heard');
    for (const n of [8, 9, 10, 11, 12]) c.heard(n);
    assert.equal(await c.heardAll(10, 12, 0), true);
    assert.equal(await c.heardAll(7, 12, 0), true, '8..12 heard');
    assert.equal(await c.heardAll(6, 12, 0), false, '8 was the first heard: 7 is not known');
    c.heard(14); // 13 was lost
    assert.equal(await c.heardAll(10, 14, 0), false);
    assert.equal(await c.heardAll(13, 14, 0), true, 'after a full read at 13 the gap is behind');
    // The counter started again (FLUSHDB): the old run says nothing about the new one.
    c.heard(4);
    assert.equal(await c.heardAll(3, 4, 0), true);
    c.heard(6); // 5 was lost
    assert.equal(await c.heardAll(3, 6, 0), false, 'a gap in the new run, though the old run covered 5');
    c.heard(7);
    c.heard(8);
    c.reset();
    c.heard(9);
    assert.equal(await c.heardAll(7, 9, 0), false, 'counts from before the lapse are forgotten');
  });

  test('waits for messages still on their way, no longer than asked', async () => {
    const c = new ChangeCounts();
    c.heard(5);
    setTimeout(() => c.heard(6), 30);
    setTimeout(() => c.heard(7), 60);
    assert.equal(await c.heardAll(4, 7, 2000), true);
    const t0 = Date.now();
    const keepAlive = setTimeout(() => undefined, 1000); // the wait's own timer is unref'd
    assert.equal(await c.heardAll(4, 9, 100), false);
    clearTimeout(keepAlive);
    assert.ok(Date.now() - t0 >= 90, 'waited for them');
    assert.equal(c.waiters.length, 0, 'a wait that timed out leaves nothing behind');
  });
});

describe('StoreSync: store unreachable at start', () => {
  test('file store: serves the saved snapshot, then the store once it is readable again', async (t) => {
    const backend = fileBackend();
    const loc = backend.location(t);
    const stateDir = tmpDir(t);
    const writer = loc.open();
    await writer.setPool(pool(A));
    await writer.updateMember(A, '10.0.0.1', { create: true });
    const first = startSync(t, loc.open(), { stateDir });
    await first.sync.start();
    await writer.updateMember(A, '10.0.0.1', { admin: 'drained' });
    const saved = path.join(stateDir, 'snapshot.json');
    await waitFor(() => fs.existsSync(saved) && /drained/.test(fs.readFileSync(saved, 'utf8')), 3000, 'saved snapshot');
    await first.sync.stop();

    const restore = loc.breakFile();
    const second = startSync(t, loc.open(), { stateDir });
    await second.sync.start();
    assert.equal(second.sync.current().pools.get(A).members[0].admin, 'drained', 'serves the saved snapshot');
    assert.ok(second.entries.some((e) => /saved snapshot/.test(e.msg)), 'logs that it serves the saved snapshot');
    restore();
    await writer.updateMember(A, '10.0.0.2', { create: true });
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
    await writer.updateMember(A, '10.0.0.1', { create: true });
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
    await writer.updateMember(A, '10.0.0.2', { create: true }).catch(async () => {
      // The writer's connection may still be in backoff; retry once it reconnects.
      await sleep(3500);
      await writer.updateMember(A, '10.0.0.2', { create: true });
    });
    await waitFor(() => second.sync.current().pools.get(A).members.length === 2, 8000, 'resync after Redis is back');
    assert.equal(second.sync.storeStatus, 'ready');
  });
});

describe('state dir snapshot file', () => {
  const { serializeSnapshot, parseSnapshot, snapshotChunks, saveSnapshot } = require('../dist/server/snapshotFile');
  const { writeFileAtomic } = require('../dist/store/fileDoc');
  const member = (ip, verdict) => ({ ip, weight: 1, admin: 'enabled', addedAtMs: 1, verdict, verdictSinceMs: 2, observations: [] });
  const view = (name, ips, verdict = 'up') => ({ config: pool(name), members: ips.map((ip) => member(ip, verdict)) });

  test('is the JSON of the whole snapshot, written in slices, with each save as the pools are then', async (t) => {
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
    // Saved a piece per pool, never as one string; the file holds the same text.
    let pieces = 0;
    for await (const piece of snapshotChunks(snap, 10)) pieces += piece.length < 1000 ? 1 : 1000;
    assert.equal(pieces, pools.size + 2);
    const dir = tmpDir(t);
    await saveSnapshot(dir, snap, 10);
    assert.equal(fs.readFileSync(path.join(dir, 'snapshot.json'), 'utf8'), reference(10));
  });

  test('a save that fails half way keeps the previous file and leaves no temp file', async (t) => {
    const dir = tmpDir(t);
    const file = path.join(dir, 'snapshot.json');
    await writeFileAtomic(file, 'previous');
    async function* failing() {
      yield 'x'.repeat(100_000);
      throw new Error('gone half way');
    }
    await assert.rejects(writeFileAtomic(file, failing()), /gone half way/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'previous');
    assert.deepEqual(fs.readdirSync(dir), ['snapshot.json']);
  });
});

describe('StoreSync: a store that lost its data', () => {
  for (const backend of [redisBackend(), fileBackend()]) {
    before(() => backend.before());
    after(() => backend.after());

    test(`${backend.name}: no pool is announced removed; the store is re-seeded; a removal afterwards is announced`, async (t) => {
      const loc = backend.location(t);
      const writer = loc.open();
      await writer.setPool(pool(A));
      await writer.updateMember(A, '10.0.0.1', { admin: 'drained', create: true });
      await writer.setPool(pool(B));
      const stateDir = tmpDir(t);
      // No heartbeat here: the periodic check (the identity is one of the things it reads) finds the loss.
      const { sync, events, entries } = startSync(t, loc.open(), { stateDir, instance: 'ns1', resyncMs: 300 });
      await sync.start();
      await waitFor(() => fs.existsSync(path.join(stateDir, 'snapshot.json')), 3000, 'first save');
      const savedId = JSON.parse(fs.readFileSync(path.join(stateDir, 'snapshot.json'), 'utf8')).storeId;
      assert.equal(savedId, (await writer.snapshot()).identity.id, 'the state dir names the store');
      await loc.loseEverything();
      await waitFor(() => sync.storeLosses === 1 && !sync.storeLost, 10_000, 'loss found and re-seeded');
      assert.deepEqual(events.filter((e) => e.members === null), [], 'nothing announced removed');
      assert.equal(entries.filter((e) => e.level === 50 && e.code === 'TIERDNS_E_STORE_LOST').length, 1);
      const after = await loc.open().snapshot();
      assert.deepEqual([...after.pools.keys()].sort(), [A, B]);
      assert.deepEqual(after.pools.get(A).members.map((m) => `${m.ip}:${m.admin}`), ['10.0.0.1:drained']);
      assert.ok(after.identity.absorbed.includes(savedId));
      // With its identity the store says what is removed, and it is.
      await writer.removePool(B);
      await waitFor(() => events.some((e) => e.name === B && e.members === null), 3000, 'removal announced');
      assert.equal(sync.storeLosses, 1);
    });
  }

  test('a state dir saved before identities, an empty store: served, and the store re-seeded from it', async (t) => {
    const backend = fileBackend();
    const loc = backend.location(t);
    const stateDir = tmpDir(t);
    const { serializeSnapshot } = require('../dist/server/snapshotFile');
    const { toPoolView, newRecord } = require('../dist/store/record');
    const old = { pools: new Map([[A, toPoolView(newRecord(pool(A)))]]), zones: [], instances: new Map() };
    fs.writeFileSync(path.join(stateDir, 'snapshot.json'), await serializeSnapshot(old, 1));
    const { sync, entries } = startSync(t, loc.open(), { stateDir, instance: 'ns1' });
    await sync.start();
    assert.deepEqual([...sync.current().pools.keys()], [A]);
    assert.ok(entries.some((e) => e.code === 'TIERDNS_E_STORE_LOST'));
    assert.deepEqual([...(await loc.open().snapshot()).pools.keys()], [A]);
  });
});
