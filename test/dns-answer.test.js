'use strict';
// The answer contract without sockets: QueryHandler.answer writes into the buffer its caller
// gives, at any offset; writers share no scratch; the decoder's name table holds pool names
// only, filled by the pool table.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { QueryHandler } = require('../dist/dns/handler');
const { Snapshot } = require('../dist/dns/snapshot');
const { Query, parseQuery } = require('../dist/wire/query');
const { ResponseWriter } = require('../dist/wire/writer');
const { NameTable, foldedHash } = require('../dist/wire/nameTable');
const { parseZone } = require('../dist/zone/parse');
const { buildQuery, decode, poolView, silent } = require('./helpers/dns');

const ZONE = `$ORIGIN example.com.
$TTL 300
@ IN SOA ns1 host 1 3600 600 86400 60
@ IN NS ns1
@ IN NS ns2
ns1 IN A 192.0.2.53
ns2 IN A 192.0.2.54
www IN CNAME ws
txt IN TXT "${'x'.repeat(200)}" "${'y'.repeat(200)}"
`;

function snapshot() {
  const snap = new Snapshot();
  snap.setZones([parseZone(ZONE, { file: 'example.com.zone', origin: 'example.com' }).zone]);
  snap.setPool('ws.example.com', poolView('ws.example.com', [['192.0.2.1'], ['192.0.2.2']]));
  return snap;
}

const queries = [
  ['ws.example.com', 'A', { edns: {} }], // pool template
  ['Ws.Example.COM', 'A', {}], // pool template, name case kept in the echo
  ['example.com', 'NS', { edns: {} }], // general writer, compression and glue
  ['www.example.com', 'A', {}], // CNAME chased into the pool
  ['nope.example.com', 'A', { edns: {} }], // NXDOMAIN with the SOA
  ['example.org', 'A', {}], // REFUSED
];

test('answer() writes the same bytes at any offset of the caller\'s buffer, and nothing outside them', () => {
  // Two handlers on one snapshot rotate alike, so they must write identical answers.
  const atZero = new QueryHandler(snapshot, silent);
  const atOffset = new QueryHandler(snapshot, silent);
  for (const [name, type, opts] of queries) {
    const msg = buildQuery(name, type, opts);
    const a = Buffer.alloc(2048);
    const n = atZero.answer(msg, msg.length, 'udp', a, 0);
    const b = Buffer.alloc(4096, 0xee);
    const m = atOffset.answer(msg, msg.length, 'udp', b, 777);
    assert.ok(n > 12, `${name} ${type}: answered`);
    assert.equal(m, n);
    assert.deepEqual(b.subarray(777, 777 + m), a.subarray(0, n), `${name} ${type}`);
    assert.ok(b.subarray(0, 777).every((x) => x === 0xee) && b.subarray(777 + m).every((x) => x === 0xee));
    assert.equal(decode(a.subarray(0, n)).errors.length, 0);
  }
});

test('a query in a longer receive slot is answered from its first len bytes', () => {
  const h = new QueryHandler(snapshot, silent);
  const msg = buildQuery('ws.example.com', 'A');
  const slot = Buffer.alloc(512, 0x55);
  msg.copy(slot);
  const out = Buffer.alloc(1232);
  const n = h.answer(slot, msg.length, 'udp', out, 0);
  const r = decode(out.subarray(0, n));
  assert.equal(r.rcode, 0);
  assert.equal(r.answers.length, 2);
});

test('an answer larger than the room the caller gives is truncated to fit (TC=1), never written past it', () => {
  const h = new QueryHandler(snapshot, silent);
  const msg = buildQuery('txt.example.com', 'TXT', { edns: { udp: 1232 } });
  const roomy = Buffer.alloc(1232);
  const full = decode(roomy.subarray(0, h.answer(msg, msg.length, 'udp', roomy, 0)));
  assert.equal(full.tc, 0);
  assert.equal(full.answers.length, 1);
  const small = Buffer.alloc(300 + 200, 0xee);
  const n = h.answer(msg, msg.length, 'udp', small.subarray(0, 300), 0);
  assert.ok(n <= 300);
  const cut = decode(small.subarray(0, n));
  assert.equal(cut.tc, 1);
  assert.equal(cut.answers.length, 0);
  assert.ok(cut.opt, 'the OPT is kept');
  assert.ok(small.subarray(300).every((x) => x === 0xee));
});

