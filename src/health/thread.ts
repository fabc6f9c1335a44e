import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { PoolView } from '../model/types';
import type { Store } from '../store/types';
import { errorMessage } from '../util/errors';
import { POOLS_PER_TURN, nextTurn } from '../util/turn';
import { HEARTBEAT_EVERY_MS, Heartbeat, INSTANCE_TTL_MS } from './heartbeat';
import type { OwnState, ProbedPool } from './loopTypes';
import { addProbeStats, zeroProbeStats, type ProbeStats } from './probeStats';
import { systemClock } from './clock';
import { isProbed } from './target';

// The health-probe loop of a serving instance, run on a thread of its own (./probeWorker).
// Probing thousands of members is thousands of probes a second: their JS, their garbage (young-
// generation scavenges that pause the isolate) and the store writes they cause would
// otherwise sit between queries and their answers. On its own isolate, none of that
// pauses answering; on a multi-core host it runs on another core, and on one core the kernel
// interleaves it with the answering thread, which it runs at a lower priority (`nice`).
//
// The worker opens its own connection to the store for its observations (the heartbeat stays here), and is
// told pool changes by this thread (only what probing needs: config, member addresses, verdicts
// and this instance's observations), so it keeps no second copy of the pools and no second
// watch of the store. Verdicts come back the way they come from every other instance: through
// the store. A worker that dies is logged and restarted with back-off; answers go on meanwhile.

export interface ProbeThreadOptions {
  storeUrl: string;
  /** The serving thread's store: this instance's heartbeat is sent from here. */
  store: Store;
  /** This instance's name in the store. */
  instance: string;
  log: Logger;
  /** The pools now: what a new thread is told first. */
  pools: () => ReadonlyMap<string, PoolView>;
  /** Nice value of the probe thread relative to the process (default 5; 0 = same as answering). */
  nice?: number;
  /** Redis key prefix, as the serving thread's store has it. */
  prefix?: string;
  /** Source address of probes (default: the kernel chooses). */
  sourceAddress?: string;
  /** Use the native addon's tcp prober where it is built (default true). */
  native?: boolean;
  /** As HealthLoopOptions.onOwnState, from the probe thread. */
  onOwnState?: (pool: string, ip: string, own: OwnState | undefined) => void;
  /** As HealthLoopOptions.onWritesOk, from the probe thread. */
  onWritesOk?: (ok: boolean) => void;
}

/** What the worker is given at start (workerData). */
export interface ProbeWorkerData {
  storeUrl: string;
  instance: string;
  logLevel: string;
  logBase: Record<string, unknown>;
  nice: number;
  prefix?: string;
  sourceAddress?: string;
  native: boolean;
}

export type ToProbeWorker =
  | { type: 'pools'; updates: Array<[string, ProbedPool | null]> }
  | { type: 'start' }
  | { type: 'stop' };

export type FromProbeWorker =
  | { type: 'stats'; stats: ProbeStats }
  /** Own states decided or changed since the last message (null: no longer probed). */
  | { type: 'own'; updates: Array<[pool: string, ip: string, own: OwnState | null]> }
  | { type: 'writes'; ok: boolean };

/** Pool updates per message: a start with 10,000 pools is sent in slices, not one 40,000-member clone. */
const UPDATES_PER_MESSAGE = POOLS_PER_TURN;
const FIRST_RESTART_MS = 1000;
const MAX_RESTART_MS = 30_000;
/** A worker that ran this long before dying restarts after the first back-off again. */
const STABLE_MS = 60_000;
/** How long stop() waits for the worker to end its probes and writes before terminating it. */
const STOP_GRACE_MS = 5000;

export const DEFAULT_PROBE_NICE = 5;

