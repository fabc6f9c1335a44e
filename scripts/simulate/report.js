'use strict';
// What a run shows: peak utilisation, imbalance over time, time to even out after the
// restart, refusals at capacity; and the markdown tables docs/steering.md carries.

const EVEN = 1.1;

/** Imbalance of a sample: the fullest tier against the mean of the tiers that are up. */
function imbalance(sample) {
  let max = 0;
  let sum = 0;
  let n = 0;
  sample.conns.forEach((c, i) => {
    if (!sample.up[i]) return;
    max = Math.max(max, c);
    sum += c;
    n++;
  });
  return sum === 0 ? 1 : max / (sum / n);
}

function metrics(r, capacity) {
  let peak = 0;
  let maxImb = 0;
  let sumImb = 0;
  let evenS;
  for (const x of r.samples) {
    const imb = imbalance(x);
    for (const c of x.conns) peak = Math.max(peak, c / capacity);
    maxImb = Math.max(maxImb, imb);
    sumImb += imb;
    if (evenS === undefined && x.s >= r.backUpS && imb <= EVEN) evenS = x.s - r.backUpS;
  }
  const hours = (r.samples[r.samples.length - 1].s - r.samples[0].s) / 3600;
  return {
    peak, maxImb, meanImb: sumImb / r.samples.length, evenS, refusedFull: r.counters.refusedFull,
    failed: r.counters.failed, updatesPerHour: r.rebuilds / hours,
  };
}

/** Mean over seeds (time to even: mean of the runs that evened out; `unevened` counts the rest). */
function average(list) {
  const mean = (f) => list.reduce((a, m) => a + f(m), 0) / list.length;
  const evened = list.filter((m) => m.evenS !== undefined);
  return {
    peak: Math.max(...list.map((m) => m.peak)), maxImb: Math.max(...list.map((m) => m.maxImb)), meanImb: mean((m) => m.meanImb),
    evenS: evened.length ? evened.reduce((a, m) => a + m.evenS, 0) / evened.length : undefined, unevened: list.length - evened.length,
    refusedFull: mean((m) => m.refusedFull), refusedMax: Math.max(...list.map((m) => m.refusedFull)), failed: mean((m) => m.failed),
    updatesPerHour: mean((m) => m.updatesPerHour),
  };
}

function minutes(s) {
  return s === undefined ? 'never' : `${(s / 60).toFixed(1)} min`;
}

/** The comparison table: one row per policy. */
function table(rows) {
  const out = [
    '| policy | peak tier utilisation | max imbalance | mean imbalance | time to imbalance ≤ 1.1 after the restart | refused at capacity (mean / worst seed) | weight updates per hour |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const { name, m } of rows) {
    out.push(`| ${name} | ${(m.peak * 100).toFixed(1)}% | ${m.maxImb.toFixed(2)} | ${m.meanImb.toFixed(3)} | ${minutes(m.evenS)}${m.unevened ? ` (${m.unevened} runs never)` : ''} | ${m.refusedFull.toFixed(0)} / ${m.refusedMax} | ${m.updatesPerHour.toFixed(0)} |`);
  }
  return out.join('\n');
}

module.exports = { imbalance, metrics, average, table, EVEN };
