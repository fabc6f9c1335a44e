import type { PoolView } from '../model/types';
import { NameTable } from '../wire/nameTable';
import { PoolAnswers } from './poolAnswers';

/** How often the weights of pools whose members are in slow start are recomputed. */
export const RAMP_STEP_MS = 1000;

/**
 * Every pool by wire key, plus the names above pools (so a pool's ancestors exist as empty
 * non-terminals even when the zone file does not mention them). Updated one pool at a time.
 * While a member ramps up (slow start), its pool's weights are recomputed every RAMP_STEP_MS
 * by a timer, never per query.
 */
export class PoolTable {
  readonly byKey = new Map<string, PoolAnswers>();
  /** The pools' names for the query decoder, so a pool's question costs no new string. */
  readonly names = new NameTable();
  private readonly byName = new Map<string, PoolAnswers>();
  private readonly ancestors = new Map<string, number>();
  /** Rotation start for new pools: spread across instances and workers. */
  private readonly start: number;
  private readonly now: () => number;
  /** Pools with a member in slow start, refreshed by `rampTimer` while there are any. */
  private readonly ramping = new Set<PoolAnswers>();
  private rampTimer: NodeJS.Timeout | undefined;

  constructor(start = 0, now: () => number = Date.now) {
    this.start = start;
    this.now = now;
  }

  get(name: string): PoolAnswers | undefined {
    return this.byName.get(name);
  }

  /** Replace one pool (undefined removes it). */
  set(name: string, view: PoolView | undefined): void {
    const old = this.byName.get(name);
    if (old) {
      this.ramping.delete(old);
      this.byName.delete(name);
      this.byKey.delete(old.key);
      this.walkAncestors(old.key, -1);
      if (!view) this.names.delete(old.key);
    }
    if (!view) return;
    const pool = new PoolAnswers(view, this.start, this.now, old);
    if (pool.rampUntilMs > this.now()) {
      this.ramping.add(pool);
      this.rampTimer ??= setInterval(() => this.refreshRamps(), RAMP_STEP_MS).unref();
    }
    this.byName.set(name, pool);
    this.byKey.set(pool.key, pool);
    this.names.add(pool.key);
    this.walkAncestors(pool.key, +1);
  }

  /** Recompute the weights of pools in slow start; those whose ramps are over leave the set. */
  refreshRamps(): void {
    const nowMs = this.now();
    for (const pool of this.ramping) {
      pool.refreshWeights();
      if (nowMs >= pool.rampUntilMs) this.ramping.delete(pool);
    }
    if (this.ramping.size === 0 && this.rampTimer) {
      clearInterval(this.rampTimer);
      this.rampTimer = undefined;
    }
  }

  /** Pools whose weights slow start is ramping now (tests, metrics). */
  get rampingPools(): number {
    return this.ramping.size;
  }

  /** Whether some pool lies strictly below `key`. */
  hasDescendant(key: string): boolean {
    return this.ancestors.has(key);
  }

  readonly lookup = (name: string): PoolAnswers | undefined => this.byName.get(name);

  private walkAncestors(key: string, delta: number): void {
    for (let i = key.charCodeAt(0) + 1; i <= key.length; i += key.charCodeAt(i) + 1) {
      const k = key.slice(i);
      const n = (this.ancestors.get(k) ?? 0) + delta;
      if (n > 0) this.ancestors.set(k, n);
      else this.ancestors.delete(k);
      if (i === key.length) break;
    }
  }
}
