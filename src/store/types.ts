import type { ZonePoolRules } from '../model/poolNameRules';
import type { AdminState, Member, Observation, PoolConfig, PoolView, Verdict } from '../model/types';
import type { PoolPlan, PoolSpec } from '../model/poolPlan';
import type { IdentityClaim, IdentityClaimResult, StoreIdentity } from './identity';

export type { IdentityClaim, IdentityClaimResult, StoreIdentity } from './identity';

// The Store interface: what the Redis store and the file store both implement.

export interface StoreSnapshot {
  /** Pools by name. */
  pools: Map<string, PoolView>;
  /** Zones the serving instances publish, so the CLI can validate names without a zones dir. */
  zones: string[];
  /** Live instances (fresh heartbeat) by name -> last heartbeat ms. */
  instances: Map<string, number>;
  /** The store's identity (store/identity.ts); undefined when it has none: new, or lost. */
  identity?: StoreIdentity;
}

/** The pools are as the watches reported; zones and live instances as read now, when read. */
export type InSync = Partial<Pick<StoreSnapshot, 'zones' | 'instances'>>;

/** What changed: a pool's config or members or verdicts (re-read that pool), or everything. */
export type StoreChange = { kind: 'pool'; name: string } | { kind: 'all' };

export type StoreStatus = 'connecting' | 'ready' | 'down';

/** What Store.updateMember changes; an absent field is kept as stored. */
export interface MemberChange {
  /** 1..1000. */
  weight?: number;
  /** Probe port 1..65535; null removes the member's own port (the pool's applies). */
  port?: number | null;
  admin?: AdminState;
  /** Add the member when the pool has none at this address. */
  create?: boolean;
}

/** The member as it was (undefined: just created) and as it is now. */
export interface MemberUpdate {
  before?: Member;
  after: Member;
}

export interface Store {
  /** Human-readable location for logs (no password). */
  readonly description: string;
  /**
   * Full read of everything; used at start and by the periodic resync. With `previous` (the
   * pools of this store's last read), a store may return a previous view as it is when what
   * answers depend on (config, members, verdicts) has not changed: the Redis store does, so a
   * resync does not rebuild thousands of pools only to find them equal.
   */
  snapshot(previous?: ReadonlyMap<string, PoolView>): Promise<StoreSnapshot>;
  /**
   * Read one pool (undefined when absent). Once a full read or a claim has told this store
   * object an identity, a read that finds another one (or none) rejects TIERDNS_E_STORE_LOST
   * instead of reporting the pools of a store that lost its data as removed.
   */
  readPool(name: string): Promise<PoolView | undefined>;
  /** Create or replace a pool's config; members and verdicts are kept. */
  setPool(config: PoolConfig): Promise<void>;
  /**
   * Read-modify-write of one pool's config in one atomic step (`pool set` changes only the
   * flags given). `update` sees the current config (undefined for a new pool) and may throw to
   * refuse, which changes nothing.
   */
  updatePool(name: string, update: (current: PoolConfig | undefined) => PoolConfig): Promise<PoolConfig>;
  /** The zones serving instances published, without reading every pool. */
  readZones(): Promise<string[]>;
  /** The live instances (fresh heartbeat) as they are now, without reading every pool. */
  readInstances(): Promise<Map<string, number>>;
  /** Remove a pool with its members and observations; false when absent. */
  removePool(name: string): Promise<boolean>;
  /**
   * Change one member in one atomic step: the fields `change` gives, the rest kept as stored.
   * With `create`, an absent member is added (weight 1, no port of its own, enabled, unless
   * given); without, it is TIERDNS_E_NO_MEMBER. TIERDNS_E_NO_POOL when the pool is absent.
   */
  updateMember(pool: string, ip: string, change: MemberChange): Promise<MemberUpdate>;
  /** Several updateMember calls on one pool as one atomic step: all of them, or none when one is refused. */
  updateMembers(pool: string, changes: Array<[ip: string, change: MemberChange]>): Promise<MemberUpdate[]>;
  /**
   * Make each pool of `pools` hold exactly its config and members (weight, port, admin; members
   * that stay keep their verdicts and observations) and remove the pools named in `remove`, all
   * in one atomic step: readers see every change or none. Returns what changed, one plan per
   * pool given (action 'same' when it already matched) and per pool removed that existed.
   */
  syncPools(pools: PoolSpec[], remove: string[]): Promise<PoolPlan[]>;
  removeMember(pool: string, ip: string): Promise<boolean>;
  /** Record this instance's observation of a member and recompute the shared verdict atomically. */
  recordObservation(pool: string, ip: string, obs: Observation): Promise<Verdict>;
  /**
   * Store the last-probe details of an observation whose state and sinceMs the store already
   * holds for this instance (nothing a verdict depends on changes). Resolves false when it does
   * not hold them (call recordObservation instead); rejects TIERDNS_E_NO_MEMBER when the member
   * is gone. Cheaper than recordObservation: no verdict recompute, no notification.
   */
  refreshObservation(pool: string, ip: string, obs: Observation): Promise<boolean>;
  /**
   * Shortest time between two last-probe refreshes of one member this store affords (ms).
   * State changes are written at once regardless.
   */
  readonly observationRefreshMs: number;
  /**
   * Whether this store's watches have reported every change to a pool there is, so a periodic
   * full read would find no pool changed (the file store compares seq numbers, the Redis store
   * change counts). In sync, it may hand back the zones and live instances as they are now,
   * read without the pools; false means "read everything".
   */
  inSync(): Promise<InSync | false>;
  /**
   * Give the store an identity when it does not descend from `claim.lostId` (none at all, or
   * one whose trail lacks it), re-seeding it with the claim's pools and members it lacks, in one
   * atomic step: of several instances claiming at once, one writes and the others find it done.
   */
  claimIdentity(claim: IdentityClaim): Promise<IdentityClaimResult>;
  /** Refresh this instance's heartbeat and recompute verdicts affected by instances that went stale. */
  heartbeat(instance: string, ttlMs: number, nowMs: number): Promise<void>;
  /**
   * Publish the zones this instance serves, and what each says about where pools cannot be
   * (kept per zone, the last publisher's; the CLI checks new pool names against them).
   */
  publishZones(instance: string, zones: string[], rules?: readonly ZonePoolRules[]): Promise<void>;
  /** The published rules of the zones serving instances publish (a zone published without any is left out). */
  readZoneRules(): Promise<ZonePoolRules[]>;
  /** Change notifications; the returned function unsubscribes. */
  watch(onChange: (change: StoreChange) => void): Promise<() => void>;
  onStatus(listener: (status: StoreStatus, detail?: string) => void): void;
  close(): Promise<void>;
}
