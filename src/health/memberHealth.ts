import type { Verdict } from '../model/types';

// One instance's view of one member (docs/health.md), pure: driven by probe results and the
// times it is given, it decides the local state and when to probe next. No sockets, no timers.

export interface HealthTiming {
  /** Probe period while results agree with the state. */
  intervalMs: number;
  /** Re-probe period while results disagree with the state (HAProxy's fastinter). */
  fastIntervalMs: number;
  /** Consecutive successes for down → up. */
  rise: number;
  /** Consecutive failures for up → down. */
  fall: number;
}

/**
 * Probe periods are shortened by a random part of up to this fraction, never lengthened: the
 * spread keeps members that started together from probing together, and §5's detection
 * bounds (which assume one full interval) still hold.
 */
export const JITTER_FRACTION = 0.1;

export interface StateChange {
  from: Verdict;
  to: Verdict;
  /** Consecutive results that made the change (1 for the first result). */
  streak: number;
}

export class MemberHealth {
  state: Verdict;
  /** When `state` last changed (ms since the epoch). */
  sinceMs: number;
  /** Consecutive successes while down, consecutive failures while up (0 otherwise). */
  successes = 0;
  failures = 0;

  constructor(public timing: HealthTiming, seed: { state: Verdict; sinceMs: number }) {
    this.state = seed.state;
    this.sinceMs = seed.sinceMs;
  }

  /** Apply one probe result; returns the change of local state it caused, if any. */
  record(ok: boolean, nowMs: number): StateChange | undefined {
    const from = this.state;
    if (from === 'unknown') {
      // The first result of a new member decides at once (§5).
      return this.become(ok ? 'up' : 'down', nowMs, 1);
    }
    if (ok) {
      this.failures = 0;
      if (from === 'down' && ++this.successes >= this.timing.rise) return this.become('up', nowMs, this.successes);
    } else {
      this.successes = 0;
      if (from === 'up' && ++this.failures >= this.timing.fall) return this.become('down', nowMs, this.failures);
    }
    return undefined;
  }

  /** Force a state without probing (check `none` is always up); counters restart. */
  force(state: Verdict, nowMs: number): StateChange | undefined {
    this.successes = 0;
    this.failures = 0;
    return state === this.state ? undefined : this.become(state, nowMs, 0);
  }

  /** The last results disagree with the state: a failure while up, a success while down. */
  get disagreeing(): boolean {
    return (this.state === 'up' && this.failures > 0) || (this.state === 'down' && this.successes > 0);
  }

  /** Delay from the start of the probe just recorded to the next one. */
  nextDelayMs(random: () => number): number {
    const base = this.disagreeing ? this.timing.fastIntervalMs : this.timing.intervalMs;
    return Math.max(1, Math.round(base * (1 - JITTER_FRACTION * random())));
  }

  /** Delay to the first probe: a random point of the first interval, so a start does not probe everything at once. */
  firstDelayMs(random: () => number): number {
    return Math.floor(this.timing.intervalMs * random());
  }

  private become(to: Verdict, nowMs: number, streak: number): StateChange {
    const from = this.state;
    this.state = to;
    this.sinceMs = nowMs;
    this.successes = 0;
    this.failures = 0;
    return { from, to, streak };
  }
}
