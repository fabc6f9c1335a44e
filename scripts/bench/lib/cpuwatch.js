#!/usr/bin/env node
'use strict';
// CPU use by processes that are not part of the benchmark (the machine may be shared:
// someone's test suite running next to the benchmark skews every number).
// "Ours" = processes in the given session ids (run.sh's session, the server's, the fake
// balancers') and kernel threads; everything else is "foreign".
//
// usage:
//   cpuwatch.js snap OUTFILE                 save per-process CPU ticks
//   cpuwatch.js diff SNAP1 SNAP2 SID...      foreign CPU between two snapshots
//   cpuwatch.js quiet SECONDS SID...         foreign CPU during a SECONDS window
// Output (diff/quiet): "foreign_ticks=N foreign_pct=P top=pid:comm:ticks,..." where
// foreign_pct is percent of ONE core over the window.
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

let CLK = 100;
try { CLK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { /* default */ }

function snapshot() {
  const procs = {};
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let s;
    try { s = fs.readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; }
    const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0]=state [1]=ppid [3]=session [11]=utime [12]=stime [19]=starttime
    const ppid = Number(rest[1]);
    procs[d] = {
      comm, sid: Number(rest[3]), ticks: Number(rest[11]) + Number(rest[12]), start: rest[19],
      k: ppid === 2 || d === '2',
    };
  }
  return { t: Number(process.hrtime.bigint()) / 1e9, procs };
}

function diff(a, b, sids) {
  const wall = Math.max(b.t - a.t, 1e-6);
  const foreign = [];
  for (const [pid, p] of Object.entries(b.procs)) {
    if (p.k || sids.has(p.sid)) continue;
    const old = a.procs[pid];
    const d = p.ticks - (old && old.start === p.start ? old.ticks : 0);
    if (d > 0) foreign.push([d, pid, p.comm]);
  }
  foreign.sort((x, y) => y[0] - x[0]);
  const tot = foreign.reduce((s, x) => s + x[0], 0);
  const pct = (100 * tot) / CLK / wall;
  const top = foreign.slice(0, 3).map(([d, pid, comm]) => `${pid}:${comm.replace(/\s/g, '_')}:${d}`).join(',');
  return `foreign_ticks=${tot} foreign_pct=${pct.toFixed(1)} top=${top || '-'}`;
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'snap') {
  fs.writeFileSync(rest[0], JSON.stringify(snapshot()));
} else if (cmd === 'diff') {
  const a = JSON.parse(fs.readFileSync(rest[0], 'utf8'));
  const b = JSON.parse(fs.readFileSync(rest[1], 'utf8'));
  console.log(diff(a, b, new Set(rest.slice(2).map(Number))));
} else if (cmd === 'quiet') {
  const a = snapshot();
  setTimeout(() => console.log(diff(a, snapshot(), new Set(rest.slice(1).map(Number)))), Number(rest[0]) * 1000);
} else {
  console.error('usage: cpuwatch.js snap FILE | diff A B SID... | quiet SECONDS SID...');
  process.exit(2);
}
