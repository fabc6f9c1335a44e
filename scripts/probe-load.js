#!/usr/bin/env node
'use strict';
// How much probing costs the event loop that also answers DNS (PRODUCT.md §8): 10,000 members
// on loopback (127.0.1.1 … 127.0.40.250), probed every 2 s by one HealthLoop, while
// perf_hooks.monitorEventLoopDelay samples the loop. The balancers run in a child process so
// their work is not counted against the prober.
//
//   npm run build && node scripts/probe-load.js [--members 10000] [--interval 2000] [--kind tcp|ws|http]
//       [--seconds 30] [--balancers yes|no|stopped] [--balancer-nice 10] [--starts-per-tick 64]
//       [--store redis://127.0.0.1:PORT/0?prefix=load:] [--warmup MS] [--alloc top-N]
//       [--thread yes] [--load agent [--agent-server c|node] [--agent-read native|node]]
//
// --warmup: how long the loop runs before sampling (default 1.5 intervals; the first state
// changes of 10,000 members take ~10 s to record in a store, so use ~25000 to see the steady
// state). --alloc N: also sample allocations (V8's sampling heap profiler, collected objects
// included) and print the N call sites allocating most, in MB/s; with ALLOC_MINOR=0 in the
// environment, only what outlived the young generation (promoted, then left for a mark-compact).
//
// --balancers no: nothing listens, every probe is refused; stopped: every probe times out.
//
// --load agent: every member also has an agent feed on its probe port (--load-port 0,
// docs/steering.md), so a member check is a tcp probe and an agent read; readsPerSecond and
// readFailures count the reads. The balancers are then scripts/bench/lib/agentd.c (compiled
// with cc), which writes AGENT_REPLY (default "up 60%") to every connection and closes it
// (--agent-server node: the Node listeners below, which write the line and wait). --agent-read
// node reads through Node's net even where the native addon would (docs/native.md).
//
// Without --store, observations go to a counting in-memory stub (the loop's own cost); with a
// store URL, 2,500 pools × 4 members are created there and the real writes are included.
//
// --thread yes (needs --store): probe the way `serve` does by default, on a ProbeThread; the
// event-loop delay is then the serving thread's, the CPU the whole process's (both threads),
// and probes are counted from the thread's reports.

const { fork } = require('node:child_process');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const os = require('node:os');
const pino = require('pino');
const { HealthLoop } = require('../dist/health/loop');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (i % 2 ? acc : [...acc, [a.replace(/^--/, ''), all[i + 1]]]), []));
const MEMBERS = Number(args.members ?? 10_000);
const INTERVAL_MS = Number(args.interval ?? 2000);
const KIND = args.kind ?? 'tcp';
const SECONDS = Number(args.seconds ?? 30);
const PORT = Number(args.port ?? 18080);
const PER_POOL = 4;
const BALANCERS = args.balancers !== 'no';
/** --balancer-nice N: the balancers' scheduling priority (default 10). */
const NICE = Number(args['balancer-nice'] ?? 10);
/** --load agent: read an agent feed with every probe. */
const LOAD = args.load ?? 'none';
if (LOAD !== 'none' && LOAD !== 'agent') throw new Error(`--load ${LOAD}: none or agent`);

/** Member i's loopback address: 250 per /24, starting at 127.0.1.1. */
const ipOf = (i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;

if (process.argv[2] === '--child') return child();

function child() {
  // The balancers: one listener per member address (10,000 fds). A bare-bones responder
  // instead of node:http (HTTP 200, or the WebSocket handshake and close reply), so that
  // thousands of probes a second fit on the one core left to it.
  const net = require('node:net');
  const { acceptKey } = require('./fake-balancer');
  const [n, port] = [Number(process.argv[3]), Number(process.argv[4])];
  // AGENT_REPLY (e.g. "up 60%"): every connection is first sent that line, as a HAProxy
  // agent does, so the same listener serves a member's tcp probe and its agent read.
  const agentLine = process.env.AGENT_REPLY ? `${process.env.AGENT_REPLY}\n` : undefined;
  const onConnection = (socket) => {
    socket.on('error', () => socket.destroy());
    if (agentLine) socket.write(agentLine);
    let head = '';
    socket.on('data', (d) => {
      if (head === undefined) {
        if ((d[0] & 0x0f) === 0x8) socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
        return;
      }
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key: *([^\r]+)/i.exec(head)?.[1];
      head = undefined;
      if (!key) return socket.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
    });
  };
  const all = [];
  for (let i = 0; i < n; i++) {
    all.push(new Promise((resolve, reject) => {
      const server = net.createServer(onConnection);
      server.once('error', reject);
      server.listen({ port, host: ipOf(i), backlog: process.argv[5] === 'stopped' ? 1 : 4096 }, resolve);
    }));
  }
  Promise.all(all).then(() => process.send('ready'), (err) => {
    console.error(`balancers: ${err.message}`);
    process.exit(1);
  });
}

function stubStore() {
  let writes = 0;
  return {
    description: 'stub', get writes() { return writes; }, observationRefreshMs: 60_000,
    async recordObservation() { writes++; return 'up'; },
    async refreshObservation() { writes++; return true; },
    async heartbeat() {},
    onStatus() {},
  };
}

async function realStore(url, config) {
  const { openStore } = require('../dist/store/open');
  const store = openStore(url, { log: pino({ level: 'warn' }) });
  for (let p = 0; p < MEMBERS / PER_POOL; p++) {
    const name = `p${p}.load.example.com`;
    await store.setPool({ ...config, name });
    await Promise.all(Array.from({ length: PER_POOL }, (_, k) => store.updateMember(name, ipOf(p * PER_POOL + k), { create: true })));
  }
  return store;
}

function histogramMs(h) {
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) };
}

