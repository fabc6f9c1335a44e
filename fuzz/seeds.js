#!/usr/bin/env node
'use strict';
// Write the checked-in seed corpus, fuzz/corpus/TARGET/ (docs/fuzzing.md): valid and nearly
// valid inputs for each target, so a short campaign starts past the first checks. Run after
// `npm run build` when a target or its fixture changes; the files are committed.

const fs = require('node:fs');
const path = require('node:path');
const { buildQuery, encodeName } = require('../test/helpers/dns');
const { ZONES } = require('./lib/fixture');

const CORPUS = path.join(__dirname, 'corpus');

function write(target, name, bytes) {
  const dir = path.join(CORPUS, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name.replace(/[^A-Za-z0-9._-]/g, '_')), bytes);
}

function querySeeds() {
  const names = ['ws', 'big', 'dark', 'spare', 'two', 'v6', 'x.y', 'www', 'alias', 'loop1', 'x.d', 'a.long', 'q.wild', 'sub', 'a.sub',
    '_sip._udp', 'big', 'mail', 'nx', 'a.b', ''].map((n) => (n ? `${n}.lb.example.com` : 'lb.example.com'));
  const types = ['A', 'AAAA', 'TXT', 'ANY', 'MX', 'SRV', 'NS', 'SOA', 'CNAME'];
  let i = 0;
  for (const name of names) {
    for (const type of types) {
      // One in three with EDNS: the fuzzer mutates sizes and flags from there.
      const edns = i % 3 === 0 ? undefined : { udp: i % 3 === 1 ? 1232 : 512, do: i % 2 === 0 };
      if (i % 4 === 0) write('query', `${name}-${type}${edns ? '-edns' : ''}`, buildQuery(name, type, { id: i, edns }));
      i++;
    }
  }
  write('query', 'ws-A-edns-options', buildQuery('ws.lb.example.com', 'A', { edns: { udp: 4096, options: [{ code: 10, data: Buffer.alloc(8, 7) }] } }));
  write('query', 'ws-A-edns-v1', buildQuery('ws.lb.example.com', 'A', { edns: { version: 1 } }));
  write('query', 'www-A-0x20', buildQuery('WwW.Lb.ExAmPlE.cOm', 'A'));
  write('query', 'other-A', buildQuery('www.other.test', 'A'));
  write('query', 'outside-A', buildQuery('example.net', 'A'));
  write('query', 'notify', buildQuery('lb.example.com', 'SOA', { opcode: 4 }));
  write('query', 'qdcount-0', buildQuery('ws.lb.example.com', 'A', { qdcount: 0 }));
  write('query', 'axfr', buildQuery('lb.example.com', 252));
  write('query', 'chaos', buildQuery('version.bind', 'TXT', { qclass: 3 }));
  // A TSIG record last in the additional section (RFC 8945 §4.2): hmac-sha256, empty MAC.
  const alg = encodeName('hmac-sha256');
  const fixed = Buffer.alloc(16);
  fixed.writeUIntBE(Math.floor(Date.UTC(2026, 0, 1) / 1000), 0, 6);
  fixed.writeUInt16BE(300, 6);
  const tsigRdata = Buffer.concat([alg, fixed]);
  const tsigRr = Buffer.concat([encodeName('key.example'), Buffer.from([0, 250, 0, 255, 0, 0, 0, 0, tsigRdata.length >> 8, tsigRdata.length & 255]), tsigRdata]);
  write('query', 'ws-A-tsig', buildQuery('ws.lb.example.com', 'A', { extra: tsigRr, extraCount: 1 }));
  // A compression pointer in the question, and one that loops.
  const q = buildQuery('ws.lb.example.com', 'A');
  write('query', 'pointer-loop', Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]));
}

function zoneSeeds() {
  for (const [origin, text] of Object.entries(ZONES)) write('zone', `${origin}.zone`, text.replaceAll(origin, 'example.com'));
  const good = path.join(__dirname, '..', 'test', 'fixtures', 'zones', 'good', 'example.org.zone');
  if (fs.existsSync(good)) write('zone', 'example.org.zone', fs.readFileSync(good, 'utf8').replaceAll('example.org', 'example.com'));
  write('zone', 'include.zone', '$ORIGIN example.com.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n$INCLUDE inc.zone\n$INCLUDE inc.zone sub\n');
  write('zone', 'multiline.zone', '$TTL 1h\n@ IN SOA ns.example.com. h.example.com. (\n 2026 ; serial\n 1d 2h 3w 60 )\n@ NS ns\nns A 192.0.2.1\nt TXT "a\\"b" "c\\032d" \\# 3 616263\n');
  write('zone', 'generic.zone', '@ 60 IN SOA ns h 1 2 3 4 5\n@ 60 NS ns\nns 60 A 192.0.2.1\nx 60 CLASS1 TYPE65534 \\# 4 c0000201\ny 60 CAA 0 issue "ca.example"\n');
  write('zone', 'broken.zone', '@ SOA ns\nns A 999.1.1.1\n$ORIGIN\n(\n');
}

function storeUrlSeeds() {
  const urls = [
    'file:data/store.json', 'redis://127.0.0.1:6379/0', 'redis://:Sx9Tq2LmPw@127.0.0.1:6379/0?prefix=lb1%3A',
    'redis://ops:Sx9Tq2LmPw@[::1]:6380/4', 'rediss://ops:Sx9%25Tq2%40Lm@h.example:6390/0?insecure=1&servername=r.internal',
    'redis-sentinel://u:Sx9Tq2LmPw@10.0.0.1,10.0.0.2:26380/mymaster/2?sentinelUser=s&sentinelPassword=Zk3Wq8RtPw',
    'rediss-sentinel://h:1/m?sentinelPassword=Zk3%26Wq8RtPw', 'redis://:Pa5s%wQrdPw@127.0.0.1:1/0', 'redis://u@x:P@ss:w0rdPw@127.0.0.1:1/0',
    'redis://:Se/cr?EtPw@127.0.0.1:1/0', 'redis://adm:S#cr3TPw@127.0.0.1:1/0', 'redis://:Pä55wörd✓@127.0.0.1:99999/0',
    'redis-sentinel://127.0.0.1:1/m?sentinelPassword=Sx9&Tq2LmPw', 'redis://Sx9Tq2LmPw@127.0.0.1:1/0',
  ];
  urls.forEach((u, i) => write('storeUrl', `url-${String(i).padStart(2, '0')}`, u));
}

function tcpFramerSeeds() {
  const frame = (m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 255]), m]);
  const a = buildQuery('ws.lb.example.com', 'A', { edns: { udp: 1232 } });
  const b = buildQuery('big.lb.example.com', 'AAAA');
  // First byte: how the stream is cut into chunks (tcpFramer.fuzz.js).
  write('tcpFramer', 'pipelined', Buffer.concat([Buffer.from([7]), frame(a), frame(b), frame(a)]));
  write('tcpFramer', 'empty-frames', Buffer.concat([Buffer.from([1]), frame(Buffer.alloc(0)), frame(Buffer.alloc(0)), frame(a)]));
  write('tcpFramer', 'partial-tail', Buffer.concat([Buffer.from([200]), frame(a), frame(b).subarray(0, 9)]));
  write('tcpFramer', 'short-message', Buffer.concat([Buffer.from([3]), frame(Buffer.from([1, 2, 3])), frame(a)]));
  write('tcpFramer', 'huge-length', Buffer.concat([Buffer.from([42]), Buffer.from([0xff, 0xff]), a]));
}

querySeeds();
zoneSeeds();
storeUrlSeeds();
tcpFramerSeeds();
