'use strict';
// A store that comes back empty is a lost store, not "every pool removed" (docs/store.md,
// "A lost store"): Redis restarted without its data, FLUSHALL, the store file deleted, and
// instances restarted while the store is empty. Two real `tierdns serve` processes, real
// DNS queries all along: answers never go negative and never change, the state dir keeps the
// pools, the loss is logged at error and counted in the metrics, the store is re-seeded (the
// CLI sees the pools and the zones again), and a pool removed with the CLI afterwards still
// leaves the answers within a second.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Resolver } = require('node:dns').promises;
const { openStore } = require('../dist/store/open');
const { defaultPoolConfig } = require('../dist/model/poolConfig');
const { startServe, tempDir } = require('./helpers/serve');
const { runCli } = require('./helpers/cli');
const { startPrivateRedis, uniquePrefix, rawClient, freePort } = require('./helpers/redis');
const { tcpBalancer, closedPort } = require('./helpers/balancers');
const { waitFor } = require('./helpers/store');
const { failIfStillAlive } = require('./helpers/exitWatch');

failIfStillAlive();

const ROOT = path.join(__dirname, '..');
const WS = 'ws.lb.example.com';
const API = 'api.lb.example.com';
/** What each pool answers throughout: the two live members of WS (not the dead one), API's enabled member (not the drained one). */
const EXPECTED = { [WS]: ['127.0.0.11', '127.0.0.12'], [API]: ['127.0.0.21'] };

/** Two pools with verdicts of every kind: up, down, check none, drained. */
async function setupPools(t, url) {
  const admin = openStore(url);
  t.after(() => admin.close());
  const [a, b] = await Promise.all([tcpBalancer(t, '127.0.0.11'), tcpBalancer(t, '127.0.0.12')]);
  const dead = await closedPort('127.0.0.13');
  await admin.setPool({ ...defaultPoolConfig(WS), check: 'tcp', intervalMs: 500, fastIntervalMs: 125, timeoutMs: 250, ttlSeconds: 5 });
  await admin.updateMember(WS, '127.0.0.11', { port: a.port, create: true });
  await admin.updateMember(WS, '127.0.0.12', { port: b.port, weight: 3, create: true });
  await admin.updateMember(WS, '127.0.0.13', { port: dead, create: true });
  await admin.setPool({ ...defaultPoolConfig(API), check: 'none', ttlSeconds: 5 });
  await admin.updateMember(API, '127.0.0.21', { create: true });
  await admin.updateMember(API, '127.0.0.22', { admin: 'drained', create: true });
  return admin;
}

/** `tierdns serve` on `url` with the given state dir and a metrics port. */
async function serve(t, url, instance, stateDir) {
  const metricsPort = await freePort();
  const inst = await startServe(t, ['--zones', path.join(ROOT, 'zones'), '--store', url, '--state-dir', stateDir,
    '--instance', instance, '--metrics', `127.0.0.1:${metricsPort}`, '--log-level', 'info'], { timeoutMs: 20_000 });
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`127.0.0.1:${inst.port}`]);
  return { ...inst, instance, stateDir, resolver, metricsPort };
}

/** One A query: the sorted addresses, 'negative' for NXDOMAIN or NODATA, 'timeout' when unanswered. */
async function ask(inst, name) {
  try {
    return (await inst.resolver.resolve4(name)).sort();
  } catch (err) {
    return err.code === 'ENOTFOUND' || err.code === 'ENODATA' ? 'negative' : 'timeout';
  }
}

