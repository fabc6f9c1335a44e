// Time as the health loop sees it. Injected so tests drive probe timing deterministically
// (STYLE.md: inject clock and randomness) instead of sleeping.

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds since the epoch (the unit of Observation.sinceMs and lastProbeMs). */
  now(): number;
  /** Run `fn` once after `ms`; must never keep the process alive on its own (beyond one turn of the loop for ms <= 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** A systemClock timer: the handle carries the Node timer it stands for. */
interface SystemTimer extends TimerHandle {
  immediate?: NodeJS.Immediate;
  timeout?: NodeJS.Timeout;
}

/** Wall-clock time and unref'd Node timers: a serving process stays alive for its sockets, not for probes. */
export function systemClock(): Clock {
  let next = 0;
  return {
    now: () => Date.now(),
    setTimeout(fn, ms): SystemTimer {
      // The handle holds its Node timer, not a Map keyed by id: a set and a delete per timer
      // (the scheduler re-arms thousands a second) made a Map keep them alive through
      // young-generation collections into the probe thread's old generation (see nativeProbe).
      // "As soon as possible" is setImmediate: after the I/O already waiting (DNS packets),
      // without setTimeout's 1 ms floor, so bursts of probe starts interleave with answers.
      // It stays ref'd: an unref'd immediate does not stop the loop from blocking in poll, so
      // it ran only after the next I/O or timer, and a scheduler continuing its bursts that
      // way started its probes late (10,000 members with every probe timing out: 4,300
      // probes/s instead of the 5,250 their 2 s interval asks for). One turn of the loop is
      // all it holds the process for.
      const id = ++next;
      return ms <= 0 ? { id, immediate: setImmediate(fn) } : { id, timeout: setTimeout(fn, ms).unref() };
    },
    clearTimeout(handle: SystemTimer | undefined) {
      if (handle?.immediate) clearImmediate(handle.immediate);
      if (handle?.timeout) clearTimeout(handle.timeout);
    },
  };
}

/**
 * A clock that moves only when told: `advance(ms)` fires every timer due on the way, in due
 * order, each seeing `now()` equal to its due time. For tests of the state machine and loop.
 */
export class ManualClock implements Clock {
  private current: number;
  private next = 0;
  private readonly timers = new Map<number, { dueMs: number; fn: () => void }>();

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.next;
    this.timers.set(id, { dueMs: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  /** Pending timers (for assertions such as "nothing scheduled after stop"). */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing due timers in order (timers they set are honoured too). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let firstId = -1;
      let first: { dueMs: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.dueMs <= target && (!first || t.dueMs < first.dueMs || (t.dueMs === first.dueMs && id < firstId))) {
          first = t;
          firstId = id;
        }
      }
      if (!first) break;
      this.timers.delete(firstId);
      this.current = Math.max(this.current, first.dueMs);
      first.fn();
    }
    this.current = target;
  }
}
