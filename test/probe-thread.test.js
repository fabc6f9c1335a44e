'use strict';
// The probe loop on its own thread (src/health/thread.ts), against a real Redis and real TCP
// balancers on 127.0.0.x: it records observations through its own store connection, reports
// probe counts back, survives the death of its thread (restarted with every pool re-sent), backs
// off when its thread cannot start, and stops cleanly.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Writable } = require('node:stream');
const pino = require('pino');
const { ProbeThread, probedPool } = require('../dist/health/thread');
const { openStore } = require('../dist/store/open');
const { StoreSync } = require('../dist/server/sync');
const { defaultPoolConfig } = require('../dist/model/poolConfig');
const { startRedis, uniquePrefix } = require('./helpers/redis');
const { tcpBalancer, closedPort } = require('./helpers/balancers');

const POOL = 'ws.lb.example.com';
const FAST = { check: 'tcp', intervalMs: 200, fastIntervalMs: 50, timeoutMs: 150, rise: 1, fall: 1 };

let redis;
test.before(async () => { redis = await startRedis(); });
test.after(async () => { if (redis) await redis.stop(); });

/** A logger whose lines (parsed) land in `lines`. */
function capture() {
  const lines = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level: 'warn' }, stream), lines };
}

async function until(what, check, limitMs = 5000) {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A store with one pool of `members`, a StoreSync on it and a ProbeThread fed the way Instance feeds it. */
async function setup(t, members) {
  const url = `${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`;
  const admin = openStore(url, { log: pino({ level: 'silent' }) });
  t.after(() => admin.close());
  await admin.setPool({ ...defaultPoolConfig(POOL), ...FAST, port: members[0].port });
  for (const m of members) await admin.updateMember(POOL, m.ip, { port: m.port, create: true });
  const syncStore = openStore(url, { log: pino({ level: 'silent' }) });
  const sync = new StoreSync({ store: syncStore, log: pino({ level: 'silent' }), resyncMs: 5000 });
  const { log, lines } = capture();
  const thread = new ProbeThread({ storeUrl: url, store: syncStore, instance: 'a', log, pools: () => sync.current().pools });
  sync.on('pool', (name, view) => thread.updatePool(name, view));
  await sync.start();
  for (const [name, view] of sync.current().pools) thread.updatePool(name, view);
  thread.start();
  t.after(async () => {
    await thread.stop();
    await sync.stop();
    await syncStore.close();
  });
  const verdict = async (ip) => (await admin.readPool(POOL))?.members.find((m) => m.ip === ip)?.verdict;
  return { admin, thread, lines, verdict };
}

test('the probe thread records verdicts through its own store connection and reports its probe counts', async (t) => {
  const up = await tcpBalancer(t, '127.0.0.31');
  const downIp = '127.0.0.32';
  const downPort = await closedPort(downIp);
  const { thread, verdict, admin } = await setup(t, [{ ip: up.host, port: up.port }, { ip: downIp, port: downPort }]);
  await until('up verdict', async () => (await verdict(up.host)) === 'up');
  await until('down verdict', async () => (await verdict(downIp)) === 'down');
  const obs = (await admin.readPool(POOL)).members.find((m) => m.ip === downIp).observations[0];
  assert.equal(obs.instance, 'a');
  assert.match(obs.lastError ?? '', /ECONNREFUSED/);
  const stats = await until('probe counts', () => {
    const s = thread.stats();
    return s.ok >= 2 && s.failed >= 2 ? s : undefined;
  });
  assert.ok(stats.latencySumMs >= 0);
  // A pool change reaches the thread: the balancer goes away and its verdict follows.
  await up.close();
  await until('verdict after the balancer closed', async () => (await verdict(up.host)) === 'down');
});

test('a probe thread that dies is restarted with every pool and goes on probing', async (t) => {
  const b = await tcpBalancer(t, '127.0.0.33');
  const { thread, lines, verdict, admin } = await setup(t, [{ ip: b.host, port: b.port }]);
  await until('up verdict', async () => (await verdict(b.host)) === 'up');
  // Counts reach this thread every 500 ms.
  const before = await until('probe counts', () => thread.stats().ok);
  // As a crash would: the thread ends without stopping.
  await thread.worker.terminate();
  await until('restart logged', () => lines.some((l) => l.level === 50 && /probe thread exited \(code 1\); restarting it in 1 s/.test(l.msg)));
  // Between the death and the restart the instance stays live: its heartbeat does not depend on the thread.
  assert.ok((await admin.snapshot()).instances.has('a'));
  // The new thread knows the pool without any change to it: it notices the balancer going away.
  await until('a new thread', () => thread.worker !== undefined, 3000);
  await b.close();
  await until('down verdict from the restarted thread', async () => (await verdict(b.host)) === 'down');
  // Counts of the dead thread are kept.
  assert.ok(thread.stats().ok >= before);
});

test('a probe thread that cannot start is retried with growing back-off, and stop() ends the retries', async (t) => {
  const { log, lines } = capture();
  // The serving thread validated its own store URL; a worker that fails at start is retried anyway.
  const view = { config: { ...defaultPoolConfig(POOL), ...FAST }, members: [{ ip: '127.0.0.34', port: 1, verdict: 'unknown', observations: [] }] };
  const store = openStore(`${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`, { log: pino({ level: 'silent' }) });
  t.after(() => store.close());
  const thread = new ProbeThread({ storeUrl: 'nonsense://x', store, instance: 'a', log, pools: () => new Map([[POOL, view]]) });
  thread.start();
  await until('two failed starts', () => lines.filter((l) => /probe thread exited/.test(l.msg)).length >= 2, 6000);
  const waits = lines.filter((l) => /probe thread exited/.test(l.msg)).map((l) => /restarting it in ([\d.]+) s/.exec(l.msg)[1]);
  assert.deepEqual(waits.slice(0, 2), ['1', '2']);
  assert.ok(lines.some((l) => l.level === 50 && /probe thread failed: .*store URL/i.test(l.msg)), JSON.stringify(lines));
  await thread.stop();
  const count = lines.length;
  await new Promise((r) => setTimeout(r, 4500));
  assert.equal(lines.length, count, 'no restart after stop()');
});

test('no thread while nothing is to be probed; one starts when a pool gets members to probe', async (t) => {
  const b = await tcpBalancer(t, '127.0.0.35');
  const url = `${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`;
  const admin = openStore(url, { log: pino({ level: 'silent' }) });
  t.after(() => admin.close());
  const { log } = capture();
  const pools = new Map([['none.lb.example.com', {
    config: { ...defaultPoolConfig('none.lb.example.com'), check: 'none' },
    members: [{ ip: '127.0.0.36', weight: 1, admin: 'enabled', addedAtMs: 1, verdict: 'up', verdictSinceMs: 1, observations: [] }],
  }]]);
  const thread = new ProbeThread({ storeUrl: url, store: admin, instance: 'a', log, pools: () => pools });
  t.after(() => thread.stop());
  thread.start();
  thread.updatePool('none.lb.example.com', pools.get('none.lb.example.com'));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(thread.worker, undefined, 'check none only: no thread');
  // The instance is live all the same: the heartbeat is the serving thread's.
  assert.deepEqual([...(await admin.snapshot()).instances.keys()], ['a']);
  await admin.setPool({ ...defaultPoolConfig(POOL), ...FAST, port: b.port });
  await admin.updateMember(POOL, b.host, { create: true });
  const view = await admin.readPool(POOL);
  pools.set(POOL, view);
  thread.updatePool(POOL, view);
  assert.notEqual(thread.worker, undefined);
  await until('the new thread probes the pool it was told at start', async () => (await admin.readPool(POOL)).members[0].verdict === 'up');
});

test('probedPool sends only what probing needs: no members for check none, only this instance\'s observations', () => {
  const config = { ...defaultPoolConfig(POOL), check: 'tcp' };
  const members = [{
    ip: '127.0.0.1', weight: 3, admin: 'enabled', addedAtMs: 1, verdict: 'up', verdictSinceMs: 2,
    observations: [{ instance: 'a', state: 'up', sinceMs: 5 }, { instance: 'b', state: 'down', sinceMs: 6 }],
  }];
  assert.deepEqual(probedPool({ config, members }, 'a'), {
    config, members: [{ ip: '127.0.0.1', port: undefined, verdict: 'up', admin: 'enabled', observations: [{ instance: 'a', state: 'up', sinceMs: 5 }] }],
  });
  assert.deepEqual(probedPool({ config: { ...config, check: 'none' }, members }, 'a').members, []);
});
