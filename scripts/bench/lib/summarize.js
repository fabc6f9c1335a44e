#!/usr/bin/env node
'use strict';
// Summarize a results/bench-<ts> directory written by run.sh:
//   summary.tsv  one row per measurement
//   summary.md   medians (min–max) per server and workload, ratios against Knot,
//                the PRODUCT.md §8 bars, and who was the bottleneck
// usage: summarize.js RESULTS_DIR
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2];
if (!dir) { console.error('usage: summarize.js RESULTS_DIR'); process.exit(2); }
const raw = path.join(dir, 'raw');
const env = (() => {
  try { return Object.fromEntries(fs.readFileSync(path.join(dir, 'params.env'), 'utf8').split('\n').filter(Boolean).map((l) => { const i = l.indexOf('='); return [l.slice(0, i), l.slice(i + 1)]; })); } catch { return {}; }
})();
const BUSY = Number(env.BUSY_PCT || 90);       // "ran out of CPU" threshold (% of one core)
const CONTAM = Number(env.CONTAM_PCT || 10);   // foreign CPU % above which a run is "noisy"

function parse(file) {
  const t = fs.readFileSync(file, 'utf8');
  const m = /# meta: server=(\S+) round=(\d+) mix=(\S+)(.*)/.exec(t);
  if (!m) return null;
  const num = (rx) => { const mm = rx.exec(t); return mm ? Number(mm[1]) : null; };
  const d = { server: m[1], round: Number(m[2]), mix: m[3], file: path.basename(file) };
  const kv = (k) => num(new RegExp(`\\b${k}=([\\d.]+)`));
  d.target_qps = kv('target_qps');
  d.cpus = (/ cpus=(\S+)/.exec(m[4]) || [])[1] || null;
  d.sent = num(/Queries sent:\s+(\d+)/);
  d.completed = num(/Queries completed:\s+(\d+)/);
  d.lost = num(/Queries lost:\s+(\d+)/);
  d.qps = num(/Queries per second:\s+([\d.]+)/);
  d.lat_avg_ms = num(/Average Latency \(s\):\s+([\d.]+)/);
  if (d.lat_avg_ms !== null) d.lat_avg_ms *= 1000;
  d.rcodes = ((/Response codes:\s+(.*)/.exec(t) || [])[1] || '').trim();
  for (const k of ['lat_p50_ms', 'lat_p99_ms', 'lat_p999_ms', 'lat_max_ms', 'rss_kb', 'pss_kb', 'nproc', 'foreign_pct',
    'server_cpus_busy_pct', 'client_cpus_busy_pct', 'server_cpus_softirq_pct', 'client_cpus_softirq_pct',
    'server_cpus_steal_pct', 'client_cpus_steal_pct']) d[k] = kv(k);
  const ticks = kv('server_cpu_ticks'); const clk = kv('clk_tck'); const wall = kv('wall_s');
  d.server_cpu_pct = ticks !== null && clk && wall ? (100 * ticks) / clk / wall : null;
  d.cpu_us_per_answer = ticks !== null && clk && d.completed ? (1e6 * ticks) / clk / d.completed : null;
  const cu = kv('client_cpu_user_s'); const cs = kv('client_cpu_sys_s'); const cw = kv('client_wall_s');
  d.client_cpu_pct = cu !== null && cs !== null && cw ? (100 * (cu + cs)) / cw : null;
  return d;
}

const rows = fs.existsSync(raw)
  ? fs.readdirSync(raw).filter((f) => /^r\d+-.*\.txt$/.test(f) && !f.includes('.contaminated-')).sort()
    .map((f) => parse(path.join(raw, f))).filter(Boolean)
  : [];
const nContam = fs.existsSync(raw) ? fs.readdirSync(raw).filter((f) => f.includes('.contaminated-')).length : 0;

const cols = ['server', 'round', 'mix', 'cpus', 'target_qps', 'qps', 'sent', 'completed', 'lost', 'cpu_us_per_answer', 'lat_avg_ms',
  'lat_p50_ms', 'lat_p99_ms', 'lat_p999_ms', 'lat_max_ms', 'server_cpu_pct', 'client_cpu_pct', 'server_cpus_busy_pct', 'client_cpus_busy_pct', 'foreign_pct', 'rss_kb', 'pss_kb', 'nproc', 'rcodes'];
