'use strict';
// One contract for every Store implementation (STYLE.md: one interface, one suite): the same
// cases run against RedisStore (a private redis-server) and FileStore (a temp file).

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { redisBackend, fileBackend, captureLog, waitFor, sleep, pool } = require('./helpers/store');
const { mergeVerdict } = require('../dist/model/verdict');

const P = 'ws.lb.example.com';
const T0 = 1_700_000_000_000;

/** A store with an injected clock; `clock.now` is what recordObservation and updateMember see. */
function openWithClock(loc, opts = {}) {
  const clock = { now: T0 };
  const store = loc.open({ nowMs: () => clock.now, ...opts });
  return { store, clock };
}

async function code(promise) {
  try {
    await promise;
  } catch (err) {
    return err.code;
  }
  return 'no error';
}

function obs(instance, state, sinceMs, extra = {}) {
  return { instance, state, sinceMs, ...extra };
}

for (const backend of [redisBackend(), fileBackend()]) {
  describe(`store contract: ${backend.name}`, () => {
    before(() => backend.before());
    after(() => backend.after());

    test('an empty store has no pools, zones or instances', async (t) => {
      const { store } = openWithClock(backend.location(t));
      const snap = await store.snapshot();
      assert.equal(snap.pools.size, 0);
      assert.deepEqual(snap.zones, []);
      assert.equal(snap.instances.size, 0);
      assert.equal(await store.readPool(P), undefined);
    });

    test('pools: create, read, replace keeps members, remove', async (t) => {
      const { store } = openWithClock(backend.location(t));
      await store.setPool(pool(P));
      assert.deepEqual((await store.readPool(P)).config, pool(P));
      await store.updateMember(P, '10.0.0.1', { create: true });
      await store.setPool(pool(P, { ttlSeconds: 5, check: 'http', path: '/healthz', host: 'ws.example.com' }));
      const view = await store.readPool(P);
      assert.equal(view.config.ttlSeconds, 5);
      assert.equal(view.config.host, 'ws.example.com');
      assert.deepEqual(view.members.map((m) => m.ip), ['10.0.0.1']);
      assert.equal(await store.removePool(P), true);
      assert.equal(await store.removePool(P), false);
      assert.equal(await store.readPool(P), undefined);
      // Re-creating starts empty: nothing of the old pool lingers.
      await store.setPool(pool(P));
      assert.deepEqual((await store.readPool(P)).members, []);
      assert.deepEqual([...(await store.snapshot()).pools.keys()], [P]);
    });

    test('an invalid config is refused and changes nothing', async (t) => {
      const { store } = openWithClock(backend.location(t));
      await store.setPool(pool(P));
      assert.equal(await code(store.setPool(pool(P, { timeoutMs: 2000 }))), 'TIERDNS_E_BAD_VALUE');
      assert.equal(await code(store.setPool(pool(P, { whenAllDown: `pool:${P}` }))), 'TIERDNS_E_BAD_VALUE');
      assert.equal(await code(store.setPool(pool('Bad Name'))), 'TIERDNS_E_BAD_VALUE');
      assert.deepEqual((await store.readPool(P)).config, pool(P));
    });

    test('updatePool reads and writes one config atomically; a throwing update changes nothing', async (t) => {
      const loc = backend.location(t);
      const { store } = openWithClock(loc);
      const { store: other } = openWithClock(loc);
      const created = await store.updatePool(P, (cur) => ({ ...(cur ?? pool(P)), rise: 5 }));
      assert.equal(created.rise, 5);
      await assert.rejects(store.updatePool(P, () => { throw Object.assign(new Error('no'), { code: 'X' }); }), /no/);
      assert.equal((await store.readPool(P)).config.rise, 5);
      // Concurrent increments from two connections: none is lost.
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).updatePool(P, (cur) => ({ ...cur, fall: cur.fall + 1 }))));
      assert.equal((await store.readPool(P)).config.fall, 13);
    });

    test('members: add canonicalizes, orders; an update changes what it gives and keeps the rest', async (t) => {
      const { store, clock } = openWithClock(backend.location(t));
      await store.setPool(pool(P));
      await store.updateMember(P, '2001:DB8:0:0::1', { weight: 2, port: 8443, create: true });
      clock.now = T0 + 5;
      await store.updateMember(P, '10.0.0.9', { create: true });
      await store.updateMember(P, '10.0.0.10', { create: true });
      let view = await store.readPool(P);
      assert.deepEqual(view.members.map((m) => m.ip), ['10.0.0.9', '10.0.0.10', '2001:db8::1']);
      const v6 = view.members[2];
      assert.deepEqual(
        { weight: v6.weight, port: v6.port, admin: v6.admin, verdict: v6.verdict, since: v6.verdictSinceMs, added: v6.addedAtMs },
        { weight: 2, port: 8443, admin: 'enabled', verdict: 'unknown', since: T0, added: T0 },
      );
      await store.updateMember(P, '2001:db8::1', { admin: 'drained' });
      clock.now = T0 + 100;
      const update = await store.updateMember(P, '2001:DB8::1', { weight: 7, create: true });
      assert.deepEqual(update.before, { ip: '2001:db8::1', weight: 2, port: 8443, admin: 'drained', addedAtMs: T0 });
      assert.deepEqual(update.after, { ip: '2001:db8::1', weight: 7, port: 8443, admin: 'drained', addedAtMs: T0 });
      view = await store.readPool(P);
      const again = view.members.find((m) => m.ip === '2001:db8::1');
      assert.deepEqual({ weight: again.weight, port: again.port, admin: again.admin, added: again.addedAtMs },
        { weight: 7, port: 8443, admin: 'drained', added: T0 }, 'port and admin state kept');
      await store.updateMember(P, '2001:db8::1', { port: 9000 });
      assert.deepEqual((await store.updateMember(P, '2001:db8::1', { port: null })).before.port, 9000);
      const noPort = (await store.readPool(P)).members.find((m) => m.ip === '2001:db8::1');
      assert.deepEqual({ weight: noPort.weight, port: noPort.port }, { weight: 7, port: undefined }, 'null removes the port only');
      // A new member may start drained (an `apply` of a file that says so).
      const created = await store.updateMember(P, '10.0.0.20', { admin: 'drained', create: true });
      assert.deepEqual(created, { after: { ip: '10.0.0.20', weight: 1, admin: 'drained', addedAtMs: T0 + 100 } });
      assert.equal((await store.readPool(P)).members.find((m) => m.ip === '10.0.0.20').verdict, 'unknown');
      await store.removeMember(P, '10.0.0.20');
      assert.equal(await code(store.updateMember('nope.lb.example.com', '10.0.0.1', { create: true })), 'TIERDNS_E_NO_POOL');
      assert.equal(await code(store.updateMember(P, '10.0.0', { create: true })), 'TIERDNS_E_BAD_IP');
      assert.equal(await code(store.updateMember(P, '10.0.0.1', { weight: 0, create: true })), 'TIERDNS_E_BAD_VALUE');
      assert.equal(await code(store.updateMember(P, '10.0.0.1', { weight: 1001, create: true })), 'TIERDNS_E_BAD_VALUE');
      assert.equal(await code(store.updateMember(P, '10.0.0.9', { port: 0 })), 'TIERDNS_E_BAD_VALUE');
      assert.equal(await code(store.updateMember(P, '10.0.0.9', { admin: 'maybe' })), 'TIERDNS_E_BAD_VALUE');
      assert.equal(await code(store.updateMember(P, '10.0.0.77', { weight: 3 })), 'TIERDNS_E_NO_MEMBER', 'no create: no new member');
      assert.equal((await store.readPool(P)).members.length, 3);
    });

    test('drain/undrain and their errors', async (t) => {
      const { store } = openWithClock(backend.location(t));
      await store.setPool(pool(P));
      await store.updateMember(P, '10.0.0.1', { create: true });
      await store.updateMember(P, '10.0.0.1', { admin: 'drained' });
      assert.equal((await store.readPool(P)).members[0].admin, 'drained');
      await store.updateMember(P, '10.0.0.1', { admin: 'enabled' });
      assert.equal((await store.readPool(P)).members[0].admin, 'enabled');
      assert.equal(await code(store.updateMember(P, '10.0.0.2', { admin: 'drained' })), 'TIERDNS_E_NO_MEMBER');
      assert.equal(await code(store.updateMember('no.lb.example.com', '10.0.0.1', { admin: 'drained' })), 'TIERDNS_E_NO_POOL');
    });

    test('removing a member removes its verdict and observations', async (t) => {
      const { store } = openWithClock(backend.location(t));
      await store.setPool(pool(P));
      await store.updateMember(P, '10.0.0.1', { create: true });
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('ns1', 'up', T0)), 'up');
      assert.equal(await store.removeMember(P, '10.0.0.1'), true);
      assert.equal(await store.removeMember(P, '10.0.0.1'), false);
      await store.updateMember(P, '10.0.0.1', { create: true });
      const m = (await store.readPool(P)).members[0];
      assert.equal(m.verdict, 'unknown');
      assert.deepEqual(m.observations, []);
    });

    test('a lone instance decides alone; the verdict follows its observations', async (t) => {
      const { store, clock } = openWithClock(backend.location(t));
      await store.setPool(pool(P));
      await store.updateMember(P, '10.0.0.1', { create: true });
      clock.now = T0 + 1000;
      const first = obs('ns1', 'up', T0 + 900, { lastProbeMs: T0 + 900, lastOk: true, lastLatencyMs: 1.5 });
      assert.equal(await store.recordObservation(P, '10.0.0.1', first), 'up');
      let m = (await store.readPool(P)).members[0];
      assert.equal(m.verdict, 'up');
      assert.equal(m.verdictSinceMs, T0 + 1000);
      assert.deepEqual(m.observations, [first]);
      clock.now = T0 + 2000;
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('ns1', 'down', T0 + 2000, { lastOk: false, lastError: 'ECONNREFUSED' })), 'down');
      m = (await store.readPool(P)).members[0];
      assert.equal(m.verdict, 'down');
      assert.equal(m.verdictSinceMs, T0 + 2000);
      assert.equal(m.observations[0].lastError, 'ECONNREFUSED');
      assert.equal(await code(store.recordObservation(P, '10.9.9.9', obs('ns1', 'up', T0))), 'TIERDNS_E_NO_MEMBER');
      assert.equal(await code(store.recordObservation(P, '10.0.0.1', obs('bad|name', 'up', T0))), 'TIERDNS_E_BAD_VALUE');
    });

    test('quorum: the majority of live instances wins, ties keep the verdict, unknown does not vote', async (t) => {
      const { store, clock } = openWithClock(backend.location(t));
      await store.setPool(pool(P));
      await store.updateMember(P, '10.0.0.1', { create: true });
      for (const i of ['a', 'b', 'c']) await store.heartbeat(i, 5000, T0);
      clock.now = T0 + 100;
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('a', 'up', T0)), 'up');
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('b', 'down', T0)), 'up'); // 1:1 tie keeps up
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('c', 'down', T0)), 'down'); // 1:2
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('c', 'unknown', T0)), 'down'); // 1:1 tie
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('b', 'up', T0)), 'up'); // 2:0
      const m = (await store.readPool(P)).members[0];
      assert.deepEqual(m.observations.map((o) => `${o.instance}=${o.state}`), ['a=up', 'b=up', 'c=unknown']);
      // Cross-check against the one quorum rule.
      assert.equal(mergeVerdict('down', m.observations, new Set(['a', 'b', 'c'])), m.verdict);
    });

    test('stale instances stop voting: heartbeat drops them and recomputes their members', async (t) => {
      const loc = backend.location(t);
      const { store, clock } = openWithClock(loc);
      await store.setPool(pool(P));
      await store.updateMember(P, '10.0.0.1', { create: true });
      await store.updateMember(P, '10.0.0.2', { create: true });
      for (const i of ['a', 'b', 'c']) await store.heartbeat(i, 1000, T0);
      await store.publishZones('a', ['lb.example.com']);
      await store.publishZones('c', ['other.example.com']);
      clock.now = T0 + 10;
      await store.recordObservation(P, '10.0.0.1', obs('a', 'down', T0));
      await store.recordObservation(P, '10.0.0.1', obs('b', 'down', T0));
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('c', 'up', T0)), 'down');
      await store.recordObservation(P, '10.0.0.2', obs('c', 'up', T0));
      let snap = await store.snapshot();
      assert.deepEqual([...snap.instances.keys()].sort(), ['a', 'b', 'c']);
      assert.deepEqual(snap.zones, ['lb.example.com', 'other.example.com']);
      // a and b die; c keeps beating. Their votes go, c's "up" now decides alone.
      clock.now = T0 + 2000;
      await store.heartbeat('c', 1000, T0 + 2000);
      const m = (await store.readPool(P)).members[0];
      assert.equal(m.verdict, 'up');
      assert.equal(m.verdictSinceMs, T0 + 2000);
      assert.deepEqual(m.observations.map((o) => o.instance), ['c']);
      snap = await store.snapshot();
      assert.deepEqual([...snap.instances.keys()], ['c']);
      assert.deepEqual(snap.zones, ['other.example.com']);
      // A second connection (another process) sees the same.
      const other = loc.open({ nowMs: () => clock.now, instanceTtlMs: 1000 });
      assert.equal((await other.readPool(P)).members[0].verdict, 'up');
    });

    test('an instance that comes back votes again at its next heartbeat', async (t) => {
      const { store, clock } = openWithClock(backend.location(t));
      await store.setPool(pool(P));
      await store.updateMember(P, '10.0.0.1', { create: true });
      await store.heartbeat('a', 1000, T0);
      await store.heartbeat('b', 1000, T0);
      await store.recordObservation(P, '10.0.0.1', obs('a', 'up', T0));
      await store.recordObservation(P, '10.0.0.1', obs('b', 'up', T0));
      // b is stale but not yet pruned (nobody beat since): a's "down" then decides alone.
      clock.now = T0 + 1500;
      await store.heartbeat('a', 1000, T0 + 1500);
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('a', 'down', T0 + 1500)), 'down');
      // b was pruned by a's heartbeat, so it comes back without votes; its next observation counts.
      await store.heartbeat('b', 1000, T0 + 1600);
      clock.now = T0 + 1600;
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('b', 'up', T0 + 1600)), 'down'); // tie keeps down
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('a', 'up', T0 + 1600)), 'up');
    });

    test('watch: one notification per changed pool, none for last-probe details', async (t) => {
      const loc = backend.location(t);
      const { store } = openWithClock(loc);
      const { store: watcher } = openWithClock(loc);
      const seen = [];
      const unwatch = await watcher.watch((c) => seen.push(c.kind === 'pool' ? c.name : '*'));
      await store.setPool(pool(P));
      await waitFor(() => seen.includes(P), 2000, 'setPool notification');
      await store.setPool(pool('other.lb.example.com'));
      await waitFor(() => seen.includes('other.lb.example.com'), 2000, 'second pool notification');
      await store.updateMember(P, '10.0.0.1', { create: true });
      await store.recordObservation(P, '10.0.0.1', obs('ns1', 'up', T0, { lastProbeMs: T0 }));
      await sleep(300);
      seen.length = 0;
      // Same state, new probe details: nothing a serving instance needs to re-read.
      await store.recordObservation(P, '10.0.0.1', obs('ns1', 'up', T0, { lastProbeMs: T0 + 1, lastLatencyMs: 3 }));
      await sleep(400);
      assert.deepEqual(seen.filter((s) => s !== '*'), []);
      await store.removePool('other.lb.example.com');
      await waitFor(() => seen.includes('other.lb.example.com'), 2000, 'removePool notification');
      assert.ok(!seen.includes(P), `unexpected notification for ${P}: ${seen}`);
      unwatch();
      seen.length = 0;
      await store.setPool(pool(P, { ttlSeconds: 1 }));
      await sleep(400);
      assert.deepEqual(seen, []);
    });

    test('refreshObservation: new last-probe details for the stored state only, no notification, no verdict change', async (t) => {
      const loc = backend.location(t);
      const { store } = openWithClock(loc);
      const { store: watcher } = openWithClock(loc);
      await store.setPool(pool(P));
      await store.updateMember(P, '10.0.0.1', { create: true });
      await store.heartbeat('ns1', 60_000, T0);
      await store.heartbeat('ns2', 60_000, T0);
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('ns1', 'up', T0, { lastProbeMs: T0, lastOk: true })), 'up');
      await store.recordObservation(P, '10.0.0.1', obs('ns2', 'up', T0));
      const seen = [];
      const unwatch = await watcher.watch((c) => seen.push(c.kind === 'pool' ? c.name : '*'));
      t.after(unwatch);
      await sleep(200);
      seen.length = 0;
      const details = { lastProbeMs: T0 + 5000, lastOk: false, lastLatencyMs: 7, lastError: 'connect ECONNREFUSED' };
      assert.equal(await store.refreshObservation(P, '10.0.0.1', obs('ns1', 'up', T0, details)), true);
      const m = (await store.readPool(P)).members[0];
      assert.deepEqual(m.observations.find((o) => o.instance === 'ns1'), obs('ns1', 'up', T0, details));
      assert.equal(m.verdict, 'up');
      // Another state or sinceMs, or no stored observation: refused, nothing written.
      assert.equal(await store.refreshObservation(P, '10.0.0.1', obs('ns1', 'down', T0 + 6000)), false);
      assert.equal(await store.refreshObservation(P, '10.0.0.1', obs('ns1', 'up', T0 + 1)), false);
      assert.equal(await store.refreshObservation(P, '10.0.0.1', obs('ns3', 'up', T0)), false);
      const after = (await store.readPool(P)).members[0];
      assert.deepEqual(after.observations.map((o) => [o.instance, o.state, o.sinceMs]), [['ns1', 'up', T0], ['ns2', 'up', T0]]);
      assert.equal(await code(store.refreshObservation(P, '10.0.0.9', obs('ns1', 'up', T0))), 'TIERDNS_E_NO_MEMBER');
      assert.equal(await code(store.refreshObservation('gone.lb.example.com', '10.0.0.1', obs('ns1', 'up', T0))), 'TIERDNS_E_NO_POOL');
      assert.equal(await code(store.refreshObservation(P, '10.0.0.1', obs('bad name', 'up', T0))), 'TIERDNS_E_BAD_VALUE');
      await sleep(300);
      assert.deepEqual(seen.filter((x) => x !== '*'), [], 'refreshes notify nobody');
    });

    test('check none -> a real check: members stay up (no NODATA gap), votes from before none are dropped', async (t) => {
      const { store, clock } = openWithClock(backend.location(t));
      await store.setPool(pool(P, { check: 'tcp' }));
      await store.updateMember(P, '10.0.0.1', { create: true });
      await store.heartbeat('ns1', 60_000, T0);
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('ns1', 'down', T0)), 'down');
      await store.setPool(pool(P, { check: 'none' }));
      clock.now = T0 + 5000;
      await store.setPool(pool(P, { check: 'tcp' }));
      const [m] = (await store.readPool(P)).members;
      assert.equal(m.verdict, 'up');
      assert.equal(m.verdictSinceMs, T0 + 5000);
      assert.deepEqual(m.observations, []);
      // Other config changes leave verdicts and votes alone.
      assert.equal(await store.recordObservation(P, '10.0.0.1', obs('ns1', 'down', T0 + 6000)), 'down');
      await store.setPool(pool(P, { check: 'tcp', ttlSeconds: 7 }));
      assert.equal((await store.readPool(P)).members[0].verdict, 'down');
    });

    test('many concurrent state changes on one pool from one process all land', async (t) => {
      const { store } = openWithClock(backend.location(t));
      await store.setPool(pool(P));
      const ips = Array.from({ length: 24 }, (_, i) => `10.0.1.${i + 1}`);
      for (const ip of ips) await store.updateMember(P, ip, { create: true });
      await store.heartbeat('ns1', 60_000, T0);
      const verdicts = await Promise.all(ips.map((ip, i) => store.recordObservation(P, ip, obs('ns1', i % 2 ? 'up' : 'down', T0))));
      assert.deepEqual(verdicts, ips.map((_, i) => (i % 2 ? 'up' : 'down')));
      const view = await store.readPool(P);
      assert.equal(view.members.filter((m) => m.verdict === 'up').length, 12);
    });

    test('atomicity: a reader never sees an observation without the verdict it implies', async (t) => {
      const loc = backend.location(t);
      const { store: writer } = openWithClock(loc);
      const { store: reader } = openWithClock(loc);
      await writer.setPool(pool(P));
      const ips = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
      for (const ip of ips) await writer.updateMember(P, ip, { create: true });
      let stop = false;
      const writing = (async () => {
        for (let i = 0; i < 60; i++) {
          const state = i % 2 ? 'up' : 'down';
          await Promise.all(ips.map((ip) => writer.recordObservation(P, ip, obs('solo', state, T0 + i))));
        }
        stop = true;
      })();
      let reads = 0;
      while (!stop) {
        const view = await reader.readPool(P);
        for (const m of view.members) {
          const o = m.observations[0];
          if (o && o.state !== 'unknown') assert.equal(m.verdict, o.state, `member ${m.ip} verdict ${m.verdict} with observation ${o.state}`);
        }
        reads++;
        // A cached file-store read never yields to I/O; let the writer's callbacks run.
        await new Promise(setImmediate);
      }
      await writing;
      assert.ok(reads > 3, `only ${reads} reads overlapped the writes`);
    });

    test('concurrent writers from two connections lose no update', async (t) => {
      const loc = backend.location(t);
      const { store: a } = openWithClock(loc);
      const { store: b } = openWithClock(loc);
      await a.setPool(pool(P));
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).updateMember(P, `10.0.1.${i + 1}`, { create: true })));
      assert.equal((await a.readPool(P)).members.length, 20);
    });

    test('concurrent updates of one member from three connections each keep the others\' fields', async (t) => {
      const loc = backend.location(t);
      const [a, b, c] = [1, 2, 3].map(() => openWithClock(loc).store);
      await a.setPool(pool(P));
      await a.updateMember(P, '10.0.0.1', { create: true });
      for (let round = 1; round <= 8; round++) {
        const admin = round % 2 ? 'drained' : 'enabled';
        await Promise.all([
          a.updateMember(P, '10.0.0.1', { weight: round + 1 }),
          b.updateMember(P, '10.0.0.1', { admin }),
          c.updateMember(P, '10.0.0.1', { port: 8000 + round, create: true }),
        ]);
        const [m] = (await a.readPool(P)).members;
        assert.deepEqual({ weight: m.weight, admin: m.admin, port: m.port }, { weight: round + 1, admin, port: 8000 + round }, `round ${round}`);
      }
    });

    test('a malformed entry is skipped and reported as TIERDNS_E_STORE_DATA; the rest serves', async (t) => {
      const loc = backend.location(t);
      const { log, entries } = captureLog();
      const { store } = openWithClock(loc, { log });
      await store.setPool(pool(P));
      await store.updateMember(P, '10.0.0.1', { create: true });
      await loc.corruptMember(P, '10.0.0.2', '{"ip":"10.0.0.2","weight":"heavy"');
      await loc.corruptMember(P, '10.0.0.3', '{"ip":"10.0.0.3","weight":5000,"admin":"enabled","addedAtMs":1}');
      const view = await store.readPool(P);
      assert.deepEqual(view.members.map((m) => m.ip), ['10.0.0.1']);
      assert.equal((await store.snapshot()).pools.get(P).members.length, 1);
      const reports = entries.filter((e) => e.code === 'TIERDNS_E_STORE_DATA');
      assert.ok(reports.some((e) => /10\.0\.0\.2/.test(e.msg)), JSON.stringify(reports));
      assert.ok(reports.some((e) => /10\.0\.0\.3/.test(e.msg)), JSON.stringify(reports));
      // Writes still work, and removing the bad entry works too.
      await store.updateMember(P, '10.0.0.4', { create: true });
      assert.equal((await store.readPool(P)).members.length, 2);
    });

    test('a newer layout version is refused with TIERDNS_E_STORE_VERSION', async (t) => {
      const loc = backend.location(t);
      const { store } = openWithClock(loc);
      await store.setPool(pool(P));
      await loc.setLayoutVersion(99);
      const { store: fresh } = openWithClock(loc);
      assert.equal(await code(fresh.snapshot()), 'TIERDNS_E_STORE_VERSION');
      assert.equal(await code(fresh.updateMember(P, '10.0.0.1', { create: true })), 'TIERDNS_E_STORE_VERSION');
    });

    test('identity: none until the first write, which stamps it; a claim of a store that has one changes nothing', async (t) => {
      const loc = backend.location(t);
      const { store } = openWithClock(loc);
      assert.equal((await store.snapshot()).identity, undefined);
      await store.setPool(pool(P));
      const { identity } = await store.snapshot();
      assert.match(identity.id, /^[0-9a-f]{32}$/);
      assert.deepEqual(identity.absorbed, []);
      // A first use (no lost id) and a claim by an instance that knew this very store: nothing to do.
      for (const lostId of [undefined, identity.id]) {
        const r = await store.claimIdentity({ instance: 'ns1', lostId, pools: [], nowMs: T0 });
        assert.deepEqual(r, { identity, seeded: false });
      }
      assert.deepEqual((await loc.open().snapshot()).identity, identity, 'another connection reads the same');
    });

    test('claimIdentity re-seeds what the store lacks: pools, members, admin states and verdicts, no observations', async (t) => {
      const loc = backend.location(t);
      const { store } = openWithClock(loc);
      const lostId = 'ab'.repeat(16);
      const member = (ip, over = {}) => ({
        ip, weight: 2, admin: 'enabled', addedAtMs: T0, verdict: 'up', verdictSinceMs: T0 + 1, observations: [obs('ns9', 'up', T0)], ...over,
      });
      const seed = [
        { config: pool(P, { ttlSeconds: 7 }), members: [member('10.0.0.1', { port: 8080 }), member('10.0.0.2', { admin: 'drained', verdict: 'down' })] },
        { config: pool('b.lb.example.com'), members: [member('10.0.0.3')] },
      ];
      // Written after the loss and before the re-seed: kept as it is, completed with the members it lacks.
      await store.setPool(pool(P, { ttlSeconds: 30 }));
      await store.updateMember(P, '10.0.0.2', { weight: 9, create: true });
      const stamped = (await store.snapshot()).identity;
      const result = await store.claimIdentity({ instance: 'ns1', lostId, pools: seed, nowMs: T0 + 5 });
      assert.equal(result.seeded, true);
      assert.deepEqual(result.identity, { id: stamped.id, absorbed: [lostId], by: 'ns1', atMs: T0 + 5 });
      const snap = await store.snapshot();
      assert.deepEqual(snap.identity, result.identity);
      const a = snap.pools.get(P);
      assert.equal(a.config.ttlSeconds, 30, 'a pool written since the loss keeps its config');
      assert.deepEqual(a.members.map((m) => [m.ip, m.weight, m.port, m.admin, m.verdict, m.verdictSinceMs, m.observations.length]), [
        ['10.0.0.1', 2, 8080, 'enabled', 'up', T0 + 1, 0],
        ['10.0.0.2', 9, undefined, 'enabled', 'unknown', T0, 0],
      ]);
      const b = snap.pools.get('b.lb.example.com');
      assert.deepEqual(b.members.map((m) => [m.ip, m.verdict]), [['10.0.0.3', 'up']]);
      // Claimed again for the same lost id (a second instance): already done.
      assert.equal((await loc.open().claimIdentity({ instance: 'ns2', lostId, pools: seed, nowMs: T0 + 6 })).seeded, false);
    });

    test('two instances claiming a lost store at once: one re-seeds, the other finds it done', async (t) => {
      const loc = backend.location(t);
      const lostId = 'cd'.repeat(16);
      const seed = [{ config: pool(P), members: [] }];
      const [a, b] = [loc.open(), loc.open()];
      const results = await Promise.all([a, b].map((s, i) => s.claimIdentity({ instance: `ns${i}`, lostId, pools: seed, nowMs: T0 })));
      assert.deepEqual(results.map((r) => r.seeded).sort(), [false, true]);
      assert.deepEqual(results[0].identity, results[1].identity);
      assert.deepEqual(results[0].identity.absorbed, [lostId]);
    });

    test('a read from a store that lost its identity fails TIERDNS_E_STORE_LOST, not "no pool"', async (t) => {
      const loc = backend.location(t);
      const { store } = openWithClock(loc);
      await store.setPool(pool(P));
      await store.snapshot();
      assert.equal((await store.readPool(P)).config.name, P);
      await loc.loseEverything();
      assert.equal(await code(store.readPool(P)), 'TIERDNS_E_STORE_LOST');
      assert.equal((await store.snapshot()).identity, undefined);
      // A store object that never read an identity (the CLI) reads the empty store as it is.
      assert.equal(await loc.open().readPool(P), undefined);
    });

    test('publishZones validates names and snapshot unions them', async (t) => {
      const { store } = openWithClock(backend.location(t));
      await store.heartbeat('ns1', 60_000, Date.now());
      await store.publishZones('ns1', ['lb.example.com', 'b.example.com', 'lb.example.com']);
      assert.deepEqual(await store.readZones(), ['b.example.com', 'lb.example.com']);
      assert.equal(await code(store.publishZones('ns1', ['Not Canonical.'])), 'TIERDNS_E_BAD_VALUE');
      assert.equal(await code(store.heartbeat('bad name', 1000, Date.now())), 'TIERDNS_E_BAD_VALUE');
    });
  });
}

