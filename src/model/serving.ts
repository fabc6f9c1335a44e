import type { PoolView } from './types';

// What answers depend on, in one place: a pool's config, its members (address, weight, port,
// admin state, when added), their verdicts and shared load, and each instance's observation of them (state and
// since when: the probe loop seeds from its own). Not the last-probe details, which change at
// every probe and which only `status` shows. StoreSync re-announces a pool only when this key
// changes; the Redis store's digest (redisLayout.ts, SERVING_DIGEST) covers the stored form of
// the same parts, so a full read re-reads a pool exactly when this key may have changed.

/** The parts of a pool answers depend on, as one comparable string ('' for an absent pool). */
export function servingKey(view: PoolView | undefined): string {
  if (!view) return '';
  return JSON.stringify([view.config, view.members.map((m) => [
    m.ip, m.weight, m.port, m.admin, m.addedAtMs, m.verdict, m.verdictSinceMs, m.load?.factor, m.load?.state,
    m.observations.map((o) => [o.instance, o.state, o.sinceMs]),
  ])]);
}
