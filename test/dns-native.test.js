'use strict';
// The native addon (docs/native.md): DnsServer picks its UDP path and the health loop its tcp
// prober when it is built, the DNS and probe suites pass on both paths, and the addon checks
// what JS hands it. Where the addon cannot
// build, these assert that the pure-Node fallback is in use and say so.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Snapshot } = require('../dist/dns/snapshot');
const { DnsServer } = require('../dist/server/dnsServer');
const { QueryHandler } = require('../dist/dns/handler');
const { BatchUdpServer } = require('../dist/dns/batchUdpServer');
const { NATIVE_ADDON_PATH, nativeUdp, useNativeAddon } = require('../dist/util/native');
const { tcpProbeImplementation } = require('../dist/health/probe');
const { agentReadImplementation } = require('../dist/health/loadFeed');
const { buildQuery, decode, udpExchange, silent } = require('./helpers/dns');

const BUILT = fs.existsSync(NATIVE_ADDON_PATH);
// Without the addon only the pure-Node path can be tested: that must be a choice
// (TIERDNS_NATIVE=0 npm ci / npm test), not something a missing compiler does quietly.
const CHOSE_PURE = process.env.TIERDNS_NATIVE === '0';
// The suites that answer over UDP or probe over tcp; dns-native re-runs them on the path this
// run did not use.
const SUITES = ['dns-protocol', 'dns-fuzz', 'dns-tcp', 'pool-answers', 'dns-udp', 'health-probe'].map((n) => `test/${n}.test.js`);

/** Run fn with the native addon turned on (value undefined) or off ('0'), as TIERDNS_NATIVE does for serve. */
function withEnv(value, fn) {
  useNativeAddon(value !== '0');
  try {
    return fn();
  } finally {
    useNativeAddon(process.env.TIERDNS_NATIVE !== '0');
  }
}

test('the native addon is built here, unless TIERDNS_NATIVE=0 chose the pure-Node path', () => {
  assert.ok(BUILT || CHOSE_PURE, `${NATIVE_ADDON_PATH} is missing: npm ci builds it with node-gyp, which needs python3, `
    + 'make and a C compiler (apt-get install python3 make g++); or test only the pure-Node path with TIERDNS_NATIVE=0');
});

test('DnsServer answers UDP natively when the addon is built, with dgram otherwise or when TIERDNS_NATIVE=0', () => {
  assert.equal(withEnv(undefined, () => new DnsServer(new Snapshot(), silent).udpImplementation), BUILT ? 'native' : 'node');
  assert.equal(withEnv('0', () => new DnsServer(new Snapshot(), silent).udpImplementation), 'node');
});

test('tcp checks run on the native prober when the addon is built, on net.connect otherwise or when TIERDNS_NATIVE=0', () => {
  assert.equal(withEnv(undefined, () => tcpProbeImplementation()), BUILT ? 'native' : 'node');
  assert.equal(withEnv('0', () => tcpProbeImplementation()), 'node');
});

test('agent feeds are read by the native prober when the addon is built, through net otherwise or when TIERDNS_NATIVE=0', () => {
  assert.equal(withEnv(undefined, () => agentReadImplementation()), BUILT ? 'native' : 'node');
  assert.equal(withEnv('0', () => agentReadImplementation()), 'node');
});

