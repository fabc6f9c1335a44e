'use strict';
// The store faults the soak cycles through, on a SentinelGroup (test/helpers/sentinel.js):
// the master killed and restarted at once with its data and without it (faster than Sentinel's
// down-after, so a restart and not a failover), a graceful SENTINEL FAILOVER, and a crash of
// the master that Sentinel fails over (the old master restarted afterwards, to come back as a
// replica). Each resolves with what happened and when.

const fs = require('node:fs');
const path = require('node:path');

const COMMON = ['--repl-diskless-sync-delay', '0'];

/** The current master's node, as sentinel 0 names it. */
async function currentMaster(group) {
  const port = await group.masterPort(0);
  group._masterPort = port;
  return group.nodes.get(port);
}

async function settle(group) {
  const master = await currentMaster(group);
  await group.waitInSync(master.port, 20_000).catch(() => undefined);
}

async function restartMaster(group, { keepData }) {
  const node = await currentMaster(group);
  if (keepData) {
    const c = group.client(node.port);
    await c.connect();
    await c.save();
    c.disconnect();
  }
  const atMs = Date.now();
  await node.kill();
  if (!keepData) for (const f of fs.readdirSync(node.dir)) if (f.endsWith('.rdb')) fs.rmSync(path.join(node.dir, f));
  await node.start(COMMON);
  const backMs = Date.now();
  await settle(group);
  return { kind: keepData ? 'redis-restart-with-data' : 'redis-restart-without-data', atMs, detail: { port: node.port, downMs: backMs - atMs } };
}

async function gracefulFailover(group) {
  const from = await currentMaster(group);
  await group.waitInSync(from.port, 20_000).catch(() => undefined);
  const switched = group.onSwitch();
  const atMs = Date.now();
  try {
    await group.failover();
  } catch (err) {
    return { kind: 'sentinel-failover', atMs, detail: { refused: String(err.message) } };
  }
  const sw = await Promise.race([switched, new Promise((r) => setTimeout(() => r(undefined), 15_000))]);
  await settle(group);
  return { kind: 'sentinel-failover', atMs, detail: { from: from.port, to: sw?.to, switchMs: sw ? sw.atMs - atMs : null } };
}

async function crashFailover(group) {
  const node = await currentMaster(group);
  await group.waitInSync(node.port, 20_000).catch(() => undefined);
  const switched = group.onSwitch();
  const atMs = Date.now();
  await node.kill();
  const sw = await Promise.race([switched, new Promise((r) => setTimeout(() => r(undefined), 20_000))]);
  // Back as a stale master; Sentinel turns it into a replica of the new one.
  await node.start(COMMON);
  await settle(group);
  return { kind: 'master-crash', atMs, detail: { from: node.port, to: sw?.to, switchMs: sw ? sw.atMs - atMs : null } };
}

const FAULTS = [
  (g) => restartMaster(g, { keepData: true }),
  (g) => restartMaster(g, { keepData: false }),
  gracefulFailover,
  crashFailover,
];

module.exports = { FAULTS, currentMaster };
