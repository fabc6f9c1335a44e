'use strict';
// Response rate limiting (docs/rrl.md), the unit logic through QueryHandler with a fake clock:
// buckets per source prefix and answer, refills, slips, exemptions, counters. The attack on
// the real server is in rrl-serve.test.js.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { QueryHandler } = require('../dist/dns/handler');
const { Snapshot } = require('../dist/dns/snapshot');
const { IpWords, parseCidr, cidrContains } = require('../dist/util/cidr');
const { parseZone } = require('../dist/zone/parse');
const { parseRrlFlags } = require('../dist/cli/options');
const { buildQuery, decode, poolView, silent } = require('./helpers/dns');

const ZONE = `$ORIGIN example.com.
$TTL 300
@ IN SOA ns1 host 1 3600 600 86400 60
@ IN NS ns1
ns1 IN A 192.0.2.53
txt IN TXT "${'x'.repeat(250)}" "${'y'.repeat(250)}" "${'z'.repeat(250)}" "${'w'.repeat(250)}"
`;
const ZONE2 = `$ORIGIN example.org.
$TTL 300
@ IN SOA ns1 host 1 3600 600 86400 60
@ IN NS ns1
ns1 IN A 192.0.2.54
`;

function snapshot() {
  const snap = new Snapshot();
  snap.setZones([ZONE, ZONE2].map((text, i) => parseZone(text, { file: `z${i}`, origin: i ? 'example.org' : 'example.com' }).zone));
  snap.setPool('ws.example.com', poolView('ws.example.com', [['192.0.2.1'], ['192.0.2.2']]));
  return snap;
}

/** A handler limiting at `rate` with a clock the test moves; ask() returns 'answer', 'slip' or 'drop'. */
function limited({ rate = 10, slip = 2, exempt = 'none', tableSize } = {}) {
  let nowMs = 1_000_000;
  const snap = snapshot();
  const opts = { ...parseRrlFlags(String(rate), String(slip), exempt), now: () => nowMs, tableSize };
  const handler = new QueryHandler(() => snap, silent, opts);
  const out = Buffer.alloc(1232);
  const from = new IpWords();
  const ask = (source, name = 'ws.example.com', type = 'A', opts = {}) => {
    assert.ok(from.setText(source));
    const msg = buildQuery(name, type, opts);
    const n = handler.answer(msg, msg.length, 'udp', out, 0, from);
    if (n === 0) return 'drop';
    const r = decode(out.subarray(0, n));
    if (r.tc && r.answers.length === 0 && r.authorities.length === 0 && !r.opt) {
      assert.equal(n, msg.length - (opts.edns ? 11 : 0), 'a slip is the header and the question');
      return 'slip';
    }
    return 'answer';
  };
  const tally = (fn, count) => {
    const seen = { answer: 0, slip: 0, drop: 0 };
    for (let i = 0; i < count; i++) seen[fn(i)]++;
    return seen;
  };
  const raw = (source, msg) => {
    from.setText(source);
    const n = handler.answer(msg, msg.length, 'udp', out, 0, from);
    return n === 0 ? null : Buffer.from(out.subarray(0, n));
  };
  return { ask, raw, tally, handler, advance: (ms) => (nowMs += ms) };
}

test('a source gets `rate` answers a second for one answer; over it every 2nd is a TC=1 slip, the rest dropped', () => {
  const l = limited({ rate: 10, slip: 2 });
  assert.deepEqual(l.tally(() => l.ask('192.0.2.7'), 50), { answer: 10, slip: 20, drop: 20 });
  assert.equal(l.handler.stats.rrlSlipped, 20);
  assert.equal(l.handler.stats.rrlDropped, 20);
  // Tokens come back at the rate: half a second gives 5, and no more than a second's worth piles up.
  l.advance(500);
  assert.equal(l.tally(() => l.ask('192.0.2.7'), 20).answer, 5);
  l.advance(60_000);
  assert.equal(l.tally(() => l.ask('192.0.2.7'), 20).answer, 10);
});

test('the bucket is the source\'s /24 or /56: neighbours share it, other prefixes have their own', () => {
  const l = limited({ rate: 10, slip: 0 });
  assert.equal(l.tally((i) => l.ask(`192.0.2.${i + 1}`), 30).answer, 10);
  assert.equal(l.tally(() => l.ask('192.0.3.1'), 30).answer, 10, 'another /24');
  assert.equal(l.tally((i) => l.ask(`2001:db8:0:1${i.toString(16).padStart(2, '0')}::${i + 1}`), 30).answer, 10);
  assert.equal(l.tally(() => l.ask('2001:db8:0:200::1'), 30).answer, 10, 'another /56');
  assert.equal(l.tally(() => l.ask('192.0.2.250'), 5).answer, 0, 'still limited');
});

test('a full set keeps the buckets visited last: a new key takes over the one visited longest ago', () => {
  // One set of four slots: four prefixes fit, a fifth pushes out the least recently visited.
  const l = limited({ rate: 10, slip: 0, tableSize: 4 });
  for (const p of [1, 2, 3, 4]) assert.equal(l.tally(() => l.ask(`198.51.${p}.1`), 20).answer, 10);
  l.advance(1);
  for (const p of [2, 3, 4]) assert.equal(l.tally(() => l.ask(`198.51.${p}.9`), 3).answer, 0, `prefix ${p} still limited`);
  assert.equal(l.tally(() => l.ask('198.51.5.1'), 20).answer, 10, 'a fifth prefix gets a bucket');
  for (const p of [2, 3, 4]) assert.equal(l.tally(() => l.ask(`198.51.${p}.9`), 3).answer, 0, `prefix ${p} kept its bucket`);
  assert.equal(l.tally(() => l.ask('198.51.1.1'), 20).answer, 10, 'the one visited longest ago was taken over');
});

