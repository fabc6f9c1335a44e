import type { Logger } from 'pino';
import type { Observation } from '../model/types';
import type { Store } from '../store/types';
import { TierdnsError, errorMessage } from '../util/errors';
import type { Clock, TimerHandle } from './clock';

// Writes this instance's observations to the store without flooding it. A state change is
// written at once (it decides answers, docs/health.md); a load factor that moved (it changes
// shares, docs/steering.md) within `steerPerSecond` overall; last-probe details (for `status`)
// at most every `refreshMs` per member and `refreshPerSecond` overall. Writes of one member
// never overlap and always carry its latest observation, so a queue of changes costs one write.

export interface ObservationWriterOptions {
  store: Store;
  log: Logger;
  clock: Clock;
  /** Shortest time between two refreshes of one member's last-probe details (default: the store's observationRefreshMs). */
  refreshMs?: number;
  /** Budget of refresh writes per second for all members together (default 200). */
  refreshPerSecond?: number;
  /** Budget of load-factor writes per second for all members together (default 500). */
  steerPerSecond?: number;
  /** Writes in flight at once (default 4; the stores serialize their transactions anyway). */
  concurrency?: number;
  /** Told false when a write fails or a state change hangs past STALL_MS, true when one lands again. */
  onHealth?: (ok: boolean) => void;
}

/**
 * What to write for a key, read at write time so the latest observation wins. `merged`: the
 * write recomputes the shared verdict and load (a refresh does not).
 */
export type ObservationSource = (key: string, merged: boolean) => { pool: string; ip: string; obs: Observation } | undefined;

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 5000;
/**
 * A state change not recorded after this long means the store cannot be reached, even before
 * the connection notices (a silent network cut): the instance then serves its own verdicts.
 */
const STALL_MS = 500;

export class ObservationWriter {
  private readonly urgent = new Set<string>();
  private readonly steer = new Set<string>();
  private readonly refresh = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly lastWriteMs = new Map<string, number>();
  private readonly refreshMs: number;
  private readonly refreshPerSecond: number;
  private readonly steerPerSecond: number;
  private readonly concurrency: number;
  private tokens: number;
  private steerTokens: number;
  private tokensAtMs: number;
  private timer: TimerHandle | undefined;
  private pausedUntilMs = 0;
  private backoffMs = FIRST_BACKOFF_MS;
  private failedWrites = 0;
  private active = false;
  private healthy = true;
  private stallTimer: TimerHandle | undefined;
  /** State changes in flight, with when each was sent. */
  private readonly urgentInFlight = new Map<string, number>();

  constructor(private readonly opts: ObservationWriterOptions, private readonly source: ObservationSource) {
    this.refreshMs = opts.refreshMs ?? opts.store.observationRefreshMs;
    this.refreshPerSecond = opts.refreshPerSecond ?? 200;
    this.steerPerSecond = opts.steerPerSecond ?? 500;
    this.concurrency = opts.concurrency ?? 4;
    this.tokens = this.refreshPerSecond;
    this.steerTokens = this.steerPerSecond;
    this.tokensAtMs = opts.clock.now();
  }

  /** Writes queued or in flight (for tests and metrics). */
  get backlog(): number {
    return this.urgent.size + this.steer.size + this.refresh.size + this.inFlight.size;
  }

  /** Begin writing (queued entries included). */
  start(): void {
    this.active = true;
    // A store back after an outage takes the writes waiting out their back-off at once: the
    // shared verdicts resume only once this instance's votes are in.
    this.opts.store.onStatus((status) => {
      if (status !== 'ready' || !this.active) return;
      this.pausedUntilMs = 0;
      this.backoffMs = FIRST_BACKOFF_MS;
      this.opts.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.pump();
    });
    this.pump();
  }

  /** The member's state changed (or the store lost our observation): write it soon. */
  changed(key: string): void {
    this.refresh.delete(key);
    this.steer.delete(key);
    this.urgent.add(key);
    this.pump();
  }

  /** The member's load factor moved: write it (and recompute the shared load) within the steering budget. */
  loadMoved(key: string): void {
    if (this.urgent.has(key)) return;
    this.refresh.delete(key);
    this.steer.add(key);
    this.pump();
  }

  /** A probe finished without a state change: refresh its details if the last write is old enough. */
  probed(key: string): void {
    if (this.urgent.has(key) || this.steer.has(key) || this.refresh.has(key) || this.inFlight.has(key)) return;
    if (this.opts.clock.now() - (this.lastWriteMs.get(key) ?? 0) < this.refreshMs) return;
    this.refresh.add(key);
    this.pump();
  }

  /** A write of this member is queued or in flight (its latest observation will be written). */
  busy(key: string): boolean {
    return this.urgent.has(key) || this.inFlight.has(key);
  }

  /** The member is gone: drop what was queued for it. */
  forget(key: string): void {
    this.urgent.delete(key);
    this.steer.delete(key);
    this.refresh.delete(key);
    this.lastWriteMs.delete(key);
  }

