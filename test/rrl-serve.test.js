'use strict';
// Response rate limiting against the real `tierdns serve` (docs/rrl.md): a flood of large
// answers from 127.0.0.2 is cut to the rate plus truncated slips (amplification near 1x)
// while another /24 is answered throughout, slips send dig to TCP, and both counters show
// in /metrics. The bucket logic itself is in rrl.test.js.
const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { promisify } = require('node:util');
const execFile = promisify(require('node:child_process').execFile);
const { httpGet } = require('./helpers/http');
const { buildQuery, decode } = require('./helpers/dns');
const { tempDir, startServe } = require('./helpers/serve');

// Four 250-byte strings: a ~1,060-byte answer to a ~45-byte query.
const ZONE = `$ORIGIN t.example.
$TTL 60
@ SOA ns1 h 1 2 3 4 30
@ NS ns1
ns1 A 127.0.0.1
big TXT "${'a'.repeat(250)}" "${'b'.repeat(250)}" "${'c'.repeat(250)}" "${'d'.repeat(250)}"
`;

function setup(t) {
  const dir = tempDir(t);
  const zones = path.join(dir, 'zones');
  fs.mkdirSync(zones);
  fs.writeFileSync(path.join(zones, 't.example.zone'), ZONE);
  return { zones, store: `file:${path.join(dir, 'store.json')}` };
}

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.on('listening', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** A UDP client bound to `source` that counts what it sends and receives. */
async function client(t, source, port, host = '127.0.0.1') {
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, source, resolve);
  });
  t.after(() => sock.close());
  const seen = { sent: 0, bytesOut: 0, bytesIn: 0, full: 0, slips: 0, other: 0 };
  sock.on('message', (buf) => {
    seen.bytesIn += buf.length;
    const r = decode(buf);
    if (r.tc && r.answers.length === 0) seen.slips++;
    else if (r.answers.length === 1 && r.raw.length > 1000) seen.full++;
    else seen.other++;
  });
  const send = (id) => {
    const q = buildQuery('big.t.example', 'TXT', { id, edns: { udp: 1232 } });
    seen.sent++;
    seen.bytesOut += q.length;
    sock.send(q, port, host);
  };
  return { seen, send };
}