test('the bucket is per answer: another name or class has its own; NXDOMAIN shares one per zone', () => {
  const l = limited({ rate: 10, slip: 0 });
  assert.equal(l.tally(() => l.ask('192.0.2.7'), 20).answer, 10);
  assert.equal(l.tally(() => l.ask('192.0.2.7', 'ns1.example.com'), 20).answer, 10, 'another name');
  assert.equal(l.tally(() => l.ask('192.0.2.7', 'ws.example.com', 'MX'), 20).answer, 10, 'empty (NODATA) answers apart');
  // Random names in one zone: one bucket, so a flood of them is limited like one name.
  assert.equal(l.tally((i) => l.ask('192.0.2.7', `r${i}.example.com`), 20).answer, 10);
  assert.equal(l.tally((i) => l.ask('192.0.2.7', `r${i}.example.org`), 20).answer, 10, 'another zone');
  // Errors (REFUSED here) share one bucket per source, whatever the name.
  assert.equal(l.tally((i) => l.ask('192.0.2.7', `r${i}.example.net`), 20).answer, 10);
});

test('a slip keeps the ID, the question and the rcode, sets TC and drops every record and the OPT', () => {
  const l = limited({ rate: 1, slip: 1 });
  assert.equal(l.ask('192.0.2.7', 'txt.example.com', 'TXT', { edns: {}, id: 0x4242 }), 'answer');
  assert.equal(l.ask('192.0.2.7', 'txt.example.com', 'TXT', { edns: {}, id: 0x4243 }), 'slip');
  assert.equal(l.ask('192.0.2.7', 'nope.example.com', 'A'), 'answer');
  const msg = buildQuery('NoPe.example.com', 'A', { id: 0x4444, edns: {} });
  const slip = decode(l.raw('192.0.2.7', msg));
  assert.equal(slip.id, 0x4444);
  assert.equal(slip.rcode, 3);
  assert.equal(slip.tc, 1);
  assert.equal(slip.aa, 1);
  assert.equal(slip.questions[0].name, 'NoPe.example.com');
  assert.equal(slip.raw.length + 11, msg.length, 'smaller than the query: no amplification');
});

test('exempt sources are never limited; --rrl-exempt none limits loopback too; slip 0 drops all', () => {
  const defaults = limited({ rate: 1, slip: 0, exempt: '127.0.0.0/8,::1' });
  assert.equal(defaults.tally(() => defaults.ask('127.0.0.1'), 50).answer, 50);
  assert.equal(defaults.tally(() => defaults.ask('127.1.2.3'), 50).answer, 50);
  assert.equal(defaults.tally(() => defaults.ask('::1'), 50).answer, 50);
  assert.equal(defaults.tally(() => defaults.ask('::2'), 50).answer, 1);
  const none = limited({ rate: 1, slip: 0, exempt: 'none' });
  assert.deepEqual(none.tally(() => none.ask('127.0.0.1'), 50), { answer: 1, slip: 0, drop: 49 });
});

test('TCP answers and queries without a source are not limited', () => {
  const l = limited({ rate: 1, slip: 0 });
  const snapOut = Buffer.alloc(65535);
  const msg = buildQuery('ws.example.com', 'A');
  for (let i = 0; i < 20; i++) assert.ok(l.handler.answer(msg, msg.length, 'tcp', snapOut, 0) > 12);
});

test('--rrl-* flags: ranges, CIDR lists, none; bad input is TIERDNS_E_BAD_VALUE', () => {
  const o = parseRrlFlags('0', '0', '10.0.0.0/8, 2001:db8::/32,192.0.2.1');
  assert.equal(o.ratePerSecond, 0);
  assert.equal(o.exempt.length, 3);
  assert.equal(parseRrlFlags('200', '2', 'none').exempt.length, 0);
  for (const [rate, slip, exempt] of [['-1', '2', 'none'], ['1e3', '2', 'none'], ['200', '101', 'none'], ['200', '2', '10.0.0.0/33'], ['200', '2', 'example.com'], ['200', '2', '']]) {
    assert.throws(() => parseRrlFlags(rate, slip, exempt), (err) => err.code === 'TIERDNS_E_BAD_VALUE', `${rate} ${slip} ${exempt}`);
  }
});

test('CIDRs: containment by prefix, families apart, host bits ignored in the block', () => {
  const at = (text) => {
    const a = new IpWords();
    assert.ok(a.setText(text), text);
    return a;
  };
  const block = parseCidr('10.1.2.99/24');
  assert.ok(cidrContains(block, at('10.1.2.1')));
  assert.ok(!cidrContains(block, at('10.1.3.1')));
  assert.ok(!cidrContains(parseCidr('::/0'), at('10.1.2.1')));
  assert.ok(cidrContains(parseCidr('0.0.0.0/0'), at('255.255.255.255')));
  assert.ok(cidrContains(parseCidr('2001:db8::/33'), at('2001:db8:7fff::1')));
  assert.ok(!cidrContains(parseCidr('2001:db8::/33'), at('2001:db8:8000::1')));
  assert.ok(cidrContains(parseCidr('::1'), at('::1')));
  assert.ok(!cidrContains(parseCidr('::1'), at('::2')));
  assert.equal(new IpWords().setText('300.1.1.1'), false);
  assert.equal(new IpWords().setText('1.2.3'), false);
});
