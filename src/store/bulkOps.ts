import { TierdnsError } from '../util/errors';
import { toMember } from './codec';
import { initialVerdict } from '../model/verdict';
import { planPool, planRemove, type PoolPlan, type PoolSpec } from '../model/poolPlan';
import { toPoolConfig } from '../model/poolConfig';
import { asBadValue, canonicalIp, opUpdateMember, opUpdatePool, type OpResult } from './ops';
import { applyMutation, emptyMutation, type PoolMutation, type PoolRecord } from './record';
import type { Member } from '../model/types';
import type { MemberChange, MemberUpdate } from './types';

// Operations on many members or pools at once (`member add` with several addresses, `tierdns
// apply`), as pure functions like ops.ts: each store runs them inside one atomic step.

/** Several mutations of one pool, in order, as one (later entries win, as they would applied one by one). */
function concat(a: PoolMutation, b: PoolMutation): PoolMutation {
  return {
    config: b.config ?? a.config,
    removePool: a.removePool || b.removePool,
    setMembers: [...a.setMembers, ...b.setMembers],
    removeMembers: [...a.removeMembers, ...b.removeMembers],
    setVerdicts: [...a.setVerdicts, ...b.setVerdicts],
    setObservations: [...a.setObservations, ...b.setObservations],
    removeObservations: [...a.removeObservations, ...b.removeObservations],
    notify: a.notify || b.notify,
  };
}

/** Store.updateMembers: each change as updateMember makes it, in order, all or none. */
export function opUpdateMembers(
  rec: PoolRecord | undefined, pool: string, changes: Array<[ip: string, change: MemberChange]>, nowMs: number,
): OpResult<MemberUpdate[]> {
  let mutation = emptyMutation();
  let current = rec;
  const results: MemberUpdate[] = [];
  for (const [ip, change] of changes) {
    const step = opUpdateMember(current, pool, ip, change, nowMs);
    mutation = concat(mutation, step.mutation);
    current = applyMutation(current, step.mutation);
    results.push(step.result);
  }
  return { mutation, result: results };
}

/**
 * Store.syncPools for one pool: the writes that make it hold exactly `spec` (config and member
 * list). Members that stay keep their verdicts, observations and the time they were added.
 */
export function opSyncPool(rec: PoolRecord | undefined, spec: PoolSpec, nowMs: number): OpResult<PoolPlan> {
  const config = toPoolConfig(spec.config, 'TIERDNS_E_BAD_VALUE');
  const name = config.name;
  const members = spec.members.map((m) => ({ ...m, ip: canonicalIp(m.ip) }));
  if (new Set(members.map((m) => m.ip)).size !== members.length) {
    throw new TierdnsError('TIERDNS_E_BAD_VALUE', `pool ${name}: a member is listed twice`);
  }
  const plan = planPool(rec && { config: rec.config, members: rec.members.values() }, { config, members });
  let mutation = emptyMutation();
  if (plan.action === 'same') return { mutation, result: plan };
  // The config goes through the same op as `pool set` (what a change of check kind does to verdicts).
  if (plan.configChanged) mutation = opUpdatePool(rec, name, () => config, nowMs).mutation;
  const removed = new Set(plan.members.filter((c) => c.action === 'remove').map((c) => c.ip));
  mutation.setVerdicts = mutation.setVerdicts.filter(([ip]) => !removed.has(ip));
  mutation.removeObservations = mutation.removeObservations.filter(([ip]) => !removed.has(ip));
  for (const change of plan.members) {
    if (change.action === 'remove') {
      mutation.removeMembers.push(change.ip);
      continue;
    }
    const want = change.after as NonNullable<typeof change.after>;
    const existing = rec?.members.get(change.ip);
    const next: Member = { ip: change.ip, weight: want.weight, admin: want.admin, addedAtMs: existing?.addedAtMs ?? nowMs };
    if (want.port !== undefined) next.port = want.port;
    const member = asBadValue(() => toMember(next));
    mutation.setMembers.push(member);
    if (!existing) mutation.setVerdicts.push([member.ip, initialVerdict(member)]);
  }
  mutation.notify = true;
  return { mutation, result: plan };
}

/** Store.syncPools for a pool to remove: its plan, and the mutation (nothing when absent). */
export function opRemoveForSync(rec: PoolRecord | undefined, present: boolean): OpResult<PoolPlan | undefined> {
  const mutation = emptyMutation();
  if (!rec && !present) return { mutation, result: undefined };
  mutation.removePool = true;
  mutation.notify = true;
  return { mutation, result: rec ? planRemove({ config: rec.config, members: rec.members.values() }) : undefined };
}