function metrics(port) {
  return httpGet(port, '/metrics');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a flood from 127.0.0.2 gets the rate plus TC=1 slips; 127.1.0.1 is answered throughout; counters in /metrics', async (t) => {
  const { zones, store } = setup(t);
  const mport = await freePort();
  const rate = 2;
  const s = await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`,
    '--rrl-rate', String(rate), '--rrl-slip', '2', '--rrl-exempt', 'none']);
  const attacker = await client(t, '127.0.0.2', s.port);
  const legit = await client(t, '127.1.0.1', s.port);
  const started = Date.now();
  // 600 queries in 15 bursts of 40, 100 ms apart (400/s), with one legitimate query every 400 ms.
  for (let burst = 0; burst < 15; burst++) {
    for (let i = 0; i < 40; i++) attacker.send(burst * 40 + i);
    if (burst % 4 === 0) legit.send(burst);
    await sleep(100);
  }
  for (let i = 0; i < 50 && attacker.seen.full + attacker.seen.slips < 250; i++) await sleep(20);
  await sleep(200);
  const seconds = (Date.now() - started) / 1000;
  const a = attacker.seen;
  assert.equal(a.other, 0);
  assert.ok(a.full >= rate && a.full <= rate * (seconds + 1) + 1, `full answers ${a.full} in ${seconds} s at ${rate}/s`);
  const limitedCount = a.sent - a.full;
  // Every 2nd limited answer slips (per bucket; one bucket here).
  assert.ok(Math.abs(a.slips - limitedCount / 2) <= 1, `${a.slips} slips of ${limitedCount} limited`);
  const amplification = a.bytesIn / a.bytesOut;
  t.diagnostic(`${a.sent} queries in ${seconds} s: ${a.full} answers, ${a.slips} slips, amplification ${amplification.toFixed(2)}x`);
  assert.ok(amplification < 1.2, `amplification ${amplification.toFixed(2)}x`);
  assert.deepEqual({ full: legit.seen.full, slips: legit.seen.slips }, { full: legit.seen.sent, slips: 0 }, 'the other /24 is not limited');

  const body = await metrics(mport);
  const value = (name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(body)?.[1]);
  assert.equal(value('tierdns_rrl_slipped_total'), a.slips);
  assert.equal(value('tierdns_rrl_dropped_total'), limitedCount - a.slips);
});

test('--workers 2: a flood from many source ports meets the rate once, not once per worker', async (t) => {
  const { zones, store } = setup(t);
  const port = await freePort();
  const rate = 10;
  const s = await startServe(t, ['--zones', zones, '--store', store, '--workers', '2', '--listen', `127.0.0.1:${port}`,
    '--rrl-rate', String(rate), '--rrl-slip', '0', '--rrl-exempt', 'none']);
  for (let i = 0; i < 50 && new Set(s.logs.filter((l) => l.msg === 'serve: ready').map((l) => l.pid)).size < 2; i++) await sleep(100);
  // 40 sockets (source ports) on 127.0.0.2, the kernel spreading them over both workers.
  const clients = [];
  for (let i = 0; i < 40; i++) clients.push(await client(t, '127.0.0.2', port));
  const started = Date.now();
  for (let round = 0; round < 5; round++) for (const [i, c] of clients.entries()) c.send(round * 40 + i);
  await sleep(300);
  const seconds = (Date.now() - started) / 1000;
  const full = clients.reduce((n, c) => n + c.seen.full, 0);
  t.diagnostic(`200 queries from 40 ports in ${seconds} s: ${full} answered`);
  assert.ok(full >= rate / 2, `only ${full} answered`);
  assert.ok(full <= rate * (1 + seconds) + 1, `${full} answered in ${seconds} s at ${rate}/s: each worker gave the whole rate`);
});

test('a limited client that gets a slip retries over TCP and is answered (dig), and TCP is never limited', async (t) => {
  const { zones, store } = setup(t);
  const s = await startServe(t, ['--zones', zones, '--store', store, '--rrl-rate', '1', '--rrl-slip', '1', '--rrl-exempt', 'none']);
  const dig = async (...args) => (await execFile('dig', ['-b', '127.0.0.2', '@127.0.0.1', '-p', String(s.port), '+time=2', '+tries=1', 'big.t.example', 'TXT', ...args])).stdout;
  // The first answer uses the one token a second; the next query within the second slips.
  assert.match(await dig(), /ANSWER: 1,/);
  const retried = await dig();
  assert.match(retried, /Truncated, retrying in TCP mode/);
  assert.match(retried, /ANSWER: 1,/);
  for (let i = 0; i < 5; i++) assert.match(await dig('+tcp'), /ANSWER: 1,/);
});

for (const native of ['1', '0']) {
  const path_ = native === '1' ? 'native addon' : 'dgram';
  test(`exemptions see the real source address (${path_}): loopback by default, IPv4 and IPv6`, async (t) => {
    const { zones, store } = setup(t);
    const env = { TIERDNS_NATIVE: native };
    const listen = ['--listen', '127.0.0.1:0', '--listen', '[::1]:0'];
    const flood = async (s, host, source) => {
      const c = await client(t, source, s.logs.find((l) => l.msg === 'serve: ready').listen[host === '::1' ? 1 : 0].port, host);
      for (let i = 0; i < 20; i++) c.send(i);
      for (let i = 0; i < 100 && c.seen.full + c.seen.slips < 20; i++) await sleep(20);
      await sleep(100);
      return c.seen.full;
    };
    const byDefault = await startServe(t, ['--zones', zones, '--store', store, '--rrl-rate', '1', ...listen], { env });
    assert.equal(await flood(byDefault, '127.0.0.1', '127.0.0.2'), 20, '127.0.0.2 is in 127.0.0.0/8');
    assert.equal(await flood(byDefault, '::1', '::1'), 20, '::1 is exempt');
    const onlyOne = await startServe(t, ['--zones', zones, '--store', store, '--rrl-rate', '1', '--rrl-exempt', '127.0.0.2,::2', ...listen], { env });
    assert.equal(await flood(onlyOne, '127.0.0.1', '127.0.0.2'), 20);
    assert.equal(await flood(onlyOne, '127.0.0.1', '127.0.0.3'), 1, '127.0.0.3 is limited');
    assert.equal(await flood(onlyOne, '::1', '::1'), 1, '::1 is limited');
  });
}
