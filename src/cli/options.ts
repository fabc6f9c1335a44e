import { readdirSync, statSync } from 'node:fs';
import { TierdnsError } from '../util/errors';
import { parseDuration } from '../util/duration';
import { parseIp } from '../util/ip';
import { CHECK_KINDS, LIMITS, LOAD_KINDS, defaultLoadPath, defaultPoolConfig, defaultPort, poolConfigProblem } from '../model/poolConfig';
import { normalizePoolName, normalizeZoneName } from '../model/names';
import type { CheckKind, LoadKind, PoolConfig, WhenAllDown } from '../model/types';
import type { Store } from '../store/types';
import type { RrlOptions } from '../dns/rrl';
import { parseCidr, type Cidr } from '../util/cidr';

// Operator input → validated values. Each parser throws a TierdnsError whose message names
// the flag and the accepted range, so the CLI prints one precise line and changes nothing.

export function bad(flag: string, message: string): TierdnsError {
  return new TierdnsError('TIERDNS_E_BAD_VALUE', `${flag} ${message}`);
}

/** A decimal integer within [min, max]; no signs, exponents or hex. */
export function parseIntIn(text: string, flag: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
    throw bad(flag, `must be an integer ${min}..${max}, got '${text}'`);
  }
  return Number(text);
}

/** serve's --rrl-rate, --rrl-slip and --rrl-exempt (docs/rrl.md). */
export function parseRrlFlags(rate: string, slip: string, exempt: string): RrlOptions {
  const exemptList = exempt.trim() === 'none' ? [] : exempt.split(',').map((text): Cidr => {
    const cidr = parseCidr(text.trim());
    if (!cidr) throw bad('--rrl-exempt', `must be IP addresses or CIDRs separated by commas, or 'none'; got '${text}'`);
    return cidr;
  });
  return {
    ratePerSecond: parseIntIn(rate, '--rrl-rate', 0, 100_000_000),
    slip: parseIntIn(slip, '--rrl-slip', 0, 100),
    exempt: exemptList,
  };
}

/** Milliseconds within [minMs, maxMs]; bare numbers are seconds. */
export function parseDurationIn(text: string, flag: string, minMs: number, maxMs: number): number {
  const ms = parseDuration(text, 's', flag);
  if (ms < minMs || ms > maxMs) throw bad(flag, `must be ${fmt(minMs)}..${fmt(maxMs)}, got '${text}'`);
  return ms;
}

function fmt(ms: number): string {
  return ms % 60_000 === 0 && ms > 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Whole seconds for --ttl (bare number = seconds). */
export function parseTtl(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text, 's', '--ttl');
  } catch (err) {
    // The generic hint offers 500ms, which a TTL refuses next: offer what a TTL takes.
    if (err instanceof TierdnsError && err.code === 'TIERDNS_E_BAD_DURATION') {
      throw new TierdnsError('TIERDNS_E_BAD_DURATION', `--ttl: '${text}' is not a duration (use whole seconds, e.g. 20, 20s, 1m)`);
    }
    throw err;
  }
  const { min, max } = LIMITS.ttlSeconds;
  if (ms % 1000 !== 0) throw bad('--ttl', `must be whole seconds, got '${text}'`);
  if (ms / 1000 < min || ms / 1000 > max) throw bad('--ttl', `must be ${min}..${max} seconds, got '${text}'`);
  return ms / 1000;
}

export function parseCheck(text: string): CheckKind {
  const check = text.trim().toLowerCase() as CheckKind;
  if (!CHECK_KINDS.includes(check)) throw bad('--check', `must be one of ${CHECK_KINDS.join('|')}, got '${text}'`);
  return check;
}

/** "200-399" or "200" → [min, max]. */
export function parseExpect(text: string): [number, number] {
  const m = /^(\d{3})(?:-(\d{3}))?$/.exec(text.trim());
  const { min, max } = LIMITS.expect;
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || lo < min || hi > max || lo > hi) throw bad('--expect', `must be a status or range within ${min}-${max} like 200-399, got '${text}'`);
  return [lo, hi];
}

export function parsePath(text: string, flag = '--path'): string {
  if (!text.startsWith('/') || text.length > LIMITS.pathLength || !/^[\x21-\x7e]*$/.test(text)) {
    throw bad(flag, `must start with '/' and be printable without spaces (at most ${LIMITS.pathLength} characters), got '${text}'`);
  }
  return text;
}

export function parseLoad(text: string): LoadKind {
  const load = text.trim().toLowerCase() as LoadKind;
  if (!LOAD_KINDS.includes(load)) throw bad('--load', `must be one of ${LOAD_KINDS.join('|')}, got '${text}'`);
  return load;
}

