'use strict';
// Effective weights in answers (docs/steering.md), on the answer logic itself with a fake clock:
// shares follow weight × factor exactly over a window, full members are skipped until all are,
// the agent's drain keeps a member out, slow start ramps from 10% to 100%, and a change of
// weights carries the rotation on instead of restarting it.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Snapshot } = require('../dist/dns/snapshot');
const { defaultPoolConfig } = require('../dist/model/poolConfig');
const { parseZone } = require('../dist/zone/parse');

const P = 'ws.lb.example.com';
const ZONE = '$ORIGIN lb.example.com.\n@ 300 SOA ns1 h 1 7200 3600 1209600 60\n@ 300 NS ns1\nns1 300 A 127.0.0.1\n';
const T0 = 1_700_000_000_000;

function snapshot(clock = { now: T0 }) {
  const snap = new Snapshot({ now: () => clock.now });
  snap.setZones([parseZone(ZONE, { file: 'lb.example.com.zone', origin: 'lb.example.com' }).zone]);
  return snap;
}

/** A pool view: members as { ip, weight, load, verdict, sinceMs, admin }. */
function view(members, config = {}) {
  return {
    config: { ...defaultPoolConfig(P), check: 'tcp', load: 'agent', ...config },
    members: members.map((m) => ({
      ip: m.ip, weight: m.weight ?? 1, admin: m.admin ?? 'enabled', addedAtMs: 0,
      verdict: m.verdict ?? 'up', verdictSinceMs: m.sinceMs ?? 0, observations: [],
      ...(m.load ? { load: m.load } : {}),
    })),
  };
}

const ready = (factor) => ({ factor, state: 'ready' });
const ipOf = (rdata) => [...rdata].join('.');

/** First addresses of `n` answers, counted. */
function firsts(snap, n, family = 4) {
  const counts = {};
  const pool = snap.pools.get(P);
  for (let i = 0; i < n; i++) {
    const ip = ipOf(pool.select(family, () => undefined).nextRdata()[0]);
    counts[ip] = (counts[ip] ?? 0) + 1;
  }
  return counts;
}

test('shares follow weight × factor exactly over a window', () => {
  const snap = snapshot();
  snap.setPool(P, view([
    { ip: '10.0.0.1', load: ready(1) },
    { ip: '10.0.0.2', load: ready(0.5) },
    { ip: '10.0.0.3', weight: 2, load: ready(0.25) },
    { ip: '10.0.0.4' },
  ]));
  // Effective weights 1, 0.5, 0.5, 1 (no feed read yet: factor 1): a window of 300 answers.
  assert.deepEqual(firsts(snap, 300), { '10.0.0.1': 100, '10.0.0.2': 50, '10.0.0.3': 50, '10.0.0.4': 100 });
});

test('a member at capacity is not handed out unless every candidate is', () => {
  const snap = snapshot();
  snap.setPool(P, view([{ ip: '10.0.0.1', load: ready(0) }, { ip: '10.0.0.2', load: ready(0.05) }, { ip: '10.0.0.3', load: ready(0.6) }]));
  const pool = snap.pools.get(P);
  const all = pool.select(4, () => undefined).nextRdata().map(ipOf);
  assert.deepEqual(all.sort(), ['10.0.0.2', '10.0.0.3'], 'the full member is left out of every answer');
  assert.deepEqual(firsts(snap, 65), { '10.0.0.2': 5, '10.0.0.3': 60 }, 'nearly full still gets a trickle');
  snap.setPool(P, view([{ ip: '10.0.0.1', load: ready(0) }, { ip: '10.0.0.2', weight: 3, load: ready(0) }]));
  assert.deepEqual(firsts(snap, 40), { '10.0.0.1': 10, '10.0.0.2': 30 }, 'all full: all handed out, by weight');
});

