import { TierdnsError } from '../util/errors';
import { parseIp } from '../util/ip';
import { LIMITS } from '../model/poolConfig';
import type { AdminState, LoadObservation, LoadState, Member, MergedLoad, Observation, Verdict, VerdictEntry } from '../model/types';

// Validation of the per-member records both stores keep as JSON. Whatever is read back is
// checked field by field: another tool (or an older/newer tierdns) may have written it, and a
// bad entry must cost that entry only, never the server.

const VERDICTS: readonly Verdict[] = ['unknown', 'up', 'down'];
const ADMIN: readonly AdminState[] = ['enabled', 'drained'];
const LOAD_STATES: readonly LoadState[] = ['ready', 'drain', 'maint', 'down'];
/** Instance names end up in hash fields `<ip>|<instance>`, so '|' and spaces are out. */
const INSTANCE = /^[\x21-\x7b\x7d\x7e]{1,255}$/;
/** Probe errors are for humans; a bounded length keeps one flapping member from bloating the store. */
export const MAX_ERROR_LENGTH = 300;

type Fields = Record<string, unknown>;

function fields(v: unknown): Fields | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Fields) : undefined;
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function fail(what: string, problem: string): never {
  throw new TierdnsError('TIERDNS_E_STORE_DATA', `${what}: ${problem}`);
}

export function isInstanceName(v: unknown): v is string {
  return typeof v === 'string' && INSTANCE.test(v);
}

export function isVerdict(v: unknown): v is Verdict {
  return VERDICTS.includes(v as Verdict);
}

/** A member record; `ip` must already be canonical (parseIp) so both stores key it alike. */
export function toMember(v: unknown): Member {
  const f = fields(v) ?? fail('member', 'not an object');
  if (typeof f.ip !== 'string' || parseIp(f.ip)?.canonical !== f.ip) fail('member', 'ip is not a canonical IP address');
  const w = f.weight;
  if (typeof w !== 'number' || !Number.isInteger(w) || w < LIMITS.weight.min || w > LIMITS.weight.max) {
    fail(`member ${f.ip}`, `weight must be ${LIMITS.weight.min}..${LIMITS.weight.max}`);
  }
  const p = f.port;
  if (p !== undefined && (typeof p !== 'number' || !Number.isInteger(p) || p < LIMITS.port.min || p > LIMITS.port.max)) {
    fail(`member ${f.ip}`, `port must be ${LIMITS.port.min}..${LIMITS.port.max}`);
  }
  if (!ADMIN.includes(f.admin as AdminState)) fail(`member ${f.ip}`, 'admin must be enabled or drained');
  if (!isTime(f.addedAtMs)) fail(`member ${f.ip}`, 'addedAtMs must be a time');
  const m: Member = { ip: f.ip, weight: w as number, admin: f.admin as AdminState, addedAtMs: f.addedAtMs };
  if (p !== undefined) m.port = p as number;
  return m;
}

export function toVerdictEntry(v: unknown): VerdictEntry {
  const f = fields(v) ?? fail('verdict', 'not an object');
  if (!isVerdict(f.verdict)) fail('verdict', 'verdict must be unknown, up or down');
  if (!isTime(f.sinceMs)) fail('verdict', 'sinceMs must be a time');
  const entry: VerdictEntry = { verdict: f.verdict, sinceMs: f.sinceMs };
  if (f.load !== undefined) entry.load = toMergedLoad(f.load, 'verdict');
  return entry;
}

function isFactor(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
}

function toMergedLoad(v: unknown, what: string): MergedLoad {
  const f = fields(v) ?? fail(what, 'load is not an object');
  if (!isFactor(f.factor)) fail(what, 'load factor must be 0..1');
  if (!LOAD_STATES.includes(f.state as LoadState)) fail(what, 'load state must be ready, drain, maint or down');
  return { factor: f.factor, state: f.state as LoadState };
}

function toLoadObservation(v: unknown, what: string): LoadObservation {
  const f = fields(v) ?? fail(what, 'load is not an object');
  const merged = toMergedLoad(f, what);
  if (!isTime(f.readMs)) fail(what, 'load readMs must be a time');
  const load: LoadObservation = { factor: merged.factor, state: merged.state, readMs: f.readMs };
  if (f.connections !== undefined) load.connections = isTime(f.connections) ? f.connections : fail(what, 'load connections must be >= 0');
  if (f.capacity !== undefined) load.capacity = isTime(f.capacity) ? f.capacity : fail(what, 'load capacity must be >= 0');
  if (f.error !== undefined) {
    load.error = typeof f.error === 'string' ? f.error.slice(0, MAX_ERROR_LENGTH) : fail(what, 'load error must be a string');
  }
  return load;
}

export function toObservation(v: unknown): Observation {
  const f = fields(v) ?? fail('observation', 'not an object');
  if (!isInstanceName(f.instance)) fail('observation', 'instance must be 1..255 printable characters without | or spaces');
  if (!isVerdict(f.state)) fail(`observation by ${f.instance}`, 'state must be unknown, up or down');
  if (!isTime(f.sinceMs)) fail(`observation by ${f.instance}`, 'sinceMs must be a time');
  const o: Observation = { instance: f.instance, state: f.state, sinceMs: f.sinceMs };
  if (f.lastProbeMs !== undefined) o.lastProbeMs = isTime(f.lastProbeMs) ? f.lastProbeMs : fail('observation', 'lastProbeMs must be a time');
  if (f.lastOk !== undefined) o.lastOk = typeof f.lastOk === 'boolean' ? f.lastOk : fail('observation', 'lastOk must be a boolean');
  if (f.lastLatencyMs !== undefined) o.lastLatencyMs = isTime(f.lastLatencyMs) ? f.lastLatencyMs : fail('observation', 'lastLatencyMs must be >= 0');
  if (f.lastError !== undefined) {
    o.lastError = typeof f.lastError === 'string' ? f.lastError.slice(0, MAX_ERROR_LENGTH) : fail('observation', 'lastError must be a string');
  }
  if (f.load !== undefined) o.load = toLoadObservation(f.load, `observation by ${f.instance}`);
  return o;
}

/** JSON.parse that reports through the same error type as the field checks. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fail(what, 'malformed JSON');
  }
}
