'use strict';
// Store.syncPools and Store.updateMembers (the atomic steps behind `tierdns apply` and `member add`
// with several addresses), run against both stores: exact results, nothing written when
// nothing differs, all or nothing when one pool is refused, and health kept for members that stay.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { redisBackend, fileBackend, waitFor, pool } = require('./helpers/store');
const { storeState } = require('./helpers/cli');

const A = 'a.lb.example.com';
const B = 'b.lb.example.com';
const C = 'c.lb.example.com';
const T0 = 1_700_000_000_000;

function spec(name, members, over = {}) {
  return { config: pool(name, over), members: members.map((m) => ({ weight: 1, admin: 'enabled', ...m })) };
}

async function code(promise) {
  try {
    await promise;
  } catch (err) {
    return err.code;
  }
  return 'no error';
}

const summary = (plans) => plans.map((p) => `${p.name}:${p.action}:${p.members.map((m) => `${m.action}${m.ip}`).join(',')}`);

for (const backend of [redisBackend(), fileBackend()]) {
  describe(`bulk store operations: ${backend.name}`, () => {
    before(() => backend.before());
    after(() => backend.after());

    test('syncPools creates, changes and removes pools and members in one step; the same specs again write nothing', async (t) => {
      const loc = backend.location(t);
      const clock = { now: T0 };
      const store = loc.open({ nowMs: () => clock.now });
      await store.setPool(pool(C));
      let plans = await store.syncPools([
        spec(A, [{ ip: '10.0.0.1' }, { ip: '2001:db8::1', weight: 3, port: 8080, admin: 'drained' }], { ttlSeconds: 30 }),
        spec(B, []),
      ], []);
      assert.deepEqual(summary(plans), [`${A}:create:add10.0.0.1,add2001:db8::1`, `${B}:create:`]);
      const a = await store.readPool(A);
      assert.equal(a.config.ttlSeconds, 30);
      assert.deepEqual(a.members.map((m) => [m.ip, m.weight, m.port, m.admin, m.verdict, m.addedAtMs]), [
        ['10.0.0.1', 1, undefined, 'enabled', 'unknown', T0],
        ['2001:db8::1', 3, 8080, 'drained', 'unknown', T0],
      ]);

      // Health that instances recorded survives a change of the member's settings.
      await store.heartbeat('ns1', 60_000, T0);
      await store.recordObservation(A, '10.0.0.1', { instance: 'ns1', state: 'up', sinceMs: T0 });
      await store.recordObservation(A, '2001:db8::1', { instance: 'ns1', state: 'down', sinceMs: T0 });
      clock.now = T0 + 1000;
      const desired = [spec(A, [{ ip: '10.0.0.1', weight: 2 }, { ip: '10.0.0.3' }], { ttlSeconds: 30 }), spec(B, [])];
      plans = await store.syncPools(desired, [C]);
      assert.deepEqual(summary(plans), [`${A}:change:change10.0.0.1,add10.0.0.3,remove2001:db8::1`, `${B}:same:`, `${C}:remove:`]);
      assert.deepEqual(plans[0].members[0].changed, ['weight']);
      const snap = await store.snapshot();
      assert.deepEqual([...snap.pools.keys()], [A, B]);
      const members = snap.pools.get(A).members;
      assert.deepEqual(members.map((m) => [m.ip, m.weight, m.verdict, m.addedAtMs, m.observations.length]), [
        ['10.0.0.1', 2, 'up', T0, 1],
        ['10.0.0.3', 1, 'unknown', T0 + 1000, 0],
      ]);

      // Idempotent: nothing differs, nothing is written (byte for byte).
      const before = await storeState(loc);
      plans = await store.syncPools(desired, []);
      assert.deepEqual(plans.map((p) => p.action), ['same', 'same']);
      assert.deepEqual(await storeState(loc), before);
    });

    test('a member removed and added back starts without the old health', async (t) => {
      const loc = backend.location(t);
      const store = loc.open({ nowMs: () => T0 });
      await store.syncPools([spec(A, [{ ip: '10.0.0.1' }])], []);
      await store.heartbeat('ns1', 60_000, T0);
      await store.recordObservation(A, '10.0.0.1', { instance: 'ns1', state: 'down', sinceMs: T0 });
      await store.syncPools([spec(A, [])], []);
      await store.syncPools([spec(A, [{ ip: '10.0.0.1' }])], []);
      const [m] = (await store.readPool(A)).members;
      assert.equal(m.verdict, 'unknown');
      assert.deepEqual(m.observations, []);
    });

    test('one refused pool changes nothing of the others', async (t) => {
      const loc = backend.location(t);
      const store = loc.open();
      await store.syncPools([spec(A, [{ ip: '10.0.0.1' }])], []);
      const before = await storeState(loc);
      assert.equal(await code(store.syncPools([spec(B, [{ ip: '10.0.0.2' }]), spec(A, [{ ip: '10.0.0.1', weight: 0 }])], [])), 'TIERDNS_E_BAD_VALUE');
      assert.equal(await code(store.syncPools([spec(B, []), spec(A, [{ ip: '10.0.0.1' }, { ip: '10.0.0.01' }])], [])), 'TIERDNS_E_BAD_IP');
      assert.equal(await code(store.syncPools([spec(B, []), spec(A, [{ ip: '10.0.0.1' }, { ip: '10.0.0.1' }])], [])), 'TIERDNS_E_BAD_VALUE');
      assert.equal(await code(store.syncPools([spec(B, [], { timeoutMs: 5000 })], [A])), 'TIERDNS_E_BAD_VALUE');
      assert.deepEqual(await storeState(loc), before);
    });

    test('watchers hear every pool a sync changed', async (t) => {
      const loc = backend.location(t);
      const store = loc.open();
      const watcher = loc.open();
      await store.syncPools([spec(A, []), spec(B, [])], []);
      const seen = [];
      t.after(await watcher.watch((c) => seen.push(c.kind === 'pool' ? c.name : '*')));
      await store.syncPools([spec(A, [{ ip: '10.0.0.1' }]), spec(C, [])], [B]);
      await waitFor(() => seen.includes('*') || [A, B, C].every((n) => seen.includes(n)), 3000, 'change notifications');
    });

    test('updateMembers adds and changes several members at once, or none when one is refused', async (t) => {
      const loc = backend.location(t);
      const store = loc.open();
      await store.setPool(pool(A));
      await store.updateMember(A, '10.0.0.1', { create: true, weight: 5, admin: 'drained' });
      const updates = await store.updateMembers(A, [
        ['10.0.0.2', { create: true }], ['10.0.0.1', { create: true, port: 81 }], ['2001:DB8::2', { create: true, weight: 3 }],
      ]);
      assert.deepEqual(updates.map((u) => [u.before?.weight, u.after.ip, u.after.weight]), [
        [undefined, '10.0.0.2', 1], [5, '10.0.0.1', 5], [undefined, '2001:db8::2', 3],
      ]);
      assert.deepEqual((await store.readPool(A)).members.map((m) => [m.ip, m.weight, m.port, m.admin]), [
        ['10.0.0.1', 5, 81, 'drained'],
        ['10.0.0.2', 1, undefined, 'enabled'],
        ['2001:db8::2', 3, undefined, 'enabled'],
      ]);
      const before = await storeState(loc);
      assert.equal(await code(store.updateMembers(A, [['10.0.0.3', { create: true }], ['10.0.0.4', { create: true, weight: 0 }]])), 'TIERDNS_E_BAD_VALUE');
      assert.equal(await code(store.updateMembers(A, [['10.0.0.3', { create: true }], ['10.0.0.9', { weight: 2 }]])), 'TIERDNS_E_NO_MEMBER');
      assert.equal(await code(store.updateMembers(B, [['10.0.0.3', { create: true }]])), 'TIERDNS_E_NO_POOL');
      assert.deepEqual(await storeState(loc), before);
    });
  });
}

