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
  /** Probes started per callback before yielding to I/O (default 8: ~0.2 ms of JS). */
  maxPerTick?: number;
}

interface Entry {
  dueMs: number;
  ticket: number;
  key: string;
}

export class Scheduler {
  private heap: Entry[] = [];
  /** The live ticket of each scheduled key; heap entries with another ticket are stale. */
  private readonly live = new Map<string, Entry>();
  private seq = 0;
  private timer: TimerHandle | undefined;
  private armedForMs = Infinity;
  private stopped = false;
  private readonly maxPerTick: number;

  constructor(private readonly opts: SchedulerOptions) {
    this.maxPerTick = opts.maxPerTick ?? 8;
  }

  get size(): number {
    return this.live.size;
  }

  /** When `key` is due (undefined when not scheduled). */
  dueOf(key: string): number | undefined {
    return this.live.get(key)?.dueMs;
  }

  /** Schedule `key` at `dueMs`, replacing any earlier schedule of it. */
  schedule(key: string, dueMs: number): void {
    if (this.stopped) return;
    const entry = { dueMs, ticket: ++this.seq, key };
    this.live.set(key, entry);
    this.push(entry);
    // Stale entries are skipped when popped; rebuild only when they dominate the heap.
    if (this.heap.length > 2 * this.live.size + 1024) this.rebuild();
    if (dueMs < this.armedForMs) this.arm();
  }

  cancel(key: string): void {
    this.live.delete(key);
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
    this.live.clear();
  }

  private arm(): void {
    const top = this.peek();
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
      const top = this.peek();
      if (!top || top.dueMs > now) break;
      // At the in-flight limit: stay disarmed; kick() re-arms when a probe finishes.
      if (!this.opts.canRun()) return;
      if (started >= this.maxPerTick) {
        // Yield so queued DNS packets are answered between bursts of probe starts.
        this.armedForMs = now;
        this.timer = this.opts.clock.setTimeout(() => this.drain(), 0);
        return;
      }
      this.pop();
      this.live.delete(top.key);
      this.opts.run(top.key);
    }
    if (!this.stopped) this.arm();
  }

  /** The earliest live entry, dropping stale ones on the way. */
  private peek(): Entry | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0] as Entry;
      if (this.live.get(top.key) === top) return top;
      this.pop();
    }
    return undefined;
  }

  private rebuild(): void {
    this.heap = [];
    for (const entry of this.live.values()) this.push(entry);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, h[parent] as Entry)) break;
      h[i] = h[parent] as Entry;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as Entry;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && before(h[r] as Entry, h[l] as Entry) ? r : l;
      if (!before(h[child] as Entry, last)) break;
      h[i] = h[child] as Entry;
      i = child;
    }
    h[i] = last;
  }
}

/** Earlier due first; among equals, first scheduled first. */
function before(a: Entry, b: Entry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.ticket < b.ticket);
}