fs.writeFileSync(path.join(dir, 'summary.tsv'), [cols.join('\t'),
  ...rows.map((r) => cols.map((c) => (r[c] === null || r[c] === undefined ? '' : typeof r[c] === 'number' && !Number.isInteger(r[c]) ? r[c].toFixed(4) : String(r[c]))).join('\t'))].join('\n') + '\n');

const median = (xs) => {
  const a = xs.filter((x) => x !== null && x !== undefined && Number.isFinite(x)).sort((x, y) => x - y);
  if (!a.length) return null;
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};
const vals = (rs, k) => rs.map((r) => r[k]).filter((x) => x !== null && x !== undefined && Number.isFinite(x));
const fmt = (x, nd = 0) => (x === null || x === undefined ? 'n/a' : x.toLocaleString('en-US', { minimumFractionDigits: nd, maximumFractionDigits: nd }));
const mmm = (rs, k, nd = 0, scale = 1) => {
  const v = vals(rs, k).map((x) => x * scale);
  if (!v.length) return 'n/a';
  const md = median(v);
  return v.length === 1 ? fmt(md, nd) : `${fmt(md, nd)} (${fmt(Math.min(...v), nd)}–${fmt(Math.max(...v), nd)})`;
};
const ratio = (a, b) => (a === null || b === null || !b ? 'n/a' : `${(a / b).toFixed(2)}×`);

function limitedBy(rs) {
  const sc = median(vals(rs, 'server_cpu_pct')); const cc = median(vals(rs, 'client_cpu_pct'));
  if (sc === null || cc === null) return 'n/a';
  // dnsperf's own CPU, or its whole core busy (dnsperf + softirq work charged to no process)
  const cb = median(vals(rs, 'client_cpus_busy_pct'));
  const s = sc >= BUSY; const c = cc >= BUSY || (cb !== null && cb >= 97 && !noisy(rs));
  if (s && c) return 'both';
  if (s) return 'server';
  if (c) return '**dnsperf**';
  return noisy(rs) ? 'neither (CPU shared with other processes)' : 'neither (kernel/loopback?)';
}

const ORDER = ['tierdns', 'knot', 'gdnsd', 'pdns'];
const byOrder = (a, b) => {
  const ia = ORDER.indexOf(a.split('-')[0]); const ib = ORDER.indexOf(b.split('-')[0]);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b, 'en', { numeric: true });
};
const servers = (mix) => [...new Set(rows.filter((r) => r.mix === mix).map((r) => r.server))].sort(byOrder);
const isNoisy = (r) => r.foreign_pct !== null && r.foreign_pct > CONTAM;
const noisy = (rs) => rs.filter(isNoisy).length;
/** A cell's runs: only the quiet ones when there are any (rs.all keeps every kept run). */
const of = (s, mix) => {
  const all = rows.filter((r) => r.server === s && r.mix === mix);
  const quiet = all.filter((r) => !isNoisy(r));
  const rs = quiet.length ? quiet : all;
  rs.all = all;
  return rs;
};
const quietCol = (rs) => `${rs.all.length - noisy(rs.all)}/${rs.all.length}`;

const TITLES = {
  ws: '`ws.lb.example.com A` only (4 A records), UDP, saturation',
  mixed: '90% pool names over 1,000 pools, 10% NXDOMAIN, 30% with EDNS (half of them with a COOKIE option), UDP, saturation',
  tcp: '`ws.lb.example.com A` pipelined on 4 persistent TCP connections (dnsperf -m tcp), saturation',
};
const out = [];
const bars = [];
const notes = [];
out.push(`# tierdns benchmark ${env.TS || ''}`, '');
out.push(`Command: \`${env.COMMAND || 'npm run bench'}\`  `);
out.push(`Machine: ${env.CPU_MODEL || '?'}, ${env.NPROC || '?'} CPUs; ${env.KERNEL || ''}; node ${env.NODE_VERSION || '?'}, dnsperf ${env.DNSPERF_VERSION || '?'}  `);
out.push(`Servers pinned to CPU ${env.SERVER_CPU} (every thread), dnsperf to CPU ${env.CLIENT_CPU}, ${env.CLIENTS} clients, `
  + `${env.ROUNDS} interleaved round(s) of ${env.DURATION} s per workload (after ${env.WARMUP} s warm-up). `
  + `Cells: median (min–max) over rounds — over the quiet runs only when a cell has any (quiet runs = runs during which other processes used ≤ ${CONTAM}% of a core); ` + '×Knot = server ÷ Knot in the same run (for CPU µs, p99 and RSS lower is better). '
  + 'CPU µs/answer = server user+sys CPU time ÷ answered queries; p99 from per-query latencies (dnsperf -v); RSS summed over the server\'s processes after the run.', '');