describe('file store: change notifications', () => {
  const backend = fileBackend();
  before(() => backend.before());
  after(() => backend.after());

  test('after a bulk write of many pools, later writes still notify pool by pool (the head stays small)', async (t) => {
    const loc = backend.location(t);
    const { store } = openWithClock(loc);
    const { store: watcher } = openWithClock(loc);
    const seen = [];
    const unwatch = await watcher.watch((c) => seen.push(c.kind === 'pool' ? c.name : '*'));
    t.after(unwatch);
    // Queued together, these land in one rewrite naming 500 pools.
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.setPool(pool(`p${i}.lb.example.com`))));
    await waitFor(() => seen.includes('*'), 2000, 'bulk write notification');
    for (let i = 0; i < 5; i++) {
      seen.length = 0;
      await store.heartbeat('ns1', 60_000, T0 + i);
      await store.setPool(pool(`p${i}.lb.example.com`, { ttlSeconds: 7 }));
      await waitFor(() => seen.includes(`p${i}.lb.example.com`), 2000, `notification for p${i}`);
      await sleep(50);
      assert.deepEqual(seen, [`p${i}.lb.example.com`], 'a precise notification, no re-read of everything');
    }
  });
});

describe('file store: heartbeats in the PATH.live sidecar', () => {
  const fs = require('node:fs');
  const backend = fileBackend();
  before(() => backend.before());
  after(() => backend.after());

  const fileState = (file) => {
    const s = fs.statSync(file, { bigint: true });
    return { ino: s.ino, mtimeNs: s.mtimeNs, size: s.size, bytes: fs.readFileSync(file) };
  };

  /** A document as builds before the sidecar wrote it: heartbeats in its `instances`. */
  function writeOldFormat(file, instances) {
    const member = (ip) => ({ ip, weight: 1, admin: 'enabled', addedAtMs: T0 });
    const doc = {
      format: 'tierdns-store', version: 1, seq: 3, recent: [{ seq: 3, pools: [P] }],
      pools: {
        [P]: {
          config: pool(P),
          members: { '10.0.0.1': member('10.0.0.1') },
          verdicts: { '10.0.0.1': { verdict: 'up', sinceMs: T0 } },
          observations: { '10.0.0.1': { a: obs('a', 'up', T0), b: obs('b', 'up', T0) } },
        },
      },
      instances,
      zones: { a: ['lb.example.com'] },
    };
    fs.writeFileSync(file, `${JSON.stringify(doc, null, 1)}\n`);
  }

  test('heartbeats leave a big document byte-identical and notify no watcher; snapshot sees them', async (t) => {
    const loc = backend.location(t);
    const { store, clock } = openWithClock(loc);
    const names = Array.from({ length: 2000 }, (_, i) => `p${i}.lb.example.com`);
    await Promise.all(names.map((n) => store.setPool(pool(n))));
    // 4 members each, 10.j.(i / 250).(i % 250 + 1): the first pool's first member is 10.1.0.1.
    await Promise.all(names.flatMap((n, i) => [1, 2, 3, 4].map((j) =>
      store.updateMember(n, `10.${j}.${Math.floor(i / 250)}.${(i % 250) + 1}`, { create: true }))));
    // Steady state: both instances beat and hold votes.
    for (const i of ['ns1', 'ns2']) await store.heartbeat(i, 5000, T0);
    await store.recordObservation(names[0], '10.1.0.1', obs('ns1', 'up', T0));
    await store.recordObservation(names[0], '10.1.0.1', obs('ns2', 'up', T0));
    const { store: watcher } = openWithClock(loc);
    const seen = [];
    t.after(await watcher.watch((c) => seen.push(c.kind === 'pool' ? c.name : '*')));
    const before = fileState(loc.file);
    assert.ok(before.size > 500_000n, `document of ${before.size} bytes`);
    for (let n = 1; n <= 20; n++) {
      clock.now = T0 + n * 100;
      await Promise.all(['ns1', 'ns2'].map((i) => store.heartbeat(i, 5000, clock.now)));
    }
    await sleep(400); // past the debounce and several 100 ms polls
    assert.deepEqual(fileState(loc.file), before, 'the document was not rewritten');
    assert.deepEqual(seen, []);
    const sidecar = JSON.parse(fs.readFileSync(`${loc.file}.live`, 'utf8'));
    assert.deepEqual(sidecar, { format: 'tierdns-live', version: 1, instances: { ns1: T0 + 2000, ns2: T0 + 2000 } });
    assert.deepEqual([...(await store.snapshot()).instances], [['ns1', T0 + 2000], ['ns2', T0 + 2000]]);
    // Another connection (another process) reads them from the sidecar too.
    const other = loc.open({ nowMs: () => clock.now, instanceTtlMs: 5000 });
    assert.deepEqual([...(await other.snapshot()).instances.keys()].sort(), ['ns1', 'ns2']);
    assert.equal((await other.readPool(names[0])).members[0].verdict, 'up');
  });

  test('a routine heartbeat reads only the sidecar, never the document; a first or late beat reads both', async (t) => {
    const loc = backend.location(t);
    const { store } = openWithClock(loc);
    await store.setPool(pool(P));
    await store.heartbeat('ns1', 5000, T0);
    // Garbage where the document was: only a beat that needs it can notice.
    fs.writeFileSync(loc.file, '{ not json');
    await store.heartbeat('ns1', 5000, T0 + 1000);
    assert.equal(JSON.parse(fs.readFileSync(`${loc.file}.live`, 'utf8')).instances.ns1, T0 + 1000);
    // A new instance (it may hold votes to recompute) and a stale one both need the document.
    assert.equal(await code(store.heartbeat('ns2', 5000, T0 + 1000)), 'TIERDNS_E_STORE_DATA');
    assert.equal(await code(store.heartbeat('ns1', 5000, T0 + 9000)), 'TIERDNS_E_STORE_DATA');
  });

  test('publishing the zones an instance already published leaves the document untouched (a restart)', async (t) => {
    const loc = backend.location(t);
    const { store } = openWithClock(loc);
    await store.setPool(pool(P));
    await store.publishZones('ns1', ['lb.example.com', 'b.example.com']);
    const before = fileState(loc.file);
    await store.publishZones('ns1', ['b.example.com', 'lb.example.com']);
    assert.deepEqual(fileState(loc.file), before, 'the document was not rewritten');
    await store.publishZones('ns1', ['lb.example.com']);
    assert.notDeepEqual(fileState(loc.file), before);
    assert.deepEqual(await store.readZones(), ['lb.example.com']);
  });

  test('two connections vote through the sidecar; one that goes stale stops voting, the document is rewritten', async (t) => {
    const loc = backend.location(t);
    const clock = { now: T0 };
    const a = loc.open({ nowMs: () => clock.now });
    const b = loc.open({ nowMs: () => clock.now });
    await a.setPool(pool(P));
    await a.updateMember(P, '10.0.0.1', { create: true });
    await a.heartbeat('a', 1000, T0);
    await b.heartbeat('b', 1000, T0);
    await a.publishZones('a', ['lb.example.com']);
    await b.publishZones('b', ['other.example.com']);
    assert.equal(await a.recordObservation(P, '10.0.0.1', obs('a', 'up', T0)), 'up');
    // b counts from a's connection: 1:1 keeps up, then b's second vote would be a tie too.
    assert.equal(await b.recordObservation(P, '10.0.0.1', obs('b', 'down', T0)), 'up');
    assert.deepEqual(JSON.parse(fs.readFileSync(loc.file, 'utf8')).instances, {}, 'no heartbeats in the document');
    const seqBefore = JSON.parse(fs.readFileSync(loc.file, 'utf8')).seq;
    // a stops beating; b's next beat past the TTL prunes a, its vote and its zones: b decides alone.
    clock.now = T0 + 1500;
    await b.heartbeat('b', 1000, T0 + 1500);
    const doc = JSON.parse(fs.readFileSync(loc.file, 'utf8'));
    assert.equal(doc.seq, seqBefore + 1);
    assert.deepEqual(doc.recent.at(-1).pools, [P]);
    assert.deepEqual(doc.zones, { b: ['other.example.com'] });
    const m = (await a.readPool(P)).members[0];
    assert.equal(m.verdict, 'down');
    assert.deepEqual(m.observations.map((o) => o.instance), ['b']);
    assert.deepEqual(JSON.parse(fs.readFileSync(`${loc.file}.live`, 'utf8')).instances, { b: T0 + 1500 });
    assert.deepEqual([...(await a.snapshot()).instances.keys()], ['b']);
  });

  test('an old document with heartbeats inside still counts them; the first write moves them to the sidecar', async (t) => {
    const loc = backend.location(t);
    fs.mkdirSync(require('node:path').dirname(loc.file), { recursive: true });
    writeOldFormat(loc.file, { a: T0, b: T0 + 50 });
    const { store, clock } = openWithClock(loc, { instanceTtlMs: 1000 });
    clock.now = T0 + 100;
    // Before any write: read from the document alone (no sidecar yet).
    assert.equal(fs.existsSync(`${loc.file}.live`), false);
    assert.deepEqual([...(await store.snapshot()).instances], [['a', T0], ['b', T0 + 50]]);
    // a and b are live voters: b's "down" ties with a's "up" (keeps up), a's "down" makes it 0:2.
    assert.equal(await store.recordObservation(P, '10.0.0.1', obs('b', 'down', T0 + 100)), 'up');
    // That write moved the beats out of the document.
    assert.deepEqual(JSON.parse(fs.readFileSync(loc.file, 'utf8')).instances, {});
    assert.deepEqual(JSON.parse(fs.readFileSync(`${loc.file}.live`, 'utf8')).instances, { a: T0, b: T0 + 50 });
    assert.equal(await store.recordObservation(P, '10.0.0.1', obs('a', 'down', T0 + 100)), 'down');
    // Newest wins when both hold an instance (an older build wrote the document after this one).
    const doc = JSON.parse(fs.readFileSync(loc.file, 'utf8'));
    doc.instances = { a: T0 + 900, b: T0 };
    fs.writeFileSync(loc.file, JSON.stringify(doc));
    assert.deepEqual([...(await store.snapshot()).instances], [['a', T0 + 900], ['b', T0 + 50]]);
    // b is stale at T0 + 1100 whichever file is read; a's beat prunes it from both.
    clock.now = T0 + 1100;
    await store.heartbeat('a', 1000, T0 + 1100);
    assert.deepEqual(JSON.parse(fs.readFileSync(loc.file, 'utf8')).instances, {});
    assert.deepEqual(JSON.parse(fs.readFileSync(`${loc.file}.live`, 'utf8')).instances, { a: T0 + 1100 });
    assert.deepEqual((await store.readPool(P)).members[0].observations.map((o) => o.instance), ['a']);
  });

  test('a store that is only the document (no sidecar, nothing written) reads correctly', async (t) => {
    const loc = backend.location(t);
    fs.mkdirSync(require('node:path').dirname(loc.file), { recursive: true });
    writeOldFormat(loc.file, { a: T0 });
    const { store, clock } = openWithClock(loc, { instanceTtlMs: 1000 });
    clock.now = T0 + 10;
    const snap = await store.snapshot();
    assert.deepEqual([...snap.instances.keys()], ['a']);
    assert.deepEqual(snap.zones, ['lb.example.com']);
    assert.equal(snap.pools.get(P).members[0].verdict, 'up');
    assert.equal(fs.existsSync(`${loc.file}.live`), false, 'reading writes nothing');
  });

  test('a corrupt sidecar is reported once and read as empty; the next heartbeat rewrites it', async (t) => {
    const loc = backend.location(t);
    const { log, entries } = captureLog();
    const { store, clock } = openWithClock(loc, { log });
    await store.setPool(pool(P));
    await store.heartbeat('a', 5000, T0);
    fs.writeFileSync(`${loc.file}.live`, '{"format":"tierdns-live","vers');
    const reports = () => entries.filter((e) => e.code === 'TIERDNS_E_STORE_DATA' && e.msg.includes('.live'));
    assert.equal((await store.snapshot()).instances.size, 0);
    assert.equal((await store.snapshot()).instances.size, 0);
    assert.equal(reports().length, 1, JSON.stringify(entries));
    assert.match(reports()[0].msg, /not valid JSON/);
    // Writes keep working; a's next beat rewrites the sidecar and a votes again.
    await store.updateMember(P, '10.0.0.1', { create: true });
    clock.now = T0 + 10;
    await store.heartbeat('a', 5000, T0 + 10);
    assert.deepEqual([...(await store.snapshot()).instances], [['a', T0 + 10]]);
    assert.equal(await store.recordObservation(P, '10.0.0.1', obs('a', 'up', T0 + 10)), 'up');
    // Not a heartbeat file at all: a new version of the file, so reported again, and read as empty.
    fs.writeFileSync(`${loc.file}.live`, '[1,2]');
    assert.equal((await store.snapshot()).instances.size, 0);
    assert.equal(reports().length, 2);
    assert.match(reports()[1].msg, /not a tierdns heartbeat file/);
    // A newer sidecar is refused, never overwritten (that would prune the instances it holds).
    fs.writeFileSync(`${loc.file}.live`, '{"format":"tierdns-live","version":2,"instances":{}}');
    assert.equal(await code(store.heartbeat('a', 5000, T0 + 20)), 'TIERDNS_E_STORE_VERSION');
    assert.equal(await code(store.snapshot()), 'TIERDNS_E_STORE_VERSION');
  });
});


