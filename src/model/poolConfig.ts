import { TierdnsError } from '../util/errors';
import { isPoolName } from './names';
import type { CheckKind, LoadKind, PoolConfig, WhenAllDown } from './types';

// Pool configuration defaults and ranges (docs/cli.md, docs/health.md), shared by the CLI (which
// explains them), the stores (which refuse to write anything else) and the readers
// (which skip anything else found in the store).

export const CHECK_KINDS: readonly CheckKind[] = ['none', 'tcp', 'http', 'https', 'ws'];
export const LOAD_KINDS: readonly LoadKind[] = ['none', 'agent', 'json', 'nginx', 'haproxy'];

export const LIMITS = {
  ttlSeconds: { min: 0, max: 86_400 },
  port: { min: 1, max: 65_535 },
  /** Probe period: fast enough for §5's detection bounds, slow enough not to flood members. */
  intervalMs: { min: 100, max: 600_000 },
  /** At least 50 ms; at most the interval. */
  fastIntervalMs: { min: 50 },
  /** At least 10 ms; strictly below the interval (§5). */
  timeoutMs: { min: 10 },
  rise: { min: 1, max: 100 },
  fall: { min: 1, max: 100 },
  /** 0 = every candidate; 64 A records already overflow a 1232-byte UDP answer. */
  maxAnswers: { min: 0, max: 64 },
  weight: { min: 1, max: 1000 },
  expect: { min: 100, max: 599 },
  pathLength: 1024,
  hostLength: 255,
  /** 0 = the member's probe port. */
  loadPort: { min: 0, max: 65_535 },
  /** 0 = none given; a billion connections is beyond any one balancer. */
  capacity: { min: 0, max: 1_000_000_000 },
  slowStartMs: { min: 0, max: 3_600_000 },
} as const;

export const DEFAULT_INTERVAL_MS = 2000;

/** The default probe port of a check kind: 443 for https, 80 otherwise. */
export function defaultPort(check: CheckKind): number {
  return check === 'https' ? 443 : 80;
}

/** Where each HTTP load feed usually lives; `agent` and `none` use no path. */
export function defaultLoadPath(load: LoadKind): string {
  switch (load) {
    case 'json': return '/load';
    case 'nginx': return '/nginx_status';
    case 'haproxy': return '/stats;csv';
    default: return '/';
  }
}

/** Load settings a config stored before load feeds existed lacks: no feed. */
const LOAD_DEFAULTS = { load: 'none', loadPort: 0, loadPath: '/', capacity: 0, slowStartMs: 0 } as const;

