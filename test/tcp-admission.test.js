'use strict';
// Who gets a TCP connection slot: the per-source cap, and fair eviction when every slot is taken.
const test = require('node:test');
const assert = require('node:assert/strict');
const { TcpAdmission } = require('../dist/dns/tcpAdmission');
const { sourceKey, defaultMaxConnections } = require('../dist/dns/tcpLimits');

function table(maxConnections, maxPerSource, quietMs = 1000) {
  const a = new TcpAdmission({ maxConnections, maxPerSource, quietMs });
  const add = (source, lastActiveMs = 0) => {
    const c = { source, lastActiveMs };
    a.add(c);
    return c;
  };
  return { a, add };
}

test('a source holding its cap is refused; another source is not', () => {
  const { a, add } = table(100, 3);
  for (let i = 0; i < 3; i++) add('192.0.2.1');
  assert.deepEqual(a.consider('192.0.2.1', 0), { admit: false, reason: 'per-source' });
  assert.deepEqual(a.consider('192.0.2.2', 0), { admit: true });
});

test('full: a newcomer replaces the quietest connection of the source holding the most', () => {
  const { a, add } = table(6, 5);
  const hog = [add('192.0.2.1', 50), add('192.0.2.1', 10), add('192.0.2.1', 30), add('192.0.2.1', 40)];
  add('192.0.2.2', 0);
  add('192.0.2.3', 0);
  const d = a.consider('198.51.100.7', 60);
  assert.equal(d.admit, true);
  assert.equal(d.evict, hog[1]);
  a.remove(d.evict);
  add('198.51.100.7', 60);
  assert.equal(a.size, 6);
  assert.equal(a.held('192.0.2.1'), 3);
});

test('full of equal sources: only a connection quiet for quietMs gives way', () => {
  const { a, add } = table(3, 5, 1000);
  add('192.0.2.1', 500);
  const quiet = add('192.0.2.2', 100);
  add('192.0.2.3', 900);
  assert.deepEqual(a.consider('192.0.2.9', 1000), { admit: false, reason: 'full' }, 'none quiet for 1 s yet');
  assert.deepEqual(a.consider('192.0.2.9', 1100), { admit: true, evict: quiet });
});

test('a source one short of the biggest does not trade places with it', () => {
  const { a, add } = table(3, 5, 10_000);
  add('192.0.2.1');
  add('192.0.2.1');
  add('192.0.2.2');
  assert.deepEqual(a.consider('192.0.2.2', 0), { admit: false, reason: 'full' });
  assert.equal(a.consider('192.0.2.3', 0).admit, true);
});

test('remove frees the slot once, and forgets an empty source', () => {
  const { a, add } = table(2, 2);
  const c = add('192.0.2.1');
  a.remove(c);
  a.remove(c);
  assert.equal(a.size, 0);
  assert.equal(a.held('192.0.2.1'), 0);
});

test('sources: an IPv4 address (mapped or not), an IPv6 /64', () => {
  assert.equal(sourceKey('192.0.2.1'), '192.0.2.1');
  assert.equal(sourceKey('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:2:ffff::9'));
  assert.notEqual(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:3::1'));
  assert.equal(sourceKey(undefined), '');
});

test('the default connection cap is 1000, or half the open-files limit when lower', () => {
  assert.equal(defaultMaxConnections(undefined), 1000);
  assert.equal(defaultMaxConnections(65536), 1000);
  assert.equal(defaultMaxConnections(1024), 512);
});
