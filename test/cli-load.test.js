'use strict';
// `pool set … --load/--load-port/--load-path/--capacity/--slow-start` through the real CLI:
// values kept and listed, defaults that follow the feed kind, and bad input refused with one
// line, a non-zero exit and the store left byte-identical.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { fileBackend, tmpDir } = require('./helpers/store');
const { runCli, storeState } = require('./helpers/cli');

const P = 'ws.lb.example.com';

function setup(t) {
  const loc = fileBackend().location(t);
  const cwd = tmpDir(t, 'tierdns-cli-load-');
  fs.mkdirSync(path.join(cwd, 'zones'));
  fs.writeFileSync(path.join(cwd, 'zones', 'lb.example.com.zone'), '');
  return { loc, run: (...args) => runCli([...args, '--store', loc.url], { cwd }) };
}

const config = async (run) => JSON.parse((await run('pool', 'ls', '--json')).stdout).pools[0];

test('load settings: set, listed, and the path follows the kind unless given', async (t) => {
  const { run } = setup(t);
  let r = await run('pool', 'set', P, '--load', 'agent', '--load-port', '9999', '--slow-start', '30s');
  assert.equal(r.code, 0, r.stderr);
  let c = await config(run);
  assert.deepEqual([c.load, c.loadPort, c.loadPath, c.capacity, c.slowStartMs], ['agent', 9999, '/', 0, 30_000]);
  r = await run('pool', 'set', P, '--load', 'json');
  assert.equal(r.code, 0, r.stderr);
  c = await config(run);
  assert.deepEqual([c.load, c.loadPort, c.loadPath], ['json', 9999, '/load']);
  r = await run('pool', 'set', P, '--load', 'haproxy', '--load-path', '/haproxy?stats;csv', '--capacity', '20000');
  assert.equal(r.code, 0, r.stderr);
  c = await config(run);
  assert.deepEqual([c.load, c.loadPath, c.capacity], ['haproxy', '/haproxy?stats;csv', 20000]);
  r = await run('pool', 'set', P, '--load', 'nginx');
  assert.equal(r.code, 0, `nginx takes the capacity already set: ${r.stderr}`);
  assert.equal((await config(run)).loadPath, '/haproxy?stats;csv', 'a path given stays');
  r = await run('pool', 'set', P, '--load', 'none', '--slow-start', '0');
  assert.equal(r.code, 0, r.stderr);
  c = await config(run);
  assert.deepEqual([c.load, c.slowStartMs], ['none', 0]);
});

test('bad load settings: one line, non-zero exit, nothing changed', async (t) => {
  const { loc, run } = setup(t);
  assert.equal((await run('pool', 'set', P)).code, 0);
  const before = await storeState(loc);
  const cases = [
    [['--load', 'snmp'], /--load must be one of none\|agent\|json\|nginx\|haproxy/],
    [['--load-port', '65536'], /--load-port/],
    [['--load-port', '-1'], /--load-port/],
    [['--load-path', 'load'], /--load-path must start with '\/'/],
    [['--capacity', '1.5'], /--capacity/],
    [['--capacity', '2000000000'], /--capacity/],
    [['--slow-start', '2h'], /--slow-start/],
    [['--slow-start', 'soon'], /slow-start/],
    [['--load', 'nginx'], /--capacity is needed with --load nginx/],
    [['--load', 'nginx', '--capacity', '0'], /--capacity is needed with --load nginx/],
  ];
  for (const [flags, why] of cases) {
    const r = await run('pool', 'set', P, ...flags);
    assert.notEqual(r.code, 0, flags.join(' '));
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], why, flags.join(' '));
  }
  assert.deepEqual(await storeState(loc), before);
});
