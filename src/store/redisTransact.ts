import type { ChainableCommander } from 'ioredis';
import { TierdnsError } from '../util/errors';
import { LAYOUT_VERSION, NOTIFY, decodePool, execTransaction, queuePoolMutation, type DecodedPool } from './redisLayout';
import { SOCKET_TIMEOUT_MS, type RedisConnection } from './redisConnection';
import type { MasterState } from './sentinelWatch';
import type { RedisAccess, Scripted } from './redisAccess';
import { KeyedMutex, Mutex, retryPause } from './storeUtil';
import type { OpResult } from './ops';
import { syncPoolsOnce } from './redisBulk';
import { firstIdentity } from './identity';
import { isEmptyMutation, type PoolMutation, type PoolRecord } from './record';
import type { PoolPlan, PoolSpec } from '../model/poolPlan';

// The Redis store's write path: WATCH + read + pure op (ops.ts) + MULTI/EXEC with the PUBLISH
// inside, retried on conflict (transact, and syncPools through redisBulk.ts). WATCH state
// belongs to the connection, so each connection (a lane) runs its transactions one at a time;
// a process opens up to TX_LANES of them when transactions queue up. A change the CLI makes
// behind Sentinel waits out a failover first (noFailoverUnderway) and is confirmed on the
// replicas after (confirmOnReplica).

/** What a write does to one pool: sees its record, the live instances and the raw decode. */
export type PoolOp<T> = (rec: PoolRecord | undefined, live: Set<string>, decoded: DecodedPool) => OpResult<T>;

/** One connection for WATCH transactions; `waiting` counts transactions queued or running on it. */
interface TxLane {
  conn: RedisConnection;
  lock: Mutex;
  waiting: number;
}

/** Transactions in flight at once per process (each on its own connection). */
const TX_LANES = 4;
/** Conflicting writers retry; this many lost races in a row means something is wrong. */
const MAX_ATTEMPTS = 50;
/** How long a change waits for a replica's acknowledgement (WAIT), below the socket deadline. */
const REPLICA_WAIT_MS = Math.min(1000, SOCKET_TIMEOUT_MS - 300);

export class RedisTransactions {
  /** Connections for WATCH transactions (WATCH state is per connection), each one at a time. */
  private readonly lanes: TxLane[];
  /**
   * Transactions on one pool run one at a time in this process: they WATCH the same keys, so
   * running them on parallel lanes would only make them abort each other.
   */
  private readonly poolLocks = new KeyedMutex();
  private closed = false;

  constructor(private readonly a: RedisAccess) {
    this.lanes = [{ conn: a.conn, lock: new Mutex(), waiting: 0 }];
  }

  /**
   * Read-compute-write one pool under WATCH; `op` sees the record and the live instances
   * (heartbeat at or after `cutoffMs`). Retries when another writer got there first.
   * `operator`: a change of pools or members, confirmed on a replica when the store asks for it.
   */
  transact<T>(pool: string, op: PoolOp<T>, cutoffMs?: number, operator = false): Promise<T> {
    const confirm = operator && this.a.opts.confirmOnReplica === true;
    return this.poolLocks.run(pool, () => this.attempts(`pool ${pool}: `, confirm, (conn, before) => this.transactOnce(conn, pool, op, cutoffMs, confirm, before)));
  }

  /** Every pool in one MULTI/EXEC (redisBulk.ts), retried when another writer got there first. */
  syncPools(pools: PoolSpec[], remove: string[]): Promise<PoolPlan[]> {
    const a = this.a;
    const confirm = a.opts.confirmOnReplica === true;
    const ctx = { keys: a.keys, report: a.report, nowMs: a.opts.nowMs(), queue: this.queueMutation.bind(this) };
    return this.attempts('', confirm, async (conn, before) => {
      const done = await syncPoolsOnce(conn.client, pools, remove, ctx);
      // (After no write, WAIT returns at once: this connection has nothing a replica lacks.)
      if (done && confirm) await this.confirmOnReplica(conn, before);
      return done && { value: done };
    });
  }

