'use strict';
// Redis Sentinel failover under real instances: one master, one replica, three sentinels
// (./helpers/sentinel.js), two `tierdns serve` processes and the real CLI on a
// redis-sentinel:// URL. Graceful (`SENTINEL FAILOVER`) and crash (kill -9 of the master):
// instances and the CLI follow the new master within about a second of Sentinel announcing
// it, a change the CLI reports as done is never lost, and nothing flaps at the switch.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { openStore } = require('../dist/store/open');
const { startSentinelGroup } = require('./helpers/sentinel');
const { failIfStillAlive } = require('./helpers/exitWatch');
const { runCli } = require('./helpers/cli');
const { demoBalancer, closedPort } = require('./helpers/balancers');
const {
  POOL, LEAVE_BOUND_MS, serveInstance, timeUntil, watchAnswers, setupPool, untilVerdict,
} = require('./helpers/cluster');

const ZONES = path.join(__dirname, '..', 'zones');
failIfStillAlive();
/** "Within about a second of Sentinel announcing it", with room for a loaded test machine. */
const FOLLOW_LIMIT_MS = 1500;

/** Two instances on the group's URL, balancers on `ips`; the last of `dead` killed and gone from the answers. */
async function setup(t, group, ips) {
  const port = await closedPort(ips[0]);
  const balancers = {};
  for (const ip of ips) balancers[ip] = await demoBalancer(t, { host: ip, port });
  const admin = await setupPool(t, group.url, ips, port);
  const instances = [await serveInstance(t, group.url, 'ns1'), await serveInstance(t, group.url, 'ns2')];
  await untilVerdict(admin, ips, 'up');
  await timeUntil(instances, (a) => a.length === ips.length, 10_000, 'every member answered');
  return { admin, instances, balancers, port };
}

/**
 * Adds of fresh addresses, each through a store opened for it as the CLI opens one (its own
 * connections, the master asked of the sentinels, confirmOnReplica), one every `everyMs` until
 * `until()` holds (at most `max`): each add's address, start, end and outcome.
 */
