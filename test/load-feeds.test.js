'use strict';
// Load feeds (docs/steering.md): the four formats parsed from captured real output, read over
// real sockets from fake agents, JSON endpoints and the real nginx and haproxy daemons, and
// feeds that hang, lie, flood or close early, which must fail one read with a clear reason.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { parseAgentLine, parseHaproxyCsv, parseJsonLoad, parseStubStatus } = require('../dist/health/loadParse');
const { readLoad, agentReadImplementation } = require('../dist/health/loadFeed');
const { useNativeAddon } = require('../dist/util/native');
const { loadTargetOf } = require('../dist/health/target');
const { defaultPoolConfig } = require('../dist/model/poolConfig');
const { agentFeed, jsonFeed, badFeed, realNginx, realHaproxy, holdConnections } = require('./helpers/loadFeeds');
const { silentBalancer, closedPort } = require('./helpers/balancers');

const FIXTURES = path.join(__dirname, 'fixtures', 'load');
// Agent reads run in the native addon (docs/native.md), on Node's net without it or with
// TIERDNS_NATIVE=0: the agent tests below run on both paths. The addon is part of the build
// (.ci/run fails without it), so a missing one fails the native runs; only TIERDNS_NATIVE=0,
// a choice, leaves them out.
const PATHS = [
  ...(process.env.TIERDNS_NATIVE === '0' ? [] : [{ name: 'native', native: true }]),
  { name: 'node', native: false },
];

/** Run fn with agent reads on `p`'s path, as TIERDNS_NATIVE does for serve. */
async function onPath(p, fn) {
  useNativeAddon(p.native);
  try {
    assert.strictEqual(agentReadImplementation(), p.name, p.native ? 'the native addon is not built (npm ci builds it: docs/native.md)' : undefined);
    return await fn();
  } finally {
    useNativeAddon(process.env.TIERDNS_NATIVE !== '0');
  }
}

test('agent lines: words in any order, separated by spaces, tabs or commas; unknown words ignored', () => {
  const table = [
    ['75%', { percent: 75 }],
    ['up 50%\n', { percent: 50, op: 'up' }],
    ['DRAIN', { admin: 'drain' }],
    ['maint,0%', { admin: 'maint', percent: 0 }],
    ['ready\tup 100%', { admin: 'ready', op: 'up', percent: 100 }],
    ['down#process gone up', { op: 'down' }],
    ['fail', { op: 'down' }],
    ['stopped # planned', { op: 'down' }],
    ['maxconn:30 80%', { percent: 80 }],
    ['250%', { percent: 100 }],
  ];
  for (const [line, words] of table) {
    const r = parseAgentLine(line);
    assert.ok(r.ok, `${line}: ${r.error}`);
    assert.deepStrictEqual(r.value, words, line);
  }
  for (const line of ['', 'hello', '-5%', '12.5%', 'maxconn:3', '#up']) {
    const r = parseAgentLine(line);
    assert.strictEqual(r.ok, false, line);
    assert.match(r.error, /agent said nothing known/);
  }
});

test('JSON loads: connections required and >= 0, capacity optional and > 0', () => {
  assert.deepStrictEqual(parseJsonLoad('{"connections": 12, "capacity": 100}'), { ok: true, value: { connections: 12, capacity: 100 } });
  assert.deepStrictEqual(parseJsonLoad('{"connections": 0}'), { ok: true, value: { connections: 0 } });
  const lies = {
    '{"connections": -1, "capacity": 10}': /negative/,
    '{"connections": "NaN", "capacity": 10}': /not a number/,
    '{"connections": NaN}': /not JSON/,
    '{"connections": 5, "capacity": 0}': /capacity is 0/,
    '{"connections": 5, "capacity": -3}': /capacity is negative/,
    '{"capacity": 10}': /no connections/,
    '[1,2]': /not an object/,
    '<html>': /not JSON/,
    '{"connections": 1e999}': /not a number/,
  };
  for (const [body, why] of Object.entries(lies)) {
    const r = parseJsonLoad(body);
    assert.strictEqual(r.ok, false, body);
    assert.match(r.error, why, body);
  }
});

