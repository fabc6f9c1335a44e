import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Member, PoolConfig } from '../model/types';
import { defaultLoadPath } from '../model/poolConfig';
import type { LoadTarget } from './loadFeed';
import type { HealthTiming } from './memberHealth';
import type { ProbeTarget } from './probe';

// From the stored pool and member to what the prober needs: the probe target and the timing.

/** What one member's probes look like under `config`, from `sourceAddress` when given. */
export function targetOf(config: PoolConfig, m: Pick<Member, 'ip' | 'port'>, sourceAddress: string | undefined): ProbeTarget {
  const target: ProbeTarget = {
    ip: m.ip,
    // A member's own port overrides the pool's (`member add --port`).
    port: m.port ?? config.port,
    kind: config.check,
    path: config.path,
    expectMin: config.expectMin,
    expectMax: config.expectMax,
    timeoutMs: config.timeoutMs,
  };
  if (config.host !== undefined) target.host = config.host;
  // A source of the other family would make every probe fail.
  if (sourceAddress && isIP(sourceAddress) === isIP(m.ip)) target.localAddress = sourceAddress;
  return target;
}

/** Whether the probe loop tracks a pool's members: a health check, or a load feed to read. */
export function isProbed(config: Pick<PoolConfig, 'check' | 'load'>): boolean {
  return config.check !== 'none' || hasFeed(config);
}

/** A load feed is set (a config built by hand in JS may lack the field: no feed). */
function hasFeed(config: Pick<PoolConfig, 'load'>): boolean {
  return config.load !== undefined && config.load !== 'none';
}

/** Where a member's load feed is read (undefined without one); --load-port 0 reads it on the probe port. */
export function loadTargetOf(config: PoolConfig, m: Pick<Member, 'ip' | 'port'>, sourceAddress: string | undefined): LoadTarget | undefined {
  if (!hasFeed(config) || config.load === 'none') return undefined;
  const target: LoadTarget = {
    kind: config.load,
    ip: m.ip,
    port: config.loadPort === 0 ? m.port ?? config.port : config.loadPort,
    path: loadPathOf(config),
    timeoutMs: config.timeoutMs,
  };
  if (sourceAddress && isIP(sourceAddress) === isIP(m.ip)) target.localAddress = sourceAddress;
  return target;
}

/** The HTTP path read: HAProxy's stats page gives CSV at its URI + ";csv" (management guide, "CSV format"), added when missing. */
function loadPathOf(config: PoolConfig): string {
  if (config.load === 'agent') return '/';
  const path = config.loadPath || defaultLoadPath(config.load);
  return config.load === 'haproxy' && !path.includes(';csv') ? `${path};csv` : path;
}

export function sameLoadTarget(a: LoadTarget, b: LoadTarget): boolean {
  return a.kind === b.kind && a.ip === b.ip && a.port === b.port && a.path === b.path && a.timeoutMs === b.timeoutMs && a.localAddress === b.localAddress;
}

export function timingOf(c: PoolConfig): HealthTiming {
  return { intervalMs: c.intervalMs, fastIntervalMs: c.fastIntervalMs, rise: c.rise, fall: c.fall };
}

export function sameTarget(a: ProbeTarget, b: ProbeTarget): boolean {
  return a.ip === b.ip && a.port === b.port && a.kind === b.kind && a.path === b.path && a.host === b.host
    && a.expectMin === b.expectMin && a.expectMax === b.expectMax && a.timeoutMs === b.timeoutMs && a.localAddress === b.localAddress;
}

/** The probe source address, if it is an IP address. */
export function checkSource(source: string | undefined, log: Logger): string | undefined {
  if (!source) return undefined;
  if (isIP(source)) return source;
  log.error(`health: ignoring probe source address "${source}": not an IP address`);
  return undefined;
}
