#!/usr/bin/env node
'use strict';
// The soak (docs/soak.md): three `tierdns serve` instances on a Redis Sentinel group, dnsperf at
// half the measured peak against them, balancers flapping every few seconds, CLI changes all
// along, and every SOAK_FAULT_EVERY a store fault in turn: the master restarted with its data,
// restarted without it, a graceful SENTINEL FAILOVER, a crash of the master. A checker asks
// every instance for both pools every 100 ms. Writes results/soak-<time>.{json,md}.
//
//   npm run build && node scripts/soak.js [--minutes 4] [--fault-every 20]
//
// Minutes of CPU; not part of npm test. Everything it starts is killed by PID at the end.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Resolver } = require('node:dns').promises;
const { SoakCluster, freePort, ROOT } = require('./soak/cluster');
const { FAULTS } = require('./soak/faults');
const { writeReport, parseDnsperf } = require('./soak/report');

const args = { minutes: '4', 'fault-every': '20' };
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const MINUTES = Number(args.minutes);
const FAULT_EVERY_S = Number(args['fault-every']);
const PROBED = 'ws.lb.example.com';
const EDITED = 'api.lb.example.com';
const TIMING = { interval: 1000, fast: 250, timeout: 500, rise: 2, fall: 3 };
const BOUND_MS = TIMING.interval + (TIMING.fall - 1) * TIMING.fast + 1000;
const STEADY = '127.0.0.91';
const FLAPPING = ['127.0.0.92', '127.0.0.93', '127.0.0.94'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}]`, ...a);
const rand = (lo, hi) => lo + Math.random() * (hi - lo);

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-soak-'));
  const cluster = new SoakCluster(work);
  const cleanup = () => cluster.stop().finally(() => fs.rmSync(work, { recursive: true, force: true }));
  process.on('SIGINT', () => { cleanup().finally(() => process.exit(130)); });
  try {
    await run(cluster, work);
  } finally {
    await cleanup();
  }
}

async function run(cluster, work) {
  const startedMs = Date.now();
  const events = [];
  const url = await cluster.startStore();
  log('store', url);
  cluster.balancerPort = await freePort(STEADY);
  for (const ip of [STEADY, ...FLAPPING]) await cluster.startBalancer(ip);
  const must = async (a) => { const r = await cluster.cli(a, url); if (r.code !== 0) throw new Error(`tierdns ${a.join(' ')}: ${r.stderr}`); };
  await must(['pool', 'set', PROBED, '--check', 'ws', '--port', String(cluster.balancerPort), '--interval', `${TIMING.interval}ms`,
    '--fast-interval', `${TIMING.fast}ms`, '--timeout', `${TIMING.timeout}ms`, '--ttl', '5s']);
  await must(['member', 'add', PROBED, STEADY, ...FLAPPING]);
  await must(['pool', 'set', EDITED, '--check', 'none', '--ttl', '5s']);
  const expected = { pools: { [PROBED]: {}, [EDITED]: {} }, uncertain: [], done: 0, failed: 0 };
  for (const ip of [STEADY, ...FLAPPING]) expected.pools[PROBED][ip] = 'enabled';
  let nextIp = 1;
  for (; nextIp <= 4; nextIp++) {
    await must(['member', 'add', EDITED, `10.20.0.${nextIp}`]);
    expected.pools[EDITED][`10.20.0.${nextIp}`] = 'enabled';
  }
  for (const name of ['ns1', 'ns2', 'ns3']) await cluster.startInstance(name, url);
  const resolvers = cluster.instances.map((i) => { const r = new Resolver({ timeout: 1000, tries: 1 }); r.setServers([`127.0.0.1:${i.port}`]); return [i.name, r]; });
  for (let i = 0; i < 100; i++) {
    const all = await Promise.all(resolvers.map(([, r]) => r.resolve4(PROBED).catch(() => [])));
    if (all.every((a) => a.length === 4)) break;
    await sleep(200);
  }

  // Peak: dnsperf unthrottled against all three for 5 s; the soak runs at half of it.
  const queries = path.join(work, 'queries.txt');
  fs.writeFileSync(queries, `${PROBED} A\n${EDITED} A\nwww.lb.example.com A\ninfo.lb.example.com TXT\nlb.example.com SOA\n`);
  const dnsperf = (port, extra) => new Promise((resolve) => {
    const c = cluster.track(spawn('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-c', '2', '-q', '50', '-t', '2', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { out += d; });
    c.on('close', () => resolve(out));
  });
  const peakRuns = await Promise.all(cluster.instances.map((i) => dnsperf(i.port, ['-l', '5'])));
  const peakQps = Math.round(peakRuns.map((t) => parseDnsperf(t).qps ?? 0).reduce((a, b) => a + b, 0));
  const rateQps = Math.max(30, Math.round(peakQps / 2));
  const seconds = Math.round(MINUTES * 60);
  log(`peak ${peakQps} q/s; soaking at ${rateQps} q/s for ${seconds} s`);
  const soakStartMs = Date.now();
  const perfDone = Promise.all(cluster.instances.map((i) => dnsperf(i.port, ['-l', String(seconds), '-Q', String(Math.ceil(rateQps / 3))])));
  const endMs = soakStartMs + seconds * 1000;
  const running = () => Date.now() < endMs;

  const samples = [];
  const checker = (async () => {
    while (running()) {
      const at = Date.now();
      await Promise.all(resolvers.flatMap(([name, r]) => [PROBED, EDITED].map((pool) => r.resolve4(pool).then(
        (a) => samples.push([at, name, pool, a.sort()]), () => samples.push([at, name, pool, null])))));
      await sleep(Math.max(0, 100 - (Date.now() - at)));
    }
  })();

  const flapper = (async () => {
    while (running()) {
      const ip = FLAPPING[Math.floor(Math.random() * FLAPPING.length)];
      cluster.killBalancer(ip);
      events.push({ kind: 'balancer-down', ip, atMs: Date.now() });
      await sleep(rand(2000, 6000));
      // balancer-up is recorded before it listens: from then on, handing it out is allowed.
      events.push({ kind: 'balancer-up', ip, atMs: Date.now() });
      await cluster.startBalancer(ip);
      await sleep(rand(1000, 4000));
    }
  })();

  let pausedUntil = 0;
  const editor = (async () => {
    while (running()) {
      await sleep(1500);
      if (Date.now() < pausedUntil || !running()) continue;
      const members = expected.pools[EDITED];
      const certain = Object.keys(members).filter((ip) => !expected.uncertain.includes(ip));
      const enabled = certain.filter((ip) => members[ip] === 'enabled');
      const drained = certain.filter((ip) => members[ip] === 'drained');
      const pick = (list) => list[Math.floor(Math.random() * list.length)];
      const choices = ['add'];
      if (enabled.length > 2) choices.push('drain', 'rm');
      if (drained.length > 0) choices.push('undrain');
      const op = pick(choices);
      const ip = op === 'add' ? `10.20.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}` : pick(op === 'undrain' ? drained : enabled);
      const r = await cluster.cli(['member', op, EDITED, ip], url);
      if (r.code !== 0) {
        expected.failed++;
        expected.uncertain.push(ip);
        events.push({ kind: 'cli-failed', op, ip, atMs: r.endMs, error: r.stderr.trim().slice(0, 200) });
        continue;
      }
      expected.done++;
      if (op === 'add') { members[ip] = 'enabled'; events.push({ kind: 'added', ip, atMs: r.endMs }); }
      else if (op === 'rm') { delete members[ip]; events.push({ kind: 'removed', ip, atMs: r.endMs }); }
      else if (op === 'drain') { members[ip] = 'drained'; events.push({ kind: 'drained', ip, atMs: r.endMs }); }
      else { members[ip] = 'enabled'; events.push({ kind: 'undrained', ip, atMs: r.startMs }); }
    }
  })();

  const rss = [];
  const sampler = (async () => {
    while (running()) {
      for (const i of cluster.instances) rss.push([Date.now(), i.name, SoakCluster.rssKiB(i.pid)]);
      await sleep(5000);
    }
  })();

  const faults = (async () => {
    for (let k = 0; ; k++) {
      await sleep(FAULT_EVERY_S * 1000);
      if (Date.now() + FAULT_EVERY_S * 500 > endMs) return;
      // No CLI change in flight across a fault: a change is served within 1 s, then the store is hit.
      pausedUntil = Date.now() + 60_000;
      await sleep(1500);
      const fault = FAULTS[k % FAULTS.length];
      try {
        const e = await fault(cluster.group);
        events.push({ ...e, fault: true });
        log(e.kind, JSON.stringify(e.detail));
      } catch (err) {
        events.push({ kind: 'fault-error', fault: true, atMs: Date.now(), detail: { error: String(err.message) } });
        log('fault failed:', err.message);
      }
      pausedUntil = 0;
    }
  })();

  const perf = await perfDone;
  await Promise.all([checker, flapper, editor, sampler, faults]);
  // Settle: every balancer back, then read what the store holds.
  for (const ip of FLAPPING) if (!cluster.balancers.has(ip)) { events.push({ kind: 'balancer-up', ip, atMs: Date.now() }); await cluster.startBalancer(ip); }
  await sleep(5000);
  const final = { pools: {} };
  const status = await cluster.cli(['status', '--json'], url);
  for (const p of JSON.parse(status.stdout || '{"pools":[]}').pools) final.pools[p.name] = Object.fromEntries(p.members.map((m) => [m.ip, m.admin]));
  // What the instances logged about the store, to see each fault was noticed for what it was.
  const noticed = {};
  const watchFor = {
    lostStore: /the store lost its data/, ownVerdicts: /answering with this instance's own verdicts/,
    sharedAgain: /answering with the shared verdicts again/, followedSwitch: /Sentinel announced a new master/,
    unreachable: /redis unreachable/,
  };
  for (const i of cluster.instances) {
    const text = fs.readFileSync(path.join(work, `${i.name}.log`), 'utf8');
    noticed[i.name] = Object.fromEntries(Object.entries(watchFor).map(([k, re]) => [k, text.split('\n').filter((l) => re.test(l)).length]));
  }
  const meta = {
    noticed,
    startedIso: new Date(startedMs).toISOString(), startedMs: soakStartMs, minutes: MINUTES, peakQps, rateQps, boundMs: BOUND_MS,
    flapEvery: '3-10 s (down 2-6 s)', faultEverySeconds: FAULT_EVERY_S, host: os.hostname(), cpus: os.cpus().length,
  };
  const { base, md } = writeReport(path.join(ROOT, 'results'), meta, {
    samples, events, dnsperf: perf, rss, expected, final, boundMs: BOUND_MS, pools: { probed: PROBED, edited: EDITED },
  });
  fs.writeFileSync(`${base}.events.json`, JSON.stringify(events));
  console.log(md);
  log(`written ${base}.{json,md,events.json}`);
}

main().catch((err) => { console.error(err); process.exit(1); });
