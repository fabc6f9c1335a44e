import { TierdnsError } from '../util/errors';
import { own, writeFileAtomic } from './fileDoc';

// The file store's heartbeat sidecar, PATH.live, next to the document (fileDoc.ts):
//   { "format": "tierdns-live", "version": 1, "instances": { name: last heartbeat ms } }
// Every instance beats once a second; keeping the beats here means a beat that changes no
// verdict rewrites these few hundred bytes, not the whole document, and does not bump the
// document's seq (watchers filter by the document's file name, so they never look at this one).
// It is written under the document's lock, by the same temp + fsync + rename.

export const LIVE_FORMAT = 'tierdns-live';
export const LIVE_VERSION = 1;

export function livePath(storePath: string): string {
  return `${storePath}.live`;
}

/** Heartbeats from the sidecar's text; TIERDNS_E_STORE_DATA when it is not one, _VERSION when newer. */
export function parseLive(text: string, path: string): Map<string, number> {
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch {
    throw new TierdnsError('TIERDNS_E_STORE_DATA', `heartbeat file ${path} is not valid JSON`);
  }
  if (own(raw, 'format') !== LIVE_FORMAT) {
    throw new TierdnsError('TIERDNS_E_STORE_DATA', `heartbeat file ${path} is not a tierdns heartbeat file (format '${LIVE_FORMAT}' expected)`);
  }
  const version = own(raw, 'version');
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new TierdnsError('TIERDNS_E_STORE_DATA', `heartbeat file ${path} has no valid version`);
  }
  // Newer is refused, not overwritten: reading it as empty would make this build prune every
  // instance the newer one keeps there, and drop their votes.
  if (version > LIVE_VERSION) {
    throw new TierdnsError('TIERDNS_E_STORE_VERSION',
      `heartbeat file ${path} has version ${version}; this tierdns understands ${LIVE_VERSION}: upgrade tierdns`);
  }
  const instances = own(raw, 'instances');
  const out = new Map<string, number>();
  if (typeof instances !== 'object' || instances === null || Array.isArray(instances)) return out;
  for (const [name, ms] of Object.entries(instances)) if (typeof ms === 'number' && Number.isFinite(ms)) out.set(name, ms);
  return out;
}

export function serializeLive(beats: ReadonlyMap<string, number>): string {
  // fromEntries defines own properties, so an instance named "__proto__" stays a key.
  const instances = Object.fromEntries([...beats].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ format: LIVE_FORMAT, version: LIVE_VERSION, instances })}\n`;
}

export function writeLiveAtomic(path: string, beats: ReadonlyMap<string, number>): Promise<void> {
  return writeFileAtomic(path, serializeLive(beats));
}

/** The sidecar's beats merged with those an older build kept in the document: newest per instance. */
export function mergeBeats(sidecar: ReadonlyMap<string, number>, legacy: Record<string, unknown>): Map<string, number> {
  const out = new Map(sidecar);
  for (const [name, ms] of Object.entries(legacy)) {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) continue;
    const have = out.get(name);
    if (have === undefined || ms > have) out.set(name, ms);
  }
  return out;
}

/** Instances whose last beat is at or after `cutoffMs`. */
export function liveSince(beats: ReadonlyMap<string, number>, cutoffMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, ms] of beats) if (ms >= cutoffMs) out.set(name, ms);
  return out;
}
