import { TierdnsError } from '../util/errors';
import { descendsFrom, nextIdentity, opSeedPool, parseIdentity, type IdentityClaim, type IdentityClaimResult, type StoreIdentity } from './identity';
import { ALL_POOLS, LAYOUT_VERSION, decodePool, execTransaction, queuePoolMutation, type RedisKeys, type ReportProblem } from './redisLayout';
import type { RedisConnection } from './redisConnection';
import { isEmptyMutation } from './record';
import { retryPause } from './storeUtil';

// Store.claimIdentity on Redis: WATCH the identity and the pool set, read them, and (unless
// the store already descends from the claimant's identity) write the identity and the pools it
// lacks in one MULTI/EXEC. Several instances that find the store lost at once race here: the
// first EXEC wins, the others' EXEC fails on the WATCH, and their next attempt finds the store
// re-seeded. The caller holds the connection (its WATCH state) for the whole claim.

/** Lost races before giving up; each attempt is a few round trips. */
const MAX_ATTEMPTS = 20;

type ReadPool = { readPool(...keys: string[]): Promise<unknown> };

export async function claimIdentity(conn: RedisConnection, keys: RedisKeys, claim: IdentityClaim, report: ReportProblem): Promise<IdentityClaimResult> {
  const c = conn.client;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    await conn.ready();
    let committed: IdentityClaimResult | null;
    try {
      committed = await attemptClaim(c, keys, claim, report);
    } catch (err) {
      // A WATCH left behind would abort the next transaction on this connection.
      await c.unwatch().catch(() => undefined);
      throw err;
    }
    if (committed) return committed;
    await retryPause(attempt);
  }
  throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', `store identity: gave up after ${MAX_ATTEMPTS} conflicting claims`);
}

/** One attempt: the result, or null when another client changed what was watched. */
async function attemptClaim(
  c: RedisConnection['client'], keys: RedisKeys, claim: IdentityClaim, report: ReportProblem,
): Promise<IdentityClaimResult | null> {
  await c.watch(keys.identity, keys.pools);
  const [raw, names] = await Promise.all([c.get(keys.identity), c.smembers(keys.pools)]);
  let current: StoreIdentity | undefined;
  try {
    current = raw === null ? undefined : parseIdentity(raw);
  } catch (err) {
    // Overwritten below: an identity no one can read protects nothing.
    report(`${keys.identity}: ${(err as Error).message}; replaced`);
  }
  if (current && descendsFrom(current, claim.lostId)) {
    await c.unwatch();
    return { identity: current, seeded: false };
  }
  // Pools the store has: watched too, and read, so that only the members they lack are added.
  const present = claim.pools.filter((v) => names.includes(v.config.name));
  if (present.length > 0) await c.watch(...present.flatMap((v) => keys.pool(v.config.name)));
  const replies = await Promise.all(present.map((v) => (c as unknown as ReadPool).readPool(...keys.pool(v.config.name))));
  const records = new Map(present.map((v, i) => [v.config.name, decodePool(v.config.name, replies[i], report)]));
  const identity = nextIdentity(current, claim);
  const tx = c.multi();
  tx.set(keys.identity, JSON.stringify(identity));
  let seeded = 0;
  for (const view of claim.pools) {
    const decoded = records.get(view.config.name);
    const mutation = opSeedPool(decoded?.record, view);
    if (isEmptyMutation(mutation)) continue;
    queuePoolMutation(tx, keys, view.config.name, mutation, decoded?.observationFields ?? []);
    seeded++;
  }
  tx.set(keys.version, String(LAYOUT_VERSION), 'NX');
  if (seeded > 0) {
    // Uncounted: the next periodic check sees the count move without a message and reads in
    // full too, should this message be missed.
    tx.incr(keys.changeCount);
    tx.publish(keys.channel, ALL_POOLS);
  }
  return (await execTransaction(tx)) ? { identity, seeded: true } : null;
}
