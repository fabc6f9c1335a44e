'use strict';
// RFC 7766 behaviour: idle timeout that really closes, connection cap, queued-bytes cap.
require('./helpers/native-env');
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { buildQuery, startDns, tcpExchange, decode } = require('./helpers/dns');
const ZONE = require('./fixtures/example.zone');

const limits = { idleMs: 300, maxConnections: 5, maxQueuedBytes: 4096 };

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}
const closed = (s) => new Promise((resolve) => s.on('close', resolve));

test('an idle connection is closed by the server', async (t) => {
  const s = await startDns(t, { zones: { 'example.com': ZONE }, tcpLimits: limits });
  const sock = await connect(s.port);
  const at = Date.now();
  await closed(sock);
  assert.ok(Date.now() - at >= 250);
});

test('a client trickling bytes without completing a query is closed too', async (t) => {
  const s = await startDns(t, { zones: { 'example.com': ZONE }, tcpLimits: limits });
  const sock = await connect(s.port);
  const q = buildQuery('example.com', 'SOA');
  const framed = Buffer.concat([Buffer.from([0, q.length]), q]);
  let i = 0;
  const drip = setInterval(() => i < framed.length - 1 && sock.write(framed.subarray(i, ++i)), 50);
  await closed(sock);
  clearInterval(drip);
  assert.ok(i < framed.length);
});

test('a connection that keeps querying stays open past the idle timeout', async (t) => {
  const s = await startDns(t, { zones: { 'example.com': ZONE }, tcpLimits: limits });
  const sock = await connect(s.port);
  let answers = 0;
  sock.on('data', () => answers++);
  const q = buildQuery('example.com', 'SOA');
  for (let i = 0; i < 6; i++) {
    sock.write(Buffer.concat([Buffer.from([0, q.length]), q]));
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.equal(sock.destroyed, false);
  assert.ok(answers >= 5);
  sock.destroy();
});

test('connections beyond the cap are refused while others are served', async (t) => {
  const s = await startDns(t, { zones: { 'example.com': ZONE }, tcpLimits: { ...limits, idleMs: 5000 } });
  const held = [];
  for (let i = 0; i < 5; i++) held.push(await connect(s.port));
  t.after(() => held.forEach((h) => h.destroy()));
  await new Promise((r) => setTimeout(r, 50));
  const extra = await connect(s.port).catch(() => null);
  if (extra) await closed(extra); // accepted by the kernel, closed at once by the server
  held[0].destroy();
  await new Promise((r) => setTimeout(r, 50));
  const [buf] = await tcpExchange(s.port, [buildQuery('example.com', 'SOA')]);
  assert.equal(decode(buf).rcode, 0);
});

test('a client that never reads its answers is paused, not buffered without bound', async (t) => {
  const s = await startDns(t, { zones: { 'example.com': ZONE }, tcpLimits: { ...limits, idleMs: 1000 } });
  const sock = await connect(s.port);
  sock.pause();
  const q = buildQuery('big.example.com', 'TXT');
  const framed = Buffer.concat([Buffer.from([0, q.length]), q]);
  const many = Buffer.concat(Array(20000).fill(framed));
  sock.write(many);
  await new Promise((r) => setTimeout(r, 300));
  // The server has stopped reading: most of what we sent is still in our send buffer or theirs.
  assert.ok(s.server.handler.stats.byRcode[0] < 20000, `answered ${s.server.handler.stats.byRcode[0]}`);
  // Reading again, the client finds the connection closed by the idle timer.
  const done = closed(sock);
  sock.on('error', () => undefined);
  sock.resume();
  await done;
  assert.ok(s.server.handler.stats.byRcode[0] < 20000);
});
