#!/usr/bin/env node
'use strict';
// Micro-benchmark of the answer path without sockets: decode + answer for a pool name (the
// template fast path), a static name, an NXDOMAIN, and the same pool query through dns2's
// general codec for comparison. Prints ns per query (median of 5 runs of N queries) and the
// bytes each query leaves for the young-generation GC (new-space growth over 2,000 queries).
//   node scripts/bench/micro-answer.js [N]
const v8 = require('node:v8');
const vm = require('node:vm');
const path = require('node:path');
const fs = require('node:fs');
const pino = require('pino');
const { Packet } = require('dns2');
const dist = path.join(__dirname, '..', '..', 'dist');
const { QueryHandler } = require(path.join(dist, 'dns/handler'));
const { Snapshot } = require(path.join(dist, 'dns/snapshot'));
const { parseZone } = require(path.join(dist, 'zone/parse'));

const N = Number(process.argv[2] ?? 500000);
const zoneText = fs.readFileSync(path.join(__dirname, '..', '..', 'zones', 'lb.example.com.zone'), 'utf8');
const snap = new Snapshot();
snap.setZones([parseZone(zoneText, { file: 'lb.example.com.zone', origin: 'lb.example.com' }).zone]);
const poolConfig = { ttlSeconds: 20, check: 'tcp', port: 80, path: '/', expectMin: 200, expectMax: 399, intervalMs: 2000, fastIntervalMs: 500, timeoutMs: 1000, rise: 2, fall: 3, maxAnswers: 0, whenAllDown: 'all' };
const member = (ip) => ({ ip, weight: 1, admin: 'enabled', addedAtMs: 0, verdict: 'up', verdictSinceMs: 0, observations: [] });
snap.setPool('ws.lb.example.com', {
  config: { ...poolConfig, name: 'ws.lb.example.com' },
  members: ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'].map(member),
});
const handler = new QueryHandler(() => snap, pino({ level: 'silent' }));

function query(name, type, edns) {
  const p = new Packet();
  p.header.id = 4242;
  p.header.rd = 1;
  p.questions.push({ name, type, class: 1 });
  if (edns) p.additionals.push(Packet.Resource.EDNS([]));
  return p.toBuffer();
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const newSpaceUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_used_size;

function bench(label, fn) {
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn();
    runs.push(Number(process.hrtime.bigint() - t0) / N);
  }
  runs.sort((a, b) => a - b);
  // 2,000 queries fit in the young generation, so no scavenge runs between the two readings.
  gc();
  const before = newSpaceUsed();
  for (let i = 0; i < 2000; i++) fn();
  const bytes = (newSpaceUsed() - before) / 2000;
  console.log(`${label.padEnd(44)} ${runs[2].toFixed(0).padStart(6)} ns/query ${bytes.toFixed(0).padStart(6)} B/query`);
}

const pool = query('Ws.Lb.Example.Com', Packet.TYPE.A, false);
const poolEdns = query('ws.lb.example.com', Packet.TYPE.A, true);
const soa = query('lb.example.com', Packet.TYPE.SOA, true);
const nx = query('nope.lb.example.com', Packet.TYPE.A, true);
const cname = query('www.lb.example.com', Packet.TYPE.A, true);

console.log(`node ${process.version}, ${N} queries per run, median of 5`);
// The native UDP path: the datagram in a reused receive slot, the answer written in place.
const slot = Buffer.alloc(65536);
pool.copy(slot);
const outBuf = Buffer.alloc(65536);
const answer = (msg) => handler.answer(msg, msg.length, 'udp', outBuf, 0);
bench('pool A, template fast path, in place', () => handler.answer(slot, pool.length, 'udp', outBuf, 0));
bench('pool A, template fast path', () => answer(pool));
bench('pool A + EDNS, template fast path', () => answer(poolEdns));
bench('apex SOA + EDNS, general writer', () => answer(soa));
bench('NXDOMAIN + EDNS, SOA template', () => answer(nx));
bench('CNAME to pool + EDNS, general writer', () => answer(cname));
bench('pool A via dns2 codec (parse + toBuffer)', () => {
  const q = Packet.parse(pool);
  const r = new Packet();
  r.header.id = q.header.id;
  r.header.qr = 1;
  r.header.aa = 1;
  r.questions = q.questions;
  for (const a of ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4']) r.answers.push({ name: q.questions[0].name, type: 1, class: 1, ttl: 20, address: a });
  return r.toBuffer();
});

// The bench's `mixed` queries (lib/gen.js: 1,000 pools, 10% NXDOMAIN, 30% EDNS, half of those
// with a cookie) replayed through the native path's entry point, one query per call.
const os = require('node:os');
const genDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-micro-'));
require('node:child_process').execFileSync(process.execPath, [path.join(__dirname, 'lib', 'gen.js'), genDir], { stdio: 'ignore' });
for (const p of JSON.parse(fs.readFileSync(path.join(genDir, 'pools.json'), 'utf8'))) {
  snap.setPool(p.name, { config: { ...poolConfig, name: p.name }, members: p.members.map(member) });
}
const mixedBin = fs.readFileSync(path.join(genDir, 'queries', 'mixed.bin'));
fs.rmSync(genDir, { recursive: true, force: true });
const mixedSlots = [];
for (let off = 0; off < mixedBin.length;) {
  const len = mixedBin.readUInt16BE(off);
  const s = Buffer.alloc(512);
  mixedBin.copy(s, 0, off + 2, off + 2 + len);
  mixedSlots.push([s, len]);
  off += 2 + len;
}
let mi = 0;
bench('mixed (bench mix), in place', () => {
  const [s, len] = mixedSlots[mi];
  mi = mi + 1 === mixedSlots.length ? 0 : mi + 1;
  return handler.answer(s, len, 'udp', outBuf, 0);
});

// The same with response rate limiting on but never limiting (docs/rrl.md): its bookkeeping.
const { IpWords } = require(path.join(dist, 'util/cidr'));
const from = new IpWords();
from.setText('192.0.2.77');
const limited = new QueryHandler(() => snap, pino({ level: 'silent' }), { ratePerSecond: 100000000, slip: 2, exempt: [] });
bench('mixed (bench mix), in place, RRL on', () => {
  const [s, len] = mixedSlots[mi];
  mi = mi + 1 === mixedSlots.length ? 0 : mi + 1;
  return limited.answer(s, len, 'udp', outBuf, 0, from);
});
bench('mixed (bench mix), in place, RRL off', () => {
  const [s, len] = mixedSlots[mi];
  mi = mi + 1 === mixedSlots.length ? 0 : mi + 1;
  return handler.answer(s, len, 'udp', outBuf, 0, from);
});
