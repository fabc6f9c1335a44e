import type { Logger } from 'pino';
import type { Store } from '../store/types';
import { errorMessage } from '../util/errors';
import type { Clock, TimerHandle } from './clock';

// This instance's heartbeat (docs/health.md): its observations vote only while the heartbeat is
// fresher than the TTL, so a dead instance stops holding verdicts within the TTL. One beat at a
// time; an outage is logged once, and its end once.

/** The heartbeat period of a serving instance. */
export const HEARTBEAT_EVERY_MS = 1000;
/** Heartbeat age past which a serving instance's observations stop counting. */
export const INSTANCE_TTL_MS = 5000;

export interface HeartbeatOptions {
  store: Store;
  instance: string;
  log: Logger;
  clock: Clock;
  /** Period (HEARTBEAT_EVERY_MS for a serving instance). */
  everyMs: number;
  /** Heartbeat age past which this instance stops voting (INSTANCE_TTL_MS for a serving instance). */
  ttlMs: number;
}

export class Heartbeat {
  private timer: TimerHandle | undefined;
  private failing = false;
  private stopped = false;

  constructor(private readonly opts: HeartbeatOptions) {}

  /** Beat now, then every `everyMs` after each beat completes. */
  start(): void {
    this.beat();
  }

  stop(): void {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
  }

  private beat(): void {
    if (this.stopped) return;
    const { store, instance, ttlMs, clock, log } = this.opts;
    // Promise.resolve().then: a store that throws synchronously is an outage, not a crash.
    Promise.resolve().then(() => store.heartbeat(instance, ttlMs, clock.now())).then(
      () => {
        if (this.failing) log.info('health: heartbeat recorded again');
        this.failing = false;
      },
      (err: unknown) => {
        if (!this.failing) log.warn(`health: cannot record heartbeat, will retry: ${errorMessage(err)}`);
        this.failing = true;
      },
    ).finally(() => {
      if (!this.stopped) this.timer = clock.setTimeout(() => this.beat(), this.opts.everyMs);
    });
  }
}
