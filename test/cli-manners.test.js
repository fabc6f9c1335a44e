'use strict';
// How the CLI treats an operator: --version, which store a change went to (and when it was the
// default), a missing store file is an error rather than "no pools", a bind refused below port
// 1024 says how to grant the capability, and the server's log lines say each thing once and
// write IPv6 members as [addr]:port.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { tmpDir, waitFor } = require('./helpers/store');
const { CLI, runCli } = require('./helpers/cli');
const { startServe, tempDir } = require('./helpers/serve');
const { closedPort } = require('./helpers/balancers');
const { bindError } = require('../dist/util/listen');

const P = 'ws.lb.example.com';
const ZONE = '$ORIGIN lb.example.com.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 30\n@ NS ns1\nns1 A 127.0.0.1\n';

/** A folder with zones/; removed after the servers a test started have exited. */
function workDir(t) {
  const cwd = tempDir(t, 'tierdns-manners-');
  fs.mkdirSync(path.join(cwd, 'zones'));
  fs.writeFileSync(path.join(cwd, 'zones', 'lb.example.com.zone'), ZONE);
  return cwd;
}

test('--version and -V print the package version', async () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
  for (const flag of ['--version', '-V']) {
    const r = await runCli([flag]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${version}\n`);
  }
});

test('without --store: changes say they went to the default store; reads of a missing store file fail', async (t) => {
  const cwd = workDir(t);
  const file = path.join(cwd, 'data', 'store.json');
  // Every command but pool set and apply refuses a store file that does not exist, and creates nothing.
  for (const args of [['status'], ['status', '--json'], ['pool', 'ls'], ['export'], ['member', 'add', P, '10.0.0.1'],
    ['member', 'rm', P, '10.0.0.1'], ['member', 'drain', P, '10.0.0.1'], ['pool', 'rm', P]]) {
    const r = await runCli(args, { cwd });
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, `tierdns: file store ${file} does not exist (no --store given and TIERDNS_STORE unset, so the default file:data/store.json was used, relative to ${cwd}) (TIERDNS_E_STORE_MISSING)\n`);
    assert.equal(r.stdout, '');
  }
  assert.ok(!fs.existsSync(path.join(cwd, 'data')), 'a read created the store folder');
  let r = await runCli(['pool', 'set', P], { cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `pool ${P} created\nstore: file:${file} (the default: no --store given, TIERDNS_STORE unset)\n`);
  r = await runCli(['member', 'add', P, '10.0.0.1', '10.0.0.2'], { cwd, env: { TIERDNS_STORE: 'file:data/store.json' } });
  assert.equal(r.stdout, `member 10.0.0.1 added to ${P}\nmember 10.0.0.2 added to ${P}\nstore: file:${file}\n`);
  r = await runCli(['status'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  // From another folder the relative default names another file: an error, not "no pools".
  const elsewhere = tmpDir(t, 'tierdns-elsewhere-');
  r = await runCli(['status'], { cwd: elsewhere });
  assert.match(r.stderr, /file store .* does not exist .*TIERDNS_E_STORE_MISSING/);
});

test('a Redis store is named without its password', async (t) => {
  const cwd = workDir(t);
  const r = await runCli(['pool', 'ls', '--store', 'redis://ops:s3cret@127.0.0.1:1/0'], { cwd });
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stderr + r.stdout, /s3cret/);
});

test('bind refused below port 1024: the message says how to grant CAP_NET_BIND_SERVICE', async (t) => {
  const hint = /AmbientCapabilities=CAP_NET_BIND_SERVICE.*setcap cap_net_bind_service=\+ep/;
  const eacces = Object.assign(new Error('bind EACCES 0.0.0.0:53'), { code: 'EACCES' });
  assert.match(bindError('udp', '0.0.0.0', 53, eacces).message, hint);
  assert.match(bindError('tcp', '::', 53, eacces).message, /^cannot listen on tcp \[::\]:53: bind EACCES/);
  assert.doesNotMatch(bindError('udp', '0.0.0.0', 5300, eacces).message, /CAP_NET_BIND_SERVICE/);
  const inUse = Object.assign(new Error('bind EADDRINUSE 0.0.0.0:53'), { code: 'EADDRINUSE' });
  assert.doesNotMatch(bindError('udp', '0.0.0.0', 53, inUse).message, /CAP_NET_BIND_SERVICE/);

  // The real thing: serve without the capability (root loses it from its bounding set).
  const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  assert.ok(start > 53, `this kernel lets anyone bind port 53 (ip_unprivileged_port_start=${start})`);
  const cwd = workDir(t);
  const r = spawnSync('setpriv', ['--bounding-set=-net_bind_service', process.execPath, CLI, 'serve', '--zones', 'zones',
    '--listen', '127.0.0.1:53', '--store', 'file:store.json'], { cwd, encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^tierdns: cannot listen on (udp|tcp) 127\.0\.0\.1:53: .*EACCES.*AmbientCapabilities=CAP_NET_BIND_SERVICE.*\(TIERDNS_E_BIND\)$/m);
});

/** Start serve with one IPv6 member on a closed port; its logs must say instance once and bracket the member. */
async function ipv6Logged(t, native) {
  const cwd = workDir(t);
  const store = `file:${path.join(cwd, 'store.json')}`;
  const port = await closedPort('::1');
  const run = (...args) => runCli([...args, '--store', store], { cwd });
  assert.equal((await run('pool', 'set', P, '--interval', '200ms', '--timeout', '100ms', '--fall', '1')).code, 0);
  assert.equal((await run('member', 'add', P, '::1', '--port', String(port))).code, 0);
  const s = await startServe(t, ['--zones', path.join(cwd, 'zones'), '--store', store, '--instance', 'ns-test', '--log-level', 'info'],
    { env: { TIERDNS_NATIVE: native } });
  const ready = s.lines.find((l) => l.includes('"serve: ready"'));
  assert.equal(ready.match(/"instance":/g).length, 1, ready);
  const changed = (e) => typeof e.msg === 'string' && / is down here/.test(e.msg);
  await waitFor(() => s.logs.some(changed), 10_000, 'the member logged as down');
  const line = s.logs.find(changed);
  const at = `\\[::1\\]:${port}`;
  assert.match(line.msg, new RegExp(`^health: ${at} in ${P.replace(/\./g, '\\.')} is down here \\(1 failure: connect ECONNREFUSED ${at}\\)$`));
}

test('serve logs: instance once in the ready line; an IPv6 member as [addr]:port, native addon or not', async (t) => {
  for (const native of ['1', '0']) await ipv6Logged(t, native);
});
