import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { hostPort } from '../util/listen';
import type { ProbeResult } from './probeTypes';

// The bookkeeping every probe kind shares: one deadline, one settlement, and every socket the
// probe opened destroyed at that settlement, so a probe never outlives its timeout.

/** Something a probe opened, to be destroyed when it settles. */
export interface Destroyable {
  destroy(): void;
}

/**
 * The bookkeeping of one probe: the deadline, the sockets to destroy, and a single settlement.
 * Protocol code calls ok()/fail(); a ws probe marks success early (`decided`) and settles once
 * its close handshake is over, so a slow close still counts as healthy.
 */
export class Attempt {
  private readonly startedAt = performance.now();
  private readonly opened: Destroyable[] = [];
  private readonly timer: NodeJS.Timeout;
  private settled = false;
  decided: ProbeResult | undefined;

  constructor(private readonly timeoutMs: number, private readonly resolve: (r: ProbeResult) => void) {
    this.timer = setTimeout(() => this.settle(this.decided ?? this.failure(`timeout after ${timeoutMs}ms`)), timeoutMs);
  }

  elapsedMs(): number {
    return Math.round((performance.now() - this.startedAt) * 100) / 100;
  }

  /** Register something to destroy at settlement (destroyed at once if already settled). */
  track<T extends Destroyable>(thing: T): T {
    if (this.settled) thing.destroy();
    else this.opened.push(thing);
    return thing;
  }

  ok(): void {
    this.settle({ ok: true, latencyMs: this.elapsedMs() });
  }

  fail(error: string): void {
    this.settle(this.failure(error));
  }

  settle(result: ProbeResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    // Last opened first: a socket handed over by an upgrade goes before the request that made it.
    for (let i = this.opened.length - 1; i >= 0; i--) (this.opened[i] as Destroyable).destroy();
    this.resolve(result);
  }

  private failure(error: string): ProbeResult {
    return { ok: false, latencyMs: Math.min(this.elapsedMs(), this.timeoutMs), error };
  }
}

/**
 * Close a probe's plain TCP socket with a reset (SO_LINGER 0), as HAProxy does for checks: the
 * side that closes first keeps a TIME_WAIT entry for a minute, and at thousands of probes a
 * second those would slow every connect() of the prober. TLS and unconnected sockets are
 * destroyed normally.
 */
export function hangUp(socket: net.Socket): void {
  try {
    // After end() (Node's HTTP client ends a `Connection: close` exchange itself) libuv refuses
    // the reset with EINVAL and the handle is left open: close those normally.
    if (!socket.destroyed && !socket.connecting && !socket.writableEnded && socket instanceof net.Socket && (socket as { encrypted?: boolean }).encrypted !== true) {
      socket.resetAndDestroy();
      return;
    }
  } catch {
    // A handle that cannot be reset: fall through to a normal close.
  }
  socket.destroy();
}

/** A socket or parser error as a short reason: the errno/HPE code with Node's message. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const code = e.code;
  // Node writes "connect ECONNREFUSED ::1:80"; an IPv6 address gets brackets before its port.
  if (code && e.syscall && e.address?.includes(':') && e.port !== undefined) return `${e.syscall} ${code} ${hostPort(e.address, e.port)}`;
  if (!code || err.message.includes(code)) return err.message;
  return `${code}: ${err.message}`;
}
