#!/usr/bin/env node
'use strict';
// Generates the benchmark inputs (deterministic) into OUTDIR:
//   zones/lb.example.com.zone          tierdns: static part only (pools come from the store)
//   lb.example.com.static.zone         Knot / PowerDNS: the same names as static A records
//   lb.example.com.gdnsd.zone + gdnsd-plugins.conf   gdnsd: DYNA multifo resources
//   pools.json                         the pools for mkpools.js: ws + ws0..ws{N-1}, 4 members each
//   queries/ws.txt                     "ws.lb.example.com A"
//   queries/mixed.bin                  dnsperf -B (length-prefixed wire) queries: 90% pool
//                                      names (uniform over ws0..ws{N-1}), 10% NXDOMAIN; 15% with
//                                      EDNS (1232), 15% with EDNS + a COOKIE option
//   queries/mixed.txt                  the same questions as text (for reading)
//
// usage: gen.js OUTDIR [--pools N] [--queries N]
const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const out = args[0];
if (!out) { console.error('usage: gen.js OUTDIR [--pools N] [--queries N]'); process.exit(2); }
const opt = (name, def) => { const i = args.indexOf(name); return i > 0 ? Number(args[i + 1]) : def; };
const NPOOLS = opt('--pools', 1000);
const NQUERIES = opt('--queries', 10000);
const ZONE = 'lb.example.com';
const TTL = 20;

// Deterministic PRNG (mulberry32) so every run sends the same queries.
let seed = 42;
function rnd() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Member j (0..3) of pool i: loopback addresses, never probed (check none). */
function memberIp(i, j) {
  return `127.${100 + j}.${Math.floor(i / 250)}.${1 + (i % 250)}`;
}

const pools = [{ name: `ws.${ZONE}`, members: [1, 2, 3, 4].map((n) => `127.0.1.${n}`), ws: true }];
for (let i = 0; i < NPOOLS; i++) pools.push({ name: `ws${i}.${ZONE}`, members: [0, 1, 2, 3].map((j) => memberIp(i, j)) });

const base = `; Benchmark zone ${ZONE}: the static part shared by every server.
$ORIGIN ${ZONE}.
$TTL 300
@       IN SOA  ns1.${ZONE}. hostmaster.${ZONE}. ( 2024010101 3600 600 604800 60 )
@       IN NS   ns1.${ZONE}.
ns1     IN A    127.0.0.1
@       IN MX   10 mail.${ZONE}.
@       IN TXT  "${ZONE} benchmark zone"
mail    IN A    127.0.2.2
static  IN A    127.0.2.1
www     IN CNAME ws.${ZONE}.
`;

fs.mkdirSync(path.join(out, 'zones'), { recursive: true });
fs.mkdirSync(path.join(out, 'queries'), { recursive: true });
fs.writeFileSync(path.join(out, 'zones', `${ZONE}.zone`), base);

const label = (p) => p.name.slice(0, -(ZONE.length + 1));
let st = base + `; ${pools.length} pools as static round-robin A sets\n`;
for (const p of pools) for (const ip of p.members) st += `${label(p)} ${TTL} IN A ${ip}\n`;
fs.writeFileSync(path.join(out, `${ZONE}.static.zone`), st);

// gdnsd: every pool a multifo resource; ws checked by TCP connect to the 4 fake balancers
// (like tierdns's ws pool), the others with the built-in `up` service type (always up).
let gz = base + '; pools answered by plugin multifo\n';
for (const p of pools) gz += `${label(p)} ${TTL} DYNA multifo!${label(p)}\n`;
fs.writeFileSync(path.join(out, `${ZONE}.gdnsd.zone`), gz);
let gp = '';
for (const p of pools) {
  gp += `    ${label(p)} => { service_types => ${p.ws ? 'lbtcp' : 'up'}, up_thresh => 0.25`;
  p.members.forEach((ip, j) => { gp += `, m${j + 1} => ${ip}`; });
  gp += ' }\n';
}
fs.writeFileSync(path.join(out, 'gdnsd-plugins.conf'), gp);

fs.writeFileSync(path.join(out, 'pools.json'), JSON.stringify(pools));

// --- queries
fs.writeFileSync(path.join(out, 'queries', 'ws.txt'), `ws.${ZONE} A\n`);

function encodeName(name) {
  const parts = [];
  for (const l of name.split('.')) { parts.push(Buffer.from([l.length]), Buffer.from(l, 'ascii')); }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}
function query(name, { edns = false, cookie = null } = {}) {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0, 0);          // id: dnsperf overwrites it
  h.writeUInt16BE(0x0000, 2);     // QUERY, RD=0 (authoritative server)
  h.writeUInt16BE(1, 4);          // QDCOUNT
  h.writeUInt16BE(edns ? 1 : 0, 10); // ARCOUNT
  const q = Buffer.concat([encodeName(name), Buffer.from([0, 1, 0, 1])]); // A IN
  const parts = [h, q];
  if (edns) {
    const opts = cookie ? Buffer.concat([Buffer.from([0, 10, 0, cookie.length]), cookie]) : Buffer.alloc(0);
    const opt = Buffer.alloc(11);
    opt.writeUInt8(0, 0);             // root
    opt.writeUInt16BE(41, 1);         // OPT
    opt.writeUInt16BE(1232, 3);       // UDP payload size
    opt.writeUInt32BE(0, 5);          // ext rcode 0, version 0, flags 0
    opt.writeUInt16BE(opts.length, 9);
    parts.push(opt, opts);
  }
  const msg = Buffer.concat(parts);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}

const bin = [];
let txt = '';
const count = { pool: 0, nx: 0, edns: 0, cookie: 0 };
for (let i = 0; i < NQUERIES; i++) {
  let name;
  if (i % 10 === 9) {
    let s = '';
    for (let k = 0; k < 10; k++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(rnd() * 36)];
    name = `nx-${s}.${ZONE}`; count.nx++;
  } else {
    name = `ws${Math.floor(rnd() * NPOOLS)}.${ZONE}`; count.pool++;
  }
  const r = rnd();
  const edns = r < 0.3;
  const cookie = r < 0.15 ? Buffer.from(Array.from({ length: 8 }, () => Math.floor(rnd() * 256))) : null;
  if (edns) count.edns++;
  if (cookie) count.cookie++;
  bin.push(query(name, { edns, cookie }));
  txt += `${name} A${cookie ? ' ; edns+cookie' : edns ? ' ; edns' : ''}\n`;
}
fs.writeFileSync(path.join(out, 'queries', 'mixed.bin'), Buffer.concat(bin));
fs.writeFileSync(path.join(out, 'queries', 'mixed.txt'), txt);
console.log(`generated ${out}: ${pools.length} pools; mixed ${NQUERIES} queries: ${count.pool} pool, ${count.nx} NXDOMAIN, `
  + `${count.edns} with EDNS (${count.cookie} of them with COOKIE)`);
