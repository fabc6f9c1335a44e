import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { TierdnsError, errorMessage } from '../util/errors';
import type { StoreStatus } from './types';
import { redactSecrets, type RedisLocation } from './url';
import { masterConnector } from './masterConnector';
import type { MasterAddress, SentinelWatch } from './sentinelWatch';

// One ioredis connection with the failure behaviour docs/store.md describes: commands fail
// fast while Redis is away (no offline queue, so the CLI prints one line and a query path
// never waits), while the connection itself keeps reconnecting with short, capped backoff.
// A connection that is up but stuck (a silent network cut: the link stays up and packets
// vanish, so TCP itself notices nothing for many seconds) is noticed by a PING every
// PING_EVERY_MS and a deadline on every reply (SOCKET_TIMEOUT_MS), on the subscriber too;
// the socket is then dropped, the store reported down, and a new connection tried
// (docs/store.md "When Redis goes away"). With Sentinel, every (re)connect goes to the master
// the sentinels name now, and a new master announced by them is followed at once
// (./sentinelWatch, docs/store.md "Redis Sentinel").

/** Reconnect backoff: 50 ms doubling, capped so a recovered Redis is noticed within about a second. */
const MAX_BACKOFF_MS = 1000;
/** A connection with a reply outstanding and no byte from Redis for this long is dead: dropped and replaced. */
export const SOCKET_TIMEOUT_MS = 1500;
/** Every ready connection sends a PING this often, so a dead one is noticed even while idle. */
export const PING_EVERY_MS = 500;
/**
 * One connection attempt (TCP, TLS, the ready check) may take this long: a SYN lost to a cut
 * is retried by the kernel only after 1 s, 3 s, 7 s…; a new attempt is quicker after a heal.
 */
const CONNECT_TIMEOUT_MS = 2000;
/** TCP keepalive for connections idle at the TCP level (between PINGs there are none for long). */
const KEEPALIVE_MS = 5000;

export type StatusListener = (status: StoreStatus, detail?: string) => void;

/** The first retry at once (a connection dropped on purpose, a failover), then 50 ms doubling to MAX_BACKOFF_MS. */
function retryDelay(times: number): number {
  if (times <= 1) return Math.floor(Math.random() * 20);
  return Math.min(50 * 2 ** Math.min(times - 2, 8), MAX_BACKOFF_MS) + Math.floor(Math.random() * 50);
}

/** What the connection learns at each connect, for RedisConnection's users. */
interface Learned {
  address?: string;
  replicasConnected?: number;
  serverMajor?: number;
}

function clientOptions(loc: RedisLocation, connectWaitMs: number, subscriber: boolean, watch: SentinelWatch | undefined, learned: Learned): RedisOptions {
  const o: RedisOptions = {
    db: loc.db,
    retryStrategy: retryDelay,
    // Subscriptions may wait for the connection; everything else fails fast (see above).
    enableOfflineQueue: subscriber,
    maxRetriesPerRequest: subscriber ? null : 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: Math.max(Math.min(connectWaitMs, CONNECT_TIMEOUT_MS), 500),
    socketTimeout: SOCKET_TIMEOUT_MS,
    keepAlive: KEEPALIVE_MS,
    // CLIENT SETINFO would need one more ACL permission for no benefit to operators.
    disableClientInfo: true,
  };
  if (loc.username !== undefined) o.username = loc.username;
  if (loc.password !== undefined) o.password = loc.password;
  if (!loc.sentinels) {
    o.host = loc.host;
    o.port = loc.port;
  }
  if (loc.tls) o.tls = loc.tls;
  o.Connector = masterConnector({
    host: loc.host, port: loc.port, watch, tls: loc.tls,
    onAddress: (host, port) => { learned.address = `${host}:${port}`; },
    onInfo: (info) => {
      learned.replicasConnected = Number(info.connected_slaves ?? 0) || 0;
      learned.serverMajor = Number(/^(\d+)\./.exec(info.redis_version ?? '')?.[1] ?? 0);
    },
  });
  // A write refused because the server is a replica now: reconnect (to the master) rather than
  // fail every write until Sentinel gets round to closing the connection.
  o.reconnectOnError = (err) => {
    if (!/^READONLY/.test(err.message)) return false;
    watch?.invalidate();
    return 1;
  };
  return o;
}

