'use strict';
// `tierdns apply -f FILE` and `tierdns export` through the real CLI against both stores: a
// file applied, exported and planned again plans nothing; a bad file changes nothing and names
// file, line and field; pool names no server would answer for (apex, CNAME owner, delegation,
// below one, outside every zone) refuse the whole file in `pool set`'s words; --prune;
// --dry-run; health kept across changes.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { redisBackend, fileBackend, tmpDir } = require('./helpers/store');
const { CLI, runCli, storeState } = require('./helpers/cli');

const WS = 'ws.lb.example.com';
const API = 'api.lb.example.com';

const POOLS = `# pools of the lb.example.com tiers
pools:
  ${WS}:
    ttl: 20s
    check: ws
    port: 8080
    path: /healthz
    members:
      - 192.0.2.10
      - { ip: 192.0.2.11, weight: 2 }
      - { ip: 2001:db8::10, admin: drained }
  API.LB.example.com.:
    interval: 1500ms
    ttl: 1m
    when-all-down: pool:${WS}
    members: [192.0.2.20, { ip: 192.0.2.21, port: 9000 }]
  empty.lb.example.com:
`;

/** `tierdns …` with stdin text (for `-f -`). */
function runWithInput(args, input, { cwd }) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, TIERDNS_STORE: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

