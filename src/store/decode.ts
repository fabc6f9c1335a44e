import { errorMessage } from '../util/errors';
import { parseJson, toMember, toObservation, toVerdictEntry } from './codec';
import { toPoolConfig } from '../model/poolConfig';
import { newRecord, type PoolRecord } from './record';

// Building a PoolRecord from what a store read back, entry by entry: a malformed entry is
// reported and skipped (TIERDNS_E_STORE_DATA in the log), the rest of the pool still serves.

export type ReportProblem = (problem: string) => void;

/** A stored value: JSON text (Redis) or an already-parsed value (file store). */
export type Stored = { json: string } | { value: unknown };

export interface StoredPool {
  config: Stored | undefined;
  members: Iterable<[ip: string, value: Stored]>;
  verdicts: Iterable<[ip: string, value: Stored]>;
  observations: Iterable<[ip: string, instance: string, value: Stored]>;
}

function load(s: Stored, what: string): unknown {
  return 'json' in s ? parseJson(s.json, what) : s.value;
}

/** The record, or undefined when the pool is absent or its config unusable. */
export function buildRecord(name: string, stored: StoredPool, report: ReportProblem): PoolRecord | undefined {
  const guard = <T>(what: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (err) {
      report(`pool ${name}: ${what}: ${errorMessage(err)}; skipped`);
      return undefined;
    }
  };
  if (stored.config === undefined) return undefined;
  const storedConfig = stored.config;
  const config = guard('config', () => toPoolConfig(load(storedConfig, 'config'), 'TIERDNS_E_STORE_DATA'));
  if (!config) return undefined;
  if (config.name !== name) {
    report(`pool ${name}: config names ${config.name}; skipped`);
    return undefined;
  }
  const rec = newRecord(config);
  for (const [ip, s] of stored.members) {
    const m = guard(`member ${ip}`, () => toMember(load(s, 'member')));
    if (m && m.ip === ip) rec.members.set(ip, m);
    else if (m) report(`pool ${name}: member entry ${ip} holds ${m.ip}; skipped`);
  }
  for (const [ip, s] of stored.verdicts) {
    const v = guard(`verdict ${ip}`, () => toVerdictEntry(load(s, 'verdict')));
    if (v) rec.verdicts.set(ip, v);
  }
  for (const [ip, instance, s] of stored.observations) {
    const o = guard(`observation ${ip}|${instance}`, () => toObservation(load(s, 'observation')));
    if (!o) continue;
    if (o.instance !== instance) {
      report(`pool ${name}: observation entry ${ip}|${instance} holds instance ${o.instance}; skipped`);
      continue;
    }
    let byInstance = rec.observations.get(ip);
    if (!byInstance) rec.observations.set(ip, (byInstance = new Map()));
    byInstance.set(instance, o);
  }
  return rec;
}
