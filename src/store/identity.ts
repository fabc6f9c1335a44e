import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { TierdnsError } from '../util/errors';
import { emptyMutation, type PoolMutation, type PoolRecord } from './record';
import type { Member, PoolView } from '../model/types';

// A store's identity (docs/store.md, "Store identity"): a random id written into the store by
// the first write that finds none (or the first serving instance that reads it). A store that lost its data (Redis restarted empty,
// FLUSHALL, a promoted replica that never synced, the store file deleted) has lost its identity
// with it, which is how an instance tells "the store was lost" from "every pool was removed".
// Re-seeding a lost store keeps a trail: `absorbed` lists the identities whose data it took over,
// so every instance that knew one of them recognises the store as the continuation of its own.

export interface StoreIdentity {
  /** 32 hex digits, random. */
  id: string;
  /** Identities of lost stores this one was re-seeded for, oldest first (at most MAX_ABSORBED). */
  absorbed: string[];
  /** The instance that wrote this identity last, and when (ms since the epoch). */
  by: string;
  atMs: number;
}

/** What Store.claimIdentity is asked to do. */
export interface IdentityClaim {
  /** The instance claiming (written as `by`). */
  instance: string;
  /** The identity the claimant's data descends from; undefined for a first use. */
  lostId?: string;
  /** Pools to re-seed the store with: the ones (and the members) the store lacks are written. */
  pools: readonly PoolView[];
  nowMs: number;
}

export interface IdentityClaimResult {
  /** The identity the store holds now. */
  identity: StoreIdentity;
  /** This call wrote it (and re-seeded the pools); false: the store already descended from lostId. */
  seeded: boolean;
}

const MAX_ABSORBED = 64;

/** Whether a store with `identity` holds data that continues what `knownId` named. */
export function descendsFrom(identity: StoreIdentity | undefined, knownId: string | undefined): boolean {
  if (!identity) return false;
  return knownId === undefined || identity.id === knownId || identity.absorbed.includes(knownId);
}

/** A read's identity against the one this store object knows; TIERDNS_E_STORE_LOST when they differ. */
export function checkIdentity(knownId: string | undefined, found: StoreIdentity | undefined, store: string): void {
  if (knownId === undefined || found?.id === knownId) return;
  throw new TierdnsError('TIERDNS_E_STORE_LOST',
    `store ${store} ${found ? `is now ${found.id}, not ${knownId}` : `lost its identity ${knownId}`}: its data was lost or replaced`);
}

/**
 * The identity a claim writes: the current one with the lost id added to its trail (a store an
 * instance without history stamped first keeps its id), or a new one.
 */
export function nextIdentity(current: StoreIdentity | undefined, claim: IdentityClaim): StoreIdentity {
  const absorbed = [...(current?.absorbed ?? []), ...(claim.lostId !== undefined ? [claim.lostId] : [])].slice(-MAX_ABSORBED);
  return { id: current?.id ?? randomBytes(16).toString('hex'), absorbed, by: claim.instance, atMs: claim.nowMs };
}

/**
 * A first identity for a store that has none, written by the first write that finds it missing
 * (a pool transaction, a document rewrite): `by` names the process, which need not be a
 * serving instance.
 */
export function firstIdentity(nowMs: number): StoreIdentity {
  return { id: randomBytes(16).toString('hex'), absorbed: [], by: `${hostname()} pid ${process.pid}`, atMs: nowMs };
}

/** A stored identity (JSON text or a parsed value); TIERDNS_E_STORE_DATA when it is not one. */
export function parseIdentity(stored: unknown): StoreIdentity {
  let v = stored;
  if (typeof stored === 'string') {
    try {
      v = JSON.parse(stored) as unknown;
    } catch {
      throw new TierdnsError('TIERDNS_E_STORE_DATA', 'store identity is not valid JSON');
    }
  }
  const o = v as Partial<StoreIdentity> | null;
  if (typeof o !== 'object' || o === null || typeof o.id !== 'string' || !/^[0-9a-f]{32}$/.test(o.id)
    || !Array.isArray(o.absorbed) || !o.absorbed.every((a) => typeof a === 'string')
    || typeof o.by !== 'string' || typeof o.atMs !== 'number') {
    throw new TierdnsError('TIERDNS_E_STORE_DATA', 'store identity is malformed');
  }
  return { id: o.id, absorbed: [...o.absorbed], by: o.by, atMs: o.atMs };
}

/**
 * Re-seed one pool: the config when the store lacks the pool, and each member the store lacks,
 * with the verdict the claimant served as its starting point. Observations are not written:
 * they were other instances' votes at some earlier time; live instances record fresh ones at
 * their next write, and until then the seeded verdict holds (a verdict without live votes is
 * kept), so answers do not change while they do.
 */
export function opSeedPool(rec: PoolRecord | undefined, view: PoolView): PoolMutation {
  const mutation = emptyMutation();
  if (!rec) mutation.config = view.config;
  for (const m of view.members) {
    if (rec?.members.has(m.ip)) continue;
    const member: Member = { ip: m.ip, weight: m.weight, admin: m.admin, addedAtMs: m.addedAtMs };
    if (m.port !== undefined) member.port = m.port;
    mutation.setMembers.push(member);
    mutation.setVerdicts.push([m.ip, { verdict: m.verdict, sinceMs: m.verdictSinceMs }]);
  }
  return mutation;
}
