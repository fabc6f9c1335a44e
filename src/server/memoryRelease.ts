import type { Logger } from 'pino';
import { collectGarbage } from '../util/heap';

/** How often the connection count is looked at. */
const CHECK_EVERY_MS = 2000;
/** Connections gone since the peak that make a burst worth giving memory back for. */
const BURST_CONNECTIONS = 64;

export interface MemoryReleaseOptions {
  /** TCP connections open now, and the most open at once since resetPeak(). */
  connections: { readonly open: number; readonly peakOpen: number; resetPeak(): void };
  /** glibc's malloc_trim (the native addon), when there is one. */
  trimHeap?: () => boolean;
  log: Logger;
}

/**
 * Gives back the memory of a burst of TCP connections once they are gone (docs/tcp.md): their
 * buffers are freed by a collection (when node runs with --expose-gc), and the allocator then
 * returns the freed pages to the system, which glibc otherwise keeps for the process.
 * Returns a function that stops it.
 */
export function releaseMemoryAfterBursts(opts: MemoryReleaseOptions): () => void {
  const { connections, trimHeap, log } = opts;
  const timer = setInterval(() => {
    // Once most of a burst is gone, not while it churns.
    const { open, peakOpen } = connections;
    if (peakOpen - open < BURST_CONNECTIONS || open > peakOpen / 2) return;
    const gcMs = collectGarbage();
    const trimmed = trimHeap?.() ?? false;
    log.debug({ peak: peakOpen, open, gcMs, trimmed }, 'dns: tcp burst over, memory given back');
    connections.resetPeak();
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