/** A new pool's configuration when no flag is given. */
export function defaultPoolConfig(name: string): PoolConfig {
  return {
    name,
    ttlSeconds: 20,
    check: 'tcp',
    port: defaultPort('tcp'),
    path: '/',
    expectMin: 200,
    expectMax: 399,
    intervalMs: DEFAULT_INTERVAL_MS,
    fastIntervalMs: DEFAULT_INTERVAL_MS / 4,
    timeoutMs: 1000,
    rise: 2,
    fall: 3,
    maxAnswers: 0,
    whenAllDown: 'all',
    ...LOAD_DEFAULTS,
  };
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** Printable ASCII without spaces: safe in an HTTP request line and a Host header. */
const PRINTABLE = /^[\x21-\x7e]*$/;

export function isWhenAllDown(v: unknown): v is WhenAllDown {
  if (v === 'all' || v === 'none') return true;
  return typeof v === 'string' && v.startsWith('pool:') && isPoolName(v.slice(5));
}

/** The first problem with a pool configuration, or undefined when it is valid. */
export function poolConfigProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const c = { ...LOAD_DEFAULTS, ...(v as Record<string, unknown>) } as Record<string, unknown>;
  const L = LIMITS;
  if (typeof c.name !== 'string' || !isPoolName(c.name)) return 'name is not a valid pool name';
  if (!isInt(c.ttlSeconds, L.ttlSeconds.min, L.ttlSeconds.max)) return `ttl must be ${L.ttlSeconds.min}..${L.ttlSeconds.max} s`;
  if (!CHECK_KINDS.includes(c.check as CheckKind)) return `check must be one of ${CHECK_KINDS.join('|')}`;
  if (!isInt(c.port, L.port.min, L.port.max)) return `port must be ${L.port.min}..${L.port.max}`;
  if (typeof c.path !== 'string' || !c.path.startsWith('/') || c.path.length > L.pathLength || !PRINTABLE.test(c.path)) {
    return `path must start with '/', be printable without spaces and at most ${L.pathLength} characters`;
  }
  if (c.host !== undefined && (typeof c.host !== 'string' || c.host === '' || c.host.length > L.hostLength || !PRINTABLE.test(c.host))) {
    return `host must be printable without spaces and at most ${L.hostLength} characters`;
  }
  if (!isInt(c.expectMin, L.expect.min, L.expect.max) || !isInt(c.expectMax, L.expect.min, L.expect.max) || c.expectMin > c.expectMax) {
    return `expect must be a status or a range within ${L.expect.min}-${L.expect.max}, low first`;
  }
  if (!isInt(c.intervalMs, L.intervalMs.min, L.intervalMs.max)) return `interval must be ${L.intervalMs.min}ms..${L.intervalMs.max / 60_000}m`;
  if (!isInt(c.fastIntervalMs, L.fastIntervalMs.min, c.intervalMs)) return `fast-interval must be ${L.fastIntervalMs.min}ms..interval (${c.intervalMs}ms)`;
  if (!isInt(c.timeoutMs, L.timeoutMs.min, c.intervalMs - 1)) return `timeout must be ${L.timeoutMs.min}ms and below interval (${c.intervalMs}ms)`;
  if (!isInt(c.rise, L.rise.min, L.rise.max)) return `rise must be ${L.rise.min}..${L.rise.max}`;
  if (!isInt(c.fall, L.fall.min, L.fall.max)) return `fall must be ${L.fall.min}..${L.fall.max}`;
  if (!isInt(c.maxAnswers, L.maxAnswers.min, L.maxAnswers.max)) return `max-answers must be ${L.maxAnswers.min}..${L.maxAnswers.max}`;
  if (!isWhenAllDown(c.whenAllDown)) return "when-all-down must be all, none or pool:<name>";
  if (c.whenAllDown === `pool:${c.name}`) return 'when-all-down cannot name the pool itself';
  return loadProblem(c);
}

function loadProblem(c: Record<string, unknown>): string | undefined {
  const L = LIMITS;
  if (!LOAD_KINDS.includes(c.load as LoadKind)) return `load must be one of ${LOAD_KINDS.join('|')}`;
  if (!isInt(c.loadPort, L.loadPort.min, L.loadPort.max)) return `load-port must be 1..${L.loadPort.max} (0: the probe port)`;
  if (typeof c.loadPath !== 'string' || !c.loadPath.startsWith('/') || c.loadPath.length > L.pathLength || !PRINTABLE.test(c.loadPath)) {
    return `load-path must start with '/', be printable without spaces and at most ${L.pathLength} characters`;
  }
  if (!isInt(c.capacity, L.capacity.min, L.capacity.max)) return `capacity must be ${L.capacity.min}..${L.capacity.max} connections (0: none)`;
  if (c.load === 'nginx' && c.capacity === 0) return 'load nginx needs a capacity (stub_status reports no limit)';
  if (!isInt(c.slowStartMs, L.slowStartMs.min, L.slowStartMs.max)) return `slow-start must be 0..${L.slowStartMs.max / 60_000}m`;
  return undefined;
}

/** A clean copy holding exactly the PoolConfig fields; throws `code` when invalid. */
export function toPoolConfig(v: unknown, code: 'TIERDNS_E_BAD_VALUE' | 'TIERDNS_E_STORE_DATA'): PoolConfig {
  const problem = poolConfigProblem(v);
  if (problem) throw new TierdnsError(code, `pool config: ${problem}`);
  const c = { ...LOAD_DEFAULTS, ...(v as PoolConfig) };
  const out: PoolConfig = {
    name: c.name, ttlSeconds: c.ttlSeconds, check: c.check, port: c.port, path: c.path,
    expectMin: c.expectMin, expectMax: c.expectMax, intervalMs: c.intervalMs,
    fastIntervalMs: c.fastIntervalMs, timeoutMs: c.timeoutMs, rise: c.rise, fall: c.fall,
    maxAnswers: c.maxAnswers, whenAllDown: c.whenAllDown,
    load: c.load, loadPort: c.loadPort, loadPath: c.loadPath, capacity: c.capacity, slowStartMs: c.slowStartMs,
  };
  if (c.host !== undefined) out.host = c.host;
  return out;
}
