'use strict';
// The UDP socket layer, whichever path DnsServer picked (the native batching addon, or dgram
// with TIERDNS_NATIVE=0 or where the addon is not built; dns-native.test.js re-runs this file
// on the other path): many clients in one batch, IPv6, bind errors, close, SERVFAIL on throw.
require('./helpers/native-env');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const { Snapshot } = require('../dist/dns/snapshot');
const { DnsServer } = require('../dist/server/dnsServer');
const { parseZone } = require('../dist/zone/parse');
const { buildQuery, decode, ask, startDns, poolView, silent } = require('./helpers/dns');

const ZONE = `$ORIGIN example.com.
$TTL 300
@ IN SOA ns1 host 1 3600 600 86400 60
@ IN NS ns1
ns1 IN A 192.0.2.53
`;
const zones = { 'example.com': ZONE };
const pools = [poolView('ws.example.com', [['192.0.2.1'], ['192.0.2.2'], ['192.0.2.3'], ['192.0.2.4']])];

function snapshotOf() {
  const snap = new Snapshot();
  snap.setZones([parseZone(ZONE, { file: 'example.com.zone', origin: 'example.com' }).zone]);
  for (const view of pools) snap.setPool(view.config.name, view);
  return snap;
}

function bindUdp(type, host) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(type);
    sock.once('error', reject);
    sock.bind(0, host, () => resolve(sock));
  });
}

test(`udp (${process.env.TIERDNS_NATIVE === '0' ? 'dgram forced' : 'default path'}): bursts from many clients are answered, each ID to its own client`, async (t) => {
  const s = await startDns(t, { zones, pools });
  const clients = await Promise.all(Array.from({ length: 8 }, () => bindUdp('udp4', '127.0.0.1')));
  t.after(() => clients.forEach((c) => c.close()));
  const got = clients.map(() => new Set());
  let waiting;
  clients.forEach((c, ci) => c.on('message', (buf) => {
    const r = decode(buf);
    assert.equal(r.rcode, 0);
    assert.equal(r.answers.length, 4);
    assert.equal(Math.floor(r.id / 1000), ci, `client ${ci} got another client's answer ${r.id}`);
    got[ci].add(r.id);
    waiting?.();
  }));
  // Rounds of 48 queries sent without waiting, interleaved across clients (the native path
  // reads them in batches mixing clients); small enough for the default socket buffers.
  const perRound = 6;
  for (let round = 0; round < 8; round++) {
    for (let k = 0; k < perRound; k++) {
      clients.forEach((c, ci) => c.send(buildQuery('ws.example.com', 'A', { id: ci * 1000 + round * perRound + k }), s.port, '127.0.0.1'));
    }
    const want = (round + 1) * perRound;
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 2000);
      waiting = () => {
        if (got.every((ids) => ids.size >= want)) {
          clearTimeout(timer);
          resolve();
        }
      };
      waiting();
    });
    got.forEach((ids, ci) => assert.equal(ids.size, want, `client ${ci}: ${ids.size} of ${want} answers after round ${round}`));
  }
});

test('udp: answers over IPv6 on ::1', async (t) => {
  // serve listens on IPv6 too (the §3 contract): a machine without ::1 cannot show it works.
  const probe = await bindUdp('udp6', '::1').catch((err) => assert.fail(`no IPv6 loopback (::1) to test on: ${err.message}`));
  probe.close();
  const server = new DnsServer(snapshotOf(), silent);
  t.after(() => server.close(0));
  const [bound] = await server.listen([{ host: '::1', port: 0 }]);
  const r = await ask(bound.port, 'ws.example.com', 'A', { host: '::1' });
  assert.equal(r.rcode, 0);
  assert.equal(r.answers.length, 4);
});

test('udp: a port another server holds is TIERDNS_E_BIND; close frees the port', async (t) => {
  const first = new DnsServer(snapshotOf(), silent);
  const [bound] = await first.listen([{ host: '127.0.0.1', port: 0 }]);
  const second = new DnsServer(snapshotOf(), silent);
  t.after(() => second.close(0));
  await assert.rejects(second.listen([{ host: '127.0.0.1', port: bound.port }]), (err) => {
    assert.equal(err.code, 'TIERDNS_E_BIND');
    assert.match(err.message, /EADDRINUSE/);
    return true;
  });
  await first.close(0);
  assert.equal(await ask(bound.port, 'ws.example.com', 'A', { timeoutMs: 200 }), null, 'a closed server does not answer');
  const [again] = await second.listen([{ host: '127.0.0.1', port: bound.port }]);
  assert.equal(again.port, bound.port);
  assert.equal((await ask(again.port, 'ws.example.com', 'A')).answers.length, 4);
});

test('udp: a throw in the answer logic becomes SERVFAIL and the server keeps answering', async (t) => {
  const snap = snapshotOf();
  let broken = true;
  // The handler reads the snapshot per query: make pool lookups throw while `broken`.
  const proxy = new Proxy(snap, {
    get(target, prop) {
      if (prop === 'pools' && broken) throw new Error('injected failure');
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const server = new DnsServer(proxy, silent);
  t.after(() => server.close(0));
  const [bound] = await server.listen([{ host: '127.0.0.1', port: 0 }]);
  const r = await ask(bound.port, 'ws.example.com', 'A', { id: 0x4242 });
  assert.equal(r.rcode, 2);
  assert.equal(r.id, 0x4242);
  assert.equal(server.handler.stats.failures, 1);
  broken = false;
  assert.equal((await ask(bound.port, 'ws.example.com', 'A')).answers.length, 4);
});

test('udp: runts and responses (QR=1) are dropped without an answer, and the next query is answered', async (t) => {
  const s = await startDns(t, { zones, pools });
  const client = await bindUdp('udp4', '127.0.0.1');
  t.after(() => client.close());
  const answers = [];
  client.on('message', (buf) => answers.push(decode(buf).id));
  const response = buildQuery('ws.example.com', 'A', { id: 7 });
  response[2] |= 0x80;
  for (const junk of [Buffer.alloc(0), Buffer.alloc(5), response]) client.send(junk, s.port, '127.0.0.1');
  client.send(buildQuery('ws.example.com', 'A', { id: 8 }), s.port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(answers, [8]);
});

test('the UDP socket asks for a 1 MiB receive buffer (capped by net.core.rmem_max), so a pause does not drop a burst', async (t) => {
  const server = new DnsServer(snapshotOf(), silent);
  await server.listen([{ host: '127.0.0.1', port: 0 }]);
  t.after(() => server.close());
  const rmemMax = Number(require('node:fs').readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  const [bytes] = server.udpRecvBufferBytes();
  // Linux reports twice what it granted (the other half is its bookkeeping).
  assert.equal(bytes, 2 * Math.min(1 << 20, rmemMax), `${server.udpImplementation}: ${bytes}`);
});
