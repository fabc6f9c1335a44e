'use strict';
// The per-member state machine and the quorum rule (PRODUCT.md §5), with a fake clock: no
// sockets, no timers, every step explicit.

const test = require('node:test');
const assert = require('node:assert/strict');
const { MemberHealth, JITTER_FRACTION } = require('../dist/health/memberHealth');
const { mergeVerdict } = require('../dist/model/verdict');
const { ManualClock } = require('../dist/health/clock');
const { Scheduler } = require('../dist/health/scheduler');

const timing = { intervalMs: 2000, fastIntervalMs: 500, rise: 2, fall: 3 };
const fresh = (state = 'unknown', sinceMs = 0) => new MemberHealth({ ...timing }, { state, sinceMs });
const obs = (instance, state) => ({ instance, state, sinceMs: 0 });

test('the first result of a new member decides unknown → up or down', () => {
  const up = fresh();
  assert.deepEqual(up.record(true, 100), { from: 'unknown', to: 'up', streak: 1 });
  assert.equal(up.sinceMs, 100);
  const down = fresh();
  assert.deepEqual(down.record(false, 200), { from: 'unknown', to: 'down', streak: 1 });
  assert.equal(down.state, 'down');
});

test('up → down only after fall consecutive failures; a success resets the count', () => {
  const h = fresh('up');
  assert.equal(h.record(false, 1), undefined);
  assert.equal(h.record(false, 2), undefined);
  assert.equal(h.record(true, 3), undefined);
  assert.equal(h.failures, 0);
  assert.equal(h.record(false, 4), undefined);
  assert.equal(h.record(false, 5), undefined);
  assert.equal(h.state, 'up');
  assert.deepEqual(h.record(false, 6), { from: 'up', to: 'down', streak: 3 });
  assert.equal(h.sinceMs, 6);
  // Further failures change nothing.
  assert.equal(h.record(false, 7), undefined);
});

test('down → up only after rise consecutive successes; a failure resets the count', () => {
  const h = fresh('down');
  assert.equal(h.record(true, 1), undefined);
  assert.equal(h.record(false, 2), undefined);
  assert.equal(h.successes, 0);
  assert.equal(h.record(true, 3), undefined);
  assert.deepEqual(h.record(true, 4), { from: 'down', to: 'up', streak: 2 });
});

test('rise 1 and fall 1 switch on the first disagreeing result', () => {
  const h = new MemberHealth({ ...timing, rise: 1, fall: 1 }, { state: 'up', sinceMs: 0 });
  assert.equal(h.record(false, 1).to, 'down');
  assert.equal(h.record(true, 2).to, 'up');
});

test('fast-interval while results disagree with the state, interval otherwise', () => {
  const h = fresh('up');
  assert.equal(h.nextDelayMs(() => 0), 2000);
  h.record(false, 1);
  assert.equal(h.disagreeing, true);
  assert.equal(h.nextDelayMs(() => 0), 500);
  h.record(false, 2);
  h.record(false, 3);
  // Now down: failures agree with the state again.
  assert.equal(h.disagreeing, false);
  assert.equal(h.nextDelayMs(() => 0), 2000);
  h.record(true, 4);
  assert.equal(h.nextDelayMs(() => 0), 500);
  h.record(true, 5);
  assert.equal(h.nextDelayMs(() => 0), 2000);
});

test('jitter only shortens periods (bounds hold) and spreads first probes over one interval', () => {
  const h = fresh('up');
  for (const r of [0, 0.25, 0.5, 0.999]) {
    const d = h.nextDelayMs(() => r);
    assert.ok(d <= 2000 && d >= 2000 * (1 - JITTER_FRACTION), `delay ${d} for ${r}`);
  }
  assert.equal(h.firstDelayMs(() => 0), 0);
  assert.equal(h.firstDelayMs(() => 0.5), 1000);
  assert.ok(h.firstDelayMs(() => 0.9999) < 2000);
});

test('force(up) for check none; force to the same state only resets the counters', () => {
  const h = fresh('down');
  h.record(true, 1);
  assert.equal(h.force('down', 2), undefined);
  assert.equal(h.successes, 0);
  assert.deepEqual(h.force('up', 3), { from: 'down', to: 'up', streak: 0 });
});

/**
 * Drive one member with a fake clock: probes run instantly, the balancer is healthy before
 * `changeAt` and `healthyAfter` after it. Returns how long after `changeAt` the state flipped.
 */
function timeToFlip(startState, healthyAfter, phaseMs, random) {
  const clock = new ManualClock(0);
  const h = fresh(startState);
  const changeAt = 10_000;
  let flippedAt;
  const run = () => {
    const now = clock.now();
    const ok = now < changeAt ? !healthyAfter : healthyAfter;
    const change = h.record(ok, now);
    if (change && now >= changeAt && flippedAt === undefined) flippedAt = now;
    clock.setTimeout(run, h.nextDelayMs(random));
  };
  clock.setTimeout(run, phaseMs);
  clock.advance(30_000);
  return flippedAt - changeAt;
}

