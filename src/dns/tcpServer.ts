import net from 'node:net';
import type { Logger } from 'pino';
import { bindError } from '../util/listen';
import type { QueryHandler } from './handler';

export interface TcpLimits {
  /** Close a connection that completes no query for this long (RFC 7766 §6.2.3; default 10000). */
  idleMs: number;
  /** Concurrent connections per listener (default 1000). */
  maxConnections: number;
  /** Unsent answer bytes per connection before we stop reading its queries (default 256 KiB). */
  maxQueuedBytes: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = { idleMs: 10_000, maxConnections: 1000, maxQueuedBytes: 256 * 1024 };

/**
 * DNS over TCP (RFC 7766): length-prefixed messages, pipelined, answered as they complete.
 * A client that stops reading is paused, then closed by the idle timer; one that trickles
 * bytes without completing a query is closed by the same timer.
 */
export class TcpServer {
  private server?: net.Server;
  private readonly connections = new Set<net.Socket>();
  /** Answers are written here after a 2-byte length, then copied into the frame that is sent. */
  private readonly out = Buffer.allocUnsafe(2 + 65535);

  constructor(
    private readonly handler: QueryHandler,
    private readonly log: Logger,
    private readonly limits: TcpLimits = DEFAULT_TCP_LIMITS,
  ) {}

  listen(host: string, port: number): Promise<number> {
    const server = net.createServer({ noDelay: true }, (socket) => this.serve(socket));
    server.maxConnections = this.limits.maxConnections;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(bindError('tcp', host, port, err)));
      server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.log.warn({ err }, 'dns: tcp server error'));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  private serve(socket: net.Socket): void {
    this.connections.add(socket);
    let pending: Buffer | undefined;
    const idle = setTimeout(() => socket.destroy(), this.limits.idleMs);
    // Answer every complete message buffered, unless the client is not reading its answers.
    const pump = () => {
      if (!pending) return;
      let off = 0;
      while (pending.length - off >= 2) {
        if (socket.writableLength > this.limits.maxQueuedBytes) {
          socket.pause();
          break;
        }
        const len = pending.readUInt16BE(off);
        if (pending.length - off - 2 < len) break;
        const msg = pending.subarray(off + 2, off + 2 + len);
        off += 2 + len;
        idle.refresh();
        const n = this.handler.answer(msg, msg.length, 'tcp', this.out, 2);
        if (n > 0) socket.write(frame(this.out, n));
      }
      // Keep only the unanswered tail, copied so a large chunk is not pinned for a few bytes.
      pending = off === 0 ? pending : off < pending.length ? Buffer.from(pending.subarray(off)) : undefined;
    };
    socket.on('data', (chunk: Buffer) => {
      pending = pending ? Buffer.concat([pending, chunk]) : chunk;
      pump();
    });
    socket.on('drain', () => {
      pump();
      if (socket.writableLength <= this.limits.maxQueuedBytes) socket.resume();
    });
    socket.on('end', () => socket.end());
    socket.on('error', (err) => this.log.debug({ err }, 'dns: tcp connection error'));
    socket.on('close', () => {
      clearTimeout(idle);
      this.connections.delete(socket);
    });
  }

  /** Stop accepting; let connections flush what they were answering, then close them. */
  close(graceMs = 3000): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        for (const s of this.connections) s.destroy();
      }, graceMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      for (const s of this.connections) s.end();
    });
  }
}

/** The answer of `length` bytes at buf[2, ...), with its length prefix, in a buffer of its own. */
function frame(buf: Buffer, length: number): Buffer {
  buf.writeUInt16BE(length, 0);
  const framed = Buffer.allocUnsafe(length + 2);
  buf.copy(framed, 0, 0, length + 2);
  return framed;
}
