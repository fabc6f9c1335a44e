#!/usr/bin/env node
'use strict';
// The steering demo (scripts/demo-steering.sh, docs/steering.md "The demo"): three fake tiers
// (./ws-tier.js) counting their WebSocket connections, one `tierdns serve`, and a client load
// opening long-lived WebSocket connections to whatever tierdns answers, through resolver caches
// that honour the TTL. One tier is killed and restarted; the counts per tier are printed, for
// plain round-robin and for steering by the json and agent feeds. Everything it starts is
// stopped by PID at the end, Ctrl-C included.

const { spawn, execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { Resolver } = require('node:dns').promises;
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { seeded, normal, zipf } = require('../simulate/rng');

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const POOL = 'ws.lb.example.com';
const TIERS = ['127.0.0.71', '127.0.0.72', '127.0.0.73'];
const CAPACITY = 200;
/** The timeline (seconds): the restart of tier 1, how long it stays down, the end. */
const RESTART_S = 40;
const DOWN_S = 5;
const END_S = 150;
/** Long-lived sessions opened over the first 10 s (40% of all capacity), as if the service had run for hours. */
const INITIAL = 240;
/** Then new sessions per second; a share of them stay to the end, the rest last lognormal(median 10 s). */
const ARRIVALS_PER_S = 6;
const PERMANENT = 0.2;
const RESOLVERS = 12;
const TTL_S = 2;

const children = new Set();
function stopAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort(host) {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Spawn and wait for `ready` (a line, or a JSON log with that msg) on stdout. */
function startChild(args, ready) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} not ready: ${out.slice(-300)}`)), 15_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes(ready)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${out.slice(-300)}`)));
  });
}

function cli(args, store) {
  return execFileSync(process.execPath, [CLI, ...args, '--store', store, '--zones', path.join(ROOT, 'zones')], { encoding: 'utf8' });
}

