'use strict';
// Pool and zone name syntax (src/store/names.ts): the fast character loop agrees with the
// per-label regular expression it replaced, on chosen edge cases and on random strings.
const test = require('node:test');
const assert = require('node:assert/strict');
const { isPoolName, normalizePoolName } = require('../dist/model/names');

// The rule as the regular expression per label that isPoolName replaced: the reference.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
function isPoolNameByRegex(name) {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => LABEL.test(label));
}

test('isPoolName: edge cases', () => {
  const yes = ['a', 'ws.lb.example.com', '_srv._tcp.example.com', 'a-b.c', '0.1', 'x'.repeat(63), `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`];
  const no = ['', '.', 'a.', '.a', 'a..b', '-a', 'a-', 'a.-b', 'a.b-', 'A.b', 'a b', 'ä', 'a/b', 'x'.repeat(64), `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, 'a\u0000'];
  for (const n of yes) assert.equal(isPoolName(n), true, JSON.stringify(n));
  for (const n of no) assert.equal(isPoolName(n), false, JSON.stringify(n));
  for (const n of [...yes, ...no]) assert.equal(isPoolName(n), isPoolNameByRegex(n), JSON.stringify(n));
  assert.equal(normalizePoolName('WS.LB.Example.com.'), 'ws.lb.example.com');
});

test('isPoolName agrees with the regular expression on 50,000 random names', () => {
  const alphabet = 'ab09_-.-.A';
  let seed = 7;
  const rnd = (n) => ((seed = (seed * 48271) % 2147483647) % n);
  for (let i = 0; i < 50_000; i++) {
    const len = rnd(4) === 0 ? rnd(260) : rnd(12);
    let s = '';
    for (let j = 0; j < len; j++) s += alphabet[rnd(alphabet.length)];
    assert.equal(isPoolName(s), isPoolNameByRegex(s), JSON.stringify(s));
  }
});