describe('file store: a full read decodes members on first use', () => {
  const backend = fileBackend();
  before(() => backend.before());
  after(() => backend.after());

  test('members read later are what a whole decode gives; bad entries are reported then; the view serializes whole', async (t) => {
    const loc = backend.location(t);
    const { store } = openWithClock(loc);
    await store.setPool(pool(P));
    await store.setPool(pool('b.lb.example.com', { check: 'none' }));
    await store.updateMember(P, '10.0.0.2', { weight: 2, create: true });
    await store.updateMember(P, '10.0.0.1', { create: true });
    await store.updateMember('b.lb.example.com', '2001:db8::1', { create: true });
    await store.recordObservation(P, '10.0.0.1', obs('ns1', 'up', T0));
    await loc.corruptMember(P, '10.0.0.9', '{"ip":"10.0.0.9","weight":"heavy"}');
    const { log, entries } = captureLog();
    const reader = loc.open({ log, nowMs: () => T0 });
    const snap = await reader.snapshot();
    const problems = () => entries.filter((e) => /10\.0\.0\.9/.test(e.msg ?? ''));
    assert.equal(problems().length, 0, 'members are not decoded by the read itself');
    const view = snap.pools.get(P);
    const members = view.members;
    assert.equal(problems().length, 1, 'the bad member is reported when the pool is first used');
    assert.deepEqual(members.map((m) => m.ip), ['10.0.0.1', '10.0.0.2']);
    assert.equal(members.find((m) => m.ip === '10.0.0.1').observations[0].state, 'up');
    // The same as reading the one pool, which decodes at once (the bad member is left out).
    assert.deepEqual(view.members, (await reader.readPool(P)).members);
    // Decoded once: later uses get the same list; JSON (the state-dir save) carries the members.
    assert.equal(view.members, members);
    assert.deepEqual(JSON.parse(JSON.stringify(view)), JSON.parse(JSON.stringify({ config: view.config, members })));
    const other = snap.pools.get('b.lb.example.com');
    assert.deepEqual(JSON.parse(JSON.stringify(other)).members.map((m) => m.ip), ['2001:db8::1']);
  });
});

