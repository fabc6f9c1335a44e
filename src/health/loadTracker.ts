import { MIN_FACTOR } from '../model/load';
import type { LoadKind, LoadObservation, LoadState } from '../model/types';
import type { LoadReading } from './loadFeed';

// One instance's view of one member's load (docs/steering.md), pure: fed readings and times,
// it keeps the agent's sticky state, smooths the factor so answers do not swing, holds the last
// factor through failed reads for a while and then falls back to 1, and says when the store
// should hear of it. No sockets, no timers.

/**
 * Time constant of the factor's smoothing: a step in load moves the factor 63% of the way in
 * this long. Chosen with the simulation (docs/steering.md).
 */
export const SMOOTHING_MS = 4000;
/** Failed reads keep the last factor this many intervals; then the factor is 1 (no feed). */
export const HOLD_INTERVALS = 5;
/** Drift below the band is still published after this many intervals, so the shared factor ends up exact. */
export const SETTLE_INTERVALS = 5;

/** What the store should hear: nothing, the new factor (rate-limited), or a change answers must see now. */
export type LoadNews = 'none' | 'moved' | 'changed';

export interface LoadTrackerOptions {
  kind: Exclude<LoadKind, 'none'>;
  /** --capacity (0 = none): overrides what a feed says. */
  capacity: number;
  intervalMs: number;
  /** Smoothing time constant (default SMOOTHING_MS; the simulation varies it). */
  smoothingMs?: number;
  /** Smallest factor below capacity (default MIN_FACTOR; the simulation varies it). */
  minFactor?: number;
}

export class LoadTracker {
  private percent = 100;
  private admin: 'ready' | 'drain' | 'maint' = 'ready';
  private op: 'up' | 'down' = 'up';
  /** Smoothed free share, 0..1; undefined before the first good read (and after the fallback). */
  private smooth: number | undefined;
  private full = false;
  private smoothAtMs = 0;
  private readMs = 0;
  private connections: number | undefined;
  private capacity: number | undefined;
  private error: string | undefined;
  /** What the store was last told, to decide what is news. */
  private published: { factor: number; state: LoadState; atMs: number; connections: number | undefined; error: string | undefined } | undefined;
  /** The member is drained: every change of its connection count is news (`member drain --wait` waits on it). */
  draining = false;

  constructor(public opts: LoadTrackerOptions, seed?: LoadObservation) {
    // A restart carries on from this instance's stored view instead of jumping to 1.
    if (seed && seed.error === undefined) {
      this.smooth = seed.factor;
      this.full = seed.factor <= 0;
      this.readMs = seed.readMs;
      this.smoothAtMs = seed.readMs;
      if (seed.state === 'drain' || seed.state === 'maint') this.admin = seed.state;
      if (seed.state === 'down') this.op = 'down';
      this.published = { factor: seed.factor, state: seed.state, atMs: seed.readMs, connections: seed.connections, error: undefined };
    }
  }

  /** The agent said down/fail/stopped (and not up since): probes count as failed. */
  get agentDown(): boolean {
    return this.op === 'down';
  }

  /** Some read succeeded and its factor still counts (not fallen back). */
  get holding(): boolean {
    return this.smooth !== undefined;
  }

  /** Why the last read failed, if it did. */
  get lastError(): string | undefined {
    return this.error;
  }

  /** Apply one reading taken at `nowMs`; returns what the store should hear. */
  record(reading: LoadReading, nowMs: number): LoadNews {
    if (reading.ok) {
      this.error = undefined;
      this.readMs = nowMs;
      if ('agent' in reading) {
        const w = reading.agent;
        if (w.percent !== undefined) this.percent = w.percent;
        if (w.admin !== undefined) this.admin = w.admin;
        if (w.op !== undefined) this.op = w.op;
        this.step(this.percent / 100, nowMs);
      } else {
        const capacity = this.opts.capacity > 0 ? this.opts.capacity : reading.count.capacity;
        this.connections = reading.count.connections;
        this.capacity = capacity;
        if (capacity === undefined || capacity <= 0) {
          this.error = 'the feed gives no capacity (set --capacity)';
          this.fallBackIfOld(nowMs);
        } else {
          this.step(Math.max(0, 1 - reading.count.connections / capacity), nowMs);
        }
      }
    } else {
      this.error = reading.error;
      this.fallBackIfOld(nowMs);
    }
    return this.news(nowMs);
  }

  /** This instance's observation of the load, as stored (undefined before anything was read). */
  observation(): LoadObservation | undefined {
    if (this.smooth === undefined && this.error === undefined) return undefined;
    const obs: LoadObservation = { factor: this.factor(), state: this.state(), readMs: this.readMs };
    if (this.connections !== undefined) obs.connections = this.connections;
    if (this.capacity !== undefined) obs.capacity = this.capacity;
    if (this.error !== undefined) obs.error = this.error;
    return obs;
  }

  /** Mark the observation as stored (at `nowMs`). */
  markPublished(nowMs: number): void {
    this.published = { factor: this.factor(), state: this.state(), atMs: nowMs, connections: this.connections, error: this.error };
  }

  private factor(): number {
    if (this.smooth === undefined) return 1;
    if (this.full) return 0;
    return Math.max(this.opts.minFactor ?? MIN_FACTOR, Math.min(1, this.smooth));
  }

  private state(): LoadState {
    if (this.admin !== 'ready') return this.admin;
    return this.op === 'down' ? 'down' : 'ready';
  }

  /** A new raw free share: full at once (never hand out more to a full member), the rest smoothed. */
  private step(raw: number, nowMs: number): void {
    this.full = raw <= 0;
    if (this.smooth === undefined) {
      this.smooth = raw;
    } else {
      const dt = Math.max(0, nowMs - this.smoothAtMs);
      const tau = this.opts.smoothingMs ?? SMOOTHING_MS;
      const alpha = tau > 0 ? 1 - Math.exp(-dt / tau) : 1;
      this.smooth += alpha * (raw - this.smooth);
    }
    this.smoothAtMs = nowMs;
  }

  /** After HOLD_INTERVALS without a good read, forget the load: factor 1, agent state cleared. */
  private fallBackIfOld(nowMs: number): void {
    if (nowMs - this.readMs < HOLD_INTERVALS * this.opts.intervalMs) return;
    this.smooth = undefined;
    this.full = false;
    this.connections = undefined;
    this.capacity = undefined;
    this.percent = 100;
    this.admin = 'ready';
    this.op = 'up';
  }

  private news(nowMs: number): LoadNews {
    const factor = this.factor();
    const state = this.state();
    const p = this.published;
    if (!p) return 'changed';
    if (p.state !== state || (p.factor <= 0) !== (factor <= 0)) return 'changed';
    // A move of a tenth of the factor (at most 0.02) is news; smaller drift only once it has
    // lasted a while, so a steady load costs no writes and the shared factor still ends up exact.
    const drift = Math.abs(factor - p.factor);
    const band = Math.max(0.01, Math.min(0.02, 0.1 * p.factor));
    if (drift >= band) return 'moved';
    // A read that starts or stops failing (or fails otherwise) is shown in `status` while the
    // factor is held, and when it was 1 all along: the factor alone would not tell the store.
    if (this.error !== p.error) return 'moved';
    if (this.draining && this.connections !== p.connections) return 'moved';
    return drift >= 0.005 && nowMs - p.atMs >= SETTLE_INTERVALS * this.opts.intervalMs ? 'moved' : 'none';
  }
}
