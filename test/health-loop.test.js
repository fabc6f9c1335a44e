'use strict';
// HealthLoop with a fake clock, fake probes and the real file store (the clock moves only once
// the store has answered, see helpers/stepped-store.js): scheduling (one probe in flight per
// member, jitter, fast-interval), detection bounds, store writes (state changes at once,
// refreshes rate-limited), outages, restarts and quorum. Real time and sockets are in
// health-loop-store.test.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const pino = require('pino');
const { HealthLoop } = require('../dist/health/loop');
const { ManualClock } = require('../dist/health/clock');
const { defaultPoolConfig } = require('../dist/model/poolConfig');
const { steppedFileStore } = require('./helpers/stepped-store');

const POOL = 'ws.lb.example.com';
const silent = pino({ level: 'silent' });

/** Advance the fake clock by `ms` in `step`s; after each, wait until the store has answered. */
async function run(clock, ms, step = 10) {
  for (let done = 0; done < ms; done += step) {
    clock.advance(step);
    await clock.store.settle();
  }
}

/** Run the clock in 10 ms steps until `pred()` holds; fail past `limitMs` of fake time. */
async function until(clock, pred, limitMs, what) {
  for (let waited = 0; !(await pred()); waited += 10) {
    if (waited >= limitMs) assert.fail(`${what}: not within ${limitMs} ms`);
    await run(clock, 10);
  }
}

async function member(store, ip) {
  return (await store.real.readPool(POOL))?.members.find((m) => m.ip === ip);
}

async function verdict(store, ip) {
  return (await member(store, ip))?.verdict;
}

async function observation(store, ip, instance) {
  return (await member(store, ip))?.observations.find((o) => o.instance === instance);
}

/** A fake clock with the store it steps with. */
function clockAndStore(t) {
  const clock = new ManualClock(1_000_000);
  clock.store = steppedFileStore(t, clock);
  return clock;
}

function seeded(seed = 1) {
  return () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
}

/**
 * A store with one pool of `ips`, and a loop on it fed with pool views on every change, like
 * `serve` does. `healthy(ip)` decides fake probe results unless `manual` keeps them pending.
 */
async function setup(t, { ips = ['127.0.0.11'], config = {}, instance = 'a', healthy = () => true, manual = false, clock, ...opts } = {}) {
  clock ??= clockAndStore(t);
  const { store } = clock;
  if (!(await store.real.readPool(POOL))) {
    await store.setPool({ ...defaultPoolConfig(POOL), ...config });
    await Promise.all(ips.map((ip) => (typeof ip === 'string' ? store.updateMember(POOL, ip, { create: true })
      : store.updateMember(POOL, ip.ip, { port: ip.port, create: true }))));
  }
  const calls = [];
  const probe = (target) => new Promise((resolve) => {
    const call = { target, atMs: clock.now(), resolve };
    calls.push(call);
    if (!manual) resolve({ ok: healthy(target.ip, target), latencyMs: 1, error: healthy(target.ip, target) ? undefined : 'ECONNREFUSED' });
  });
  const loop = new HealthLoop({ store, instance, log: silent, clock, random: seeded(), probe, ...opts });
  const unfollow = store.follow((name, view) => loop.updatePool(name, view));
  loop.updatePool(POOL, await store.real.readPool(POOL));
  loop.start();
  t.after(async () => {
    unfollow();
    for (const c of calls) c.resolve({ ok: true, latencyMs: 0 });
    await loop.stop();
  });
  return { clock, store, loop, calls };
}

test('at most one probe per member in flight, and the next one follows its result', async (t) => {
  const { clock, loop, calls } = await setup(t, { ips: ['127.0.0.11', '127.0.0.12'], manual: true });
  await run(clock, 10_000);
  assert.equal(calls.length, 2, 'probes that never finish are never doubled');
  assert.equal(loop.inFlight, 2);
  for (const c of calls) c.resolve({ ok: true, latencyMs: 1 });
  await run(clock, 2000);
  assert.equal(calls.length, 4);
  assert.deepEqual(calls.slice(2).map((c) => c.target.ip).sort(), ['127.0.0.11', '127.0.0.12']);
});

