'use strict';
// Backends for the store tests: each gives a fresh, isolated store location and a way to
// corrupt it, so one contract suite runs unchanged against Redis and the file store.

const fs = require('node:fs');
const path = require('node:path');
const pino = require('pino');
const { openStore } = require('../../dist/store/open');
const { defaultPoolConfig } = require('../../dist/model/poolConfig');
const { startRedis, startPrivateRedis, uniquePrefix, rawClient } = require('./redis');
const { tempDir } = require('./serve');

/** A pino logger whose entries land in `entries` (to assert TIERDNS_E_STORE_DATA reports). */
function captureLog() {
  const entries = [];
  const log = pino({ level: 'debug' }, { write: (line) => entries.push(JSON.parse(line)) });
  return { log, entries };
}

/** A temp dir removed after the test, once the serve processes it started have exited. */
function tmpDir(t, name = 'tierdns-store-') {
  return tempDir(t, name);
}

/** Poll `pred` until true or fail after `ms`. */
async function waitFor(pred, ms = 3000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pool(name, over = {}) {
  return { ...defaultPoolConfig(name), ...over };
}

/** The Redis backend: one server per test file, a fresh prefix per location (`private`: never REDIS_URL). */
function redisBackend({ private: own = false } = {}) {
  let server;
  return {
    name: 'redis',
    async before() {
      server = own ? await startPrivateRedis() : await startRedis();
    },
    async after() {
      if (server) await server.stop();
    },
    get server() {
      return server;
    },
    location(t) {
      const prefix = uniquePrefix();
      const url = `${server.url}?prefix=${encodeURIComponent(prefix)}`;
      return {
        url,
        prefix,
        open: (opts = {}) => {
          const s = openStore(url, opts);
          t.after(() => s.close());
          return s;
        },
        /** Write a raw value into the pool's members (malformed-entry tests). */
        async corruptMember(poolName, ip, raw) {
          const c = await rawClient(server.url);
          await c.hset(`${prefix}members:${poolName}`, ip, raw);
          c.disconnect();
        },
        async setLayoutVersion(v) {
          const c = await rawClient(server.url);
          await c.set(`${prefix}version`, String(v));
          c.disconnect();
        },
        /** A write whose change notification was lost (a "missed message"): counted, not published. */
        async silentAddMember(poolName, ip) {
          const c = await rawClient(server.url);
          await c.multi()
            .hset(`${prefix}members:${poolName}`, ip, JSON.stringify({ ip, weight: 1, admin: 'enabled', addedAtMs: Date.now() }))
            .incr(`${prefix}changecount`)
            .exec();
          c.disconnect();
        },
        /** An edit made by hand as the README says: counted, and published as the bare pool name. */
        async handEditMember(poolName, ip) {
          const c = await rawClient(server.url);
          await c.multi()
            .hset(`${prefix}members:${poolName}`, ip, JSON.stringify({ ip, weight: 1, admin: 'enabled', addedAtMs: Date.now() }))
            .incr(`${prefix}changecount`)
            .publish(`${prefix}changes`, poolName)
            .exec();
          c.disconnect();
        },
        /** Every key of this location gone, as after a restart without data or a FLUSHALL. */
        async loseEverything() {
          const c = await rawClient(server.url);
          const keys = await c.keys(`${prefix}*`);
          if (keys.length > 0) await c.del(...keys);
          c.disconnect();
        },
        /** An edit behind tierdns's back (redis-cli, an older build): neither counted nor published. */
        async foreignAddMember(poolName, ip) {
          const c = await rawClient(server.url);
          await c.hset(`${prefix}members:${poolName}`, ip, JSON.stringify({ ip, weight: 1, admin: 'enabled', addedAtMs: Date.now() }));
          c.disconnect();
        },
      };
    },
  };
}

/** The file backend: a fresh directory per location. */
function fileBackend() {
  return {
    name: 'file',
    async before() {},
    async after() {},
    location(t) {
      const file = path.join(tmpDir(t), 'store.json');
      const url = `file:${file}`;
      const edit = (f) => {
        const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
        f(doc);
        // Bump seq so watchers notice like any other write.
        doc.seq += 1;
        doc.recent.push({ seq: doc.seq, pools: ['*'] });
        fs.writeFileSync(file, JSON.stringify(doc));
      };
      return {
        url,
        file,
        open: (opts = {}) => {
          const s = openStore(url, { pollMs: 100, ...opts });
          t.after(() => s.close());
          return s;
        },
        async corruptMember(poolName, ip, raw) {
          edit((doc) => {
            let value;
            try {
              value = JSON.parse(raw);
            } catch {
              value = raw;
            }
            doc.pools[poolName].members[ip] = value;
          });
        },
        async setLayoutVersion(v) {
          edit((doc) => {
            doc.version = v;
          });
        },
        /** Add a member without bumping seq: watchers see the file change but no pool in it. */
        async silentAddMember(poolName, ip) {
          const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
          doc.pools[poolName].members[ip] = { ip, weight: 1, admin: 'enabled', addedAtMs: Date.now() };
          fs.writeFileSync(`${file}.t`, JSON.stringify(doc));
          fs.renameSync(`${file}.t`, file);
        },
        /** The document deleted (its heartbeat sidecar stays). */
        async loseEverything() {
          fs.rmSync(file);
        },
        /** Make every read fail (TIERDNS_E_STORE_DATA) until restore(). */
        breakFile() {
          const saved = fs.readFileSync(file);
          fs.writeFileSync(file, '{ torn');
          return () => fs.writeFileSync(file, saved);
        },
      };
    },
  };
}

module.exports = { redisBackend, fileBackend, captureLog, tmpDir, waitFor, sleep, pool };
