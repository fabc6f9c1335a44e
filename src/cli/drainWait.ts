import { formatDuration } from '../util/duration';
import { TierdnsError, errorMessage } from '../util/errors';
import type { MemberView, PoolConfig } from '../model/types';
import type { Store } from '../store/types';

// `member drain … --wait` (docs/steering.md): after the drain, wait until the member's reported
// connections are at most `until`, or, when its pool has no feed that counts connections,
// until twice the pool TTL has passed (resolvers have let go of the answers that named it).

export interface DrainWaitOptions {
  pool: string;
  ip: string;
  /** Done when the freshest reading is at most this many connections. */
  until: number;
  /** Give up (TIERDNS_E_TIMEOUT) after this long; undefined waits as long as it takes. */
  timeoutMs?: number;
  /** How often the store is read. */
  pollMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  print: (line: string) => void;
}

/** A reading older than this many probe intervals (and 10 s) no longer says how many connections there are. */
const FRESH_INTERVALS = 3;
/** Progress is printed when the count changes, and at least this often. */
const PROGRESS_EVERY_MS = 10_000;

/** Feeds that count connections (an agent gives a weight, not a count). */
function countsConnections(config: PoolConfig): boolean {
  return config.load === 'json' || config.load === 'nginx' || config.load === 'haproxy';
}

/** The freshest reading of the member's connections among the instances' observations, if fresh. */
export function freshConnections(m: MemberView, config: PoolConfig, nowMs: number): number | undefined {
  const maxAgeMs = Math.max(10_000, FRESH_INTERVALS * config.intervalMs);
  let best: { connections: number; readMs: number } | undefined;
  for (const o of m.observations) {
    const l = o.load;
    if (!l || l.connections === undefined || l.error !== undefined || nowMs - l.readMs > maxAgeMs) continue;
    if (!best || l.readMs > best.readMs) best = { connections: l.connections, readMs: l.readMs };
  }
  return best?.connections;
}

/** Wait for the drained member to empty (see the file comment); throws TIERDNS_E_TIMEOUT at the timeout. */
export async function waitForDrain(store: Store, o: DrainWaitOptions): Promise<void> {
  const started = o.now();
  const who = `${o.ip} of ${o.pool}`;
  let lastLine = '';
  let lastPrintMs = -Infinity;
  const progress = (line: string): void => {
    const now = o.now();
    if (line === lastLine && now - lastPrintMs < PROGRESS_EVERY_MS) return;
    o.print(`${line}, ${formatDuration(now - started)} since the drain`);
    lastLine = line;
    lastPrintMs = now;
  };
  for (;;) {
    const now = o.now();
    let state: string;
    try {
      const view = await store.readPool(o.pool);
      if (!view) throw new TierdnsError('TIERDNS_E_NO_POOL', `no pool named ${o.pool}`);
      const m = view.members.find((x) => x.ip === o.ip);
      if (!m) throw new TierdnsError('TIERDNS_E_NO_MEMBER', `pool ${o.pool} has no member ${o.ip} any more`);
      if (m.admin !== 'drained') throw new TierdnsError('TIERDNS_E_BAD_VALUE', `member ${who} was undrained while waiting`);
      if (!countsConnections(view.config)) {
        const waitMs = 2 * view.config.ttlSeconds * 1000;
        if (now - started >= waitMs) {
          o.print(`member ${who} drained: no load feed counts its connections; 2 x TTL (${formatDuration(waitMs)}) passed since the drain`);
          return;
        }
        state = `waiting 2 x TTL (${formatDuration(waitMs)}): ${who} has no load feed that counts connections`;
      } else {
        const connections = freshConnections(m, view.config, now);
        if (connections !== undefined && connections <= o.until) {
          o.print(`member ${who} drained: ${connections} connection${connections === 1 ? '' : 's'} (at most ${o.until}) after ${formatDuration(now - started)}`);
          return;
        }
        state = connections === undefined ? `waiting: no fresh load reading of ${who} yet` : `waiting: ${who} has ${connections} connections (until at most ${o.until})`;
      }
    } catch (err) {
      if (err instanceof TierdnsError && err.code !== 'TIERDNS_E_STORE_UNREACHABLE') throw err;
      state = `waiting: cannot read the store (${errorMessage(err)})`;
    }
    if (o.timeoutMs !== undefined && now - started >= o.timeoutMs) {
      throw new TierdnsError('TIERDNS_E_TIMEOUT', `member ${who} not drained after --timeout ${formatDuration(o.timeoutMs)}: ${state.replace(/^waiting: /, '')}`);
    }
    progress(state);
    await o.sleep(o.pollMs);
  }
}
