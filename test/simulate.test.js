'use strict';
// The steering simulation (scripts/simulate, docs/steering.md) in a small world: the same seed
// gives the same run, and on the real answer code steering evens the tiers out after a restart
// sooner than round-robin does, without more refusals at capacity.

const test = require('node:test');
const assert = require('node:assert/strict');
const { WORLD, run } = require('../scripts/simulate/world');
const { metrics } = require('../scripts/simulate/report');

const SMALL = { ...WORLD, capacity: 2000, resolvers: 100, restartAtS: 1200, durationS: 3 * 3600 };

test('deterministic: one seed, one run', () => {
  const a = run({ load: 'json', slowStartMs: 0 }, 11, { ...SMALL, durationS: 1800 });
  const b = run({ load: 'json', slowStartMs: 0 }, 11, { ...SMALL, durationS: 1800 });
  assert.deepEqual(a.samples, b.samples);
  assert.deepEqual(a.counters, b.counters);
});

test('steering evens the tiers out after a restart sooner than round-robin', () => {
  const rr = metrics(run({ load: 'none', slowStartMs: 0 }, 3, SMALL), SMALL.capacity);
  const steer = metrics(run({ load: 'json', slowStartMs: 0 }, 3, SMALL), SMALL.capacity);
  assert.ok(steer.evenS !== undefined, 'steering evens out within the run');
  assert.ok(rr.evenS === undefined || steer.evenS < rr.evenS / 2, `steering ${steer.evenS} s, round-robin ${rr.evenS} s`);
  assert.ok(steer.meanImb < rr.meanImb, `mean imbalance ${steer.meanImb} vs ${rr.meanImb}`);
  assert.ok(steer.refusedFull <= rr.refusedFull, `refused at capacity ${steer.refusedFull} vs ${rr.refusedFull}`);
});
