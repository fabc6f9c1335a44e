import net from 'node:net';
import type { Logger } from 'pino';
import { acceptErrorLogger } from '../util/acceptErrors';
import { bindError } from '../util/listen';
import type { QueryHandler } from './handler';
import { TcpAdmission } from './tcpAdmission';
import { TcpConnection, tcpScratch, type TcpCloseReason } from './tcpConnection';
import { DEFAULT_TCP_LIMITS, KERNEL_UNSENT_BYTES, sourceKey, type TcpLimits } from './tcpLimits';

export { DEFAULT_TCP_LIMITS, type TcpLimits } from './tcpLimits';

/** Counters of every TCP listener of the process (metrics, tests). */
export class TcpStats {
  accepted = 0;
  /** Refused because their source already held maxPerSource connections. */
  refusedPerSource = 0;
  /** Refused because every slot was taken and none could be given up fairly. */
  refusedFull = 0;
  /** Closed by us, by reason (evicted: to make room for another source). */
  readonly closed: Record<TcpCloseReason, number> = { idle: 0, partial: 0, evicted: 0, shutdown: 0 };
}

/** Limits the kernel's unsent bytes of a socket (TCP_NOTSENT_LOWAT); returns 0 or an errno. */
export type KernelQueueLimiter = (fd: number, bytes: number) => number;

/**
 * What every TCP listener of the process shares: the limits, who holds a connection slot,
 * and the counters. One per DnsServer, so the caps hold across listen addresses.
 */
export class TcpClients {
  readonly admission: TcpAdmission<TcpConnection>;
  readonly stats = new TcpStats();
  readonly connections = new Set<TcpConnection>();
  private peak = 0;

  constructor(
    readonly limits: TcpLimits = DEFAULT_TCP_LIMITS,
    readonly limitKernelQueue?: KernelQueueLimiter,
  ) {
    // Under a full table, a connection quiet this long may give its slot to a newcomer.
    const quietMs = Math.min(1000, limits.idleMs);
    this.admission = new TcpAdmission({ maxConnections: limits.maxConnections, maxPerSource: limits.maxPerSource, quietMs });
  }

  get open(): number {
    return this.connections.size;
  }

  /** Most connections open at once since resetPeak(). */
  get peakOpen(): number {
    return this.peak;
  }

  resetPeak(): void {
    this.peak = this.connections.size;
  }

  add(conn: TcpConnection): void {
    this.admission.add(conn);
    this.connections.add(conn);
    if (this.connections.size > this.peak) this.peak = this.connections.size;
  }

  /** The limits in force, for the start-up log; kernelUnsentBytes only where the addon sets it. */
  describe(): TcpLimits & { kernelUnsentBytes?: number } {
    return { ...this.limits, kernelUnsentBytes: this.limitKernelQueue ? KERNEL_UNSENT_BYTES : undefined };
  }
}

/**
 * DNS over TCP (RFC 7766) on one address: admits connections within the caps of docs/tcp.md
 * and hands each to a TcpConnection, which frames, answers and times it.
 */
export class TcpServer {
  private server?: net.Server;
  private readonly scratch = tcpScratch();
  private readonly mine = new Set<TcpConnection>();

  constructor(
    private readonly handler: QueryHandler,
    private readonly log: Logger,
    private readonly clients: TcpClients = new TcpClients(),
  ) {}

  listen(host: string, port: number): Promise<number> {
    // Half-open: a client may send its queries and FIN, and still gets every answer.
    const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(bindError('tcp', host, port, err)));
      server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
        server.removeAllListeners('error');
        server.on('error', acceptErrorLogger(this.log, 'dns: tcp'));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  private accept(socket: net.Socket): void {
    const { clients } = this;
    // Reset before it was handed to us: there is no one to serve, and 'close' may be past.
    if (socket.destroyed || socket.remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    const source = sourceKey(socket.remoteAddress);
    const now = Date.now();
    const decision = clients.admission.consider(source, now);
    if (!decision.admit) {
      if (decision.reason === 'per-source') clients.stats.refusedPerSource++;
      else clients.stats.refusedFull++;
      // A reset: no TIME_WAIT kept here for a connection we never served.
      socket.on('error', () => undefined);
      socket.resetAndDestroy();
      return;
    }
    if (decision.evict) decision.evict.close('evicted');
    clients.stats.accepted++;
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (clients.limitKernelQueue && typeof fd === 'number' && fd >= 0) clients.limitKernelQueue(fd, KERNEL_UNSENT_BYTES);
    const conn = new TcpConnection(socket, source, this.handler, clients.limits, this.scratch, {
      closed: (c, reason) => {
        clients.admission.remove(c);
        clients.connections.delete(c);
        this.mine.delete(c);
        if (reason) clients.stats.closed[reason]++;
      },
    });
    clients.add(conn);
    this.mine.add(conn);
  }

  /** Stop accepting; let connections finish what they were answering, then close them. */
  close(graceMs = 3000): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    const mine = [...this.mine];
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        for (const c of mine) c.close('shutdown');
      }, graceMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      for (const c of mine) c.finish();
    });
  }
}