  /** Stop writing; resolves when writes in flight are over (or after `graceMs`). */
  async stop(graceMs = 2000): Promise<void> {
    this.active = false;
    this.opts.clock.clearTimeout(this.timer);
    this.opts.clock.clearTimeout(this.stallTimer);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); });
    await Promise.race([Promise.allSettled([...this.inFlight.values()]), grace]);
    clearTimeout(timer);
  }

  private pump(): void {
    if (!this.active) return;
    const now = this.opts.clock.now();
    if (now < this.pausedUntilMs) return this.wakeAt(this.pausedUntilMs);
    this.refill(now);
    while (this.inFlight.size < this.concurrency) {
      let key = first(this.urgent, this.inFlight);
      if (key === undefined && this.steerTokens >= 1) {
        key = first(this.steer, this.inFlight);
        if (key !== undefined) this.steerTokens -= 1;
      }
      if (key === undefined && this.tokens >= 1) {
        key = first(this.refresh, this.inFlight);
        if (key !== undefined) this.tokens -= 1;
      }
      if (key === undefined) break;
      this.write(key);
    }
    // Writes waiting for budget: come back when the next token is there.
    if (this.inFlight.size < this.concurrency) {
      let waitMs = Infinity;
      if (this.refresh.size > 0 && this.tokens < 1) waitMs = ((1 - this.tokens) * 1000) / this.refreshPerSecond;
      if (this.steer.size > 0 && this.steerTokens < 1) waitMs = Math.min(waitMs, ((1 - this.steerTokens) * 1000) / this.steerPerSecond);
      if (waitMs < Infinity) this.wakeAt(now + Math.ceil(waitMs));
    }
  }

  private write(key: string): void {
    // A load write records like a state change (the shared load is recomputed), at its own pace.
    const wasUrgent = this.urgent.delete(key) || this.steer.delete(key);
    this.refresh.delete(key);
    const entry = this.source(key, wasUrgent);
    if (!entry) return this.forget(key);
    if (wasUrgent) this.watchStall(key);
    // Promise.resolve().then: a store that throws synchronously fails this write, not the caller.
    const done = Promise.resolve().then(() => this.persist(entry, wasUrgent)).then(
      () => this.written(key),
      (err: unknown) => this.failed(key, entry, wasUrgent, err),
    ).catch((err: unknown) => {
      this.opts.log.error(`health: internal error while recording an observation: ${errorMessage(err)}`);
    }).finally(() => {
      this.inFlight.delete(key);
      this.urgentInFlight.delete(key);
      this.pump();
    });
    this.inFlight.set(key, done);
  }

  /**
   * A state change is recorded with its verdict; a refresh (same state) takes the store's cheap
   * path when it has one (Redis: one script instead of a WATCH/MULTI transaction), and falls
   * back when the store does not hold that state (e.g. it dropped this instance's votes).
   */
  private async persist(entry: { pool: string; ip: string; obs: Observation }, urgent: boolean): Promise<void> {
    const { store } = this.opts;
    if (!urgent && await store.refreshObservation(entry.pool, entry.ip, entry.obs)) return;
    await store.recordObservation(entry.pool, entry.ip, entry.obs);
  }

  /** Track a state change in flight: one that hangs past STALL_MS marks the store unreachable. */
  private watchStall(key: string): void {
    this.urgentInFlight.set(key, this.opts.clock.now());
    if (this.stallTimer === undefined) this.armStall(STALL_MS);
  }

  private armStall(ms: number): void {
    this.stallTimer = this.opts.clock.setTimeout(() => {
      this.stallTimer = undefined;
      // The oldest write still in flight (a Map keeps insertion order: the first one).
      const oldest = this.urgentInFlight.values().next();
      if (oldest.done) return;
      const age = this.opts.clock.now() - oldest.value;
      if (age >= STALL_MS) this.setHealthy(false);
      this.armStall(age >= STALL_MS ? STALL_MS : STALL_MS - age);
    }, ms);
  }

  private setHealthy(ok: boolean): void {
    if (ok === this.healthy) return;
    this.healthy = ok;
    this.opts.onHealth?.(ok);
  }

  private written(key: string): void {
    this.lastWriteMs.set(key, this.opts.clock.now());
    this.setHealthy(true);
    this.backoffMs = FIRST_BACKOFF_MS;
    if (this.failedWrites > 0) {
      this.opts.log.info({ failedWrites: this.failedWrites }, 'health: store writable again');
      this.failedWrites = 0;
    }
  }

  private failed(key: string, entry: { pool: string; ip: string }, wasUrgent: boolean, err: unknown): void {
    const code = err instanceof TierdnsError ? err.code : undefined;
    // The member or pool was removed meanwhile: the next pool update drops it here too.
    if (code === 'TIERDNS_E_NO_MEMBER' || code === 'TIERDNS_E_NO_POOL') {
      this.opts.log.debug({ pool: entry.pool, member: entry.ip }, `health: observation not recorded: ${errorMessage(err)}`);
      return;
    }
    // A state change must reach the store eventually; a refresh can wait for the next probe.
    if (wasUrgent && this.source(key, false)) this.urgent.add(key);
    this.setHealthy(false);
    if (this.failedWrites++ === 0) this.opts.log.warn({ pool: entry.pool, member: entry.ip }, `health: cannot record observation, will retry: ${errorMessage(err)}`);
    else this.opts.log.debug({ pool: entry.pool, member: entry.ip }, `health: cannot record observation: ${errorMessage(err)}`);
    this.pausedUntilMs = this.opts.clock.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  private refill(now: number): void {
    const elapsedMs = now - this.tokensAtMs;
    this.tokens = Math.min(this.refreshPerSecond, this.tokens + (elapsedMs * this.refreshPerSecond) / 1000);
    this.steerTokens = Math.min(this.steerPerSecond, this.steerTokens + (elapsedMs * this.steerPerSecond) / 1000);
    this.tokensAtMs = now;
  }

  private wakeAt(atMs: number): void {
    this.opts.clock.clearTimeout(this.timer);
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, atMs - this.opts.clock.now());
  }
}

/** The first key of `set` not in `busy` (writes of one member never overlap). */
function first(set: Set<string>, busy: Map<string, unknown>): string | undefined {
  for (const key of set) if (!busy.has(key)) return key;
  return undefined;
}
