#!/usr/bin/env node
'use strict';
// `npm run simulate` (docs/steering.md, "The simulation"): plain round-robin against steering by
// load, with and without slow start, in a world of capacity-bound tiers, caching resolvers,
// long-lived sessions and one tier restart. Deterministic: the same seeds give the same tables.
//
//   node scripts/simulate/main.js [--seed N] [--seeds K] [--quick] [--write]
//
// --seeds K runs every policy with seeds N..N+K-1 and averages (default 5); --quick runs the
// comparison only (no sweep of the defaults); --write puts the tables into docs/steering.md
// (between the simulate markers) and the picture into docs/steering-simulation.svg.

const fs = require('node:fs');
const path = require('node:path');
const { WORLD, run } = require('./world');
const { metrics, average, table } = require('./report');
const { chart } = require('./chart');

const ROOT = path.join(__dirname, '..', '..');
const dist = (p) => require(path.join(ROOT, 'dist', p));
const { SMOOTHING_MS } = dist('health/loadTracker');
const { MIN_FACTOR } = dist('model/load');

function parseArgs(argv) {
  const o = { seed: 1, seeds: 5, quick: false, write: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seed') o.seed = Number(argv[++i]);
    else if (a === '--seeds') o.seeds = Number(argv[++i]);
    else if (a === '--quick') o.quick = true;
    else if (a === '--write') o.write = true;
    else throw new Error(`simulate: unknown argument ${a}`);
  }
  if (!Number.isInteger(o.seed) || !Number.isInteger(o.seeds) || o.seeds < 1) throw new Error('simulate: --seed and --seeds take whole numbers');
  return o;
}

/** Slow start shown in the comparison. */
const SLOW_START_MS = 120_000;

const POLICIES = [
  { name: 'round-robin (no load feed)', steer: { load: 'none', slowStartMs: 0 } },
  { name: 'steering by load', steer: { load: 'json', slowStartMs: 0 } },
  { name: `steering by load + slow start ${SLOW_START_MS / 60_000} min`, steer: { load: 'json', slowStartMs: SLOW_START_MS } },
];

const SWEEPS = [
  { what: 'smoothing time constant', values: [0, 2000, 4000, 15_000, 60_000], steer: (v) => ({ load: 'json', slowStartMs: 0, smoothingMs: v }), label: (v) => (v === 0 ? 'none' : `${v / 1000} s`), current: SMOOTHING_MS },
  { what: 'minimum factor', values: [0.01, 0.05, 0.1, 0.2], steer: (v) => ({ load: 'json', slowStartMs: 0, minFactor: v }), label: (v) => String(v), current: MIN_FACTOR },
  { what: 'slow start', values: [0, 30_000, 120_000, 600_000], steer: (v) => ({ load: 'json', slowStartMs: v }), label: (v) => (v === 0 ? 'off' : `${v / 60_000} min`), current: 0 },
];

function runSeeds(steer, o) {
  const list = [];
  let first;
  for (let k = 0; k < o.seeds; k++) {
    const r = run(steer, o.seed + k);
    first ??= r;
    list.push(metrics(r, WORLD.capacity));
  }
  return { m: average(list), first };
}

function assumptions() {
  const w = WORLD;
  const meanMin = (w.lifetimeMedianS * Math.exp((w.lifetimeSigma ** 2) / 2)) / 60;
  return [
    `- ${w.tiers} balancer tiers of ${w.capacity.toLocaleString('en')} connections each; sessions in flight average ${w.utilisation * 100}% of all capacity (new sessions arrive as a Poisson process at that rate), starting evenly spread at equilibrium.`,
    `- Session lifetimes are lognormal: median ${w.lifetimeMedianS / 60} min, mean ~${meanMin.toFixed(0)} min, 1% longer than 5.5 h (capped at 24 h).`,
    `- ${w.resolvers} recursive resolvers, chosen by clients with Zipf(${w.resolverZipf}) popularity (a few resolvers carry most clients); each caches an answer for the pool TTL (${w.ttlSeconds} s), so every client behind it meanwhile gets the same answer. A client connects to the first address, and to the next one when a tier is full or down; a client refused everywhere tries again 5-15 s later, 3 times.`,
    `- ${w.instances} tierdns instances (the real answer code from dist/: PoolAnswers, LoadTracker, mergeLoad), each reading every tier's JSON feed every ${w.intervalMs / 1000} s; an observation reaches every instance as soon as it is published (the store and its notification delay are left out).`,
    `- Tier 1 restarts ${w.restartAtS / 3600} h in: its connections drop, their clients reconnect within ${w.reconnectMaxS} s, it is down ${w.downForS} s (verdict down ${w.detectDownS} s after, up ${w.detectUpS} s after it returns). The run lasts ${w.durationS / 3600} h.`,
    '- Imbalance is the fullest tier\'s connections over the mean of the tiers that are up, sampled every 10 s; "refused at capacity" counts connection attempts to a full tier (the client then tries the next address).',
  ].join('\n');
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const rows = [];
  const panels = [];
  for (const p of POLICIES) {
    const { m, first } = runSeeds(p.steer, o);
    rows.push({ name: p.name, m });
    panels.push({ title: `${p.name} (seed ${o.seed})`, run: first });
  }
  const sections = [`Seeds ${o.seed}..${o.seed + o.seeds - 1}, averaged (peak and max imbalance: the worst seed).\n`, table(rows)];
  if (!o.quick) {
    for (const s of SWEEPS) {
      const sweepRows = s.values.map((v) => ({ name: `${s.what} ${s.label(v)}${v === s.current ? ' (default)' : ''}`, m: runSeeds(s.steer(v), o).m }));
      sections.push(`\nSteering by load, varying the ${s.what}:\n`, table(sweepRows));
    }
  }
  const text = sections.join('\n');
  process.stdout.write(`${text}\n\n${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  if (o.write) {
    const svg = chart(panels, { capacity: WORLD.capacity });
    fs.writeFileSync(path.join(ROOT, 'docs', 'steering-simulation.svg'), svg);
    const doc = path.join(ROOT, 'docs', 'steering.md');
    const md = fs.readFileSync(doc, 'utf8');
    const begin = '<!-- simulate:begin -->';
    const end = '<!-- simulate:end -->';
    const a = md.indexOf(begin);
    const b = md.indexOf(end);
    if (a < 0 || b < a) throw new Error(`simulate: ${doc} lacks the ${begin} … ${end} markers`);
    const block = `${begin}\n<!-- written by: npm run simulate -- --write${o.seed !== 1 || o.seeds !== 5 ? ` --seed ${o.seed} --seeds ${o.seeds}` : ''} -->\n\nAssumptions:\n\n${assumptions()}\n\n${text}\n\n![per-tier connections over time](steering-simulation.svg)\n`;
    fs.writeFileSync(doc, md.slice(0, a) + block + md.slice(b));
    process.stdout.write('wrote docs/steering.md and docs/steering-simulation.svg\n');
  }
}

main();
