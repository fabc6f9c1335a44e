#!/usr/bin/env node
'use strict';
// Failover timing (PRODUCT.md §5): two tierdns instances on one store, one pool of WebSocket
// fake balancers on loopback; kills one balancer N times and measures, with real DNS queries to
// both instances, how long until it leaves every answer and, restarted, returns to every one.
//
//   npm run build && node scripts/failover.js [--kills 20] [--interval 2s] [--fast-interval 500ms]
//       [--rise 2] [--fall 3] [--timeout 1s] [--store file|redis]
//
// Cleans up everything it started (by PID) on exit, Ctrl-C included.

const { spawn } = require('node:child_process');
const { Resolver } = require('node:dns').promises;
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const POOL = 'ws.lb.example.com';
const BALANCERS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
const VICTIM = '127.0.0.12';

const flags = { kills: '20', interval: '2s', 'fast-interval': '500ms', rise: '2', fall: '3', timeout: '1s', store: 'redis' };
for (let i = 2; i < process.argv.length; i += 2) flags[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const ms = (d) => { const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(d); return m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : NaN; };

const children = new Set();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-failover-'));
function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const sleep = (t) => new Promise((r) => setTimeout(r, t));

function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.createServer().on('error', reject).listen(0, host, () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Start a child; resolves once `ready` appears in its output (or at once when no pattern). */
function start(cmd, args, name, ready) {
  const log = fs.openSync(path.join(work, `${name}.log`), 'a');
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', log] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      fs.writeSync(log, d);
      out += d;
      if (ready && ready.test(out)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}); see ${path.join(work, `${name}.log`)}`)));
    if (!ready) resolve(child);
  });
}

function cli(args, store) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, ...args, '--store', store, '--zones', 'zones'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tierdns ${args.join(' ')}: ${err.trim()}`))));
  });
}

async function startStore() {
  if (flags.store === 'file') return `file:${path.join(work, 'store.json')}`;
  const port = await freePort();
  await start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work], 'redis', /Ready to accept/);
  return `redis://127.0.0.1:${port}/0`;
}

/** The A records one instance answers for the pool now (sorted), or undefined on a DNS error. */
async function answers(resolver) {
  try {
    return (await resolver.resolve4(POOL)).sort();
  } catch {
    return undefined;
  }
}

/** Milliseconds until `pred(answersOfEveryInstance)` holds, polling every 20 ms. */
async function timeUntil(resolvers, pred, limitMs) {
  const t0 = Date.now();
  for (;;) {
    const all = await Promise.all(resolvers.map(answers));
    if (all.every((a) => a && pred(a))) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`condition not met after ${limitMs} ms: ${JSON.stringify(all)}`);
    await sleep(20);
  }
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}

async function main() {
  const store = await startStore();
  const bport = await freePort(BALANCERS[0]);
  const balancer = (ip) => start(process.execPath, ['scripts/fake-balancer.js', '--host', ip, '--port', String(bport)], `balancer-${ip}`, /ready/);
  const procs = {};
  for (const ip of BALANCERS) procs[ip] = await balancer(ip);
  const resolvers = [];
  for (const name of ['ns1', 'ns2']) {
    const port = await freePort();
    await start(process.execPath, [CLI, 'serve', '--zones', 'zones', '--listen', `127.0.0.1:${port}`, '--store', store,
      '--state-dir', path.join(work, name), '--instance', name], name, /serve: ready/);
    const r = new Resolver({ timeout: 500, tries: 1 });
    r.setServers([`127.0.0.1:${port}`]);
    resolvers.push(r);
  }
  await cli(['pool', 'set', POOL, '--check', 'ws', '--port', String(bport), '--path', '/', '--ttl', '5s', '--interval', flags.interval,
    '--fast-interval', flags['fast-interval'], '--timeout', flags.timeout, '--rise', flags.rise, '--fall', flags.fall], store);
  for (const ip of BALANCERS) await cli(['member', 'add', POOL, ip], store);
  await timeUntil(resolvers, (a) => a.length === BALANCERS.length, 15_000);

  const [interval, fast] = [ms(flags.interval), ms(flags['fast-interval'])];
  const leaveBound = interval + (Number(flags.fall) - 1) * fast + 1000;
  const returnBound = interval + (Number(flags.rise) - 1) * fast + 1000;
  const leave = [];
  const back = [];
  for (let i = 0; i < Number(flags.kills); i++) {
    // A random phase against the probe schedule, so the runs sample the whole interval.
    await sleep(Math.random() * interval);
    procs[VICTIM].kill('SIGKILL');
    leave.push(await timeUntil(resolvers, (a) => !a.includes(VICTIM), leaveBound + 10_000));
    await sleep(Math.random() * interval);
    procs[VICTIM] = await balancer(VICTIM);
    back.push(await timeUntil(resolvers, (a) => a.includes(VICTIM), returnBound + 10_000));
    process.stderr.write(`kill ${i + 1}: left after ${leave[i]} ms, returned after ${back[i]} ms\n`);
  }
  const report = {
    kills: leave.length, store: flags.store, interval: flags.interval, fastInterval: flags['fast-interval'], rise: Number(flags.rise), fall: Number(flags.fall),
    timeToLeaveMs: { ...stats(leave), bound: leaveBound, overBound: leave.filter((x) => x > leaveBound).length },
    timeToReturnMs: { ...stats(back), bound: returnBound, overBound: back.filter((x) => x > returnBound).length },
  };
  console.log(JSON.stringify(report, null, 2));
  if (report.timeToLeaveMs.overBound || report.timeToReturnMs.overBound) process.exitCode = 1;
}

main().then(() => process.exit(), (err) => {
  console.error(`failover: ${err.message}`);
  process.exit(1);
});