/** Ask every instance for both pools every 25 ms until stop(); samples [ms, instance, pool, answer]. */
function watchAnswers(t, instances) {
  const samples = [];
  let running = true;
  const loop = (async () => {
    const deadline = Date.now() + 300_000;
    while (running && Date.now() < deadline) {
      const at = Date.now();
      await Promise.all(instances.flatMap((i) => [WS, API].map(async (name) => samples.push([at, i.instance, name, await ask(i, name)]))));
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const stop = async () => {
    running = false;
    await loop;
  };
  t.after(stop);
  return { samples, stop };
}

/** Every answer sampled was the expected one; a few unanswered queries on a loaded machine are tolerated, not wrong answers. */
function assertSteady(samples, what) {
  const answered = samples.filter(([, , , a]) => a !== 'timeout');
  const wrong = answered.filter(([, , name, a]) => JSON.stringify(a) !== JSON.stringify(EXPECTED[name]));
  assert.deepEqual(wrong.slice(0, 5), [], `${what}: ${wrong.length} of ${answered.length} answers changed`);
  assert.ok(answered.length >= samples.length * 0.9 && answered.length > 20, `${what}: only ${answered.length} of ${samples.length} queries answered`);
}

async function metric(inst, name) {
  const text = await (await fetch(`http://127.0.0.1:${inst.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

/** The pools of the snapshot saved in a state dir, with their member count. */
function savedPools(stateDir) {
  const saved = JSON.parse(fs.readFileSync(path.join(stateDir, 'snapshot.json'), 'utf8'));
  return Object.fromEntries(saved.pools.map((p) => [p.config.name, p.members.length]));
}

/** The pools the CLI lists, from a directory without zones (so the published zones are what it checks against). */
async function cliPools(t, url) {
  const r = await runCli(['pool', 'ls', '--json', '--store', url], { timeoutMs: 30_000, cwd: tempDir(t, 'tierdns-nozones-') });
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries(JSON.parse(r.stdout).pools.map((p) => [p.name, p.memberCount]));
}

/** The verdicts and admin states the store holds for WS and API members. */
async function storedMembers(url) {
  const store = openStore(url);
  try {
    const snap = await store.snapshot();
    return Object.fromEntries([...snap.pools.values()].flatMap((v) => v.members.map((m) => [m.ip, `${m.admin}/${m.verdict}`])));
  } finally {
    await store.close();
  }
}

/** Wait until the store holds both pools again with every member (the re-seed), then until both instances follow it. */
async function untilReseeded(url, instances) {
  await waitFor(async () => {
    const m = await storedMembers(url).catch(() => ({}));
    return Object.keys(m).length === 5;
  }, 15_000, 're-seeded store');
  for (const inst of instances) await waitFor(async () => (await metric(inst, 'tierdns_store_lost')) === 0, 10_000, `${inst.instance} follows the store`);
}

const lostLines = (inst) => inst.logs.filter((l) => l.level === 50 && l.code === 'TIERDNS_E_STORE_LOST');

/** Report (not assert) how long after `faultMs` the loss was logged and the store re-seeded, from the instances' logs. */
function reportTimes(t, what, instances, faultMs) {
  const first = (pred) => Math.min(...instances.flatMap((i) => i.logs.filter((l) => l.time >= faultMs && pred(l)).map((l) => l.time)));
  const lost = first((l) => l.code === 'TIERDNS_E_STORE_LOST');
  // 'by another instance' only: a write in flight before the fault put the store back first.
  const seeded = first((l) => /^store: re-seeded (from|by)/.test(l.msg ?? ''));
  t.diagnostic(`${what}: loss logged after ${lost - faultMs} ms, store re-seeded after ${seeded - faultMs} ms`);
}

/** A pool removed with the CLI leaves every instance's answers within a second of the command. */
async function assertRemovalPropagates(url, instances) {
  const r = await runCli(['pool', 'rm', API, '--store', url], { timeoutMs: 30_000, cwd: ROOT });
  assert.equal(r.code, 0, r.stderr);
  const t0 = Date.now();
  for (const inst of instances) {
    await waitFor(async () => (await ask(inst, API)) === 'negative', 3000, `${inst.instance}: ${API} removed`);
  }
  const ms = Date.now() - t0;
  assert.ok(ms < 1000, `removal served after ${ms} ms`);
}

test('Redis restarted without its data, then FLUSHALL: answers never change, the store is re-seeded', async (t) => {
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  const url = `${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`;
  await setupPools(t, url);
  const dirs = [tempDir(t, 'tierdns-ns1-'), tempDir(t, 'tierdns-ns2-')];
  const instances = [await serve(t, url, 'ns1', dirs[0]), await serve(t, url, 'ns2', dirs[1])];
  await waitFor(async () => {
    const m = await storedMembers(url);
    return m['127.0.0.11'] === 'enabled/up' && m['127.0.0.12'] === 'enabled/up' && m['127.0.0.13'] === 'enabled/down';
  }, 10_000, 'verdicts');
  await waitFor(async () => (await Promise.all(instances.map((i) => ask(i, WS)))).every((a) => JSON.stringify(a) === JSON.stringify(EXPECTED[WS])), 5000, 'steady answers');
  for (const dir of dirs) await waitFor(() => fs.existsSync(path.join(dir, 'snapshot.json')), 5000, 'saved snapshot');

  const watch = watchAnswers(t, instances);
  // 1. Redis restarts empty (no persistence): both instances reconnect to a store without identity.
  const restartedAt = Date.now();
  await redis.kill();
  await redis.start();
  await waitFor(() => instances.some((i) => lostLines(i).length > 0), 10_000, 'the loss logged at error');
  // The state dirs still hold every pool while the store is lost.
  for (const dir of dirs) assert.deepEqual(savedPools(dir), { [WS]: 3, [API]: 2 });
  await untilReseeded(url, instances);
  reportTimes(t, 'Redis restarted without data', instances, restartedAt);
  const losses = (await Promise.all(instances.map((i) => metric(i, 'tierdns_store_losses_total')))).reduce((a, b) => a + b, 0);
  assert.ok(losses >= 1, `losses counted: ${losses}`);

  // 2. FLUSHALL: no reconnect, no message; the heartbeat notices the identity is gone.
  const raw = await rawClient(redis.url);
  t.after(() => raw.disconnect());
  const flushedLines = instances.map((i) => lostLines(i).length);
  const flushedAt = Date.now();
  await raw.flushall();
  await waitFor(() => instances.some((inst, k) => lostLines(inst).length > flushedLines[k]), 10_000, 'FLUSHALL noticed');
  await untilReseeded(url, instances);
  reportTimes(t, 'FLUSHALL', instances, flushedAt);
  await new Promise((r) => setTimeout(r, 1500)); // answers a little longer, past a state-dir save
  await watch.stop();
  assertSteady(watch.samples, 'during both losses');
  for (const dir of dirs) assert.deepEqual(savedPools(dir), { [WS]: 3, [API]: 2 });

  // Members, admin states and verdicts are back; the CLI lists the pools and finds the zones.
  const members = await storedMembers(url);
  assert.deepEqual(members, {
    '127.0.0.11': 'enabled/up', '127.0.0.12': 'enabled/up', '127.0.0.13': 'enabled/down', '127.0.0.21': 'enabled/unknown', '127.0.0.22': 'drained/unknown',
  });
  assert.deepEqual(await cliPools(t, url), { [WS]: 3, [API]: 2 });
  const cwd = tempDir(t, 'tierdns-nozones-');
  const created = await runCli(['pool', 'set', 'new.lb.example.com', '--store', url], { timeoutMs: 30_000, cwd });
  assert.equal(created.code, 0, `zones republished: ${created.stderr}`);
  // Fresh votes replace the seeded verdicts: both instances observe the WS members again.
  await waitFor(async () => {
    const store = openStore(url);
    try {
      const view = await store.readPool(WS);
      return view.members.every((m) => m.observations.length === 2);
    } finally {
      await store.close();
    }
  }, 10_000, 'both instances vote again');
  await assertRemovalPropagates(url, instances);
});

test('instances restarted while Redis is empty serve their state dir and re-seed the store', async (t) => {
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  const url = `${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`;
  await setupPools(t, url);
  const dirs = [tempDir(t, 'tierdns-ns1-'), tempDir(t, 'tierdns-ns2-')];
  let instances = [await serve(t, url, 'ns1', dirs[0]), await serve(t, url, 'ns2', dirs[1])];
  await waitFor(async () => (await storedMembers(url))['127.0.0.13'] === 'enabled/down', 10_000, 'verdicts');
  for (const dir of dirs) await waitFor(() => fs.existsSync(path.join(dir, 'snapshot.json')) && savedPools(dir)[WS] === 3, 5000, 'saved snapshot');
  // Let a save after the verdicts land (the state dir must hold the down verdict of .13).
  await new Promise((r) => setTimeout(r, 1500));
  await Promise.all(instances.map((i) => i.stop()));
  await redis.kill();
  await redis.start();
  instances = [await serve(t, url, 'ns1', dirs[0]), await serve(t, url, 'ns2', dirs[1])];
  for (const inst of instances) {
    assert.deepEqual(await ask(inst, WS), EXPECTED[WS], `${inst.instance} answers from its state dir at once`);
    assert.deepEqual(await ask(inst, API), EXPECTED[API]);
  }
  assert.ok(instances.some((i) => lostLines(i).length > 0), 'the loss logged at error');
  await untilReseeded(url, instances);
  assert.deepEqual(await cliPools(t, url), { [WS]: 3, [API]: 2 });
  await assertRemovalPropagates(url, instances);
});

test('file store deleted under two instances: a lost store, re-seeded, answers unchanged', async (t) => {
  const dir = tempDir(t, 'tierdns-filestore-');
  const file = path.join(dir, 'store.json');
  const url = `file:${file}`;
  await setupPools(t, url);
  const dirs = [tempDir(t, 'tierdns-ns1-'), tempDir(t, 'tierdns-ns2-')];
  const instances = [await serve(t, url, 'ns1', dirs[0]), await serve(t, url, 'ns2', dirs[1])];
  await waitFor(async () => (await storedMembers(url))['127.0.0.13'] === 'enabled/down', 10_000, 'verdicts');
  await waitFor(async () => (await Promise.all(instances.map((i) => ask(i, WS)))).every((a) => JSON.stringify(a) === JSON.stringify(EXPECTED[WS])), 5000, 'steady answers');
  const before = JSON.parse(fs.readFileSync(file, 'utf8')).identity.id;
  const watch = watchAnswers(t, instances);
  const deletedAt = Date.now();
  fs.rmSync(file);
  // An instance's write that read the document just before it was deleted renames it back in
  // place, with the old identity: then nothing was lost and nothing is logged.
  const putBack = () => {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')).identity.id === before;
    } catch {
      return false;
    }
  };
  await waitFor(() => instances.some((i) => lostLines(i).length > 0) || putBack(), 10_000, 'the loss logged at error');
  await untilReseeded(url, instances);
  if (!instances.some((i) => lostLines(i).length > 0)) assert.ok(putBack(), 'neither logged as lost nor put back');
  reportTimes(t, 'store file deleted', instances, deletedAt);
  await new Promise((r) => setTimeout(r, 1500));
  await watch.stop();
  assertSteady(watch.samples, 'after the file was deleted');
  // Re-seeded under a new identity that names the lost one (or, when a write already in flight
  // put the old document back first, under the old identity).
  const identity = JSON.parse(fs.readFileSync(file, 'utf8')).identity;
  assert.ok(identity.id === before || identity.absorbed.includes(before), JSON.stringify(identity));
  for (const d of dirs) assert.deepEqual(savedPools(d), { [WS]: 3, [API]: 2 });
  assert.deepEqual(await cliPools(t, url), { [WS]: 3, [API]: 2 });
  await assertRemovalPropagates(url, instances);
});

test('file store overwritten with garbage: answers unchanged, the store down while it is, back once fixed', async (t) => {
  const dir = tempDir(t, 'tierdns-filestore-');
  const file = path.join(dir, 'store.json');
  const url = `file:${file}`;
  await setupPools(t, url);
  const inst = await serve(t, url, 'ns1', tempDir(t, 'tierdns-ns1-'));
  await waitFor(async () => JSON.stringify(await ask(inst, WS)) === JSON.stringify(EXPECTED[WS]), 10_000, 'steady answers');
  await waitFor(async () => (await metric(inst, 'tierdns_store_up')) === 1, 5000, 'store up');
  const good = fs.readFileSync(file);
  // Not a rename: the document itself turned into something that is not JSON.
  fs.writeFileSync(file, '{"version": 1, "pools": {');
  await waitFor(async () => (await metric(inst, 'tierdns_store_up')) === 0, 10_000, 'the unreadable store reported down');
  await waitFor(async () => (await metric(inst, 'tierdns_own_verdicts')) === 1, 5000, 'own verdicts, as in an outage');
  assert.deepEqual(await ask(inst, WS), EXPECTED[WS], 'answers unchanged');
  assert.equal(fs.readFileSync(file, 'utf8'), '{"version": 1, "pools": {', 'the file is left for the operator to fix');
  fs.writeFileSync(file, good);
  await waitFor(async () => (await metric(inst, 'tierdns_store_up')) === 1, 10_000, 'up again once the file reads');
  assert.deepEqual(await ask(inst, WS), EXPECTED[WS]);
});
