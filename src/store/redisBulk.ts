import type { ChainableCommander, Redis } from 'ioredis';
import { DROP_OBSERVATIONS, decodePool, execTransaction, type RedisKeys, type ReportProblem } from './redisLayout';
import { opRemoveForSync, opSyncPool } from './bulkOps';
import { isEmptyMutation, type PoolMutation } from './record';
import type { PoolPlan, PoolSpec } from '../model/poolPlan';

// Store.syncPools on Redis: one WATCH over the config and member keys of every pool involved,
// one read, the pure ops of bulkOps.ts, one MULTI/EXEC. Verdicts and observations are not
// watched: serving instances rewrite observations every few seconds, so watching them would
// abort a write of a thousand pools nearly every time; what the write does to them holds
// whatever was written meanwhile (verdicts of new members, removals of whole members).

/** Keys per WATCH command and pools per read script (the read script takes four keys per pool). */
const WATCH_KEYS_PER_CALL = 1000;
const POOLS_PER_READ = 100;

export interface BulkContext {
  keys: RedisKeys;
  report: ReportProblem;
  nowMs: number;
  /** queueMutation of redisTransact.ts: the writes of one pool's mutation, with its NOTIFY last. */
  queue: (tx: ChainableCommander, pool: string, m: PoolMutation, observationFields: string[]) => void;
}

type ReadPools = { readPools(count: number, ...keys: string[]): Promise<unknown> };

/** One attempt; undefined when another writer changed a watched key first (the caller retries). */
export async function syncPoolsOnce(c: Redis, pools: PoolSpec[], remove: string[], ctx: BulkContext): Promise<PoolPlan[] | undefined> {
  const names = [...pools.map((p) => p.config.name), ...remove];
  const watched = names.flatMap((n) => [ctx.keys.config(n), ctx.keys.members(n)]);
  const replies: unknown[] = [];
  try {
    const watches: Array<Promise<unknown>> = [];
    for (let i = 0; i < watched.length; i += WATCH_KEYS_PER_CALL) watches.push(c.watch(...watched.slice(i, i + WATCH_KEYS_PER_CALL)));
    await Promise.all(watches);
    const reads: Array<Promise<unknown>> = [];
    for (let i = 0; i < names.length; i += POOLS_PER_READ) {
      const group = names.slice(i, i + POOLS_PER_READ);
      reads.push((c as unknown as ReadPools).readPools(group.length * 4, ...group.flatMap((n) => ctx.keys.pool(n))));
    }
    for (const reply of await Promise.all(reads)) replies.push(...(Array.isArray(reply) ? reply : []));
  } catch (err) {
    // A WATCH left behind would abort the next transaction on this connection.
    await c.unwatch().catch(() => undefined);
    throw err;
  }
  const plans: PoolPlan[] = [];
  const writes: Array<[string, PoolMutation]> = [];
  try {
    pools.forEach((spec, i) => {
      const { mutation, result } = opSyncPool(decodePool(spec.config.name, replies[i], ctx.report).record, spec, ctx.nowMs);
      plans.push(result);
      writes.push([spec.config.name, mutation]);
    });
    remove.forEach((name, j) => {
      const decoded = decodePool(name, replies[pools.length + j], ctx.report);
      const { mutation, result } = opRemoveForSync(decoded.record, decoded.present);
      if (result) plans.push(result);
      writes.push([name, mutation]);
    });
  } catch (err) {
    await c.unwatch();
    throw err;
  }
  const changed = writes.filter(([, m]) => !isEmptyMutation(m));
  if (changed.length === 0) {
    await c.unwatch();
    return plans;
  }
  const tx = c.multi();
  for (const [name, m] of changed) {
    if (!m.removePool && m.removeMembers.length > 0) tx.eval(DROP_OBSERVATIONS, 1, ctx.keys.observations(name), ...m.removeMembers);
    ctx.queue(tx, name, m, []);
  }
  return (await execTransaction(tx)) ? plans : undefined;
}
