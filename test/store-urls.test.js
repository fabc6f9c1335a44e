'use strict';
// Store URLs (README "Store URLs"): parsing, and the real thing for a password/ACL user, TLS and
// Sentinel, each against a private loopback redis-server started here.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const tls = require('node:tls');
const { parseStoreUrl } = require('../dist/store/url');
const { openStore } = require('../dist/store/open');
const { startPrivateRedis, freePort, uniquePrefix, rawClient, waitForPong } = require('./helpers/redis');
const { tmpDir, waitFor, pool } = require('./helpers/store');

const P = 'ws.lb.example.com';

function urlCode(url) {
  try {
    parseStoreUrl(url);
    return 'ok';
  } catch (err) {
    assert.doesNotMatch(err.message, /s3cret/, 'a password leaked into an error');
    return err.code;
  }
}

test('parseStoreUrl: the accepted forms', () => {
  assert.deepEqual(parseStoreUrl('file:data/store.json'), { kind: 'file', path: 'data/store.json', description: 'file:data/store.json' });
  assert.equal(parseStoreUrl('file:///var/lib/tierdns/s.json').path, '/var/lib/tierdns/s.json');
  const r = parseStoreUrl('redis://ops%40x:s3cr%3Aet@127.0.0.1:6380/4?prefix=lb1%3A');
  assert.deepEqual([r.host, r.port, r.db, r.username, r.password, r.prefix], ['127.0.0.1', 6380, 4, 'ops@x', 's3cr:et', 'lb1:']);
  assert.equal(r.description, 'redis://ops@x:***@127.0.0.1:6380/4');
  const p = parseStoreUrl('redis://:s3cret@[::1]');
  assert.deepEqual([p.host, p.port, p.db, p.username, p.password], ['::1', 6379, 0, undefined, 's3cret']);
  const s = parseStoreUrl('rediss://127.0.0.1:6390/0?insecure=1&servername=redis.internal');
  assert.deepEqual(s.tls, { rejectUnauthorized: false, servername: 'redis.internal' });
  const sen = parseStoreUrl('redis-sentinel://u:s3cret@10.0.0.1,10.0.0.2:26380/mymaster/2?sentinelPassword=x');
  assert.deepEqual(sen.sentinels, [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26380 }]);
  assert.deepEqual([sen.name, sen.db, sen.username, sen.sentinelPassword], ['mymaster', 2, 'u', 'x']);
  assert.ok(parseStoreUrl('rediss-sentinel://h:1/m').tls);
});

test('parseStoreUrl: malformed URLs are TIERDNS_E_STORE_URL and never echo the password', () => {
  for (const url of [
    '', 'file:', 'mysql://h/0', 'redis://', 'redis://h:0/0', 'redis://h:65536/0', 'redis://h/x', 'redis://h/0/1',
    'redis://:s3cret@h/0?bogus=1', 'redis://:s3cret@h/0?insecure=1', 'rediss://h/0?insecure=maybe', 'redis://a,b/0',
    'redis-sentinel://h:1', 'rediss://h/0?cert=/nonexistent', 'rediss://h/0?ca=/nonexistent/ca.pem', 'redis://:s3cret@h/0?prefix=a b',
  ]) {
    assert.equal(urlCode(url), 'TIERDNS_E_STORE_URL', url);
  }
  assert.throws(() => openStore('redis://127.0.0.1:1/0?prefix=has%20space'), { code: 'TIERDNS_E_STORE_URL' });
});

async function exercise(url) {
  const store = openStore(url, { connectWaitMs: 2000 });
  try {
    const seen = [];
    await store.watch((c) => seen.push(c));
    await store.setPool(pool(P));
    await store.updateMember(P, '10.0.0.1', { create: true });
    await store.heartbeat('ns1', 5000, Date.now());
    await store.publishZones('ns1', ['lb.example.com']);
    assert.equal(await store.recordObservation(P, '10.0.0.1', { instance: 'ns1', state: 'up', sinceMs: 1 }), 'up');
    const snap = await store.snapshot();
    assert.equal(snap.pools.get(P).members[0].verdict, 'up');
    await store.heartbeat('ns2', 1, Date.now() + 10); // prunes ns1: exercises the recompute path
    await waitFor(() => seen.some((c) => c.kind === 'pool' && c.name === P), 2000, 'notification');
  } finally {
    await store.close();
  }
}

test('a password and an ACL user with only the documented permissions', async (t) => {
  const server = await startPrivateRedis();
  t.after(() => server.stop());
  const prefix = uniquePrefix();
  const admin = await rawClient(server.url);
  // The ACL from docs/store.md, limited to this prefix.
  await admin.call('ACL', 'SETUSER', 'tierdns', 'on', '>s3cret', `~${prefix}*`, `&${prefix}changes`, '-@all',
    '+@read', '+@write', '+@transaction', '+@scripting', '+@pubsub', '+@connection', '+info');
  admin.disconnect();
  const base = `127.0.0.1:${server.port}/0?prefix=${encodeURIComponent(prefix)}`;
  await exercise(`redis://tierdns:s3cret@${base}`);
  const wrong = openStore(`redis://tierdns:nope@${base}`, { connectWaitMs: 1000 });
  await assert.rejects(wrong.snapshot(), (err) => err.code === 'TIERDNS_E_STORE_UNREACHABLE' && /WRONGPASS|NOAUTH|invalid/i.test(err.message));
  await wrong.close();
});

function spawnOwned(t, args, dir) {
  const proc = spawn('/usr/bin/redis-server', args, { stdio: 'ignore', cwd: dir });
  const exited = new Promise((r) => proc.once('exit', r));
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  });
  return proc;
}

test('TLS: rediss:// with a CA file, with ?insecure=1, and refused without either', async (t) => {
  const dir = tmpDir(t, 'tierdns-tls-');
  const f = (n) => path.join(dir, n);
  const ssl = (...a) => execFileSync('openssl', a, { stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=tierdns-test-ca', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('ext.cnf'), '-out', f('server.pem'));
  const port = await freePort();
  spawnOwned(t, ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--tls-cert-file', f('server.pem'), '--tls-key-file', f('server.key'), '--tls-ca-cert-file', f('ca.pem'), '--tls-auth-clients', 'no'], dir);
  await waitFor(() => new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), 5000, 'TLS redis-server');
  await exercise(`rediss://127.0.0.1:${port}/0?ca=${encodeURIComponent(f('ca.pem'))}&prefix=${uniquePrefix()}`);
  await exercise(`rediss://127.0.0.1:${port}/0?insecure=1&prefix=${uniquePrefix()}`);
  const unverified = openStore(`rediss://127.0.0.1:${port}/0`, { connectWaitMs: 1000 });
  await assert.rejects(unverified.snapshot(), { code: 'TIERDNS_E_STORE_UNREACHABLE' });
  await unverified.close();
});

test('Sentinel: redis-sentinel:// finds the master through a sentinel', async (t) => {
  const server = await startPrivateRedis();
  t.after(() => server.stop());
  const dir = tmpDir(t, 'tierdns-sentinel-');
  const sport = await freePort();
  const conf = path.join(dir, 'sentinel.conf');
  fs.writeFileSync(conf, [
    `port ${sport}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor tdmaster 127.0.0.1 ${server.port} 1`,
    'sentinel down-after-milliseconds tdmaster 5000', '',
  ].join('\n'));
  spawnOwned(t, [conf, '--sentinel'], dir);
  await waitForPong(sport);
  await exercise(`redis-sentinel://127.0.0.1:${sport}/tdmaster/0?prefix=${uniquePrefix()}`);
});
