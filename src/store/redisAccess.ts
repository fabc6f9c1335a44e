import type { Logger } from 'pino';
import { TierdnsError } from '../util/errors';
import { DIGEST_POOLS, HEARTBEAT, LAYOUT_VERSION, READ_POOL, READ_POOL_CHECKED, READ_POOLS, REFRESH_OBSERVATION, RedisKeys } from './redisLayout';
import { RedisConnection } from './redisConnection';
import { SentinelWatch } from './sentinelWatch';
import { checkPermissions } from './redisAcl';
import type { RedisLocation } from './url';

// What every operation of the Redis store (redisStore.ts) goes through: its options, its keys,
// connections with the store's scripts defined, and run()/runWrite(), which check the layout
// version once per connection and the ACL user's permissions before the first write, and turn
// any failure into a store error.

export interface RedisStoreOptions {
  prefix: string;
  log: Logger;
  /** How long a command waits for a connection before failing with TIERDNS_E_STORE_UNREACHABLE (ms). */
  connectWaitMs: number;
  /** Heartbeat age past which an instance stops voting, until heartbeat() passes its own TTL (ms). */
  instanceTtlMs: number;
  /** Clock for verdict and member times. */
  nowMs: () => number;
  /**
   * Changes of pools and members (not observations or heartbeats) count as done only once a
   * replica has them too, when the store has replicas (the CLI: docs/store.md "Redis Sentinel").
   */
  confirmOnReplica?: boolean;
}

/** The scripts connect() defines on every connection. */
export type Scripted = {
  readPool(...keys: string[]): Promise<unknown>;
  readPoolChecked(...keys: string[]): Promise<unknown>;
  readPools(count: number, ...keys: string[]): Promise<unknown>;
  digestPools(count: number, ...keys: string[]): Promise<unknown>;
  heartbeat(...args: (string | number)[]): Promise<unknown>;
  refreshObservation(...args: (string | number)[]): Promise<unknown>;
};

export class RedisAccess {
  readonly keys: RedisKeys;
  readonly description: string;
  /** The connection for commands and scripts (also the first transaction lane). */
  readonly conn: RedisConnection;
  /** Where the master is, for redis-sentinel:// (one per store: its connections share it). */
  readonly sentinels: SentinelWatch | undefined;
  /** Heartbeat age past which an instance stops voting (heartbeat() sets its own). */
  instanceTtlMs: number;
  private layoutChecked = false;
  private permissionsChecked = false;
  private permissionCheck: Promise<void> | undefined;
  private permissionReported = false;

  constructor(readonly loc: RedisLocation, readonly opts: RedisStoreOptions) {
    this.keys = new RedisKeys(opts.prefix);
    this.sentinels = loc.sentinels ? new SentinelWatch(loc, opts.log) : undefined;
    this.description = `${loc.description} (prefix ${opts.prefix})`;
    this.instanceTtlMs = opts.instanceTtlMs;
    this.conn = this.connect();
    // Every reconnect re-checks the layout version: the server behind the address may have changed.
    this.conn.onStatus((s) => {
      if (s !== 'ready') this.layoutChecked = this.permissionsChecked = false;
    });
  }

  connect(role: 'commands' | 'transactions' | 'subscriber' = 'commands'): RedisConnection {
    const conn = new RedisConnection(this.loc, this.opts.log, this.opts.connectWaitMs, role, this.sentinels);
    if (role === 'subscriber') return conn;
    const c = conn.client;
    c.defineCommand('readPool', { numberOfKeys: 4, lua: READ_POOL, readOnly: true });
    c.defineCommand('readPoolChecked', { numberOfKeys: 5, lua: READ_POOL_CHECKED, readOnly: true });
    // Key count varies per call, so it is passed first (numberOfKeys omitted).
    c.defineCommand('readPools', { lua: READ_POOLS, readOnly: true });
    c.defineCommand('digestPools', { lua: DIGEST_POOLS, readOnly: true });
    c.defineCommand('heartbeat', { numberOfKeys: 4, lua: HEARTBEAT });
    c.defineCommand('refreshObservation', { numberOfKeys: 3, lua: REFRESH_OBSERVATION });
    return conn;
  }

  get scripts(): Scripted {
    return this.conn.client as unknown as Scripted;
  }

  readonly report = (problem: string): void => {
    this.opts.log.warn({ code: 'TIERDNS_E_STORE_DATA', store: this.description }, `store: ${problem}`);
  };

  /** Every operation runs here; `write`: see runWrite. */
  async run<T>(f: () => Promise<T>, write = false): Promise<T> {
    try {
      await this.usable();
      if (write) await this.permitted();
      return await f();
    } catch (err) {
      throw this.conn.toStoreError(err);
    }
  }

  /** Every write starts here: the ACL user's permissions are checked once per connection first. */
  runWrite<T>(f: () => Promise<T>): Promise<T> {
    return this.run(f, true);
  }

  /** Connection up and layout understood; every operation starts here. */
  private async usable(): Promise<void> {
    await this.conn.ready();
    if (this.layoutChecked) return;
    const v = await this.conn.client.get(this.keys.version);
    if (v !== null && (!/^\d+$/.test(v) || Number(v) > LAYOUT_VERSION)) {
      throw new TierdnsError('TIERDNS_E_STORE_VERSION',
        `store ${this.description} has layout version '${v}'; this tierdns understands ${LAYOUT_VERSION}: upgrade tierdns`);
    }
    this.layoutChecked = true;
  }

  /**
   * The ACL check (./redisAcl) once per connection, before the first write: reads need no
   * write permission, so a read-only user can still run `tierdns status`. Logged at error
   * once per connection; every write fails with it until the user may.
   */
  private async permitted(): Promise<void> {
    if (this.permissionsChecked) return;
    this.permissionCheck ??= checkPermissions(this.conn.client, this.keys, this.loc.description, this.conn.serverMajor >= 7).then(
      () => { this.permissionsChecked = true; this.permissionReported = false; },
      (err: unknown) => {
        if (!this.permissionReported && err instanceof TierdnsError) {
          this.opts.log.error({ code: err.code, store: this.description }, `store: ${err.message}`);
        }
        this.permissionReported = true;
        throw err;
      },
    ).finally(() => { this.permissionCheck = undefined; });
    await this.permissionCheck;
  }
}
