import { formatDuration } from '../util/duration';
import { countVotes, isSplit, servedVerdict } from '../model/verdict';
import { loadView, servedWeights, type LoadView } from '../model/load';
import type { LoadState, MemberView, Observation, PoolConfig, PoolView } from '../model/types';
import type { StoreSnapshot } from '../store/types';

// What `tierdns status` and `tierdns pool ls` print: one JSON shape for scripts (docs/cli.md,
// optional fields are null rather than absent so the shape is stable) and aligned tables for humans.

export interface ObservationJson {
  instance: string;
  /** Heartbeat fresh: this observation counts toward the verdict. */
  live: boolean;
  state: Observation['state'];
  sinceMs: number;
  lastProbeMs: number | null;
  lastOk: boolean | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  /** This instance's reading of the member's load feed (docs/steering.md). */
  load: { factor: number; state: LoadState; connections: number | null; capacity: number | null; readMs: number; error: string | null } | null;
}

/** A member's load (model/load.ts loadView); null for pools without a load feed. */
export type LoadJson = LoadView;

export interface MemberJson {
  ip: string;
  weight: number;
  port: number | null;
  admin: MemberView['admin'];
  verdict: MemberView['verdict'];
  verdictSinceMs: number;
  sinceSeconds: number;
  addedAtMs: number;
  lastProbe: { instance: string; atMs: number; ok: boolean | null; latencyMs: number | null; error: string | null } | null;
  /** weight × load factor × slow-start ramp, as answers hand the member out now (0: not handed out). */
  effectiveWeight: number;
  load: LoadJson | null;
  /** Live instances' votes; a tie (`split`) keeps the verdict as it was (docs/health.md "Split votes"). */
  votes: { up: number; down: number };
  split: boolean;
  observations: ObservationJson[];
}

export type PoolJson = Omit<PoolConfig, 'host'> & { ttl: number; host: string | null; expect: string };

export function poolJson(config: PoolConfig): PoolJson {
  const { host, ...rest } = config;
  return { ...rest, ttl: config.ttlSeconds, host: host ?? null, expect: expectText(config) };
}

function expectText(c: PoolConfig): string {
  return c.expectMin === c.expectMax ? String(c.expectMin) : `${c.expectMin}-${c.expectMax}`;
}

function memberJson(
  m: MemberView, config: PoolConfig, live: ReadonlyMap<string, number>, nowMs: number, effectiveWeight: number,
): MemberJson {
  const { verdict, sinceMs } = servedVerdict(m, config.check);
  const observations = m.observations.map((o): ObservationJson => ({
    instance: o.instance, live: live.has(o.instance), state: o.state, sinceMs: o.sinceMs,
    lastProbeMs: o.lastProbeMs ?? null, lastOk: o.lastOk ?? null, lastLatencyMs: o.lastLatencyMs ?? null, lastError: o.lastError ?? null,
    load: o.load ? {
      factor: o.load.factor, state: o.load.state, connections: o.load.connections ?? null, capacity: o.load.capacity ?? null,
      readMs: o.load.readMs, error: o.load.error ?? null,
    } : null,
  }));
  const votes = config.check === 'none' ? { up: 0, down: 0 } : countVotes(m.observations, live);
  let last: Observation | undefined;
  for (const o of m.observations) if (o.lastProbeMs !== undefined && (!last || o.lastProbeMs > (last.lastProbeMs ?? 0))) last = o;
  return {
    ip: m.ip, weight: m.weight, port: m.port ?? null, admin: m.admin, verdict, verdictSinceMs: sinceMs,
    sinceSeconds: Math.max(0, Math.round((nowMs - sinceMs) / 1000)), addedAtMs: m.addedAtMs,
    lastProbe: last ? {
      instance: last.instance, atMs: last.lastProbeMs as number, ok: last.lastOk ?? null,
      latencyMs: last.lastLatencyMs ?? null, error: last.lastError ?? null,
    } : null,
    effectiveWeight,
    load: loadView(m, config, live),
    votes,
    split: isSplit(votes),
    observations,
  };
}


export interface StatusJson {
  pools: Array<PoolJson & { members: MemberJson[] }>;
  instances: Array<{ name: string; lastHeartbeatMs: number; ageSeconds: number }>;
  zones: string[];
}

export function statusJson(snap: StoreSnapshot, nowMs: number, only?: string): StatusJson {
  const views: PoolView[] = [...snap.pools.values()].filter((v) => only === undefined || v.config.name === only);
  return {
    pools: views.map((v) => {
      const weights = servedWeights(v, nowMs);
      return { ...poolJson(v.config), members: v.members.map((m) => memberJson(m, v.config, snap.instances, nowMs, weights.get(m.ip) ?? 0)) };
    }),
    instances: [...snap.instances].sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, ms]) => ({ name, lastHeartbeatMs: ms, ageSeconds: Math.max(0, Math.round((nowMs - ms) / 100) / 10) })),
    zones: snap.zones,
  };
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: string[][], indent = ''): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ')).join('\n');
}

export function poolSummary(p: PoolJson): string {
  const probe = p.check === 'none' ? 'check none'
    : `${p.check}:${p.port}${p.check === 'tcp' ? '' : p.path}${p.check !== 'tcp' && p.host ? ` host ${p.host}` : ''}`;
  return [
    `ttl ${p.ttl}s`, probe, `every ${formatDuration(p.intervalMs)} (fast ${formatDuration(p.fastIntervalMs)})`,
    `timeout ${formatDuration(p.timeoutMs)}`, `rise ${p.rise}`, `fall ${p.fall}`,
    `max-answers ${p.maxAnswers === 0 ? 'all' : p.maxAnswers}`, `when-all-down ${p.whenAllDown}`,
    ...(p.load === 'none' ? [] : [`load ${p.load}:${p.loadPort === 0 ? p.port : p.loadPort}${p.load === 'agent' ? '' : p.loadPath}${p.capacity > 0 ? ` capacity ${p.capacity}` : ''}`]),
    ...(p.slowStartMs > 0 ? [`slow-start ${formatDuration(p.slowStartMs)}`] : []),
  ].join('  ');
}

export function renderPoolList(snap: StoreSnapshot): string {
  if (snap.pools.size === 0) return 'no pools\n';
  const rows = [['POOL', 'TTL', 'CHECK', 'MEMBERS', 'UP', 'DRAINED', 'WHEN-ALL-DOWN']];
  for (const v of snap.pools.values()) {
    const c = v.config;
    rows.push([
      c.name, `${c.ttlSeconds}s`, c.check === 'none' ? 'none' : `${c.check}:${c.port}`, String(v.members.length),
      String(v.members.filter((m) => servedVerdict(m, c.check).verdict === 'up').length), String(v.members.filter((m) => m.admin === 'drained').length),
      c.whenAllDown,
    ]);
  }
  return `${table(rows)}\n`;
}
