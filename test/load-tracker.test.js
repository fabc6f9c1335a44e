'use strict';
// One instance's view of a member's load (health/loadTracker.ts), driven by readings and a fake
// clock: the agent's sticky words, smoothing, a full member at once, the minimum factor, the
// hold through failed reads and the fallback to 1, and what is news for the store.

const test = require('node:test');
const assert = require('node:assert/strict');
const { LoadTracker, SMOOTHING_MS, HOLD_INTERVALS } = require('../dist/health/loadTracker');
const { MIN_FACTOR } = require('../dist/model/load');

const agent = (words) => ({ ok: true, agent: words, latencyMs: 1 });
const count = (connections, capacity) => ({ ok: true, count: capacity === undefined ? { connections } : { connections, capacity }, latencyMs: 1 });
const failed = (error = 'ECONNREFUSED') => ({ ok: false, error, latencyMs: 1 });
const T0 = 1_000_000;

test('agent words are sticky until the agent says otherwise (HAProxy agent-check)', () => {
  const t = new LoadTracker({ kind: 'agent', capacity: 0, intervalMs: 2000 });
  assert.equal(t.record(agent({ percent: 60 }), T0), 'changed');
  assert.equal(t.observation().factor, 0.6, 'the first reading is taken as it is');
  t.markPublished(0);
  assert.equal(t.record(agent({ admin: 'maint' }), T0 + 1000), 'changed');
  assert.equal(t.observation().state, 'maint', 'shown as the agent said it');
  t.markPublished(0);
  assert.equal(t.record(agent({ admin: 'drain' }), T0 + 2000), 'changed');
  assert.equal(t.observation().state, 'drain');
  t.markPublished(0);
  assert.equal(t.record(agent({ percent: 60 }), T0 + 4000), 'none', 'drain stays until ready');
  assert.equal(t.observation().state, 'drain');
  t.record(agent({ admin: 'ready', op: 'down' }), T0 + 6000);
  assert.equal(t.observation().state, 'down');
  assert.equal(t.agentDown, true);
  t.record(agent({ op: 'up' }), T0 + 8000);
  assert.equal(t.agentDown, false);
  assert.equal(t.observation().state, 'ready');
});

test('factors are smoothed over time; full is at once; below capacity never under the minimum', () => {
  const t = new LoadTracker({ kind: 'json', capacity: 0, intervalMs: 2000 });
  t.record(count(0, 100), T0);
  assert.equal(t.observation().factor, 1);
  t.markPublished(0);
  // A step to half full moves the factor 1 - e^-1 of the way in SMOOTHING_MS.
  assert.equal(t.record(count(50, 100), T0 + SMOOTHING_MS), 'moved');
  const expected = 1 - (1 - Math.exp(-1)) * 0.5;
  assert.ok(Math.abs(t.observation().factor - expected) < 1e-9, `${t.observation().factor} vs ${expected}`);
  assert.deepEqual([t.observation().connections, t.observation().capacity], [50, 100]);
  t.markPublished(0);
  assert.equal(t.record(count(100, 100), T0 + SMOOTHING_MS + 2000), 'changed', 'full is news at once');
  assert.equal(t.observation().factor, 0);
  t.markPublished(0);
  t.record(count(99, 100), T0 + SMOOTHING_MS + 4000);
  const back = t.observation().factor;
  assert.ok(back > 0 && back < expected, `below capacity again: smoothed down from before, not 0 (${back})`);
  t.record(count(100, 100), T0 + 20 * SMOOTHING_MS);
  t.record(count(99, 100), T0 + 21 * SMOOTHING_MS);
  assert.equal(t.observation().factor, MIN_FACTOR, 'one free slot after a long full spell: the smallest factor, not 0');
});

test('--capacity overrides the feed; a feed without a capacity is a failed read', () => {
  const t = new LoadTracker({ kind: 'json', capacity: 200, intervalMs: 2000 });
  t.record(count(50, 100), T0);
  assert.equal(t.observation().factor, 0.75);
  const n = new LoadTracker({ kind: 'nginx', capacity: 0, intervalMs: 2000 });
  n.record(count(50), T0);
  assert.match(n.observation().error, /no capacity/);
  assert.equal(n.observation().factor, 1);
});

test('failed reads keep the last factor for a while, then fall back to 1 and clear the agent state', () => {
  const t = new LoadTracker({ kind: 'agent', capacity: 0, intervalMs: 2000 });
  t.record(agent({ percent: 30, admin: 'drain' }), T0);
  t.markPublished(0);
  const holdMs = HOLD_INTERVALS * 2000;
  assert.equal(t.record(failed(), T0 + 2000), 'moved', 'a failing feed is shown in status while its factor is held');
  assert.deepEqual([t.observation().factor, t.observation().state, t.observation().error], [0.3, 'drain', 'ECONNREFUSED']);
  t.markPublished(T0 + 2000);
  assert.equal(t.record(failed(), T0 + holdMs - 1), 'none', 'the same failure again is no news');
  assert.equal(t.record(failed('timeout after 1000ms'), T0 + holdMs), 'changed');
  assert.deepEqual([t.observation().factor, t.observation().state, t.observation().error], [1, 'ready', 'timeout after 1000ms']);
});

test('a read that starts or stops failing is news even when the factor stays 1', () => {
  const t = new LoadTracker({ kind: 'agent', capacity: 0, intervalMs: 2000 });
  t.record(agent({ percent: 100 }), T0);
  t.markPublished(T0);
  assert.equal(t.record(failed(), T0 + 2000), 'moved');
  assert.equal(t.observation().error, 'ECONNREFUSED');
  t.markPublished(T0 + 2000);
  assert.equal(t.record(failed(), T0 + 4000), 'none');
  assert.equal(t.record(failed('agent closed the connection without a line'), T0 + 6000), 'moved', 'another reason replaces the shown one');
  t.markPublished(T0 + 6000);
  assert.equal(t.record(agent({ percent: 100 }), T0 + 8000), 'moved', 'reading again clears the error in status');
  assert.equal(t.observation().error, undefined);
  t.markPublished(T0 + 8000);
  assert.equal(t.record(agent({ percent: 100 }), T0 + 10000), 'none');
});

test('a restart seeds the factor from the stored observation', () => {
  const t = new LoadTracker({ kind: 'json', capacity: 0, intervalMs: 2000 }, { factor: 0.25, state: 'ready', readMs: T0 });
  assert.equal(t.observation().factor, 0.25);
  assert.equal(t.record(count(75, 100), T0 + 2000), 'none', 'the same load is no news');
});