test('nginx stub_status and HAProxy CSV, as the real daemons print them (captured)', () => {
  const stub = fs.readFileSync(path.join(FIXTURES, 'nginx-1.22-stub_status.txt'), 'utf8');
  assert.deepStrictEqual(parseStubStatus(stub), { ok: true, value: { connections: 2 } });
  assert.strictEqual(parseStubStatus('Reading: 0 Writing: 1').ok, false);
  // Two FRONTEND rows (ws: scur 1, slim 300; stats: scur 1, slim 500); servers and backends do not count.
  const csv = fs.readFileSync(path.join(FIXTURES, 'haproxy-2.6-stats.csv'), 'utf8');
  assert.deepStrictEqual(parseHaproxyCsv(csv), { ok: true, value: { connections: 2, capacity: 800 } });
  const header = '# pxname,svname,qcur,qmax,scur,smax,slim\n';
  assert.deepStrictEqual(parseHaproxyCsv(`${header}"a,b",FRONTEND,,,7,9,\n`), { ok: true, value: { connections: 7 } });
  assert.match(parseHaproxyCsv(`${header}be,BACKEND,0,0,3,3,10\n`).error, /no FRONTEND/);
  assert.match(parseHaproxyCsv(`${header}fe,FRONTEND,,,x,1,10\n`).error, /bad scur/);
  assert.match(parseHaproxyCsv('pxname,svname\n').error, /no '#' header/);
});

const target = (kind, port, extra = {}) => ({ kind, ip: '127.0.0.1', port, path: '/', timeoutMs: 1000, ...extra });