test('pool settings reach the probe; a member port overrides the pool port', async (t) => {
  const { clock, calls } = await setup(t, {
    ips: [{ ip: '127.0.0.11', port: 9000 }, '127.0.0.12'],
    config: { check: 'ws', port: 8080, path: '/ws', host: 'ws.example.com', timeoutMs: 700, expectMin: 101, expectMax: 101 },
  });
  await run(clock, 2000);
  const byIp = Object.fromEntries(calls.map((c) => [c.target.ip, c.target]));
  assert.equal(byIp['127.0.0.11'].port, 9000);
  assert.equal(byIp['127.0.0.12'].port, 8080);
  assert.deepEqual({ ...byIp['127.0.0.12'], port: 0 }, {
    ip: '127.0.0.12', port: 0, kind: 'ws', path: '/ws', host: 'ws.example.com', expectMin: 101, expectMax: 101, timeoutMs: 700,
  });
});

test('jitter spreads first probes over the first interval', async (t) => {
  const ips = Array.from({ length: 200 }, (_, i) => `127.0.${1 + (i >> 8)}.${i & 255}`);
  const { clock, calls } = await setup(t, { ips });
  const start = clock.now();
  await run(clock, 2000);
  const offsets = calls.map((c) => c.atMs - start);
  assert.equal(new Set(calls.map((c) => c.target.ip)).size, 200);
  assert.ok(Math.max(...offsets) < 2000 && Math.min(...offsets) >= 0);
  // Every quarter of the interval gets a fair share (a lump at 0 would fail this).
  for (let q = 0; q < 4; q++) {
    const n = offsets.filter((o) => o >= q * 500 && o < (q + 1) * 500).length;
    assert.ok(n > 25, `quarter ${q} got ${n} of 200 first probes`);
  }
});

test('a dead balancer goes down within interval + (fall−1)×fast, returns within interval + (rise−1)×fast', async (t) => {
  let alive = true;
  const { clock, store } = await setup(t, { healthy: () => alive });
  await run(clock, 3000);
  assert.equal(await verdict(store, '127.0.0.11'), 'up');
  alive = false;
  const killedAt = clock.now();
  await until(clock, async () => (await verdict(store, '127.0.0.11')) !== 'up', 10_000, 'down');
  const leave = clock.now() - killedAt;
  assert.ok(leave <= 2000 + 2 * 500 + 20, `left after ${leave} ms`);
  assert.ok(leave >= 2 * 450, `hysteresis: left after ${leave} ms`);
  alive = true;
  const revivedAt = clock.now();
  await until(clock, async () => (await verdict(store, '127.0.0.11')) !== 'down', 10_000, 'up again');
  const back = clock.now() - revivedAt;
  assert.ok(back <= 2000 + 500 + 20, `returned after ${back} ms`);
  assert.equal((await observation(store, '127.0.0.11', 'a')).state, 'up');
});

test('fast-interval while results disagree: probes 500 ms apart after a failure', async (t) => {
  let alive = true;
  const { clock, calls } = await setup(t, { healthy: () => alive });
  await run(clock, 4000);
  alive = false;
  const from = calls.length;
  await run(clock, 3000);
  const gaps = calls.slice(from).map((c, i, a) => (i ? c.atMs - a[i - 1].atMs : undefined)).slice(1, 3);
  for (const g of gaps) assert.ok(g <= 500 && g >= 450, `gap ${g}`);
});

test('writes: state changes at once; last-probe refreshes at most every refreshMs per member and refreshPerSecond overall', async (t) => {
  const ips = Array.from({ length: 300 }, (_, i) => (i < 250 ? `127.0.1.${i}` : `127.0.2.${i - 250}`));
  const { clock, store } = await setup(t, { ips, refreshMs: 5000, refreshPerSecond: 20 });
  await run(clock, 30_000, 50);
  const perMember = new Map();
  for (const w of store.writes) perMember.set(w.ip, (perMember.get(w.ip) ?? 0) + 1);
  assert.equal(perMember.size, 300, 'every state change recorded');
  assert.ok(Math.max(...perMember.values()) <= 1 + 30 / 5, 'refreshMs per member');
  const refreshes = store.writes.length - 300;
  assert.ok(refreshes <= 20 * 30 + 20, `${refreshes} refreshes in 30 s over a 20/s budget`);
  assert.ok(refreshes >= 20 * 25, `the budget is used: ${refreshes}`);
  assert.ok(store.heartbeats >= 29, `heartbeats: ${store.heartbeats}`);
});

