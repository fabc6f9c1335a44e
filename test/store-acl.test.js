'use strict';
// Redis ACL users (docs/store.md "Redis ACL"), against a real redis-server: a user without
// channel permission (Redis 7's default for new users) is refused with one error naming the
// permission and nothing changes; a read-only user can still read; a permission revoked after
// the check still changes nothing; a server with such a user reports it once, keeps trying,
// and hears changes as soon as the ACL is fixed.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { openStore } = require('../dist/store/open');
const { defaultPoolConfig } = require('../dist/model/poolConfig');
const { startPrivateRedis, uniquePrefix, rawClient, dumpKeys } = require('./helpers/redis');
const { runCli } = require('./helpers/cli');
const { startServe } = require('./helpers/serve');
const { waitFor } = require('./helpers/store');
const { failIfStillAlive } = require('./helpers/exitWatch');

failIfStillAlive();

const ZONES = path.join(__dirname, '..', 'zones');
const P = 'ws.lb.example.com';

async function setup(t) {
  const server = await startPrivateRedis();
  t.after(() => server.stop());
  const prefix = uniquePrefix();
  const admin = await rawClient(server.url);
  t.after(() => admin.disconnect());
  const urlFor = (user) => `redis://${user}:pw@127.0.0.1:${server.port}/0?prefix=${encodeURIComponent(prefix)}`;
  const user = (name, ...rules) => admin.call('ACL', 'SETUSER', name, 'reset', 'on', '>pw', ...rules);
  const adminStore = openStore(`${server.url}?prefix=${encodeURIComponent(prefix)}`);
  t.after(() => adminStore.close());
  return { server, prefix, admin, urlFor, user, adminStore };
}

test('no channel permission: the CLI is refused with one line naming it, and nothing changes', async (t) => {
  const { server, prefix, urlFor, user, adminStore } = await setup(t);
  await user('nochan', `~${prefix}*`, '+@all');
  await adminStore.setPool({ ...defaultPoolConfig(P) });
  const before = await dumpKeys(server.url, prefix);
  for (const args of [['member', 'add', P, '10.0.0.1'], ['pool', 'set', 'api.lb.example.com'], ['member', 'drain', P, '10.0.0.1'], ['pool', 'rm', P]]) {
    const r = await runCli([...args, '--store', urlFor('nochan'), '--zones', ZONES]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /TIERDNS_E_STORE_PERMISSION/);
    assert.match(r.stderr, new RegExp(`&${prefix}changes`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.deepEqual(await dumpKeys(server.url, prefix), before, 'a refused command changed the store');
});

test('a read-only user can read (status), and is refused a change by name', async (t) => {
  const { prefix, urlFor, user, adminStore } = await setup(t);
  await adminStore.setPool({ ...defaultPoolConfig(P) });
  // The read-only user of docs/store.md "Redis ACL".
  await user('reader', `~${prefix}*`, '+@read', '+@connection', '+info', '+eval', '+evalsha');
  const status = await runCli(['status', '--json', '--store', urlFor('reader'), '--zones', ZONES]);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).pools[0].name, P);
  const r = await runCli(['member', 'add', P, '10.0.0.1', '--store', urlFor('reader'), '--zones', ZONES]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /TIERDNS_E_STORE_PERMISSION/);
  assert.match(r.stderr, /may not run transactions \(ACL: \+@transaction\)/);
});

test('channel permission revoked after the check: the change is refused whole, never applied unannounced', async (t) => {
  const { server, prefix, urlFor, user, adminStore } = await setup(t);
  await user('later', `~${prefix}*`, `&${prefix}*`, '+@all');
  await adminStore.setPool({ ...defaultPoolConfig(P) });
  const store = openStore(urlFor('later'));
  t.after(() => store.close());
  await store.updateMember(P, '10.0.0.1', { create: true });
  await user('later', `~${prefix}*`, 'resetchannels', '+@all');
  const before = await dumpKeys(server.url, prefix);
  await assert.rejects(store.updateMember(P, '10.0.0.2', { create: true }), { code: 'TIERDNS_E_STORE_PERMISSION' });
  assert.deepEqual(await dumpKeys(server.url, prefix), before);
});

test('a server with no channel permission says so once, keeps trying, and hears changes once the ACL is fixed', async (t) => {
  const { prefix, urlFor, user, admin, adminStore } = await setup(t);
  await user('srv', `~${prefix}*`, '+@all');
  await adminStore.setPool({ ...defaultPoolConfig(P), check: 'none', ttlSeconds: 5 });
  await adminStore.updateMember(P, '127.0.0.71', { create: true });
  const inst = await startServe(t, ['--zones', ZONES, '--store', urlFor('srv'), '--instance', 'ns1', '--log-level', 'info']);
  await new Promise((r) => setTimeout(r, 6000));
  const errors = inst.logs.filter((l) => l.level >= 50);
  const about = (re) => errors.filter((l) => re.test(`${l.msg} ${l.err ?? ''}`));
  assert.equal(about(/cannot subscribe/).length, 1, JSON.stringify(errors));
  assert.equal(about(/may not use the channel/).length, 1, JSON.stringify(errors));
  assert.match(about(/cannot subscribe/)[0].msg, new RegExp(`&${prefix}changes`));
  // Fixed: the subscription is retried (every 5 s) and a change is then heard at once.
  await admin.call('ACL', 'SETUSER', 'srv', `&${prefix}*`);
  await waitFor(() => inst.logs.some((l) => l.msg === 'store: subscribed to change notifications'), 8000, 'subscription retried');
  const { Resolver } = require('node:dns').promises;
  const resolver = new Resolver({ timeout: 400, tries: 1 });
  resolver.setServers([`127.0.0.1:${inst.port}`]);
  await adminStore.updateMember(P, '127.0.0.72', { create: true });
  const t0 = Date.now();
  await waitFor(async () => (await resolver.resolve4(P).catch(() => [])).length === 2, 3000, 'change heard');
  t.diagnostic(`a change after the fix served ${Date.now() - t0} ms later`);
});