for (const p of PATHS) {
  test(`an agent over TCP (${p.name}): one line read, then hung up`, (t) => onPath(p, async () => {
    const agent = await agentFeed(t, { reply: 'up 40%\r\nignored second line\n' });
    const r = await readLoad(target('agent', agent.port));
    assert.ok(r.ok, r.error);
    assert.deepStrictEqual(r.agent, { op: 'up', percent: 40 });
    agent.reply = 'drain';
    const r2 = await readLoad(target('agent', agent.port));
    assert.deepStrictEqual(r2.agent, { admin: 'drain' }, 'a line closed without a newline still counts');
    // At most 1024 bytes to the CR or LF; bytes as latin1, as the parser sees them on either path.
    agent.reply = `${'x'.repeat(1021)} 5%\r`;
    assert.deepStrictEqual((await readLoad(target('agent', agent.port))).agent, { percent: 5 }, '1024 bytes');
    agent.reply = `${'x'.repeat(1022)} 5%\n`;
    assert.match((await readLoad(target('agent', agent.port))).error, /agent line longer than 1024 bytes/, '1025 bytes');
    agent.reply = Buffer.from('maint\u00e9 \u00ff 7%\n', 'latin1');
    assert.deepStrictEqual((await readLoad(target('agent', agent.port))).agent, { percent: 7 });
    agent.reply = '\n75%\n';
    assert.match((await readLoad(target('agent', agent.port))).error, /agent said nothing known: ""/, 'an empty first line');
    assert.strictEqual(agent.reads, 6);
    const v6 = await agentFeed(t, { host: '::1', reply: 'ready 30%\n' });
    assert.deepStrictEqual((await readLoad(target('agent', v6.port, { ip: '::1' }))).agent, { admin: 'ready', percent: 30 }, 'IPv6');
  }));

  test(`hostile agents (${p.name}): each fails its own read with a clear reason, and reads go on`, (t) => onPath(p, async () => {
    // Floods and drips get a long timeout, so the size cap (not the clock) is what ends a flood.
    const cases = [
      ['hang', /^timeout after 300ms$/, 300],
      ['flood', /^agent line longer than 1024 bytes$/, 10_000],
      ['drip', /^timeout after 500ms$/, 500],
      ['close', /^agent closed the connection without a line$|ECONNRESET/, 300],
      ['reset', /^(read|connect) ECONNRESET/, 300],
      ['partial', /^read ECONNRESET$/, 1000],
      ['nul', /^agent said nothing known: "\\u0000/, 300],
      ['refused', /^connect ECONNREFUSED 127\.0\.0\.1:\d+$/, 300],
    ];
    const good = await agentFeed(t, { reply: '60%\n' });
    const ports = await Promise.all(cases.map(async ([mode]) => (mode === 'refused' ? closedPort() : (await badFeed(t, mode)).port)));
    // All at once, and good reads among them: one hostile feed never holds up or answers for another.
    const reads = cases.map(([, , timeoutMs], i) => readLoad(target('agent', ports[i], { timeoutMs })));
    const goods = Array.from({ length: 20 }, () => readLoad(target('agent', good.port)));
    const results = await Promise.all(reads);
    results.forEach((r, i) => {
      const [mode, why, timeoutMs] = cases[i];
      assert.strictEqual(r.ok, false, mode);
      assert.match(r.error, why, mode);
      assert.ok(r.latencyMs <= timeoutMs, `${mode}: reported within its timeout`);
    });
    for (const r of await Promise.all(goods)) assert.deepStrictEqual(r.agent, { percent: 60 });
    const after = await readLoad(target('agent', good.port));
    assert.ok(after.ok && after.latencyMs < 300, `a read after them: ${JSON.stringify(after)}`);
  }));

  test(`many agents at once (${p.name}): every read gets its own agent's line`, (t) => onPath(p, async () => {
    const agents = await Promise.all(Array.from({ length: 50 }, (_, i) => agentFeed(t, { reply: `${i}%\n` })));
    const results = await Promise.all(agents.flatMap((a, i) => [0, 1, 2].map(() => readLoad(target('agent', a.port)).then((r) => [i, r]))));
    for (const [i, r] of results) assert.deepStrictEqual(r.agent, { percent: i });
  }));
}

test('a JSON endpoint over HTTP: the path asked, the body parsed, a non-2xx status is a failed read', async (t) => {
  const feed = await jsonFeed(t, { body: { connections: 30, capacity: 120 } });
  const r = await readLoad(target('json', feed.port, { path: '/load?x=1' }));
  assert.ok(r.ok, r.error);
  assert.deepStrictEqual(r.count, { connections: 30, capacity: 120 });
  assert.deepStrictEqual(feed.requests, ['/load?x=1']);
  feed.status = 503;
  const r2 = await readLoad(target('json', feed.port));
  assert.strictEqual(r2.ok, false);
  assert.match(r2.error, /status 503/);
});

test('the real nginx: stub_status counts held connections', async (t) => {
  const nginx = await realNginx(t);
  await holdConnections(t, nginx.host, nginx.port, 3);
  const r = await readLoad(target('nginx', nginx.port, { path: '/nginx_status' }));
  assert.ok(r.ok, r.error);
  // The three held, plus the read itself.
  assert.strictEqual(r.count.connections, 4);
});

test('the real haproxy: the FRONTEND rows of its CSV stats', async (t) => {
  const backend = await silentBalancer(t);
  const hap = await realHaproxy(t, { maxconn: 300, backendPort: backend.port });
  await holdConnections(t, hap.host, hap.port, 5);
  // haproxy accepts in its own time: read until it counts all five (bounded).
  let r;
  for (let i = 0; i < 50; i++) {
    r = await readLoad(target('haproxy', hap.statsPort, { path: '/stats;csv' }));
    assert.ok(r.ok, r.error);
    if (r.count.connections >= 6) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  // Frontend ws: 5 held, maxconn 300; the stats listener: this read, maxconn 50, and perhaps
  // the previous read, which haproxy may not have closed yet.
  assert.strictEqual(r.count.capacity, 350);
  assert.ok(r.count.connections === 6 || r.count.connections === 7, `connections ${r.count.connections}`);
  // --load-path as `stats uri` says it: ";csv" is added.
  const config = { ...defaultPoolConfig('ws.lb.example.com'), load: 'haproxy', loadPort: hap.statsPort, loadPath: '/stats' };
  const viaConfig = await readLoad(loadTargetOf(config, { ip: hap.host }, undefined));
  assert.ok(viaConfig.ok, viaConfig.error);
  assert.strictEqual(viaConfig.count.capacity, 350);
});

test('feeds that hang, flood, close early or are not there fail one read with a clear reason', async (t) => {
  // Floods get a long timeout, so the size cap (not the clock) is what ends them.
  const cases = [
    ['agent', await badFeed(t, 'hang'), /timeout after 300ms/, 300],
    ['json', await badFeed(t, 'hang'), /timeout after 300ms/, 300],
    ['agent', await badFeed(t, 'flood'), /agent line longer than 1024 bytes/, 10_000],
    ['json', await badFeed(t, 'flood', { http: true }), /response larger than 1024 KB/, 10_000],
    ['haproxy', await badFeed(t, 'flood', { http: true }), /response larger than 1024 KB/, 10_000],
    ['agent', await badFeed(t, 'close'), /closed the connection without a line|ECONNRESET/, 300],
    ['nginx', await badFeed(t, 'close'), /ECONNRESET|socket hang up/, 300],
    ['json', await badFeed(t, 'half'), /closed before the end of the response|aborted|ECONNRESET/, 300],
    ['agent', { port: await closedPort() }, /ECONNREFUSED/, 300],
  ];
  const results = await Promise.all(cases.map(([kind, feed, , timeoutMs]) => readLoad(target(kind, feed.port, { timeoutMs }))));
  results.forEach((r, i) => {
    const [kind, , why, timeoutMs] = cases[i];
    assert.strictEqual(r.ok, false, `${kind} case ${i}`);
    assert.match(r.error, why, `${kind} case ${i}`);
    assert.ok(r.latencyMs <= timeoutMs, `${kind} case ${i}: reported within its timeout`);
  });
});
