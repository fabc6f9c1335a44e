'use strict';
// Which verdicts an instance answers with: the shared ones normally, its own
// while the store cannot be reached, and the shared ones again only once the store holds this
// instance's votes and agrees. A fake clock, views built by hand; the end-to-end proof with a
// real Redis and real DNS is store-outage-health.test.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const pino = require('pino');
const { OwnVerdicts, CATCH_UP_MAX_MS, withOwn } = require('../dist/server/ownVerdicts');
const { ObservationWriter } = require('../dist/health/observationWriter');
const { ManualClock } = require('../dist/health/clock');
const { defaultPoolConfig } = require('../dist/model/poolConfig');

const defaultConfig = (name, over = {}) => ({ ...defaultPoolConfig(name), ...over });

const POOL = 'ws.lb.example.com';
const silent = pino({ level: 'silent' });

function member(ip, verdict, votes = {}) {
  return {
    ip, weight: 1, admin: 'enabled', addedAtMs: 0, verdict, verdictSinceMs: 0,
    observations: Object.entries(votes).map(([instance, [state, sinceMs]]) => ({ instance, state, sinceMs })),
  };
}

function setup() {
  const clock = new ManualClock();
  const views = new Map();
  const served = new Map();
  let lastSyncMs = 0;
  const own = new OwnVerdicts({
    instance: 'ns1', log: silent, clock, views: () => views,
    serve: (name, view) => served.set(name, view), lastSyncMs: () => lastSyncMs,
  });
  const store = (members) => {
    const view = { config: defaultConfig(POOL), members };
    views.set(POOL, view);
    own.pool(POOL, view);
  };
  const verdictOf = (ip) => served.get(POOL).members.find((m) => m.ip === ip).verdict;
  return { clock, own, store, verdictOf, served, fullRead: () => { lastSyncMs = clock.now(); } };
}

test('store reachable: the shared verdicts are served, own states change nothing', () => {
  const s = setup();
  s.store([member('10.0.0.1', 'up', { ns1: ['up', 5] }), member('10.0.0.2', 'up', { ns1: ['up', 5] })]);
  s.own.setOwn(POOL, '10.0.0.2', { state: 'down', sinceMs: 10 });
  assert.equal(s.verdictOf('10.0.0.2'), 'up');
  assert.equal(s.own.verdictSource, 'shared');
});

test('store unreachable: own states are served at once and as they change', () => {
  const s = setup();
  s.store([member('10.0.0.1', 'up'), member('10.0.0.2', 'up')]);
  s.own.setOwn(POOL, '10.0.0.2', { state: 'down', sinceMs: 10 });
  s.own.setStoreReady(false);
  assert.equal(s.own.verdictSource, 'own');
  assert.equal(s.verdictOf('10.0.0.2'), 'down');
  assert.equal(s.verdictOf('10.0.0.1'), 'up');
  s.own.setOwn(POOL, '10.0.0.1', { state: 'down', sinceMs: 20 });
  assert.equal(s.verdictOf('10.0.0.1'), 'down');
  s.own.setOwn(POOL, '10.0.0.2', { state: 'up', sinceMs: 30 });
  assert.equal(s.verdictOf('10.0.0.2'), 'up');
});

test('failing observation writes alone are enough to answer with own states', () => {
  const s = setup();
  s.store([member('10.0.0.1', 'up')]);
  s.own.setOwn(POOL, '10.0.0.1', { state: 'down', sinceMs: 10 });
  s.own.setWritesOk(false);
  assert.equal(s.verdictOf('10.0.0.1'), 'down');
});

