import type { Logger } from 'pino';
import type { Member, Observation, PoolConfig, Verdict } from '../model/types';
import type { Store } from '../store/types';
import type { Clock } from './clock';
import type { LoadReading, LoadTarget } from './loadTypes';
import type { ProbeResult, ProbeTarget } from './probe';

// What the probe loop (./loop) is given and what it tells: its options, the view of a pool and
// member it probes, and an instance's own state of a member.

/** How a HealthLoop is built: its store, identity, and what tests may replace. */
export interface HealthLoopOptions {
  store: Store;
  /** This instance's name in the store (its observations and heartbeat). */
  instance: string;
  log: Logger;
  /** Period of this instance's heartbeat (default 1000 ms; 0 = none here: ProbeThread beats from the serving thread). */
  heartbeatMs?: number;
  /** Heartbeat age past which this instance's observations stop counting (default 5000 ms). */
  instanceTtlMs?: number;
  /** Time and timers (default: wall clock, unref'd timers). */
  clock?: Clock;
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number;
  /** The probe function (default: the real probes of ./probe; tests inject fakes). */
  probe?: (target: ProbeTarget) => Promise<ProbeResult>;
  /** The load-feed read (default: ./loadFeed's readLoad; tests may inject fakes). */
  readLoad?: (target: LoadTarget) => Promise<LoadReading>;
  /** Source address of probes (default: the kernel chooses). */
  sourceAddress?: string;
  /** Probes in flight at once, all members together: bounds file descriptors (default 8192). */
  maxInFlight?: number;
  /** Probe starts per turn of the event loop (default 8). */
  maxStartsPerTick?: number;
  /** Shortest time between two last-probe refreshes of one member in the store (default: the store's observationRefreshMs). */
  refreshMs?: number;
  /** Refresh writes per second, all members together (default 200). */
  refreshPerSecond?: number;
  /**
   * This instance's own state of a member, whenever it is decided or changes (undefined: the
   * member is no longer probed here). The serving thread answers with these while the store
   * cannot be reached (docs/health.md "While the store is down").
   */
  onOwnState?: (pool: string, ip: string, own: OwnState | undefined) => void;
  /** Whether this instance's observations reach the store: false once a write fails or hangs, true once one lands again. */
  onWritesOk?: (ok: boolean) => void;
}

/** One instance's own view of a member: what it would serve if it were alone. */
export interface OwnState {
  state: 'up' | 'down';
  sinceMs: number;
}

/** What the loop needs of a member: where to probe, the verdict served, this instance's stored observation (others' may be there too). */
export interface ProbedMember extends Pick<Member, 'ip' | 'port'> {
  verdict: Verdict;
  observations: Observation[];
  /** Drained: its connection count goes to the store as it changes (`member drain --wait` reads it). */
  admin?: Member['admin'];
}

/** What the loop needs of a pool (a store PoolView is one; ./thread sends only this to its worker). */
export interface ProbedPool {
  config: PoolConfig;
  members: readonly ProbedMember[];
}