test('detection bounds: down within interval + (fall−1)×fast, up within interval + (rise−1)×fast', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  let worstDown = 0;
  let worstUp = 0;
  for (let phase = 0; phase < 2000; phase += 37) {
    worstDown = Math.max(worstDown, timeToFlip('up', false, phase, random));
    worstUp = Math.max(worstUp, timeToFlip('down', true, phase, random));
  }
  assert.ok(worstDown <= 2000 + 2 * 500, `down took ${worstDown} ms`);
  assert.ok(worstUp <= 2000 + 1 * 500, `up took ${worstUp} ms`);
  // And not trivially: hysteresis costs at least the fast re-probes.
  assert.ok(worstDown >= 2 * 500 * (1 - JITTER_FRACTION));
});

test('quorum: the majority of live instances decides', () => {
  const live = new Set(['a', 'b', 'c']);
  assert.equal(mergeVerdict('up', [obs('a', 'down'), obs('b', 'down'), obs('c', 'up')], live), 'down');
  assert.equal(mergeVerdict('down', [obs('a', 'up'), obs('b', 'up'), obs('c', 'down')], live), 'up');
  // One instance with a broken network cannot black out a member for everyone.
  assert.equal(mergeVerdict('up', [obs('a', 'up'), obs('b', 'up'), obs('c', 'down')], live), 'up');
});

test('quorum: ties keep the previous verdict; unknown observations do not vote', () => {
  const live = new Set(['a', 'b']);
  assert.equal(mergeVerdict('up', [obs('a', 'up'), obs('b', 'down')], live), 'up');
  assert.equal(mergeVerdict('down', [obs('a', 'up'), obs('b', 'down')], live), 'down');
  assert.equal(mergeVerdict('unknown', [obs('a', 'up'), obs('b', 'down')], live), 'unknown');
  assert.equal(mergeVerdict('down', [obs('a', 'up'), obs('b', 'unknown')], live), 'up');
  assert.equal(mergeVerdict('up', [], live), 'up');
});

test('quorum: stale instances do not vote; a lone instance decides alone', () => {
  const observations = [obs('a', 'down'), obs('b', 'up'), obs('c', 'up')];
  assert.equal(mergeVerdict('up', observations, new Set(['a'])), 'down');
  assert.equal(mergeVerdict('up', observations, new Set(['a', 'b', 'c'])), 'up');
  assert.equal(mergeVerdict('down', [obs('a', 'up')], new Set(['a'])), 'up');
  assert.equal(mergeVerdict('up', [obs('z', 'down')], new Set(['a'])), 'up');
});

test('scheduler: runs keys in due order, replaces schedules, caps starts per tick', () => {
  const clock = new ManualClock(0);
  const ran = [];
  const s = new Scheduler({ clock, run: (k) => ran.push([k, clock.now()]), canRun: () => true, maxPerTick: 2 });
  s.schedule('a', 300);
  s.schedule('b', 100);
  s.schedule('c', 100);
  s.schedule('d', 100);
  s.schedule('a', 50);
  s.cancel('c');
  clock.advance(1000);
  assert.deepEqual(ran.map(([k]) => k), ['a', 'b', 'd']);
  assert.equal(s.size, 0);
});

test('scheduler: moves, cancels and reschedules keep due order (against a model)', () => {
  let seed = 7;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let round = 0; round < 20; round++) {
    const clock = new ManualClock(0);
    const ran = [];
    const model = new Map(); // key -> [due, ticket]
    let ticket = 0;
    const s = new Scheduler({ clock, run: (k) => ran.push(k), canRun: () => true, maxPerTick: 1000 });
    for (let op = 0; op < 300; op++) {
      const key = `k${rand(40)}`;
      if (rand(5) === 0) {
        s.cancel(key);
        model.delete(key);
      } else {
        const due = 1 + rand(500);
        s.schedule(key, due);
        model.set(key, [due, ++ticket]);
      }
      assert.equal(s.size, model.size);
      assert.equal(s.dueOf(key), model.get(key)?.[0]);
    }
    const expected = [...model].sort(([, a], [, b]) => a[0] - b[0] || a[1] - b[1]).map(([k]) => k);
    clock.advance(1000);
    assert.deepEqual(ran, expected);
    assert.equal(s.size, 0);
    // A key that ran can be scheduled again, and runs again.
    s.schedule(expected[0], 1500);
    assert.equal(s.dueOf(expected[0]), 1500);
    clock.advance(1000);
    assert.equal(ran.at(-1), expected[0]);
  }
});

test('scheduler: yields to the event loop after maxPerTick starts', () => {
  const clock = new ManualClock(0);
  let tick = 0;
  const setTimeoutOrig = clock.setTimeout.bind(clock);
  clock.setTimeout = (fn, ms) => setTimeoutOrig(() => { tick++; fn(); }, ms);
  const ticks = [];
  const s = new Scheduler({ clock, run: () => ticks.push(tick), canRun: () => true, maxPerTick: 2 });
  for (const k of ['a', 'b', 'c', 'd', 'e']) s.schedule(k, 100);
  clock.advance(100);
  assert.deepEqual(ticks, [1, 1, 2, 2, 3]);
});

test('scheduler: waits at the in-flight limit until kicked', () => {
  const clock = new ManualClock(0);
  const ran = [];
  let room = 1;
  const s = new Scheduler({ clock, run: (k) => { ran.push(k); room--; }, canRun: () => room > 0 });
  for (const k of ['a', 'b', 'c']) s.schedule(k, 10);
  clock.advance(100);
  assert.deepEqual(ran, ['a']);
  room = 2;
  s.kick();
  clock.advance(1);
  assert.deepEqual(ran, ['a', 'b', 'c']);
  s.stop();
  assert.equal(clock.pending, 0);
});
