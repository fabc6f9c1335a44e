import { mergeVerdict } from '../model/verdict';
import { mergeLoad, sameLoad } from '../model/load';
import { TierdnsError } from '../util/errors';
import { parseIp } from '../util/ip';
import { isInstanceName, toMember, toObservation } from './codec';
import { toPoolConfig } from '../model/poolConfig';
import { initialVerdict } from '../model/verdict';
import { emptyMutation, type PoolMutation, type PoolRecord } from './record';
import type { Member, Observation, PoolConfig, Verdict, VerdictEntry } from '../model/types';
import type { MemberChange, MemberUpdate } from './types';

// Every store operation as a pure function: (current record, arguments) → mutation + result.
// A throw means "refuse, change nothing"; the stores run these inside their atomic sections.

export interface OpResult<T> {
  mutation: PoolMutation;
  result: T;
}

function noPool(name: string): TierdnsError {
  return new TierdnsError('TIERDNS_E_NO_POOL', `no pool named ${name}`);
}

function requireMember(rec: PoolRecord | undefined, pool: string, ip: string): [PoolRecord, Member] {
  if (!rec) throw noPool(pool);
  const member = rec.members.get(ip);
  if (!member) throw new TierdnsError('TIERDNS_E_NO_MEMBER', `pool ${pool} has no member ${ip}`);
  return [rec, member];
}

/** Canonical IP or TIERDNS_E_BAD_IP: callers may pass operator text. */
export function canonicalIp(ip: string): string {
  const parsed = parseIp(ip);
  if (!parsed) throw new TierdnsError('TIERDNS_E_BAD_IP', `'${ip}' is not an IPv4 or IPv6 address`);
  return parsed.canonical;
}

/** Rethrow a record check as the caller's fault, not the store's. */
export function asBadValue<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof TierdnsError && err.code === 'TIERDNS_E_STORE_DATA') throw new TierdnsError('TIERDNS_E_BAD_VALUE', err.message);
    throw err;
  }
}

export function opUpdatePool(
  rec: PoolRecord | undefined, name: string, update: (current: PoolConfig | undefined) => PoolConfig, nowMs: number,
): OpResult<PoolConfig> {
  const config = toPoolConfig(update(rec?.config), 'TIERDNS_E_BAD_VALUE');
  if (config.name !== name) throw new TierdnsError('TIERDNS_E_BAD_VALUE', `pool config names ${config.name}, not ${name}`);
  const mutation = emptyMutation();
  if (JSON.stringify(config) !== JSON.stringify(rec?.config)) {
    mutation.config = config;
    mutation.notify = true;
  }
  if (rec && rec.config.check === 'none' && config.check !== 'none') {
    // Answers served these members as up while nothing probed them. They stay up until probes
    // say otherwise (no NODATA gap while the first probes run), and votes recorded before the
    // pool became check-none are stale: they go.
    for (const ip of rec.members.keys()) {
      if (rec.verdicts.get(ip)?.verdict !== 'up') mutation.setVerdicts.push([ip, { verdict: 'up', sinceMs: nowMs }]);
      for (const instance of rec.observations.get(ip)?.keys() ?? []) mutation.removeObservations.push([ip, instance]);
    }
  }
  return { mutation, result: config };
}

export function opRemovePool(rec: PoolRecord | undefined): OpResult<boolean> {
  const mutation = emptyMutation();
  if (!rec) return { mutation, result: false };
  mutation.removePool = true;
  mutation.notify = true;
  return { mutation, result: true };
}

/**
 * Store.updateMember on a record: the fields `change` gives, the rest as stored (a new member:
 * weight 1, the pool's port, enabled). Unchanged members are not written nor announced.
 */
export function opUpdateMember(
  rec: PoolRecord | undefined, pool: string, ip: string, change: MemberChange, nowMs: number,
): OpResult<MemberUpdate> {
  if (!rec) throw noPool(pool);
  const key = canonicalIp(ip);
  if (change.admin !== undefined && change.admin !== 'enabled' && change.admin !== 'drained') {
    throw new TierdnsError('TIERDNS_E_BAD_VALUE', 'admin state must be enabled or drained');
  }
  const before = rec.members.get(key);
  if (!before && !change.create) throw new TierdnsError('TIERDNS_E_NO_MEMBER', `pool ${pool} has no member ${key}`);
  const next: Member = {
    ip: key,
    weight: change.weight ?? before?.weight ?? 1,
    admin: change.admin ?? before?.admin ?? 'enabled',
    addedAtMs: before?.addedAtMs ?? nowMs,
  };
  const port = change.port === null ? undefined : change.port ?? before?.port;
  if (port !== undefined) next.port = port;
  const after = asBadValue(() => toMember(next));
  const mutation = emptyMutation();
  if (JSON.stringify(after) !== JSON.stringify(before)) {
    mutation.setMembers.push(after);
    if (!before) mutation.setVerdicts.push([key, initialVerdict(after)]);
    mutation.notify = true;
  }
  return { mutation, result: before ? { before, after } : { after } };
}

