'use strict';
// The status page in a real browser: Debian's Chromium, headless, driven by playwright-core.
// It renders pools and members, shows a killed balancer as down within the failover bound
// without a reload, raises the failing-open banner, puts store text on the page as text,
// fits a phone's width, and loads nothing from anywhere but its own listener.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { tempDir, startServe, runCli } = require('./helpers/serve');
const { freePort } = require('./helpers/redis');
const { tcpBalancer, closedPort } = require('./helpers/balancers');

const CHROMIUM = '/usr/bin/chromium';
// The pool's probe timing, and the failover bound of docs/health.md for it.
const TIMING = { interval: 1000, fast: 250, fall: 3 };
const LEAVE_BOUND_MS = TIMING.interval + (TIMING.fall - 1) * TIMING.fast + 1000;

const ZONE = `$ORIGIN t.example.
$TTL 60
@ SOA ns1 h 1 2 3 4 30
@ NS ns1
ns1 A 127.0.0.1
`;

// Markup as an instance name (the store allows no spaces in one): the page must show it as text.
const EVIL_INSTANCE = '<img/src=x/onerror=window.__injected=1>ns1';

async function browserPage(t) {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
  // A fresh profile, removed only once the browser has closed (it writes there until then).
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-chromium-'));
  let context;
  t.after(async () => {
    await context?.close();
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 900 },
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const problems = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (err) => problems.push(String(err)));
  return { page, requests, problems };
}

test('the status page in Chromium: members, a killed balancer down within the bound, banners, escaping, phone width', { timeout: 120000 }, async (t) => {
  const dir = tempDir(t);
  const zones = path.join(dir, 'zones');
  fs.mkdirSync(zones);
  fs.writeFileSync(path.join(zones, 't.example.zone'), ZONE);
  const store = `file:${path.join(dir, 'store.json')}`;
  const a = await tcpBalancer(t, '127.0.0.1');
  const b = await tcpBalancer(t, '127.0.0.2');
  const cli = async (args) => {
    const r = await runCli([...args, '--zones', zones, '--store', store]);
    assert.equal(r.code, 0, r.stderr);
  };
  const timing = ['--check', 'tcp', '--interval', `${TIMING.interval}ms`, '--fast-interval', `${TIMING.fast}ms`, '--timeout', '500ms', '--fall', String(TIMING.fall)];
  await cli(['pool', 'set', 'ws.t.example', ...timing]);
  await cli(['member', 'add', 'ws.t.example', '127.0.0.1', '--port', String(a.port)]);
  await cli(['member', 'add', 'ws.t.example', '127.0.0.2', '--port', String(b.port), '--weight', '5']);
  // Every member of this one is down: it fails open.
  await cli(['pool', 'set', 'dead.t.example', ...timing]);
  await cli(['member', 'add', 'dead.t.example', '127.0.0.3', '--port', String(await closedPort('127.0.0.3'))]);
  const mport = await freePort();
  await startServe(t, ['--zones', zones, '--store', store, '--metrics', `127.0.0.1:${mport}`, '--instance', EVIL_INSTANCE]);

  const { page, requests, problems } = await browserPage(t);
  const origin = `http://127.0.0.1:${mport}`;
  await page.goto(`${origin}/`);
  const verdict = (pool, ip, v) => `section[data-pool="${pool}"] tr[data-member="${ip}"] td.verdict[data-verdict="${v}"]`;
  await page.waitForSelector(verdict('ws.t.example', '127.0.0.1', 'up'), { timeout: 15000 });
  await page.waitForSelector(verdict('ws.t.example', '127.0.0.2', 'up'), { timeout: 15000 });
  await page.waitForSelector('[data-failing-open="dead.t.example"]', { timeout: 15000 });

  const row = page.locator('section[data-pool="ws.t.example"] tr[data-member="127.0.0.2"]');
  assert.equal(await row.locator('td[data-label="Weight"]').textContent(), '5');
  assert.equal(await row.locator('td[data-label="Admin"]').textContent(), 'enabled');
  assert.match(await row.locator('td[data-label="Last probe"]').textContent(), /^ok /);
  assert.equal(await page.locator('section[data-pool="dead.t.example"] .badge.fo').textContent(), 'FAILING OPEN');
  assert.match(await page.locator('[data-failing-open="dead.t.example"]').textContent(), /failing open/);

  // The instance name is shown as the text it is, and its markup did nothing.
  assert.equal(await row.locator('.obs').first().getAttribute('data-instance'), EVIL_INSTANCE);
  assert.equal(await row.locator('.obs').first().textContent(), `${EVIL_INSTANCE}: up`);
  assert.equal(await page.locator('#instance').textContent(), EVIL_INSTANCE);
  assert.equal(await page.locator('img').count(), 0);
  assert.equal(await page.evaluate(() => window.__injected), undefined);

  // Kill balancer 127.0.0.2: the page, never reloaded, shows it down within the bound.
  await page.evaluate(() => { window.__sameDocument = true; });
  const killedAt = Date.now();
  await b.close();
  await page.waitForSelector(verdict('ws.t.example', '127.0.0.2', 'down'), { timeout: LEAVE_BOUND_MS + 10000 });
  const shownMs = Date.now() - killedAt;
  t.diagnostic(`killed balancer shown down after ${shownMs} ms (bound ${LEAVE_BOUND_MS} ms)`);
  assert.ok(shownMs <= LEAVE_BOUND_MS, `shown down after ${shownMs} ms, bound ${LEAVE_BOUND_MS} ms`);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
  assert.match(await row.locator('td[data-label="Last probe"]').textContent(), /^failed .*ECONNREFUSED/s);
  assert.equal(await page.locator(verdict('ws.t.example', '127.0.0.1', 'up')).count(), 1);

  // A phone: no sideways scrolling, one card per member with its labels.
  await page.setViewportSize({ width: 360, height: 740 });
  const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, view: window.innerWidth }));
  assert.ok(widths.page <= widths.view, `page ${widths.page} px wide in a ${widths.view} px viewport`);
  assert.equal(await page.locator('section[data-pool="ws.t.example"] thead').isVisible(), false);

  // Filter by name: only the matching pool is drawn.
  await page.fill('#filter', 'dead');
  await page.waitForFunction(() => document.querySelectorAll('section.pool').length === 1);
  assert.equal(await page.locator('section.pool').getAttribute('data-pool'), 'dead.t.example');

  assert.deepEqual(problems, [], 'no script errors or CSP violations');
  assert.ok(requests.length >= 2);
  assert.deepEqual(requests.filter((u) => !u.startsWith(`${origin}/`)), [], 'every request went to the listener itself');
});