/** Host header; '' means "the member's IP" (removes a host set before). */
export function parseHost(text: string): string | undefined {
  if (text === '') return undefined;
  if (text.length > LIMITS.hostLength || !/^[\x21-\x7e]+$/.test(text)) {
    throw bad('--host', `must be printable without spaces (at most ${LIMITS.hostLength} characters), got '${text}'`);
  }
  return text;
}

export function parseWhenAllDown(text: string): WhenAllDown {
  const t = text.trim();
  if (t === 'all' || t === 'none') return t;
  if (t.startsWith('pool:')) return `pool:${normalizePoolName(t.slice(5), '--when-all-down pool')}`;
  throw bad('--when-all-down', `must be all, none or pool:<name>, got '${text}'`);
}

/** IP:PORT or [IPv6]:PORT, as HAProxy and nginx write servers; undefined for anything else. */
export function ipWithPort(text: string): { ip: string; port: string } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text.trim()) ?? /^([^:]+):(\d{1,5})$/.exec(text.trim());
  return m && parseIp(m[1] as string) ? { ip: m[1] as string, port: m[2] as string } : undefined;
}

/** A canonical unicast address a resolver can be handed. */
export function parseMemberIp(text: string): string {
  const ip = parseIp(text.trim());
  if (!ip) {
    // Operators used to HAProxy and nginx write server lines as IP:PORT.
    const withPort = ipWithPort(text);
    const hint = withPort ? `; give the probe port apart: ${withPort.ip} --port ${withPort.port}` : '';
    throw new TierdnsError('TIERDNS_E_BAD_IP', `'${text}' is not an IPv4 or IPv6 address${hint}`);
  }
  const b = ip.bytes;
  const unspecified = b.every((x) => x === 0);
  const multicast = ip.family === 4 ? (b[0] as number) >= 224 : b[0] === 0xff;
  const mapped = ip.family === 6 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (unspecified || multicast) throw new TierdnsError('TIERDNS_E_BAD_IP', `'${text}' is not a unicast address`);
  if (mapped) throw new TierdnsError('TIERDNS_E_BAD_IP', `'${text}' is an IPv4-mapped IPv6 address; add the IPv4 address instead`);
  return ip.canonical;
}