for (const mix of ['ws', 'mixed', 'tcp']) {
  const ss = servers(mix);
  if (!ss.length) continue;
  const k = of('knot', mix);
  const kq = median(vals(k, 'qps')); const kc = median(vals(k, 'cpu_us_per_answer')); const kp = median(vals(k, 'lat_p99_ms')); const kr = median(vals(k, 'rss_kb'));
  out.push(`### ${mix}: ${TITLES[mix]}`, '');
  out.push('| server | queries/s | ×Knot | CPU µs/answer | ×Knot | p99 ms | ×Knot | RSS MB | ×Knot | server CPU % | dnsperf CPU % | cores busy % (server/client) | limited by | lost | quiet runs |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of ss) {
    const rs = of(s, mix);
    const q = median(vals(rs, 'qps')); const c = median(vals(rs, 'cpu_us_per_answer')); const p = median(vals(rs, 'lat_p99_ms')); const r = median(vals(rs, 'rss_kb'));
    out.push(`| ${s} | ${mmm(rs, 'qps')} | ${ratio(q, kq)} | ${mmm(rs, 'cpu_us_per_answer', 1)} | ${ratio(c, kc)} | ${mmm(rs, 'lat_p99_ms', 2)} | ${ratio(p, kp)} `
      + `| ${mmm(rs, 'rss_kb', 1, 1 / 1024)} | ${ratio(r, kr)} | ${fmt(median(vals(rs, 'server_cpu_pct')))} | ${fmt(median(vals(rs, 'client_cpu_pct')))} `
      + `| ${fmt(median(vals(rs, 'server_cpus_busy_pct')))}/${fmt(median(vals(rs, 'client_cpus_busy_pct')))} `
      + `| ${limitedBy(rs)} | ${vals(rs, 'lost').reduce((a, b) => a + b, 0)} | ${quietCol(rs)} |`);
    if (s === 'tierdns' && kq) {
      // The bars of the performance issue: queries/s as a fraction of Knot's in the same run,
      // and (ws only) CPU per answer at most 1.25x Knot's.
      const bar = { ws: 0.8, mixed: 0.7, tcp: 0.5 }[mix];
      const what = { ws: 'UDP pool answers, one core', mixed: 'realistic mix, one core', tcp: 'TCP pipelined, one core' }[mix];
      const invalid = noisy(rs) === rs.length || noisy(k) === k.length ? ' — **no quiet runs: not a valid comparison, rerun on an idle machine**' : '';
      const dnsperfBound = limitedBy(k) === '**dnsperf**' ? ' — Knot was limited by dnsperf, so its real peak is higher' : '';
      bars.push(`- ${what}: tierdns ${fmt(q)} q/s vs Knot ${fmt(kq)} q/s = ${ratio(q, kq)} → **${q >= bar * kq ? 'PASS' : 'FAIL'}** (bar: ≥ ${bar}× Knot)${dnsperfBound}${invalid}`);
      if (mix === 'ws' && c !== null && kc) {
        bars.push(`- CPU per UDP pool answer: tierdns ${fmt(c, 1)} µs vs Knot ${fmt(kc, 1)} µs = ${ratio(c, kc)} → **${c <= 1.25 * kc ? 'PASS' : 'FAIL'}** (bar: ≤ 1.25× Knot)${invalid}`);
      }
    }
  }
  out.push('');
}