export function opRemoveMember(rec: PoolRecord | undefined, pool: string, ip: string): OpResult<boolean> {
  if (!rec) throw noPool(pool);
  const key = canonicalIp(ip);
  const mutation = emptyMutation();
  if (!rec.members.has(key)) return { mutation, result: false };
  mutation.removeMembers.push(key);
  mutation.notify = true;
  return { mutation, result: true };
}

/** An observation as callers pass it, checked (TIERDNS_E_BAD_VALUE). */
export function checkObservation(input: Observation): Observation {
  return asBadValue(() => toObservation(input));
}

/**
 * Store.refreshObservation on a record: the new last-probe details when the stored observation
 * of this instance has the same state and sinceMs (no verdict can change, nobody is notified),
 * else nothing and false.
 */
export function opRefreshObservation(rec: PoolRecord | undefined, pool: string, ip: string, input: Observation): OpResult<boolean> {
  const key = canonicalIp(ip);
  const [record] = requireMember(rec, pool, key);
  const obs = checkObservation(input);
  const mutation = emptyMutation();
  const before = record.observations.get(key)?.get(obs.instance);
  if (!before || before.state !== obs.state || before.sinceMs !== obs.sinceMs) return { mutation, result: false };
  mutation.setObservations.push([key, obs]);
  return { mutation, result: true };
}

/**
 * Record one instance's observation and recompute the shared verdict (docs/health.md).
 * `live` holds the instances with a fresh heartbeat; the recording instance always votes.
 */
export function opRecordObservation(
  rec: PoolRecord | undefined, pool: string, ip: string, input: Observation, live: ReadonlySet<string>, nowMs: number,
): OpResult<Verdict> {
  const key = canonicalIp(ip);
  const [record, member] = requireMember(rec, pool, key);
  const obs = checkObservation(input);
  const mutation = emptyMutation();
  const byInstance = new Map(record.observations.get(key));
  const before = byInstance.get(obs.instance);
  byInstance.set(obs.instance, obs);
  mutation.setObservations.push([key, obs]);
  // Only state changes matter to serving instances; last-probe details are for `status`
  // (a change of the shared load notifies below).
  if (!before || before.state !== obs.state || before.sinceMs !== obs.sinceMs) mutation.notify = true;
  const voters = new Set(live).add(obs.instance);
  const verdict = recomputeInto(mutation, record, member, [...byInstance.values()], voters, nowMs);
  return { mutation, result: verdict };
}

/**
 * After instances went stale (heartbeat older than the TTL) or came back: drop the observations
 * of `dropInstances` and recompute every member's verdict from the live instances' votes.
 */
export function opRecompute(
  rec: PoolRecord | undefined, live: ReadonlySet<string>, dropInstances: ReadonlySet<string>, nowMs: number,
): OpResult<void> {
  const mutation = emptyMutation();
  if (!rec) return { mutation, result: undefined };
  for (const [ip, member] of rec.members) {
    const remaining: Observation[] = [];
    for (const obs of rec.observations.get(ip)?.values() ?? []) {
      if (dropInstances.has(obs.instance)) {
        mutation.removeObservations.push([ip, obs.instance]);
        mutation.notify = true;
      } else {
        remaining.push(obs);
      }
    }
    recomputeInto(mutation, rec, member, remaining, live, nowMs);
  }
  return { mutation, result: undefined };
}

/** The shared verdict and load of a member from the live instances' observations. */
function recomputeInto(
  mutation: PoolMutation, rec: PoolRecord, member: Member, observations: Observation[], live: ReadonlySet<string>, nowMs: number,
): Verdict {
  const previous = rec.verdicts.get(member.ip) ?? initialVerdict(member);
  const verdict = mergeVerdict(previous.verdict, observations, live);
  const load = mergeLoad(observations, live);
  if (verdict !== previous.verdict || !sameLoad(load, previous.load)) {
    const entry: VerdictEntry = verdict !== previous.verdict ? { verdict, sinceMs: nowMs } : { verdict, sinceMs: previous.sinceMs };
    if (load) entry.load = load;
    mutation.setVerdicts.push([member.ip, entry]);
    mutation.notify = true;
  }
  return verdict;
}

export function checkInstanceName(instance: string): void {
  if (!isInstanceName(instance)) {
    throw new TierdnsError('TIERDNS_E_BAD_VALUE', `instance name '${instance}' must be 1..255 printable characters without | or spaces`);
  }
}
