'use strict';
// `tierdns serve` as a process: start-up, SIGHUP reload, SIGTERM, bind errors, metrics.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const { httpGet } = require('./helpers/http');
const { ask, buildQuery } = require('./helpers/dns');
const { tempDir, startServe, runCli } = require('./helpers/serve');

const ZONE = (serial, extra = '') => `$ORIGIN t.example.
$TTL 60
@ SOA ns1 h ${serial} 2 3 4 30
@ NS ns1
ns1 A 127.0.0.1
${extra}
`;

function setup(t) {
  const dir = tempDir(t);
  const zones = path.join(dir, 'zones');
  fs.mkdirSync(zones);
  fs.writeFileSync(path.join(zones, 't.example.zone'), ZONE(1, 'old TXT "v1"'));
  return { dir, zones, store: `file:${path.join(dir, 'store.json')}` };
}

const serial = (r) => r.answers[0].serial;

test('serve answers from the zones directory and the store; the CLI change is served', async (t) => {
  const { dir, zones, store } = setup(t);
  const s = await startServe(t, ['--zones', zones, '--store', store, '--state-dir', path.join(dir, 'state'), '--log-level', 'info']);
  assert.equal(serial(await ask(s.port, 't.example', 'SOA')), 1);
  const set = await runCli(['pool', 'set', 'ws.t.example', '--check', 'none', '--zones', zones, '--store', store]);
  assert.equal(set.code, 0, set.stderr);
  assert.equal((await runCli(['member', 'add', 'ws.t.example', '127.0.1.1', '--zones', zones, '--store', store])).code, 0);
  let r;
  for (let i = 0; i < 30; i++) {
    r = await ask(s.port, 'ws.t.example', 'A');
    if (r.answers.length) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(r.answers.map((a) => a.address), ['127.0.1.1']);
});

test('SIGHUP reloads zones; a broken file keeps the old zone and logs file:line', async (t) => {
  const { zones, store } = setup(t);
  const s = await startServe(t, ['--zones', zones, '--store', store]);
  // Reloads are waited for by what they log, not by a fixed pause: a loaded machine may take longer.
  const logged = async (pred, what) => {
    for (let i = 0; i < 100 && !s.logs.some(pred); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(s.logs.some(pred), `${what}: ${JSON.stringify(s.logs.slice(-5))}`);
  };
  const reloads = () => s.logs.filter((l) => /SIGHUP/.test(l.msg)).length;
  fs.writeFileSync(path.join(zones, 't.example.zone'), ZONE(2, 'new TXT "v2"'));
  s.proc.kill('SIGHUP');
  await logged(() => reloads() === 1, 'no SIGHUP logged');
  for (let i = 0; i < 100 && serial(await ask(s.port, 't.example', 'SOA')) !== 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(serial(await ask(s.port, 't.example', 'SOA')), 2);
  assert.equal((await ask(s.port, 'new.t.example', 'TXT')).answers.length, 1);
  fs.writeFileSync(path.join(zones, 't.example.zone'), ZONE(3, 'bad A 999.1.1.1'));
  s.proc.kill('SIGHUP');
  await logged((l) => l.level >= 50 && /t\.example\.zone:6:/.test(l.msg), 'no file:line error logged');
  assert.equal(serial(await ask(s.port, 't.example', 'SOA')), 2, 'old zone kept');
});

test('SIGTERM stops gracefully: an answer in flight on TCP finishes, exit code 0', async (t) => {
  const { zones, store } = setup(t);
  const s = await startServe(t, ['--zones', zones, '--store', store]);
  const sock = net.connect(s.port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  const q = buildQuery('t.example', 'SOA');
  const answers = [];
  sock.on('data', (d) => answers.push(d));
  const exit = new Promise((r) => s.proc.on('exit', (code) => r(code)));
  sock.write(Buffer.concat([Buffer.from([0, q.length]), q]));
  await new Promise((r) => setTimeout(r, 50));
  s.proc.kill('SIGTERM');
  assert.equal(await exit, 0);
  assert.ok(Buffer.concat(answers).length > 12);
  sock.destroy();
});

test('a port that cannot be bound fails serve with one clear line and a non-zero exit', async (t) => {
  const { zones, store } = setup(t);
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.on('listening', r));
  t.after(() => blocker.close());
  const port = blocker.address().port;
  const err = await startServe(t, ['--zones', zones, '--store', store, '--listen', `127.0.0.1:${port}`]).then(
    () => null,
    (e) => e,
  );
  assert.ok(err);
  assert.notEqual(err.code, 0);
  assert.match(err.message, /cannot listen on tcp 127\.0\.0\.1:\d+.*EADDRINUSE/);
});

test('bad flags: an unparsable --listen or --workers is one line and exit 2', async () => {
  const r = await runCli(['serve', '--listen', 'localhost']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad listen address "localhost"/);
  const w = await runCli(['serve', '--workers', '0']);
  assert.equal(w.code, 2);
  assert.match(w.stderr, /--workers/);
  // A name the store would refuse for its observations: no heartbeat, no vote. Refused at start.
  const i = await runCli(['serve', '--instance', 'ns 1', '--listen', '127.0.0.1:0']);
  assert.equal(i.code, 2);
  assert.match(i.stderr, /--instance .*\(TIERDNS_E_BAD_VALUE\)\n$/);
  // --metrics on a DNS port (its own, or worker 2's with --workers 2): named, not a bind failure.
  for (const args of [['--listen', '127.0.0.1:5397', '--metrics', '127.0.0.1:5397'], ['--listen', '0.0.0.0:5398', '--metrics', '127.0.0.1:5397', '--workers', '2']]) {
    const m = await runCli(['serve', ...args]);
    assert.equal(m.code, 2, m.stdout);
    assert.match(m.stderr, /^tierdns: --metrics 127\.0\.0\.1:5397 takes port 539[78], which --listen .* needs for DNS over TCP.*\(TIERDNS_E_BAD_VALUE\)\n$/);
  }
});

test('--metrics serves Prometheus counters', async (t) => {
  const { zones, store } = setup(t);
  const probe = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.on('listening', r));
  const mport = probe.address().port;
  await new Promise((r) => probe.close(r));
  const s = await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`]);
  await ask(s.port, 't.example', 'SOA');
  await ask(s.port, 'nope.t.example', 'A');
  const body = await httpGet(mport, '/metrics');
  assert.match(body, /tierdns_answers_total\{rcode="NOERROR"\} 1/);
  assert.match(body, /tierdns_answers_total\{rcode="NXDOMAIN"\} 1/);
  assert.match(body, /tierdns_queries_total\{qtype="SOA"\} 1/);
  assert.match(body, /tierdns_store_up 1/);
});

test('--workers 2: both workers answer identically on one port', async (t) => {
  const { zones, store } = setup(t);
  const probe = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.on('listening', r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const s = await startServe(t, ['--zones', zones, '--store', store, '--workers', '2', '--listen', `127.0.0.1:${port}`]);
  for (let i = 0; i < 20; i++) assert.equal(serial(await ask(port, 't.example', 'SOA')), 1);
  const pids = new Set(s.logs.filter((l) => l.msg === 'serve: ready').map((l) => l.pid));
  // Wait for the second worker's ready line too.
  for (let i = 0; i < 50 && pids.size < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    for (const l of s.logs) if (l.msg === 'serve: ready') pids.add(l.pid);
  }
  assert.equal(pids.size, 2);
});

test('a zones directory that cannot be read fails serve at start with one line, like a port', async (t) => {
  const { dir, store } = setup(t);
  for (const zones of [path.join(dir, 'no-such-dir'), path.join(dir, 'store.json')]) {
    if (zones.endsWith('.json')) fs.writeFileSync(zones, '{}');
    const r = await runCli(['serve', '--zones', zones, '--store', store, '--listen', '127.0.0.1:0'], { timeoutMs: 5000 });
    assert.equal(r.code, 2, `serve --zones ${zones} exited ${r.code}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /--zones .*(ENOENT|ENOTDIR).*\(TIERDNS_E_ZONE\)$/);
    assert.doesNotMatch(r.stdout, /serve: ready/);
  }
});

test('a lone instance counts itself among live instances at once', async (t) => {
  const { zones, store } = setup(t);
  const probe = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.on('listening', r));
  const mport = probe.address().port;
  await new Promise((r) => probe.close(r));
  await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`, '--instance', 'lone']);
  const body = await httpGet(mport, '/metrics');
  assert.match(body, /^tierdns_live_instances 1$/m);
});