async function addsDuring(base, everyMs, until, url, max = 80) {
  const runs = [];
  const pending = [];
  for (let i = 0; i < max && !until(); i++) {
    const ip = `${base}.${i + 1}`;
    const startMs = Date.now();
    const store = openStore(url, { connectWaitMs: 2000, confirmOnReplica: true });
    pending.push(store.updateMember(POOL, ip, { weight: 1, create: true }).then(
      () => ({ ok: true }), (err) => ({ ok: false, code: err.code }),
    ).then((r) => { runs.push({ ip, startMs, endMs: Date.now(), ...r }); return store.close(); }));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await Promise.all(pending);
  return runs;
}

async function membersNow(url) {
  const store = openStore(url, { connectWaitMs: 3000 });
  try {
    return new Set((await store.readPool(POOL)).members.map((m) => m.ip));
  } finally {
    await store.close();
  }
}

test('SENTINEL FAILOVER: instances follow within a second of +switch-master, no CLI change lost, no flap', async (t) => {
  const group = await startSentinelGroup(t);
  const ips = ['127.0.0.61', '127.0.0.62', '127.0.0.63'];
  const { admin, instances, balancers } = await setup(t, group, ips);
  // A dead balancer before the failover must stay out of the answers through it.
  await balancers['127.0.0.63'].kill();
  await timeUntil(instances, (a) => a.length === 2, LEAVE_BOUND_MS + 3000, 'dead balancer gone');
  await untilVerdict(admin, ['127.0.0.63'], 'down');
  await group.waitInSync(group.master.port);
  const watch = watchAnswers(t, instances);
  const switched = group.onSwitch();
  const startMs = Date.now();
  let switchMs;
  switched.then((s) => { switchMs = s.atMs; });
  const addsP = addsDuring('10.99.1', 100, () => switchMs !== undefined && Date.now() > switchMs + 1000, group.url);
  await group.failover();
  const sw = await switched;
  // A change made right after the announcement, by the CLI: how long from its exit until both serve it.
  const drain = await runCli(['member', 'drain', POOL, '127.0.0.62', '--store', group.url, '--zones', ZONES]);
  assert.equal(drain.code, 0, drain.stderr);
  const visible = await timeUntil(instances, (a) => a.length === 1 && a[0] === '127.0.0.61', 10_000, 'drain served');
  const runs = await addsP;
  await new Promise((r) => setTimeout(r, 500));
  await watch.stop();
  const present = await membersNow(group.url);
  const lost = runs.filter((r) => r.ok && !present.has(r.ip));
  const refused = runs.filter((r) => !r.ok);
  const inWindow = runs.filter((r) => r.startMs >= startMs && r.startMs < sw.atMs);
  t.diagnostic(`+switch-master ${sw.atMs - startMs} ms after SENTINEL FAILOVER; a CLI change made then served by both ${visible} ms after the CLI exited; ` +
    `adds: ${runs.length} (${inWindow.length} begun during the failover), ${refused.length} refused (${[...new Set(refused.map((r) => r.code))].join(', ')}), ` +
    `${lost.length} reported done but lost; the adds begun during the failover ended ${inWindow.length ? Math.max(...inWindow.map((r) => r.endMs)) - sw.atMs : '-'} ms after the switch at the latest`);
  assert.deepEqual(lost.map((r) => r.ip), [], 'changes the CLI reported as done were lost');
  assert.ok(visible <= FOLLOW_LIMIT_MS, `a change on the new master was served only after ${visible} ms`);
  assert.deepEqual(watch.servedBetween('127.0.0.63', startMs), [], 'the dead balancer came back at the switch');
});

test('writes racing graceful failovers, two replicas: no change the CLI reports done is lost', async (t) => {
  // Adds every 20 ms from before SENTINEL FAILOVER until well after the switch, both ways: some
  // land on the old master in the moments before it is demoted. Each must either survive (on
  // every replica Sentinel may promote) or be refused.
  const group = await startSentinelGroup(t, { replicas: 2 });
  assert.equal((await runCli(['pool', 'set', POOL, '--store', group.url, '--zones', ZONES])).code, 0);
  const runs = [];
  for (const round of [1, 2]) {
    await group.waitInSync(group.master.port, 15_000, 2);
    const switched = group.onSwitch();
    let switchMs;
    switched.then((s) => { switchMs = s.atMs; });
    const addsP = addsDuring(`10.98.${round}`, 20, () => switchMs !== undefined && Date.now() > switchMs + 1500, group.url, 250);
    await new Promise((r) => setTimeout(r, 300));
    await group.failover();
    const sw = await switched;
    const these = await addsP;
    runs.push(...these.map((r) => ({ ...r, round, beforeSwitch: r.endMs < sw.atMs })));
    await group.waitSentinelsAgree(sw.to);
  }
  const present = await membersNow(group.url);
  const lost = runs.filter((r) => r.ok && !present.has(r.ip));
  const refused = runs.filter((r) => !r.ok);
  t.diagnostic(`adds: ${runs.length}, ${runs.filter((r) => r.ok && r.beforeSwitch).length} done before a switch, ` +
    `${refused.length} refused (${[...new Set(refused.map((r) => r.code))].join(', ')}), ${lost.length} reported done but lost`);
  assert.deepEqual(lost.map((r) => r.ip), [], 'changes the CLI reported as done were lost');
  for (const round of [1, 2]) {
    assert.ok(runs.some((r) => r.round === round && r.ok && r.beforeSwitch), `round ${round}: no add was done before the switch`);
    assert.ok(runs.some((r) => r.round === round && r.ok && !r.beforeSwitch), `round ${round}: no add was done after the switch`);
  }
});

test('two replicas, one not acknowledging: through Sentinel a change is refused until every replica it may promote has it', async (t) => {
  // Sentinel may promote any replica it counts in sync (this one for the next 30 s), so one
  // acknowledgement is not enough: the change must be on both, or be refused.
  const group = await startSentinelGroup(t, { replicas: 2, downAfterMs: 30_000 });
  const plain = `redis://127.0.0.1:${group.master.port}/0`;
  const cli = (args, url) => runCli([...args, '--store', url, '--zones', ZONES]);
  assert.equal((await cli(['pool', 'set', POOL], group.url)).code, 0);
  await group.waitInSync(group.master.port, 15_000, 2);
  const proc = group.replica.proc;
  proc.kill('SIGSTOP');
  t.after(() => proc.kill('SIGCONT'));
  const viaSentinel = await cli(['member', 'add', POOL, '10.99.4.1'], group.url);
  assert.equal(viaSentinel.code, 2, viaSentinel.stdout);
  assert.match(viaSentinel.stderr, /1 of 2 replicas confirmed it.*TIERDNS_E_STORE_UNCONFIRMED/);
  // A plain URL has no failover behind it that could pick the silent one: one replica will do.
  const viaPlain = await cli(['member', 'add', POOL, '10.99.4.2'], plain);
  assert.equal(viaPlain.code, 0, viaPlain.stderr);
  proc.kill('SIGCONT');
  await group.waitInSync(group.master.port, 15_000, 2);
  const again = await cli(['member', 'add', POOL, '10.99.4.3'], group.url);
  assert.equal(again.code, 0, again.stderr);
});

test('master crash (kill -9): the CLI and instances follow within a second of +switch-master; a balancer dying meanwhile leaves in time', async (t) => {
  const group = await startSentinelGroup(t);
  const ips = ['127.0.0.64', '127.0.0.65', '127.0.0.66'];
  const { admin, instances, balancers } = await setup(t, group, ips);
  await group.waitInSync(group.master.port);
  const watch = watchAnswers(t, instances);
  const switched = group.onSwitch();
  let switchMs;
  switched.then((s) => { switchMs = s.atMs; });
  await group.crashMaster();
  const crashMs = Date.now();
  await new Promise((r) => setTimeout(r, 200));
  await balancers['127.0.0.66'].kill();
  const diedMs = Date.now();
  // The CLI, run again and again from the crash on: the first run that succeeds after the switch.
  const cliRuns = [];
  const cliP = (async () => {
    for (let i = 0; i < 30; i++) {
      const r = await runCli(['member', 'add', POOL, `10.99.2.${i + 1}`, '--store', group.url, '--zones', ZONES]);
      cliRuns.push({ ...r, endMs: Date.now() });
      if (r.code === 0 && switchMs !== undefined) return;
    }
  })();
  const leave = await timeUntil(instances, (a) => a.length === 2 && !a.includes('127.0.0.66'), LEAVE_BOUND_MS + 10_000, 'dead balancer gone');
  const sw = await switched;
  await cliP;
  const drain = await runCli(['member', 'drain', POOL, '127.0.0.65', '--store', group.url, '--zones', ZONES]);
  assert.equal(drain.code, 0, drain.stderr);
  const visible = await timeUntil(instances, (a) => a.length === 1 && a[0] === '127.0.0.64', 10_000, 'drain served');
  await watch.stop();
  const firstOk = cliRuns.find((r) => r.code === 0 && r.endMs >= sw.atMs);
  const present = await membersNow(group.url);
  const lost = cliRuns.filter((r) => r.code === 0 && !present.has(r.stdout.split(' ')[1]));
  t.diagnostic(`CLI runs: ${JSON.stringify(cliRuns.map((r) => [r.code, r.endMs - sw.atMs, r.stderr.trim().slice(0, 80)]))}`);
  t.diagnostic(`+switch-master ${sw.atMs - crashMs} ms after the crash; first CLI success ${firstOk ? firstOk.endMs - sw.atMs : 'never'} ms after it; ` +
    `a change made then served by both ${visible} ms later; balancer killed during the failover left after ${leave} ms (bound ${LEAVE_BOUND_MS} ms)`);
  assert.deepEqual(lost.map((r) => r.stdout), [], 'changes the CLI reported as done were lost');
  assert.ok(firstOk && firstOk.endMs - sw.atMs <= FOLLOW_LIMIT_MS, 'the CLI did not work soon after the switch');
  assert.ok(visible <= FOLLOW_LIMIT_MS, `a change on the new master was served only after ${visible} ms`);
  assert.ok(leave <= LEAVE_BOUND_MS, `the balancer that died during the failover left after ${leave} ms`);
  assert.deepEqual(watch.servedBetween('127.0.0.66', diedMs + leave + 100), [], 'the dead balancer came back');
});

test('a change no replica confirms is refused as unconfirmed, through Sentinel and through a plain URL', async (t) => {
  const group = await startSentinelGroup(t);
  const plain = `redis://127.0.0.1:${group.master.port}/0`;
  const cli = (args, url) => runCli([...args, '--store', url, '--zones', ZONES]);
  assert.equal((await cli(['pool', 'set', POOL], group.url)).code, 0);
  const replica = [...group.nodes.values()].find((n) => n !== group.master);
  // A replica that stops reading (its process stopped, by PID): connected, never acknowledging.
  const proc = replica.proc;
  proc.kill('SIGSTOP');
  t.after(() => proc.kill('SIGCONT'));
  for (const [i, url] of [group.url, plain].entries()) {
    const r = await cli(['member', 'add', POOL, `10.99.3.${i + 1}`], url);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /TIERDNS_E_STORE_UNCONFIRMED/);
    assert.doesNotMatch(r.stderr, /\n./, 'one line');
  }
  proc.kill('SIGCONT');
  await group.waitInSync(group.master.port);
  for (const [i, url] of [group.url, plain].entries()) {
    const r = await cli(['member', 'add', POOL, `10.99.3.${i + 11}`], url);
    assert.equal(r.code, 0, r.stderr);
  }
});