/** V8's sampling heap profiler over the inspector, objects the GC already freed included. */
async function startAllocSampling() {
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.ALLOC_MINOR !== '0' });
  return {
    async stop(top, seconds) {
      const { profile } = await post('HeapProfiler.stopSampling');
      session.disconnect();
      const bySite = new Map();
      const walk = (node, stack) => {
        const f = node.callFrame;
        const here = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
        const site = [here, ...stack].slice(0, 2).join(' < ');
        bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
        for (const c of node.children) walk(c, [here, ...stack]);
      };
      walk(profile.head, []);
      const mbs = (b) => Math.round((b / 1e6 / seconds) * 100) / 100;
      const total = [...bySite.values()].reduce((a, b) => a + b, 0);
      return { totalMBps: mbs(total), top: Object.fromEntries([...bySite].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, mbs(v)])) };
    },
  };
}

/** scripts/bench/lib/agentd.c, compiled into a temp dir and started; resolves once it listens. */
async function startAgentd() {
  const { execFileSync, spawn } = require('node:child_process');
  const fs = require('node:fs');
  const path = require('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-agentd-'));
  const bin = path.join(dir, 'agentd');
  execFileSync('cc', ['-O2', '-o', bin, path.join(__dirname, 'bench', 'lib', 'agentd.c')], { stdio: 'inherit' });
  const proc = spawn(bin, [String(MEMBERS), String(PORT), process.env.AGENT_REPLY ?? 'up 60%'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  try { os.setPriority(proc.pid, NICE); } catch { /* not permitted: measure anyway */ }
  await new Promise((resolve, reject) => {
    proc.stdout.once('data', resolve);
    proc.once('exit', () => reject(new Error('agentd exited')));
  });
  return stop;
}

async function main() {
  let stopChild = () => {};
  if (BALANCERS && LOAD === 'agent' && args['agent-server'] !== 'node') {
    stopChild = await startAgentd();
  } else if (BALANCERS) {
    const env = LOAD === 'agent' ? { ...process.env, AGENT_REPLY: process.env.AGENT_REPLY ?? 'up 60%' } : process.env;
    const balancers = fork(__filename, ['--child', String(MEMBERS), String(PORT), String(args.balancers ?? 'yes')], { stdio: 'inherit', env });
    stopChild = () => { if (balancers.exitCode === null) balancers.kill('SIGKILL'); };
    process.on('exit', stopChild);
    // Balancers stand for other machines: low priority, so they take less of the prober's CPU.
    try { os.setPriority(balancers.pid, NICE); } catch { /* not permitted: measure anyway */ }
    await new Promise((resolve, reject) => { balancers.once('message', resolve); balancers.once('exit', () => reject(new Error('balancers exited'))); });
    // A stopped process answers nothing: connections fill the backlog, then SYNs are dropped,
    // and every probe times out, as behind a black-holed network.
    if (args.balancers === 'stopped') balancers.kill('SIGSTOP');
  }

  const config = {
    name: 'load.example.com', ttlSeconds: 20, check: KIND, port: PORT, path: '/', expectMin: 200, expectMax: 399,
    intervalMs: INTERVAL_MS, fastIntervalMs: INTERVAL_MS / 4, timeoutMs: 1000, rise: 2, fall: 3, maxAnswers: 0, whenAllDown: 'all',
    load: LOAD, loadPort: 0, loadPath: '', capacity: 0, slowStartMs: 0,
  };
  const store = args.store ? await realStore(args.store, config) : stubStore();
  const h = monitorEventLoopDelay({ resolution: 10 });
  // The floor: what the histogram shows with nothing to do.
  h.enable();
  await new Promise((r) => setTimeout(r, 3000));
  h.disable();
  const idle = histogramMs(h);

  if (args.thread === 'yes') return threaded(store, config, idle, h, stopChild);
  let probes = 0;
  let failures = 0;
  let reads = 0;
  let readFailures = 0;
  let maxInFlight = 0;
  const errors = new Map();
  const { probe } = require('../dist/health/probe');
  const counting = (target) => probe(target).then((r) => { probes++; if (!r.ok) { failures++; errors.set(r.error, (errors.get(r.error) ?? 0) + 1); } return r; });
  const feeds = require('../dist/health/loadFeed');
  const readLoad = args['agent-read'] === 'node' ? feeds.readLoadWithNet : feeds.readLoad;
  const countingRead = (target) => readLoad(target).then((r) => { reads++; if (!r.ok) { readFailures++; errors.set(r.error, (errors.get(r.error) ?? 0) + 1); } return r; });
  const loop = new HealthLoop({
    store, instance: 'load', log: pino({ level: 'warn' }), probe: counting, readLoad: countingRead,
    maxStartsPerTick: args['starts-per-tick'] ? Number(args['starts-per-tick']) : undefined,
  });
  for (let p = 0; p < MEMBERS / PER_POOL; p++) {
    const members = Array.from({ length: PER_POOL }, (_, k) => ({
      ip: ipOf(p * PER_POOL + k), weight: 1, admin: 'enabled', addedAtMs: 0, verdict: 'unknown', verdictSinceMs: 0, observations: [],
    }));
    const name = `p${p}.load.example.com`;
    loop.updatePool(name, { config: { ...config, name }, members });
  }
  loop.start();
  const sampler = setInterval(() => { maxInFlight = Math.max(maxInFlight, loop.inFlight); }, 5);
  // Warm-up: the first interval spreads the first probes.
  await new Promise((r) => setTimeout(r, Number(args.warmup ?? INTERVAL_MS * 1.5)));
  h.reset();
  probes = 0;
  failures = 0;
  reads = 0;
  readFailures = 0;
  errors.clear();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  h.enable();
  const alloc = args.alloc ? await startAllocSampling() : undefined;
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const allocation = alloc ? await alloc.stop(Number(args.alloc), SECONDS) : undefined;
  h.disable();
  const elapsedS = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  await loop.stop();
  const writes = store.writes;
  if (store.close) await store.close();
  stopChild();
  const report = {
    members: MEMBERS, kind: KIND, balancers: args.balancers ?? 'yes', cpus: os.cpus().length, loadavg1m: os.loadavg()[0], intervalMs: INTERVAL_MS, seconds: Math.round(elapsedS),
    probesPerSecond: Math.round(probes / elapsedS), failures, maxInFlight,
    ...(LOAD !== 'none' ? { load: LOAD, agentRead: args['agent-read'] === 'node' ? 'node' : feeds.agentReadImplementation(), readsPerSecond: Math.round(reads / elapsedS), readFailures } : {}),
    topErrors: Object.fromEntries([...errors].sort((a, b) => b[1] - a[1]).slice(0, 3)),
    proberCpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / elapsedS) * 100),
    proberCpuUsPerCheck: probes ? Math.round((cpu.user + cpu.system) / probes) : 0,
    eventLoopDelayMs: histogramMs(h), idleEventLoopDelayMs: idle,
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
    ...(writes !== undefined ? { storeWrites: writes } : { store: store.description }),
    ...(allocation ? { allocation } : {}),
  };
  console.log(JSON.stringify(report, null, 2));
}

