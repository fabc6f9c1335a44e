// The data model shared by the stores, the CLI, the health loop and the answer logic.
// Names are absolute, lower-case, without the trailing dot ("ws.lb.example.com").

export type Verdict = 'unknown' | 'up' | 'down';
export type AdminState = 'enabled' | 'drained';
export type CheckKind = 'none' | 'tcp' | 'http' | 'https' | 'ws';
/** 'all' fails open, 'none' answers NODATA, 'pool:<name>' answers from a backup pool. */
export type WhenAllDown = 'all' | 'none' | `pool:${string}`;
/** Where a member's load comes from (docs/steering.md): nowhere, or one of four feeds. */
export type LoadKind = 'none' | 'agent' | 'json' | 'nginx' | 'haproxy';
/**
 * What a load feed says of a member beyond its factor: `ready`, `drain` (the agent said drain
 * or maint: not handed out), `down` (the agent said down/fail/stopped: a failed probe).
 */
export type LoadState = 'ready' | 'drain' | 'maint' | 'down';

export interface PoolConfig {
  name: string;
  /** Answer TTL (default 20). */
  ttlSeconds: number;
  /** Probe kind (default 'tcp'). */
  check: CheckKind;
  /** Probe port when the member has none (default 80, 443 for https). */
  port: number;
  /** HTTP/ws path (default '/'). */
  path: string;
  /** Host header; the member IP when absent. */
  host?: string;
  /** Accepted HTTP status range (default 200-399). */
  expectMin: number;
  expectMax: number;
  /** Probe period (default 2000). */
  intervalMs: number;
  /** Re-probe period while results disagree with the verdict (default intervalMs / 4). */
  fastIntervalMs: number;
  /** Probe timeout, below intervalMs (default 1000). */
  timeoutMs: number;
  /** Consecutive successes to go up (default 2). */
  rise: number;
  /** Consecutive failures to go down (default 3). */
  fall: number;
  /** Records per answer, 0 = every candidate (default 0). */
  maxAnswers: number;
  whenAllDown: WhenAllDown;
  /** Load feed read every interval with the probe timeout (default 'none'). */
  load: LoadKind;
  /** Port of the load feed; 0 = the member's probe port (default 0). */
  loadPort: number;
  /** HTTP path of a json/nginx/haproxy feed (default per kind, see defaultLoadPath). */
  loadPath: string;
  /** Connections a member holds when full, for feeds that do not say (0 = none given; default 0). */
  capacity: number;
  /** Ramp from 10% to 100% of the weight over this long after a member comes up (0 = off; default 0). */
  slowStartMs: number;
}

export interface Member {
  /** Canonical text form (IPv4 dotted quad, IPv6 compressed lower-case). */
  ip: string;
  /** 1..1000 (default 1). */
  weight: number;
  /** Probe port overriding the pool's. */
  port?: number;
  admin: AdminState;
  addedAtMs: number;
}

/** One instance's view of one member, as recorded by its probe loop. */
export interface Observation {
  instance: string;
  state: Verdict;
  /** When this instance's state last changed. */
  sinceMs: number;
  /** Last probe: when, whether it succeeded, how long it took, why it failed. */
  lastProbeMs?: number;
  lastOk?: boolean;
  lastLatencyMs?: number;
  lastError?: string;
  /** This instance's reading of the member's load feed (pools with --load only). */
  load?: LoadObservation;
}

/** One instance's reading of a member's load feed, smoothed over its reads. */
export interface LoadObservation {
  /** Share of the weight to hand out, 0..1 (0: at or over capacity, or the agent said 0%). */
  factor: number;
  state: LoadState;
  /** Connections and capacity as last read (json/nginx/haproxy feeds). */
  connections?: number;
  capacity?: number;
  /** Last successful read (ms since the epoch). */
  readMs: number;
  /** Why the last read failed, when it did. */
  error?: string;
}

/** The load every instance serves: merged from the live instances' observations, like a verdict. */
export interface MergedLoad {
  factor: number;
  state: LoadState;
}

export interface MemberView extends Member {
  /** The verdict every instance serves (majority of live instances' observations). */
  verdict: Verdict;
  verdictSinceMs: number;
  observations: Observation[];
  /** The shared load; absent when no live instance reads a feed for it. */
  load?: MergedLoad;
}

/** A member's shared verdict as the store keeps it. */
export interface VerdictEntry {
  verdict: Verdict;
  sinceMs: number;
  load?: MergedLoad;
}

export interface PoolView {
  config: PoolConfig;
  members: MemberView[];
}
