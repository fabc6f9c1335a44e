'use strict';
// Health does not freeze while the store is down: two real instances on a real
// redis-server that is killed by PID; a balancer that dies during the outage leaves both
// instances' answers within the §5 bound, one that recovers during it returns within its bound,
// and when Redis is back the shared verdicts take over without handing the dead one out again.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startPrivateRedis, uniquePrefix, rawClient } = require('./helpers/redis');
const { demoBalancer, closedPort } = require('./helpers/balancers');
const {
  LEAVE_BOUND_MS, RETURN_BOUND_MS, serveInstance, timeUntil, watchAnswers, setupPool, untilVerdict,
} = require('./helpers/cluster');
const { failIfStillAlive } = require('./helpers/exitWatch');

failIfStillAlive();

test('Redis down: a balancer dying or recovering during the outage leaves and returns within the §5 bounds', async (t) => {
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  const url = `${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`;
  const ips = ['127.0.0.41', '127.0.0.42'];
  const victim = ips[1];
  const port = await closedPort(ips[0]);
  const balancers = {};
  for (const ip of ips) balancers[ip] = await demoBalancer(t, { host: ip, port });
  const admin = await setupPool(t, url, ips, port);
  const instances = [await serveInstance(t, url, 'ns1'), await serveInstance(t, url, 'ns2')];
  await untilVerdict(admin, ips, 'up');
  await timeUntil(instances, (a) => a.length === 2, 3000, 'both members answered');
  const watch = watchAnswers(t, instances);

  // The store's data is saved, so Redis comes back with it (a store that comes back empty is
  // another matter: a lost store).
  const raw = await rawClient(redis.url);
  await raw.save();
  raw.disconnect();
  await redis.kill();
  await new Promise((r) => setTimeout(r, 1500));

  await balancers[victim].kill();
  const diedAt = Date.now();
  const leave = await timeUntil(instances, (a) => a.length === 1 && !a.includes(victim), LEAVE_BOUND_MS + 5000, 'victim gone during the outage');
  t.diagnostic(`left both instances ${leave} ms after it died, Redis down (bound ${LEAVE_BOUND_MS} ms)`);
  assert.ok(leave <= LEAVE_BOUND_MS, `left after ${leave} ms`);

  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(watch.servedBetween(victim, diedAt + leave + 100), [], 'handed out again after it left');
  balancers[victim] = await demoBalancer(t, { host: victim, port });
  const back = await timeUntil(instances, (a) => a.includes(victim), RETURN_BOUND_MS + 5000, 'victim back during the outage');
  t.diagnostic(`returned ${back} ms after it recovered, Redis down (bound ${RETURN_BOUND_MS} ms)`);
  assert.ok(back <= RETURN_BOUND_MS, `returned after ${back} ms`);

  // Dies again, then Redis returns (holding verdicts that say up): never handed out again.
  await balancers[victim].kill();
  const leave2 = await timeUntil(instances, (a) => a.length === 1 && !a.includes(victim), LEAVE_BOUND_MS + 5000, 'victim gone again');
  const goneAt = Date.now();
  await redis.start();
  const backAt = Date.now();
  await untilVerdict(admin, [victim], 'down', 15_000);
  const sharedAt = Date.now();
  const resumed = (inst) => inst.logs.some((l) => l.time >= backAt && /answering with the shared verdicts again/.test(l.msg ?? ''));
  for (let i = 0; i < 200 && !instances.every(resumed); i++) await new Promise((r) => setTimeout(r, 50));
  const resumedMs = Date.now() - backAt;
  await new Promise((r) => setTimeout(r, 1000));
  await watch.stop();
  t.diagnostic(`left again ${leave2} ms; after Redis returned: shared verdict down ${sharedAt - backAt} ms, both instances on shared verdicts ${resumedMs} ms`);
  assert.ok(instances.every(resumed), 'an instance never went back to the shared verdicts');
  assert.deepEqual(watch.servedBetween(victim, goneAt + 100), [], 'the dead balancer was handed out again around the store\'s return');
  for (const inst of instances) assert.match(inst.logs.map((l) => l.msg).join('\n'), /own verdicts/);
});

test('Redis down, serve --workers 2: the worker that does not probe answers with the own verdicts too', async (t) => {
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  const url = `${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`;
  const ips = ['127.0.0.43', '127.0.0.44'];
  const victim = ips[1];
  const port = await closedPort(ips[0]);
  const balancers = {};
  for (const ip of ips) balancers[ip] = await demoBalancer(t, { host: ip, port });
  const admin = await setupPool(t, url, ips, port);
  const inst = await serveInstance(t, url, 'ns1', { args: ['--workers', '2'] });
  await untilVerdict(admin, ips, 'up');
  await timeUntil([inst], (a) => a.length === 2, 5000, 'both members answered');
  await redis.kill();
  await new Promise((r) => setTimeout(r, 1000));
  await balancers[victim].kill();
  const watch = watchAnswers(t, [inst], 10);
  const diedAt = Date.now();
  const leave = await timeUntil([inst], (a) => a.length === 1 && !a.includes(victim), LEAVE_BOUND_MS + 5000, 'victim gone');
  // Queries land on either worker: a couple of hundred of them after the leave must all agree.
  await new Promise((r) => setTimeout(r, 2500));
  await watch.stop();
  const after = watch.samples.filter(([at]) => at > diedAt + leave + 200);
  t.diagnostic(`left after ${leave} ms (bound ${LEAVE_BOUND_MS} ms); ${after.length} answers after that, none with the victim expected`);
  assert.ok(leave <= LEAVE_BOUND_MS, `left after ${leave} ms`);
  assert.ok(after.length > 50, `only ${after.length} answers sampled`);
  assert.deepEqual(after.filter(([, , a]) => a.includes(victim)), []);
});
