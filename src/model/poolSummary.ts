import type { PoolView } from './types';
import { servedVerdict } from './verdict';

/** A pool at a glance, as `status`, the status page and metrics show it. */
export interface PoolSummary {
  /** Enabled members by served verdict, and drained members apart. */
  up: number;
  down: number;
  unknown: number;
  drained: number;
  /**
   * Some address family has enabled members, none of them up, and the pool's when-all-down
   * rule is `all`: answers hand out every enabled member of that family, healthy or not.
   */
  failingOpen: boolean;
}

const summaries = new WeakMap<PoolView, PoolSummary>();

/** The summary of a pool view; views are replaced on change, never edited, so it is kept per view. */
export function summarizePool(view: PoolView): PoolSummary {
  const hit = summaries.get(view);
  if (hit) return hit;
  const s: PoolSummary = { up: 0, down: 0, unknown: 0, drained: 0, failingOpen: false };
  // Per family: [enabled members, of which up].
  const v4 = [0, 0];
  const v6 = [0, 0];
  for (const m of view.members) {
    if (m.admin === 'drained') {
      s.drained++;
      continue;
    }
    const { verdict } = servedVerdict(m, view.config.check);
    s[verdict]++;
    const family = m.ip.includes(':') ? v6 : v4;
    family[0]++;
    if (verdict === 'up') family[1]++;
  }
  const allDown = (f: number[]) => f[0] > 0 && f[1] === 0;
  s.failingOpen = view.config.whenAllDown === 'all' && (allDown(v4) || allDown(v6));
  summaries.set(view, s);
  return s;
}

/**
 * Members whose live instances' observations disagree (one sees it up, another down): a
 * partition, or one instance's network broken. Unknown observations do not count.
 */
export function disputedMembers(view: PoolView, live: ReadonlySet<string> | ReadonlyMap<string, unknown>): number {
  let n = 0;
  for (const m of view.members) {
    let up = false;
    let down = false;
    for (const o of m.observations) {
      if (!live.has(o.instance)) continue;
      if (o.state === 'up') up = true;
      else if (o.state === 'down') down = true;
    }
    if (up && down) n++;
  }
  return n;
}
