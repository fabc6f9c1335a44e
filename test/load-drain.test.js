'use strict';
// `member drain … --wait` (docs/steering.md) through the real CLI against a real `serve` that
// reads the member's JSON load feed: it returns when the reported connections reach --until,
// fails with exit 124 at --timeout (by default an hour, or 2 x TTL when that is the wait and
// longer), and without a feed that counts connections waits twice the pool TTL.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { CLI, startServe, runCli, tempDir } = require('./helpers/serve');
const { tcpBalancer } = require('./helpers/balancers');
const { jsonFeed } = require('./helpers/loadFeeds');
const { waitFor } = require('./helpers/store');
const { openStore } = require('../dist/store/open');
const { waitForDrain, DEFAULT_DRAIN_TIMEOUT_MS } = require('../dist/cli/drainWait');
const { defaultPoolConfig } = require('../dist/model/poolConfig');

const POOL = 'ws.lb.example.com';
const ZONES = path.join(__dirname, '..', 'zones');
const HOST = '127.0.0.61';

async function setup(t, flags) {
  const store = `file:${path.join(tempDir(t), 'store.json')}`;
  const balancer = await tcpBalancer(t, HOST);
  const cli = async (...args) => {
    const r = await runCli([...args, '--store', store, '--zones', ZONES]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await cli('pool', 'set', POOL, '--port', String(balancer.port), '--interval', '300ms', '--timeout', '200ms', '--rise', '1', ...flags);
  await cli('member', 'add', POOL, HOST);
  await startServe(t, ['--zones', ZONES, '--store', store, '--instance', 'drain']);
  return { store, cli };
}

/** Run the CLI, collecting stdout as it comes; resolves { code, stdout, stderr } at exit. */
function spawnCli(t, args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { out.stdout += d; });
  child.stderr.on('data', (d) => { out.stderr += d; });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  out.done = new Promise((resolve) => child.on('exit', (code) => resolve({ code, ...out })));
  return out;
}

test('drain --wait returns when the feed reports at most --until connections, printing progress', async (t) => {
  const feed = await jsonFeed(t, { host: HOST, body: { connections: 40, capacity: 100 } });
  const { store, cli } = await setup(t, ['--load', 'json', '--load-port', String(feed.port)]);
  await waitFor(async () => JSON.parse(await cli('status', POOL, '--json')).pools[0].members[0].load.connections === 40, 10_000, 'the first reading');
  const run = spawnCli(t, ['member', 'drain', POOL, HOST, '--wait', '--until', '5', '--timeout', '60s', '--store', store]);
  await waitFor(() => /has 40 connections \(until at most 5\)/.test(run.stdout), 10_000, 'progress with the count');
  feed.body = { connections: 12, capacity: 100 };
  await waitFor(() => /has 12 connections/.test(run.stdout), 10_000, 'progress as the count falls');
  feed.body = { connections: 3, capacity: 100 };
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^member 127\.0\.0\.61 of ws\.lb\.example\.com drained\n/);
  assert.match(r.stdout, /member 127\.0\.0\.61 of ws\.lb\.example\.com drained: 3 connections \(at most 5\) after /);
});

test('drain --wait fails at --timeout while connections stay; bad flags are refused', async (t) => {
  const feed = await jsonFeed(t, { host: HOST, body: { connections: 9, capacity: 100 } });
  const { store, cli } = await setup(t, ['--load', 'json', '--load-port', String(feed.port)]);
  await waitFor(async () => JSON.parse(await cli('status', POOL, '--json')).pools[0].members[0].load.connections === 9, 10_000, 'the first reading');
  const r = await runCli(['member', 'drain', POOL, HOST, '--wait', '--timeout', '2s', '--store', store]);
  assert.equal(r.code, 124, r.stderr);
  assert.match(r.stderr, /^tierdns: member 127\.0\.0\.61 of ws\.lb\.example\.com not drained after --timeout 2s: 127\.0\.0\.61 of ws\.lb\.example\.com has 9 connections \(until at most 0\); it stays drained \(TIERDNS_E_TIMEOUT\)\n$/);
  assert.equal(JSON.parse(await cli('status', POOL, '--json')).pools[0].members[0].admin, 'drained', 'the drain itself stays');
  for (const flags of [['--until', '3'], ['--wait', '--until', '-1'], ['--wait', '--timeout', 'later']]) {
    const bad = await runCli(['member', 'drain', POOL, HOST, ...flags, '--store', store]);
    assert.notEqual(bad.code, 0, flags.join(' '));
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  }
});

