import { formatDuration } from '../util/duration';
import { TierdnsError, errorMessage } from '../util/errors';
import type { MemberView, PoolConfig } from '../model/types';
import type { Store } from '../store/types';

// `member drain … --wait` (docs/steering.md): after the drain, wait until the member's reported
// connections are at most `until`, or, when its pool has no feed that counts connections,
// until twice the pool TTL has passed (resolvers have let go of the answers that named it).
// It gives up at --timeout, by default an hour: a balancer whose clients never leave (one
// WebSocket kept open for days) must not hold a maintenance script forever.

export interface DrainWaitOptions {
  pool: string;
  ip: string;
  /** Done when the freshest reading is at most this many connections. */
  until: number;
  /** Give up (TIERDNS_E_TIMEOUT) after this long; undefined: DEFAULT_DRAIN_TIMEOUT_MS, or 2 x TTL when that is the wait and longer. */
  timeoutMs?: number;
  /** How often the store is read. */
  pollMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  print: (line: string) => void;
}

/** A reading older than this many probe intervals (and 10 s) no longer says how many connections there are. */
const FRESH_INTERVALS = 3;
/** How long --wait waits without --timeout. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 3_600_000;
/** The exit status when --wait gives up: timeout(1)'s, so a script tells "still has connections" from an error (2). */
export const DRAIN_TIMEOUT_EXIT = 124;

/** Progress is printed when the count changes, and at least this often. */
const PROGRESS_EVERY_MS = 10_000;

/** Feeds that count connections (an agent gives a weight, not a count). */
function countsConnections(config: PoolConfig): boolean {
  return config.load === 'json' || config.load === 'nginx' || config.load === 'haproxy';
}

/**
 * nginx and HAProxy count the connection their statistics are read on, so an idle balancer
 * reports 1: that one is tierdns's own read, not a client still connected.
 */
function ownReadConnections(config: PoolConfig): number {
  return config.load === 'nginx' || config.load === 'haproxy' ? 1 : 0;
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
  let limitMs = o.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
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
        // The default never cuts short a wait whose end is known (a TTL above 30 minutes).
        if (o.timeoutMs === undefined) limitMs = Math.max(DEFAULT_DRAIN_TIMEOUT_MS, waitMs);
        if (now - started >= waitMs) {
          o.print(`member ${who} drained: no load feed counts its connections; 2 x TTL (${formatDuration(waitMs)}) passed since the drain`);
          return;
        }
        state = `waiting 2 x TTL (${formatDuration(waitMs)}): ${who} has no load feed that counts connections`;
      } else {
        const reported = freshConnections(m, view.config, now);
        const connections = reported === undefined ? undefined : Math.max(0, reported - ownReadConnections(view.config));
        const counted = reported !== undefined && reported !== connections ? ` (the feed reports ${reported}, one of them its own read)` : '';
        if (connections !== undefined && connections <= o.until) {
          o.print(`member ${who} drained: ${connections} connection${connections === 1 ? '' : 's'}${counted} (at most ${o.until}) after ${formatDuration(now - started)}`);
          return;
        }
        state = connections === undefined ? `waiting: no fresh load reading of ${who} yet` : `waiting: ${who} has ${connections} connections${counted} (until at most ${o.until})`;
      }
    } catch (err) {
      if (err instanceof TierdnsError && err.code !== 'TIERDNS_E_STORE_UNREACHABLE') throw err;
      state = `waiting: cannot read the store (${errorMessage(err)})`;
    }
    if (now - started >= limitMs) {
      const limit = o.timeoutMs === undefined ? `${formatDuration(limitMs)} (the default --timeout)` : `--timeout ${formatDuration(limitMs)}`;
      throw new TierdnsError('TIERDNS_E_TIMEOUT', `member ${who} not drained after ${limit}: ${state.replace(/^waiting: /, '')}; it stays drained`);
    }
    progress(state);
    await o.sleep(o.pollMs);
  }
}