/** --thread yes: a ProbeThread, as serve runs it; the histogram `h` samples this (the serving) thread. */
async function threaded(store, config, idle, h, stopChild) {
  if (!args.store) throw new Error('--thread yes needs --store');
  const { ProbeThread } = require('../dist/health/thread');
  const pools = new Map();
  for (let p = 0; p < MEMBERS / PER_POOL; p++) {
    const name = `p${p}.load.example.com`;
    pools.set(name, {
      config: { ...config, name },
      members: Array.from({ length: PER_POOL }, (_, k) => ({
        ip: ipOf(p * PER_POOL + k), weight: 1, admin: 'enabled', addedAtMs: 0, verdict: 'unknown', verdictSinceMs: 0, observations: [],
      })),
    });
  }
  const thread = new ProbeThread({ storeUrl: args.store, instance: 'load', log: pino({ level: 'warn' }), pools: () => pools });
  thread.start();
  await new Promise((r) => setTimeout(r, Number(args.warmup ?? INTERVAL_MS * 1.5)));
  const total = () => { const s = thread.stats(); return { n: s.ok + s.failed, failed: s.failed }; };
  h.reset();
  const before = total();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  h.enable();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  h.disable();
  // Counts arrive every 500 ms: wait for the report covering the window's end.
  await new Promise((r) => setTimeout(r, 600));
  const elapsedS = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const after = total();
  await thread.stop();
  await store.close();
  stopChild();
  console.log(JSON.stringify({
    members: MEMBERS, kind: KIND, balancers: args.balancers ?? 'yes', thread: true, cpus: os.cpus().length, loadavg1m: os.loadavg()[0],
    intervalMs: INTERVAL_MS, seconds: Math.round(elapsedS), probesPerSecond: Math.round((after.n - before.n) / elapsedS),
    failures: after.failed - before.failed, processCpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / elapsedS) * 100),
    eventLoopDelayMs: histogramMs(h), idleEventLoopDelayMs: idle, rssMB: Math.round(process.memoryUsage().rss / 1e6), store: store.description,
  }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
