'use strict';
// The --metrics listener of a real `tierdns serve`: /metrics that promtool accepts and that
// docs/metrics.md documents, /healthz and /readyz, the status page's document and its waits.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ask } = require('./helpers/dns');
const { tempDir, startServe, runCli } = require('./helpers/serve');
const { freePort, startPrivateRedis } = require('./helpers/redis');
const { tcpBalancer, closedPort } = require('./helpers/balancers');

const ZONE = `$ORIGIN t.example.
$TTL 60
@ SOA ns1 h 1 2 3 4 30
@ NS ns1
ns1 A 127.0.0.1
`;

function setup(t) {
  const dir = tempDir(t);
  const zones = path.join(dir, 'zones');
  fs.mkdirSync(zones);
  fs.writeFileSync(path.join(zones, 't.example.zone'), ZONE);
  return { dir, zones, store: `file:${path.join(dir, 'store.json')}` };
}

/** GET (or another method): { status, headers, body }. */
function request(port, urlPath, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, timeout: 15000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${urlPath}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

/** Poll `fn` every 100 ms until it returns a truthy value; throws after `limitMs`. */
async function eventually(fn, limitMs, what) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function sample(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Metric names docs/metrics.md lists in its tables (first column, in backquotes). */
function documentedMetrics() {
  const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'metrics.md'), 'utf8');
  return new Set([...doc.matchAll(/^\| `([a-z0-9_:]+)`/gm)].map((m) => m[1]));
}

async function poolWithMembers(t, zones, store) {
  const up = await tcpBalancer(t, '127.0.0.1');
  const downPort = await closedPort('127.0.0.2');
  const cli = async (args) => {
    const r = await runCli([...args, '--zones', zones, '--store', store]);
    assert.equal(r.code, 0, r.stderr);
  };
  await cli(['pool', 'set', 'ws.t.example', '--check', 'tcp', '--interval', '1s', '--fast-interval', '250ms', '--timeout', '500ms']);
  await cli(['member', 'add', 'ws.t.example', '127.0.0.1', '--port', String(up.port)]);
  await cli(['member', 'add', 'ws.t.example', '127.0.0.2', '--port', String(downPort), '--weight', '3']);
  return up;
}

