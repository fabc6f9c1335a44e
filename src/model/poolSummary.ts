import type { PoolView, Verdict } from './types';
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

/** Counts of a pool's members by served verdict and address family; what the when-all-down rule acts on. */
export interface MemberCounts {
  up: number;
  down: number;
  unknown: number;
  drained: number;
  /** Address families with enabled members and none of them up (the when-all-down rule acts there). */
  allDownFamilies: Array<'IPv4' | 'IPv6'>;
  /** Address families with enabled members (0, 1 or 2). */
  families: number;
}

/** Count members given with their served verdict; drained members apart, whatever their verdict. */
export function countMembers(members: Iterable<{ ip: string; admin: string; verdict: Verdict }>): MemberCounts {
  const c: MemberCounts = { up: 0, down: 0, unknown: 0, drained: 0, allDownFamilies: [], families: 0 };
  const enabled = { IPv4: 0, IPv6: 0 };
  const upBy = { IPv4: 0, IPv6: 0 };
  for (const m of members) {
    if (m.admin === 'drained') {
      c.drained++;
      continue;
    }
    const family = m.ip.includes(':') ? 'IPv6' : 'IPv4';
    enabled[family]++;
    c[m.verdict]++;
    if (m.verdict === 'up') upBy[family]++;
  }
  c.allDownFamilies = (['IPv4', 'IPv6'] as const).filter((f) => enabled[f] > 0 && upBy[f] === 0);
  c.families = (enabled.IPv4 > 0 ? 1 : 0) + (enabled.IPv6 > 0 ? 1 : 0);
  return c;
}

const summaries = new WeakMap<PoolView, PoolSummary>();

/** The summary of a pool view; views are replaced on change, never edited, so it is kept per view. */
export function summarizePool(view: PoolView): PoolSummary {
  const hit = summaries.get(view);
  if (hit) return hit;
  const check = view.config.check;
  const c = countMembers(view.members.map((m) => ({ ip: m.ip, admin: m.admin, verdict: servedVerdict(m, check).verdict })));
  const s: PoolSummary = {
    up: c.up, down: c.down, unknown: c.unknown, drained: c.drained,
    failingOpen: view.config.whenAllDown === 'all' && c.allDownFamilies.length > 0,
  };
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