test('drain or maint from the agent keeps a member out; down does so only where no probe decides', () => {
  const snap = snapshot();
  snap.setPool(P, view([{ ip: '10.0.0.1', load: { factor: 1, state: 'drain' } }, { ip: '10.0.0.2', load: { factor: 1, state: 'down' } }, { ip: '10.0.0.3' }]));
  assert.deepEqual(Object.keys(firsts(snap, 10)).sort(), ['10.0.0.2', '10.0.0.3'], 'with a health check, the verdict decides on down');
  snap.setPool(P, view([{ ip: '10.0.0.1', load: { factor: 1, state: 'drain' } }, { ip: '10.0.0.2', load: { factor: 1, state: 'down' } }, { ip: '10.0.0.3' }], { check: 'none' }));
  assert.deepEqual(Object.keys(firsts(snap, 10)), ['10.0.0.3']);
  snap.setPool(P, view([{ ip: '10.0.0.1', load: { factor: 1, state: 'maint' } }, { ip: '10.0.0.3' }]));
  assert.deepEqual(Object.keys(firsts(snap, 10)), ['10.0.0.3'], 'maint is out like drain');
  snap.setPool(P, view([{ ip: '10.0.0.1', load: { factor: 1, state: 'drain' } }]));
  assert.equal(snap.pools.get(P).select(4, () => undefined), undefined, 'nothing to fail open to: NODATA');
});

test('slow start: 10% of the weight when it comes up, 100% after D, recomputed by the table without queries', () => {
  const clock = { now: T0 };
  const snap = snapshot(clock);
  const D = 60_000;
  snap.setPool(P, view([{ ip: '10.0.0.1', sinceMs: T0 - 3_600_000 }, { ip: '10.0.0.2', sinceMs: T0 }], { slowStartMs: D, load: 'none' }));
  assert.equal(snap.pools.rampingPools, 1);
  assert.deepEqual(firsts(snap, 110), { '10.0.0.1': 100, '10.0.0.2': 10 });
  clock.now = T0 + D / 2;
  snap.pools.refreshRamps();
  assert.deepEqual(firsts(snap, 155), { '10.0.0.1': 100, '10.0.0.2': 55 });
  clock.now = T0 + D;
  snap.pools.refreshRamps();
  assert.equal(snap.pools.rampingPools, 0, 'ramp over: no more refreshes');
  assert.deepEqual(firsts(snap, 200), { '10.0.0.1': 100, '10.0.0.2': 100 });
});

test('slow start sits on top of the load factor', () => {
  const clock = { now: T0 + 30_000 };
  const snap = snapshot(clock);
  snap.setPool(P, view([{ ip: '10.0.0.1', load: ready(0.5), sinceMs: T0 }, { ip: '10.0.0.2', load: ready(0.5), sinceMs: 0 }], { slowStartMs: 60_000 }));
  // Ramp 0.1 + 0.9 × 0.5 = 0.55 of 0.5: 0.275 (0.28 in the hundredths rotations count in) against 0.5.
  assert.deepEqual(firsts(snap, 78), { '10.0.0.1': 28, '10.0.0.2': 50 });
});

test('a change of weights carries the rotation on: the heaviest member does not go first again', () => {
  const snap = snapshot();
  snap.setPool(P, view([{ ip: '10.0.0.1', load: ready(0.5) }, { ip: '10.0.0.2', load: ready(0.5) }, { ip: '10.0.0.3', load: ready(1) }]));
  const seq = [];
  const pick = () => ipOf(snap.pools.get(P).select(4, () => undefined).nextRdata()[0]);
  seq.push(pick(), pick());
  // Same members, a small change of one factor: the next pick continues the cycle.
  snap.setPool(P, view([{ ip: '10.0.0.1', load: ready(0.5) }, { ip: '10.0.0.2', load: ready(0.51) }, { ip: '10.0.0.3', load: ready(1) }]));
  seq.push(pick(), pick());
  assert.equal(seq.filter((ip) => ip === '10.0.0.3').length, 2, `the weight-1 member leads half the time, not more: ${seq}`);
});
