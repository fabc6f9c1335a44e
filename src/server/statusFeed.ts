/**
 * How long a page's request for news is held when nothing changes (it then gets the document
 * anyway, with fresh last-probe times); below the metrics listener's idle timeout.
 */
export const STATUS_WAIT_MS = 5000;
/** Changes within this window are sent together: a resync of many pools is one refresh. */
const COALESCE_MS = 50;

/**
 * The status page's news: a generation number that changes with pools, verdicts and the
 * store's state, and requests waiting for it to move past the one they have seen.
 */
export class StatusFeed {
  private gen = 1;
  private readonly waiters = new Set<() => void>();
  private flushTimer?: NodeJS.Timeout;

  get generation(): number {
    return this.gen;
  }

  /** Something the page shows changed. */
  bump(): void {
    this.gen++;
    if (this.flushTimer || this.waiters.size === 0) return;
    this.flushTimer = setTimeout(() => this.flush(), COALESCE_MS);
  }

  /**
   * Resolves once the generation differs from `seen` (at once if it already does), after
   * `maxWaitMs` otherwise, or when `cancel` is called.
   */
  wait(seen: number, maxWaitMs = STATUS_WAIT_MS): { done: Promise<void>; cancel: () => void } {
    if (seen !== this.gen) return { done: Promise.resolve(), cancel: () => undefined };
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => release(), maxWaitMs);
      release = () => {
        clearTimeout(timer);
        this.waiters.delete(release);
        resolve();
      };
    });
    this.waiters.add(release);
    return { done, cancel: release };
  }

  /** Release every waiter (the server is stopping). */
  close(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const release of [...this.waiters]) release();
  }

  private flush(): void {
    this.flushTimer = undefined;
    for (const release of [...this.waiters]) release();
  }
}
