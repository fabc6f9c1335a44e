'use strict';
// Several real `tierdns serve` processes on one store, asked with real DNS queries, for the
// store-fault tests: an answer timeline per instance, so a test can say how long a member was
// still handed out after an event, and whether it ever came back when it should not have.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Resolver } = require('node:dns').promises;
const { openStore } = require('../../dist/store/open');
const { defaultPoolConfig } = require('../../dist/model/poolConfig');
const { startServe } = require('./serve');

const ROOT = path.join(__dirname, '..', '..');
const POOL = 'ws.lb.example.com';
/** Probe settings that keep the tests short; §5's bounds scale with them. */
const FAST = { check: 'ws', intervalMs: 1000, fastIntervalMs: 250, timeoutMs: 500, rise: 2, fall: 3, ttlSeconds: 5 };
const LEAVE_BOUND_MS = FAST.intervalMs + (FAST.fall - 1) * FAST.fastIntervalMs + 1000;
const RETURN_BOUND_MS = FAST.intervalMs + (FAST.rise - 1) * FAST.fastIntervalMs + 1000;

/** Start `serve` named `instance` on `storeUrl` with its own state dir; killed after the test. */
async function serveInstance(t, storeUrl, instance, { env = {}, args = [] } = {}) {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `tierdns-${instance}-`));
  const inst = await startServe(t, ['--zones', path.join(ROOT, 'zones'), '--store', storeUrl, '--state-dir', stateDir,
    '--instance', instance, '--log-level', 'info', ...args], { env, timeoutMs: 15_000 });
  t.after(async () => {
    await inst.stop('SIGKILL');
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  const resolver = new Resolver({ timeout: 400, tries: 1 });
  resolver.setServers([`127.0.0.1:${inst.port}`]);
  return { ...inst, instance, resolver, stateDir };
}

/** The sorted A records an instance answers for `name` ([] on any failure). */
async function answers(inst, name = POOL) {
  try {
    return (await inst.resolver.resolve4(name)).sort();
  } catch {
    return [];
  }
}

/** Milliseconds until every instance's answers satisfy `pred`, polling every 20 ms. */
async function timeUntil(instances, pred, limitMs, what) {
  const t0 = Date.now();
  for (;;) {
    const all = await Promise.all(instances.map((i) => answers(i)));
    if (all.every(pred)) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`${what} not reached after ${limitMs} ms: ${JSON.stringify(all)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Polls every instance every `everyMs` until stop(), recording [ms, instance, answers]: a test
 * asks afterwards when an address was last served, or whether it was served in a time range.
 */
function watchAnswers(t, instances, everyMs = 25) {
  const samples = [];
  let running = true;
  const loop = (async () => {
    // Bounded by time: the test stops it, and it ends by itself after 10 minutes.
    const deadline = Date.now() + 600_000;
    while (running && Date.now() < deadline) {
      const at = Date.now();
      const all = await Promise.all(instances.map((i) => answers(i)));
      all.forEach((a, k) => samples.push([at, instances[k].instance, a]));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  const stop = async () => { running = false; await loop; };
  t.after(stop);
  return {
    samples,
    stop,
    /** Samples in [fromMs, toMs] in which `ip` was handed out, by any instance. */
    servedBetween(ip, fromMs, toMs = Infinity) {
      return samples.filter(([at, , a]) => at >= fromMs && at <= toMs && a.includes(ip));
    },
    /** The last sample at or after `fromMs` in which `ip` was handed out (undefined: never). */
    lastServed(ip, fromMs) {
      let last;
      for (const s of samples) if (s[0] >= fromMs && s[2].includes(ip)) last = s;
      return last;
    },
  };
}

/** Create the test pool with `ips` on `url`; returns an admin store handle closed after the test. */
async function setupPool(t, url, ips, port, over = {}) {
  const admin = openStore(url);
  t.after(() => admin.close());
  await admin.setPool({ ...defaultPoolConfig(POOL), ...FAST, port, ...over });
  for (const ip of ips) await admin.updateMember(POOL, ip, { weight: 1, create: true });
  return admin;
}

/** Until the stored verdicts of `ips` are all `verdict` (answers alone cannot tell: all-down fails open). */
async function untilVerdict(admin, ips, verdict = 'up', limitMs = 8000) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const view = await admin.readPool(POOL).catch(() => undefined);
    if (view && ips.every((ip) => view.members.find((m) => m.ip === ip)?.verdict === verdict)) return;
    if (Date.now() > deadline) throw new Error(`verdicts not ${verdict}: ${JSON.stringify(view?.members.map((m) => [m.ip, m.verdict]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

module.exports = { POOL, FAST, LEAVE_BOUND_MS, RETURN_BOUND_MS, serveInstance, answers, timeUntil, watchAnswers, setupPool, untilVerdict };
