'use strict';
// contrib/: the systemd unit passes systemd-analyze verify, the alert rules pass promtool's
// checks and their unit tests, the dashboard's queries parse, and every metric the rules and
// the dashboard name is one a live instance exposes.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { httpGet } = require('./helpers/http');
const { CLI, tempDir, startServe, runCli } = require('./helpers/serve');
const { freePort } = require('./helpers/redis');
const { tcpBalancer } = require('./helpers/balancers');

const CONTRIB = path.join(__dirname, '..', 'contrib');
const UNIT = path.join(CONTRIB, 'systemd', 'tierdns.service');
const RULES = path.join(CONTRIB, 'prometheus', 'tierdns-alerts.yml');
const DASHBOARD = path.join(CONTRIB, 'grafana', 'tierdns.json');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  assert.equal(r.error, undefined, `${cmd}: ${r.error?.message}`);
  return r;
}

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/**
 * A root directory for `systemd-analyze verify --root`: the system's own units (for the
 * targets the unit names), the unit under /etc/systemd/system, and at its ExecStart path a
 * launcher of this checkout's CLI, so the check that the command exists has one to find.
 */
function unitRoot(t, unitText) {
  const root = tempDir(t, 'tierdns-unitroot-');
  const systemUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => fs.existsSync(d));
  fs.cpSync(systemUnits, path.join(root, 'lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/systemd/system/tierdns.service'), unitText);
  const exec = /^ExecStart=(\S+)/m.exec(unitText)[1];
  fs.mkdirSync(path.join(root, path.dirname(exec)), { recursive: true });
  fs.writeFileSync(path.join(root, exec), `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`, { mode: 0o755 });
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/kill', path.join(root, 'bin/kill'));
  return root;
}

function verifyUnit(t, unitText) {
  const root = unitRoot(t, unitText);
  return run('systemd-analyze', ['verify', `--root=${root}`, '/etc/systemd/system/tierdns.service']);
}