test("writes: the store's observationRefreshMs (the file store's: 60 s) sets the refresh interval", async (t) => {
  const { clock, store } = await setup(t, { ips: ['127.0.0.11', '127.0.0.12'] });
  assert.equal(store.observationRefreshMs, 60_000);
  await run(clock, 130_000, 500);
  for (const ip of ['127.0.0.11', '127.0.0.12']) {
    const n = store.writes.filter((w) => w.ip === ip).length;
    // The state change, then a refresh a minute at most: 1 + 130 / 60.
    assert.ok(n >= 2 && n <= 3, `${ip}: ${n} writes in 130 s`);
  }
});

test('check none: up here without probing, and no observation written (answers ignore verdicts of check none)', async (t) => {
  const { clock, store, loop, calls } = await setup(t, { config: { check: 'none' } });
  const writes = store.writes.length;
  await run(clock, 5000);
  for (let i = 0; i < 5; i++) loop.updatePool(POOL, await store.real.readPool(POOL));
  await run(clock, 5000);
  assert.equal(calls.length, 0);
  assert.equal(loop.localState(POOL, '127.0.0.11'), 'up');
  assert.equal(store.writes.length, writes, 'no observation written');
  assert.deepEqual((await member(store, '127.0.0.11')).observations, []);
});

test('pool updates keep unchanged schedules, stop removed members, probe new ones', async (t) => {
  const { clock, store, loop, calls } = await setup(t, { ips: ['127.0.0.11', '127.0.0.12'] });
  await run(clock, 4000);
  const times = (ip) => calls.filter((c) => c.target.ip === ip).map((c) => c.atMs);
  const before = times('127.0.0.11');
  // Many identical updates (a resync, another member's change) do not move anyone's probes.
  for (let i = 0; i < 20; i++) {
    loop.updatePool(POOL, await store.real.readPool(POOL));
    await run(clock, 100);
  }
  const period = times('127.0.0.11').slice(before.length - 1);
  for (let i = 1; i < period.length; i++) assert.ok(period[i] - period[i - 1] >= 1800, 'schedule kept');
  await store.removeMember(POOL, '127.0.0.12');
  await store.updateMember(POOL, '127.0.0.13', { create: true });
  const removedAt = clock.now();
  await run(clock, 4000);
  assert.ok(times('127.0.0.12').every((at) => at <= removedAt));
  assert.ok(times('127.0.0.13').length >= 1);
  await store.removePool(POOL);
  const goneAt = clock.now();
  await run(clock, 4000);
  assert.ok(calls.every((c) => c.atMs <= goneAt));
});

test('a store outage: probing goes on, the state change is written when the store is back', async (t) => {
  let alive = true;
  const { clock, store, calls } = await setup(t, { healthy: () => alive });
  await run(clock, 3000);
  store.failing = true;
  alive = false;
  const probesBefore = calls.length;
  await run(clock, 10_000);
  assert.ok(calls.length - probesBefore >= 4, 'still probing');
  assert.equal(await verdict(store, '127.0.0.11'), 'up');
  store.failing = false;
  await run(clock, 6000);
  assert.equal(await verdict(store, '127.0.0.11'), 'down');
});

test('restart: the local state is seeded from this instance\'s stored observation', async (t) => {
  const clock = clockAndStore(t);
  const { store } = clock;
  await store.setPool(defaultPoolConfig(POOL));
  await store.updateMember(POOL, '127.0.0.11', { create: true });
  await store.heartbeat('a', 5000, clock.now());
  await store.recordObservation(POOL, '127.0.0.11', { instance: 'a', state: 'up', sinceMs: 5 });
  const { loop, calls } = await setup(t, { clock, healthy: () => false });
  assert.equal(loop.localState(POOL, '127.0.0.11'), 'up');
  await until(clock, () => calls.length >= 1, 5000, 'first probe');
  // One failure is not enough to go down after a restart: rise/fall carry over.
  assert.equal(loop.localState(POOL, '127.0.0.11'), 'up');
  await until(clock, () => calls.length >= 3, 5000, 'third probe');
  assert.equal(loop.localState(POOL, '127.0.0.11'), 'down');
});

