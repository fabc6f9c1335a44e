'use strict';
// Steering end to end (docs/steering.md): a real `tierdns serve` process, agents and JSON load
// endpoints on 127.0.0.x, answers counted over many real DNS queries (not timed): shares
// follow the agents' percentages and the reported loads, the agent's drain removes a member,
// a full member is skipped until all are, and `status --json` shows what answers use.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { httpGet } = require('./helpers/http');
const { startServe, runCli, tempDir } = require('./helpers/serve');
const { ask } = require('./helpers/dns');
const { tcpBalancer, closedPort } = require('./helpers/balancers');
const { agentFeed, jsonFeed, badFeed } = require('./helpers/loadFeeds');
const { waitFor } = require('./helpers/store');
const { spawnSync } = require('node:child_process');
const { startRedis, uniquePrefix, freePort } = require('./helpers/redis');

const POOL = 'ws.lb.example.com';
const ZONES = path.join(__dirname, '..', 'zones');

/** A store (file unless given) with one pool of `hosts` (a TCP health check on one shared port) and `flags`; `instances` serve it. */
async function setup(t, hosts, flags, { store, instances = 1, serveArgs = [] } = {}) {
  store ??= `file:${path.join(tempDir(t), 'store.json')}`;
  const port = await closedPort(hosts[0]);
  for (const host of hosts) {
    const b = await tcpBalancer(t, host);
    await b.close();
    await new Promise((resolve, reject) => { b.server.once('error', reject); b.server.listen(port, host, resolve); });
    t.after(() => new Promise((r) => b.server.close(() => r())));
  }
  const cli = async (...args) => {
    const r = await runCli([...args, '--store', store, '--zones', ZONES]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await cli('pool', 'set', POOL, '--check', 'tcp', '--port', String(port), '--interval', '300ms', '--timeout', '200ms', '--rise', '1', ...flags);
  for (const host of hosts) await cli('member', 'add', POOL, host);
  const all = [];
  for (let i = 0; i < instances; i++) all.push(await startServe(t, ['--zones', ZONES, '--store', store, '--instance', `e2e${i}`, ...serveArgs]));
  const status = async () => JSON.parse(await cli('status', POOL, '--json')).pools[0];
  return { cli, dns: all[0], all, status, store };
}

/** Shares of first places over `n` answers. */
async function shares(port, n) {
  const counts = {};
  for (let i = 0; i < n; i++) {
    const r = await ask(port, POOL, 'A');
    const first = r.answers[0]?.address ?? 'none';
    counts[first] = (counts[first] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([ip, c]) => [ip, c / n]));
}

function near(actual, expected, tolerance, what) {
  for (const ip of new Set([...Object.keys(actual), ...Object.keys(expected)])) {
    assert.ok(Math.abs((actual[ip] ?? 0) - (expected[ip] ?? 0)) <= tolerance, `${what}: ${ip} ${actual[ip] ?? 0} vs ${expected[ip] ?? 0} (${JSON.stringify(actual)})`);
  }
}

test('answer shares follow agent percentages; the agent\'s drain and maint remove a member', async (t) => {
  const hosts = ['127.0.0.41', '127.0.0.42', '127.0.0.43'];
  const agentPort = await closedPort(hosts[0]);
  const agents = [];
  for (const [i, host] of hosts.entries()) agents.push(await agentFeed(t, { host, port: agentPort, reply: `up ${[20, 30, 50][i]}%\n` }));
  const metricsPort = await freePort();
  const { dns, status } = await setup(t, hosts, ['--load', 'agent', '--load-port', String(agentPort)], { serveArgs: ['--metrics', `127.0.0.1:${metricsPort}`] });
  await waitFor(async () => (await status()).members.map((m) => m.effectiveWeight).join() === '0.2,0.3,0.5', 10_000, 'effective weights 0.2/0.3/0.5');
  // The store (what status reads) has the readings a moment before this instance's answers do.
  await waitFor(async () => JSON.parse(await httpGet(metricsPort, '/status.json')).pools.find((p) => p.name === POOL)
    ?.members.map((m) => m.effectiveWeight).join() === '0.2,0.3,0.5', 10_000, 'the instance serving 0.2/0.3/0.5');
  const s = await status();
  assert.deepEqual(s.members[1].load, { connections: null, capacity: null, factor: 0.3, state: 'ready', error: null });
  near(await shares(dns.port, 500), { [hosts[0]]: 0.2, [hosts[1]]: 0.3, [hosts[2]]: 0.5 }, 0.02, 'agent shares');
  agents[2].reply = 'drain 50%\n';
  agents[0].reply = 'maint\n';
  await waitFor(async () => (await status()).members.map((m) => m.load.state).join() === 'maint,ready,drain', 10_000, 'drain and maint');
  await waitFor(async () => (await ask(dns.port, POOL, 'A')).answers.length === 1, 10_000, 'drain and maint served');
  const r = await ask(dns.port, POOL, 'A');
  assert.deepEqual(r.answers.map((a) => a.address), [hosts[1]], 'only the member neither drained nor in maintenance');
  assert.deepEqual((await status()).members.map((m) => m.effectiveWeight), [0, 0.3, 0]);
});

test('answer shares follow reported loads; a full member is skipped until all are', async (t) => {
  const hosts = ['127.0.0.51', '127.0.0.52', '127.0.0.53'];
  const feedPort = await closedPort(hosts[0]);
  const loads = [[0, 100], [50, 100], [100, 100]];
  const feeds = [];
  for (const [i, host] of hosts.entries()) feeds.push(await jsonFeed(t, { host, port: feedPort, body: { connections: loads[i][0], capacity: loads[i][1] } }));
  const metricsPort = await freePort();
  const { cli, dns, status } = await setup(t, hosts, ['--load', 'json', '--load-port', String(feedPort)], { serveArgs: ['--metrics', `127.0.0.1:${metricsPort}`] });
  await waitFor(async () => (await status()).members.map((m) => m.effectiveWeight).join() === '1,0.5,0', 10_000, 'effective weights 1/0.5/0');
  const get = (urlPath) => httpGet(metricsPort, urlPath);
  const label = (ip) => `{pool="${POOL}",member="${ip}"}`;
  let metrics = '';
  const sample = (line) => metrics.split('\n').find((l) => l.startsWith(`${line} `))?.split(' ')[1];
  // The store (what status reads) has the readings a moment before this instance's answers do.
  await waitFor(async () => {
    metrics = await get('/metrics');
    return hosts.map((ip) => sample(`tierdns_member_effective_weight${label(ip)}`)).join() === '1,0.5,0';
  }, 10_000, 'the instance serving effective weights 1/0.5/0');
  // The status page's document carries the same.
  const page = JSON.parse(await get('/status.json')).pools.find((p) => p.name === POOL);
  assert.deepEqual(page.members.map((m) => [m.effectiveWeight, m.load.factor, m.load.connections]), [[1, 1, 0], [0.5, 0.5, 50], [0, 0, 100]]);
  assert.deepEqual(hosts.map((ip) => sample(`tierdns_member_effective_weight${label(ip)}`)), ['1', '0.5', '0']);
  assert.deepEqual(hosts.map((ip) => sample(`tierdns_member_load_factor${label(ip)}`)), ['1', '0.5', '0']);
  assert.deepEqual(hosts.map((ip) => sample(`tierdns_member_load_connections${label(ip)}`)), ['0', '50', '100']);
  const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
  assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
  assert.deepEqual((await status()).members[1].load, { connections: 50, capacity: 100, factor: 0.5, state: 'ready', error: null });
  const text = await cli('status', POOL);
  assert.match(text, /MEMBER\s+WEIGHT\s+EFFECTIVE\s+LOAD/);
  assert.match(text, /127\.0\.0\.52\s+1\s+0\.5\s+0\.50 50\/100/);
  assert.match(text, /127\.0\.0\.53\s+1\s+0\s+full 100\/100/);
  near(await shares(dns.port, 300), { [hosts[0]]: 2 / 3, [hosts[1]]: 1 / 3 }, 0.02, 'load shares');
  const r = await ask(dns.port, POOL, 'A');
  assert.deepEqual(r.answers.map((a) => a.address).sort(), [hosts[0], hosts[1]], 'the full member is in no answer');
  for (const f of feeds) f.body = { connections: 120, capacity: 100 };
  await waitFor(async () => (await status()).members.every((m) => m.load.factor === 0), 10_000, 'all full');
  await waitFor(async () => (await ask(dns.port, POOL, 'A')).answers.length === 3, 10_000, 'all full: all served');
  near(await shares(dns.port, 300), { [hosts[0]]: 1 / 3, [hosts[1]]: 1 / 3, [hosts[2]]: 1 / 3 }, 0.02, 'all full: all handed out');
});

test('two instances on one Redis serve the same effective weights: shares alike on both', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const hosts = ['127.0.0.44', '127.0.0.45'];
  const agentPort = await closedPort(hosts[0]);
  await agentFeed(t, { host: hosts[0], port: agentPort, reply: '25%\n' });
  await agentFeed(t, { host: hosts[1], port: agentPort, reply: '75%\n' });
  const store = `${redis.url}?prefix=${encodeURIComponent(uniquePrefix())}`;
  const { all, status } = await setup(t, hosts, ['--load', 'agent', '--load-port', String(agentPort)], { store, instances: 2 });
  await waitFor(async () => {
    const s = await status();
    return s.members.map((m) => m.effectiveWeight).join() === '0.25,0.75' && s.members.every((m) => m.observations.filter((o) => o.load).length === 2);
  }, 10_000, 'both instances read both agents; weights 0.25/0.75');
  for (const dns of all) near(await shares(dns.port, 200), { [hosts[0]]: 0.25, [hosts[1]]: 0.75 }, 0.02, `instance on port ${dns.port}`);
});

test('feeds that hang, flood or lie never stall answering: every query answered, members at factor 1', async (t) => {
  const hosts = ['127.0.0.46', '127.0.0.47', '127.0.0.48'];
  const feedPort = await closedPort(hosts[0]);
  await badFeed(t, 'hang', { host: hosts[0], port: feedPort });
  await badFeed(t, 'flood', { host: hosts[1], port: feedPort, http: true });
  await jsonFeed(t, { host: hosts[2], port: feedPort, body: { connections: 'NaN', capacity: 0 } });
  const { dns, status, store } = await setup(t, hosts, ['--load', 'json', '--load-port', String(feedPort)]);
  await waitFor(async () => (await status()).members.every((m) => m.verdict === 'up' && m.load.error !== null), 10_000, 'every feed read and failed');
  const s = await status();
  assert.deepEqual(s.members.map((m) => m.effectiveWeight), [1, 1, 1], 'no reading: factor 1');
  assert.match(s.members[2].load.error, /connections is not a number/);
  // Answers go on while the feeds keep failing: every one of 300 queries answered, all members in turn.
  const counts = await shares(dns.port, 300);
  near(counts, { [hosts[0]]: 1 / 3, [hosts[1]]: 1 / 3, [hosts[2]]: 1 / 3 }, 0.02, 'shares');
});