describe('bulk store operations: redis under probing', () => {
  const backend = redisBackend();
  before(() => backend.before());
  after(() => backend.after());

  test('a sync of many pools commits while an instance keeps recording observations', async (t) => {
    const loc = backend.location(t);
    const store = loc.open();
    const prober = loc.open();
    const names = Array.from({ length: 200 }, (_, i) => `p${i}.lb.example.com`);
    await store.syncPools(names.map((n) => spec(n, [{ ip: '10.0.0.1' }])), []);
    await prober.heartbeat('ns1', 60_000, Date.now());
    let stop = false;
    let recorded = 0;
    const probing = (async () => {
      for (let i = 0; !stop && i < 100_000; i++) {
        await prober.recordObservation(names[i % names.length], '10.0.0.1', { instance: 'ns1', state: i % 2 ? 'up' : 'down', sinceMs: Date.now() });
        recorded++;
      }
    })();
    await waitFor(() => recorded > 20, 5000, 'observations recorded');
    const plans = await store.syncPools(names.map((n) => spec(n, [{ ip: '10.0.0.1', weight: 2 }])), []);
    stop = true;
    await probing;
    assert.equal(plans.filter((p) => p.action === 'change').length, names.length);
    const snap = await store.snapshot();
    assert.ok([...snap.pools.values()].every((v) => v.members[0].weight === 2));
  });
});
