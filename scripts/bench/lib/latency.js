#!/usr/bin/env node
'use strict';
// Latency percentiles from `dnsperf -v` output: one line per answered query,
// "> NOERROR ws.lb.example.com A 0.000123" (the last field is the latency in seconds).
// Prints "# lat_n=N lat_p50_ms=… lat_p90_ms=… lat_p99_ms=… lat_p999_ms=… lat_max_ms=…".
// Lost queries have no line: run.sh reports them separately (dnsperf "Queries lost").
//
// usage: latency.js DNSPERF_VERBOSE_OUTPUT
const fs = require('node:fs');
const readline = require('node:readline');

let buf = new Float64Array(1 << 20);
let n = 0;
const rl = readline.createInterface({ input: fs.createReadStream(process.argv[2]), crlfDelay: Infinity });
rl.on('line', (line) => {
  if (line.charCodeAt(0) !== 62 /* > */ || line.charCodeAt(1) !== 32) return;
  const v = Number(line.slice(line.lastIndexOf(' ') + 1));
  if (!Number.isFinite(v)) return;
  if (n === buf.length) { const b = new Float64Array(buf.length * 2); b.set(buf); buf = b; }
  buf[n++] = v;
});
rl.on('close', () => {
  if (n === 0) { console.log('# lat_n=0'); return; }
  const a = buf.subarray(0, n).sort();
  const q = (p) => (a[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] * 1000).toFixed(3);
  console.log(`# lat_n=${n} lat_p50_ms=${q(0.5)} lat_p90_ms=${q(0.9)} lat_p99_ms=${q(0.99)} lat_p999_ms=${q(0.999)} lat_max_ms=${(a[n - 1] * 1000).toFixed(3)}`);
});