test('an observation the store lost (this instance went stale) is written again', async (t) => {
  const { clock, store } = await setup(t);
  await run(clock, 3000);
  assert.equal((await observation(store, '127.0.0.11', 'a')).state, 'up');
  // Another instance's heartbeat finds a stale (a TTL shorter than a's last beat is old): a's
  // votes are dropped, as when a really misses its beats.
  await run(clock, 5, 5);
  await store.heartbeat('z', 1, clock.now());
  assert.equal(await observation(store, '127.0.0.11', 'a'), undefined);
  await run(clock, 100);
  assert.equal((await observation(store, '127.0.0.11', 'a')).state, 'up');
});

test('quorum through three loops: one instance that cannot reach a member does not take it out', async (t) => {
  const clock = clockAndStore(t);
  let alive = true;
  await setup(t, { clock, instance: 'a', healthy: () => alive });
  await setup(t, { clock, instance: 'b', healthy: () => alive });
  const c = await setup(t, { clock, instance: 'c', healthy: () => false });
  await run(clock, 5000);
  assert.equal(c.loop.localState(POOL, '127.0.0.11'), 'down');
  assert.equal(await verdict(clock.store, '127.0.0.11'), 'up');
  assert.deepEqual((await member(clock.store, '127.0.0.11')).observations.map((o) => `${o.instance}=${o.state}`), ['a=up', 'b=up', 'c=down']);
  alive = false;
  await run(clock, 4000);
  assert.equal(await verdict(clock.store, '127.0.0.11'), 'down');
});

test('logs: a state change at info, a single failure at debug', async (t) => {
  const lines = [];
  const log = pino({ level: 'debug' }, { write: (l) => lines.push(JSON.parse(l)) });
  let alive = true;
  const { clock } = await setup(t, { healthy: () => alive, log });
  await run(clock, 3000);
  alive = false;
  await run(clock, 2100);
  const failure = lines.find((l) => l.level === 20 && /failed/.test(l.msg));
  assert.ok(failure, 'single failure logged at debug');
  assert.equal(failure.error, 'ECONNREFUSED');
  await run(clock, 3000);
  const change = lines.find((l) => l.level === 30 && l.to === 'down');
  assert.match(change.msg, /127\.0\.0\.11:80 in ws\.lb\.example\.com is down here \(3 failures: ECONNREFUSED\)/);
});

test('pool setting changes apply at once: a shorter interval, a new port, check none', async (t) => {
  const { clock, store, calls, loop } = await setup(t, { config: { intervalMs: 60_000, fastIntervalMs: 15_000 } });
  await until(clock, () => calls.length >= 1, 60_000, 'first probe');
  // Without the change, the next probe would be ~a minute away.
  await store.updatePool(POOL, (c) => ({ ...c, intervalMs: 1000, fastIntervalMs: 250, timeoutMs: 500, port: 8081 }));
  await run(clock, 3000);
  const after = calls.slice(1);
  assert.ok(after.length >= 2, `probes after the change: ${after.length}`);
  assert.ok(after.every((c) => c.target.port === 8081));
  await store.updatePool(POOL, (c) => ({ ...c, check: 'none' }));
  const n = calls.length;
  await run(clock, 3000);
  assert.equal(calls.length, n, 'check none is never probed');
  assert.equal(loop.localState(POOL, '127.0.0.11'), 'up');
});

test('the system clock continues a burst of due probes on the next turn, not after the next I/O', async () => {
  // The scheduler starts at most maxPerTick probes per turn and continues with a 0 ms timer.
  // That continuation must not wait for other work to wake the loop: an unref'd setImmediate
  // let poll block until the next timer or socket event, and probes started late.
  const { systemClock } = require('../dist/health/clock');
  const { Scheduler } = require('../dist/health/scheduler');
  const clock = systemClock();
  const ran = [];
  const scheduler = new Scheduler({ clock, run: (key) => ran.push(key), canRun: () => true, maxPerTick: 1 });
  const now = clock.now();
  for (let i = 0; i < 20; i++) scheduler.schedule(`m${i}`, now);
  // The only other event: a timer far away. All 20 must have run before it fires.
  const seenAtTimer = await new Promise((resolve) => setTimeout(() => resolve(ran.length), 2000));
  scheduler.stop();
  assert.equal(seenAtTimer, 20);
});
