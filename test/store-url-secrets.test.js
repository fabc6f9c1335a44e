'use strict';
// Secrets in store URLs (PRODUCT.md §10): no password, sentinel password or piece of one in
// any error message, CLI output, log line, status output or metric, for URLs an operator may
// really type (unencoded %, @, :, /, ?, #, unicode). Each message still names the bad part.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const fc = require('fast-check');
const { parseStoreUrl } = require('../dist/store/url');
const { httpGet } = require('./helpers/http');
const { runCli } = require('./helpers/cli');
const { tmpDir, waitFor } = require('./helpers/store');
const { startServe, tempDir } = require('./helpers/serve');
const { startPrivateRedis, rawClient, uniquePrefix, freePort } = require('./helpers/redis');

/** Every 4-character piece of each secret, as given and percent-encoded, that occurs in `text`. */
function leaks(text, secrets) {
  const found = [];
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      const chars = [...form];
      for (let i = 0; i + 4 <= Math.max(chars.length, 4); i++) {
        const piece = chars.slice(i, i + 4).join('');
        if (text.includes(piece)) found.push(piece);
      }
    }
  }
  return found;
}

function assertNoLeak(text, secrets, what) {
  assert.deepEqual(leaks(text, secrets), [], `${what} leaked a secret: ${text}`);
}