test('back: own states stay until a full read shows this instance\'s vote and an agreeing verdict', () => {
  const s = setup();
  s.store([member('10.0.0.1', 'up', { ns1: ['up', 5] })]);
  s.own.setStoreReady(false);
  s.own.setOwn(POOL, '10.0.0.1', { state: 'down', sinceMs: 10 });
  s.clock.advance(5000);
  s.own.setStoreReady(true);
  assert.equal(s.own.verdictSource, 'catching-up');
  // The store as it was before the outage: the old vote, the old verdict.
  s.store([member('10.0.0.1', 'up', { ns1: ['up', 5] })]);
  s.fullRead();
  s.clock.advance(500);
  assert.equal(s.verdictOf('10.0.0.1'), 'down', 'the stale shared verdict was served');
  // Our vote is in, but the verdict still says up (another instance's stale vote).
  s.store([member('10.0.0.1', 'up', { ns1: ['down', 10], ns2: ['up', 5] })]);
  s.clock.advance(500);
  assert.equal(s.verdictOf('10.0.0.1'), 'down');
  s.store([member('10.0.0.1', 'down', { ns1: ['down', 10], ns2: ['down', 12] })]);
  s.clock.advance(200);
  assert.equal(s.own.verdictSource, 'shared');
  assert.equal(s.verdictOf('10.0.0.1'), 'down');
});

test('back: a real disagreement (this instance outvoted) gives way to the shared verdict after CATCH_UP_MAX_MS', () => {
  const s = setup();
  s.store([member('10.0.0.1', 'up', { ns1: ['up', 5] })]);
  s.own.setStoreReady(false);
  s.own.setOwn(POOL, '10.0.0.1', { state: 'down', sinceMs: 10 });
  s.own.setStoreReady(true);
  s.store([member('10.0.0.1', 'up', { ns1: ['down', 10], ns2: ['up', 5], ns3: ['up', 5] })]);
  s.fullRead();
  s.clock.advance(CATCH_UP_MAX_MS - 200);
  assert.equal(s.verdictOf('10.0.0.1'), 'down');
  s.clock.advance(400);
  assert.equal(s.own.verdictSource, 'shared');
  assert.equal(s.verdictOf('10.0.0.1'), 'up');
});

test('the store dropping again during the catch-up goes back to own states', () => {
  const s = setup();
  s.store([member('10.0.0.1', 'up', { ns1: ['up', 5] })]);
  s.own.setStoreReady(false);
  s.own.setOwn(POOL, '10.0.0.1', { state: 'down', sinceMs: 10 });
  s.own.setStoreReady(true);
  s.own.setStoreReady(false);
  assert.equal(s.own.verdictSource, 'own');
  s.clock.advance(CATCH_UP_MAX_MS * 2);
  assert.equal(s.own.verdictSource, 'own');
  assert.equal(s.verdictOf('10.0.0.1'), 'down');
});

test('withOwn keeps the view when nothing differs, and check-none pools are never overlaid', () => {
  const view = { config: defaultConfig(POOL), members: [member('10.0.0.1', 'up')] };
  assert.equal(withOwn(view, new Map([['10.0.0.1', { state: 'up', sinceMs: 1 }]])), view);
  const s = setup();
  s.own.setStoreReady(false);
  s.own.setOwn(POOL, '10.0.0.1', { state: 'down', sinceMs: 10 });
  const none = { config: defaultConfig(POOL, { check: 'none' }), members: [member('10.0.0.1', 'unknown')] };
  s.own.pool(POOL, none);
  assert.equal(s.served.get(POOL), none);
});

test('ObservationWriter: a state change that hangs marks writes failing; one that lands clears it', async () => {
  const clock = new ManualClock();
  const health = [];
  let release;
  const store = {
    onStatus() {},
    recordObservation: () => new Promise((resolve) => { release = resolve; }),
  };
  const writer = new ObservationWriter({ store, log: silent, clock, onHealth: (ok) => health.push(ok) },
    () => ({ pool: POOL, ip: '10.0.0.1', obs: { instance: 'ns1', state: 'down', sinceMs: 1 } }));
  writer.start();
  writer.changed('k');
  await new Promise((r) => setImmediate(r));
  clock.advance(400);
  assert.deepEqual(health, []);
  clock.advance(200);
  assert.deepEqual(health, [false]);
  release('down');
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(health, [false, true]);
  await writer.stop(0);
});
