'use strict';
// Thousands of random and mutated packets over UDP and TCP; afterwards the server must still
// answer correctly. Seeded, so a failure reproduces.
require('./helpers/native-env');
const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const net = require('node:net');
const { ask, buildQuery, startDns, poolView, tcpExchange, decode } = require('./helpers/dns');
const ZONE = require('./fixtures/example.zone');

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

function corpus(rand, n) {
  const seeds = [
    buildQuery('ws.example.com', 'A', { edns: { udp: 4096, options: [{ code: 10, data: Buffer.alloc(8) }] } }),
    buildQuery('www.example.com', 'A'),
    buildQuery('child.example.com', 'NS', { edns: {} }),
    buildQuery('big.example.com', 'TXT'),
    buildQuery('x.wild.example.com', 'ANY'),
    buildQuery('a.dn.example.com', 'A'),
  ];
  const out = [];
  for (let i = 0; i < n; i++) {
    const kind = rand();
    if (kind < 0.2) {
      const b = Buffer.alloc(Math.floor(rand() * 80));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
      if (b.length > 2) b[2] &= 0x7f; // mostly queries, so they are not all dropped at the first check
      out.push(b);
    } else {
      const b = Buffer.from(seeds[Math.floor(rand() * seeds.length)]);
      const flips = 1 + Math.floor(rand() * 6);
      for (let j = 0; j < flips; j++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.3 ? Math.floor(rand() * b.length) : b.length;
      out.push(b.subarray(0, cut));
    }
  }
  return out;
}

test('fuzz: random and mutated packets over UDP never crash or stall the server', async (t) => {
  const s = await startDns(t, { zones: { 'example.com': ZONE }, pools: [poolView('ws.example.com', [['127.0.1.1'], ['::1']])] });
  const rand = rng(0x5eed);
  const packets = corpus(rand, 5000);
  const sock = dgram.createSocket('udp4');
  let answered = 0;
  sock.on('message', () => answered++);
  for (let i = 0; i < packets.length; i++) {
    sock.send(packets[i], s.port, '127.0.0.1');
    if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 300));
  sock.close();
  assert.ok(answered > 1000, `answered ${answered}`);
  assert.equal(s.server.handler.stats.failures, 0, 'no answer threw');
  const r = await ask(s.port, 'ws.example.com', 'A');
  assert.equal(r.rcode, 0);
  assert.equal(r.answers.length, 1);
});

test('fuzz: mutated streams over TCP never crash or stall the server', async (t) => {
  const s = await startDns(t, { zones: { 'example.com': ZONE }, tcpLimits: { idleMs: 300, maxConnections: 100, maxQueuedBytes: 65536 } });
  const rand = rng(0xf00d);
  const packets = corpus(rand, 2000);
  const conns = [];
  for (let c = 0; c < 20; c++) {
    conns.push(
      new Promise((resolve) => {
        const sock = net.connect(s.port, '127.0.0.1', () => {
          for (let i = c; i < packets.length; i += 20) {
            const p = packets[i];
            const len = Buffer.alloc(2);
            // Sometimes lie about the length, to desynchronise the framing.
            len.writeUInt16BE(rand() < 0.05 ? Math.floor(rand() * 65536) : p.length);
            sock.write(Buffer.concat([len, p]));
          }
        });
        sock.on('data', () => undefined);
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
      }),
    );
  }
  await Promise.all(conns); // every connection ends, by the idle timer at the latest
  assert.equal(s.server.handler.stats.failures, 0);
  const [buf] = await tcpExchange(s.port, [buildQuery('example.com', 'SOA')]);
  assert.equal(decode(buf).rcode, 0);
  assert.equal((await ask(s.port, 'example.com', 'SOA')).answers.length, 1);
});
