'use strict';
// The operator CLI (PRODUCT.md §3) against both stores, through `node dist/cli.js`: happy
// paths, the status --json shape, and every kind of bad input: non-zero exit, one line on
// stderr, and the store left byte-identical.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { redisBackend, fileBackend, tmpDir } = require('./helpers/store');
const { runCli, storeState } = require('./helpers/cli');

const P = 'ws.lb.example.com';

/** A working directory with zones/lb.example.com.zone, as `npm start` expects. */
function workDir(t) {
  const cwd = tmpDir(t, 'tierdns-cli-');
  fs.mkdirSync(path.join(cwd, 'zones'));
  fs.writeFileSync(path.join(cwd, 'zones', 'lb.example.com.zone'), '');
  return cwd;
}

function firstLine(r) {
  return r.stdout.split('\n')[0];
}

function oneLine(r) {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one stderr line, got: ${JSON.stringify(r.stderr)}`);
  return lines[0];
}

for (const backend of [redisBackend(), fileBackend()]) {
  describe(`cli: ${backend.name} store`, () => {
    before(() => backend.before());
    after(() => backend.after());

    /** A location, a cwd, and `tierdns …` bound to both. */
    function setup(t) {
      const loc = backend.location(t);
      const cwd = workDir(t);
      const run = (...args) => runCli([...args, '--store', loc.url], { cwd });
      return { loc, cwd, run };
    }

    test('pools and members: create, change, drain, list, remove', async (t) => {
      const { loc, run } = setup(t);
      let r = await run('pool', 'set', 'WS.LB.Example.COM.');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(firstLine(r), `pool ${P} created`);
      // Every change says which store it went to, without secrets.
      assert.equal(r.stdout.split('\n')[1], `store: ${loc.file ? loc.url : `redis://127.0.0.1:${new URL(loc.url).port}/0 (prefix ${loc.prefix})`}`);
      r = await run('pool', 'set', P, '--check', 'https', '--path', '/healthz', '--interval', '4s', '--expect', '204', '--max-answers', '2');
      assert.equal(firstLine(r), `pool ${P} updated`, r.stderr);
      r = await run('pool', 'set', P, '--ttl', '30');
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await run('member', 'add', P, '10.0.0.1', '--weight', '5')).code, 0);
      assert.equal((await run('member', 'add', P, '2001:DB8::0:1', '--port', '8443')).code, 0);
      assert.equal((await run('member', 'drain', P, '10.0.0.1')).code, 0);
      r = await run('member', 'add', P, '10.0.0.1', '--port', '81');
      assert.equal(firstLine(r), `member 10.0.0.1 updated in ${P}`);
      r = await run('pool', 'ls', '--json');
      const [cfg] = JSON.parse(r.stdout).pools;
      assert.deepEqual(
        [cfg.name, cfg.ttl, cfg.check, cfg.port, cfg.path, cfg.intervalMs, cfg.fastIntervalMs, cfg.timeoutMs, cfg.expect, cfg.maxAnswers, cfg.memberCount],
        [P, 30, 'https', 443, '/healthz', 4000, 1000, 1000, '204', 2, 2],
      );
      r = await run('status', '--json');
      assert.equal(r.code, 0, r.stderr);
      const status = JSON.parse(r.stdout);
      assert.deepEqual(Object.keys(status).sort(), ['instances', 'pools', 'zones']);
      const [pool] = status.pools;
      assert.equal(pool.name, P);
      assert.equal(pool.ttl, 30);
      assert.deepEqual(pool.members.map((m) => [m.ip, m.weight, m.port, m.admin, m.verdict]), [
        ['10.0.0.1', 5, 81, 'drained', 'unknown'],
        ['2001:db8::1', 1, 8443, 'enabled', 'unknown'],
      ]);
      for (const m of pool.members) {
        assert.deepEqual(Object.keys(m).sort(), ['addedAtMs', 'admin', 'effectiveWeight', 'ip', 'lastProbe', 'load', 'observations', 'port', 'sinceSeconds', 'split', 'verdict', 'verdictSinceMs', 'votes', 'weight']);
        assert.equal(m.lastProbe, null);
        assert.deepEqual(m.observations, []);
        assert.equal(typeof m.sinceSeconds, 'number');
      }
      r = await run('status', P);
      assert.match(r.stdout, /MEMBER +WEIGHT +ADMIN +VERDICT +OBSERVED +LAST PROBE/);
      assert.match(r.stdout, /10\.0\.0\.1:81 +5 +drained +unknown/);
      assert.match(r.stdout, /\[2001:db8::1\]:8443 +1 +enabled +unknown/);
      assert.equal((await run('member', 'undrain', P, '10.0.0.1')).code, 0);
      assert.equal((await run('member', 'rm', P, '2001:db8::1')).code, 0);
      r = await run('status', '--json');
      assert.deepEqual(JSON.parse(r.stdout).pools[0].members.map((m) => `${m.ip}:${m.admin}`), ['10.0.0.1:enabled']);
      assert.equal((await run('pool', 'rm', P)).code, 0);
      r = await run('pool', 'ls');
      assert.equal(r.stdout, 'no pools\n');
    });

    test('status shows observations, verdicts and instances', async (t) => {
      const { loc, cwd, run } = setup(t);
      const store = loc.open();
      await store.setPool({ ...require('../dist/model/poolConfig').defaultPoolConfig(P) });
      await store.updateMember(P, '10.0.0.1', { create: true });
      await store.heartbeat('ns1', 60_000, Date.now());
      await store.recordObservation(P, '10.0.0.1', {
        instance: 'ns1', state: 'down', sinceMs: Date.now() - 5000, lastProbeMs: Date.now() - 1000, lastOk: false, lastLatencyMs: 2.5, lastError: 'ECONNREFUSED',
      });
      const r = await run('status', '--json');
      const [m] = JSON.parse(r.stdout).pools[0].members;
      assert.equal(m.verdict, 'down');
      assert.deepEqual(Object.keys(m.lastProbe).sort(), ['atMs', 'error', 'instance', 'latencyMs', 'ok']);
      assert.equal(m.lastProbe.error, 'ECONNREFUSED');
      assert.deepEqual(Object.keys(m.observations[0]).sort(), ['instance', 'lastError', 'lastLatencyMs', 'lastOk', 'lastProbeMs', 'live', 'load', 'sinceMs', 'state']);
      assert.equal(m.observations[0].live, true);
      assert.deepEqual(JSON.parse(r.stdout).instances.map((i) => i.name), ['ns1']);
      // A terminal wider than 80 columns shows the whole error text.
      const human = (await runCli(['status', P, '--store', loc.url], { cwd, env: { COLUMNS: '200' } })).stdout;
      assert.match(human, /down \S+ +ns1=down +fail .* ago ns1: ECONNREFUSED/);
      assert.match((await run('status')).stdout, /instances: ns1/);
    });

    test('status: members of a check-none pool are up (what answers do), since they were added', async (t) => {
      const { run } = setup(t);
      assert.equal((await run('pool', 'set', P, '--check', 'none')).code, 0);
      assert.equal((await run('member', 'add', P, '10.0.0.1')).code, 0);
      const [m] = JSON.parse((await run('status', '--json')).stdout).pools[0].members;
      assert.equal(m.verdict, 'up');
      assert.equal(m.verdictSinceMs, m.addedAtMs);
      assert.match((await run('pool', 'ls')).stdout, new RegExp(`${P.replace(/\./g, '\\.')} +20s +none +1 +1 +0`));
    });

    test('bad input: non-zero exit, one line naming the problem, store unchanged', async (t) => {
      const { loc, run } = setup(t);
      assert.equal((await run('pool', 'set', P)).code, 0);
      assert.equal((await run('pool', 'set', 'b.lb.example.com')).code, 0);
      assert.equal((await run('member', 'add', P, '10.0.0.1')).code, 0);
      const cases = [
        [['member', 'add', P, '10.0.0.256'], /10\.0\.0\.256.*TIERDNS_E_BAD_IP/],
        [['member', 'add', P, '2001:db8:::1'], /2001:db8:::1.*TIERDNS_E_BAD_IP/],
        [['member', 'add', P, 'fe80::1%eth0'], /TIERDNS_E_BAD_IP/],
        [['member', 'add', P, '0.0.0.0'], /unicast.*TIERDNS_E_BAD_IP/],
        [['member', 'add', P, '10.0.0.2', '--weight', '0'], /--weight.*1\.\.1000.*TIERDNS_E_BAD_VALUE/],
        [['member', 'add', P, '10.0.0.2', '--weight', '1000000'], /--weight.*TIERDNS_E_BAD_VALUE/],
        [['member', 'add', P, '10.0.0.2', '--weight', '1e3'], /--weight/],
        [['member', 'add', P, '10.0.0.2', '--port', '70000'], /--port.*TIERDNS_E_BAD_VALUE/],
        [['member', 'add', P, '10.0.0.2', '--bogus'], /unknown option '--bogus'/],
        [['member', 'add', P, '10.0.0.2', 'extra'], /'extra' is not an IPv4.*TIERDNS_E_BAD_IP/],
        [['member', 'add', P, '10.0.0.2', '127.0.0.14:8080'], /127\.0\.0\.14 --port 8080.*TIERDNS_E_BAD_IP/],
        [['member', 'add', P, '10.0.0.2', '[2001:db8::10]:8080'], /2001:db8::10 --port 8080.*TIERDNS_E_BAD_IP/],
        [['member', 'add', 'nope.lb.example.com', '10.0.0.2'], /nope\.lb\.example\.com.*TIERDNS_E_NO_POOL/],
        [['member', 'rm', P, '10.9.9.9'], /10\.9\.9\.9.*TIERDNS_E_NO_MEMBER/],
        [['member', 'drain', P, '10.9.9.9'], /TIERDNS_E_NO_MEMBER/],
        [['member', 'undrain', 'nope.lb.example.com', '10.0.0.1'], /TIERDNS_E_NO_POOL/],
        [['pool', 'set', 'ws.example.org'], /outside every zone.*TIERDNS_E_NOT_IN_ZONE/],
        [['pool', 'set', 'bad..name.lb.example.com'], /TIERDNS_E_BAD_NAME/],
        [['pool', 'set', P, '--prot', '8'], /unknown option '--prot'/],
        [['pool', 'set', P, '--interval', '2x'], /--interval.*2x.*TIERDNS_E_BAD_DURATION/],
        [['pool', 'set', P, '--interval', '50ms'], /--interval.*TIERDNS_E_BAD_VALUE/],
        [['pool', 'set', P, '--ttl', '1.5s'], /--ttl.*whole seconds/],
        [['pool', 'set', P, '--ttl', '100000'], /--ttl.*0\.\.86400/],
        // The hint offers what a TTL takes, not the 500ms of other durations.
        [['pool', 'set', P, '--ttl', '10x'], /--ttl: '10x' is not a duration \(use whole seconds, e\.g\. 20, 20s, 1m\).*TIERDNS_E_BAD_DURATION/],
        [['pool', 'set', P, '--timeout', '2s', '--interval', '2s'], /--timeout.*below --interval.*TIERDNS_E_BAD_VALUE/],
        [['pool', 'set', P, '--timeout', '3s'], /--timeout.*below --interval \(2000ms\)/],
        [['pool', 'set', P, '--fast-interval', '3s'], /--fast-interval.*--interval/],
        [['pool', 'set', P, '--rise', '0'], /--rise.*1\.\.100/],
        [['pool', 'set', P, '--fall', '101'], /--fall/],
        [['pool', 'set', P, '--max-answers', '65'], /--max-answers.*0\.\.64/],
        [['pool', 'set', P, '--check', 'icmp'], /--check.*none\|tcp\|http\|https\|ws/],
        [['pool', 'set', P, '--expect', '399-200'], /--expect/],
        [['pool', 'set', P, '--path', 'healthz'], /--path.*start with '\/'/],
        [['pool', 'set', P, '--when-all-down', 'sometimes'], /--when-all-down/],
        [['pool', 'set', P, '--when-all-down', `pool:${P}`], /itself/],
        [['pool', 'set', P, '--when-all-down', 'pool:nope.lb.example.com'], /nope\.lb\.example\.com.*TIERDNS_E_NO_POOL/],
        [['pool', 'rm', 'nope.lb.example.com'], /TIERDNS_E_NO_POOL/],
        [['pool', 'frobnicate'], /unknown command/],
        [['status', 'nope.lb.example.com'], /TIERDNS_E_NO_POOL/],
      ];
      const before = await storeState(loc);
      // Independent refusals, so they may run side by side (several at once also exercises the lock).
      for (let i = 0; i < cases.length; i += 6) {
        const batch = cases.slice(i, i + 6);
        const results = await Promise.all(batch.map(([args]) => run(...args)));
        batch.forEach(([args, expected], j) => {
          const r = results[j];
          assert.notEqual(r.code, 0, `${args.join(' ')} exited 0`);
          assert.match(oneLine(r), expected, args.join(' '));
          assert.equal(r.stdout, '', `${args.join(' ')} printed to stdout`);
        });
      }
      assert.deepEqual(await storeState(loc), before, 'the store changed');
      // A backup pool cannot be removed while it is one; a loop of backups is refused.
      assert.equal((await run('pool', 'set', 'b.lb.example.com', '--when-all-down', `pool:${P}`)).code, 0);
      const withBackup = await storeState(loc);
      for (const [args, expected] of [
        [['pool', 'rm', P], /backup of b\.lb\.example\.com/],
        [['pool', 'set', P, '--when-all-down', 'pool:b.lb.example.com'], /loop/],
      ]) {
        const r = await run(...args);
        assert.notEqual(r.code, 0);
        assert.match(oneLine(r), expected);
      }
      assert.deepEqual(await storeState(loc), withBackup);
    });

    test('pool set on an existing pool changes only the flags given; defaults follow', async (t) => {
      const { run } = setup(t);
      await run('pool', 'set', P, '--rise', '4', '--host', 'ws.example.com');
      await run('pool', 'set', P, '--interval', '8s');
      await run('pool', 'set', P, '--check', 'https');
      await run('pool', 'set', P, '--host', '');
      const [cfg] = JSON.parse((await run('pool', 'ls', '--json')).stdout).pools;
      assert.deepEqual([cfg.rise, cfg.intervalMs, cfg.fastIntervalMs, cfg.check, cfg.port, cfg.host], [4, 8000, 2000, 'https', 443, null]);
      const r = await run('pool', 'set', P, '--rise', '4');
      assert.equal(firstLine(r), `pool ${P} unchanged`);
    });

    test('20 concurrent member add processes all land', async (t) => {
      const { run } = setup(t);
      assert.equal((await run('pool', 'set', P)).code, 0);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run('member', 'add', P, `10.1.0.${i + 1}`)));
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const [pool] = JSON.parse((await run('status', '--json')).stdout).pools;
      assert.equal(pool.members.length, 20);
    });

    test('zones: without a zones dir, names are checked against zones servers published', async (t) => {
      const loc = backend.location(t);
      const cwd = tmpDir(t, 'tierdns-cli-nozones-');
      let r = await runCli(['pool', 'set', P, '--store', loc.url], { cwd });
      assert.notEqual(r.code, 0);
      assert.match(oneLine(r), /--zones DIR.*TIERDNS_E_NOT_IN_ZONE/);
      const store = loc.open();
      await store.heartbeat('ns1', 60_000, Date.now());
      await store.publishZones('ns1', ['lb.example.com']);
      r = await runCli(['pool', 'set', P, '--store', loc.url], { cwd });
      assert.equal(r.code, 0, r.stderr);
      r = await runCli(['pool', 'set', 'x.example.org', '--store', loc.url], { cwd });
      assert.match(oneLine(r), /outside every zone \(the zones running servers published: lb\.example\.com\)/);
      // TIERDNS_STORE stands in for --store; --zones names a directory explicitly.
      const zonesDir = path.join(cwd, 'z');
      fs.mkdirSync(zonesDir);
      fs.writeFileSync(path.join(zonesDir, 'example.org.zone'), '');
      r = await runCli(['pool', 'set', 'x.example.org', '--zones', zonesDir], { cwd, env: { TIERDNS_STORE: loc.url } });
      assert.equal(r.code, 0, r.stderr);
    });

    test('status --watch redraws until Ctrl-C', async (t) => {
      const { loc, cwd, run } = setup(t);
      assert.equal((await run('pool', 'set', P)).code, 0);
      const { spawn } = require('node:child_process');
      const { CLI } = require('./helpers/cli');
      const child = spawn(process.execPath, [CLI, 'status', '--watch', '--store', loc.url], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      const exited = new Promise((r) => child.on('close', (code) => r(code)));
      const deadline = Date.now() + 5000;
      while ((out.match(/tierdns status/g) || []).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok((out.match(/tierdns status/g) || []).length >= 2, `expected two frames, got ${JSON.stringify(out)}`);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    });
  });
}

describe('cli: unreachable store', () => {
  test('one line, non-zero, within 3 s; nothing hangs', async (t) => {
    const net = require('node:net');
    const { freePort } = require('./helpers/redis');
    const sockets = new Set();
    const hole = net.createServer((s) => { sockets.add(s); });
    await new Promise((r) => hole.listen(0, '127.0.0.1', r));
    t.after(() => { for (const s of sockets) s.destroy(); hole.close(); });
    const cwd = workDir(t);
    for (const url of [`redis://127.0.0.1:${await freePort()}/0`, `redis://127.0.0.1:${hole.address().port}/0`]) {
      for (const args of [['status'], ['member', 'add', P, '10.0.0.1'], ['pool', 'set', P]]) {
        const r = await runCli([...args, '--store', url], { cwd });
        assert.notEqual(r.code, 0);
        assert.match(oneLine(r), /unreachable.*TIERDNS_E_STORE_UNREACHABLE/);
        assert.ok(r.ms < 3000, `${args.join(' ')} against ${url} took ${r.ms} ms`);
      }
    }
  });

  test('a malformed store URL is one line naming it', async (t) => {
    const cwd = workDir(t);
    for (const url of ['redis://127.0.0.1:99999/0', 'mysql://x', 'redis://:secret@127.0.0.1:1/0?tls=1']) {
      const r = await runCli(['status', '--store', url], { cwd });
      assert.notEqual(r.code, 0);
      const line = oneLine(r);
      assert.match(line, /TIERDNS_E_STORE_URL/);
      assert.doesNotMatch(line, /secret/);
    }
  });
});
