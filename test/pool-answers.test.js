'use strict';
// PRODUCT.md §4: which members a pool name answers, in what order, with what TTL.
require('./helpers/native-env');
const test = require('node:test');
const assert = require('node:assert/strict');
const { ask, startDns, poolView, TYPES } = require('./helpers/dns');
const { SmoothRotation } = require('../dist/pool/rotation');

const ZONE = `
$ORIGIN lb.example.com.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 60
@ NS ns1
ns1 A 127.0.0.1
ws TXT "pool with static TXT"
`;

async function server(t, pools) {
  return startDns(t, { zones: { 'lb.example.com': ZONE }, pools });
}
const addrs = (r) => r.answers.map((a) => a.address);

test('rotation: successive answers rotate which member comes first; every answer holds all members', async (t) => {
  const s = await server(t, [poolView('ws.lb.example.com', [['127.0.1.1'], ['127.0.1.2'], ['127.0.1.3']])]);
  const firsts = [];
  for (let i = 0; i < 6; i++) {
    const r = await ask(s.port, 'ws.lb.example.com', 'A');
    assert.equal(r.aa, 1);
    assert.deepEqual([...addrs(r)].sort(), ['127.0.1.1', '127.0.1.2', '127.0.1.3']);
    assert.ok(r.answers.every((a) => a.ttl === 20));
    firsts.push(addrs(r)[0]);
  }
  assert.deepEqual(firsts.slice(0, 3).sort(), ['127.0.1.1', '127.0.1.2', '127.0.1.3']);
  assert.deepEqual(firsts.slice(3), firsts.slice(0, 3));
});

test('weights: a member of weight 2 comes first twice as often, interleaved', () => {
  const rot = new SmoothRotation([2, 1, 1]);
  const counts = [0, 0, 0];
  const seq = [];
  for (let i = 0; i < 400; i++) {
    const k = rot.pick();
    counts[k]++;
    seq.push(k);
  }
  assert.deepEqual(counts, [200, 100, 100]);
  // Smooth: the heavy member never comes first more than twice in a row.
  for (let i = 2; i < seq.length; i++) assert.ok(!(seq[i] === 0 && seq[i - 1] === 0 && seq[i - 2] === 0));
});

test('weights over the wire: distribution over many answers follows weights', async (t) => {
  const s = await server(t, [poolView('ws.lb.example.com', [['127.0.1.1', { weight: 3 }], ['127.0.1.2', { weight: 1 }]])]);
  const counts = {};
  for (let i = 0; i < 200; i++) {
    const first = addrs(await ask(s.port, 'ws.lb.example.com', 'A'))[0];
    counts[first] = (counts[first] ?? 0) + 1;
  }
  assert.deepEqual(counts, { '127.0.1.1': 150, '127.0.1.2': 50 });
});

test('max-answers: K members from the rotating start; every member handed out over time', async (t) => {
  const members = [1, 2, 3, 4, 5].map((i) => [`127.0.1.${i}`]);
  const s = await server(t, [poolView('ws.lb.example.com', members, { maxAnswers: 2 })]);
  const seen = new Set();
  for (let i = 0; i < 5; i++) {
    const r = await ask(s.port, 'ws.lb.example.com', 'A');
    assert.equal(r.answers.length, 2);
    const [a, b] = addrs(r).map((x) => Number(x.split('.')[3]));
    assert.equal(b, (a % 5) + 1, 'window is consecutive in member order');
    seen.add(a);
  }
  assert.equal(seen.size, 5);
});

test('health: only enabled members whose verdict is up; drained never answered', async (t) => {
  const s = await server(t, [
    poolView('ws.lb.example.com', [['127.0.1.1', { verdict: 'up' }], ['127.0.1.2', { verdict: 'down' }], ['127.0.1.3', { verdict: 'unknown' }], ['127.0.1.4', { admin: 'drained' }]], { check: 'tcp' }),
  ]);
  for (let i = 0; i < 3; i++) assert.deepEqual(addrs(await ask(s.port, 'ws.lb.example.com', 'A')), ['127.0.1.1']);
});

test('check none: members are always up', async (t) => {
  const s = await server(t, [poolView('ws.lb.example.com', [['127.0.1.1', { verdict: 'down' }]], { check: 'none' })]);
  assert.deepEqual(addrs(await ask(s.port, 'ws.lb.example.com', 'A')), ['127.0.1.1']);
});

test('all down: "all" fails open to every enabled member, never drained ones', async (t) => {
  const s = await server(t, [
    poolView('ws.lb.example.com', [['127.0.1.1', { verdict: 'down' }], ['127.0.1.2', { verdict: 'down' }], ['127.0.1.3', { verdict: 'up', admin: 'drained' }]], { check: 'tcp' }),
  ]);
  assert.deepEqual(addrs(await ask(s.port, 'ws.lb.example.com', 'A')).sort(), ['127.0.1.1', '127.0.1.2']);
});

test('all down: "none" answers NODATA with the SOA', async (t) => {
  const s = await server(t, [poolView('ws.lb.example.com', [['127.0.1.1', { verdict: 'down' }]], { check: 'tcp', whenAllDown: 'none' })]);
  const r = await ask(s.port, 'ws.lb.example.com', 'A');
  assert.equal(r.rcode, 0);
  assert.equal(r.answers.length, 0);
  assert.equal(r.authorities[0].type, TYPES.SOA);
  assert.equal(r.authorities[0].ttl, 60);
});