function getJson(host, port) {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', timeout: 500 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

/** One WebSocket connection; resolves with the socket (kept open) or rejects with the reason. */
function openWs(host, port) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host, port, path: '/', timeout: 2000,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64') },
    });
    req.on('upgrade', (res, socket) => {
      socket.on('error', () => {});
      resolve(socket);
    });
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`status ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The client side: sessions arriving at ARRIVALS_PER_S behind RESOLVERS caches, reconnecting when dropped. */
class ClientLoad {
  constructor(dnsPort, wsPort, seed) {
    this.random = seeded(seed);
    this.pickResolver = zipf(RESOLVERS, 1);
    this.caches = Array.from({ length: RESOLVERS }, () => ({ untilMs: 0, answer: [], pending: undefined }));
    this.resolver = new Resolver({ timeout: 1000, tries: 2 });
    this.resolver.setServers([`127.0.0.1:${dnsPort}`]);
    this.wsPort = wsPort;
    this.refused = 0;
    this.failed = 0;
    this.stopped = false;
    this.sockets = new Set();
  }

  /** The resolver's cached answer, asked again once its TTL ran out (a cache honouring the TTL). */
  async lookup(cache) {
    if (Date.now() < cache.untilMs) return cache.answer;
    cache.pending ??= this.resolver.resolve4(POOL, { ttl: true }).then((records) => {
      cache.answer = records.map((r) => r.address);
      cache.untilMs = Date.now() + Math.max(1, records[0]?.ttl ?? 1) * 1000;
    }, () => undefined).finally(() => { cache.pending = undefined; });
    await cache.pending;
    return cache.answer;
  }

  /** A session: resolve, connect to the first address that takes it, hold until `untilMs`; reconnect if dropped. */
  async session(untilMs, cache = this.caches[this.pickResolver(this.random)]) {
    if (this.stopped || Date.now() >= untilMs) return;
    const answer = await this.lookup(cache);
    for (const ip of answer) {
      let socket;
      try {
        socket = await openWs(ip, this.wsPort);
      } catch {
        this.refused++;
        continue;
      }
      this.sockets.add(socket);
      const timer = untilMs === Infinity ? undefined : setTimeout(() => socket.destroy(), untilMs - Date.now());
      socket.on('close', () => {
        clearTimeout(timer);
        this.sockets.delete(socket);
        // Dropped before its time (the tier died): come back in 1..5 s, through the cache again.
        if (!this.stopped && Date.now() < untilMs - 50) setTimeout(() => void this.session(untilMs, cache), 1000 + this.random() * 4000);
      });
      return;
    }
    if (!this.stopped) {
      this.failed++;
      setTimeout(() => void this.session(untilMs, cache), 1000 + this.random() * 2000);
    }
  }

  /** Second `s` of the run: its share of the initial sessions, and the new arrivals. */
  tick(s) {
    if (s < 10) for (let k = 0; k < INITIAL / 10; k++) void this.session(Infinity);
    for (let k = 0; k < ARRIVALS_PER_S; k++) {
      const permanent = this.random() < PERMANENT;
      const lifeMs = permanent ? Infinity : 10_000 * Math.exp(normal(this.random));
      void this.session(Date.now() + lifeMs);
    }
  }

  stop() {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
  }
}

async function scenario(load, seed) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-steer-demo-'));
  const store = `file:${path.join(work, 'store.json')}`;
  const [wsPort, agentPort, loadPort, dnsPort] = [await freePort(TIERS[0]), await freePort(TIERS[0]), await freePort(TIERS[0]), await freePort('127.0.0.1')];
  const tierArgs = (ip) => [path.join(__dirname, 'ws-tier.js'), '--host', ip, '--port', String(wsPort), '--agent-port', String(agentPort), '--load-port', String(loadPort), '--capacity', String(CAPACITY)];
  const tiers = await Promise.all(TIERS.map((ip) => startChild(tierArgs(ip), 'ready')));
  cli(['pool', 'set', POOL, '--ttl', String(TTL_S), '--check', 'tcp', '--port', String(wsPort), '--interval', '500ms', '--timeout', '400ms',
    '--rise', '1', '--fall', '2', '--load', load, ...(load === 'none' ? [] : ['--load-port', String(load === 'agent' ? agentPort : loadPort), '--load-path', '/'])], store);
  for (const ip of TIERS) cli(['member', 'add', POOL, ip], store);
  await startChild([CLI, 'serve', '--zones', path.join(ROOT, 'zones'), '--listen', `127.0.0.1:${dnsPort}`, '--store', store, '--instance', 'demo'], 'serve: ready');
  // Every tier up (and read) before clients come.
  for (let i = 0; i < 100; i++) {
    const s = JSON.parse(cli(['status', POOL, '--json'], store)).pools[0];
    if (s.members.every((m) => m.verdict === 'up' && (load === 'none' || m.load?.factor === 1))) break;
    await sleep(100);
  }
  const clients = new ClientLoad(dnsPort, wsPort, seed);
  const rows = [];
  const t0 = Date.now();
  let restarted = false;
  let backAt;
  for (let s = 0; s <= END_S; s++) {
    const wait = t0 + s * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    if (s === RESTART_S) {
      tiers[0].kill('SIGKILL');
      restarted = true;
    }
    if (restarted && s === RESTART_S + DOWN_S) {
      tiers[0] = await startChild(tierArgs(TIERS[0]), 'ready');
      backAt = s;
    }
    if (s < END_S) clients.tick(s);
    if (s % 5 === 0) {
      const counts = await Promise.all(TIERS.map(async (ip) => (await getJson(ip, loadPort))?.connections ?? 0));
      rows.push({ s, counts });
    }
  }
  clients.stop();
  for (const c of [...children]) c.kill('SIGKILL');
  await sleep(200);
  fs.rmSync(work, { recursive: true, force: true });
  return { load, rows, backAt, refused: clients.refused, failed: clients.failed };
}

function imbalance(counts) {
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  return mean === 0 ? 1 : Math.max(...counts) / mean;
}

function report(results) {
  const lines = [];
  const label = { none: 'round-robin', json: 'steering (json)', agent: 'steering (agent)' };
  lines.push(`connections per tier (tier 1 killed at ${RESTART_S} s, back at ${RESTART_S + DOWN_S} s; capacity ${CAPACITY} each)`);
  lines.push('');
  lines.push(['   t', ...results.map((r) => label[r.load].padStart(20))].join('  '));
  for (let i = 0; i < results[0].rows.length; i++) {
    const s = results[0].rows[i].s;
    if (s % 10 !== 0) continue;
    lines.push([`${String(s).padStart(3)}s`, ...results.map((r) => (r.rows[i]?.counts ?? []).map((c) => String(c).padStart(4)).join(' ').padStart(20))].join('  '));
  }
  lines.push('');
  lines.push('| policy | tier 1 / others 60 s after it is back | imbalance at the end | time to imbalance <= 1.1 after it is back | refused (tier full or down) |');
  lines.push('|---|---|---|---|---|');
  for (const r of results) {
    const at = r.rows.find((x) => x.s >= r.backAt + 60);
    const even = r.rows.find((x) => x.s >= r.backAt && imbalance(x.counts) <= 1.1);
    const last = r.rows[r.rows.length - 1];
    lines.push(`| ${label[r.load]} | ${at.counts[0]} / ${at.counts.slice(1).join(', ')} | ${imbalance(last.counts).toFixed(2)} | ${even ? `${even.s - r.backAt} s` : `not within ${END_S - r.backAt} s`} | ${r.refused} |`);
  }
  return lines.join('\n');
}

async function main() {
  const which = process.argv.slice(2);
  const loads = which.length ? which : ['none', 'json', 'agent'];
  for (const l of loads) if (!['none', 'json', 'agent'].includes(l)) throw new Error(`steering demo: unknown policy ${l} (none, json, agent)`);
  const results = [];
  for (const load of loads) {
    process.stdout.write(`running ${load} (${END_S} s)…\n`);
    results.push(await scenario(load, 7));
  }
  process.stdout.write(`\n${report(results)}\n`);
}

main().then(() => process.exit(0), (err) => {
  console.error(`steering demo: ${err.message}`);
  process.exit(1);
});