// [url, secrets, expected code ('ok' when it parses), what the message names]
const HOSTILE = [
  ['redis://:Pa5s%wQrd@127.0.0.1:1/0', ['Pa5s%wQrd'], 'TIERDNS_E_STORE_URL', /percent-encoding in the password/],
  ['redis://u@x:P@ss:w0rd@127.0.0.1:1/0', ['P@ss:w0rd'], 'ok'],
  ['redis://:Se/cr?Et@127.0.0.1:1/0', ['Se/cr?Et'], 'TIERDNS_E_STORE_URL', /password from the host/],
  ['redis://:Se?cr/Et@127.0.0.1:1/0', ['Se?cr/Et'], 'TIERDNS_E_STORE_URL', /password from the host/],
  ['redis://adm:S#cr3T@127.0.0.1:1/0', ['S#cr3T'], 'TIERDNS_E_STORE_URL', /'#'/],
  ['redis://:Pä55wörd✓@127.0.0.1:99999/0', ['Pä55wörd✓'], 'TIERDNS_E_STORE_URL', /port/],
  ['redis://:中文密码Xy9@127.0.0.1:1/x', ['中文密码Xy9'], 'TIERDNS_E_STORE_URL', /database/],
  ['redis-sentinel://127.0.0.1:1/m?sentinelPassword=Se%Zcr3T', ['Se%Zcr3T'], 'TIERDNS_E_STORE_URL', /percent-encoding in the value of parameter 'sentinelPassword'/],
  ['redis-sentinel://127.0.0.1:1/m?sentinelPassword=Sx9&Tq2Lm', ['Sx9&Tq2Lm', 'Tq2Lm'], 'TIERDNS_E_STORE_URL', /parameter #2 is unknown.*%26/],
  ['redis-sentinel://127.0.0.1:1/m?sentinelPassword=Sx9Tq2Lm&bogus=1', ['Sx9Tq2Lm'], 'TIERDNS_E_STORE_URL', /parameter #2 is unknown/],
  ['redis://:Sx9Tq2Lm@127.0.0.1:1/0?sentinelPassword=Zk3Wq8Rt', ['Sx9Tq2Lm', 'Zk3Wq8Rt'], 'TIERDNS_E_STORE_URL', /parameter 'sentinelPassword' is not for redis:\/\//],
  ['rediss://adm:Rx7%2FQ%3Fw@127.0.0.1:1/0?insecure=maybe', ['Rx7/Q?w'], 'TIERDNS_E_STORE_URL', /insecure/],
  ['rediss://u:Tq%ZZ9@127.0.0.1:1/0', ['Tq%ZZ9'], 'TIERDNS_E_STORE_URL', /percent-encoding in the password/],
  ['redis://us%ZZer:Sx9Tq2Lm@127.0.0.1:1/0', ['Sx9Tq2Lm'], 'TIERDNS_E_STORE_URL', /percent-encoding in the user name/],
  ['redis://Sx9Tq2Lm@127.0.0.1:1/0', ['Sx9Tq2Lm'], 'TIERDNS_E_STORE_URL', /user name needs a password/],
  ['redis://:Sx9Tq2Lm@127.0.0.1,127.0.0.2/0', ['Sx9Tq2Lm'], 'TIERDNS_E_STORE_URL', /several hosts/],
  ['redis://:Sx9Tq2Lm', ['Sx9Tq2Lm'], 'TIERDNS_E_STORE_URL', /host/],
  ['redis://:Sx9Tq2Lm@/0', ['Sx9Tq2Lm'], 'TIERDNS_E_STORE_URL', /no host/],
  ['redis://u:Sx9:Tq2Lm@127.0.0.1:1', ['Sx9:Tq2Lm'], 'ok'],
  ['redis-sentinel://:Sx9Tq2Lm@127.0.0.1:1', ['Sx9Tq2Lm'], 'TIERDNS_E_STORE_URL', /master group name/],
  ['rediss-sentinel://u:P@ss/w0rd@127.0.0.1:1/m', ['P@ss/w0rd'], 'TIERDNS_E_STORE_URL', /password from the host/],
  ['redis://:Sx9Tq2Lm@127.0.0.1:1/0?prefix=a%20b', ['Sx9Tq2Lm'], 'TIERDNS_E_STORE_URL', /prefix/],
  ['redis://:Sx9Tq2Lm@127.0.0.1:1/0/1', ['Sx9Tq2Lm'], 'TIERDNS_E_STORE_URL', /path segments/],
  ['Sx9Tq2Lm', ['Sx9Tq2Lm'], 'TIERDNS_E_STORE_URL', /expected file:PATH/],
  // Found by the fuzzer (fuzz/regressions/storeUrl): an unencoded '&' makes the rest of a
  // sentinel password a parameter, whose value must not be quoted; nor a missing '?'.
  ['redis-sentinel://h:1/m?sentinelPassword=Zk3Wq8&prefix=Rt Pw9xQ', ['Zk3Wq8', 'Rt Pw9xQ'], 'TIERDNS_E_STORE_URL', /parameter 'prefix'/],
  ['rediss-sentinel://h:1/m?sentinelPassword=Zk3Wq8&ca=/Rt9Pw9xQ', ['Zk3Wq8', '/Rt9Pw9xQ'], 'TIERDNS_E_STORE_URL', /file of parameter 'ca'/],
  ['redis-sentinel://127.0.0.1:1/mymaster&sentinelPassword=Zk3Wq8Rt', ['Zk3Wq8Rt'], 'TIERDNS_E_STORE_URL', /master group name/],
];

function parseOutcome(url) {
  try {
    return { code: 'ok', loc: parseStoreUrl(url) };
  } catch (err) {
    return { code: err.code, message: err.message };
  }
}

test('parseStoreUrl: hostile URLs give a precise error (or parse) and never quote a secret', () => {
  for (const [url, secrets, code, names] of HOSTILE) {
    const out = parseOutcome(url);
    assert.equal(out.code, code, url);
    if (code === 'ok') assertNoLeak(out.loc.description, secrets, `description of ${url}`);
    else {
      assert.match(out.message, names, url);
      assertNoLeak(out.message, secrets, url);
    }
  }
  // An unencoded '@' or ':' in the password is understood as WHATWG URL does (last '@' ends it).
  const loc = parseStoreUrl('redis://u@x:P@ss:w0rd@127.0.0.1:1/0');
  assert.deepEqual([loc.username, loc.password, loc.host, loc.port], ['u@x', 'P@ss:w0rd', '127.0.0.1', 1]);
  assert.equal(loc.description, 'redis://u@x:***@127.0.0.1:1/0');
});

/** Run `jobs` (functions returning promises) three at a time: the machine is shared. */
async function inTurns(jobs) {
  const out = [];
  for (let i = 0; i < jobs.length; i += 3) out.push(...(await Promise.all(jobs.slice(i, i + 3).map((j) => j()))));
  return out;
}

test('the real CLI prints no secret for a hostile URL, given by --store or by TIERDNS_STORE', async () => {
  const jobs = HOSTILE.flatMap(([url, secrets, code], i) => {
    // A URL that parses points at a closed port: the unreachable-store error is checked instead.
    const expected = code === 'ok' ? 'TIERDNS_E_STORE_UNREACHABLE' : code;
    const viaFlag = () => runCli(['pool', 'ls', '--store', url]).then((r) => ({ r, url, secrets, expected, how: '--store' }));
    const viaEnv = () => runCli(['status', '--json'], { env: { TIERDNS_STORE: url } }).then((r) => ({ r, url, secrets, expected, how: 'env' }));
    return i % 4 === 0 ? [viaFlag, viaEnv] : [viaFlag];
  });
  for (const { r, url, secrets, expected, how } of await inTurns(jobs)) {
    assert.notEqual(r.code, 0, `${how} ${url}`);
    assert.match(r.stderr, new RegExp(`\\(${expected}\\)\\n$`), `${how} ${url}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n').length, 2, `one line for ${url}: ${r.stderr}`);
    assertNoLeak(r.stdout + r.stderr, secrets, `${how} ${url}`);
  }
});

test('serve: a hostile URL fails at start without the secret, and --help does not show TIERDNS_STORE', async (t) => {
  const dir = tempDir(t);
  for (const [url, secrets, code] of HOSTILE.filter(([, , c]) => c !== 'ok').slice(0, 6)) {
    const r = await runCli(['serve', '--zones', dir, '--listen', '127.0.0.1:0', '--store', url]);
    assert.notEqual(r.code, 0, url);
    assert.match(r.stderr, new RegExp(code), url);
    assertNoLeak(r.stdout + r.stderr, secrets, `serve ${url}`);
  }
  const help = await runCli(['serve', '--help'], { env: { TIERDNS_STORE: 'redis://:Hx4Kp9Wz@127.0.0.1:1/0' } });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--store/);
  assertNoLeak(help.stdout + help.stderr, ['Hx4Kp9Wz'], 'serve --help');
});

const ZONE = [
  '$ORIGIN lb.example.com.', '$TTL 300',
  '@ IN SOA ns1.lb.example.com. hostmaster.example.com. 1 3600 600 86400 60',
  '@ IN NS ns1.lb.example.com.', 'ns1 IN A 127.0.0.1', '',
].join('\n');

/** A redis-server that wants `password`, and a URL for it with `given` as the password. */
async function passwordRedis(t, password) {
  const server = await startPrivateRedis();
  t.after(() => server.stop());
  const admin = await rawClient(server.url);
  await admin.config('SET', 'requirepass', password);
  admin.disconnect();
  const prefix = uniquePrefix();
  return (given) => `redis://:${encodeURIComponent(given)}@127.0.0.1:${server.port}/0?prefix=${encodeURIComponent(prefix)}`;
}

const get = httpGet;

test('a real Redis: a wrong password, then the right one, in CLI output, serve logs, status and metrics', async (t) => {
  const right = 'Rq7:Zp@w/Kx%9ü';
  const wrong = 'Wn3:Yt@q/Lm%4é';
  const urlWith = await passwordRedis(t, right);
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'lb.example.com.zone'), ZONE);

  // The CLI with the wrong password: refused by Redis, named as such, no secret.
  const refused = await runCli(['pool', 'ls', '--store', urlWith(wrong)]);
  assert.match(refused.stderr, /TIERDNS_E_STORE_UNREACHABLE/);
  assert.match(refused.stderr, /WRONGPASS|NOAUTH|invalid/i);
  assertNoLeak(refused.stdout + refused.stderr, [wrong, right], 'cli, wrong password');

  // serve with the wrong password logs its connection errors at debug: none carries a secret
  // (ioredis errors carry the AUTH command with the password).
  const bad = await startServe(t, ['--zones', dir, '--store', urlWith(wrong), '--log-level', 'debug', '--instance', 'ns-wrong']);
  await new Promise((r) => setTimeout(r, 1500));
  await bad.stop();
  const badLog = bad.logs.map((l) => JSON.stringify(l)).join('\n');
  assert.match(badLog, /WRONGPASS|NOAUTH|invalid/i, 'the refusal is logged');
  assertNoLeak(badLog, [wrong, right], 'serve log, wrong password');

  const metricsPort = await freePort();
  const ok = await startServe(t, ['--zones', dir, '--store', urlWith(right), '--log-level', 'debug', '--metrics', `127.0.0.1:${metricsPort}`, '--instance', 'ns-right']);
  const ready = ok.logs.find((l) => l.msg === 'serve: ready');
  assert.match(ready.store, /^redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0/);
  assert.equal((await runCli(['pool', 'set', 'ws.lb.example.com', '--zones', dir, '--store', urlWith(right)])).code, 0);
  const status = await runCli(['status', '--json', '--store', urlWith(right)]);
  assert.equal(status.code, 0, status.stderr);
  assertNoLeak(status.stdout + status.stderr, [right], 'status --json');
  const metrics = await get(metricsPort, '/metrics');
  assert.match(metrics, /tierdns_store_up 1/);
  assertNoLeak(metrics, [right], '/metrics');
  const page = await get(metricsPort, '/status.json');
  assert.match(page, /"description":"redis:\/\/:\*\*\*@127\.0\.0\.1/);
  assertNoLeak(page, [right], '/status.json');
  await ok.stop();
  assertNoLeak(ok.logs.map((l) => JSON.stringify(l)).join('\n'), [right], 'serve log, right password');
});

/** Whether a server on `port` that wants `password` answers PING after AUTH. */
function pongWithAuth(port, password) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    sock.setTimeout(500, () => { sock.destroy(); resolve(false); });
    sock.on('connect', () => sock.write(`AUTH ${password}\r\nPING\r\n`));
    sock.on('data', (d) => {
      buf += d;
      if (buf.includes('+PONG')) { sock.destroy(); resolve(true); }
    });
    sock.on('error', () => resolve(false));
  });
}

test('a Sentinel that wants a password: a wrong sentinelPassword is refused and never shown', async (t) => {
  const server = await startPrivateRedis();
  t.after(() => server.stop());
  const dir = tmpDir(t, 'tierdns-sentinel-pw-');
  const port = await freePort();
  const right = 'Sn7:Kq@w/Rz%8';
  const wrong = 'Wt4:Jp@x/Mv%3';
  fs.writeFileSync(path.join(dir, 'sentinel.conf'), [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor tdm 127.0.0.1 ${server.port} 1`, `requirepass "${right}"`, ''].join('\n'));
  const proc = spawn('/usr/bin/redis-server', [path.join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore', cwd: dir });
  const exited = new Promise((r) => proc.once('exit', r));
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  });
  await waitFor(() => pongWithAuth(port, right), 5000, 'a sentinel that wants a password');
  const url = (pw) => `redis-sentinel://127.0.0.1:${port}/tdm/0?sentinelPassword=${encodeURIComponent(pw)}&prefix=${uniquePrefix()}`;
  const refused = await runCli(['pool', 'ls', '--store', url(wrong)]);
  assert.match(refused.stderr, /TIERDNS_E_STORE_UNREACHABLE/);
  assertNoLeak(refused.stdout + refused.stderr, [wrong, right], 'cli, wrong sentinel password');
  const ok = await runCli(['pool', 'ls', '--store', url(right)]);
  assert.equal(ok.code, 0, ok.stderr);
});

// Property: a random password (any characters, with two random cores a leak would show) in
// any secret position of a URL that may be malformed elsewhere never reaches the message.
test('property: parseStoreUrl errors never contain the password (fast-check)', () => {
  const core = fc.string({ unit: fc.constantFrom(...'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789'), minLength: 10, maxLength: 10 });
  const filler = fc.string({ unit: fc.constantFrom(...'%@:/?#&=+ !$é中🔑aZ09'), maxLength: 4 });
  const password = fc.tuple(filler, core, filler, core, filler).map(([a, c1, b, c2, d]) => ({ text: a + c1 + b + c2 + d, cores: [c1, c2] }));
  // raw as typed; encoded properly; only '/', '?' and '#' encoded (the usual half-fix)
  const encoding = fc.constantFrom('raw', 'encoded', 'half');
  const flaw = fc.constantFrom({}, { port: ':99999' }, { port: ':x' }, { path: '/x' }, { path: '/0/1/2/3' }, { query: 'bogus=1' },
    { query: 'prefix=a b' }, { hosts: ',h2' }, { query: 'insecure=maybe' }, { fragment: '#f' }, { query: 'ca=/nonexistent' });
  const scheme = fc.constantFrom('redis', 'rediss', 'redis-sentinel', 'rediss-sentinel');
  const place = fc.constantFrom('password', 'user:password', 'sentinelPassword');
  fc.assert(fc.property(password, encoding, flaw, scheme, place, (pw, enc, bad, sch, where) => {
    const text = enc === 'raw' ? pw.text : enc === 'encoded' ? encodeURIComponent(pw.text) : pw.text.replace(/[/?#]/g, encodeURIComponent);
    const userinfo = where === 'password' ? `:${text}@` : where === 'user:password' ? `ops:${text}@` : '';
    const query = [where === 'sentinelPassword' ? `sentinelPassword=${text}` : '', bad.query ?? ''].filter(Boolean).join('&');
    const url = `${sch}://${userinfo}127.0.0.1${bad.port ?? ''}${bad.hosts ?? ''}${bad.path ?? (sch.endsWith('sentinel') ? '/mymaster' : '/0')}`
      + `${query ? `?${query}` : ''}${bad.fragment ?? ''}`;
    let message;
    try {
      message = parseStoreUrl(url).description;
    } catch (err) {
      if (err.code !== 'TIERDNS_E_STORE_URL') throw err;
      message = err.message;
    }
    for (const c of pw.cores) {
      for (let i = 0; i + 6 <= c.length; i++) {
        if (message.includes(c.slice(i, i + 6))) throw new Error(`'${message}' holds a piece of the password of ${url}`);
      }
    }
  }), { numRuns: 3000 });
});
