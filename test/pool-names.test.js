'use strict';
// Pool names that would never be served (docs/dns.md, "Pool names"): the apex, a name with
// static A/AAAA/CNAME/DNAME records, a delegation point or a name below one, a name below a
// DNAME. The server leaves such a pool out with a log line (also when a zone is edited later);
// the real CLI refuses to create one, from the zone files or from what servers published,
// against both stores, and leaves the store as it was.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { PoolNameRules } = require('../dist/model/poolNameRules');
const { zonePoolRules } = require('../dist/zone/poolRules');
const { parseZone } = require('../dist/zone/parse');
const { Snapshot } = require('../dist/dns/snapshot');
const { redisBackend, fileBackend, tmpDir, waitFor } = require('./helpers/store');
const { runCli, storeState } = require('./helpers/cli');
const { startServe } = require('./helpers/serve');
const { ask, poolView } = require('./helpers/dns');

const ZONE = (serial, extra = '') => [
  '$ORIGIN lb.example.com.', '$TTL 300',
  `@ IN SOA ns1.lb.example.com. hostmaster.example.com. ${serial} 3600 600 86400 60`,
  '@ IN NS ns1.lb.example.com.',
  'ns1 IN A 127.0.0.1',
  'v6 IN AAAA 2001:db8::1',
  'www IN CNAME ws.lb.example.com.',
  'sub IN NS ns.sub.lb.example.com.',
  'ns.sub IN A 192.0.2.53',
  'd IN DNAME other.example.',
  'txt IN TXT "a pool may share its name with these"',
  extra, '',
].join('\n');
// A child zone served here too: its names are its own, whatever the parent delegates.
const CHILD = [
  '$ORIGIN child.lb.example.com.', '$TTL 300',
  '@ IN SOA ns1.lb.example.com. hostmaster.example.com. 1 3600 600 86400 60',
  '@ IN NS ns1.lb.example.com.', '',
].join('\n');
const PARENT_DELEGATES_CHILD = 'child IN NS ns1.lb.example.com.';

// name → the kind of problem (undefined: a pool there is served)
const CASES = [
  ['lb.example.com', 'apex'],
  ['ns1.lb.example.com', 'static'],
  ['v6.lb.example.com', 'static'],
  ['www.lb.example.com', 'static'],
  ['d.lb.example.com', 'static'],
  ['sub.lb.example.com', 'cut'],
  ['ns.sub.lb.example.com', 'below-cut'],
  ['a.b.sub.lb.example.com', 'below-cut'],
  ['x.d.lb.example.com', 'below-dname'],
  ['child.lb.example.com', 'apex'],
  ['ws.lb.example.com', undefined],
  ['txt.lb.example.com', undefined],
  ['a.b.lb.example.com', undefined],
  ['ws.child.lb.example.com', undefined],
];

function zones(serial = 1, extra = '') {
  const parent = parseZone(ZONE(serial, `${PARENT_DELEGATES_CHILD}\n${extra}`), { file: 'lb.example.com.zone', origin: 'lb.example.com' });
  const child = parseZone(CHILD, { file: 'child.lb.example.com.zone', origin: 'child.lb.example.com' });
  assert.deepEqual([...parent.problems, ...child.problems], []);
  return [parent.zone, child.zone];
}

function zonesDir(t, extra = '') {
  const dir = tmpDir(t, 'tierdns-zones-');
  fs.writeFileSync(path.join(dir, 'lb.example.com.zone'), ZONE(1, `${PARENT_DELEGATES_CHILD}\n${extra}`));
  fs.writeFileSync(path.join(dir, 'child.lb.example.com.zone'), CHILD);
  return dir;
}

test('the rule: apex, static data, delegations and DNAMEs refuse a pool; the longest zone decides', () => {
  const rules = new PoolNameRules(zones().map(zonePoolRules));
  for (const [name, kind] of CASES) assert.equal(rules.problem(name)?.kind, kind, name);
  assert.equal(rules.problem('ws.other.org').kind, 'outside');
  assert.match(rules.problem('www.lb.example.com').message, /static CNAME records in zone lb\.example\.com/);
  assert.match(rules.problem('a.b.sub.lb.example.com').message, /below the delegation sub\.lb\.example\.com/);
  // The root zone holds every name.
  const root = parseZone('$ORIGIN .\n@ 300 IN SOA a. b. 1 1 1 1 1\n@ 300 IN NS a.\nexample 300 IN NS a.\n', { file: 'root.zone', origin: '' });
  assert.deepEqual(root.problems, []);
  const r = new PoolNameRules([zonePoolRules(root.zone)]);
  assert.equal(r.problem('ws.lb.example').kind, 'below-cut');
  assert.equal(r.problem('ws.example.org'), undefined);
});

test('the server leaves such pools out with a log line, and again when a zone is edited later', () => {
  const warnings = [];
  const snap = new Snapshot({ warn: (m) => warnings.push(m) });
  snap.setZones(zones());
  for (const [name, kind] of CASES) {
    warnings.length = 0;
    snap.setPool(name, poolView(name, [['10.0.0.1']]));
    if (kind === undefined) {
      assert.ok(snap.pools.get(name), `${name} served`);
      assert.deepEqual(warnings, []);
    } else {
      assert.equal(snap.pools.get(name), undefined, `${name} not served`);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], new RegExp(`^pool ${name.replace(/\./g, '\\.')} .*; not served$`));
    }
  }
  // A zone edit puts a CNAME at a served pool's name: out, logged; edited back: served again.
  warnings.length = 0;
  snap.setZones(zones(2, 'ws IN CNAME elsewhere.example.'));
  assert.equal(snap.pools.get('ws.lb.example.com'), undefined);
  assert.ok(warnings.some((w) => /^pool ws\.lb\.example\.com has static CNAME records in zone lb\.example\.com \(lb\.example\.com\.zone\); not served$/.test(w)), warnings.join('\n'));
  snap.setZones(zones(3));
  assert.ok(snap.pools.get('ws.lb.example.com'));
});

