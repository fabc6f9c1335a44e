import type { ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import { TierdnsError, errorMessage } from '../util/errors';
import { nextTurn } from '../util/turn';
import {
  DIGEST_POOLS, HEARTBEAT, LAYOUT_VERSION, NOTIFY, parseChangeCount, READ_POOL, READ_POOL_CHECKED, READ_POOLS, REFRESH_OBSERVATION, RedisKeys, decodePool, queuePoolMutation, validPoolNames,
  type DecodedPool,
} from './redisLayout';
import { RedisConnection, SOCKET_TIMEOUT_MS } from './redisConnection';
import { SentinelWatch, type MasterState } from './sentinelWatch';
import { checkPermissions } from './redisAcl';
import { ChangeCounts, subscribeChanges } from './redisWatch';
import { KeyedMutex, Mutex, checkZones, parseZoneList, retryPause } from './storeUtil';
import {
  canonicalIp, checkInstanceName, checkObservation, opRecompute, opRecordObservation, opRemoveMember, opRemovePool, opUpdateMember, opUpdatePool,
  type OpResult,
} from './ops';
import { opUpdateMembers } from './bulkOps';
import { syncPoolsOnce } from './redisBulk';
import { emptyMutation, isEmptyMutation, toPoolView, type PoolMutation, type PoolRecord } from './record';
import { parseZonePoolRules, type ZonePoolRules } from '../model/poolNameRules';
import type { Observation, PoolConfig, PoolView, Verdict } from '../model/types';
import type { InSync, MemberChange, MemberUpdate, Store, StoreChange, StoreSnapshot, StoreStatus } from './types';
import type { PoolPlan, PoolSpec } from '../model/poolPlan';
import type { RedisLocation } from './url';
import { checkIdentity, firstIdentity, parseIdentity, type IdentityClaim, type IdentityClaimResult, type StoreIdentity } from './identity';
import { claimIdentity } from './redisClaim';

// The shared store (docs/store.md). Reads of a pool are one Lua script (atomic); writes are
// WATCH + read + pure op (ops.ts) + MULTI/EXEC with the PUBLISH inside, retried on conflict.
// WATCH state belongs to the connection, so each connection runs its transactions one at a
// time; a process opens up to TX_LANES of them when transactions queue up.

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

type Scripted = {
  readPool(...keys: string[]): Promise<unknown>;
  readPoolChecked(...keys: string[]): Promise<unknown>;
  readPools(count: number, ...keys: string[]): Promise<unknown>;
  digestPools(count: number, ...keys: string[]): Promise<unknown>;
  heartbeat(...args: (string | number)[]): Promise<unknown>;
  refreshObservation(...args: (string | number)[]): Promise<unknown>;
};
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
/** Pools per READ_POOLS call: few commands for a full read, yet each script stays short. */
const POOLS_PER_SCRIPT = 100;
/**
 * Pools per DIGEST_POOLS call (a short digest each, from hashing the whole pool). A script
 * holds Redis for every other client, so each call is kept small (docs/bench-history.md).
 */
const DIGESTS_PER_SCRIPT = 50;
/** READ_POOLS scripts in flight at once during a full read (pipelined on one socket). */
const READ_BATCH = 20;
/**
 * A periodic resync reads everything at least every this many calls of inSync() (5 min at the
 * default 30 s), even when the change count has not moved: edits of config, members and
 * verdicts made behind tierdns's back (redis-cli), which do not count, are picked up that way
 * (the serving digest, SERVING_DIGEST in redisLayout.ts, tells which pools they touched).
 */
const FULL_READ_EVERY = 10;
/** How long inSync() waits for messages published before it read the change count. */
const HEAR_WAIT_MS = 1000;
/** How long a change waits for a replica's acknowledgement (WAIT), below the socket deadline. */
const REPLICA_WAIT_MS = Math.min(1000, SOCKET_TIMEOUT_MS - 300);
/** HKEYS in flight at once when looking for a stale instance's votes. */
const KEYS_BATCH = 500;

export class RedisStore implements Store {
  readonly description: string;
  /** A refresh is one small script (refreshObservation), cheap enough every 5 s per member. */
  readonly observationRefreshMs = 5000;
  private readonly keys: RedisKeys;
  private readonly conn: RedisConnection;
  private sub: RedisConnection | undefined;
  /** Connections for WATCH transactions (WATCH state is per connection), each one at a time. */
  private readonly lanes: TxLane[];
  /** The change count the last full read saw, for inSync(). */
  private lastCount: number | undefined;
  /** Change counts heard by watch(). */
  private readonly counts = new ChangeCounts();
  /** The serving digest of each view this store decoded (SERVING_DIGEST in redisLayout.ts). */
  private readonly digests = new WeakMap<PoolView, string>();
  private sinceFullRead = 0;
  private closed = false;
  /**
   * Transactions on one pool run one at a time in this process: they WATCH the same keys, so
   * running them on parallel lanes would only make them abort each other.
   */
  private readonly poolLocks = new KeyedMutex();
  private layoutChecked = false;
  private permissionsChecked = false;
  private permissionCheck: Promise<void> | undefined;
  private permissionReported = false;
  private instanceTtlMs: number;
  /** The identity the last full read or claim found (readPool checks it: see Store.readPool). */
  private identityId: string | undefined;
  /** watch() listeners, told 'all' when a heartbeat finds the identity gone. */
  private readonly changeListeners = new Set<(change: StoreChange) => void>();
  /** Where the master is, for redis-sentinel:// (one per store: its connections share it). */
  private readonly sentinels: SentinelWatch | undefined;

  constructor(private readonly loc: RedisLocation, private readonly opts: RedisStoreOptions) {
    this.keys = new RedisKeys(opts.prefix);
    this.sentinels = loc.sentinels ? new SentinelWatch(loc, opts.log) : undefined;
    this.description = `${loc.description} (prefix ${opts.prefix})`;
    this.instanceTtlMs = opts.instanceTtlMs;
    this.conn = this.connect();
    this.lanes = [{ conn: this.conn, lock: new Mutex(), waiting: 0 }];
    // Every reconnect re-checks the layout version: the server behind the address may have changed.
    this.conn.onStatus((s) => {
      if (s !== 'ready') this.layoutChecked = this.permissionsChecked = false;
    });
  }

  private connect(role: 'commands' | 'transactions' = 'commands'): RedisConnection {
    const conn = new RedisConnection(this.loc, this.opts.log, this.opts.connectWaitMs, role, this.sentinels);
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
      const lane = { conn: this.connect('transactions'), lock: new Mutex(), waiting: 0 };
      this.lanes.push(lane);
      return lane;
    }
    return best;
  }

  private get scripts(): Scripted {
    return this.conn.client as unknown as Scripted;
  }

  private report = (problem: string): void => {
    this.opts.log.warn({ code: 'TIERDNS_E_STORE_DATA', store: this.description }, `store: ${problem}`);
  };

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

  private async run<T>(f: () => Promise<T>, write = false): Promise<T> {
    try {
      await this.usable();
      if (write) await this.permitted();
      return await f();
    } catch (err) {
      throw this.conn.toStoreError(err);
    }
  }

  /** Every write starts here: the ACL user's permissions are checked once per connection first. */
  private runWrite<T>(f: () => Promise<T>): Promise<T> {
    return this.run(f, true);
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

  async readPool(name: string): Promise<PoolView | undefined> {
    return this.run(async () => {
      const [reply, identity] = await this.scripts.readPoolChecked(...this.keys.pool(name), this.keys.identity) as [unknown, unknown];
      checkIdentity(this.identityId, this.identityOf(identity), this.description);
      return this.viewOf(name, reply);
    });
  }

  /** A stored identity (GET reply); a malformed one is reported and read as none. */
  private identityOf(raw: unknown): StoreIdentity | undefined {
    if (raw === null || raw === undefined) return undefined;
    try {
      return parseIdentity(String(raw));
    } catch (err) {
      this.report(`${this.keys.identity}: ${errorMessage(err)}`);
      return undefined;
    }
  }

  /** Decode one pool's reply into a view that a later full read may keep (see snapshot). */
  private viewOf(name: string, reply: unknown): PoolView | undefined {
    const { record, digest } = decodePool(name, reply, this.report);
    if (!record) return undefined;
    const view = toPoolView(record);
    if (digest !== undefined) this.digests.set(view, digest);
    return view;
  }

  async snapshot(previous?: ReadonlyMap<string, PoolView>): Promise<StoreSnapshot> {
    return this.run(async () => {
      const c = this.conn.client;
      // Before the pool list and the pools: a change made during the read moves the count past
      // it, so the next resync reads again rather than trusting a read that may have missed it.
      const [count, idBefore] = await Promise.all([c.get(this.keys.changeCount), c.get(this.keys.identity)]);
      const names = validPoolNames(await c.smembers(this.keys.pools), this.report).sort();
      const pools = new Map<string, PoolView>();
      // With the caller's views: Redis digests every pool (40 bytes each) and only the pools
      // whose digest differs are read. Reading and decoding every pool again filled the young
      // generation with survivors, whose scavenges paused the serving thread.
      let toRead = names;
      if (previous && previous.size > 0) {
        toRead = [];
        for (let i = 0; i < names.length; i += DIGESTS_PER_SCRIPT) {
          const group = names.slice(i, i + DIGESTS_PER_SCRIPT);
          const digests = await this.scripts.digestPools(group.length * 4, ...group.flatMap((n) => this.keys.pool(n)));
          group.forEach((name, k) => {
            const prev = previous.get(name);
            const digest: unknown = Array.isArray(digests) ? digests[k] : undefined;
            if (prev !== undefined && typeof digest === 'string' && this.digests.get(prev) === digest) pools.set(name, prev);
            else toRead.push(name);
          });
        }
      }
      const groups: string[][] = [];
      for (let i = 0; i < toRead.length; i += POOLS_PER_SCRIPT) groups.push(toRead.slice(i, i + POOLS_PER_SCRIPT));
      // A bounded number of scripts in flight: pipelined on the socket, memory stays bounded.
      // The next batch is sent before this one is decoded, so Redis works while we decode.
      const send = (i: number) => Promise.all(groups.slice(i, i + READ_BATCH)
        .map((g) => this.scripts.readPools(g.length * 4, ...g.flatMap((n) => this.keys.pool(n)))));
      let pending = groups.length > 0 ? send(0) : undefined;
      for (let i = 0; pending; i += READ_BATCH) {
        const batch = groups.slice(i, i + READ_BATCH);
        const replies = await pending;
        pending = i + READ_BATCH < groups.length ? send(i + READ_BATCH) : undefined;
        // One script's pools (POOLS_PER_SCRIPT) per turn of the event loop: decoding every
        // pool at once would block answers at every periodic resync.
        for (let j = 0; j < batch.length; j++) {
          const group = batch[j] as string[];
          const reply = replies[j];
          group.forEach((name, k) => {
            const view = this.viewOf(name, Array.isArray(reply) ? reply[k] : undefined);
            if (view) pools.set(name, view);
          });
          await nextTurn();
        }
      }
      const [{ zones, instances }, idAfter] = await Promise.all([this.readZonesAndInstances(), c.get(this.keys.identity)]);
      // The pools of a read that a loss (or a re-seed) cut in two belong to no one store.
      if (idAfter !== idBefore) throw new TierdnsError('TIERDNS_E_STORE_LOST', `store ${this.description} changed its identity during a full read`);
      this.lastCount = countValue(count);
      this.sinceFullRead = 0;
      const snap: StoreSnapshot = { pools, zones, instances };
      const identity = this.identityOf(idAfter);
      if (identity) {
        snap.identity = identity;
        this.identityId = identity.id;
      }
      return snap;
    });
  }

  /**
   * In sync when no counted pool change since the last full read went unheard on the channel
   * (every write that publishes one counts it). Small reads instead of every pool: a full read
   * costs the serving thread garbage-collector pauses and Redis seconds of Lua per hour. The
   * zones and live instances, read here anyway, come back
   * with it: a new instance or zone is no reason to read every pool.
   */
  async inSync(): Promise<InSync | false> {
    const last = this.lastCount;
    if (last === undefined || ++this.sinceFullRead >= FULL_READ_EVERY) return false;
    return this.run(async () => {
      const c = this.conn.client;
      const [count, parts, identity] = await Promise.all([c.get(this.keys.changeCount), this.readZonesAndInstances(), c.get(this.keys.identity)]);
      // A store that lost (or changed) its identity is read in full: StoreSync decides what it means.
      if (this.identityOf(identity)?.id !== this.identityId) return false;
      // While members flap the count moves between any two checks: fine when each change was heard.
      const now = countValue(count);
      if (now < 0 || last < 0) return false;
      const heard = now === last || (this.sub !== undefined && (await this.counts.heardAll(last, now, HEAR_WAIT_MS)));
      return heard ? parts : false;
    });
  }

  /** The zones serving instances publish, and the live instances. */
  private async readZonesAndInstances(): Promise<Pick<StoreSnapshot, 'zones' | 'instances'>> {
    const c = this.conn.client;
    const cutoff = this.opts.nowMs() - this.instanceTtlMs;
    const [zoneEntries, scored] = await Promise.all([c.hgetall(this.keys.zones), c.zrangebyscore(this.keys.instances, cutoff, '+inf', 'WITHSCORES')]);
    const instances = new Map<string, number>();
    for (let i = 0; i + 1 < scored.length; i += 2) instances.set(scored[i] as string, Number(scored[i + 1]));
    const zones = new Set<string>();
    for (const [inst, json] of Object.entries(zoneEntries)) for (const z of parseZoneList(json, inst, this.report)) zones.add(z);
    return { zones: [...zones].sort(), instances };
  }

  /** Zones published by serving instances (for the CLI's name check without a zones dir). */
  async readZones(): Promise<string[]> {
    return this.run(async () => (await this.readZonesAndInstances()).zones);
  }

  /**
   * Read-compute-write one pool under WATCH; `op` sees the record and the live instances
   * (heartbeat at or after `cutoffMs`). Retries when another writer got there first.
   */
  private async transact<T>(
    pool: string, op: (rec: PoolRecord | undefined, live: Set<string>, decoded: DecodedPool) => OpResult<T>, cutoffMs?: number,
    operator = false,
  ): Promise<T> {
    return this.poolLocks.run(pool, () => this.transactAttempts(pool, op, cutoffMs, operator && this.opts.confirmOnReplica === true));
  }

  private async transactAttempts<T>(
    pool: string, op: (rec: PoolRecord | undefined, live: Set<string>, decoded: DecodedPool) => OpResult<T>, cutoffMs: number | undefined,
    confirm: boolean,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.runWrite(async () => undefined);
      const before = confirm ? await this.noFailoverUnderway() : undefined;
      const lane = this.lane();
      lane.waiting++;
      const outcome = await lane.lock.run(() => this.run(async () => {
        await lane.conn.ready();
        const c = lane.conn.client;
        const keys = this.keys.pool(pool);
        let reply: unknown;
        let liveNames: string[];
        try {
          [, reply, liveNames] = await Promise.all([
            c.watch(...keys),
            (c as unknown as Scripted).readPool(...keys),
            cutoffMs === undefined ? Promise.resolve([] as string[]) : c.zrangebyscore(this.keys.instances, cutoffMs, '+inf'),
          ]);
        } catch (err) {
          // A WATCH left behind would abort the next transaction on this connection.
          await c.unwatch().catch(() => undefined);
          throw err;
        }
        let res: OpResult<T>;
        let decoded: DecodedPool;
        try {
          decoded = decodePool(pool, reply, this.report);
          res = op(decoded.record, new Set(liveNames), decoded);
        } catch (err) {
          await c.unwatch();
          throw err;
        }
        if (isEmptyMutation(res.mutation)) {
          await c.unwatch();
          return { committed: true, result: res.result };
        }
        const tx = c.multi();
        this.queueMutation(tx, pool, res.mutation, decoded.observationFields);
        const replies = await tx.exec();
        if (replies === null) return { committed: false, result: undefined };
        const failed = replies.find(([err]) => err);
        if (failed) throw failed[0];
        if (confirm) await this.confirmOnReplica(lane.conn, before);
        return { committed: true, result: res.result };
      })).finally(() => { lane.waiting--; });
      if (outcome.committed) return outcome.result as T;
      if (attempt >= MAX_ATTEMPTS) throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', `pool ${pool}: gave up after ${attempt} conflicting writes`);
      await retryPause(attempt);
    }
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
    const sentinelSees = before?.replicasInSync ?? 0;
    const expected = Math.max(conn.replicasConnected, sentinelSees);
    if (expected > 0) {
      const want = Math.max(1, sentinelSees);
      const acked = Number(await conn.client.wait(want, REPLICA_WAIT_MS));
      if (acked < want) {
        throw unconfirmed(this.loc.description, `${acked} of ${want} replica${want === 1 ? '' : 's'} confirmed it within ${REPLICA_WAIT_MS} ms`);
      }
    }
    if (!this.sentinels || !before) return;
    this.sentinels.invalidate();
    const after = await this.sentinels.master();
    const moved = !after || after.failingOver || after.epoch !== before.epoch ||
      `${after.host}:${after.port}` !== `${before.host}:${before.port}` || conn.serverAddress !== `${before.host}:${before.port}`;
    if (moved) throw unconfirmed(this.loc.description, 'a Sentinel failover began while it was written');
  }

  /**
   * A change the CLI is about to make waits out a Sentinel failover in progress (up to the
   * connect wait) and then goes to the new master: written to the master being replaced, after
   * its replica was promoted, it would be lost. Still under way at the end: refused, nothing
   * changed. (Servers' writes do not wait: an observation lost that way is written again.)
   */
  private async noFailoverUnderway(): Promise<MasterState | undefined> {
    if (!this.sentinels) return undefined;
    const deadline = Date.now() + this.opts.connectWaitMs;
    let waited = false;
    for (;;) {
      const state = await this.sentinels.master();
      if (!state || !state.failingOver) {
        if (waited && state) for (const l of this.lanes) l.conn.follow(state);
        return state;
      }
      if (Date.now() >= deadline) {
        throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE',
          `redis at ${this.loc.description}: a Sentinel failover of the master is still in progress; nothing was changed: try again in a few seconds`);
      }
      waited = true;
      await new Promise((r) => setTimeout(r, 100));
      this.sentinels.invalidate();
    }
  }

  private queueMutation(tx: ChainableCommander, pool: string, m: PoolMutation, observationFields: string[]): void {
    const k = this.keys;
    // Checked when queued, unlike the PUBLISH inside NOTIFY's script: a user who may not
    // publish gets the whole transaction refused instead of a change applied and not announced.
    // (SPUBLISH reaches no one: tierdns subscribes with SUBSCRIBE.)
    if (m.notify && this.conn.serverMajor >= 7) tx.spublish(k.channel, '');
    queuePoolMutation(tx, k, pool, m, observationFields);
    tx.set(k.version, String(LAYOUT_VERSION), 'NX');
    tx.set(k.identity, JSON.stringify(firstIdentity(this.opts.nowMs())), 'NX');
    // Last inside the transaction: a subscriber re-reading on this message sees the whole change.
    // The count lets a periodic resync tell that no message could have been missed (inSync).
    // EVAL, not a defined command's EVALSHA: inside MULTI a NOSCRIPT (a restarted Redis) would
    // fail the whole transaction, and Redis caches the compiled script by its text anyway.
    if (m.notify) tx.eval(NOTIFY, 1, k.changeCount, k.channel, pool);
  }

  async setPool(config: PoolConfig): Promise<void> {
    await this.transact(config.name, (rec) => opUpdatePool(rec, config.name, () => config, this.opts.nowMs()), undefined, true);
  }

  /** Read-modify-write of one pool's config in one transaction (`pool set` changes only the flags given). */
  async updatePool(name: string, update: (current: PoolConfig | undefined) => PoolConfig): Promise<PoolConfig> {
    return this.transact(name, (rec) => opUpdatePool(rec, name, update, this.opts.nowMs()), undefined, true);
  }

  async removePool(name: string): Promise<boolean> {
    return this.transact(name, (rec, _live, decoded) => {
      // A pool whose config is unreadable still has keys worth removing.
      if (!rec && decoded.present) return { mutation: { ...emptyMutation(), removePool: true, notify: true }, result: true };
      return opRemovePool(rec);
    }, undefined, true);
  }

  async updateMember(pool: string, ip: string, change: MemberChange): Promise<MemberUpdate> {
    return this.transact(pool, (rec) => opUpdateMember(rec, pool, ip, change, this.opts.nowMs()), undefined, true);
  }

  async updateMembers(pool: string, changes: Array<[ip: string, change: MemberChange]>): Promise<MemberUpdate[]> {
    return this.transact(pool, (rec) => opUpdateMembers(rec, pool, changes, this.opts.nowMs()), undefined, true);
  }

  /** Every pool in one MULTI/EXEC (redisBulk.ts), retried when another writer got there first. */
  async syncPools(pools: PoolSpec[], remove: string[]): Promise<PoolPlan[]> {
    const ctx = { keys: this.keys, report: this.report, nowMs: this.opts.nowMs(), queue: this.queueMutation.bind(this) };
    for (let attempt = 1; ; attempt++) {
      await this.runWrite(async () => undefined);
      const before = this.opts.confirmOnReplica ? await this.noFailoverUnderway() : undefined;
      const lane = this.lane();
      lane.waiting++;
      const plans = await lane.lock.run(() => this.run(async () => {
        await lane.conn.ready();
        const done = await syncPoolsOnce(lane.conn.client, pools, remove, ctx);
        // (After no write, WAIT returns at once: this connection has nothing a replica lacks.)
        if (done && this.opts.confirmOnReplica) await this.confirmOnReplica(lane.conn, before);
        return done;
      })).finally(() => { lane.waiting--; });
      if (plans) return plans;
      if (attempt >= MAX_ATTEMPTS) throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', `gave up after ${attempt} conflicting writes`);
      await retryPause(attempt);
    }
  }

  async removeMember(pool: string, ip: string): Promise<boolean> {
    return this.transact(pool, (rec) => opRemoveMember(rec, pool, ip), undefined, true);
  }

  async recordObservation(pool: string, ip: string, obs: Observation): Promise<Verdict> {
    const now = this.opts.nowMs();
    return this.transact(pool, (rec, live) => opRecordObservation(rec, pool, ip, obs, live, now), now - this.instanceTtlMs);
  }

  async refreshObservation(pool: string, ip: string, input: Observation): Promise<boolean> {
    const key = canonicalIp(ip);
    const obs = checkObservation(input);
    // A script, not a transaction: it needs no WATCH, so it takes no transaction lane and pipelines freely.
    const reply = await this.runWrite(() => this.scripts.refreshObservation(
      this.keys.config(pool), this.keys.members(pool), this.keys.observations(pool), key, `${key}|${obs.instance}`, obs.state, obs.sinceMs, JSON.stringify(obs)));
    if (reply === -2) throw new TierdnsError('TIERDNS_E_NO_POOL', `no pool ${pool}`);
    if (reply === -1) throw new TierdnsError('TIERDNS_E_NO_MEMBER', `pool ${pool} has no member ${key}`);
    return reply === 1;
  }

  async heartbeat(instance: string, ttlMs: number, nowMs: number): Promise<void> {
    checkInstanceName(instance);
    this.instanceTtlMs = ttlMs;
    const cutoff = nowMs - ttlMs;
    const reply = await this.runWrite(() => this.scripts.heartbeat(
      this.keys.instances, this.keys.zones, this.keys.version, this.keys.identity, instance, nowMs, cutoff, LAYOUT_VERSION));
    const [revived, stale, identity] = reply as [number, string[], string | null];
    // The identity went or changed (a FLUSHALL, a restart without data, a re-seed): a full read
    // tells StoreSync at once.
    if (this.identityId !== undefined && this.identityOf(identity)?.id !== this.identityId) {
      for (const l of this.changeListeners) l({ kind: 'all' });
    }
    const drop = new Set(stale);
    if (drop.size === 0 && !revived) return;
    // Rare (an instance died or came back): find the pools holding its votes and recompute them.
    const touched = new Set([...drop, ...(revived ? [instance] : [])]);
    for (const pool of await this.poolsObservedBy(touched)) {
      await this.transact(pool, (rec, live) => opRecompute(rec, live, drop, nowMs), cutoff);
    }
  }

  private async poolsObservedBy(instances: ReadonlySet<string>): Promise<string[]> {
    return this.run(async () => {
      const c = this.conn.client;
      const names = validPoolNames(await c.smembers(this.keys.pools), this.report);
      const out: string[] = [];
      for (let i = 0; i < names.length; i += KEYS_BATCH) {
        const batch = names.slice(i, i + KEYS_BATCH);
        const fieldLists = await Promise.all(batch.map((n) => c.hkeys(this.keys.observations(n))));
        fieldLists.forEach((fields, j) => {
          if (fields.some((f) => instances.has(f.slice(f.indexOf('|') + 1)))) out.push(batch[j] as string);
        });
      }
      return out;
    });
  }

  async publishZones(instance: string, zones: string[], rules: readonly ZonePoolRules[] = []): Promise<void> {
    checkInstanceName(instance);
    const list = checkZones(zones);
    await this.runWrite(async () => {
      const tx = this.conn.client.multi().hset(this.keys.zones, instance, JSON.stringify(list));
      for (const r of rules) tx.hset(this.keys.zoneRules, r.origin, JSON.stringify(r));
      const replies = await tx.exec();
      const failed = replies?.find(([err]) => err);
      if (failed) throw failed[0];
    });
  }

  async readZoneRules(): Promise<ZonePoolRules[]> {
    return this.run(async () => {
      const { zones } = await this.readZonesAndInstances();
      if (zones.length === 0) return [];
      const raw = await this.conn.client.hmget(this.keys.zoneRules, ...zones);
      return raw.flatMap((json, i) => {
        if (json === null) return [];
        let parsed: unknown;
        try {
          parsed = JSON.parse(json) as unknown;
        } catch {
          parsed = undefined;
        }
        const rules = parseZonePoolRules(parsed);
        if (!rules || rules.origin !== zones[i]) this.report(`zone rules of ${zones[i]}: malformed; skipped`);
        return rules && rules.origin === zones[i] ? [rules] : [];
      });
    });
  }

  async watch(onChange: (change: StoreChange) => void): Promise<() => void> {
    this.sub ??= new RedisConnection(this.loc, this.opts.log, this.opts.connectWaitMs, 'subscriber', this.sentinels);
    const unsubscribe = await subscribeChanges(this.sub, this.keys.channel, onChange, this.opts.connectWaitMs, this.opts.log, this.counts);
    this.changeListeners.add(onChange);
    return () => {
      this.changeListeners.delete(onChange);
      unsubscribe();
    };
  }

  async claimIdentity(claim: IdentityClaim): Promise<IdentityClaimResult> {
    const result = await this.runWrite(async () => {
      const lane = this.lane();
      lane.waiting++;
      try {
        return await lane.lock.run(() => claimIdentity(lane.conn, this.keys, claim, this.report));
      } finally {
        lane.waiting--;
      }
    });
    this.identityId = result.identity.id;
    return result;
  }

  onStatus(listener: (status: StoreStatus, detail?: string) => void): void {
    this.conn.onStatus(listener);
  }

  get status(): StoreStatus {
    return this.conn.currentStatus;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.lanes.map((l) => l.conn.close()), this.sub?.close()]);
    this.sentinels?.close();
  }
}

/** The change count as read (absent: 0; not a count: -1, which inSync() never takes as in sync). */
function countValue(raw: string | null): number {
  return raw === null ? 0 : parseChangeCount(raw) ?? -1;
}

/** A change written to the master but not known to survive a failover. */
function unconfirmed(where: string, why: string): TierdnsError {
  return new TierdnsError('TIERDNS_E_STORE_UNCONFIRMED',
    `redis at ${where}: the change reached the master but ${why}; a failover could lose it: ` +
    'check with `tierdns status` and repeat the command if it is missing');
}