for (const backend of [redisBackend(), fileBackend()]) {
  describe(`cli apply/export: ${backend.name} store`, () => {
    before(() => backend.before());
    after(() => backend.after());

    function setup(t) {
      const loc = backend.location(t);
      const cwd = tmpDir(t, 'tierdns-apply-');
      fs.mkdirSync(path.join(cwd, 'zones'));
      fs.writeFileSync(path.join(cwd, 'zones', 'lb.example.com.zone'), '');
      const write = (name, text) => {
        fs.writeFileSync(path.join(cwd, name), text);
        return name;
      };
      const run = (...args) => runCli([...args, '--store', loc.url], { cwd });
      const pipe = (args, input) => runWithInput([...args, '--store', loc.url], input, { cwd });
      return { loc, cwd, write, run, pipe };
    }

    test('apply → export → apply --dry-run plans nothing; apply again writes nothing', async (t) => {
      const { loc, write, run, pipe } = setup(t);
      const file = write('pools.yaml', POOLS);
      const empty = await storeState(loc);
      let r = await run('apply', '-f', file, '--dry-run');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^\\+ pool ${WS}  check ws, port 8080, path /healthz$`, 'm'));
      assert.match(r.stdout, /^ {4}\+ member 192\.0\.2\.11 {2}weight 2$/m);
      assert.match(r.stdout, /^ {4}\+ member 2001:db8::10 {2}drained$/m);
      assert.match(r.stdout, /dry run: 3 to create, 0 to change, 0 to remove, 0 unchanged; nothing changed/);
      assert.deepEqual(await storeState(loc), empty, 'a dry run wrote');

      r = await run('apply', '-f', file);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /applied: 3 created, 0 changed, 0 removed, 0 unchanged\nstore: /);
      const status = JSON.parse((await run('status', '--json')).stdout);
      const api = status.pools.find((p) => p.name === API);
      assert.deepEqual([api.ttl, api.intervalMs, api.fastIntervalMs, api.whenAllDown], [60, 1500, 375, `pool:${WS}`]);
      assert.deepEqual(api.members.map((m) => [m.ip, m.weight, m.port, m.admin]), [['192.0.2.20', 1, null, 'enabled'], ['192.0.2.21', 1, 9000, 'enabled']]);
      const ws = status.pools.find((p) => p.name === WS);
      assert.deepEqual(ws.members.map((m) => [m.ip, m.weight, m.admin]), [['192.0.2.10', 1, 'enabled'], ['192.0.2.11', 2, 'enabled'], ['2001:db8::10', 1, 'drained']]);

      const stored = await storeState(loc);
      r = await run('apply', '-f', file);
      assert.match(r.stdout, /^no changes: 3 pools match pools\.yaml$/m);
      assert.deepEqual(await storeState(loc), stored, 'an apply with nothing to change wrote');

      const yaml = (await run('export')).stdout;
      assert.match(yaml, /^pools:\n {2}api\.lb\.example\.com:\n {4}ttl: 1m\n {4}interval: 1\.5s\n/);
      assert.match(yaml, /- \{ ip: 2001:db8::10, admin: drained \}/);
      for (const exported of [yaml, (await run('export', '--json')).stdout]) {
        r = await pipe(['apply', '-f', '-', '--dry-run'], exported);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^dry run: no changes, 3 pools match <stdin>$/m);
      }
      assert.deepEqual(await storeState(loc), stored);
    });

    test('changes: settings back to defaults, members changed, added, removed; health of kept members stays', async (t) => {
      const { loc, write, run } = setup(t);
      assert.equal((await run('apply', '-f', write('pools.yaml', POOLS))).code, 0);
      const store = loc.open();
      await store.heartbeat('ns1', 60_000, Date.now());
      await store.recordObservation(WS, '192.0.2.10', { instance: 'ns1', state: 'up', sinceMs: Date.now() });
      const changed = POOLS.replace('    port: 8080\n', '')
        .replace('- 192.0.2.10\n', '- { ip: 192.0.2.10, weight: 3 }\n')
        .replace('      - { ip: 192.0.2.11, weight: 2 }\n', '      - 192.0.2.12\n');
      const r = await run('apply', '-f', write('pools.yaml', changed));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split('\n').slice(0, 6).join('\n'), [
        `~ pool ${WS}`,
        '    ~ port 8080 -> 80',
        '    ~ member 192.0.2.10  weight 1 -> 3',
        '    + member 192.0.2.12',
        '    - member 192.0.2.11',
        'applied: 0 created, 1 changed, 0 removed, 2 unchanged',
      ].join('\n'));
      const [m] = (await store.readPool(WS)).members;
      assert.deepEqual([m.ip, m.weight, m.verdict, m.observations.length], ['192.0.2.10', 3, 'up', 1]);
    });

    test('--prune removes the pools the file does not name; without it they stay', async (t) => {
      const { write, run } = setup(t);
      assert.equal((await run('pool', 'set', 'old.lb.example.com')).code, 0);
      assert.equal((await run('member', 'add', 'old.lb.example.com', '10.0.0.1', '10.0.0.2')).code, 0);
      const file = write('pools.yaml', POOLS);
      assert.equal((await run('apply', '-f', file)).code, 0);
      const names = async () => JSON.parse((await run('pool', 'ls', '--json')).stdout).pools.map((p) => p.name).sort();
      assert.deepEqual(await names(), [API, 'empty.lb.example.com', 'old.lb.example.com', WS]);
      let r = await run('apply', '-f', file, '--prune', '--dry-run');
      assert.match(r.stdout, /^- pool old\.lb\.example\.com \(2 members\)\ndry run: 0 to create, 0 to change, 1 to remove, 3 unchanged/m);
      assert.equal((await names()).length, 4);
      // A pool the file keeps may not lose its backup to --prune.
      r = await run('apply', '-f', write('api-only.yaml', `pools:\n  ${API}:\n    when-all-down: pool:${WS}\n`), '--prune');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /^tierdns: api-only\.yaml:3: pools\.api\.lb\.example\.com\.when-all-down: ws\.lb\.example\.com would be removed \(--prune\).*TIERDNS_E_NO_POOL/m);
      r = await run('apply', '-f', file, '--prune');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /applied: 0 created, 0 changed, 1 removed, 3 unchanged/);
      assert.deepEqual(await names(), [API, 'empty.lb.example.com', WS]);
      r = await run('apply', '-f', write('none.yaml', 'pools: {}\n'), '--prune');
      assert.match(r.stdout, /applied: 0 created, 0 changed, 3 removed, 0 unchanged/);
      assert.deepEqual(await names(), []);
    });

    test('pool names no server would answer for are refused, one line each, and nothing changes', async (t) => {
      const { loc, cwd, write, run } = setup(t);
      // The same zone `pool set` is checked against in test/pool-names.test.js, smaller.
      fs.writeFileSync(path.join(cwd, 'zones', 'lb.example.com.zone'), [
        '$ORIGIN lb.example.com.', '$TTL 300',
        '@ IN SOA ns1.lb.example.com. hostmaster.example.com. 1 3600 600 86400 60',
        '@ IN NS ns1.lb.example.com.',
        'ns1 IN A 127.0.0.1',
        'www IN CNAME ws.lb.example.com.',
        'sub IN NS ns.sub.lb.example.com.',
        'ns.sub IN A 192.0.2.53', '',
      ].join('\n'));
      assert.equal((await run('apply', '-f', write('good.yaml', POOLS))).code, 0);
      const before = await storeState(loc);
      const BAD = [
        // [pool name, why, code]: the words `pool set` uses
        ['lb.example.com', 'is the apex of zone lb\\.example\\.com: a pool there would never be served', 'TIERDNS_E_NOT_SERVABLE'],
        ['www.lb.example.com', 'has static CNAME records in zone lb\\.example\\.com: a pool there would never be served', 'TIERDNS_E_NOT_SERVABLE'],
        ['sub.lb.example.com', 'is a delegation point \\(NS records\\) in zone lb\\.example\\.com: a pool there would never be served', 'TIERDNS_E_NOT_SERVABLE'],
        ['ws.ns.sub.lb.example.com', 'lies below the delegation sub\\.lb\\.example\\.com in zone lb\\.example\\.com: a pool there would never be served', 'TIERDNS_E_NOT_SERVABLE'],
        ['ws.example.org', 'is outside every zone \\(the \\*\\.zone files in zones: lb\\.example\\.com\\)', 'TIERDNS_E_NOT_IN_ZONE'],
      ];
      const esc = (name) => name.replace(/\./g, '\\.');
      // Each name alone, in a file whose other pools are fine (and one a change): refused, whole file.
      for (const [name, why, code] of BAD) {
        const file = write('one.yaml', `${POOLS.replace('ttl: 20s', 'ttl: 30s')}  ${name}:\n    members: [192.0.2.99]\n`);
        for (const args of [['apply', '-f', file], ['apply', '-f', file, '--dry-run'], ['apply', '-f', file, '--prune']]) {
          const r = await run(...args);
          assert.equal(r.code, 2, `${name} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
          assert.equal(r.stdout, '');
          const lines = r.stderr.trimEnd().split('\n');
          assert.equal(lines.length, 2, r.stderr);
          assert.match(lines[0], new RegExp(`^tierdns: one\\.yaml:18: pools\\.${esc(name)}: ${esc(name)} ${why} .*\\(${code}\\)$`));
          assert.match(lines[1], /^tierdns: one\.yaml: 1 problem, nothing changed/);
        }
      }
      // All of them at once: one line per bad pool, in file order, then the summary.
      const all = write('all.yaml', `${POOLS}${BAD.map(([name]) => `  ${name}:\n`).join('')}`);
      const r = await run('apply', '-f', all);
      assert.equal(r.code, 2);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, BAD.length + 1, r.stderr);
      BAD.forEach(([name, why, code], i) => assert.match(lines[i], new RegExp(`^tierdns: all\\.yaml:${18 + i}: pools\\.${esc(name)}: ${esc(name)} ${why} .*\\(${code}\\)$`)));
      assert.match(lines.at(-1), /^tierdns: all\.yaml: 5 problems, nothing changed/);
      assert.deepEqual(await storeState(loc), before, 'a refused file changed the store');

      // The same names are refused by `pool set` with the same words.
      for (const [name, why, code] of BAD) {
        const set = await run('pool', 'set', name);
        assert.match(set.stderr, new RegExp(`^tierdns: ${esc(name)} ${why} .*\\(${code}\\)\n$`));
      }
      // A good file still applies, and --zones DIR is read like `pool set` reads it.
      const good = await run('apply', '-f', write('good2.yaml', `${POOLS.replace('ttl: 20s', 'ttl: 30s')}  txt.lb.example.com:\n  a.b.lb.example.com:\n`), '--zones', path.join(cwd, 'zones'));
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, /applied: 2 created, 1 changed, 0 removed, 2 unchanged/);
    });

    test('a bad file changes nothing and names file, line and field', async (t) => {
      const { loc, write, run } = setup(t);
      assert.equal((await run('apply', '-f', write('good.yaml', POOLS))).code, 0);
      const before = await storeState(loc);
      const cases = [
        // [file text, expected stderr lines (before the summary line)]
        [POOLS.replace('ttl: 20s', 'ttl: 1.5s'), [/^bad\.yaml:4: pools\.ws\.lb\.example\.com\.ttl: must be whole seconds.*TIERDNS_E_BAD_VALUE/]],
        [POOLS.replace('check: ws', 'chek: ws'), [/^bad\.yaml:5: pools\.ws\.lb\.example\.com\.chek: unknown setting.*TIERDNS_E_POOL_FILE/]],
        [POOLS.replace('weight: 2', 'weight: 0'), [/^bad\.yaml:10: pools\.ws\.lb\.example\.com\.members\[1\]\.weight: must be an integer 1\.\.1000.*TIERDNS_E_BAD_VALUE/]],
        [POOLS.replace('- 192.0.2.10', '- 192.0.2.10:8080'), [/^bad\.yaml:9: pools\.ws\.lb\.example\.com\.members\[0\]: .*\{ ip: 192\.0\.2\.10, port: 8080 \}.*TIERDNS_E_BAD_IP/]],
        [POOLS.replace('admin: drained', 'admin: off'), [/^bad\.yaml:11: pools\.ws\.lb\.example\.com\.members\[2\]\.admin: must be enabled or drained/]],
        [POOLS.replace('{ ip: 192.0.2.11, weight: 2 }', '192.0.2.10'), [/^bad\.yaml:10: pools\.ws\.lb\.example\.com\.members\[1\]: 192\.0\.2\.10 is listed twice \(also at line 9\)/]],
        [POOLS.replace('interval: 1500ms', 'interval: 1500ms\n    timeout: 2s'), [/^bad\.yaml:14: pools\.api\.lb\.example\.com\.timeout: \(2000ms\) must be below interval \(1500ms\)/]],
        [POOLS.replace(`pool:${WS}`, 'pool:nope.lb.example.com'), [/^bad\.yaml:15: pools\.api\.lb\.example\.com\.when-all-down: no pool named nope\.lb\.example\.com.*TIERDNS_E_NO_POOL/]],
        [`${POOLS}  ws.example.org:\n`, [/^bad\.yaml:18: pools\.ws\.example\.org: ws\.example\.org is outside every zone.*TIERDNS_E_NOT_IN_ZONE/]],
        [`${POOLS}  WS.lb.example.com:\n`, [/^bad\.yaml:18: pools\.WS\.lb\.example\.com: names the same pool as line 3/]],
        [POOLS.replace('ttl: 20s', 'ttl: 20s\n    ttl: 30s'), [/^bad\.yaml:5: syntax: Map keys must be unique.*TIERDNS_E_POOL_FILE/]],
        [POOLS.replace('members: [192.0.2.20,', 'members: [192.0.2.20'), [/^bad\.yaml:\d+: syntax: /]],
        ['pool:\n  a.lb.example.com:\n', [/^bad\.yaml:1: pool: unknown key/, /^bad\.yaml:1: pools: missing/]],
        ['', [/^bad\.yaml:1: pools: the file must be a mapping/]],
        // Several problems are all reported, each on its own line.
        [POOLS.replace('ttl: 20s', 'ttl: soon').replace('weight: 2', 'weight: heavy'), [/^bad\.yaml:4: .*\.ttl: .*TIERDNS_E_BAD_DURATION/, /^bad\.yaml:10: .*\.weight: /]],
      ];
      // Independent refusals, several side by side, each from its own file.
      const results = [];
      for (let i = 0; i < cases.length; i += 5) {
        results.push(...await Promise.all(cases.slice(i, i + 5).map(([text], j) => run('apply', '-f', write(`bad${i + j}.yaml`, text)))));
      }
      for (const [k, [text, expected]] of cases.entries()) {
        const r = results[k];
        r.stderr = r.stderr.replace(/bad\d+\.yaml/g, 'bad.yaml');
        assert.notEqual(r.code, 0, text);
        const lines = r.stderr.trimEnd().split('\n').map((l) => l.replace(/^tierdns: /, ''));
        assert.equal(lines.length, expected.length + 1, r.stderr);
        expected.forEach((re, i) => assert.match(lines[i], re));
        assert.match(lines.at(-1), /^bad\.yaml: \d+ problems?, nothing changed/);
        assert.equal(r.stdout, '');
      }
      assert.deepEqual(await storeState(loc), before, 'a bad file changed the store');
      const missing = await run('apply', '-f', 'nothere.yaml');
      assert.match(missing.stderr, /cannot read nothere\.yaml: ENOENT.*TIERDNS_E_USAGE/);
    });
  });
}
