import { TierdnsError } from '../util/errors';
import { isPoolName } from '../model/names';
import type { ReportProblem } from './decode';

// Small helpers both stores share.

/** Runs async sections one at a time, in call order (a promise chain). */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => Promise<T>): Promise<T> {
    const result = this.tail.then(section, section);
    // The chain must survive a failing section; callers see the failure through `result`.
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** A Mutex per key (kept only while a section of that key runs or waits). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(section, section);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** Jittered pause before retrying a lost race, growing with the attempt, at most ~50 ms. */
export function retryPause(attempt: number): Promise<void> {
  const ms = Math.min(attempt * 2, 40) + Math.random() * 10;
  return new Promise((r) => setTimeout(r, ms));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function isZoneName(z: unknown): z is string {
  return z === '' || (typeof z === 'string' && isPoolName(z));
}

/** Zone origins as published by an instance: canonical names ('' is the root), sorted, unique. */
export function checkZones(zones: readonly string[]): string[] {
  for (const z of zones) {
    if (!isZoneName(z)) throw new TierdnsError('TIERDNS_E_BAD_VALUE', `zone '${z}' is not a canonical zone name`);
  }
  return [...new Set(zones)].sort();
}

/** A stored zone list; bad entries are reported and skipped. */
export function parseZoneList(json: unknown, instance: string, report: ReportProblem): string[] {
  let list: unknown = json;
  if (typeof json === 'string') {
    try {
      list = JSON.parse(json) as unknown;
    } catch {
      report(`zones of instance ${instance}: malformed JSON; skipped`);
      return [];
    }
  }
  if (!Array.isArray(list)) {
    report(`zones of instance ${instance}: not a list; skipped`);
    return [];
  }
  return list.filter((z: unknown) => isZoneName(z) || (report(`zones of instance ${instance}: bad zone ${String(z)}; skipped`), false));
}
