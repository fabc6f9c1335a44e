#!/usr/bin/env node
'use strict';
// UDP datagram path, pure Node (dgram) against the native batching addon (recvmmsg/sendmmsg,
// docs/native.md): queries/s at saturation, server CPU µs per answer, and latency at a fixed
// half load, for `ws.lb.example.com A` (a pool of 4, check none) with dnsperf on loopback.
//
//   node scripts/bench/micro-udp.js                    # 3 rounds x 10 s, pure and native
//   ROUNDS=5 DURATION=15 node scripts/bench/micro-udp.js
//   MODES=pure node scripts/bench/micro-udp.js         # one path only
//
// Environment (defaults): ROUNDS=3 DURATION=10 WARMUP=2 CLIENTS=4 OUTSTANDING=100
// SERVER_CPU=1 CLIENT_CPU=0 MODES="pure native" LAT_QPS (default: half the pure path's median
// peak, the same offered load for both paths) LAT=1 (0 skips the latency runs)
// QUIET_PCT=15 RETRIES=1: a run during which other processes used more than QUIET_PCT % of a
// core is repeated (RETRIES times, the quietest kept); medians use the quiet runs when a
// cell has any, and say how many were quiet.
// Rounds interleave the modes (pure native pure native ...) so a drift of a shared machine
// hits both. The server is one process (every thread) pinned to SERVER_CPU; dnsperf runs
// with -T 1 on CLIENT_CPU. CPU µs/answer = the server's utime+stime delta from /proc over
// the run divided by the answered queries. "other%" is CPU used by everything else on the
// machine during the run (percent of one core): a high value marks a noisy run.
// Needs dnsperf and taskset, and a built tree (npm ci / npx tsc -p .).
//
// Internal: `micro-udp.js --serve` is the server under test (prints {"port","udp"} as JSON).
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const ROOT = path.resolve(__dirname, '..', '..');
const ZONE_FILE = path.join(ROOT, 'zones', 'lb.example.com.zone');

/** The server under test: the zone plus a pool of 4 (check none), UDP+TCP on 127.0.0.1:0. */
async function serve() {
  const pino = require('pino');
  const { Snapshot } = require(path.join(ROOT, 'dist/dns/snapshot'));
  const { DnsServer } = require(path.join(ROOT, 'dist/server/dnsServer'));
  const { parseZone } = require(path.join(ROOT, 'dist/zone/parse'));
  const snapshot = new Snapshot();
  const { zone, problems } = parseZone(fs.readFileSync(ZONE_FILE, 'utf8'), { file: 'lb.example.com.zone', origin: 'lb.example.com' });
  if (problems.length) throw new Error(JSON.stringify(problems));
  snapshot.setZones([zone]);
  const config = {
    name: 'ws.lb.example.com', ttlSeconds: 20, check: 'none', port: 80, path: '/', expectMin: 200, expectMax: 399,
    intervalMs: 2000, fastIntervalMs: 500, timeoutMs: 1000, rise: 2, fall: 3, maxAnswers: 0, whenAllDown: 'all',
  };
  const members = [1, 2, 3, 4].map((i) => ({
    ip: `192.0.2.${i}`, weight: 1, admin: 'enabled', addedAtMs: 0, verdict: 'up', verdictSinceMs: 0, observations: [],
  }));
  snapshot.setPool(config.name, { config, members });
  const { DEFAULT_RRL } = require(path.join(ROOT, 'dist/dns/rrl'));
  // Saturation from one source: response rate limiting off, as in run.sh.
  const server = new DnsServer(snapshot, pino({ level: 'warn' }), undefined, { ...DEFAULT_RRL, ratePerSecond: 0 });
  const [bound] = await server.listen([{ host: '127.0.0.1', port: 0 }]);
  process.stdout.write(`${JSON.stringify({ port: bound.port, udp: server.udpImplementation ?? 'node' })}\n`);
  process.on('SIGTERM', () => server.close(0).then(() => process.exit(0)));
}