test('a replica promoted before its first sync comes up empty: a lost store, answers unchanged, re-seeded', async (t) => {
  const group = await startSentinelGroup(t);
  const ips = ['127.0.0.67', '127.0.0.68'];
  const { instances } = await setup(t, group, ips);
  const watch = watchAnswers(t, instances);
  await group.emptyReplica(10);
  const switched = group.onSwitch();
  await group.crashMaster();
  const crashMs = Date.now();
  const sw = await switched;
  // Re-seeded by an instance: the CLI sees the pool and its members on the new master.
  let present = new Set();
  for (let i = 0; i < 100 && present.size < ips.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    present = await membersNow(group.url).catch(() => new Set());
  }
  const seededMs = Date.now() - sw.atMs;
  await new Promise((r) => setTimeout(r, 1000));
  await watch.stop();
  t.diagnostic(`+switch-master ${sw.atMs - crashMs} ms after the crash; the empty new master re-seeded ${seededMs} ms after the switch`);
  assert.deepEqual([...present].sort(), ips);
  const changed = watch.samples.filter(([at, , a]) => at >= crashMs && a.join() !== ips.join());
  assert.deepEqual(changed, [], 'an answer changed while the store was lost');
  // The first instance to read the empty master reports it and re-seeds; the other may find it re-seeded already.
  assert.ok(instances.some((inst) => inst.logs.some((l) => l.code === 'TIERDNS_E_STORE_LOST')), 'no instance reported the lost store');
});
