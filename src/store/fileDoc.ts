import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TierdnsError, errorMessage } from '../util/errors';
import { buildRecord, type ReportProblem, type Stored } from './decode';
import { parseIdentity, type StoreIdentity } from './identity';
import type { PoolMutation, PoolRecord } from './record';

// The embedded store's JSON document, version 2 (docs/store.md, "The file store"):
//   { "format": "tierdns-store", "version": 2, "seq": N,
//     "recent": [{ "seq": N, "pools": [names a write changed, "*" = everything] }, … last 32],
//     "identity": { "id", "absorbed", "by", "atMs" } (store/identity.ts; absent until first used),
//     "pools": { name: { "config": PoolConfig, "members": { ip: Member },
//                        "verdicts": { ip: {verdict, sinceMs} }, "observations": { ip: { instance: Observation } } } },
//     "instances": {}, "zones": { instance: [zone, …] },
//     "zoneRules": { zone: ZonePoolRules } }   (where pools cannot be: model/poolNameRules.ts)
// Heartbeats are not in this document but in a small sidecar, PATH.live (fileLive.ts): every
// instance beats once a second, and rewriting a few hundred bytes instead of the whole document
// keeps a store of thousands of pools from stalling the event loop each second. Earlier builds
// kept them in `instances` ({ name: last heartbeat ms }); that is still read (merged with the
// sidecar, newest wins) and emptied by the first write that finds it filled.
// `seq` and `recent` come first so a watcher can tell from the head of the file which pools
// changed without parsing the rest. Version 1 lacked the identity and is read as a store
// without one; version 2 is refused by builds that would drop the identity when rewriting it.
// Keys may be names like "__proto__": every access below uses own properties only.

export const FILE_FORMAT = 'tierdns-store';
export const FILE_VERSION = 2;
const RECENT = 32;

type Obj = Record<string, unknown>;

export interface FileDoc {
  format: string;
  version: number;
  seq: number;
  recent: Array<{ seq: number; pools: string[] }>;
  identity?: StoreIdentity;
  pools: Obj;
  instances: Obj;
  zones: Obj;
  /** Per zone origin, the last published ZonePoolRules (an older build drops it on rewrite; it is published again). */
  zoneRules: Obj;
}

