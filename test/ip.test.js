'use strict';
// parseIp: the hand-written IPv4 loop must accept exactly what Node's isIPv4 accepts, and
// IPv6 comes back in RFC 5952 form.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { parseIp } = require('../dist/util/ip');

test('parseIp: IPv4 accepted and refused like net.isIPv4, bytes in network order', () => {
  const good = ['0.0.0.0', '127.0.0.1', '255.255.255.255', '10.20.30.40', '1.2.3.4'];
  const bad = ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '256.1.1.1', '1.2.3.4 ', ' 1.2.3.4', '1..3.4', '1.2.3.',
    '.1.2.3', '1.2.3.4.', 'a.b.c.d', '1.2.3.1000', '1.2.3.-1', '1.2.3.+1', '1e1.2.3.4', '１.2.3.4'];
  for (const ip of good) {
    const p = parseIp(ip);
    assert.equal(p?.family, 4, ip);
    assert.equal(p.canonical, ip);
    assert.deepEqual([...p.bytes], ip.split('.').map(Number));
  }
  for (const ip of bad) assert.equal(parseIp(ip), undefined, JSON.stringify(ip));
});

test('parseIp: random dotted strings agree with net.isIPv4', () => {
  let seed = 7;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const alphabet = '0123456789....a ';
  for (let i = 0; i < 20000; i++) {
    let s = '';
    const len = 1 + rnd(16);
    for (let j = 0; j < len; j++) s += alphabet[rnd(alphabet.length)];
    assert.equal(parseIp(s)?.family === 4, net.isIPv4(s), JSON.stringify(s));
  }
});

test('parseIp: IPv6 canonical (RFC 5952), zone ids and garbage refused', () => {
  assert.equal(parseIp('2001:DB8:0:0:0:0:0:1')?.canonical, '2001:db8::1');
  assert.equal(parseIp('::1')?.canonical, '::1');
  assert.equal(parseIp('::ffff:1.2.3.4')?.bytes.toString('hex'), '00000000000000000000ffff01020304');
  assert.equal(parseIp('fe80::1%eth0'), undefined);
  assert.equal(parseIp('2001:db8::1::2'), undefined);
  assert.equal(parseIp('localhost'), undefined);
});
