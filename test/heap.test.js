'use strict';
// The one full collection a serving instance runs after start-up (src/util/heap.ts).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { collectGarbage } = require('../dist/util/heap');

test('collectGarbage: a full collection that returns what start-up left behind', () => {
  let garbage = [];
  for (let i = 0; i < 300_000; i++) garbage.push({ i, s: `pool-${i}` });
  const withGarbage = process.memoryUsage().heapUsed;
  garbage = null;
  const ms = collectGarbage();
  assert.equal(typeof ms, 'number', 'V8 gave a collector');
  assert.ok(ms >= 0);
  const after = process.memoryUsage().heapUsed;
  assert.ok(after < withGarbage - 10 * 1024 * 1024, `heap ${withGarbage} -> ${after} bytes`);
  assert.equal(typeof globalThis.gc, 'undefined', 'the main context gets no global gc()');
});
