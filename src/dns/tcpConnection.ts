import type net from 'node:net';
import type { QueryHandler } from './handler';
import { TcpFramer } from './tcpFramer';
import type { TcpLimits } from './tcpLimits';

/** Why a connection was closed by us, for the counters. */
export type TcpCloseReason = 'idle' | 'partial' | 'evicted' | 'shutdown';

/** Messages answered per turn of the event loop before other connections get theirs. */
const ANSWERS_PER_TURN = 64;
/** Answers gathered in the scratch buffer are sent once they reach this many bytes. */
const SCRATCH_FLUSH_BYTES = 16 * 1024;

/** A scratch buffer for TcpConnection (one per listener: a connection uses it only within a pump). */
export function tcpScratch(): Buffer {
  // Room for one more answer of the largest size (RFC 1035 §4.2.2) after the flush point.
  return Buffer.allocUnsafe(SCRATCH_FLUSH_BYTES + 2 + 65535);
}

export interface TcpConnectionHooks {
  /** The connection is gone (whoever closed it; called once); `reason` when we closed it. */
  closed(conn: TcpConnection, reason: TcpCloseReason | undefined): void;
}

/**
 * One DNS-over-TCP client (RFC 7766): reads framed queries, answers them in order, and holds
 * it to the limits of docs/tcp.md. The idle timer is refreshed only by an answered query;
 * a message begun must complete within partialMs; while more than maxQueuedBytes of answers
 * wait for the client, its queries are not read (and the idle timer then closes it, since
 * nothing is answered). Queries are answered ANSWERS_PER_TURN at a time, so one pipelining
 * client cannot hold the event loop.
 */
export class TcpConnection {
  /** When a query of it was last answered (at first: accepted); the quietest gives way first. */
  lastActiveMs: number;
  private readonly framer = new TcpFramer();
  private readonly idle: NodeJS.Timeout;
  private partial: NodeJS.Timeout | undefined;
  /** Reading stopped until the client reads its answers ('drain'). */
  private blocked = false;
  /** Answering continues on the next turn (setImmediate pending). */
  private deferred = false;
  /** The client sent FIN: answer what is complete, then finish. */
  private ended = false;
  private isGone = false;
  /** Messages taken from the framer so far: tells whether the partial one is still the same. */
  private taken = 0;

  constructor(
    readonly socket: net.Socket,
    readonly source: string,
    private readonly handler: QueryHandler,
    private readonly limits: TcpLimits,
    private readonly scratch: Buffer,
    private readonly hooks: TcpConnectionHooks,
    private readonly now: () => number = Date.now,
  ) {
    this.lastActiveMs = now();
    this.idle = setTimeout(() => this.close('idle'), limits.idleMs);
    socket.on('data', (chunk: Buffer) => {
      this.framer.push(chunk);
      this.pump();
    });
    socket.on('drain', () => {
      if (!this.blocked) return;
      this.blocked = false;
      this.pump();
    });
    socket.on('end', () => {
      this.ended = true;
      this.pump();
    });
    // Errors (a reset by the client) end in 'close'; nothing to report per connection.
    socket.on('error', () => undefined);
    socket.on('close', () => this.gone(undefined));
  }

  /** Close it now, for `reason`; what is queued for it is dropped. Its slot is free at once. */
  close(reason: TcpCloseReason): void {
    this.socket.destroy();
    this.gone(reason);
  }

  private gone(reason: TcpCloseReason | undefined): void {
    if (this.isGone) return;
    this.isGone = true;
    clearTimeout(this.idle);
    clearTimeout(this.partial);
    this.hooks.closed(this, reason);
  }

  /** Stop reading; finish answering what is complete, then send FIN (a graceful stop). */
  finish(): void {
    this.ended = true;
    this.socket.pause();
    this.pump();
  }

  /** Answer complete messages until none is left, the client's queue is full, or the turn's share is used. */
  private pump(): void {
    if (this.deferred || this.socket.destroyed) return;
    const { socket, scratch } = this;
    // This turn's answers are framed back to back in scratch and sent as few writes: a queue
    // of one buffer per answer costs more in objects than in answer bytes.
    let used = 0;
    const flush = (): void => {
      if (used === 0) return;
      const chunk = Buffer.allocUnsafe(used);
      scratch.copy(chunk, 0, 0, used);
      socket.write(chunk);
      used = 0;
    };
    let answered = 0;
    while (this.framer.ready) {
      if (socket.writableLength + used >= this.limits.maxQueuedBytes) {
        flush();
        // What the kernel took is gone from writableLength. 'drain' comes only after a write
        // was refused (writableNeedDrain), so the cap is at least the high-water mark (16 KiB).
        if (socket.writableLength >= this.limits.maxQueuedBytes && socket.writableNeedDrain) {
          // The client is not reading: stop reading it until its answers drain.
          this.blocked = true;
          socket.pause();
          this.stopPartialTimer();
          return;
        }
      }
      if (answered === ANSWERS_PER_TURN) {
        flush();
        this.deferred = true;
        socket.pause();
        setImmediate(() => {
          this.deferred = false;
          this.pump();
        });
        return;
      }
      const msg = this.framer.next() as Buffer;
      answered++;
      this.taken++;
      const n = this.handler.answer(msg, msg.length, 'tcp', scratch, used + 2);
      if (n === 0) continue; // dropped: does not keep the connection open
      scratch.writeUInt16BE(n, used);
      used += 2 + n;
      if (used >= SCRATCH_FLUSH_BYTES) flush();
      this.lastActiveMs = this.now();
      this.idle.refresh();
    }
    flush();
    if (this.ended) {
      // Whatever is partial will never complete.
      socket.end();
      this.stopPartialTimer();
      return;
    }
    if (socket.isPaused()) socket.resume();
    // A message completed: the timer, if any, was for it; the partial one is new.
    if (answered > 0) this.stopPartialTimer();
    if (this.framer.partial) this.startPartialTimer();
    else this.stopPartialTimer();
  }

  /** Started when a message is first seen incomplete; more of its bytes do not move it. */
  private startPartialTimer(): void {
    if (this.partial) return;
    const message = this.taken;
    this.partial = setTimeout(() => {
      this.partial = undefined;
      // Bytes that arrived while timers ran are read in the poll phase, before setImmediate.
      setImmediate(() => {
        if (this.taken === message && this.framer.partial && !this.blocked && !this.deferred) this.close('partial');
      });
    }, this.limits.partialMs);
  }

  private stopPartialTimer(): void {
    clearTimeout(this.partial);
    this.partial = undefined;
  }
}
