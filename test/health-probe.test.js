'use strict';
// Probes against real local servers for every kind (PRODUCT.md §5): healthy, wrong status,
// wrong Sec-WebSocket-Accept, malformed HTTP, refused, silent (timeout), slow within and past
// the timeout, https with a self-signed certificate, IPv6 loopback, source address.

require('./helpers/native-env');
const test = require('node:test');
const assert = require('node:assert/strict');
const { probe } = require('../dist/health/probe');
const { websocketAccept, hasCloseFrame } = require('../dist/health/httpProbe');
const b = require('./helpers/balancers');

function target(kind, server, over = {}) {
  return { ip: server.host, port: server.port, kind, path: '/healthz', expectMin: 200, expectMax: 399, timeoutMs: 1000, ...over };
}

async function waitFor(pred, ms = 1000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('none is always healthy without touching the network', async () => {
  assert.deepEqual(await probe({ ip: '127.0.0.1', port: 1, kind: 'none', path: '/', expectMin: 200, expectMax: 399, timeoutMs: 10 }), { ok: true, latencyMs: 0 });
});

test('tcp: connect succeeds, refused fails with ECONNREFUSED', async (t) => {
  const srv = await b.tcpBalancer(t, '127.0.0.2');
  const ok = await probe(target('tcp', srv));
  assert.equal(ok.ok, true);
  assert.ok(ok.latencyMs >= 0 && ok.latencyMs < 1000);
  const port = await b.closedPort('127.0.0.2');
  const bad = await probe(target('tcp', { host: '127.0.0.2', port }));
  assert.equal(bad.ok, false);
  assert.match(bad.error, /ECONNREFUSED/);
});

test('tcp: probes in flight together each get their own result, round after round', { timeout: 20_000 }, async (t) => {
  // Rounds reuse the native prober's slots (refused connects fail inside connect() and give
  // theirs back at once): a slot handed out twice would settle a probe with another's result,
  // or leave one unsettled (hence the timeout).
  const srv = await b.tcpBalancer(t, '127.0.0.2');
  const port = await b.closedPort('127.0.0.3');
  for (let round = 0; round < 3; round++) {
    const targets = Array.from({ length: 200 }, (_, i) => (i % 3 === round % 3 ? target('tcp', { host: '127.0.0.3', port }) : target('tcp', srv)));
    const results = await Promise.all(targets.map((tg) => probe(tg)));
    results.forEach((r, i) => {
      const refused = targets[i].ip === '127.0.0.3';
      assert.equal(r.ok, !refused, `round ${round}, probe ${i}`);
      if (refused) assert.equal(r.error, `connect ECONNREFUSED 127.0.0.3:${port}`);
    });
  }
});

test('tcp: a handshake that never completes times out at the timeout', async (t) => {
  const hung = await b.fullBacklogListener(t, '127.0.0.2');
  const started = Date.now();
  const r = await probe(target('tcp', hung, { timeoutMs: 200 }));
  const took = Date.now() - started;
  assert.equal(r.ok, false);
  assert.equal(r.error, 'timeout after 200ms');
  assert.ok(took >= 190 && took < 600, `took ${took} ms`);
  assert.ok(r.latencyMs <= 200);
});

test('tcp: the probe binds the source address and hangs up with a reset', async (t) => {
  const srv = await b.recordingTcpBalancer(t, '127.0.0.2');
  assert.equal((await probe(target('tcp', srv))).ok, true);
  assert.equal((await probe(target('tcp', srv, { localAddress: '127.0.0.3' }))).ok, true);
  await waitFor(() => srv.seen.length === 2 && srv.seen.every((c) => c.ended !== undefined));
  // RST, not FIN: the prober keeps no TIME_WAIT entry per probe. (The reset may beat the
  // balancer's accept, so its peer address is not always readable: the source is checked below.)
  assert.deepEqual(srv.seen.map((c) => c.ended), ['ECONNRESET', 'ECONNRESET']);
  // The source is really bound: an address this machine does not have cannot be.
  const foreign = await probe(target('tcp', srv, { localAddress: '192.0.2.1' }));
  assert.equal(foreign.ok, false);
  assert.match(foreign.error, /EADDRNOTAVAIL/);
  // A source of the other family cannot work: a failure, not a throw.
  const wrong = await probe(target('tcp', srv, { localAddress: '::1' }));
  assert.equal(wrong.ok, false);
  assert.ok(wrong.error);
});

test('tcp over IPv6 loopback', async (t) => {
  const srv = await b.tcpBalancer(t, '::1');
  assert.equal((await probe(target('tcp', srv))).ok, true);
});

test('http: status in range is healthy, Host and path are sent', async (t) => {
  const srv = await b.httpBalancer(t, { host: '127.0.0.2' });
  const r = await probe(target('http', srv));
  assert.equal(r.ok, true, r.error);
  assert.equal(srv.requests[0].url, '/healthz');
  assert.equal(srv.requests[0].headers.host, `127.0.0.2:${srv.port}`);
  await probe(target('http', srv, { host: 'ws.lb.example.com' }));
  assert.equal(srv.requests[1].headers.host, 'ws.lb.example.com');
});

test('http: a status outside the expected range fails; a custom range accepts it', async (t) => {
  const srv = await b.httpBalancer(t, { host: '127.0.0.2', status: 503 });
  const r = await probe(target('http', srv));
  assert.equal(r.ok, false);
  assert.equal(r.error, 'status 503 not in 200-399');
  assert.equal((await probe(target('http', srv, { expectMin: 500, expectMax: 503 }))).ok, true);
  const redirect = await b.httpBalancer(t, { host: '127.0.0.2', status: 302 });
  assert.equal((await probe(target('http', redirect))).ok, true);
  assert.equal((await probe(target('http', redirect, { expectMax: 299 }))).ok, false);
});

test('http: malformed answers fail', async (t) => {
  for (const raw of ['garbage\r\n\r\n', 'HTTP/1.1 abc OK\r\n\r\n', 'SSH-2.0-OpenSSH_9.6\r\n']) {
    const srv = await b.httpBalancer(t, { host: '127.0.0.2', raw });
    const r = await probe(target('http', srv));
    assert.equal(r.ok, false, raw);
    assert.ok(r.error, raw);
  }
});

test('http: a server that accepts and never answers times out, and the socket is destroyed', async (t) => {
  const srv = await b.silentBalancer(t, '127.0.0.2');
  for (const kind of ['http', 'https', 'ws']) {
    const started = Date.now();
    const r = await probe(target(kind, srv, { timeoutMs: 200 }));
    const took = Date.now() - started;
    assert.equal(r.ok, false, kind);
    assert.equal(r.error, 'timeout after 200ms', kind);
    assert.ok(took >= 190 && took < 600, `${kind} took ${took} ms`);
    assert.ok(r.latencyMs <= 200);
    // The server sees the probe's connection go away: nothing lingers past the timeout.
    await waitFor(() => srv.sockets.size === 0);
  }
});

test('http: slow server answering within the timeout is healthy, past it is not', async (t) => {
  const srv = await b.httpBalancer(t, { host: '127.0.0.2', delayMs: 150 });
  const within = await probe(target('http', srv, { timeoutMs: 600 }));
  assert.equal(within.ok, true, within.error);
  assert.ok(within.latencyMs >= 140, `latency ${within.latencyMs}`);
  const past = await probe(target('http', srv, { timeoutMs: 80 }));
  assert.equal(past.ok, false);
  assert.match(past.error, /timeout/);
});

test('http: refused', async () => {
  const port = await b.closedPort('127.0.0.2');
  const r = await probe(target('http', { host: '127.0.0.2', port }));
  assert.equal(r.ok, false);
  assert.match(r.error, /ECONNREFUSED/);
});

test('https: a self-signed certificate is accepted; SNI only for names; status checked', async (t) => {
  const cert = b.selfSignedCert(t);
  const srv = await b.httpsBalancer(t, { host: '127.0.0.2', cert });
  const r = await probe(target('https', srv));
  assert.equal(r.ok, true, r.error);
  assert.equal(srv.requests[0].servername, false);
  assert.equal((await probe(target('https', srv, { host: 'ws.lb.example.com' }))).ok, true);
  assert.equal(srv.requests[1].servername, 'ws.lb.example.com');
  const bad = await b.httpsBalancer(t, { host: '127.0.0.2', status: 500, cert });
  assert.equal((await probe(target('https', bad))).error, 'status 500 not in 200-399');
  // Plain HTTP spoken to a TLS prober is a failure, not a hang.
  const plain = await b.httpBalancer(t, { host: '127.0.0.2' });
  assert.equal((await probe(target('https', plain))).ok, false);
});

test('ws: 101 with the right accept is healthy, followed by a clean close', async (t) => {
  const srv = await b.wsBalancer(t, { host: '127.0.0.2' });
  const r = await probe(target('ws', srv, { path: '/ws' }));
  assert.equal(r.ok, true, r.error);
  assert.equal(srv.upgrades[0].url, '/ws');
  assert.equal(srv.upgrades[0].headers['sec-websocket-version'], '13');
  // The prober sent a masked close frame with status 1000.
  assert.equal(srv.closes.length, 1);
  assert.equal(srv.closes[0][0], 0x88);
  assert.equal(srv.closes[0][1] & 0x80, 0x80);
  await waitFor(() => srv.sockets.size === 0);
});

test('ws: wrong Sec-WebSocket-Accept fails', async (t) => {
  const srv = await b.wsBalancer(t, { host: '127.0.0.2', accept: () => websocketAccept('not-the-key') });
  const r = await probe(target('ws', srv));
  assert.equal(r.ok, false);
  assert.equal(r.error, 'wrong Sec-WebSocket-Accept');
});

test('ws: a plain HTTP answer instead of 101 fails', async (t) => {
  for (const status of [200, 426]) {
    const srv = await b.wsBalancer(t, { host: '127.0.0.2', status });
    const r = await probe(target('ws', srv));
    assert.equal(r.ok, false);
    assert.equal(r.error, `status ${status}, expected 101`);
  }
  // A plain web server that ignores Upgrade answers 200 too.
  const web = await b.httpBalancer(t, { host: '127.0.0.2' });
  assert.equal((await probe(target('ws', web))).error, 'status 200, expected 101');
});

test('ws: a server that never answers the close frame is still healthy, settled by the timeout', async (t) => {
  const srv = await b.wsBalancer(t, { host: '127.0.0.2', closeReply: false });
  const started = Date.now();
  const r = await probe(target('ws', srv, { timeoutMs: 300 }));
  assert.equal(r.ok, true);
  assert.ok(r.latencyMs < 300);
  assert.ok(Date.now() - started >= 290);
  await waitFor(() => srv.sockets.size === 0);
});

test('ws: refused, and the demo balancer from scripts/ is healthy', async (t) => {
  const port = await b.closedPort('127.0.0.2');
  assert.match((await probe(target('ws', { host: '127.0.0.2', port }))).error, /ECONNREFUSED/);
  const demo = await b.demoBalancer(t, { host: '127.0.0.2' });
  assert.equal((await probe(target('ws', demo))).ok, true);
});

test('localAddress: probes leave from the source address; a balancer refusing it fails them', async (t) => {
  const srv = await b.httpBalancer(t, { host: '127.0.0.2' });
  await probe(target('http', srv, { localAddress: '127.0.0.3' }));
  assert.equal(srv.requests[0].remoteAddress, '127.0.0.3');
  const demo = await b.demoBalancer(t, { host: '127.0.0.2', refuseFrom: ['127.0.0.3'] });
  assert.equal((await probe(target('ws', demo))).ok, true);
  assert.equal((await probe(target('ws', demo, { localAddress: '127.0.0.3' }))).ok, false);
  assert.equal((await probe(target('tcp', srv, { localAddress: 'not-an-ip' }))).ok, false);
});

test('hasCloseFrame skips data frames and needs only the close header', () => {
  const text = Buffer.concat([Buffer.from([0x81, 0x05]), Buffer.from('hello')]);
  const close = Buffer.from([0x88, 0x02, 0x03, 0xe8]);
  assert.equal(hasCloseFrame(text), false);
  assert.equal(hasCloseFrame(Buffer.concat([text, close])), true);
  assert.equal(hasCloseFrame(Buffer.concat([text, close.subarray(0, 1)])), false);
  const big = Buffer.concat([Buffer.from([0x82, 126, 0x01, 0x00]), Buffer.alloc(256), close]);
  assert.equal(hasCloseFrame(big), true);
});
