'use strict';
// Hostile TCP clients against the real server (docs/tcp.md): attackers connect from 127.0.0.2
// and up, a legitimate client from 127.0.0.1 queries during each attack and must be answered.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const { execFile, execFileSync } = require('node:child_process');
const { promisify } = require('node:util');
const { tempDir, startServe, runCli } = require('./helpers/serve');
const { freePort } = require('./helpers/redis');
const { ask, buildQuery } = require('./helpers/dns');
const { attacks, holdConnections, legitRate, framed } = require('./helpers/tcpAttack');
const ZONE = require('./fixtures/example.zone');

const execFileP = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Established connections the server holds on `port`, as the kernel counts them (ss, iproute2). */
function serverConnections(port) {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).length;
}

function setup(t) {
  const dir = tempDir(t);
  const zones = path.join(dir, 'zones');
  fs.mkdirSync(zones);
  fs.writeFileSync(path.join(zones, 'example.com.zone'), ZONE);
  return { dir, zones, store: `file:${path.join(dir, 'store.json')}` };
}

function scrape(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** Poll `check` every 100 ms until it returns truthy or `ms` pass; returns its last value. */
async function eventually(check, ms = 3000) {
  const until = Date.now() + ms;
  let v;
  while (!(v = await check()) && Date.now() < until) await sleep(100);
  return v;
}

test('idle connections to the metrics listener never take the descriptors DNS and the store need', async (t) => {
  const { zones, store } = setup(t);
  const mport = await freePort();
  // 256 descriptors: without a cap on the metrics listener, 300 idle clients exhaust them.
  const s = await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`], { prefix: ['prlimit', '--nofile=256:256', '--'] });
  const flood = holdConnections(mport, ['127.0.0.2'], 300, () => undefined);
  t.after(() => flood.stop());
  await flood.ready;
  await sleep(200);
  assert.ok(flood.open() <= 64, `${flood.open()} metrics connections held open`);
  const legit = await legitRate(s.port, { tries: 5, gapMs: 20 });
  assert.equal(legit.ok, legit.tries, 'TCP DNS answered during the flood');
  // A change made with the CLI reaches the server, which reads the file store to see it.
  assert.equal((await runCli(['pool', 'set', 'ws.example.com', '--check', 'none', '--zones', zones, '--store', store])).code, 0);
  assert.equal((await runCli(['member', 'add', 'ws.example.com', '192.0.2.7', '--zones', zones, '--store', store])).code, 0);
  const served = await eventually(async () => (await ask(s.port, 'ws.example.com', 'A'))?.answers.length === 1);
  assert.ok(served, 'the store change was not served during the flood');
  flood.stop();
  assert.equal((await eventually(async () => (await scrape(mport)).status === 200)), true, 'metrics answer again once the flood stops');
  assert.ok(!s.logs.some((l) => l.code === 'EMFILE'), 'no accept failed for lack of descriptors');
});

test('idle connections to the metrics listener, from one source or many, never keep a scraper out', async (t) => {
  const { zones, store } = setup(t);
  const mport = await freePort();
  await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`]);
  // One source opening 100 holds at most its cap.
  const one = holdConnections(mport, ['127.0.0.2'], 100, () => undefined);
  t.after(() => one.stop());
  await one.ready;
  await sleep(200);
  assert.ok(one.open() <= 8, `${one.open()} connections held by one source`);
  for (let i = 0; i < 5; i++) assert.equal((await scrape(mport)).status, 200, `scrape ${i} during the one-source flood`);
  one.stop();
  // 20 sources of 8: the listener is full, and a scraper still gets in by replacing a quiet
  // connection.
  const sources = Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`);
  const many = holdConnections(mport, sources, 8, () => undefined);
  t.after(() => many.stop());
  await many.ready;
  await sleep(1200);
  assert.ok(many.open() <= 64, `${many.open()} connections held`);
  for (let i = 0; i < 5; i++) assert.equal((await scrape(mport)).status, 200, `scrape ${i} during the many-source flood`);
  many.stop();
});

// Small caps, so a few dozen connections prove each one.
const CAPS = ['--tcp-max-per-source', '4', '--tcp-max-connections', '24', '--tcp-idle-timeout', '1s', '--tcp-partial-timeout', '300ms'];

async function serveWithCaps(t, extra = []) {
  const { zones, store } = setup(t);
  return startServe(t, ['--zones', zones, '--store', store, ...CAPS, ...extra]);
}

/** Legitimate TCP queries from 127.0.0.1 while an attack runs: every one must be answered. */
async function assertLegitServed(port, what) {
  const r = await legitRate(port, { tries: 10, gapMs: 50, timeoutMs: 1500 });
  assert.equal(r.ok, r.tries, `${what}: ${r.ok} of ${r.tries} legitimate TCP queries answered`);
}

const addresses = (first, n) => [...Array(n)].map((_, i) => `127.0.0.${first + i}`);

/** A metric's value from a scrape (0 when absent). */
async function metricValue(mport, line) {
  const m = new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec((await scrape(mport)).body);
  return m ? Number(m[1]) : 0;
}

test('idle connections: one address holds at most its cap; another address is answered', async (t) => {
  const mport = await freePort();
  const s = await serveWithCaps(t, ['--metrics', `127.0.0.1:${mport}`]);
  const attack = attacks.idle(s.port, ['127.0.0.2'], 100);
  t.after(() => attack.stop());
  await attack.ready;
  await sleep(100);
  assert.ok(attack.open() <= 4, `${attack.open()} idle connections held by one address`);
  await assertLegitServed(s.port, 'one address idling');
  // And dig, as a resolver falling back to TCP would ask.
  const dig = await execFileP('dig', ['+tcp', '+short', '+time=2', '+tries=1', '-b', '127.0.0.1', '-p', String(s.port), '@127.0.0.1', 'example.com', 'SOA']);
  assert.match(dig.stdout, /^ns1\.example\.com\. hostmaster\.example\.com\. \d+/);
  assert.equal(await metricValue(mport, 'tierdns_tcp_refused_total{reason="per-source"}'), 96);
  assert.equal(await metricValue(mport, 'tierdns_tcp_connections'), 4);
});

test('idle connections from many addresses: a newcomer still gets a slot', async (t) => {
  const s = await serveWithCaps(t);
  // 8 addresses x 4 = 32 connections for 24 slots.
  const attack = attacks.idle(s.port, addresses(2, 8), 4, { reconnect: true, maxConnects: 200 });
  t.after(() => attack.stop());
  await attack.ready;
  // The attacker learns of a replaced connection when its reset arrives: give it a moment.
  for (let i = 0; i < 40 && attack.open() > 24; i++) await sleep(50);
  assert.ok(attack.open() <= 24, `${attack.open()} connections held`);
  await assertLegitServed(s.port, 'eight addresses idling');
});

test('empty frames and dropped messages do not keep a connection open', async (t) => {
  const s = await serveWithCaps(t);
  const empty = attacks.empty(s.port, ['127.0.0.2'], 4, { everyMs: 200 });
  // A response (QR=1) is dropped unanswered (RFC 8906): it must not count as activity either.
  const response = framed(Buffer.from(buildQuery('example.com', 'SOA').map((b, i) => (i === 2 ? b | 0x80 : b))));
  const dropped = holdConnections(s.port, ['127.0.0.3'], 4, (sock) => {
    const timer = setInterval(() => sock.writable && sock.write(response), 200);
    return () => clearInterval(timer);
  });
  t.after(() => {
    empty.stop();
    dropped.stop();
  });
  await Promise.all([empty.ready, dropped.ready]);
  assert.equal(empty.open() + dropped.open(), 8);
  await assertLegitServed(s.port, 'empty frames and dropped messages');
  // The idle timeout is 1 s: by 2.5 s every one of them is closed.
  const closed = await eventually(() => empty.open() + dropped.open() === 0, 2500);
  assert.ok(closed, `${empty.open()} empty-frame and ${dropped.open()} dropped-message connections still open`);
});

test('slow loris: a query trickled a byte at a time is closed at the partial timeout', async (t) => {
  // Idle timeout 5 s, partial 300 ms: a close within 1.5 s is the partial timer's.
  const s = await serveWithCaps(t, ['--tcp-idle-timeout', '5s']);
  const lifetimes = [];
  const loris = holdConnections(s.port, ['127.0.0.2'], 4, (sock) => {
    const bytes = framed(buildQuery('example.com', 'SOA'));
    const at = Date.now();
    let i = 0;
    sock.write(bytes.subarray(i, ++i));
    const timer = setInterval(() => sock.writable && i < bytes.length - 1 && sock.write(bytes.subarray(i, ++i)), 100);
    return () => {
      clearInterval(timer);
      lifetimes.push(Date.now() - at);
    };
  }, { reconnect: true, maxConnects: 40 });
  t.after(() => loris.stop());
  await loris.ready;
  await assertLegitServed(s.port, 'slow loris');
  await eventually(() => lifetimes.length >= 8, 3000);
  assert.ok(lifetimes.length >= 8, `only ${lifetimes.length} trickling connections closed`);
  assert.ok(Math.max(...lifetimes) < 1500, `lifetimes ${lifetimes.join(', ')} ms`);
});

test('clients that never read: answers stop at the queue cap, others are served, the stuck ones closed', async (t) => {
  const mport = await freePort();
  const s = await serveWithCaps(t, ['--metrics', `127.0.0.1:${mport}`]);
  const ready = s.logs.find((l) => l.msg === 'serve: ready');
  const answered = () => metricValue(mport, 'tierdns_answers_total{rcode="NOERROR"}');
  const before = await answered();
  // 4 addresses x 4 connections, each pipelining 10,000 queries with ~1.1 KB answers (11 MB).
  const attack = attacks.nonreader(s.port, addresses(2, 4), 4, { queries: 10_000 });
  t.after(() => attack.stop());
  await attack.ready;
  await assertLegitServed(s.port, 'non-reading clients');
  assert.ok(await ask(s.port, 'example.com', 'SOA'), 'UDP answered too');
  // Wait until the server stops answering them.
  let last = -1;
  let now = await answered();
  for (let i = 0; i < 50 && now !== last; i++) {
    await sleep(200);
    [last, now] = [now, await answered()];
  }
  const perConnection = (now - before - 11) / 16;
  // Without TCP_NOTSENT_LOWAT (no native addon) the kernel's send buffer takes megabytes more.
  const bound = ready.tcp.kernelUnsentBytes ? 1000 : 5000;
  assert.ok(perConnection < bound, `${Math.round(perConnection)} answers per non-reading connection`);
  // Nothing answered for the idle timeout (1 s): the server closes them (the clients, not
  // reading, do not notice; the kernel does).
  assert.ok(await eventually(() => serverConnections(s.port) === 0, 3000), `${serverConnections(s.port)} non-reading connections still open`);
  assert.equal(await metricValue(mport, 'tierdns_tcp_closed_total{reason="idle"}'), 16);
  await assertLegitServed(s.port, 'after the non-readers');
});
