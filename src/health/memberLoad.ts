import type { Logger } from 'pino';
import type { LoadObservation, Member, PoolConfig } from '../model/types';
import type { LoadReading, LoadTarget } from './loadFeed';
import { HOLD_INTERVALS, LoadTracker, type LoadNews } from './loadTracker';
import { loadTargetOf, sameLoadTarget } from './target';

// The load side of one probed member (docs/steering.md): where its feed is read, what this
// instance makes of the readings (LoadTracker), and one log line per streak of failed reads.

export class MemberLoad {
  /** The last read failed and that was logged. */
  private failing = false;

  private constructor(public target: LoadTarget, readonly tracker: LoadTracker) {}

  /**
   * The member's load side as its pool now says: kept (settings updated), replaced (a new kind
   * of feed starts afresh), or undefined without a feed. `changed`: the feed's target moved, so
   * a read in flight no longer counts.
   */
  static update(
    current: MemberLoad | undefined, config: PoolConfig, m: Pick<Member, 'ip' | 'port'>, source: string | undefined, seed?: LoadObservation,
  ): { load: MemberLoad | undefined; changed: boolean } {
    const target = loadTargetOf(config, m, source);
    if (!target) return { load: undefined, changed: current !== undefined };
    const opts = { kind: target.kind, capacity: config.capacity, intervalMs: config.intervalMs };
    if (current && current.target.kind === target.kind) {
      current.tracker.opts = opts;
      const changed = !sameLoadTarget(current.target, target);
      current.target = target;
      return { load: current, changed };
    }
    return { load: new MemberLoad(target, new LoadTracker(opts, seed)), changed: true };
  }

  /** The agent said down (and not up since): the member's probes count as failed. */
  get agentDown(): boolean {
    return this.tracker.agentDown;
  }

  /** Take one reading at `nowMs`: returns what the store should hear; logs a failure streak once. */
  take(reading: LoadReading, nowMs: number, log: Logger, pool: string, ip: string): LoadNews {
    const held = this.tracker.holding;
    const news = this.tracker.record(reading, nowMs);
    // A reading without a capacity to go with it fails as well (the tracker says why).
    const error = reading.ok ? this.tracker.lastError : reading.error;
    const where = `load feed of ${ip} in ${pool}`;
    if (error !== undefined && !this.failing) {
      this.failing = true;
      const then = held ? `keeping its last factor for ${HOLD_INTERVALS} intervals, then 1` : 'factor 1 until it reads';
      log.warn({ pool, member: ip, port: this.target.port, feed: this.target.kind, error }, `health: ${where} failed: ${error} (${then})`);
    } else if (error === undefined && this.failing) {
      this.failing = false;
      log.info({ pool, member: ip, feed: this.target.kind }, `health: ${where} reads again`);
    } else if (error !== undefined && log.isLevelEnabled('debug')) {
      log.debug({ pool, member: ip, error }, `health: ${where} failed: ${error}`);
    }
    return news;
  }

  /** This instance's observation of the load; `published`: the write recomputes the shared load. */
  observation(published: boolean, nowMs: number): LoadObservation | undefined {
    const obs = this.tracker.observation();
    if (obs && published) this.tracker.markPublished(nowMs);
    return obs;
  }
}