{
  // RRL bookkeeping (run.sh's rrl mix): the same workloads with limiting off and on but never
  // limiting, tierdns only, interleaved rounds.
  const mixes = ['rrl-ws', 'rrl-mixed'].filter((m) => servers(m).length);
  if (mixes.length) {
    out.push('### rrl: what response rate limiting costs when nothing is limited (`--rrl-rate 0` vs `--rrl-exempt none --rrl-rate 100000000`)', '');
    out.push('| workload | RRL | queries/s | CPU µs/answer | × off | server CPU % | dnsperf CPU % | quiet runs |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const mix of mixes) {
      const offC = median(vals(of('tierdns-rrl-off', mix), 'cpu_us_per_answer'));
      for (const cfg of ['off', 'on']) {
        const rs = of(`tierdns-rrl-${cfg}`, mix);
        if (!rs.all.length) continue;
        const c = median(vals(rs, 'cpu_us_per_answer'));
        out.push(`| ${mix.slice(4)} | ${cfg} | ${mmm(rs, 'qps')} | ${mmm(rs, 'cpu_us_per_answer', 2)} | ${ratio(c, offC)} `
          + `| ${fmt(median(vals(rs, 'server_cpu_pct')))} | ${fmt(median(vals(rs, 'client_cpu_pct')))} | ${quietCol(rs)} |`);
        if (cfg === 'on' && c !== null && offC) {
          bars.push(`- RRL bookkeeping, ${mix.slice(4)}: CPU per answer ${ratio(c, offC)} of RRL off → **${c <= 1.1 * offC ? 'PASS' : 'FAIL'}** (bar: ≤ 1.10×)${noisy(rs) === rs.length ? ' — **no quiet runs**' : ''}`);
        }
      }
    }
    out.push('');
  }
}

for (const [mix, how] of [['lat', 'dnsperf -v'], ['latu', 'udplat: one sleeping client thread, its own timestamps']]) {
  const ss = servers(mix);
  if (!ss.length) continue;
  const k = of('knot', mix); const kp = median(vals(k, 'lat_p99_ms'));
  const target = median(vals(rows.filter((r) => r.mix === mix), 'target_qps'));
  out.push(`### ${mix}: \`ws\` at a fixed ${fmt(target)} q/s (${env.LAT_BASIS || 'fixed rate'}), measured by ${how}: latency below saturation`, '');
  out.push('| server | achieved q/s | p50 ms | p99 ms | ×Knot | p99.9 ms | max ms | CPU µs/answer | server CPU % | client CPU % | lost | quiet runs |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of ss) {
    const rs = of(s, mix); const p = median(vals(rs, 'lat_p99_ms'));
    const behind = median(vals(rs, 'qps')) !== null && target && median(vals(rs, 'qps')) < 0.97 * target ? ' **(below target: saturated)**' : '';
    out.push(`| ${s} | ${mmm(rs, 'qps')}${behind} | ${mmm(rs, 'lat_p50_ms', 3)} | ${mmm(rs, 'lat_p99_ms', 3)} | ${ratio(p, kp)} | ${mmm(rs, 'lat_p999_ms', 3)} `
      + `| ${mmm(rs, 'lat_max_ms', 2)} | ${mmm(rs, 'cpu_us_per_answer', 1)} | ${fmt(median(vals(rs, 'server_cpu_pct')))} | ${fmt(median(vals(rs, 'client_cpu_pct')))} | ${vals(rs, 'lost').reduce((a, b) => a + b, 0)} | ${quietCol(rs)} |`);
    if (s === 'tierdns') {
      bars.push(`- p99 at ${fmt(target)} q/s (${how}): ${fmt(p, 3)} ms${kp !== null ? ` (Knot ${fmt(kp, 3)} ms, ${ratio(p, kp)})` : ''} → **${p !== null && p < 1 ? 'PASS' : 'FAIL'}** (bar: < 1 ms at half of tierdns's peak)${noisy(rs) === rs.length ? ' — **no quiet runs**' : ''}`);
    }
  }
  out.push('');
}

{
  const ss = servers('workers');
  if (ss.length) {
    out.push(`### workers: \`ws\`, UDP, saturation, unpinned (server and dnsperf -T ${env.NPROC} share all ${env.NPROC} CPUs)`, '');
    out.push('| server | workers | queries/s | × 1 worker | CPU µs/answer | server CPU % (of one core) | dnsperf CPU % | quiet runs |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const s of ss) {
      const rs = of(s, 'workers');
      const [name, w] = s.split(/-w(?=\d+$)/);
      const one = median(vals(of(`${name}-w1`, 'workers'), 'qps'));
      const q = median(vals(rs, 'qps'));
      out.push(`| ${name} | ${w} | ${mmm(rs, 'qps')} | ${ratio(q, one)} | ${mmm(rs, 'cpu_us_per_answer', 1)} | ${fmt(median(vals(rs, 'server_cpu_pct')))} | ${fmt(median(vals(rs, 'client_cpu_pct')))} | ${quietCol(rs)} |`);
      if (name === 'tierdns' && w !== '1' && one) {
        bars.push(`- \`--workers ${w}\`: ${ratio(q, one)} the queries/s of \`--workers 1\` on ${env.NPROC} CPUs shared with dnsperf (bar: every core used)`
          + (Number(env.NPROC) <= 2 ? ' — inconclusive here: with 2 CPUs dnsperf needs about one of them, so a second worker mostly competes with the load generator; measure on ≥ 4 CPUs' : ''));
      }
    }
    out.push('');
  }
}

