'use strict';
// `tierdns status` as operators and monitoring use it: one line per pool within 80 columns,
// --down, the members of one pool, --check's Nagios exit codes in every state (observations
// written to a real store, and a real server probing fake balancers), and --watch on a
// terminal keeping its header.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { redisBackend, fileBackend, waitFor } = require('./helpers/store');
const { CLI, runCli } = require('./helpers/cli');
const { startServe, tempDir } = require('./helpers/serve');
const { tcpBalancer } = require('./helpers/balancers');
const { freePort } = require('./helpers/redis');

const WS = 'ws.lb.example.com';
const API = 'api.lb.example.com';
const LONG = `a-pool-name-much-longer-than-any-column.would-hold-${'x'.repeat(40)}.lb.example.com`;

/** A folder with zones/; removed after the servers a test started have exited. */
function workDir(t) {
  const cwd = tempDir(t, 'tierdns-status-');
  fs.mkdirSync(path.join(cwd, 'zones'));
  fs.writeFileSync(path.join(cwd, 'zones', 'lb.example.com.zone'), '');
  return cwd;
}

for (const backend of [redisBackend(), fileBackend()]) {
  describe(`cli status: ${backend.name} store`, () => {
    before(() => backend.before());
    after(() => backend.after());

    /** Two pools of two members each, and an instance whose observations the test writes. */
    async function setup(t) {
      const loc = backend.location(t);
      const cwd = workDir(t);
      const run = (...args) => runCli([...args, '--store', loc.url], { cwd });
      for (const [pool, ips] of [[WS, ['192.0.2.10', '192.0.2.11']], [API, ['192.0.2.20', '2001:db8::20']]]) {
        assert.equal((await run('pool', 'set', pool)).code, 0);
        assert.equal((await run('member', 'add', pool, ...ips)).code, 0);
      }
      const store = loc.open();
      await store.heartbeat('ns1', 600_000, Date.now());
      const observe = (pool, ip, state, error) => store.recordObservation(pool, ip, {
        instance: 'ns1', state, sinceMs: Date.now(), lastProbeMs: Date.now(), lastOk: state === 'up', lastLatencyMs: 0.4, ...(error ? { lastError: error } : {}),
      });
      return { loc, cwd, run, store, observe };
    }

    test('status --check: 0 all up, 1 one down or drained, 2 a pool with no member up; one line each', async (t) => {
      const { run, store, observe } = await setup(t);
      const check = async () => {
        const r = await run('status', '--check');
        assert.equal(r.stdout.split('\n').length, 2, `one line: ${JSON.stringify(r.stdout)}`);
        assert.equal(r.stderr, '');
        return r;
      };
      // Members no instance has probed yet are not up: every pool fails open.
      let r = await check();
      assert.equal(r.code, 2);
      assert.match(r.stdout, /^TIERDNS CRITICAL - 2 of 2 pools without a member up: .*\| pools=2 members=4 up=0 down=0 unknown=4/);
      for (const ip of ['192.0.2.10', '192.0.2.11']) await observe(WS, ip, 'up');
      for (const ip of ['192.0.2.20', '2001:db8::20']) await observe(API, ip, 'up');
      r = await check();
      assert.equal(r.code, 0, r.stdout);
      assert.equal(r.stdout, 'TIERDNS OK - 2 pools, all 4 members up | pools=2 members=4 up=4 down=0 unknown=0 drained=0 instances=1\n');

      await observe(WS, '192.0.2.11', 'down', 'connect ECONNREFUSED 192.0.2.11:80');
      r = await check();
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^TIERDNS WARNING - 1 of 2 pools with members not up: ws\.lb\.example\.com \(1 down\) \| .*down=1/);
      await observe(WS, '192.0.2.11', 'up');
      await store.updateMember(API, '192.0.2.20', { admin: 'drained' });
      r = await check();
      assert.equal(r.code, 1);
      assert.match(r.stdout, /api\.lb\.example\.com \(1 drained\)/);

      // Every IPv6 member of a pool down while IPv4 answers: that family fails open.
      await store.updateMember(API, '192.0.2.20', { admin: 'enabled' });
      await observe(API, '2001:db8::20', 'down');
      r = await check();
      assert.equal(r.code, 2);
      assert.match(r.stdout, /^TIERDNS CRITICAL - 1 of 2 pools without a member up: api\.lb\.example\.com \(FAILING OPEN IPv6\)/);
      for (const ip of ['192.0.2.10', '192.0.2.11']) await observe(WS, ip, 'down');
      await observe(API, '2001:db8::20', 'up');
      r = await check();
      assert.equal(r.code, 2);
      assert.match(r.stdout, /^TIERDNS CRITICAL - 1 of 2 pools without a member up: ws\.lb\.example\.com \(FAILING OPEN\)/);
      // The check of one pool looks at that pool only.
      assert.equal((await run('status', API, '--check')).code, 0);
      assert.equal((await run('status', WS, '--check')).code, 2);
      // A pool whose every member is drained answers nothing.
      for (const ip of ['192.0.2.10', '192.0.2.11']) await observe(WS, ip, 'up');
      await store.updateMembers(WS, [['192.0.2.10', { admin: 'drained' }], ['192.0.2.11', { admin: 'drained' }]]);
      r = await check();
      assert.equal(r.code, 2);
      assert.match(r.stdout, /ws\.lb\.example\.com \(ALL DRAINED\)/);
    });

    test('status: one line per pool within 80 columns, --down, the members of one pool', async (t) => {
      const { run, observe } = await setup(t);
      assert.equal((await run('pool', 'set', LONG, '--when-all-down', 'none')).code, 0);
      assert.equal((await run('member', 'add', LONG, '2001:db8:ffff:ffff:ffff:ffff:ffff:ff10', '--port', '65535')).code, 0);
      for (const ip of ['192.0.2.10', '192.0.2.11']) await observe(WS, ip, 'up');
      await observe(API, '192.0.2.20', 'down', `connect ETIMEDOUT ${'after a very long and winding road '.repeat(4)}`);
      await observe(LONG, '2001:db8:ffff:ffff:ffff:ffff:ffff:ff10', 'down', 'x'.repeat(200));
      let r = await run('status');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      for (const line of lines) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
      assert.match(lines[0], /^POOL +UP +DOWN +UNKNOWN +DRAINED +STATE$/);
      assert.match(r.stdout, /^api\.lb\.example\.com +0\/2 +1 +1 +0 +FAILING OPEN$/m);
      assert.match(r.stdout, /^ws\.lb\.example\.com +2\/2 +0 +0 +0 +ok$/m);
      assert.match(r.stdout, /^a-pool-name-much-longer.*… +0\/1 +1 +0 +0 +NODATA$/m);
      assert.match(r.stdout, /^3 pools: 1 nodata, 1 failing open, 1 ok$/m);
      assert.match(r.stdout, /^instances: ns1 \(heartbeat .* ago\)$/m);

      r = await run('status', '--down');
      assert.doesNotMatch(r.stdout, /ws\.lb\.example\.com/);
      assert.match(r.stdout, /^2 of 3 pools have a member not up: 1 nodata, 1 failing open$/m);

      for (const pool of [API, LONG]) {
        r = await run('status', pool);
        assert.equal(r.code, 0, r.stderr);
        for (const line of r.stdout.trimEnd().split('\n')) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
      }
      r = await run('status', API);
      assert.match(r.stdout, /^api\.lb\.example\.com +FAILING OPEN +0\/2 up, 1 down, 1 unknown, 0 drained$/m);
      assert.match(r.stdout, /^ {2}192\.0\.2\.20 +1 +enabled +down \S+ +ns1=down +fail \S+ ago ns1: con.*…$/m);
      assert.match(r.stdout, /^ {2}2001:db8::20 +1 +enabled +unknown \S+ +- +-$/m);
      r = await run('status', API, '--down', '--json');
      const [pool] = JSON.parse(r.stdout).pools;
      assert.deepEqual(pool.health, { members: 2, up: 0, down: 1, unknown: 1, drained: 0, state: 'failing-open', allDownFamilies: ['IPv4', 'IPv6'], families: 2 });
    });

  });
}

