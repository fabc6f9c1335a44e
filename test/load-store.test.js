'use strict';
// Load through the store (docs/steering.md): the pool's load settings, each instance's load
// observation and the shared load merged over live instances like a verdict, on Redis and on
// the file store alike; a change of the shared load notifies serving instances, drift does not.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { redisBackend, fileBackend, waitFor, pool } = require('./helpers/store');

const P = 'ws.lb.example.com';
const T0 = 1_700_000_000_000;
const IP = '10.0.0.1';

function obs(instance, factor, extra = {}) {
  return { instance, state: 'up', sinceMs: T0, load: { factor, state: 'ready', readMs: T0, ...extra } };
}

for (const backend of [redisBackend(), fileBackend()]) {
  describe(`load in the store: ${backend.name}`, () => {
    before(() => backend.before());
    after(() => backend.after());

    async function setup(t, config = { load: 'json', loadPort: 9100, loadPath: '/load', capacity: 500, slowStartMs: 30_000 }) {
      const clock = { now: T0 };
      const store = backend.location(t).open({ nowMs: () => clock.now });
      await store.setPool(pool(P, config));
      await store.updateMember(P, IP, { weight: 3, create: true });
      for (const i of ['a', 'b', 'c']) await store.heartbeat(i, 5000, T0);
      return { store, clock };
    }

    test('load settings are kept; a config stored without them reads as no feed', async (t) => {
      const { store } = await setup(t);
      const c = (await store.readPool(P)).config;
      assert.deepEqual([c.load, c.loadPort, c.loadPath, c.capacity, c.slowStartMs], ['json', 9100, '/load', 500, 30_000]);
      await assert.rejects(store.setPool(pool(P, { load: 'nginx', capacity: 0 })), { code: 'TIERDNS_E_BAD_VALUE' });
      await assert.rejects(store.setPool(pool(P, { load: 'carrier-pigeon' })), { code: 'TIERDNS_E_BAD_VALUE' });
      await assert.rejects(store.setPool(pool(P, { loadPort: 70000 })), { code: 'TIERDNS_E_BAD_VALUE' });
    });

    test('the shared load is the median factor of live instances and the state most report', async (t) => {
      const { store } = await setup(t);
      await store.recordObservation(P, IP, obs('a', 0.2, { connections: 400, capacity: 500 }));
      let m = (await store.readPool(P)).members[0];
      assert.deepEqual(m.load, { factor: 0.2, state: 'ready' }, 'a lone reading decides');
      await store.recordObservation(P, IP, obs('b', 0.9));
      await store.recordObservation(P, IP, obs('c', 0.5));
      m = (await store.readPool(P)).members[0];
      assert.deepEqual(m.load, { factor: 0.5, state: 'ready' });
      assert.deepEqual(m.observations.find((o) => o.instance === 'a').load, { factor: 0.2, state: 'ready', readMs: T0, connections: 400, capacity: 500 });
      await store.recordObservation(P, IP, obs('a', 0.2, { state: 'drain' }));
      await store.recordObservation(P, IP, obs('b', 0.9, { state: 'drain' }));
      m = (await store.readPool(P)).members[0];
      assert.deepEqual(m.load, { factor: 0.5, state: 'drain' }, 'two of three say drain');
      assert.equal(m.verdict, 'up', 'the load does not touch the verdict');
    });

    test('a stale instance stops counting; a pool whose feed is turned off serves no load', async (t) => {
      const { store, clock } = await setup(t);
      for (const [i, f] of [['a', 0.1], ['b', 0.1], ['c', 0.9]]) await store.recordObservation(P, IP, obs(i, f));
      assert.equal((await store.readPool(P)).members[0].load.factor, 0.1);
      clock.now = T0 + 8000;
      await store.heartbeat('c', 5000, T0 + 8000);
      assert.deepEqual((await store.readPool(P)).members[0].load, { factor: 0.9, state: 'ready' }, 'a and b went stale');
      await store.setPool(pool(P, { load: 'none' }));
      assert.equal((await store.readPool(P)).members[0].load, undefined);
    });

    test('a new shared load notifies watchers; a last-probe refresh of the same factor does not', async (t) => {
      const { store } = await setup(t);
      const seen = [];
      const unwatch = await store.watch((change) => seen.push(change));
      t.after(() => unwatch());
      await store.recordObservation(P, IP, obs('a', 0.4));
      await waitFor(() => seen.length > 0, 3000, 'a notification');
      assert.equal(await store.refreshObservation(P, IP, obs('a', 0.4, { connections: 12 })), true);
      const before = seen.length;
      // A later change is heard; had the refresh notified, it would be heard before it.
      await store.recordObservation(P, IP, obs('b', 0.8));
      await waitFor(() => seen.length > before, 3000, 'the second notification');
      assert.equal(seen.length, before + 1);
      assert.equal((await store.readPool(P)).members[0].observations[0].load.connections, 12);
    });

    test('malformed load entries are refused on write', async (t) => {
      const { store } = await setup(t);
      for (const load of [{ factor: -1, state: 'ready', readMs: T0 }, { factor: NaN, state: 'ready', readMs: T0 }, { factor: 0.5, state: 'sleepy', readMs: T0 }, { factor: 0.5, state: 'ready', readMs: T0, connections: -4 }]) {
        await assert.rejects(store.recordObservation(P, IP, { instance: 'a', state: 'up', sinceMs: T0, load }), { code: 'TIERDNS_E_BAD_VALUE' });
      }
    });
  });
}