{
  const ss = servers('idle');
  if (ss.length) {
    out.push('### at rest: CPU used with no queries at all (probing, store sync…), measured after each start', '');
    out.push('| server | CPU % of one core | RSS MB |', '|---|---|---|');
    for (const s of ss) {
      const rs = rows.filter((r) => r.server === s && r.mix === 'idle');
      out.push(`| ${s} | ${mmm(rs, 'server_cpu_pct')} | ${mmm(rs, 'rss_kb', 1, 1 / 1024)} |`);
      const c = median(vals(rs, 'server_cpu_pct'));
      if (s === 'tierdns' && c !== null && c >= 10) notes.push(`- **tierdns is busy at rest**: ${fmt(c)}% of a core with no queries (background work: probes, store writes/reloads). That CPU is missing from every saturation number above and inflates CPU µs/answer, most at low rates (\`lat\`).`);
    }
    out.push('');
  }
}

const scaleFile = path.join(raw, 'scale.txt');
if (fs.existsSync(scaleFile)) {
  const t = fs.readFileSync(scaleFile, 'utf8');
  const g = (k) => { const m = new RegExp(`^${k}=(.*)$`, 'm').exec(t); return m ? m[1] : null; };
  out.push(`### scale: ${g('pools') || '?'} pools × ${g('members_per_pool') || 4} members, ${g('store') || 'file'} store (scripts/bench/scale.sh)`, '');
  out.push('| measurement | value | bar | verdict |', '|---|---|---|---|');
  const fa = g('first_answer_s') === null ? null : Number(g('first_answer_s'));
  const rss = g('rss_settled_mb') === null ? null : Number(g('rss_settled_mb'));
  out.push(`| first correct answer after start | ${fa === null ? 'n/a' : `${fa.toFixed(3)} s`} | < 1 s | ${fa !== null && fa < 1 ? 'PASS' : 'FAIL'} |`);
  out.push(`| RSS after settling (${g('settle_s') || '?'} s) | ${rss === null ? 'n/a' : `${rss.toFixed(1)} MB`} | < 150 MB | ${rss !== null && rss < 150 ? 'PASS' : 'FAIL'} |`);
  if (g('rss_idle_mb')) out.push(`| RSS before the load step | ${Number(g('rss_idle_mb')).toFixed(1)} MB | | |`);
  if (g('rss_peak_mb')) out.push(`| peak RSS (VmHWM) | ${Number(g('rss_peak_mb')).toFixed(1)} MB | | |`);
  if (g('load_qps')) out.push(`| every pool name queried (${g('load_rcodes') || ''}) | ${fmt(Number(g('load_qps')))} q/s | | |`);
  if (g('first_answer_restart_s')) out.push(`| first answer after a restart (state dir kept) | ${Number(g('first_answer_restart_s')).toFixed(3)} s | < 1 s | ${Number(g('first_answer_restart_s')) < 1 ? 'PASS' : 'FAIL'} |`);
  const pp = g('probe_lat_p99_ms') === null ? null : Number(g('probe_lat_p99_ms'));
  /** ", vCPU steal N ms" when scale.sh recorded it (time the hypervisor ran others meanwhile). */
  const stealOf = (k) => (g(k) ? `, vCPU steal ${g(k)} ms` : '');
  if (g('probe_members')) {
    out.push(`| p99 at ${fmt(Number(g('probe_lat_qps')))} q/s while probing ${fmt(Number(g('probe_members')))} members (tcp, refused; ${g('probe_store') || 'file'} store) | ${pp === null ? 'n/a' : `${pp.toFixed(3)} ms`} (p50 ${g('probe_lat_p50_ms')} ms, lost ${g('probe_lat_lost')}${stealOf('probe_lat_steal_ms')}) | < 1 ms | ${pp !== null && pp < 1 ? 'PASS' : 'FAIL'} |`);
    const pu = g('probe_latu_p99_ms') ? Number(g('probe_latu_p99_ms')) : null;
    if (pu !== null) {
      out.push(`| the same, measured by udplat (latu) | ${pu.toFixed(3)} ms (p50 ${g('probe_latu_p50_ms')} ms, lost ${g('probe_latu_lost')}${stealOf('probe_latu_steal_ms')}) | < 1 ms | ${pu < 1 ? 'PASS' : 'FAIL'} |`);
      bars.push(`- p99 while probing, measured by udplat: ${pu.toFixed(3)} ms → **${pu < 1 ? 'PASS' : 'FAIL'}** (< 1 ms)`);
    }
    out.push(`| server CPU idle while probing | ${g('probe_idle_cpu_pct')}% of a core | | |`);
    bars.push(`- p99 while probing ${fmt(Number(g('probe_members')))} members: ${pp === null ? 'n/a' : `${pp.toFixed(3)} ms`} → **${pp !== null && pp < 1 ? 'PASS' : 'FAIL'}** (< 1 ms)`);
  }
  if (g('store_fill_s')) out.push(`| store fill (${g('fill_how') || ''}) | ${Number(g('store_fill_s')).toFixed(1)} s | | |`);
  out.push('');
  bars.push(`- ${g('pools')} pools: first answer ${fa === null ? 'n/a' : `${fa.toFixed(3)} s`} → **${fa !== null && fa < 1 ? 'PASS' : 'FAIL'}** (< 1 s); RSS ${rss === null ? 'n/a' : `${rss.toFixed(1)} MB`} → **${rss !== null && rss < 150 ? 'PASS' : 'FAIL'}** (< 150 MB)`);
  if (g('error')) out.push(`scale: ${g('error')}`, '');
}

