import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { AbstractConnector } from 'ioredis';
import type { SentinelWatch } from './sentinelWatch';

// How an ioredis connection of the store finds its server: a fixed address (redis://), or the
// master a SentinelWatch names at every (re)connect (redis-sentinel://), accepting only a
// server whose ready check says it is a master. The ready check's INFO also tells how many
// replicas the master has connected, for changes that must reach one (docs/store.md "Redis
// Sentinel").

export interface ConnectorTarget {
  /** Fixed address (redis://). */
  host?: string;
  port?: number;
  /** Sentinel-managed master (redis-sentinel://). */
  watch?: SentinelWatch;
  tls?: ConnectionOptions;
  /** The server's INFO at each ready check. */
  onInfo?: (info: Record<string, string>) => void;
  /** Where the connection is being made. */
  onAddress?: (host: string, port: number) => void;
}

const CLOSED = 'Connection is closed.';
/** While no sentinel answers, the connection asks again this often (it keeps trying until closed). */
const NO_SENTINEL_RETRY_MS = 500;

/** An ioredis Connector class for `target` (passed as RedisOptions.Connector). */
export function masterConnector(target: ConnectorTarget): new (options: unknown) => AbstractConnector {
  return class MasterConnector extends AbstractConnector {
    constructor(options: unknown) {
      super((options as { disconnectTimeout?: number }).disconnectTimeout ?? 2000);
    }

    /**
     * Resolves with the stream; rejecting would end the ioredis client for good, so with no
     * sentinel answering this keeps asking until it does or the connection is closed.
     */
    async connect(): Promise<Socket | TLSSocket> {
      this.connecting = true;
      let host = target.host;
      let port = target.port;
      while (target.watch) {
        const master = await target.watch.masterToUse();
        if (!this.connecting) throw new Error(CLOSED);
        if (master) {
          ({ host, port } = master);
          break;
        }
        await new Promise((r) => setTimeout(r, NO_SENTINEL_RETRY_MS).unref());
        if (!this.connecting) throw new Error(CLOSED);
      }
      // (Never a default address: a connection without one is a programming error, not 127.0.0.1.)
      if (host === undefined || port === undefined) throw new Error('no Redis address to connect to');
      target.onAddress?.(host, port);
      const stream = target.tls ? tlsConnect({ ...target.tls, host, port }) : createConnection({ host, port });
      stream.once('error', (err) => { this.firstError = err; });
      this.stream = stream;
      return stream;
    }

    override check(info: Record<string, string>): boolean {
      target.onInfo?.(info);
      if (!target.watch || info.role === undefined || info.role === 'master') return true;
      // A demoted master, or a replica named by a sentinel that has not caught up: ask again.
      target.watch.invalidate();
      return false;
    }
  };
}
