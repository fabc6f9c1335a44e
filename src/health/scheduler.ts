import type { Clock, TimerHandle } from './clock';

// When each member's next probe is due. 10,000 members at a 2 s interval make 5,000 probe
// starts a second: one timer for the earliest due entry of a min-heap (not 10,000 Node timers),
// a cap on starts per turn of the event loop so a burst never delays DNS answers, and a pause
// while the caller is at its in-flight limit.

export interface SchedulerOptions {
  clock: Clock;
  /** Called for each key whose time has come; the entry is removed first. */
  run: (key: string) => void;
  /** Whether another probe may start now; when false, draining waits for kick(). */
  canRun: () => boolean;
  /** Probes started per callback before yielding to I/O (default 8: a short slice of JS). */
  maxPerTick?: number;
}

/** One per key, reused: `pos` is its index in the heap, -1 while not scheduled. */
interface Entry {
  dueMs: number;
  ticket: number;
  key: string;
  pos: number;
}

export class Scheduler {
  /** Scheduled entries, earliest first (an indexed binary heap: an entry moves, never duplicates). */
  private heap: Entry[] = [];
  /**
   * Every key seen and not cancelled. Rescheduling moves the key's entry in place: a new entry
   * per probe (5,000 a second) lived until it was due, 2 s later, so each was promoted and left
   * for a mark-compact of the probe thread, with a stale copy in the heap besides.
   */
  private readonly entries = new Map<string, Entry>();
  private seq = 0;
  private timer: TimerHandle | undefined;
  private armedForMs = Infinity;
  private stopped = false;
  private readonly maxPerTick: number;

  constructor(private readonly opts: SchedulerOptions) {
    this.maxPerTick = opts.maxPerTick ?? 8;
  }

  get size(): number {
    return this.heap.length;
  }

  /** When `key` is due (undefined when not scheduled). */
  dueOf(key: string): number | undefined {
    const e = this.entries.get(key);
    return e && e.pos >= 0 ? e.dueMs : undefined;
  }

  /** Schedule `key` at `dueMs`, replacing any earlier schedule of it. */
  schedule(key: string, dueMs: number): void {
    if (this.stopped) return;
    let e = this.entries.get(key);
    if (!e) {
      e = { dueMs, ticket: 0, key, pos: -1 };
      this.entries.set(key, e);
    }
    e.dueMs = dueMs;
    e.ticket = ++this.seq;
    if (e.pos < 0) {
      e.pos = this.heap.length;
      this.heap.push(e);
    }
    // Earlier: up; later (a later ticket never moves it up): down.
    this.siftDown(this.siftUp(e.pos));
    if (dueMs < this.armedForMs) this.arm();
  }

  cancel(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    if (e.pos >= 0) this.removeAt(e.pos);
  }

  /** The caller's in-flight count dropped: resume draining if it was waiting. */
  kick(): void {
    if (!this.stopped && this.armedForMs === Infinity && this.heap.length > 0) this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.heap = [];
    this.entries.clear();
  }

  private arm(): void {
    const top = this.heap[0];
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedForMs = Infinity;
    if (!top) return;
    this.armedForMs = top.dueMs;
    this.timer = this.opts.clock.setTimeout(() => this.drain(), top.dueMs - this.opts.clock.now());
  }

  private drain(): void {
    this.timer = undefined;
    this.armedForMs = Infinity;
    const now = this.opts.clock.now();
    for (let started = 0; ; started++) {
      const top = this.heap[0];
      if (!top || top.dueMs > now) break;
      // At the in-flight limit: stay disarmed; kick() re-arms when a probe finishes.
      if (!this.opts.canRun()) return;
      if (started >= this.maxPerTick) {
        // Yield so queued DNS packets are answered between bursts of probe starts.
        this.armedForMs = now;
        this.timer = this.opts.clock.setTimeout(() => this.drain(), 0);
        return;
      }
      this.removeAt(0);
      this.opts.run(top.key);
    }
    if (!this.stopped) this.arm();
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const gone = h[i] as Entry;
    gone.pos = -1;
    const last = h.pop() as Entry;
    if (last === gone) return;
    h[i] = last;
    last.pos = i;
    this.siftDown(this.siftUp(i));
  }

  /** Move the entry at `i` towards the root while it is due first; returns where it ended. */
  private siftUp(i: number): number {
    const h = this.heap;
    const e = h[i] as Entry;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Entry;
      if (!before(e, p)) break;
      h[i] = p;
      p.pos = i;
      i = parent;
    }
    h[i] = e;
    e.pos = i;
    return i;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const e = h[i] as Entry;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && before(h[r] as Entry, h[l] as Entry) ? r : l;
      const c = h[child] as Entry;
      if (!before(c, e)) break;
      h[i] = c;
      c.pos = i;
      i = child;
    }
    h[i] = e;
    e.pos = i;
  }
}

/** Earlier due first; among equals, first scheduled first. */
function before(a: Entry, b: Entry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.ticket < b.ticket);
}