/** Zone origins from `<dir>/*.zone` file names. */
export function zonesFromDir(dir: string): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(dir);
  } catch (err) {
    throw new TierdnsError('TIERDNS_E_USAGE', `--zones ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const zones: string[] = [];
  for (const file of entries) {
    if (!file.endsWith('.zone')) continue;
    try {
      zones.push(normalizeZoneName(file.slice(0, -5)));
    } catch {
      // A file name that is no zone name cannot hold a pool; `zone check` reports it.
    }
  }
  return zones;
}

/** `pool set` flags as commander hands them over (strings; absent when not given). */
export interface PoolSetFlags {
  store?: string;
  zones?: string;
  ttl?: string; check?: string; port?: string; path?: string; host?: string; expect?: string; interval?: string;
  fastInterval?: string; timeout?: string; rise?: string; fall?: string; maxAnswers?: string; whenAllDown?: string;
  load?: string; loadPort?: string; loadPath?: string; capacity?: string; slowStart?: string;
}

/** Parse every flag given; absent flags stay undefined so `pool set` on an existing pool changes only those. */
export function parsePoolFlags(f: PoolSetFlags): Partial<PoolConfig> & { hostGiven: boolean } {
  const p: Partial<PoolConfig> & { hostGiven: boolean } = { hostGiven: f.host !== undefined };
  if (f.ttl !== undefined) p.ttlSeconds = parseTtl(f.ttl);
  if (f.check !== undefined) p.check = parseCheck(f.check);
  if (f.port !== undefined) p.port = parseIntIn(f.port, '--port', LIMITS.port.min, LIMITS.port.max);
  if (f.path !== undefined) p.path = parsePath(f.path);
  if (f.host !== undefined) {
    const host = parseHost(f.host);
    if (host !== undefined) p.host = host;
  }
  if (f.expect !== undefined) [p.expectMin, p.expectMax] = parseExpect(f.expect);
  if (f.interval !== undefined) p.intervalMs = parseDurationIn(f.interval, '--interval', LIMITS.intervalMs.min, LIMITS.intervalMs.max);
  if (f.fastInterval !== undefined) p.fastIntervalMs = parseDurationIn(f.fastInterval, '--fast-interval', LIMITS.fastIntervalMs.min, LIMITS.intervalMs.max);
  if (f.timeout !== undefined) p.timeoutMs = parseDurationIn(f.timeout, '--timeout', LIMITS.timeoutMs.min, LIMITS.intervalMs.max);
  if (f.rise !== undefined) p.rise = parseIntIn(f.rise, '--rise', LIMITS.rise.min, LIMITS.rise.max);
  if (f.fall !== undefined) p.fall = parseIntIn(f.fall, '--fall', LIMITS.fall.min, LIMITS.fall.max);
  if (f.maxAnswers !== undefined) p.maxAnswers = parseIntIn(f.maxAnswers, '--max-answers', LIMITS.maxAnswers.min, LIMITS.maxAnswers.max);
  if (f.whenAllDown !== undefined) p.whenAllDown = parseWhenAllDown(f.whenAllDown);
  if (f.load !== undefined) p.load = parseLoad(f.load);
  if (f.loadPort !== undefined) p.loadPort = parseIntIn(f.loadPort, '--load-port', LIMITS.loadPort.min, LIMITS.loadPort.max);
  if (f.loadPath !== undefined) p.loadPath = parsePath(f.loadPath, '--load-path');
  if (f.capacity !== undefined) p.capacity = parseIntIn(f.capacity, '--capacity', LIMITS.capacity.min, LIMITS.capacity.max);
  if (f.slowStart !== undefined) p.slowStartMs = parseDurationIn(f.slowStart, '--slow-start', LIMITS.slowStartMs.min, LIMITS.slowStartMs.max);
  return p;
}

/** The new config: defaults (or the current one), the flags given, then the cross-field rules. */
export function mergePoolConfig(name: string, current: PoolConfig | undefined, patch: Partial<PoolConfig> & { hostGiven: boolean }): PoolConfig {
  const base = current ?? defaultPoolConfig(name);
  const { hostGiven, ...fields } = patch;
  const next: PoolConfig = { ...base, ...fields };
  if (hostGiven && patch.host === undefined) delete next.host;
  // Values that were defaults follow what they default from, unless given.
  if (patch.check !== undefined && patch.port === undefined && base.port === defaultPort(base.check)) next.port = defaultPort(next.check);
  if (patch.intervalMs !== undefined && patch.fastIntervalMs === undefined && base.fastIntervalMs === Math.max(50, Math.round(base.intervalMs / 4))) {
    next.fastIntervalMs = Math.max(LIMITS.fastIntervalMs.min, Math.round(next.intervalMs / 4));
  }
  if (patch.load !== undefined && patch.loadPath === undefined && base.loadPath === defaultLoadPath(base.load)) next.loadPath = defaultLoadPath(next.load);
  if (next.load === 'nginx' && next.capacity === 0) throw bad('--capacity', 'is needed with --load nginx (stub_status reports no limit)');
  if (next.timeoutMs >= next.intervalMs) throw bad('--timeout', `(${next.timeoutMs}ms) must be below --interval (${next.intervalMs}ms)`);
  if (next.fastIntervalMs > next.intervalMs) throw bad('--fast-interval', `(${next.fastIntervalMs}ms) must not exceed --interval (${next.intervalMs}ms)`);
  if (next.whenAllDown === `pool:${name}`) throw bad('--when-all-down', 'cannot name the pool itself');
  const problem = poolConfigProblem(next);
  if (problem) throw new TierdnsError('TIERDNS_E_BAD_VALUE', problem);
  return next;
}

/** Cross-field rules between flags given together, so such input fails before the store is contacted. */
export function precheck(name: string, p: Partial<PoolConfig>): void {
  if (p.timeoutMs !== undefined && p.intervalMs !== undefined && p.timeoutMs >= p.intervalMs) {
    throw bad('--timeout', `(${p.timeoutMs}ms) must be below --interval (${p.intervalMs}ms)`);
  }
  if (p.fastIntervalMs !== undefined && p.intervalMs !== undefined && p.fastIntervalMs > p.intervalMs) {
    throw bad('--fast-interval', `(${p.fastIntervalMs}ms) must not exceed --interval (${p.intervalMs}ms)`);
  }
  if (p.whenAllDown === `pool:${name}`) throw bad('--when-all-down', 'cannot name the pool itself');
  if (p.load === 'nginx' && p.capacity === 0) throw bad('--capacity', 'is needed with --load nginx (stub_status reports no limit)');
}

/** A backup pool must exist, and following backups from it must not lead back here. */
export async function checkBackup(store: Store, name: string, target: string): Promise<void> {
  const seen = new Set([name]);
  for (let hop: string | undefined = target; hop !== undefined;) {
    if (seen.has(hop)) throw bad('--when-all-down', `pool:${target} would make a loop of backups back to ${hop}`);
    seen.add(hop);
    const view = await store.readPool(hop);
    if (!view) {
      if (hop === target) throw new TierdnsError('TIERDNS_E_NO_POOL', `--when-all-down pool:${target}: no pool named ${target}`);
      return;
    }
    const next = view.config.whenAllDown;
    hop = next.startsWith('pool:') ? next.slice(5) : undefined;
  }
}