export class RedisConnection {
  readonly client: Redis;
  private status: StoreStatus = 'connecting';
  private lastError: string | undefined;
  private closed = false;
  private readyWait: Promise<void> | undefined;
  private readonly listeners = new Set<StatusListener>();
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly learned: Learned = {};
  private readonly offSwitch: (() => void) | undefined;

  constructor(
    private readonly loc: RedisLocation,
    private readonly log: Logger,
    private readonly connectWaitMs: number,
    /** 'transactions': an extra connection for WATCH transactions; its ups and downs log at debug (the main one reports them). */
    readonly role: 'commands' | 'subscriber' | 'transactions',
    /** The store's Sentinel watch (redis-sentinel:// URLs). */
    private readonly watch?: SentinelWatch,
  ) {
    this.client = new Redis(clientOptions(loc, connectWaitMs, role === 'subscriber', watch, this.learned));
    this.offSwitch = watch?.onSwitch((to) => this.follow(to));
    this.client.on('ready', () => {
      // A cause belongs to one outage: the next one must not be blamed on this one's error.
      this.lastError = undefined;
      if (this.status !== 'ready') {
        const level = role === 'transactions' ? 'debug' : 'info';
        this.log[level]({ store: loc.description, role, server: this.learned.address }, 'store: redis connection ready');
      }
      this.setStatus('ready');
    });
    this.client.on('error', (err: Error) => {
      this.lastError = this.messageOf(err);
      this.log.debug({ store: loc.description, role, err: this.lastError }, 'store: redis connection error');
    });
    // After a failure the status stays 'down' through the reconnect attempts, until 'ready'.
    this.client.on('close', () => this.setStatus('down', this.lastError ?? 'connection closed'));
    this.client.on('end', () => this.setStatus('down', this.lastError ?? 'connection ended'));
    this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS);
    this.pingTimer.unref();
  }

  /**
   * The watchdog's PING: its reply is due within SOCKET_TIMEOUT_MS like any other (ioredis then
   * destroys the socket and reconnects). Allowed on a subscriber connection too.
   */
  private ping(): void {
    if (this.closed || this.client.status !== 'ready') return;
    this.client.ping().catch(() => undefined);
  }

  get currentStatus(): StoreStatus {
    return this.status;
  }

  /** The server's major version (its ready check's INFO; 0 when unknown). */
  get serverMajor(): number {
    return this.learned.serverMajor ?? 0;
  }

  /** Replicas the server reported connected at the last connect (its ready check's INFO). */
  /** The server this connection is on ("host:port"), as learned at its last connect. */
  get serverAddress(): string | undefined {
    return this.learned.address;
  }

  get replicasConnected(): number {
    return this.learned.replicasConnected ?? 0;
  }

  /**
   * A new master was announced: a connection to another server drops it now (the old master
   * stays writable until Sentinel demotes it), one waiting to reconnect tries at once.
   */
  follow(to: MasterAddress): void {
    if (this.closed) return;
    const c = this.client;
    if (c.status === 'ready' || c.status === 'connect') {
      if (this.learned.address !== `${to.host}:${to.port}`) c.disconnect(true);
    } else if (c.status === 'reconnecting') {
      reconnectNow(c);
    }
  }

  /** Returns the function that removes the listener. */
  onStatus(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setStatus(status: StoreStatus, detail?: string): void {
    if (status === this.status || this.closed) return;
    const wasReady = this.status === 'ready';
    this.status = status;
    if (status === 'down' && (wasReady || this.role === 'commands')) {
      const level = this.role === 'transactions' ? 'debug' : 'warn';
      this.log[level]({ store: this.loc.description, role: this.role, err: detail }, 'store: redis unreachable, retrying in the background');
    }
    for (const l of this.listeners) {
      try {
        l(status, detail);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'store: status listener threw');
      }
    }
  }

  /** Resolve once the connection is usable; reject at the next connection error or after connectWaitMs. */
  ready(): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    if (this.closed) return Promise.reject(this.unreachable('the store is closed'));
    // Callers waiting at once share one wait (and one set of listeners on the client).
    this.readyWait ??= this.waitReady().finally(() => { this.readyWait = undefined; });
    return this.readyWait;
  }

  private waitReady(): Promise<void> {
    // With Sentinel a refused connection is no answer: the master may be failing over, and the
    // connection asks the sentinels again at its next attempt; it gets the whole wait.
    const failFast = this.watch === undefined;
    return new Promise((resolve, reject) => {
      const done = (err?: TierdnsError): void => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        this.client.off('error', onError);
        this.client.off('end', onEnd);
        if (err) reject(err);
        else resolve();
      };
      const onReady = (): void => done();
      const onError = (err: Error): void => { if (failFast) done(this.unreachable(this.messageOf(err))); };
      const onEnd = (): void => done(this.unreachable(this.lastError ?? 'connection ended'));
      const timer = setTimeout(
        () => done(this.unreachable(`no connection within ${this.connectWaitMs} ms${this.lastError ? ` (${this.lastError})` : ''}`)),
        this.connectWaitMs,
      );
      this.client.on('ready', onReady);
      this.client.on('error', onError);
      this.client.on('end', onEnd);
    });
  }

  /** A client error's message, never anything it carries (its command holds AUTH's password), secrets masked. */
  private messageOf(err: unknown): string {
    return redactSecrets(errorMessage(err), this.loc);
  }

  unreachable(why: string): TierdnsError {
    return new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', `redis at ${this.loc.description} unreachable: ${why}`);
  }

  /** Map anything ioredis throws to a typed store error. */
  toStoreError(err: unknown): TierdnsError {
    if (err instanceof TierdnsError) return err;
    // EXECABORT: the transaction was refused whole because a queued command was; that one says why.
    const previous = (err as { previousErrors?: unknown[] } | undefined)?.previousErrors;
    if (Array.isArray(previous) && previous[0] instanceof Error) err = previous[0];
    const msg = this.messageOf(err);
    if (err instanceof Error && err.name === 'ReplyError') {
      // Authentication and ACL refusals mean "cannot use this store", not "bad data".
      if (/^(NOAUTH|WRONGPASS)/.test(msg)) return this.unreachable(`refused: ${msg}`);
      if (/^NOPERM|can't publish to the channel|no permissions/.test(msg)) {
        return new TierdnsError('TIERDNS_E_STORE_PERMISSION', `redis at ${this.loc.description} refused: ${msg} (docs/store.md "Redis ACL")`);
      }
      return new TierdnsError('TIERDNS_E_STORE_DATA', `redis at ${this.loc.description}: ${msg}`);
    }
    return this.unreachable(msg);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    this.offSwitch?.();
    if (this.client.status === 'ready') {
      // QUIT lets in-flight replies arrive; a hung server must not hold up shutdown.
      const quit = this.client.quit().catch(() => undefined);
      const timeout = new Promise<void>((r) => setTimeout(r, 1000).unref());
      await Promise.race([quit, timeout]);
    }
    this.client.disconnect();
    // disconnect() only half-closes; a server that never answers would keep the process alive.
    this.client.stream?.destroy();
  }
}

/**
 * Cut short the back-off of a client waiting to reconnect. ioredis has no public call for it:
 * this clears its pending reconnect timer (a private field of the pinned ioredis version) and
 * connects; should the field ever be gone, the regular back-off (at most MAX_BACKOFF_MS) applies.
 */
function reconnectNow(client: Redis): void {
  const inner = client as unknown as { reconnectTimeout?: NodeJS.Timeout | null };
  if (!inner.reconnectTimeout) return;
  clearTimeout(inner.reconnectTimeout);
  inner.reconnectTimeout = null;
  client.connect().catch(() => undefined);
}
