// The data model shared by the stores, the CLI, the health loop and the answer logic.
// Names are absolute, lower-case, without the trailing dot ("ws.lb.example.com").

export type Verdict = 'unknown' | 'up' | 'down';
export type AdminState = 'enabled' | 'drained';
export type CheckKind = 'none' | 'tcp' | 'http' | 'https' | 'ws';
/** 'all' fails open, 'none' answers NODATA, 'pool:<name>' answers from a backup pool. */
export type WhenAllDown = 'all' | 'none' | `pool:${string}`;

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
}

export interface MemberView extends Member {
  /** The verdict every instance serves (majority of live instances' observations). */
  verdict: Verdict;
  verdictSinceMs: number;
  observations: Observation[];
}

/** A member's shared verdict as the store keeps it. */
export interface VerdictEntry {
  verdict: Verdict;
  sinceMs: number;
}

export interface PoolView {
  config: PoolConfig;
  members: MemberView[];
}
