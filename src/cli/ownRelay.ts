import cluster, { type Worker } from 'node:cluster';
import type { OwnUpdate } from '../server/ownVerdicts';

// `serve --workers N`: only worker 1 probes, yet every worker must answer with the instance's
// own verdicts while the store is down (docs/health.md "While the store is down"). Worker 1
// sends its own-state changes to the primary, once per turn; the primary keeps the latest of
// each and passes them to the other workers, and all of them to a worker that (re)starts.

interface RelayMessage {
  tierdnsOwn: OwnUpdate[];
}

function isRelay(msg: unknown): msg is RelayMessage {
  return typeof msg === 'object' && msg !== null && Array.isArray((msg as RelayMessage).tierdnsOwn);
}

/** In the probing worker: the Instance's onOwnUpdate. */
export function sendOwnUpdates(): (u: OwnUpdate) => void {
  let batch: OwnUpdate[] = [];
  return (u) => {
    if (batch.length === 0) {
      setImmediate(() => {
        const updates = batch;
        batch = [];
        if (process.connected) process.send?.({ tierdnsOwn: updates } satisfies RelayMessage);
      });
    }
    batch.push(u);
  };
}

/** In a worker that does not probe: apply what the primary passes on. */
export function receiveOwnUpdates(apply: (u: OwnUpdate) => void): void {
  process.on('message', (msg: unknown) => {
    if (isRelay(msg)) for (const u of msg.tierdnsOwn) apply(u);
  });
}

/** In the primary: `indexOf` says which worker probes (index 1). */
export function relayOwnUpdates(indexOf: (w: Worker) => number | undefined): void {
  const latest = new Map<string, OwnUpdate>();
  let writes: OwnUpdate | undefined;
  const others = (from: Worker): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w !== from);
  cluster.on('message', (from: Worker, msg: unknown) => {
    if (!isRelay(msg) || indexOf(from) !== 1) return;
    for (const u of msg.tierdnsOwn) {
      if (u.kind === 'writes') writes = u;
      else if (u.own) latest.set(`${u.pool}|${u.ip}`, u);
      else latest.delete(`${u.pool}|${u.ip}`);
    }
    for (const w of others(from)) if (w.isConnected()) w.send(msg);
  });
  cluster.on('online', (w: Worker) => {
    if (indexOf(w) === 1 || (latest.size === 0 && !writes)) return;
    w.send({ tierdnsOwn: [...latest.values(), ...(writes ? [writes] : [])] } satisfies RelayMessage);
  });
}
