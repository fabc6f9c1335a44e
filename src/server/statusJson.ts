import { summarizePool } from '../model/poolSummary';
import type { PoolView } from '../model/types';
import { servedVerdict } from '../model/verdict';
import { loadView, servedWeights } from '../model/load';
import type { StoreState } from './metrics';
import { writeSliced, type WriteText } from './textStream';

// The document behind the status page (/status.json, docs/metrics.md "Status page"), built
// from the instance's copy of the store a slice of pools at a time.

/** Pools per piece of the document: fewer than a scrape's, a pool's JSON being the larger. */
const POOLS_PER_PIECE = 50;

export interface StatusHeader {
  instance: string;
  version: string;
  /** Changes whenever pools, verdicts or the store's state do (the page waits for it). */
  generation: number;
  ready: boolean;
  storeDescription: string;
}

function poolText(name: string, view: PoolView, live: ReadonlyMap<string, number>, nowMs: number): string {
  const c = view.config;
  const weights = servedWeights(view, nowMs);
  return JSON.stringify({
    name,
    ttl: c.ttlSeconds,
    check: c.check,
    port: c.port,
    path: c.check === 'http' || c.check === 'https' || c.check === 'ws' ? c.path : undefined,
    host: c.host,
    whenAllDown: c.whenAllDown,
    load: c.load === 'none' ? undefined : c.load,
    slowStartMs: c.slowStartMs > 0 ? c.slowStartMs : undefined,
    summary: summarizePool(view),
    members: view.members.map((m) => {
      const served = servedVerdict(m, c.check);
      return {
        ip: m.ip,
        port: m.port ?? c.port,
        weight: m.weight,
        effectiveWeight: weights.get(m.ip) ?? 0,
        load: loadView(m, c, live),
        admin: m.admin,
        verdict: served.verdict,
        verdictSinceMs: served.sinceMs,
        observations: m.observations.map((o) => ({
          instance: o.instance,
          state: o.state,
          sinceMs: o.sinceMs,
          lastProbeMs: o.lastProbeMs,
          lastOk: o.lastOk,
          lastLatencyMs: o.lastLatencyMs,
          lastError: o.lastError,
        })),
      };
    }),
  });
}

/** The status document as JSON: pools sorted by name, instances with their last heartbeat. */
export async function writeStatusJson(head: StatusHeader, store: StoreState, write: WriteText): Promise<void> {
  const { storeDescription, ...rest } = head;
  const top = JSON.stringify({
    ...rest,
    nowMs: Date.now(),
    store: { description: storeDescription, status: store.status, lastSyncMs: store.lastSyncMs, lost: store.lost === true },
    instances: [...store.instances].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, lastBeatMs]) => ({ name, lastBeatMs })),
  });
  // Views are never edited: the set taken now is one consistent state for the whole document.
  const pools = [...store.pools].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // `top` ends with '}': the pools go in as its last member.
  const nowMs = Date.now();
  await writeSliced(pools, ([name, view], i) => (i === 0 ? '' : ',') + poolText(name, view, store.instances, nowMs), write, `${top.slice(0, -1)},"pools":[`, POOLS_PER_PIECE);
  await write(']}');
}