  /** `f` on a transaction lane of its own (an identity claim holds its WATCH state throughout). */
  onLane<T>(f: (conn: RedisConnection) => Promise<T>): Promise<T> {
    const lane = this.lane();
    lane.waiting++;
    return lane.lock.run(() => f(lane.conn)).finally(() => { lane.waiting--; });
  }

  /** Stop opening lanes and close them all (the first is the commands connection). */
  close(): Promise<unknown> {
    this.closed = true;
    return Promise.all(this.lanes.map((l) => l.conn.close()));
  }

  /** `once` until it commits (a value) or loses MAX_ATTEMPTS races in a row (undefined each). */
  private async attempts<T>(
    what: string, confirm: boolean, once: (conn: RedisConnection, before: MasterState | undefined) => Promise<{ value: T } | undefined>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.a.runWrite(async () => undefined);
      const before = confirm ? await this.noFailoverUnderway() : undefined;
      const outcome = await this.onLane((conn) => this.a.run(async () => {
        await conn.ready();
        return once(conn, before);
      }));
      if (outcome) return outcome.value;
      if (attempt >= MAX_ATTEMPTS) throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', `${what}gave up after ${attempt} conflicting writes`);
      await retryPause(attempt);
    }
  }

  /** One attempt of transact(); undefined when another writer changed a watched key first. */
  private async transactOnce<T>(
    conn: RedisConnection, pool: string, op: PoolOp<T>, cutoffMs: number | undefined, confirm: boolean, before: MasterState | undefined,
  ): Promise<{ value: T } | undefined> {
    const c = conn.client;
    const keys = this.a.keys.pool(pool);
    let reply: unknown;
    let liveNames: string[];
    try {
      [, reply, liveNames] = await Promise.all([
        c.watch(...keys),
        (c as unknown as Scripted).readPool(...keys),
        cutoffMs === undefined ? Promise.resolve([] as string[]) : c.zrangebyscore(this.a.keys.instances, cutoffMs, '+inf'),
      ]);
    } catch (err) {
      // A WATCH left behind would abort the next transaction on this connection.
      await c.unwatch().catch(() => undefined);
      throw err;
    }
    let res: OpResult<T>;
    let decoded: DecodedPool;
    try {
      decoded = decodePool(pool, reply, this.a.report);
      res = op(decoded.record, new Set(liveNames), decoded);
    } catch (err) {
      await c.unwatch();
      throw err;
    }
    if (isEmptyMutation(res.mutation)) {
      await c.unwatch();
      return { value: res.result };
    }
    const tx = c.multi();
    this.queueMutation(tx, pool, res.mutation, decoded.observationFields);
    if (!(await execTransaction(tx))) return undefined;
    if (confirm) await this.confirmOnReplica(conn, before);
    return { value: res.result };
  }

  private queueMutation(tx: ChainableCommander, pool: string, m: PoolMutation, observationFields: string[]): void {
    const k = this.a.keys;
    // Checked when queued, unlike the PUBLISH inside NOTIFY's script: a user who may not
    // publish gets the whole transaction refused instead of a change applied and not announced.
    // (SPUBLISH reaches no one: tierdns subscribes with SUBSCRIBE.)
    if (m.notify && this.a.conn.serverMajor >= 7) tx.spublish(k.channel, '');
    queuePoolMutation(tx, k, pool, m, observationFields);
    tx.set(k.version, String(LAYOUT_VERSION), 'NX');
    tx.set(k.identity, JSON.stringify(firstIdentity(this.a.opts.nowMs())), 'NX');
    // Last inside the transaction: a subscriber re-reading on this message sees the whole change.
    // The count lets a periodic resync tell that no message could have been missed (inSync).
    // EVAL, not a defined command's EVALSHA: inside MULTI a NOSCRIPT (a restarted Redis) would
    // fail the whole transaction, and Redis caches the compiled script by its text anyway.
    if (m.notify) tx.eval(NOTIFY, 1, k.changeCount, k.channel, pool);
  }

  /**
   * A connection for one transaction: an idle one, else a new one up to TX_LANES, else the
   * least loaded. A CLI command never needs more than the first; a server recording many
   * state changes at once (a mass failure) gets up to TX_LANES transactions in flight.
   */
  private lane(): TxLane {
    let best = this.lanes[0] as TxLane;
    for (const l of this.lanes) {
      if (l.waiting === 0) return l;
      if (l.waiting < best.waiting) best = l;
    }
    if (this.lanes.length < TX_LANES && !this.closed) {
      const lane = { conn: this.a.connect('transactions'), lock: new Mutex(), waiting: 0 };
      this.lanes.push(lane);
      return lane;
    }
    return best;
  }

  /**
   * A change about to be reported as done must survive a failover (docs/store.md "Writes and
   * failover"): after one, only what the promoted replica had is kept. So, when the store has
   * replicas, every replica Sentinel counts in sync (at least one) must acknowledge it (WAIT),
   * since Sentinel may promote any of them; and behind Sentinel the master must still be the
   * one `before` named, in the same epoch, with no failover begun: a failover that started
   * between the check before the write and this one could promote a replica that lacks it.
   * Either missing: TIERDNS_E_STORE_UNCONFIRMED (the change may or may not have survived).
   */
  private async confirmOnReplica(conn: RedisConnection, before: MasterState | undefined): Promise<void> {
    const where = this.a.loc.description;
    const sentinelSees = before?.replicasInSync ?? 0;
    const expected = Math.max(conn.replicasConnected, sentinelSees);
    if (expected > 0) {
      const want = Math.max(1, sentinelSees);
      const acked = Number(await conn.client.wait(want, REPLICA_WAIT_MS));
      if (acked < want) {
        throw unconfirmed(where, `${acked} of ${want} replica${want === 1 ? '' : 's'} confirmed it within ${REPLICA_WAIT_MS} ms`);
      }
    }
    const sentinels = this.a.sentinels;
    if (!sentinels || !before) return;
    sentinels.invalidate();
    const after = await sentinels.master();
    const moved = !after || after.failingOver || after.epoch !== before.epoch ||
      `${after.host}:${after.port}` !== `${before.host}:${before.port}` || conn.serverAddress !== `${before.host}:${before.port}`;
    if (moved) throw unconfirmed(where, 'a Sentinel failover began while it was written');
  }

  /**
   * A change the CLI is about to make waits out a Sentinel failover in progress (up to the
   * connect wait) and then goes to the new master: written to the master being replaced, after
   * its replica was promoted, it would be lost. Still under way at the end: refused, nothing
   * changed. (Servers' writes do not wait: an observation lost that way is written again.)
   */
  private async noFailoverUnderway(): Promise<MasterState | undefined> {
    const sentinels = this.a.sentinels;
    if (!sentinels) return undefined;
    const deadline = Date.now() + this.a.opts.connectWaitMs;
    let waited = false;
    for (;;) {
      const state = await sentinels.master();
      if (!state || !state.failingOver) {
        if (waited && state) for (const l of this.lanes) l.conn.follow(state);
        return state;
      }
      if (Date.now() >= deadline) {
        throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE',
          `redis at ${this.a.loc.description}: a Sentinel failover of the master is still in progress; nothing was changed: try again in a few seconds`);
      }
      waited = true;
      await new Promise((r) => setTimeout(r, 100));
      sentinels.invalidate();
    }
  }
}

/** A change written to the master but not known to survive a failover. */
function unconfirmed(where: string, why: string): TierdnsError {
  return new TierdnsError('TIERDNS_E_STORE_UNCONFIRMED',
    `redis at ${where}: the change reached the master but ${why}; a failover could lose it: ` +
    'check with `tierdns status` and repeat the command if it is missing');
}