// The rest needs the addon (the test above fails when it is missing without TIERDNS_NATIVE=0).
if (BUILT) {
  test('the UDP and tcp-probe suites pass on the other path too', { timeout: 180_000 }, () => {
    // This run used the native path unless TIERDNS_NATIVE=0: run them again on the other one.
    const other = process.env.TIERDNS_NATIVE === '0' ? '1' : '0';
    // Without NODE_TEST_CONTEXT the child is a test run of its own, not a subtest stream.
    const { NODE_TEST_CONTEXT, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...SUITES], {
      cwd: path.join(__dirname, '..'),
      env: { ...env, TIERDNS_NATIVE: other },
      encoding: 'utf8',
      timeout: 170_000,
    });
    const summary = /# pass (\d+)[\s\S]*# fail (\d+)/.exec(r.stdout);
    assert.equal(r.status, 0, `TIERDNS_NATIVE=${other} ${SUITES.join(' ')} failed:\n${r.stdout.slice(-4000)}${r.stderr.slice(-2000)}`);
    assert.ok(summary && Number(summary[1]) > 40 && summary[2] === '0', r.stdout.slice(-1000));
  });

  // The addon itself, even when TIERDNS_NATIVE=0 keeps DnsServer on dgram.
  const addon = withEnv(undefined, () => nativeUdp().addon);

  function client() {
    return new Promise((resolve) => {
      const sock = dgram.createSocket('udp4');
      sock.bind(0, '127.0.0.1', () => resolve(sock));
    });
  }

  function nextMessage(sock, timeoutMs = 300) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      sock.once('message', (buf) => {
        clearTimeout(timer);
        resolve(buf);
      });
    });
  }

  test('native prober: bad arguments throw, bad addresses are EINVAL at once, inFlight counts open probes', async (t) => {
    const { EINVAL } = require('node:os').constants.errno;
    assert.throws(() => new addon.TcpProber(), /a function expected/);
    const results = [];
    const prober = new addon.TcpProber((id, err) => results.push([id, err]));
    assert.throws(() => prober.connect('x', '127.0.0.1', 80, '', 100), /expected/);
    assert.equal(prober.connect(1, 'not-an-ip', 80, '', 100), EINVAL);
    assert.equal(prober.connect(2, '127.0.0.1', 0, '', 100), EINVAL);
    assert.equal(prober.connect(3, '127.0.0.1', 80, '::1', 100), EINVAL, 'source of the other family');
    const hung = await require('./helpers/balancers').fullBacklogListener(t, '127.0.0.2');
    assert.equal(prober.connect(4, hung.host, hung.port, '', 100), 0);
    assert.equal(prober.inFlight(), 1);
    for (let i = 0; i < 100 && results.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(results, [[4, -1]], 'only the started probe reports, as timed out');
    assert.equal(prober.inFlight(), 0);
  });

  test('native agent reads: arguments checked; a started read reports once, with its line', async (t) => {
    const { EINVAL } = require('node:os').constants.errno;
    const results = [];
    const prober = new addon.TcpProber((...args) => results.push(args));
    assert.throws(() => prober.readLine(1, '127.0.0.1', 80, '', 100), /expected/, 'maxLine missing');
    assert.throws(() => prober.readLine(1, '127.0.0.1', 80, '', 100, 0), /maxLine must be 1\.\.65535/);
    assert.throws(() => prober.readLine(1, '127.0.0.1', 80, '', 100, 65536), /maxLine must be 1\.\.65535/);
    assert.equal(prober.readLine(2, 'not-an-ip', 80, '', 100, 16), EINVAL);
    const agent = await require('./helpers/loadFeeds').agentFeed(t, { host: '127.0.0.2', reply: Buffer.from('ab\u0000\u00ff\r\nrest', 'latin1') });
    assert.equal(prober.readLine(3, agent.host, agent.port, '', 1000, 16), 0);
    for (let i = 0; i < 100 && results.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    // maxLine bytes, then one more, without a CR or LF: -3 (no line).
    agent.reply = 'x'.repeat(17);
    assert.equal(prober.readLine(4, agent.host, agent.port, '', 1000, 16), 0);
    for (let i = 0; i < 100 && results.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(results.map(([id, err, , line]) => [id, err, line]), [[3, 0, 'ab\u0000\u00ff'], [4, -3, undefined]]);
    assert.equal(prober.inFlight(), 0);
  });

  test('native prober: a handshake that completed while the loop was held up counts as connected, not as a timeout', async (t) => {
    const up = await require('./helpers/balancers').tcpBalancer(t, '127.0.0.2');
    const results = [];
    const prober = new addon.TcpProber((id, err) => results.push([id, err]));
    assert.equal(prober.connect(1, up.host, up.port, '', 50), 0);
    // Hold the loop past the deadline, as a long GC pause or a starved thread would; the
    // kernel completes the handshake meanwhile.
    const until = Date.now() + 250;
    while (Date.now() < until) { /* busy */ }
    for (let i = 0; i < 100 && results.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(results, [[1, 0]]);
  });

  test('native prober on worker threads: exits and terminations with probes open or settled end cleanly', async (t) => {
    const hung = await require('./helpers/balancers').fullBacklogListener(t, '127.0.0.2');
    // Run by each worker, HOW being idle | open | settled | terminate.
    const worker = `
      const { parentPort, workerData: how } = require('node:worker_threads');
      const addon = require(${JSON.stringify(require.resolve('../build/Release/udp_batch.node'))});
      const p = new addon.TcpProber(() => { if (how === 'settled') process.exit(0); });
      if (how !== 'idle') p.connect(1, ${JSON.stringify(hung.host)}, ${hung.port}, '', 5000);
      // An agent read open at the end too (a probe with a line buffer).
      if (how === 'open' || how === 'terminate') p.readLine(3, ${JSON.stringify(hung.host)}, ${hung.port}, '', 5000, 1024);
      if (how === 'open') process.exit(0);
      if (how === 'settled') p.connect(2, '127.0.0.1', 1, '', 5000);
      parentPort.postMessage('ready');`;
    // In a child process that loads the addon only on its workers: the addon is unloaded at
    // each worker's teardown, so a libuv close callback left behind would crash the process.
    const child = `
      const { Worker } = require('node:worker_threads');
      (async () => {
        for (const how of ['idle', 'open', 'settled', 'terminate']) {
          const w = new Worker(${JSON.stringify(worker)}, { eval: true, workerData: how });
          if (how === 'terminate') w.once('message', () => w.terminate());
          console.log(how, await new Promise((r) => w.on('exit', r)));
        }
      })();`;
    const { spawnSync } = require('node:child_process');
    const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr}`);
    assert.deepEqual(r.stdout.trim().split('\n'), ['idle 0', 'open 0', 'settled 0', 'terminate 1']);
  });

  test('native: a 5 KB query is answered (RFC 8906 §3.1), like dgram answers it', async (t) => {
    const handler = new QueryHandler(() => new Snapshot(), silent);
    const server = new BatchUdpServer(handler, silent, addon);
    const port = await server.listen('127.0.0.1', 0);
    t.after(() => server.close());
    const big = Buffer.concat([buildQuery('example.com', 'SOA'), Buffer.alloc(5000)]);
    // No zones: REFUSED, but answered.
    assert.equal(decode(await udpExchange(port, big)).rcode, 5);
    assert.equal(server.stats().truncated, 0);
  });

  test('native addon: datagrams longer than a slot reach JS as empty and are counted; the socket keeps reading', async (t) => {
    const socket = new addon.UdpBatchSocket(4, 512, 8192);
    const port = socket.bind('127.0.0.1', 0, false);
    const meta = new Uint32Array(socket.meta);
    const lengths = [];
    socket.start((count) => {
      for (let i = 0; i < count; i++) lengths.push(meta[i]);
      return 0;
    });
    t.after(() => new Promise((resolve) => { if (!socket.close(resolve)) resolve(); }));
    const client = dgram.createSocket('udp4');
    t.after(() => client.close());
    const send = (n) => new Promise((resolve, reject) => client.send(Buffer.alloc(n, 1), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    await send(1000);
    await send(100);
    for (let i = 0; i < 100 && lengths.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(lengths, [0, 100]);
    const st = socket.stats();
    assert.equal(st.truncated, 1);
    assert.equal(st.received, 2);
  });

  test('native: an unparsable host or a bad port is TIERDNS_E_BIND', async () => {
    const handler = new QueryHandler(() => new Snapshot(), silent);
    for (const [host, port] of [['not-an-ip', 0], ['127.0.0.1', 70000], ['::1::2', 0]]) {
      const server = new BatchUdpServer(handler, silent, addon);
      await assert.rejects(server.listen(host, port), (err) => err.code === 'TIERDNS_E_BIND' && /EINVAL/.test(err.message));
    }
  });

  test('native addon: the packed layout, and out-of-bounds entries from JS are refused, not sent', async (t) => {
    assert.throws(() => new addon.UdpBatchSocket(0, 4096, 8192), /batch 1-1024/);
    assert.throws(() => new addon.UdpBatchSocket(8, 100, 8192), /slotBytes 512-65536/);
    const sock = new addon.UdpBatchSocket(8, 512, 1024);
    const port = sock.bind('127.0.0.1', 0, false);
    assert.throws(() => sock.bind('127.0.0.1', 0, false), /already bound/);
    const inBuf = Buffer.from(sock.inBuf);
    const outBuf = Buffer.from(sock.outBuf);
    const meta = new Uint32Array(sock.meta);
    let mode = 'echo';
    sock.start((count) => {
      assert.equal(count, 1);
      const len = meta[0];
      if (mode === 'echo') {
        // Answer datagram 0 with its bytes reversed: index, length, bytes at offset 0.
        for (let i = 0; i < len; i++) outBuf[i] = inBuf[len - 1 - i];
        meta[8] = 0;
        meta[16] = len;
        return 1;
      }
      if (mode === 'bad-index') {
        meta[8] = 5; // only datagram 0 exists in this batch
        meta[16] = len;
        return 1;
      }
      if (mode === 'too-long') {
        meta[8] = 0;
        meta[16] = 1025; // past the end of outBuf
        return 1;
      }
      return 99; // more responses than datagrams
    });
    t.after(() => new Promise((resolve) => sock.close(resolve)));
    const c = await client();
    t.after(() => c.close());
    c.send(Buffer.from('abc'), port, '127.0.0.1');
    assert.equal(String(await nextMessage(c)), 'cba');
    for (mode of ['bad-index', 'too-long', 'too-many']) {
      c.send(Buffer.from('abc'), port, '127.0.0.1');
      assert.equal(await nextMessage(c), null, mode);
    }
    assert.equal(sock.stats().badResponses, 3);
    mode = 'echo';
    c.send(Buffer.from('xyz'), port, '127.0.0.1');
    assert.equal(String(await nextMessage(c)), 'zyx');
  });
}