test('all down: "pool:<name>" answers from the backup pool by the same rules', async (t) => {
  const s = await server(t, [
    poolView('ws.lb.example.com', [['127.0.1.1', { verdict: 'down' }]], { check: 'tcp', whenAllDown: 'pool:backup.lb.example.com' }),
    poolView('backup.lb.example.com', [['127.0.2.1', { verdict: 'up' }], ['127.0.2.2', { verdict: 'down' }]], { check: 'tcp' }),
    poolView('loop-a.lb.example.com', [['127.0.3.1', { verdict: 'down' }]], { check: 'tcp', whenAllDown: 'pool:loop-b.lb.example.com' }),
    poolView('loop-b.lb.example.com', [['127.0.3.2', { verdict: 'down' }]], { check: 'tcp', whenAllDown: 'pool:loop-a.lb.example.com' }),
  ]);
  assert.deepEqual(addrs(await ask(s.port, 'ws.lb.example.com', 'A')), ['127.0.2.1']);
  const loop = await ask(s.port, 'loop-a.lb.example.com', 'A');
  assert.equal(loop.rcode, 0, 'a backup loop ends in NODATA, never a hang');
  assert.equal(loop.answers.length, 0);
});

test('families: A and AAAA answer their own members; a missing family is NODATA with SOA', async (t) => {
  const s = await server(t, [
    poolView('ws.lb.example.com', [['127.0.1.1'], ['::1'], ['fe80::2']]),
    poolView('v4only.lb.example.com', [['127.0.1.9']]),
  ]);
  assert.deepEqual(addrs(await ask(s.port, 'ws.lb.example.com', 'AAAA')).sort(), ['::1', 'fe80::2']);
  assert.deepEqual(addrs(await ask(s.port, 'ws.lb.example.com', 'A')), ['127.0.1.1']);
  const r = await ask(s.port, 'v4only.lb.example.com', 'AAAA');
  assert.equal(r.rcode, 0);
  assert.equal(r.answers.length, 0);
  assert.equal(r.authorities[0].type, TYPES.SOA);
});

test('names below a pool are NXDOMAIN; static records of other types at a pool name are served', async (t) => {
  const s = await server(t, [poolView('ws.lb.example.com', [['127.0.1.1']]), poolView('a.b.lb.example.com', [['127.0.1.5']])]);
  assert.equal((await ask(s.port, 'x.ws.lb.example.com', 'A')).rcode, 3);
  const txt = await ask(s.port, 'ws.lb.example.com', 'TXT');
  assert.equal(txt.answers.length, 1);
  assert.equal((await ask(s.port, 'ws.lb.example.com', 'MX')).authorities[0].type, TYPES.SOA);
  // The pool's ancestor exists as an empty non-terminal.
  const ent = await ask(s.port, 'b.lb.example.com', 'A');
  assert.equal(ent.rcode, 0);
  assert.equal(ent.answers.length, 0);
});

test('a pool outside every zone, or with static A records, is not served', async (t) => {
  const zone = ZONE + 'static A 127.0.0.99\n';
  const s = await startDns(t, { zones: { 'lb.example.com': zone }, pools: [poolView('static.lb.example.com', [['127.0.1.1']]), poolView('ws.other.org', [['127.0.1.1']])] });
  assert.deepEqual(addrs(await ask(s.port, 'static.lb.example.com', 'A')), ['127.0.0.99']);
  assert.equal((await ask(s.port, 'ws.other.org', 'A')).rcode, 5);
});

test('pool updates apply one pool at a time, without touching the others', async (t) => {
  const s = await server(t, [poolView('ws.lb.example.com', [['127.0.1.1']]), poolView('api.lb.example.com', [['127.0.2.1']])]);
  const before = s.snapshot.pools.get('api.lb.example.com');
  s.snapshot.setPool('ws.lb.example.com', poolView('ws.lb.example.com', [['127.0.1.7']]));
  assert.equal(s.snapshot.pools.get('api.lb.example.com'), before);
  assert.deepEqual(addrs(await ask(s.port, 'ws.lb.example.com', 'A')), ['127.0.1.7']);
  s.snapshot.setPool('ws.lb.example.com', undefined);
  const gone = await ask(s.port, 'ws.lb.example.com', 'A');
  assert.equal(gone.answers.length, 0, 'the static TXT keeps the name; no pool, so NODATA');
});

test('large pools over UDP without EDNS set TC; over EDNS they fit', async (t) => {
  const members = [];
  for (let i = 1; i <= 40; i++) members.push([`127.0.5.${i}`]);
  const s = await server(t, [poolView('big.lb.example.com', members)]);
  const plain = await ask(s.port, 'big.lb.example.com', 'A');
  assert.equal(plain.tc, 1);
  const edns = await ask(s.port, 'big.lb.example.com', 'A', { edns: { udp: 1232 } });
  assert.equal(edns.tc, 0);
  assert.equal(edns.answers.length, 40);
});