test('contrib/systemd/tierdns.service passes systemd-analyze verify without a warning', (t) => {
  assert.ok(hasSystemdAnalyze, 'systemd-analyze is not installed (Debian package systemd; .ci/run installs it)');
  const unit = fs.readFileSync(UNIT, 'utf8');
  const r = verifyUnit(t, unit);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stdout + r.stderr, '', 'systemd-analyze verify printed warnings');
  // The check sees mistakes: a misspelt key is a warning (with exit 0, hence the output check).
  const typo = verifyUnit(t, unit.replace('Restart=on-failure', 'Restrat=on-failure'));
  assert.match(typo.stderr, /Unknown key 'Restrat'/);

  // What the unit promises (docs/operations.md).
  const directive = (key) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);
  assert.deepEqual(directive('User'), ['tierdns']);
  assert.deepEqual(directive('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(directive('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(directive('ExecReload'), ['/bin/kill -HUP $MAINPID']);
  assert.deepEqual(directive('Restart'), ['on-failure']);
  for (const [key, value] of [['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['NoNewPrivileges', 'yes'], ['StateDirectory', 'tierdns']]) {
    assert.deepEqual(directive(key), [value], key);
  }
  assert.match(directive('ExecStart')[0], /^\/usr\/local\/bin\/tierdns serve .*--state-dir \/var\/lib\/tierdns\/state .*--metrics 127\.0\.0\.1:9353/);
  assert.deepEqual(directive('Environment').filter((e) => e.startsWith('TIERDNS_STORE=')), ['TIERDNS_STORE=file:/var/lib/tierdns/store.json']);

  // The sysusers file creates the user the unit runs as.
  const sysusersRoot = tempDir(t, 'tierdns-sysusers-');
  fs.mkdirSync(path.join(sysusersRoot, 'etc'));
  for (const f of ['passwd', 'group']) fs.writeFileSync(path.join(sysusersRoot, 'etc', f), '');
  const users = run('systemd-sysusers', [`--root=${sysusersRoot}`, '--dry-run', path.join(CONTRIB, 'systemd', 'tierdns.sysusers')]);
  assert.equal(users.status, 0, users.stderr);
  assert.match(users.stdout + users.stderr, /Creating user '?tierdns'?/);
});

test('contrib/prometheus: promtool check rules and the rules\' unit tests pass', () => {
  const check = run('promtool', ['check', 'rules', RULES]);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const unit = run('promtool', ['test', 'rules', 'tierdns-alerts.test.yml'], { cwd: path.dirname(RULES) });
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
  // Every alert has a test that expects it to fire.
  const rules = fs.readFileSync(RULES, 'utf8');
  const tests = fs.readFileSync(path.join(path.dirname(RULES), 'tierdns-alerts.test.yml'), 'utf8');
  for (const [, name] of rules.matchAll(/- alert: (\S+)/g)) {
    assert.match(tests, new RegExp(`alertname: ${name}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${name} has no firing test`);
  }
});

/** The PromQL of every dashboard target, Grafana's variables replaced by values Prometheus accepts. */
function dashboardQueries() {
  const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
  const ids = new Set();
  const queries = [];
  for (const p of dash.panels) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} used twice`);
    ids.add(p.id);
    assert.ok(p.gridPos && p.gridPos.w > 0 && p.gridPos.w <= 24, `panel ${p.title}: gridPos`);
    if (p.type === 'row') continue;
    assert.ok(p.targets.length > 0, `panel ${p.title} has no query`);
    for (const target of p.targets) queries.push({ panel: p.title, expr: target.expr });
  }
  const vars = dash.templating.list.filter((v) => v.type === 'query').map((v) => v.definition);
  return { dash, queries: [...queries, ...vars.map((v) => ({ panel: 'variable', expr: /label_values\((.*), \w+\)$/.exec(v)[1] }))] };
}

const substitute = (expr) => expr.replaceAll('$__rate_interval', '5m').replace(/\$(job|instance|pool)\b/g, '.*');

test('contrib/grafana/tierdns.json: unique panel ids, every query parses as PromQL', (t) => {
  const { dash, queries } = dashboardQueries();
  assert.equal(dash.uid, 'tierdns');
  assert.ok(queries.length >= 20);
  // promtool parses a rule file's expressions: one recording rule per query.
  const dir = tempDir(t);
  const file = path.join(dir, 'dashboard-queries.yml');
  const rules = queries.map((q, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(substitute(q.expr))}`);
  fs.writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
  const r = run('promtool', ['check', 'rules', file]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

const get = httpGet;

test('every metric the alert rules and the dashboard use is exposed by a live instance', async (t) => {
  const dir = tempDir(t);
  const zones = path.join(dir, 'zones');
  fs.mkdirSync(zones);
  fs.writeFileSync(path.join(zones, 't.example.zone'), '$ORIGIN t.example.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 30\n@ NS ns1\nns1 A 127.0.0.1\n');
  const store = `file:${path.join(dir, 'store.json')}`;
  const balancer = await tcpBalancer(t, '127.0.0.1');
  for (const args of [['pool', 'set', 'ws.t.example', '--check', 'tcp'], ['member', 'add', 'ws.t.example', '127.0.0.1', '--port', String(balancer.port)]]) {
    const r = await runCli([...args, '--zones', zones, '--store', store]);
    assert.equal(r.code, 0, r.stderr);
  }
  const mport = await freePort();
  await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`]);
  const text = await get(mport, '/metrics');
  const families = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
  const exposed = (name) => families.has(name)
    || ['_bucket', '_sum', '_count'].some((s) => name.endsWith(s) && families.get(name.slice(0, -s.length)) === 'histogram');

  const { queries } = dashboardQueries();
  const sources = [
    ...queries.map((q) => [`dashboard "${q.panel}"`, q.expr]),
    ['tierdns-alerts.yml', fs.readFileSync(RULES, 'utf8')],
  ];
  const used = new Map();
  for (const [where, text] of sources) {
    for (const [name] of text.matchAll(/\b(?:tierdns|process|nodejs)_[a-z0-9_]+\b/g)) used.set(name, where);
  }
  assert.ok(used.size >= 15, `only ${used.size} metric names found`);
  const missing = [...used].filter(([name]) => !exposed(name)).map(([name, where]) => `${name} (${where})`);
  assert.deepEqual(missing, [], 'used in contrib/ but not exposed');
});