const env = process.env;
const ROUNDS = Number(env.ROUNDS ?? 3);
const DURATION = Number(env.DURATION ?? 10);
const WARMUP = Number(env.WARMUP ?? 2);
const CLIENTS = Number(env.CLIENTS ?? 4);
const OUTSTANDING = Number(env.OUTSTANDING ?? 100);
const SERVER_CPU = env.SERVER_CPU ?? '1';
const CLIENT_CPU = env.CLIENT_CPU ?? '0';
const MODES = (env.MODES ?? 'pure native').split(/\s+/).filter(Boolean);
const QUIET_PCT = Number(env.QUIET_PCT ?? 15);
const RETRIES = Number(env.RETRIES ?? 1);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'micro-udp-'));
  const qfile = path.join(tmp, 'q.txt');
  fs.writeFileSync(qfile, 'ws.lb.example.com A\n');
  console.log(`# micro-udp: ${ROUNDS} rounds x ${DURATION}s, dnsperf -c ${CLIENTS} -T 1 -q ${OUTSTANDING}, server on CPU ${SERVER_CPU}, dnsperf on CPU ${CLIENT_CPU}, node ${process.version}, ${os.cpus().length} CPUs`);
  const peak = Object.fromEntries(MODES.map((m) => [m, []]));
  for (let r = 1; r <= ROUNDS; r++) {
    for (const mode of MODES) {
      const res = await quietest(() => withServer(mode, (srv) => measure(srv, qfile, ['-l', String(DURATION)])));
      peak[mode].push(res);
      console.log(`round ${r} ${mode.padEnd(6)} udp=${res.udp.padEnd(6)} qps=${res.qps.toFixed(0).padStart(7)} cpu_us/answer=${res.cpuUs.toFixed(2).padStart(6)} server_cpu%=${res.serverPct.toFixed(0)} lost=${res.lost} other%=${res.otherPct.toFixed(0)}`);
    }
  }
  const lat = {};
  const latQps = Number(env.LAT_QPS ?? Math.round(median(quiet(peak.pure ?? peak[MODES[0]]).map((x) => x.qps)) / 2));
  if (env.LAT !== '0') {
    for (let r = 1; r <= ROUNDS; r++) {
      for (const mode of MODES) {
        const res = await quietest(() => withServer(mode, (srv) => measure(srv, qfile, ['-l', String(DURATION), '-Q', String(latQps), '-v'], true)));
        (lat[mode] ??= []).push(res);
        console.log(`round ${r} ${mode.padEnd(6)} at ${latQps} qps: p50=${res.p50.toFixed(3)}ms p99=${res.p99.toFixed(3)}ms p99.9=${res.p999.toFixed(3)}ms cpu_us/answer=${res.cpuUs.toFixed(2)} lost=${res.lost} other%=${res.otherPct.toFixed(0)}`);
      }
    }
  }
  console.log(`\n| path | queries/s | server CPU µs/answer | server CPU % | quiet runs | p50 / p99 ms at ${latQps} qps | CPU µs/answer there | quiet runs |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const mode of MODES) {
    const p = quiet(peak[mode]);
    const l = lat[mode] && quiet(lat[mode]);
    const span = (xs, d) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;
    const nQuiet = (xs) => `${xs.filter((x) => x.otherPct <= QUIET_PCT).length}/${xs.length}`;
    console.log(`| ${mode} (${p[0].udp}) | ${span(p.map((x) => x.qps), 0)} | ${span(p.map((x) => x.cpuUs), 2)} | ${median(p.map((x) => x.serverPct)).toFixed(0)} | ${nQuiet(peak[mode])} | ${l ? `${median(l.map((x) => x.p50)).toFixed(3)} / ${median(l.map((x) => x.p99)).toFixed(3)}` : '-'} | ${l ? median(l.map((x) => x.cpuUs)).toFixed(2) : '-'} | ${l ? nQuiet(lat[mode]) : '-'} |`);
  }
  console.log(`(cells: median (min–max) over the quiet runs when a cell has any, else over all runs; quiet = other processes used <= ${QUIET_PCT}% of a core)`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** Run fn; repeat it (RETRIES times) while other processes were busy; keep the quietest run. */
async function quietest(fn) {
  let best = await fn();
  for (let i = 0; i < RETRIES && best.otherPct > QUIET_PCT; i++) {
    const again = await fn();
    if (again.otherPct < best.otherPct) best = again;
  }
  return best;
}

function quiet(runs) {
  const q = runs.filter((x) => x.otherPct <= QUIET_PCT);
  return q.length ? q : runs;
}

/** Start the server for one mode, run fn with {pid, port, udp}, stop the server. */
async function withServer(mode, fn) {
  const [kind, ...vars] = mode.split(':');
  const childEnv = { ...env, TIERDNS_NATIVE: kind === 'pure' ? '0' : '1', ...Object.fromEntries(vars.map((v) => v.split('='))) };
  const child = spawn('taskset', ['-c', SERVER_CPU, process.execPath, __filename, '--serve'], { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input: child.stdout });
      rl.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening`)));
    });
    const { port, udp } = JSON.parse(line);
    // taskset execs in place, so child.pid is the node process itself.
    return await fn({ pid: child.pid, port, udp });
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
  }
}