export function emptyDoc(): FileDoc {
  return { format: FILE_FORMAT, version: FILE_VERSION, seq: 0, recent: [], pools: {}, instances: {}, zones: {}, zoneRules: {} };
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function own(o: unknown, key: string): unknown {
  return isObj(o) && Object.hasOwn(o, key) ? o[key] : undefined;
}

export function put(o: Obj, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function child(o: Obj, key: string): Obj {
  const c = own(o, key);
  if (isObj(c)) return c;
  const fresh: Obj = {};
  put(o, key, fresh);
  return fresh;
}

/** Parse the whole file; a file we cannot trust is refused rather than overwritten. */
export function parseDoc(text: string, path: string): FileDoc {
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch {
    throw new TierdnsError('TIERDNS_E_STORE_DATA', `file store ${path} is not valid JSON; fix or move it (nothing was changed)`);
  }
  if (!isObj(raw) || raw.format !== FILE_FORMAT) {
    throw new TierdnsError('TIERDNS_E_STORE_DATA', `file store ${path} is not a tierdns store (format '${FILE_FORMAT}' expected)`);
  }
  if (typeof raw.version !== 'number' || !Number.isInteger(raw.version) || raw.version > FILE_VERSION || raw.version < 1) {
    throw new TierdnsError('TIERDNS_E_STORE_VERSION',
      `file store ${path} has version ${String(raw.version)}; this tierdns understands ${FILE_VERSION}: upgrade tierdns`);
  }
  const seq = typeof raw.seq === 'number' && Number.isInteger(raw.seq) && raw.seq >= 0 ? raw.seq : 0;
  const recent = Array.isArray(raw.recent)
    ? raw.recent.filter((r): r is { seq: number; pools: string[] } =>
      isObj(r) && typeof r.seq === 'number' && Array.isArray(r.pools) && r.pools.every((p) => typeof p === 'string'))
    : [];
  const doc: FileDoc = {
    format: FILE_FORMAT, version: raw.version, seq, recent,
    pools: isObj(raw.pools) ? raw.pools : {},
    instances: isObj(raw.instances) ? raw.instances : {},
    zones: isObj(raw.zones) ? raw.zones : {},
    zoneRules: isObj(raw.zoneRules) ? raw.zoneRules : {},
  };
  // Unreadable is refused like a newer version: taken as "none", it would start a re-seed.
  if (raw.identity !== undefined) {
    try {
      doc.identity = parseIdentity(raw.identity);
    } catch (err) {
      throw new TierdnsError('TIERDNS_E_STORE_DATA', `file store ${path}: ${errorMessage(err)}; fix or move it (nothing was changed)`);
    }
  }
  return doc;
}

/** seq and recent from the first bytes of the file, or undefined when they are not there. */
export function readHead(head: string): { seq: number; recent: FileDoc['recent'] } | undefined {
  const seqMatch = /^\{\s*"format":\s*"[^"]*",\s*"version":\s*\d+,\s*"seq":\s*(\d+),\s*"recent":\s*\[/.exec(head);
  if (!seqMatch) return undefined;
  // Pool names never contain brackets or quotes, so counting brackets finds the end of the list.
  let depth = 0;
  const start = seqMatch[0].length - 1;
  for (let i = start; i < head.length; i++) {
    const ch = head[i];
    if (ch === '[') depth++;
    else if (ch === ']' && --depth === 0) {
      try {
        return { seq: Number(seqMatch[1]), recent: JSON.parse(head.slice(start, i + 1)) as FileDoc['recent'] };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function poolNames(doc: FileDoc): string[] {
  return Object.keys(doc.pools);
}

/** One pool as a record; present is true when the entry exists even if unusable. */
export function decodeDocPool(doc: FileDoc, name: string, report: ReportProblem): { record?: PoolRecord; present: boolean } {
  return decodeRawPool(name, own(doc.pools, name), report);
}

/** decodeDocPool for a pool's raw entry (undefined: absent). */
export function decodeRawPool(name: string, raw: unknown, report: ReportProblem): { record?: PoolRecord; present: boolean } {
  if (raw === undefined) return { present: false };
  if (!isObj(raw)) {
    report(`pool ${name}: not an object; skipped`);
    return { present: true };
  }
  const entries = (o: unknown): Array<[string, Stored]> => (isObj(o) ? Object.entries(o).map(([k, v]) => [k, { value: v }]) : []);
  const observations: Array<[string, string, Stored]> = [];
  for (const [ip, byInstance] of entries(raw.observations)) {
    for (const [instance, s] of entries((byInstance as { value: unknown }).value)) observations.push([ip, instance, s]);
  }
  const record = buildRecord(name, {
    config: raw.config === undefined ? undefined : { value: raw.config },
    members: entries(raw.members),
    verdicts: entries(raw.verdicts),
    observations,
  }, report);
  return record ? { record, present: true } : { present: true };
}

/** Apply a mutation to the raw document (records pass through JSON, so stored values are plain data). */
export function applyToDoc(doc: FileDoc, name: string, m: PoolMutation): void {
  if (m.removePool) {
    delete doc.pools[name];
    return;
  }
  // Copy-on-write (see Tx.edit in fileTx.ts): the pool entry is replaced, never edited in place.
  const existing = own(doc.pools, name);
  const pool: Obj = isObj(existing) ? structuredClone(existing) : {};
  put(doc.pools, name, pool);
  if (m.config) put(pool, 'config', { ...m.config });
  const members = child(pool, 'members');
  const verdicts = child(pool, 'verdicts');
  const observations = child(pool, 'observations');
  for (const ip of m.removeMembers) {
    delete members[ip];
    delete verdicts[ip];
    delete observations[ip];
  }
  for (const member of m.setMembers) put(members, member.ip, { ...member });
  for (const [ip, entry] of m.setVerdicts) put(verdicts, ip, { ...entry });
  for (const [ip, instance] of m.removeObservations) {
    const byInstance = own(observations, ip);
    if (isObj(byInstance)) delete byInstance[instance];
  }
  for (const [ip, obs] of m.setObservations) put(child(observations, ip), obs.instance, { ...obs });
}

/** Record that a write changed `pools` (for watchers reading only the head). */
/** Bytes of pool names one `recent` entry may hold; past it the entry says '*'. 32 entries stay < 64 KiB. */
const RECENT_ENTRY_BYTES = 1800;

export function bumpSeq(doc: FileDoc, pools: Iterable<string>): void {
  doc.seq += 1;
  const names = [...new Set(pools)].sort();
  // A bulk write names "every pool" instead: the head must stay small enough for watchers to
  // read (HEAD_BYTES in fileWatch.ts), or every later write would make them re-read it all.
  doc.recent = [...doc.recent, { seq: doc.seq, pools: listBytes(names) > RECENT_ENTRY_BYTES ? ['*'] : names }].slice(-RECENT);
}

/** Size of a name list as serializeDocChunks writes it (quotes, comma, newline, indentation). */
function listBytes(names: string[]): number {
  let n = 0;
  for (const name of names) n += name.length + 8;
  return n;
}

/**
 * Each pool's line of the document, UTF-8 encoded, by pool object. Pool objects are never
 * edited once in a document (applyToDoc replaces them), so a rewrite encodes only the pools
 * it changed and hands the rest to writev as they are: no document-sized string is built.
 * Joining and encoding the whole text at every write blocked the event loop for time that
 * grows with the store, and answers waited behind it.
 */
const poolLine = new WeakMap<object, { name: string; line: Buffer }>();

function poolEntry(name: string, pool: unknown): Buffer {
  const cacheable = isObj(pool);
  const hit = cacheable ? poolLine.get(pool) : undefined;
  if (hit && hit.name === name) return hit.line;
  const line = Buffer.from(`${JSON.stringify(name)}: ${JSON.stringify(pool) ?? 'null'}`);
  if (cacheable) poolLine.set(pool, { name, line });
  return line;
}

const SEP_FIRST = Buffer.from('\n  ');
const SEP = Buffer.from(',\n  ');

/** The document as chunks to write in order (the pools' chunks are shared between rewrites). */
export function serializeDocChunks(doc: FileDoc): Buffer[] {
  // Key order matters: format, version, seq, recent first (see readHead). One pool per line.
  const { format, seq, recent, identity, pools, instances, zones, zoneRules } = doc;
  // Written as this build's version whatever was read: the identity is in it.
  const chunks: Buffer[] = [Buffer.from(
    `{\n "format": ${JSON.stringify(format)},\n "version": ${String(FILE_VERSION)},\n "seq": ${String(seq)},\n "recent": ${JSON.stringify(recent)},\n${
      identity ? ` "identity": ${JSON.stringify(identity)},\n` : ''} "pools": {`,
  )];
  let first = true;
  for (const name in pools) {
    if (!Object.hasOwn(pools, name)) continue;
    chunks.push(first ? SEP_FIRST : SEP, poolEntry(name, pools[name]));
    first = false;
  }
  chunks.push(Buffer.from(`${first ? '}' : '\n }'},\n "instances": ${JSON.stringify(instances)},\n "zones": ${JSON.stringify(zones)},\n "zoneRules": ${JSON.stringify(zoneRules)}\n}\n`));
  return chunks;
}

/** A document whose top-level maps may be edited without touching `doc` (pools are replaced, not edited: applyToDoc). */
export function shallowCopy(doc: FileDoc): FileDoc {
  // Spread defines own properties, so a key like "__proto__" stays a key.
  return { ...doc, recent: [...doc.recent], pools: { ...doc.pools }, instances: { ...doc.instances }, zones: { ...doc.zones }, zoneRules: { ...doc.zoneRules } };
}

/** Instances with an observation in a pool's raw entry. */
export function voters(doc: FileDoc, pool: string): string[] {
  const observations = own(own(doc.pools, pool), 'observations');
  if (typeof observations !== 'object' || observations === null) return [];
  return Object.values(observations).flatMap((byInstance: unknown) =>
    typeof byInstance === 'object' && byInstance !== null ? Object.keys(byInstance) : []);
}

export function writeDocAtomic(path: string, doc: FileDoc): Promise<void> {
  return writeFileAtomic(path, serializeDocChunks(doc));
}

/**
 * Pieces of text gathered in one reused buffer and written when it is full. A Buffer per
 * piece (or per few of them) left glibc's heap larger for good once freed, and
 * strings held across the writes were promoted: one buffer is an mmap of its own, returned
 * when freed, and every piece dies young.
 */
async function writePieces(fh: FileHandle, pieces: AsyncIterable<string>): Promise<void> {
  let scratch = Buffer.allocUnsafe(256 * 1024);
  let used = 0;
  for await (const piece of pieces) {
    const need = Buffer.byteLength(piece);
    if (used + need > scratch.length) {
      if (used > 0) await writeAll(fh, [scratch.subarray(0, used)]);
      used = 0;
      if (need > scratch.length) scratch = Buffer.allocUnsafe(need);
    }
    used += scratch.write(piece, used);
  }
  if (used > 0) await writeAll(fh, [scratch.subarray(0, used)]);
}

/** writev until every chunk is written (a short write resumes where it stopped). */
async function writeAll(fh: FileHandle, chunks: Buffer[]): Promise<void> {
  // Bounded batches: libuv copies the iovec array of each call.
  const BATCH = 1024;
  for (let i = 0; i < chunks.length; i += BATCH) {
    let batch = chunks.slice(i, i + BATCH);
    let left = batch.reduce((n, b) => n + b.length, 0);
    while (left > 0) {
      const { bytesWritten } = await fh.writev(batch);
      left -= bytesWritten;
      if (left === 0) break;
      let skip = bytesWritten;
      while (skip >= (batch[0] as Buffer).length) skip -= (batch.shift() as Buffer).length;
      if (skip > 0) batch = [(batch[0] as Buffer).subarray(skip), ...batch.slice(1)];
    }
  }
}

/** Write temp + fsync + rename (+ fsync of the directory): readers see the old file or the new one, never half. */
export async function writeFileAtomic(path: string, content: string | Buffer[] | AsyncIterable<string>): Promise<void> {
  const dir = dirname(path);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    try {
      if (typeof content === 'string') await fh.writeFile(content);
      else if (Array.isArray(content)) await writeAll(fh, content);
      else await writePieces(fh, content);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    // A full disk, or content that failed half way: no temp file left behind.
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // The rename itself must survive a crash too; some filesystems cannot fsync a directory.
  await open(dir, 'r').then(async (d) => { await d.sync().catch(() => undefined); await d.close(); }, () => undefined);
}
