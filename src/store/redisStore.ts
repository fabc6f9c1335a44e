import { TierdnsError } from '../util/errors';
import { ChangeCounts, subscribeChanges } from './redisWatch';
import { execTransaction } from './redisLayout';
import type { RedisConnection } from './redisConnection';
import { RedisAccess, type RedisStoreOptions } from './redisAccess';
import { RedisReads } from './redisRead';
import { RedisTransactions } from './redisTransact';
import { heartbeat, recordObservation, refreshObservation } from './redisObservations';
import { claimIdentity } from './redisClaim';
import { checkInstanceName, opRemoveMember, opRemovePool, opUpdateMember, opUpdatePool } from './ops';
import { opUpdateMembers } from './bulkOps';
import { emptyMutation } from './record';
import { checkZones } from './storeUtil';
import type { ZonePoolRules } from '../model/poolNameRules';
import type { Observation, PoolConfig, PoolView, Verdict } from '../model/types';
import type { InSync, MemberChange, MemberUpdate, Store, StoreChange, StoreSnapshot, StoreStatus } from './types';
import type { PoolPlan, PoolSpec } from '../model/poolPlan';
import type { RedisLocation } from './url';
import type { IdentityClaim, IdentityClaimResult } from './identity';

export type { RedisStoreOptions } from './redisAccess';

// The shared store (docs/store.md): the Store interface on Redis. Reads of a pool are one Lua
// script (atomic: redisRead.ts); writes are WATCH + read + pure op (ops.ts) + MULTI/EXEC with
// the PUBLISH inside, retried on conflict (redisTransact.ts); observations and heartbeats are
// in redisObservations.ts, identity claims in redisClaim.ts, the key layout and scripts in
// redisLayout.ts. Every operation runs through RedisAccess (redisAccess.ts).

export class RedisStore implements Store {
  readonly description: string;
  /** A refresh is one small script (refreshObservation), cheap enough every 5 s per member. */
  readonly observationRefreshMs = 5000;
  private readonly a: RedisAccess;
  private readonly reads: RedisReads;
  private readonly writes: RedisTransactions;
  private sub: RedisConnection | undefined;
  private closed = false;
  /** Change counts heard by watch(). */
  private readonly counts = new ChangeCounts();
  /** watch() listeners, told 'all' when a heartbeat finds the identity gone. */
  private readonly changeListeners = new Set<(change: StoreChange) => void>();

  constructor(loc: RedisLocation, opts: RedisStoreOptions) {
    this.a = new RedisAccess(loc, opts);
    this.description = this.a.description;
    this.reads = new RedisReads(this.a);
    this.writes = new RedisTransactions(this.a);
  }

  readPool(name: string): Promise<PoolView | undefined> {
    return this.reads.readPool(name);
  }

  snapshot(previous?: ReadonlyMap<string, PoolView>): Promise<StoreSnapshot> {
    return this.reads.snapshot(previous);
  }

  inSync(): Promise<InSync | false> {
    return this.reads.inSync(this.sub !== undefined ? this.counts : undefined);
  }

  readZones(): Promise<string[]> {
    return this.reads.readZones();
  }

  readInstances(): Promise<Map<string, number>> {
    return this.reads.readInstances();
  }

  readZoneRules(): Promise<ZonePoolRules[]> {
    return this.reads.readZoneRules();
  }

  async setPool(config: PoolConfig): Promise<void> {
    await this.writes.transact(config.name, (rec) => opUpdatePool(rec, config.name, () => config, this.a.opts.nowMs()), undefined, true);
  }

  /** Read-modify-write of one pool's config in one transaction (`pool set` changes only the flags given). */
  updatePool(name: string, update: (current: PoolConfig | undefined) => PoolConfig): Promise<PoolConfig> {
    return this.writes.transact(name, (rec) => opUpdatePool(rec, name, update, this.a.opts.nowMs()), undefined, true);
  }

  removePool(name: string): Promise<boolean> {
    return this.writes.transact(name, (rec, _live, decoded) => {
      // A pool whose config is unreadable still has keys worth removing.
      if (!rec && decoded.present) return { mutation: { ...emptyMutation(), removePool: true, notify: true }, result: true };
      return opRemovePool(rec);
    }, undefined, true);
  }

  updateMember(pool: string, ip: string, change: MemberChange): Promise<MemberUpdate> {
    return this.writes.transact(pool, (rec) => opUpdateMember(rec, pool, ip, change, this.a.opts.nowMs()), undefined, true);
  }

  updateMembers(pool: string, changes: Array<[ip: string, change: MemberChange]>): Promise<MemberUpdate[]> {
    return this.writes.transact(pool, (rec) => opUpdateMembers(rec, pool, changes, this.a.opts.nowMs()), undefined, true);
  }

  /** Every pool in one MULTI/EXEC (redisBulk.ts), retried when another writer got there first. */
  syncPools(pools: PoolSpec[], remove: string[]): Promise<PoolPlan[]> {
    return this.writes.syncPools(pools, remove);
  }

  removeMember(pool: string, ip: string): Promise<boolean> {
    return this.writes.transact(pool, (rec) => opRemoveMember(rec, pool, ip), undefined, true);
  }

  recordObservation(pool: string, ip: string, obs: Observation): Promise<Verdict> {
    return recordObservation(this.a, this.writes, pool, ip, obs);
  }

  refreshObservation(pool: string, ip: string, obs: Observation): Promise<boolean> {
    return refreshObservation(this.a, pool, ip, obs);
  }

  heartbeat(instance: string, ttlMs: number, nowMs: number): Promise<void> {
    return heartbeat(this.a, this.writes, instance, ttlMs, nowMs, (identity) => {
      // The identity went or changed (a FLUSHALL, a restart without data, a re-seed): a full read
      // tells StoreSync at once.
      if (this.reads.identityMoved(identity)) for (const l of this.changeListeners) l({ kind: 'all' });
    });
  }

  async publishZones(instance: string, zones: string[], rules: readonly ZonePoolRules[] = []): Promise<void> {
    checkInstanceName(instance);
    const list = checkZones(zones);
    const k = this.a.keys;
    await this.a.runWrite(async () => {
      const tx = this.a.conn.client.multi().hset(k.zones, instance, JSON.stringify(list));
      for (const r of rules) tx.hset(k.zoneRules, r.origin, JSON.stringify(r));
      await execTransaction(tx);
    });
  }

  async watch(onChange: (change: StoreChange) => void): Promise<() => void> {
    const { keys, opts } = this.a;
    // Closed: a new subscriber would reconnect for ever and keep the process alive.
    if (this.closed) throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', `store ${this.a.description} is closed`);
    this.sub ??= this.a.connect('subscriber');
    const unsubscribe = await subscribeChanges(this.sub, keys.channel, onChange, opts.connectWaitMs, opts.log, this.counts);
    this.changeListeners.add(onChange);
    return () => {
      this.changeListeners.delete(onChange);
      unsubscribe();
    };
  }

  /** On a transaction lane of its own: the claim holds its WATCH state throughout (redisClaim.ts). */
  async claimIdentity(claim: IdentityClaim): Promise<IdentityClaimResult> {
    const a = this.a;
    const result = await a.runWrite(() => this.writes.onLane((conn) => claimIdentity(conn, a.keys, claim, a.report)));
    this.reads.identityId = result.identity.id;
    return result;
  }

  onStatus(listener: (status: StoreStatus, detail?: string) => void): void {
    this.a.conn.onStatus(listener);
  }

  get status(): StoreStatus {
    return this.a.conn.currentStatus;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.writes.close(), this.sub?.close()]);
    this.a.sentinels?.close();
  }
}