async function measure(srv, qfile, extra, withLatency = false) {
  const base = ['-s', '127.0.0.1', '-p', String(srv.port), '-d', qfile, '-c', String(CLIENTS), '-T', '1', '-q', String(OUTSTANDING)];
  await dnsperf([...base, '-l', String(WARMUP)]);
  const t0 = procTicks(srv.pid);
  const m0 = machineTicks();
  const w0 = process.hrtime.bigint();
  const out = await dnsperf([...base, ...extra]);
  const t1 = procTicks(srv.pid);
  const m1 = machineTicks();
  const wallS = Number(process.hrtime.bigint() - w0) / 1e9;
  const completed = num(out, /Queries completed:\s+(\d+)/);
  const res = {
    udp: srv.udp,
    qps: num(out, /Queries per second:\s+([\d.]+)/),
    lost: num(out, /Queries lost:\s+(\d+)/),
    cpuUs: completed ? ((t1 - t0) / CLK_TCK) * 1e6 / completed : NaN,
    serverPct: (100 * (t1 - t0)) / CLK_TCK / wallS,
    // Busy ticks of the whole machine minus the server's and dnsperf's own.
    otherPct: (100 * (m1.busy - m0.busy - (t1 - t0) - out.dnsperfTicks)) / Math.max(1, (m1.total - m0.total) / os.cpus().length),
  };
  if (withLatency) Object.assign(res, percentiles(out));
  return res;
}

function dnsperf(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', CLIENT_CPU, 'dnsperf', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    let ticks = 0;
    const poll = setInterval(() => {
      try { ticks = procTicks(child.pid); } catch { /* exited */ }
    }, 200);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      const s = Buffer.concat(chunks).toString('latin1');
      if (code !== 0) return reject(new Error(`dnsperf exited ${code}: ${s.slice(-500)}`));
      const o = new String(s);
      o.dnsperfTicks = ticks;
      resolve(o);
    });
  });
}

function percentiles(out) {
  const xs = [];
  for (const line of String(out).split('\n')) {
    if (line.startsWith('> ')) xs.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  xs.sort((a, b) => a - b);
  const q = (p) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] * 1000 : NaN);
  return { p50: q(0.5), p99: q(0.99), p999: q(0.999) };
}

function procTicks(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

function machineTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  // idle + iowait are not busy; softirq is, but is charged to no process (loopback delivery).
  return { busy: total - f[3] - f[4], total };
}

function num(s, re) {
  const m = re.exec(String(s));
  return m ? Number(m[1]) : NaN;
}

function median(xs) {
  const a = [...xs].sort((x, y) => x - y);
  const n = a.length;
  return n === 0 ? NaN : n % 2 ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
}

if (process.argv[2] === '--serve') serve();
else main().catch((err) => {
  console.error(err);
  process.exit(1);
});