test('two writers share no scratch: one answer in progress survives another written meanwhile', () => {
  const snap = snapshot();
  const q1 = parseQuery(buildQuery('example.com', 'NS'), new Query());
  const q2 = parseQuery(buildQuery('nope.example.com', 'MX'), new Query());
  const zone = snap.findZone(q1.qkey);
  const ns = zone.nodes.get(q1.qkey).rrsets.get(2);
  const w1 = new ResponseWriter();
  const w2 = new ResponseWriter();
  const out1 = Buffer.alloc(512);
  const out2 = Buffer.alloc(512);
  w1.begin(q1, out1, 0, 512, true, false);
  w1.add(0, ns);
  // A second response, start to finish, while the first is open.
  const n2 = w2.begin(q2, out2, 0, 512, true, false).finish(q2, 3, true);
  const n1 = w1.finish(q1, 0, true);
  const r1 = decode(out1.subarray(0, n1));
  assert.deepEqual(r1.answers.map((a) => a.ns).sort(), ['ns1.example.com', 'ns2.example.com']);
  assert.equal(r1.questions[0].name, 'example.com');
  const r2 = decode(out2.subarray(0, n2));
  assert.equal(r2.rcode, 3);
  assert.equal(r2.questions[0].name, 'nope.example.com');
});

test('the decoder takes a pool name\'s key from the pool table\'s names; other names never enter it', () => {
  const snap = snapshot();
  const names = snap.pools.names;
  assert.equal(names.size, 1);
  const h = new QueryHandler(() => snap, silent);
  const out = Buffer.alloc(1232);
  // Answering other names (a flood of random ones) adds nothing.
  for (let i = 0; i < 100; i++) {
    const msg = buildQuery(`r${i}.example.com`, 'A');
    h.answer(msg, msg.length, 'udp', out, 0);
  }
  assert.equal(names.size, 1);
  const q = parseQuery(buildQuery('WS.example.com', 'A'), new Query(), undefined, names);
  assert.equal(q.qkey, snap.pools.byKey.keys().next().value);
  snap.setPool('ws.example.com', undefined);
  assert.equal(names.size, 0);
  const again = parseQuery(buildQuery('ws.example.com', 'A'), new Query(), undefined, names);
  assert.equal(again.qkey, '\x02ws\x07example\x03com');
});

test('NameTable: thousands of names, found case-insensitively by wire bytes; deleted ones are gone', () => {
  const table = new NameTable();
  const key = (i) => `\x05p${String(i).padStart(4, '0')}\x02lb\x07example\x03com`;
  for (let i = 0; i < 5000; i++) table.add(key(i));
  table.add(key(7)); // again: no duplicate
  assert.equal(table.size, 5000);
  const wire = (k) => Buffer.concat([Buffer.alloc(12), Buffer.from(k.toUpperCase(), 'latin1'), Buffer.from([0])]);
  for (let i = 0; i < 5000; i += 7) {
    const b = wire(key(i));
    assert.equal(table.find(b, 12, b.length - 1, foldedHash(b, 12, b.length - 1)), key(i));
  }
  const missing = wire('\x05other\x03com');
  assert.equal(table.find(missing, 12, missing.length - 1, foldedHash(missing, 12, missing.length - 1)), undefined);
  for (let i = 0; i < 20; i += 2) table.delete(key(i));
  assert.equal(table.size, 4990);
  for (let i = 0; i < 20; i++) {
    const b = wire(key(i));
    assert.equal(table.find(b, 12, b.length - 1, foldedHash(b, 12, b.length - 1)), i % 2 ? key(i) : undefined);
  }
});