describe('cli status --watch', () => {
  test('status --watch on a terminal redraws in place and keeps its header on a short screen', async (t) => {
    const loc = fileBackend().location(t);
    const cwd = workDir(t);
    const pools = Array.from({ length: 30 }, (_, i) => `  p${i}.lb.example.com:\n    members: [192.0.2.${i + 1}]\n`).join('');
    fs.writeFileSync(path.join(cwd, 'pools.yaml'), `pools:\n${pools}`);
    assert.equal((await runCli(['apply', '-f', 'pools.yaml', '--store', loc.url], { cwd })).code, 0);
    // python3's pty gives the CLI a terminal of 12 rows and 80 columns, as a small ssh window would.
    const py = [
      'import fcntl, os, pty, select, struct, sys, termios, time',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv(sys.argv[1], sys.argv[1:])',
      "fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 12, 80, 0, 0))",
      'os.kill(pid, 28)',
      'out, end = b"", time.time() + 8',
      'while time.time() < end and out.count(b"tierdns status") < 3:',
      '    r, _, _ = select.select([fd], [], [], 0.2)',
      '    if r:',
      '        try: out += os.read(fd, 65536)',
      '        except OSError: break',
      'os.kill(pid, 2)',
      'time.sleep(0.3)',
      'try: out += os.read(fd, 65536)',
      'except OSError: pass',
      'os.waitpid(pid, 0)',
      'sys.stdout.buffer.write(out)',
    ].join('\n');
    const child = spawn('python3', ['-c', py, process.execPath, CLI, 'status', '--watch', '--store', loc.url], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    await new Promise((r) => child.on('close', r));
    assert.ok(out.includes('\x1b[?1049h') && out.includes('\x1b[?1049l'), 'alternate screen entered and left');
    const frames = out.split('\x1b[H').slice(1);
    assert.ok(frames.length >= 2, `expected two frames, got ${JSON.stringify(out.slice(0, 400))}`);
    for (const frame of frames.slice(0, -1)) {
      const lines = frame.replace(/\x1b\[\?[0-9]+[hl]/g, '').split(/\x1b\[K\r?\n/);
      assert.match(lines[0], /^tierdns status {2}/, 'every frame starts with the header');
      assert.ok(lines.length <= 12, `a frame of ${lines.length} lines on a 12-row screen`);
      assert.match(frame, /… \d+ more lines: narrow with --down or a pool name/);
    }
  });
});

describe('cli status: the store cannot be read', () => {
  test('status --check says UNKNOWN and exits 3: unreachable Redis, missing store file', async (t) => {
    const cwd = workDir(t);
    for (const store of [`redis://127.0.0.1:${await freePort()}/0`, `file:${path.join(cwd, 'nope', 'store.json')}`]) {
      const r = await runCli(['status', '--check', '--store', store], { cwd });
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(r.stdout, /^TIERDNS UNKNOWN - .*\((TIERDNS_E_STORE_UNREACHABLE|TIERDNS_E_STORE_MISSING)\)\n$/);
      assert.equal(r.stderr, '');
    }
    assert.ok(!fs.existsSync(path.join(cwd, 'nope')), 'a check created the store folder');
  });
});

describe('cli status: a real server probing balancers', () => {
  test('status --check follows what the server sees: 0, then 1 when a balancer dies, then 2', async (t) => {
    const cwd = workDir(t);
    // The store inside cwd: removed only once the server has exited.
    const loc = { url: `file:${path.join(cwd, 'store.json')}` };
    fs.writeFileSync(path.join(cwd, 'zones', 'lb.example.com.zone'),
      '$ORIGIN lb.example.com.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 30\n@ NS ns1\nns1 A 127.0.0.1\n');
    const a = await tcpBalancer(t, '127.0.0.2');
    const b = await tcpBalancer(t, '127.0.0.3');
    const run = (...args) => runCli([...args, '--store', loc.url], { cwd });
    assert.equal((await run('pool', 'set', WS, '--interval', '300ms', '--timeout', '200ms', '--fall', '1', '--rise', '1')).code, 0);
    assert.equal((await run('member', 'add', WS, '127.0.0.2', '--port', String(a.port))).code, 0);
    assert.equal((await run('member', 'add', WS, '127.0.0.3', '--port', String(b.port))).code, 0);
    await startServe(t, ['--zones', path.join(cwd, 'zones'), '--store', loc.url, '--instance', 'ns1']);
    const codeIs = (want) => waitFor(async () => (await run('status', '--check')).code === want, 10_000, `status --check exit ${want}`);
    await codeIs(0);
    await a.close();
    await codeIs(1);
    await b.close();
    await codeIs(2);
    assert.match((await run('status', '--check')).stdout, /FAILING OPEN/);
  });
});
