'use strict';
// End to end (PRODUCT.md §5): real `tierdns serve` processes on one Redis, WebSocket fake
// balancers on 127.0.0.x, answers read with real DNS queries. A killed balancer leaves the
// answers of both instances within interval + (fall−1)×fast + 1 s and returns within
// interval + (rise−1)×fast + 1 s; an instance that cannot reach a balancer is outvoted.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { Resolver } = require('node:dns').promises;
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { openStore } = require('../dist/store/open');
const { defaultPoolConfig } = require('../dist/model/poolConfig');
const { startRedis, uniquePrefix, freePort } = require('./helpers/redis');
const { demoBalancer, closedPort } = require('./helpers/balancers');

const ROOT = path.join(__dirname, '..');
const POOL = 'ws.lb.example.com';
const FAST = { check: 'ws', intervalMs: 1000, fastIntervalMs: 250, timeoutMs: 500, rise: 2, fall: 3, ttlSeconds: 5 };
const LEAVE_BOUND_MS = FAST.intervalMs + (FAST.fall - 1) * FAST.fastIntervalMs + 1000;
const RETURN_BOUND_MS = FAST.intervalMs + (FAST.rise - 1) * FAST.fastIntervalMs + 1000;

let redis;
test.before(async () => { redis = await startRedis(); });
test.after(async () => { if (redis) await redis.stop(); });

/** Start `serve` as its own process; resolves with a Resolver aimed at it once it logs ready. */
async function serve(t, storeUrl, instance, env = {}) {
  const port = await freePort();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `tierdns-e2e-${instance}-`));
  const child = spawn(process.execPath, ['dist/cli.js', 'serve', '--zones', 'zones', '--listen', `127.0.0.1:${port}`,
    '--store', storeUrl, '--state-dir', stateDir, '--instance', instance, '--log-level', 'info'], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${instance} not ready: ${out.slice(-500)}`)), 10_000);
    child.stderr.on('data', (d) => { out += d; });
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('serve: ready')) { clearTimeout(timer); resolve(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${instance} exited ${code}: ${out.slice(-500)}`)); });
  });
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return { resolver, instance, log: () => out };
}

async function answers(inst) {
  try {
    return (await inst.resolver.resolve4(POOL)).sort();
  } catch {
    return [];
  }
}

/** Milliseconds until every instance's answers satisfy `pred`, polling every 20 ms. */
async function timeUntil(instances, pred, limitMs, what) {
  const t0 = Date.now();
  for (;;) {
    const all = await Promise.all(instances.map(answers));
    if (all.every(pred)) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`${what} not reached after ${limitMs} ms: ${JSON.stringify(all)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Until the stored verdicts of `ips` are all up (answers alone cannot tell: all-down fails open). */
async function untilUp(admin, ips, limitMs = 5000) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const view = await admin.readPool(POOL);
    if (ips.every((ip) => view.members.find((m) => m.ip === ip)?.verdict === 'up')) return;
    if (Date.now() > deadline) throw new Error(`verdicts not up: ${JSON.stringify(view.members.map((m) => [m.ip, m.verdict]))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function setupPool(t, ips, port) {
  const url = `${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`;
  const admin = openStore(url);
  t.after(() => admin.close());
  await admin.setPool({ ...defaultPoolConfig(POOL), ...FAST, port });
  for (const ip of ips) await admin.updateMember(POOL, ip, { create: true });
  return { url, admin };
}

test('two instances: a killed balancer leaves both instances\' answers within the bound and returns within it', async (t) => {
  const ips = ['127.0.0.31', '127.0.0.32'];
  const victim = ips[1];
  const port = await closedPort(ips[0]);
  const balancers = {};
  for (const ip of ips) balancers[ip] = await demoBalancer(t, { host: ip, port });
  const { url, admin } = await setupPool(t, ips, port);
  const instances = [await serve(t, url, 'ns1'), await serve(t, url, 'ns2')];
  await untilUp(admin, ips);
  await timeUntil(instances, (a) => a.length === 2, 2000, 'both members answered');
  const leave = [];
  const back = [];
  for (let i = 0; i < 2; i++) {
    // A different phase against the probe schedule each time.
    await new Promise((r) => setTimeout(r, 300 + i * 400));
    await balancers[victim].kill();
    leave.push(await timeUntil(instances, (a) => a.length === 1 && !a.includes(victim), LEAVE_BOUND_MS + 3000, 'victim gone'));
    balancers[victim] = await demoBalancer(t, { host: victim, port });
    back.push(await timeUntil(instances, (a) => a.includes(victim), RETURN_BOUND_MS + 3000, 'victim back'));
  }
  t.diagnostic(`leave ${leave.join(', ')} ms (bound ${LEAVE_BOUND_MS}); return ${back.join(', ')} ms (bound ${RETURN_BOUND_MS})`);
  for (const ms of leave) assert.ok(ms <= LEAVE_BOUND_MS, `left after ${ms} ms`);
  for (const ms of back) assert.ok(ms <= RETURN_BOUND_MS, `returned after ${ms} ms`);
  assert.match(instances[0].log(), /127\.0\.0\.32:\d+ in ws\.lb\.example\.com is down here/);
});

test('three instances: the one that cannot reach a balancer is outvoted, every instance keeps answering it', async (t) => {
  const ip = '127.0.0.33';
  const port = await closedPort(ip);
  // The balancer drops connections from 127.0.0.3, the address ns3 probes from.
  await demoBalancer(t, { host: ip, port, refuseFrom: ['127.0.0.3'] });
  const { url, admin } = await setupPool(t, [ip], port);
  const ns1 = await serve(t, url, 'ns1');
  const ns2 = await serve(t, url, 'ns2');
  const observed = async () => Object.fromEntries((await admin.readPool(POOL)).members[0].observations.map((o) => [o.instance, o.state]));
  const until = async (pred, what) => {
    const deadline = Date.now() + 5000;
    while (!pred(await observed())) {
      assert.ok(Date.now() < deadline, what);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await until((o) => o.ns1 === 'up' && o.ns2 === 'up', 'ns1 and ns2 never observed the member up');
  const ns3 = await serve(t, url, 'ns3', { TIERDNS_PROBE_SOURCE: '127.0.0.3' });
  await until((o) => o.ns3 === 'down', 'ns3 never observed the member down');
  assert.deepEqual(await observed(), { ns1: 'up', ns2: 'up', ns3: 'down' });
  // Long enough for ns3 to have probed (and failed) several times.
  await new Promise((r) => setTimeout(r, 2000));
  for (const inst of [ns1, ns2, ns3]) assert.deepEqual(await answers(inst), [ip], inst.instance);
  assert.equal((await admin.readPool(POOL)).members[0].verdict, 'up');
});
