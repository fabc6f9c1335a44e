import type { AdminState, Member, PoolConfig } from './types';

// Declarative pools (`tierdns apply`, docs/cli.md): what a file wants a pool to be, and the
// difference between that and what a store holds. The same function plans a dry run in the
// CLI and decides the writes inside a store's atomic step, so the printed plan and the change
// made cannot disagree.

/** A member as an operator declares it: address, weight, probe port, admin state; never health. */
export interface MemberSpec {
  ip: string;
  weight: number;
  /** Probe port; the pool's when absent. */
  port?: number;
  admin: AdminState;
}

/** A pool as an operator declares it: the whole config and the whole member list. */
export interface PoolSpec {
  config: PoolConfig;
  members: MemberSpec[];
}

export type MemberSetting = 'weight' | 'port' | 'admin';

export interface MemberChange {
  ip: string;
  action: 'add' | 'change' | 'remove';
  /** The settings that differ, for 'change'. */
  changed: MemberSetting[];
  /** What the member is before (change, remove) and after (add, change). */
  before?: MemberSpec;
  after?: MemberSpec;
}

export interface PoolPlan {
  name: string;
  action: 'create' | 'change' | 'same' | 'remove';
  /** The config before (change, remove) and after (create, change); equal configs for 'same'. */
  before?: PoolConfig;
  after?: PoolConfig;
  configChanged: boolean;
  members: MemberChange[];
}

/** What an operator declares of a stored member. */
export function memberSpecOf(m: Pick<Member, 'ip' | 'weight' | 'port' | 'admin'>): MemberSpec {
  const spec: MemberSpec = { ip: m.ip, weight: m.weight, admin: m.admin };
  if (m.port !== undefined) spec.port = m.port;
  return spec;
}

/** Config fields compared one by one: key order in a stored config must not count as a change. */
export function sameConfig(a: PoolConfig, b: PoolConfig): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof PoolConfig>;
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}

/**
 * The steps that make `current` (undefined: no such pool) match `spec`. Members are keyed by
 * canonical address (both sides must give canonical addresses); the plan lists members in the
 * spec's order, then the removed ones in the store's order.
 */
export function planPool(current: { config: PoolConfig; members: Iterable<Member> } | undefined, spec: PoolSpec): PoolPlan {
  const name = spec.config.name;
  if (!current) {
    return {
      name, action: 'create', after: spec.config, configChanged: true,
      members: spec.members.map((m) => ({ ip: m.ip, action: 'add', changed: [], after: m })),
    };
  }
  const configChanged = !sameConfig(current.config, spec.config);
  const stored = new Map<string, MemberSpec>();
  for (const m of current.members) stored.set(m.ip, memberSpecOf(m));
  const members: MemberChange[] = [];
  const wanted = new Set<string>();
  for (const m of spec.members) {
    wanted.add(m.ip);
    const before = stored.get(m.ip);
    if (!before) {
      members.push({ ip: m.ip, action: 'add', changed: [], after: m });
      continue;
    }
    const changed = (['weight', 'port', 'admin'] as const).filter((k) => before[k] !== m[k]);
    if (changed.length > 0) members.push({ ip: m.ip, action: 'change', changed, before, after: m });
  }
  for (const [ip, before] of stored) if (!wanted.has(ip)) members.push({ ip, action: 'remove', changed: [], before });
  const action = configChanged || members.length > 0 ? 'change' : 'same';
  return { name, action, before: current.config, after: spec.config, configChanged, members };
}

/** Removing a pool with whatever members it has. */
export function planRemove(current: { config: PoolConfig; members: Iterable<Member> }): PoolPlan {
  return {
    name: current.config.name, action: 'remove', before: current.config, configChanged: true,
    members: [...current.members].map((m) => ({ ip: m.ip, action: 'remove', changed: [], before: memberSpecOf(m) })),
  };
}
