import { TierdnsError } from '../util/errors';
import { LAYOUT_VERSION, validPoolNames } from './redisLayout';
import type { RedisAccess } from './redisAccess';
import type { RedisTransactions } from './redisTransact';
import { canonicalIp, checkInstanceName, checkObservation, opRecompute, opRecordObservation } from './ops';
import type { Observation, Verdict } from '../model/types';

// What serving instances write to the Redis store many times a minute: observations of members
// (a state change is a pool transaction that recomputes the verdict with it; a refresh of an
// unchanged one is a script) and heartbeats (a script; an instance found gone stale or back has
// the pools holding its votes recomputed).

/** HKEYS in flight at once when looking for a stale instance's votes. */
const KEYS_BATCH = 500;

export function recordObservation(a: RedisAccess, tx: RedisTransactions, pool: string, ip: string, obs: Observation): Promise<Verdict> {
  const now = a.opts.nowMs();
  return tx.transact(pool, (rec, live) => opRecordObservation(rec, pool, ip, obs, live, now), now - a.instanceTtlMs);
}

export async function refreshObservation(a: RedisAccess, pool: string, ip: string, input: Observation): Promise<boolean> {
  const key = canonicalIp(ip);
  const obs = checkObservation(input);
  const k = a.keys;
  // A script, not a transaction: it needs no WATCH, so it takes no transaction lane and pipelines freely.
  const reply = await a.runWrite(() => a.scripts.refreshObservation(
    k.config(pool), k.members(pool), k.observations(pool), key, `${key}|${obs.instance}`, obs.state, obs.sinceMs, JSON.stringify(obs)));
  if (reply === -2) throw new TierdnsError('TIERDNS_E_NO_POOL', `no pool ${pool}`);
  if (reply === -1) throw new TierdnsError('TIERDNS_E_NO_MEMBER', `pool ${pool} has no member ${key}`);
  return reply === 1;
}

/** One heartbeat; `onIdentity` gets the stored identity (GET reply) it read on the way. */
export async function heartbeat(
  a: RedisAccess, tx: RedisTransactions, instance: string, ttlMs: number, nowMs: number, onIdentity: (raw: string | null) => void,
): Promise<void> {
  checkInstanceName(instance);
  a.instanceTtlMs = ttlMs;
  const cutoff = nowMs - ttlMs;
  const k = a.keys;
  const reply = await a.runWrite(() => a.scripts.heartbeat(k.instances, k.zones, k.version, k.identity, instance, nowMs, cutoff, LAYOUT_VERSION));
  const [revived, stale, identity] = reply as [number, string[], string | null];
  onIdentity(identity);
  const drop = new Set(stale);
  if (drop.size === 0 && !revived) return;
  // Rare (an instance died or came back): find the pools holding its votes and recompute them.
  const touched = new Set([...drop, ...(revived ? [instance] : [])]);
  for (const pool of await poolsObservedBy(a, touched)) {
    await tx.transact(pool, (rec, live) => opRecompute(rec, live, drop, nowMs), cutoff);
  }
}

function poolsObservedBy(a: RedisAccess, instances: ReadonlySet<string>): Promise<string[]> {
  return a.run(async () => {
    const c = a.conn.client;
    const names = validPoolNames(await c.smembers(a.keys.pools), a.report);
    const out: string[] = [];
    for (let i = 0; i < names.length; i += KEYS_BATCH) {
      const batch = names.slice(i, i + KEYS_BATCH);
      const fieldLists = await Promise.all(batch.map((n) => c.hkeys(a.keys.observations(n))));
      fieldLists.forEach((fields, j) => {
        if (fields.some((f) => instances.has(f.slice(f.indexOf('|') + 1)))) out.push(batch[j] as string);
      });
    }
    return out;
  });
}
