import { parseIp } from '../util/ip';
import type { Member, MemberView, Observation, PoolConfig, PoolView, VerdictEntry } from '../model/types';
import { initialVerdict } from '../model/verdict';

// One pool as both stores hold it (config, members, verdicts, observations), and the change
// an operation makes to it. Operations (ops.ts) are pure functions from a record to a
// mutation, so the Redis store and the file store share every rule and differ only in how
// they read a record and commit a mutation atomically.

export interface PoolRecord {
  config: PoolConfig;
  members: Map<string, Member>;
  verdicts: Map<string, VerdictEntry>;
  /** ip → instance → that instance's observation of the member. */
  observations: Map<string, Map<string, Observation>>;
}

export interface PoolMutation {
  /** Write this config, creating the pool when absent. */
  config?: PoolConfig;
  /** Delete the pool with its members, verdicts and observations. */
  removePool?: boolean;
  setMembers: Member[];
  /** Delete members with their verdicts and every observation of them. */
  removeMembers: string[];
  setVerdicts: Array<[ip: string, entry: VerdictEntry]>;
  setObservations: Array<[ip: string, obs: Observation]>;
  removeObservations: Array<[ip: string, instance: string]>;
  /** Something a serving instance answers from changed: tell the watchers. */
  notify: boolean;
}

export function emptyMutation(): PoolMutation {
  return { setMembers: [], removeMembers: [], setVerdicts: [], setObservations: [], removeObservations: [], notify: false };
}

export function isEmptyMutation(m: PoolMutation): boolean {
  return !m.config && !m.removePool && m.setMembers.length === 0 && m.removeMembers.length === 0 &&
    m.setVerdicts.length === 0 && m.setObservations.length === 0 && m.removeObservations.length === 0;
}

export function newRecord(config: PoolConfig): PoolRecord {
  return { config, members: new Map(), verdicts: new Map(), observations: new Map() };
}

export function toPoolView(rec: PoolRecord): PoolView {
  const members: MemberView[] = [];
  // Parse each address once for the sort, not once per comparison (a full read of 10,000
  // pools builds 40,000 of these: no spread, no hex strings for IPv4).
  const ips = [...rec.members.keys()];
  if (ips.length > 1) {
    const keys = new Map<string, number | string>();
    for (const ip of ips) keys.set(ip, orderKey(ip));
    ips.sort((a, b) => compareKeys(keys.get(a) as number | string, keys.get(b) as number | string));
  }
  for (const ip of ips) {
    const member = rec.members.get(ip) as Member;
    const v = rec.verdicts.get(ip) ?? initialVerdict(member);
    const byInstance = rec.observations.get(ip);
    const observations = byInstance ? [...byInstance.values()] : [];
    if (observations.length > 1) observations.sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0));
    const view: MemberView = {
      ip: member.ip, weight: member.weight, admin: member.admin, addedAtMs: member.addedAtMs,
      verdict: v.verdict, verdictSinceMs: v.sinceMs, observations,
    };
    if (member.port !== undefined) view.port = member.port;
    // A pool whose feed was turned off keeps no stale load in its answers.
    if (v.load !== undefined && rec.config.load !== 'none') view.load = v.load;
    members.push(view);
  }
  return { config: rec.config, members };
}

/** Address order as a sort key: IPv4 (as a number) before IPv6 ("6<hex>"), anything else after both. */
function orderKey(ip: string): number | string {
  const p = parseIp(ip);
  if (!p) return `9${ip}`;
  if (p.family === 4) return p.bytes.readUInt32BE(0);
  return `6${p.bytes.toString('hex')}`;
}

function compareKeys(a: number | string, b: number | string): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Apply a mutation to an in-memory record (undefined when the pool is removed). */
export function applyMutation(rec: PoolRecord | undefined, m: PoolMutation): PoolRecord | undefined {
  if (m.removePool) return undefined;
  const config = m.config ?? rec?.config;
  if (!config) return undefined;
  const out: PoolRecord = {
    config,
    members: new Map(rec?.members),
    verdicts: new Map(rec?.verdicts),
    observations: new Map([...(rec?.observations ?? [])].map(([ip, byInstance]) => [ip, new Map(byInstance)])),
  };
  for (const ip of m.removeMembers) {
    out.members.delete(ip);
    out.verdicts.delete(ip);
    out.observations.delete(ip);
  }
  for (const member of m.setMembers) out.members.set(member.ip, member);
  for (const [ip, entry] of m.setVerdicts) out.verdicts.set(ip, entry);
  for (const [ip, instance] of m.removeObservations) out.observations.get(ip)?.delete(instance);
  for (const [ip, obs] of m.setObservations) {
    let byInstance = out.observations.get(ip);
    if (!byInstance) out.observations.set(ip, (byInstance = new Map()));
    byInstance.set(obs.instance, obs);
  }
  return out;
}