export class ProbeThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<string, ProbedPool | null>();
  private flushQueued = false;
  /** Probe counts of the current worker, and of the workers before it (restarts). */
  private current: ProbeStats = zeroProbeStats();
  private earlier: ProbeStats = zeroProbeStats();
  private started = false;
  private stopping = false;
  private spawnedAtMs = 0;
  private restartMs = FIRST_RESTART_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;
  private readonly nice: number;
  /**
   * From this thread, not the probe thread: the instance is live (its observations count, its
   * published zones stay) whether or not a probe thread runs, as when the loop ran here.
   */
  private readonly heartbeat: Heartbeat;

  constructor(private readonly opts: ProbeThreadOptions) {
    this.nice = opts.nice ?? DEFAULT_PROBE_NICE;
    this.heartbeat = new Heartbeat({ store: opts.store, instance: opts.instance, log: opts.log, clock: systemClock(), everyMs: HEARTBEAT_EVERY_MS, ttlMs: INSTANCE_TTL_MS });
  }

  /** Called with a pool's view whenever it changes (undefined = removed); sent on the next turn, batched. */
  updatePool(name: string, view: PoolView | undefined): void {
    if (this.stopping || !this.started) return;
    const pool = view ? probedPool(view, this.opts.instance) : null;
    if (!this.worker) {
      // No thread yet (nothing was probed), or between a death and its restart: the thread
      // is told every pool when it starts.
      if (pool && pool.members.length > 0) this.ensureWorker();
      return;
    }
    this.pending.set(name, pool);
    this.queueFlush();
  }

  /**
   * Start probing. The thread itself starts once a pool has members to probe: an instance whose
   * pools are all check `none` (or that has none yet) does not pay for an idle thread's heap.
   * It is told every pool itself, a slice per turn, so the serving thread's answers go on.
   */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.heartbeat.start();
    this.ensureWorker();
  }

  /** Probe results of this instance since start (all workers together), as last reported by the worker. */
  stats(): ProbeStats {
    return addProbeStats(this.earlier, this.current);
  }

  /** Stop probing: the worker ends its probes and pending writes (terminated after a grace period). */
  stop(): Promise<void> {
    this.stopped ??= this.stopNow();
    return this.stopped;
  }

  private async stopNow(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.heartbeat.stop();
    const worker = this.worker;
    if (!worker) return;
    this.post({ type: 'stop' });
    const grace = setTimeout(() => {
      this.opts.log.warn('health: probe thread did not stop in time; terminating it');
      void worker.terminate();
    }, STOP_GRACE_MS);
    await this.exited;
    clearTimeout(grace);
  }

  private spawn(): void {
    const { log } = this.opts;
    const data: ProbeWorkerData = {
      storeUrl: this.opts.storeUrl,
      instance: this.opts.instance,
      logLevel: log.level,
      logBase: { ...log.bindings(), thread: 'probe' },
      nice: this.nice,
      prefix: this.opts.prefix,
      sourceAddress: this.opts.sourceAddress,
      native: this.opts.native ?? true,
    };
    const worker = new Worker(join(__dirname, 'probeWorker.js'), { workerData: data });
    // The sockets keep a serving process alive; a worker left behind by a failed start must not.
    worker.unref();
    this.worker = worker;
    // A new thread has no failed writes behind it.
    this.opts.onWritesOk?.(true);
    this.spawnedAtMs = Date.now();
    this.current = zeroProbeStats();
    this.exited = new Promise<void>((resolve) => {
      worker.on('message', (msg: FromProbeWorker) => {
        if (this.worker !== worker) return;
        if (msg.type === 'stats') this.current = msg.stats;
        else if (msg.type === 'own') for (const [pool, ip, own] of msg.updates) this.opts.onOwnState?.(pool, ip, own ?? undefined);
        else if (msg.type === 'writes') this.opts.onWritesOk?.(msg.ok);
      });
      worker.on('error', (err) => log.error(`health: probe thread failed: ${errorMessage(err)}`));
      worker.on('exit', (code) => {
        resolve();
        if (this.worker === worker) this.worker = undefined;
        if (!this.stopping) this.scheduleRestart(code);
      });
    });
  }

  private scheduleRestart(code: number): void {
    this.earlier = this.stats();
    this.current = zeroProbeStats();
    if (Date.now() - this.spawnedAtMs >= STABLE_MS) this.restartMs = FIRST_RESTART_MS;
    const waitMs = this.restartMs;
    this.restartMs = Math.min(this.restartMs * 2, MAX_RESTART_MS);
    this.opts.log.error({ code }, `health: probe thread exited (code ${code}); restarting it in ${waitMs / 1000} s`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.ensureWorker();
    }, waitMs);
    this.restartTimer.unref();
  }

  /** Start a thread if there is none (nor a restart waiting) and something to probe; tell it every pool. */
  private ensureWorker(): void {
    if (!this.started || this.stopping || this.worker || this.restartTimer) return;
    const pools = this.opts.pools();
    let probed = false;
    for (const view of pools.values()) {
      if (isProbed(view.config) && view.members.length > 0) {
        probed = true;
        break;
      }
    }
    if (!probed) return;
    this.spawn();
    this.pending.clear();
    void this.sendAll(this.worker);
  }

  /**
   * Tell a new thread every probed pool as it is now, POOLS_PER_TURN per turn (the file store
   * decodes a pool's members on first use, and this is where most are first used). Changes
   * meanwhile go through updatePool; a pool is read here when its slice comes, so the latest
   * view is sent either way.
   */
  private async sendAll(worker: Worker | undefined): Promise<void> {
    const names = [...this.opts.pools().keys()];
    for (let i = 0; i < names.length; i += POOLS_PER_TURN) {
      if (this.worker !== worker || this.stopping) return;
      for (const name of names.slice(i, i + POOLS_PER_TURN)) {
        const view = this.opts.pools().get(name);
        const pool = view && probedPool(view, this.opts.instance);
        if (pool && pool.members.length > 0 && !this.pending.has(name)) this.pending.set(name, pool);
      }
      this.flush();
      await nextTurn();
    }
    // After the pools, so the thread's "probing" line counts them; changes meanwhile are queued.
    if (this.worker === worker && !this.stopping) this.post({ type: 'start' });
  }

  /** Send one message of pending updates; more on the next turn, so a start with 10,000 pools does not clone them all at once. */
  private flush(): void {
    this.flushQueued = false;
    if (!this.worker || this.pending.size === 0) return;
    const updates: Array<[string, ProbedPool | null]> = [];
    for (const entry of this.pending) {
      updates.push(entry);
      this.pending.delete(entry[0]);
      if (updates.length === UPDATES_PER_MESSAGE) break;
    }
    this.post({ type: 'pools', updates });
    if (this.pending.size > 0) this.queueFlush();
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  private post(msg: ToProbeWorker): void {
    this.worker?.postMessage(msg);
  }
}

/**
 * What probing needs of a pool: its config, and per member the address, port, verdict and this
 * instance's observation. Check `none` pools without a load feed go without members (they are
 * never probed).
 */
export function probedPool(view: PoolView, instance: string): ProbedPool {
  if (!isProbed(view.config)) return { config: view.config, members: [] };
  return {
    config: view.config,
    members: view.members.map((m) => ({
      ip: m.ip,
      port: m.port,
      verdict: m.verdict,
      admin: m.admin,
      observations: m.observations.filter((o) => o.instance === instance),
    })),
  };
}

