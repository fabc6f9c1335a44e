'use strict';
// The one full collection a serving instance runs after start-up (src/util/heap.ts): only
// when node was started with --expose-gc, never by changing V8 flags at run time.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const HEAP = path.join(__dirname, '..', 'dist', 'util', 'heap.js');
const PROGRAM = `
  const { collectGarbage } = require(${JSON.stringify(HEAP)});
  let garbage = [];
  for (let i = 0; i < 300000; i++) garbage.push({ i, s: 'pool-' + i });
  const withGarbage = process.memoryUsage().heapUsed;
  garbage = null;
  const ms = collectGarbage();
  console.log(JSON.stringify({ ms: ms ?? null, freedMB: (withGarbage - process.memoryUsage().heapUsed) / 1048576 }));
`;

function run(flags) {
  const r = spawnSync(process.execPath, [...flags, '-e', PROGRAM], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('collectGarbage: with --expose-gc, a full collection that returns what start-up left behind', () => {
  const { ms, freedMB } = run(['--expose-gc']);
  assert.equal(typeof ms, 'number');
  assert.ok(freedMB > 10, `freed ${freedMB} MB`);
});

test('collectGarbage: without --expose-gc it does nothing and changes no V8 flag', () => {
  const { ms } = run([]);
  assert.equal(ms, null);
});