test('a live /metrics passes promtool check metrics and lists exactly the documented metrics', async (t) => {
  const { zones, store } = setup(t);
  await poolWithMembers(t, zones, store);
  const mport = await freePort();
  const s = await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`]);
  await ask(s.port, 't.example', 'SOA');
  await ask(s.port, 'nope.t.example', 'A');
  await ask(s.port, 'ws.t.example', 'A');
  const text = await eventually(async () => {
    const r = await request(mport, '/metrics');
    // Probe counts come from the probe thread a while after its results.
    return sample(r.body, 'tierdns_member_up{pool="ws.t.example",member="127.0.0.1"}') === 1
      && sample(r.body, 'tierdns_pool_members{pool="ws.t.example",state="down"}') === 1
      && sample(r.body, 'tierdns_probes_total{result="failed"}') >= 1 && r.body;
  }, 10000, 'one member up, one down, probes counted');

  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(check.error, undefined, 'promtool must be installed (Debian package prometheus; .ci/run installs it)');
  assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);

  assert.equal(sample(text, 'tierdns_answers_total{rcode="NXDOMAIN"}'), 1);
  assert.equal(sample(text, 'tierdns_queries_total{qtype="SOA"}'), 1);
  assert.equal(sample(text, 'tierdns_member_weight{pool="ws.t.example",member="127.0.0.2"}'), 3);
  assert.equal(sample(text, 'tierdns_member_up{pool="ws.t.example",member="127.0.0.2"}'), 0);
  assert.equal(sample(text, 'tierdns_pool_failing_open{pool="ws.t.example"}'), 0);
  assert.ok(sample(text, 'tierdns_probe_duration_seconds_count') >= 1);
  assert.ok(sample(text, 'process_resident_memory_bytes') > 0);
  assert.ok(sample(text, 'process_open_fds') > 0);
  assert.match(text, /^tierdns_build_info\{version="\d+\.\d+\.\d+[^"]*",node="\d+\.\d+\.\d+"\} 1$/m);

  // Every family scraped is documented, and every documented one is scraped.
  const scraped = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  const documented = documentedMetrics();
  assert.deepEqual([...scraped].filter((n) => !documented.has(n)), [], 'scraped but not in docs/metrics.md');
  assert.deepEqual([...documented].filter((n) => !scraped.has(n)), [], 'in docs/metrics.md but not scraped');
});

test('/healthz is 200 while serving; /readyz is 503 until the pools are loaded', async (t) => {
  const { zones } = setup(t);
  const redis = await startPrivateRedis();
  t.after(() => redis.stop());
  await redis.kill();
  const mport = await freePort();
  // The store is down and there is no state dir: listeners bound, pools not loaded.
  await startServe(t, ['--zones', zones, '--store', redis.url, '--metrics', `127.0.0.1:${mport}`]);
  assert.equal((await request(mport, '/healthz')).status, 200);
  const notReady = await request(mport, '/readyz');
  assert.equal(notReady.status, 503);
  assert.match(notReady.body, /pools not loaded/);
  assert.equal(sample((await request(mport, '/metrics')).body, 'tierdns_store_up'), 0);
  await redis.start();
  await eventually(async () => (await request(mport, '/readyz')).status === 200, 15000, '/readyz 200 once the store is read');
  assert.equal(sample((await request(mport, '/metrics')).body, 'tierdns_store_up'), 1);
});

test('the listener: the page with its CSP, 404 for unknown paths, 405 for other methods', async (t) => {
  const { zones, store } = setup(t);
  const mport = await freePort();
  await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`]);
  const page = await request(mport, '/');
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.match(page.headers['content-security-policy'], /default-src 'none'/);
  assert.match(page.headers['content-security-policy'], /script-src 'sha256-/);
  assert.doesNotMatch(page.body, /(src|href)="(https?:)?\/\//, 'nothing loaded from elsewhere');
  assert.equal((await request(mport, '/nope')).status, 404);
  const post = await request(mport, '/metrics', 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  const head = await request(mport, '/metrics', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('/status.json?since=G waits for a change, and a change ends the wait', async (t) => {
  const { zones, store } = setup(t);
  await poolWithMembers(t, zones, store);
  const mport = await freePort();
  await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`, '--instance', 'ns-test']);
  const first = JSON.parse((await request(mport, '/status.json')).body);
  assert.equal(first.instance, 'ns-test');
  assert.equal(first.ready, true);
  const pool = first.pools.find((p) => p.name === 'ws.t.example');
  assert.deepEqual(pool.members.map((m) => [m.ip, m.weight, m.admin]), [['127.0.0.1', 1, 'enabled'], ['127.0.0.2', 3, 'enabled']]);

  // Once probing settles, a wait with the current generation ends at the next change.
  const settled = await eventually(async () => {
    const d = JSON.parse((await request(mport, '/status.json')).body);
    const p = d.pools[0];
    return p.summary.up === 1 && p.summary.down === 1 && d;
  }, 10000, 'probes settled');
  const started = Date.now();
  const waiting = request(mport, `/status.json?since=${settled.generation}`);
  await new Promise((r) => setTimeout(r, 300));
  const drain = await runCli(['member', 'drain', 'ws.t.example', '127.0.0.2', '--zones', zones, '--store', store]);
  assert.equal(drain.code, 0, drain.stderr);
  const after = JSON.parse((await waiting).body);
  assert.notEqual(after.generation, settled.generation);
  assert.equal(after.pools[0].members.find((m) => m.ip === '127.0.0.2').admin, 'drained');
  assert.ok(Date.now() - started >= 300, 'the request waited for the change');
});
