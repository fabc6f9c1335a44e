import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../util/errors';
import { POOLS_PER_TURN, nextTurn } from '../util/turn';
import { buildRecord, type ReportProblem, type Stored } from '../store/decode';
import { writeFileAtomic } from '../store/fileDoc';
import { isPoolName } from '../model/names';
import { toPoolView } from '../store/record';
import { parseZoneList } from '../store/storeUtil';
import type { PoolView } from '../model/types';
import type { StoreSnapshot } from '../store/types';

// The last snapshot a serving instance saw, kept in its state dir (`snapshot.json`) so that an
// instance starting while the store is unreachable serves what it served before (docs/store.md).
// Maps are written as arrays/objects and every entry is validated again on load, like store data.

export const SNAPSHOT_FILE = 'snapshot.json';
const FORMAT = 'tierdns-snapshot';
const VERSION = 1;

/**
 * The snapshot as JSON (the saved format), a piece per pool, encoded POOLS_PER_TURN pools per
 * turn of the event loop, so a large save never blocks answers. Nothing holds the whole text,
 * nor any string longer than a pool's: text kept across turns outlives the young generation,
 * and the mark-compacts it calls for run V8's helper threads on the answering core
 * (docs/bench-history.md). writeFileAtomic copies the pieces into one buffer.
 */
export async function* snapshotChunks(snap: StoreSnapshot, savedAtMs: number, storeId?: string): AsyncGenerator<string> {
  // The store's identity first, so a start reads it without parsing the pools (readSavedStoreId).
  const id = storeId === undefined ? '' : `"storeId":${JSON.stringify(storeId)},`;
  yield `{"format":${JSON.stringify(FORMAT)},"version":${VERSION},"savedAtMs":${JSON.stringify(savedAtMs)},${id}"pools":[`;
  // A copy of the list: the live map may change while this yields.
  const views = [...snap.pools.values()];
  for (let i = 0; i < views.length; i++) {
    if (i > 0 && i % POOLS_PER_TURN === 0) await nextTurn();
    const json = JSON.stringify(views[i]);
    yield i > 0 ? `,${json}` : json;
  }
  yield `],"zones":${JSON.stringify(snap.zones)},"instances":${JSON.stringify(Object.fromEntries(snap.instances))}}`;
}

/** The whole saved text at once (tests, small snapshots). */
export async function serializeSnapshot(snap: StoreSnapshot, savedAtMs: number, storeId?: string): Promise<string> {
  const parts: string[] = [];
  for await (const chunk of snapshotChunks(snap, savedAtMs, storeId)) parts.push(chunk);
  return parts.join('');
}

/** Validate a saved snapshot; bad pools are reported and left out. */
export function parseSnapshot(text: string, report: ReportProblem): StoreSnapshot {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (raw.format !== FORMAT || raw.version !== VERSION) throw new Error(`not a ${FORMAT} version ${VERSION} file`);
  const pools = new Map<string, PoolView>();
  for (const v of Array.isArray(raw.pools) ? (raw.pools as unknown[]) : []) {
    const view = v as Partial<PoolView> | null;
    const name = (view?.config as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || !isPoolName(name) || !Array.isArray(view?.members)) {
      report('saved snapshot: a pool without a valid name or member list; skipped');
      continue;
    }
    const members: Array<[string, Stored]> = [];
    const verdicts: Array<[string, Stored]> = [];
    const observations: Array<[string, string, Stored]> = [];
    for (const m of view.members as unknown[]) {
      const { verdict, verdictSinceMs, load, observations: obs, ...member } = (m ?? {}) as Record<string, unknown>;
      const ip = String(member.ip);
      members.push([ip, { value: member }]);
      verdicts.push([ip, { value: load === undefined ? { verdict, sinceMs: verdictSinceMs } : { verdict, sinceMs: verdictSinceMs, load } }]);
      for (const o of Array.isArray(obs) ? obs : []) observations.push([ip, String((o as { instance?: unknown })?.instance), { value: o }]);
    }
    const rec = buildRecord(name, { config: { value: view.config }, members, verdicts, observations }, report);
    if (rec) pools.set(name, toPoolView(rec));
  }
  const instances = new Map<string, number>();
  if (typeof raw.instances === 'object' && raw.instances !== null) {
    for (const [k, ms] of Object.entries(raw.instances)) if (typeof ms === 'number') instances.set(k, ms);
  }
  return { pools, zones: parseZoneList(raw.zones, 'saved snapshot', report), instances };
}

/** The saved snapshot, or undefined when there is none or it is unusable (reported). */
export function loadSnapshot(stateDir: string, report: ReportProblem): { snapshot: StoreSnapshot; savedAtMs: number } | undefined {
  const path = join(stateDir, SNAPSHOT_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') report(`cannot read ${path}: ${errorMessage(err)}`);
    return undefined;
  }
  try {
    const savedAtMs = Number((JSON.parse(text) as { savedAtMs?: unknown }).savedAtMs) || 0;
    return { snapshot: parseSnapshot(text, report), savedAtMs };
  } catch (err) {
    report(`${path}: ${errorMessage(err)}; ignored`);
    return undefined;
  }
}

/** Write temp + fsync + rename, so a crash leaves the old snapshot or the new one, never half. */
export async function saveSnapshot(stateDir: string, snap: StoreSnapshot, savedAtMs: number, storeId?: string): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  await writeFileAtomic(join(stateDir, SNAPSHOT_FILE), snapshotChunks(snap, savedAtMs, storeId));
}

/** Saves to one state dir, debounced so that a burst of changes costs one write; never two at once. */
export class SnapshotSaver {
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;

  /** `current`: the snapshot to save and the identity of the store it descends from. */
  constructor(
    private readonly stateDir: string, private readonly delayMs: number, private readonly log: Logger,
    private readonly current: () => { snap: StoreSnapshot; storeId: string | undefined },
  ) {}

  /** Save within delayMs (a save already pending covers this one). */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Write a pending save now; resolves once no save is running. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.save();
    }
    await this.saving;
  }

  private async save(): Promise<void> {
    await this.saving;
    const { snap, storeId } = this.current();
    this.saving = saveSnapshot(this.stateDir, snap, Date.now(), storeId).catch((err: unknown) => {
      this.log.warn({ err: errorMessage(err), stateDir: this.stateDir }, 'store: saving the snapshot failed');
    });
    await this.saving;
  }
}

/**
 * The identity of the store the saved snapshot came from (undefined: no snapshot, or one saved
 * before identities, or unreadable), from the head of the file alone: every start reads it.
 */
export function readSavedStoreId(stateDir: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(join(stateDir, SNAPSHOT_FILE), 'r');
    const head = Buffer.alloc(256);
    const n = readSync(fd, head, 0, head.length, 0);
    const m = /^\{"format":"tierdns-snapshot","version":1,"savedAtMs":-?[\d.e+]+,"storeId":"([0-9a-f]{32})"/.exec(head.toString('latin1', 0, n));
    return m?.[1];
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