const micro = fs.existsSync(raw) ? fs.readdirSync(raw).filter((f) => /^micro-.*\.txt$/.test(f)).sort() : [];
if (micro.length) {
  out.push('### micro-benchmarks', '');
  for (const f of micro) out.push(`\`${f.replace(/\.txt$/, '.js')}\`:`, '```', fs.readFileSync(path.join(raw, f), 'utf8').trimEnd(), '```', '');
}

if (bars.length) out.push('### PRODUCT.md §8 bars', '', ...bars, '');

const clientBound = rows.filter((r) => ['ws', 'mixed', 'tcp'].includes(r.mix) && (r.server_cpu_pct ?? 0) < BUSY
  && ((r.client_cpu_pct ?? 0) >= BUSY || ((r.client_cpus_busy_pct ?? 0) >= 97 && !((r.foreign_pct ?? 0) > CONTAM))));
if (clientBound.length) {
  const who = [...new Set(clientBound.map((r) => `${r.server}/${r.mix}`))].join(', ');
  notes.push(`- **Load generator bottleneck**: dnsperf (or its core, with the kernel's loopback work) was at ≥ ${BUSY}% while the server was not (${who}): those queries/s are dnsperf's limit, not the server's; compare CPU µs/answer instead.`);
}
const fp = vals(rows, 'foreign_pct');
const nNoisy = rows.filter((r) => r.foreign_pct !== null && r.foreign_pct > CONTAM).length;
notes.push(`- Other processes on the machine used up to ${fmt(fp.length ? Math.max(...fp) : null, 1)}% of a core during kept runs; `
  + `${nNoisy} of ${rows.length} kept runs were noisy (> ${CONTAM}%), ${nContam} noisy run(s) were discarded and repeated. `
  + (nNoisy > 0.1 * rows.length ? '**Numbers from a busy machine: rerun when it is idle.**'
    : nNoisy ? 'The machine was mostly quiet (cells use their quiet runs).' : 'The machine was quiet.'));
// Steal: the hypervisor ran something else on these vCPUs (absent from runs before it was recorded).
const steal = rows.flatMap((r) => [r.server_cpus_steal_pct, r.client_cpus_steal_pct]).filter((v) => v !== null && v !== undefined);
if (steal.length) notes.push(`- vCPU steal (time the hypervisor gave these vCPUs to others) was up to ${fmt(Math.max(...steal), 2)}% of a run's CPU time; a stall it causes is nobody's on this machine.`);
out.push('### Notes', '', ...notes, '');

const md = out.join('\n');
fs.writeFileSync(path.join(dir, 'summary.md'), `${md}\n`);
process.stdout.write(`${md}\n`);