/** Run CLI jobs three at a time (the machine is shared). */
async function inTurns(jobs) {
  const out = [];
  for (let i = 0; i < jobs.length; i += 3) out.push(...(await Promise.all(jobs.slice(i, i + 3).map((j) => j()))));
  return out;
}

function oneLine(r) {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one stderr line, got: ${JSON.stringify(r.stderr)}`);
  return lines[0];
}

/** What the store holds, but the heartbeats a running server keeps writing (and the file store's lock). */
async function stateOf(loc) {
  const state = await storeState(loc);
  for (const key of Object.keys(state)) if (key.endsWith(':instances')) delete state[key];
  if (state.files) state.files = state.files.filter((f) => !/\.live(\..*)?$|\.lock$/.test(f));
  return state;
}

/** Every case through `pool set`: refused ones exit 2 with one line and leave the store as it was. */
async function checkCases(loc, args, cases, cwd) {
  const beforeState = await stateOf(loc);
  const refused = cases.filter(([, kind]) => kind !== undefined);
  const results = await inTurns(refused.map(([name]) => () => runCli(['pool', 'set', name, ...args, '--store', loc.url], { cwd })));
  refused.forEach(([name], i) => {
    const r = results[i];
    assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(oneLine(r), new RegExp(`^tierdns: ${name.replace(/\./g, '\\.')} .*would never be served.*\\(TIERDNS_E_NOT_SERVABLE\\)$`));
  });
  assert.deepEqual(await stateOf(loc), beforeState, 'a refused pool set changed the store');
  for (const [name] of cases.filter(([, kind]) => kind === undefined)) {
    const r = await runCli(['pool', 'set', name, ...args, '--store', loc.url], { cwd });
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  }
}

for (const backend of [redisBackend(), fileBackend()]) {
  describe(`pool names, ${backend.name} store`, () => {
    before(() => backend.before());
    after(() => backend.after());

    test('the CLI refuses them by the zone files of --zones DIR, and of ./zones', async (t) => {
      const loc = backend.location(t);
      const dir = zonesDir(t);
      await checkCases(loc, ['--zones', dir], CASES.filter((_, i) => i % 2 === 0));
      const cwd = tmpDir(t, 'tierdns-cwd-');
      fs.cpSync(dir, path.join(cwd, 'zones'), { recursive: true });
      await checkCases(loc, [], CASES.filter((_, i) => i % 2 === 1), cwd);
    });

    test('the CLI refuses them by what a running server published; a zone edited later is refused then, and logged', async (t) => {
      const loc = backend.location(t);
      const dir = zonesDir(t);
      const s = await startServe(t, ['--zones', dir, '--store', loc.url, '--instance', 'ns1']);
      const store = loc.open();
      await waitFor(async () => (await store.readZoneRules()).length === 2, 5000, 'published zone rules');
      const cwd = tmpDir(t, 'tierdns-nozones-'); // no ./zones: the published rules decide
      const some = CASES.filter(([name]) => ['lb.example.com', 'www.lb.example.com', 'ns.sub.lb.example.com', 'x.d.lb.example.com', 'ws.lb.example.com'].includes(name));
      await checkCases(loc, ['--check', 'none'], some, cwd);
      assert.equal((await runCli(['member', 'add', 'ws.lb.example.com', '127.0.1.1', '--store', loc.url], { cwd })).code, 0);
      await waitFor(async () => (await ask(s.port, 'ws.lb.example.com', 'A'))?.answers.length === 1, 5000, 'the pool answered');

      // The zone gains a CNAME at the pool's name: the server logs it and stops answering from the pool …
      fs.writeFileSync(path.join(dir, 'lb.example.com.zone'), ZONE(2, `${PARENT_DELEGATES_CHILD}\nws IN CNAME elsewhere.example.`));
      s.proc.kill('SIGHUP');
      await waitFor(() => s.logs.some((l) => /^pool: pool ws\.lb\.example\.com has static CNAME .*not served$/.test(l.msg ?? '')), 5000, 'the not-served log line');
      const answer = await ask(s.port, 'ws.lb.example.com', 'A');
      assert.equal(answer.answers[0].type, 5, 'the CNAME answers now');
      // … and the CLI, reading the republished rules, refuses to set that pool again.
      await waitFor(async () => (await store.readZoneRules()).some((r) => r.static['ws.lb.example.com'] === 'CNAME'), 5000, 'republished rules');
      const r = await runCli(['pool', 'set', 'ws.lb.example.com', '--ttl', '5', '--store', loc.url], { cwd });
      assert.equal(r.code, 2);
      assert.match(oneLine(r), /TIERDNS_E_NOT_SERVABLE/);
    });

    test('zones published without rules (an older server): the apex and the zone are still checked', async (t) => {
      const loc = backend.location(t);
      const store = loc.open();
      await store.publishZones('old-ns', ['lb.example.com']);
      const cwd = tmpDir(t, 'tierdns-nozones-');
      const apex = await runCli(['pool', 'set', 'lb.example.com', '--store', loc.url], { cwd });
      assert.match(oneLine(apex), /TIERDNS_E_NOT_SERVABLE/);
      const outside = await runCli(['pool', 'set', 'ws.other.org', '--store', loc.url], { cwd });
      assert.match(oneLine(outside), /TIERDNS_E_NOT_IN_ZONE/);
      assert.equal((await runCli(['pool', 'set', 'ws.lb.example.com', '--store', loc.url], { cwd })).code, 0);
    });
  });
}