describe('redis store: a full read re-reads the pools whose serving parts changed', () => {
  const backend = redisBackend();
  before(() => backend.before());
  after(() => backend.after());

  test('hand edits of config, member, verdict or observation state are read; last-probe details are not', async (t) => {
    const { rawClient } = require('./helpers/redis');
    const loc = backend.location(t);
    const { store } = openWithClock(loc);
    const names = ['config', 'member', 'verdict', 'state', 'probe', 'untouched'].map((n) => `${n}.lb.example.com`);
    for (const name of names) {
      await store.setPool(pool(name));
      await store.updateMember(name, '10.0.0.1', { create: true });
      await store.recordObservation(name, '10.0.0.1', obs('ns1', 'up', T0, { lastProbeMs: T0 }));
    }
    const first = await store.snapshot();
    const c = await rawClient(backend.server.url);
    t.after(() => c.disconnect());
    const p = loc.prefix;
    await c.set(`${p}pool:${names[0]}`, JSON.stringify(pool(names[0], { ttlSeconds: 9 })));
    await c.hset(`${p}members:${names[1]}`, '10.0.0.1', JSON.stringify({ ip: '10.0.0.1', weight: 4, admin: 'enabled', addedAtMs: T0 }));
    await c.hset(`${p}verdicts:${names[2]}`, '10.0.0.1', JSON.stringify({ verdict: 'down', sinceMs: T0 + 1 }));
    await c.hset(`${p}obs:${names[3]}`, '10.0.0.1|ns1', JSON.stringify(obs('ns1', 'down', T0 + 1, { lastProbeMs: T0 })));
    await c.hset(`${p}obs:${names[4]}`, '10.0.0.1|ns1', JSON.stringify(obs('ns1', 'up', T0, { lastProbeMs: T0 + 5, lastLatencyMs: 2 })));
    const second = await store.snapshot(first.pools);
    const reread = names.filter((n) => second.pools.get(n) !== first.pools.get(n));
    assert.deepEqual(reread, names.slice(0, 4));
    assert.equal(second.pools.get(names[0]).config.ttlSeconds, 9);
    assert.equal(second.pools.get(names[3]).members[0].observations[0].state, 'down');
  });

  test('a pool key of the wrong type spoils that pool alone: reported, its last view kept, the rest read', async (t) => {
    const { rawClient } = require('./helpers/redis');
    const loc = backend.location(t);
    const { log, entries } = captureLog();
    const { store } = openWithClock(loc, { log });
    const [good, bad, wrongConfig, untouched] = ['good', 'bad', 'wrongconfig', 'zz-untouched'].map((n) => `${n}.lb.example.com`);
    for (const name of [good, bad, wrongConfig, untouched]) {
      await store.setPool(pool(name));
      await store.updateMember(name, '10.0.0.1', { create: true });
    }
    const first = await store.snapshot();
    const c = await rawClient(backend.server.url);
    t.after(() => c.disconnect());
    const p = loc.prefix;
    // Hand edits that leave a key of another type: a string where a hash belongs, and a hash
    // where the config string belongs.
    await c.del(`${p}members:${bad}`);
    await c.set(`${p}members:${bad}`, 'garbage');
    await c.del(`${p}pool:${wrongConfig}`);
    await c.hset(`${p}pool:${wrongConfig}`, 'x', '1');
    await store.updateMember(good, '10.0.0.2', { create: true });
    const second = await store.snapshot(first.pools);
    assert.deepEqual(second.pools.get(good).members.map((m) => m.ip), ['10.0.0.1', '10.0.0.2'], 'the good pool is read');
    assert.equal(second.pools.get(bad), first.pools.get(bad), 'the broken pool keeps its last view');
    assert.equal(second.pools.get(wrongConfig), first.pools.get(wrongConfig));
    assert.equal(second.pools.get(untouched), first.pools.get(untouched), 'digests stay matched to their pools past a broken one');
    const reports = entries.filter((e) => e.code === 'TIERDNS_E_STORE_DATA').map((e) => e.msg);
    for (const name of [bad, wrongConfig]) assert.ok(reports.some((m) => m.includes(`pool ${name}`) && /WRONGTYPE/.test(m)), JSON.stringify(reports));
    // A fresh reader (no last view) serves the rest; reading the broken pool names it.
    const { store: fresh } = openWithClock(loc);
    assert.deepEqual([...(await fresh.snapshot()).pools.keys()], [good, untouched]);
    await assert.rejects(fresh.readPool(bad), (err) => err.code === 'TIERDNS_E_STORE_DATA' && err.message.includes(`pool ${bad}`));
  });
});
