'use strict';
// The real file store for tests that drive the health loop with a fake clock. The store keeps
// its own rules (verdicts, quorum, refresh-or-record); this wrapper only watches it from the
// outside: it counts operations in flight so the test moves the clock only once the store has
// answered (real I/O takes real time, which a fake clock must not run past), hands every
// changed pool to the loops the way `serve` does, records observation writes, and can make
// every operation fail as an unreachable store does.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const pino = require('pino');
const { openStore } = require('../../dist/store/open');
const { TierdnsError } = require('../../dist/util/errors');

/** Operations after which the pools they touch are read again and handed to the followers. */
const CHANGES = new Set(['setPool', 'updatePool', 'removePool', 'updateMember', 'removeMember', 'recordObservation', 'heartbeat']);

/**
 * A file store in a temp dir on `clock`. Returns the wrapped store, with:
 *  - `follow(fn)`: fn(name, view) after every change, like StoreSync's 'pool' event;
 *  - `settle()`: resolves once no operation is in flight (bounded: throws after 10 s);
 *  - `writes`: observation writes [{ pool, ip, obs, atMs }] (recorded, or refreshed in place);
 *  - `heartbeats`: heartbeats written; `failing`: when true every operation rejects
 *    TIERDNS_E_STORE_UNREACHABLE; `real`: the store itself, for the test's own reads.
 */
function steppedFileStore(t, clock) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierdns-stepped-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const real = openStore(`file:${path.join(dir, 'store.json')}`, { nowMs: () => clock.now(), log: pino({ level: 'silent' }) });
  t.after(() => real.close());
  const followers = new Set();
  const known = new Set();
  let inFlight = 0;
  const state = { writes: [], heartbeats: 0, failing: false, real };

  async function announce(names) {
    for (const name of names) {
      const view = await real.readPool(name);
      if (!view) known.delete(name);
      for (const f of followers) f(name, view);
    }
  }

  async function call(method, args) {
    if (state.failing) throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', 'store switched off by the test');
    const result = await real[method](...args);
    if (method === 'recordObservation' || (method === 'refreshObservation' && result)) {
      state.writes.push({ pool: args[0], ip: args[1], obs: { ...args[2] }, atMs: clock.now() });
    }
    if (method === 'heartbeat') state.heartbeats += 1;
    if (method === 'setPool') known.add(args[0].name);
    else if (method === 'updatePool') known.add(args[0]);
    // A heartbeat may recompute any pool; every other change names its pool.
    if (CHANGES.has(method)) await announce(method === 'heartbeat' ? [...known] : [method === 'setPool' ? args[0].name : args[0]]);
    return result;
  }

  const wrapped = new Proxy(real, {
    get(target, prop) {
      if (prop in state) return state[prop];
      if (prop === 'follow') return (fn) => { followers.add(fn); return () => followers.delete(fn); };
      if (prop === 'settle') return settle;
      const value = target[prop];
      if (typeof value !== 'function' || prop === 'close' || prop === 'onStatus' || prop === 'watch') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (...args) => {
        inFlight += 1;
        return call(prop, args).finally(() => { inFlight -= 1; });
      };
    },
    set(target, prop, value) {
      if (prop !== 'failing') throw new Error(`cannot set ${String(prop)} on the stepped store`);
      state.failing = value;
      return true;
    },
  });

  async function settle() {
    const deadline = Date.now() + 10_000;
    // Two quiet turns in a row: a finished operation's continuation may start the next one.
    for (let quiet = 0; quiet < 2;) {
      await new Promise((r) => setImmediate(r));
      quiet = inFlight === 0 ? quiet + 1 : 0;
      if (quiet === 0 && Date.now() > deadline) throw new Error(`store operations still in flight after 10 s: ${inFlight}`);
      if (inFlight > 0) await new Promise((r) => setTimeout(r, 1));
    }
  }

  return wrapped;
}

module.exports = { steppedFileStore };