test('drain --wait without a feed that counts connections waits 2 x TTL', async (t) => {
  const { store } = await setup(t, ['--ttl', '1']);
  const r = await runCli(['member', 'drain', POOL, HOST, '--wait', '--timeout', '30s', '--store', store]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /waiting 2 x TTL \(2s\): 127\.0\.0\.61 of ws\.lb\.example\.com has no load feed that counts connections/);
  assert.match(r.stdout, /drained: no load feed counts its connections; 2 x TTL \(2s\) passed since the drain/);
});

test('drain --wait without --timeout gives up after an hour, or after 2 x TTL when that is the wait and longer', async (t) => {
  assert.equal(DEFAULT_DRAIN_TIMEOUT_MS, 3_600_000);
  const store = openStore(`file:${path.join(tempDir(t), 'store.json')}`);
  t.after(() => store.close());
  // A clock the wait moves itself: an hour of polls in a moment, against the real file store.
  const wait = (pool) => {
    let nowMs = 1_000_000;
    const lines = [];
    return waitForDrain(store, {
      pool, ip: HOST, until: 0, pollMs: 60_000, now: () => nowMs,
      sleep: async (ms) => { nowMs += ms; }, print: (l) => lines.push(l),
    }).then(() => ({ afterMs: nowMs - 1_000_000, lines }), (err) => ({ afterMs: nowMs - 1_000_000, lines, err }));
  };
  const add = async (pool, over) => {
    await store.updatePool(pool, () => ({ ...defaultPoolConfig(pool), ...over }));
    await store.updateMembers(pool, [[HOST, { create: true }]]);
    await store.updateMember(pool, HOST, { admin: 'drained' });
  };
  // A feed that counts connections but no reading: it would wait for ever.
  await add(POOL, { load: 'json' });
  let r = await wait(POOL);
  assert.equal(r.err?.code, 'TIERDNS_E_TIMEOUT', String(r.err));
  assert.equal(r.afterMs, DEFAULT_DRAIN_TIMEOUT_MS);
  assert.match(r.err.message, /^member 127\.0\.0\.61 of ws\.lb\.example\.com not drained after 1h \(the default --timeout\): no fresh load reading of 127\.0\.0\.61 of ws\.lb\.example\.com yet; it stays drained$/);
  // No such feed and a TTL of an hour: the default waits the 2 hours out instead of giving up at 1.
  await add('long.lb.example.com', { ttlSeconds: 3600 });
  r = await wait('long.lb.example.com');
  assert.equal(r.err, undefined, String(r.err));
  assert.equal(r.afterMs, 2 * 3_600_000);
  assert.match(r.lines.at(-1), /2 x TTL \(2h\) passed since the drain/);
});

test('drain --wait on an nginx or HAProxy feed leaves out the read\'s own connection', async (t) => {
  const store = openStore(`file:${path.join(tempDir(t), 'store.json')}`);
  t.after(() => store.close());
  // Both daemons count the connection their statistics are read on: an idle balancer reports 1.
  for (const [load, reported, want] of [['nginx', 1, 'drained'], ['haproxy', 1, 'drained'], ['nginx', 2, 'TIERDNS_E_TIMEOUT'], ['json', 1, 'TIERDNS_E_TIMEOUT']]) {
    const pool = `${load}${reported}.lb.example.com`;
    await store.updatePool(pool, () => ({ ...defaultPoolConfig(pool), load, loadPort: 8080, capacity: 100 }));
    await store.updateMembers(pool, [[HOST, { create: true }]]);
    await store.updateMember(pool, HOST, { admin: 'drained' });
    await store.heartbeat('ns1', 3_600_000, Date.now());
    await store.recordObservation(pool, HOST, {
      instance: 'ns1', state: 'up', sinceMs: 1_000_000, load: { factor: 0.98, state: 'ready', connections: reported, capacity: 100, readMs: 1_000_000 },
    });
    let nowMs = 1_000_000;
    const lines = [];
    const r = await waitForDrain(store, {
      pool, ip: HOST, until: 0, timeoutMs: 5000, pollMs: 1000, now: () => nowMs, sleep: async (ms) => { nowMs += ms; }, print: (l) => lines.push(l),
    }).then(() => 'drained', (err) => err.code);
    assert.equal(r, want, `${load} reporting ${reported}: ${lines.join(' | ')}`);
    if (load !== 'json') assert.match(lines.join('\n'), new RegExp(`the feed reports ${reported}, one of them its own read`));
  }
});
