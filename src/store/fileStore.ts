import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { TierdnsError, errorMessage } from '../util/errors';
import { POOLS_PER_TURN, nextTurn } from '../util/turn';
import { liveSince, livePath, mergeBeats, parseLive, writeLiveAtomic } from './fileLive';
import { FileLock } from './fileLock';
import {
  applyToDoc, bumpSeq, decodeDocPool, decodeRawPool, emptyDoc, own, parseDoc, poolNames, put, shallowCopy, voters, writeDocAtomic, type FileDoc,
} from './fileDoc';
import { buildRecord } from './decode';
import { readHeadSeq, watchFile, type FileWatch } from './fileWatch';
import { isPoolName } from '../model/names';
import { parseZonePoolRules, type ZonePoolRules } from '../model/poolNameRules';
import {
  checkInstanceName, opRecompute, opRecordObservation, opRefreshObservation, opRemoveMember, opRemovePool, opUpdateMember, opUpdatePool,
  type OpResult,
} from './ops';
import { opRemoveForSync, opSyncPool, opUpdateMembers } from './bulkOps';
import { emptyMutation, isEmptyMutation, newRecord, toPoolView, type PoolMutation, type PoolRecord } from './record';
import { checkIdentity, descendsFrom, firstIdentity, nextIdentity, opSeedPool, type IdentityClaim, type IdentityClaimResult } from './identity';
import { checkZones, parseZoneList } from './storeUtil';
import type { MemberView, Observation, PoolConfig, PoolView, Verdict } from '../model/types';
import type { InSync, MemberChange, MemberUpdate, Store, StoreChange, StoreSnapshot, StoreStatus } from './types';
import type { PoolPlan, PoolSpec } from '../model/poolPlan';

// The embedded store (`file:PATH`, docs/store.md): one JSON document, the same rules as Redis
// (ops.ts), plus the heartbeats in a small sidecar (PATH.live, fileLive.ts) so the beat every
// instance sends each second does not rewrite the whole document. Every write is lock → read →
// apply → write temp + fsync → rename → unlock, so readers never see a torn file and concurrent
// writers (CLI processes, a server) never lose an update. Writes queued in this process
// meanwhile share one lock and one rewrite of each file they change.

export interface FileStoreOptions {
  log: Logger;
  /** Heartbeat age past which an instance stops voting, until heartbeat() passes its own TTL (ms). */
  instanceTtlMs: number;
  nowMs: () => number;
  /** Poll period backing up fs.watch, which misses events on some filesystems (ms). */
  pollMs: number;
}

/** One batch of jobs under the lock. */
class Tx {
  private copy: FileDoc | undefined;
  /** Rewrite the sidecar. */
  beatsDirty = false;
  /** Pools to name in the document's `recent` list. */
  readonly pools = new Set<string>();

  /** `beats`: every instance's last heartbeat, the sidecar merged with the document's legacy `instances`. */
  constructor(private readonly committed: FileDoc, readonly beats: Map<string, number>) {}

  /** The document as the batch has left it so far; read only (edit() to change it). */
  get doc(): FileDoc {
    return this.copy ?? this.committed;
  }

  /** Rewrite the document (and bump seq, so watchers look). */
  get dirty(): boolean {
    return this.copy !== undefined;
  }

  /**
   * The document to change. Copy-on-write: readers in this process keep the committed document
   * until the rename. The copy is made on first use only: copying the top level of a large store
   * is work that a heartbeat, which changes only the sidecar, need not pay for.
   */
  edit(): FileDoc {
    this.copy ??= shallowCopy(this.committed);
    return this.copy;
  }
}

interface Job {
  apply: (tx: Tx) => unknown;
  /**
   * A heartbeat's shortcut: apply it to the sidecar's beats alone and return true, or return
   * false when it needs the document after all (an instance to drop or newly back).
   */
  beatOnly?: (beats: Map<string, number>) => boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** How long an unused parsed document is kept (ms). */
const CACHE_IDLE_MS = 10_000;

export class FileStore implements Store {
  readonly description: string;
  /**
   * Every write rewrites the whole document (event-loop time and an fsync that grow with the
   * store), so last-probe details (`status`) are refreshed once a minute per member, not every
   * 5 s: a handful of probed members in a big store would otherwise rewrite it constantly.
   */
  readonly observationRefreshMs = 60_000;
  private readonly lock: FileLock;
  private queue: Job[] = [];
  private flushRunning = false;
  private flushing: Promise<void> | undefined;
  private cache: { key: string; doc: FileDoc } | undefined;
  private cacheTimer: NodeJS.Timeout | undefined;
  private readonly livePath: string;
  private liveCache: { key: string; beats: ReadonlyMap<string, number> } | undefined;
  private instanceTtlMs: number;
  private readonly watches = new Set<FileWatch>();
  /** Per watch: its silent edits already covered by a full read (see inSync). */
  private readonly silentSeen = new WeakMap<FileWatch, number>();
  /** The identity the last full read or claim found (readPool checks it: see Store.readPool). */
  private identityId: string | undefined;

  constructor(readonly path: string, private readonly opts: FileStoreOptions) {
    this.description = `file:${path}`;
    this.lock = new FileLock(`${path}.lock`);
    this.livePath = livePath(path);
    this.instanceTtlMs = opts.instanceTtlMs;
  }

  private report = (problem: string): void => {
    this.opts.log.warn({ code: 'TIERDNS_E_STORE_DATA', store: this.description }, `store: ${problem}`);
  };

  private statKey(path = this.path): string | undefined {
    try {
      const s = statSync(path, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      return undefined;
    }
  }

  /** The current document; unchanged files are not parsed again (writes replace the inode). */
  private async readDoc(): Promise<FileDoc> {
    const key = this.statKey();
    if (key === undefined) return emptyDoc();
    if (this.cache?.key === key) {
      this.touchCache();
      return this.cache.doc;
    }
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyDoc();
      throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', `cannot read ${this.path}: ${errorMessage(err)}`);
    }
    const doc = parseDoc(text, this.path);
    // Only cache what stat still describes: the file may have been replaced while we read it.
    if (this.statKey() === key) this.setCache({ key, doc });
    return doc;
  }

  private setCache(cache: { key: string; doc: FileDoc }): void {
    this.cache = cache;
    this.touchCache();
  }

  /**
   * The parsed document is kept while it is in use (writes in a row, several pools re-read for
   * one change) and dropped after CACHE_IDLE_MS without use: for a large store it is memory
   * that a serving instance, which answers from its own snapshot, does not otherwise need.
   */
  private touchCache(): void {
    if (this.cacheTimer) this.cacheTimer.refresh();
    else {
      this.cacheTimer = setTimeout(() => {
        this.cacheTimer = undefined;
        this.cache = undefined;
      }, CACHE_IDLE_MS);
      this.cacheTimer.unref();
    }
  }

  /**
   * The sidecar's heartbeats. It is a few hundred bytes, so a sync read costs less than the
   * promise machinery of an async one, and inside a transaction it runs under the lock. Missing
   * means no beat since this build (or none ever); unreadable or corrupt is reported once per
   * version of the file and read as empty: the next heartbeat rewrites it whole.
   */
  private readBeats(): ReadonlyMap<string, number> {
    const key = this.statKey(this.livePath);
    if (key === undefined) return new Map();
    if (this.liveCache?.key === key) return this.liveCache.beats;
    let beats: ReadonlyMap<string, number>;
    try {
      beats = parseLive(readFileSync(this.livePath, 'utf8'), this.livePath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      if (err instanceof TierdnsError && err.code === 'TIERDNS_E_STORE_VERSION') throw err;
      this.report(`${errorMessage(err)}; read as no heartbeats until the next one rewrites it`);
      beats = new Map();
    }
    // Cached with the key read before: a corrupt file is reported again only once it changes.
    if (this.statKey(this.livePath) === key) this.liveCache = { key, beats };
    return beats;
  }

  /** Last heartbeat of every instance, from the sidecar and what an older build left in the document. */
  private beatsOf(doc: FileDoc): Map<string, number> {
    return mergeBeats(this.readBeats(), doc.instances);
  }

  /** Queue a read-modify-write; jobs queued together share one lock and one rewrite. */
  private transaction<T>(apply: (tx: Tx) => T, beatOnly?: (beats: Map<string, number>) => boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ apply, beatOnly, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushRunning) {
        this.flushRunning = true;
        this.flushing = this.flush();
      }
    });
  }

  private async flush(): Promise<void> {
    for (;;) {
      // Checked and cleared synchronously after the previous batch resolved its jobs, so a job
      // queued by their continuations either is seen here or starts a new flush.
      if (this.queue.length === 0) {
        this.flushRunning = false;
        return;
      }
      const jobs = this.queue;
      this.queue = [];
      const results: Array<{ ok: boolean; value: unknown }> = [];
      try {
        await mkdir(dirname(this.path), { recursive: true });
        await this.lock.acquire();
        try {
          if (await this.beatsOnly(jobs)) {
            for (let i = 0; i < jobs.length; i++) results.push({ ok: true, value: undefined });
          } else {
            const doc = await this.readDoc();
            const tx = new Tx(doc, this.beatsOf(doc));
            for (const job of jobs) {
              try {
                results.push({ ok: true, value: job.apply(tx) });
              } catch (err) {
                results.push({ ok: false, value: err });
              }
            }
            await this.commit(tx);
          }
        } finally {
          this.lock.release();
        }
      } catch (err) {
        const failure = err instanceof TierdnsError ? err
          : new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', `cannot update ${this.path}: ${errorMessage(err)}`);
        for (const job of jobs) job.reject(failure);
        continue;
      }
      jobs.forEach((job, i) => {
        const r = results[i] as { ok: boolean; value: unknown };
        if (r.ok) job.resolve(r.value);
        else job.reject(r.value);
      });
    }
  }

  /**
   * A batch of nothing but routine heartbeats: rewrite the sidecar without reading the
   * document, so a serving instance does not keep (or re-parse) the whole parsed document
   * just to beat once a second. False (nothing written) when any of them needs the document.
   */
  private async beatsOnly(jobs: Job[]): Promise<boolean> {
    if (!jobs.every((job) => job.beatOnly)) return false;
    const beats = new Map(this.readBeats());
    if (!jobs.every((job) => (job.beatOnly as (b: Map<string, number>) => boolean)(beats))) return false;
    this.liveCache = undefined;
    await writeLiveAtomic(this.livePath, beats);
    const key = this.statKey(this.livePath);
    if (key !== undefined) this.liveCache = { key, beats };
    return true;
  }

  /** Write what the batch changed; we hold the lock. */
  private async commit(tx: Tx): Promise<void> {
    // Beats an older build left in the document move to the sidecar (tx.beats holds them
    // already) at the first write that finds them, so the document stops carrying them and an
    // older build still running does not see them go stale and prune live instances.
    if ((tx.dirty || tx.beatsDirty) && Object.keys(tx.doc.instances).length > 0) {
      tx.edit().instances = {};
      tx.beatsDirty = true;
    }
    // Document first: a crash between the two writes then leaves a stale instance in the
    // sidecar, which the next heartbeat prunes again (its votes already gone), rather than
    // votes of an instance no heartbeat will ever prune.
    if (tx.dirty) {
      const doc = tx.edit();
      doc.identity ??= firstIdentity(this.opts.nowMs());
      bumpSeq(doc, tx.pools);
      this.cache = undefined;
      await writeDocAtomic(this.path, doc);
      // We still hold the lock, so the file on disk is the one just written.
      const key = this.statKey();
      if (key !== undefined) this.setCache({ key, doc });
    }
    if (tx.beatsDirty) {
      this.liveCache = undefined;
      try {
        await writeLiveAtomic(this.livePath, tx.beats);
      } catch (err) {
        // The document (if any) is written: those jobs succeeded. A lost beat is sent again
        // within a second, so only a batch of nothing but beats fails.
        if (tx.dirty) {
          this.opts.log.warn({ store: this.description, err: errorMessage(err) }, 'store: heartbeats not written; retrying with the next beat');
          return;
        }
        throw err;
      }
      const key = this.statKey(this.livePath);
      if (key !== undefined) this.liveCache = { key, beats: tx.beats };
    }
  }

  /** Run a pure op on one pool inside a transaction. */
  private poolTx<T>(name: string, op: (rec: PoolRecord | undefined, live: Set<string>, present: boolean) => OpResult<T>): Promise<T> {
    return this.transaction((tx) => {
      const { record, present } = decodeDocPool(tx.doc, name, this.report);
      const live = new Set(liveSince(tx.beats, this.opts.nowMs() - this.instanceTtlMs).keys());
      const res = op(record, live, present);
      if (!isEmptyMutation(res.mutation)) {
        applyToDoc(tx.edit(), name, res.mutation);
        if (res.mutation.notify) tx.pools.add(name);
      }
      return res.result;
    });
  }

  async snapshot(): Promise<StoreSnapshot> {
    const doc = await this.readDoc();
    const pools = new Map<string, PoolView>();
    let n = 0;
    for (const name of poolNames(doc).sort()) {
      // The event loop answers queries between slices (the parsed doc is never edited in place).
      if (++n % POOLS_PER_TURN === 0) await nextTurn();
      if (!isPoolName(name)) {
        this.report(`pool entry with invalid name '${name}'; skipped`);
        continue;
      }
      const view = lazyPoolView(doc, name, this.report);
      if (view) pools.set(name, view);
    }
    if (doc.identity) this.identityId = doc.identity.id;
    const snap: StoreSnapshot = { pools, zones: this.zonesOf(doc), instances: liveSince(this.beatsOf(doc), this.opts.nowMs() - this.instanceTtlMs) };
    if (doc.identity) snap.identity = doc.identity;
    return snap;
  }

  private zonesOf(doc: FileDoc): string[] {
    const zones = new Set<string>();
    for (const [inst, list] of Object.entries(doc.zones)) for (const z of parseZoneList(list, inst, this.report)) zones.add(z);
    return [...zones].sort();
  }

  async readZones(): Promise<string[]> {
    return this.zonesOf(await this.readDoc());
  }

  async readPool(name: string): Promise<PoolView | undefined> {
    const doc = await this.readDoc();
    checkIdentity(this.identityId, doc.identity, this.description);
    const { record } = decodeDocPool(doc, name, this.report);
    return record && toPoolView(record);
  }

  /** Stamp or re-seed the document under the lock (see Store.claimIdentity). */
  async claimIdentity(claim: IdentityClaim): Promise<IdentityClaimResult> {
    const result = await this.transaction((tx): IdentityClaimResult => {
      const current = tx.doc.identity;
      if (current && descendsFrom(current, claim.lostId)) return { identity: current, seeded: false };
      const doc = tx.edit();
      for (const view of claim.pools) {
        const mutation = opSeedPool(decodeDocPool(doc, view.config.name, this.report).record, view);
        if (isEmptyMutation(mutation)) continue;
        applyToDoc(doc, view.config.name, mutation);
        // '*' in the document's recent list: watchers re-read everything.
        tx.pools.add('*');
      }
      doc.identity = nextIdentity(current, claim);
      return { identity: doc.identity, seeded: true };
    });
    this.identityId = result.identity.id;
    return result;
  }

  async setPool(config: PoolConfig): Promise<void> {
    await this.poolTx(config.name, (rec) => opUpdatePool(rec, config.name, () => config, this.opts.nowMs()));
  }

  /** Read-modify-write of one pool's config under the lock (`pool set` changes only the flags given). */
  updatePool(name: string, update: (current: PoolConfig | undefined) => PoolConfig): Promise<PoolConfig> {
    return this.poolTx(name, (rec) => opUpdatePool(rec, name, update, this.opts.nowMs()));
  }

  removePool(name: string): Promise<boolean> {
    return this.poolTx(name, (rec, _live, present) =>
      !rec && present ? { mutation: { ...emptyMutation(), removePool: true, notify: true }, result: true } : opRemovePool(rec));
  }

  updateMember(pool: string, ip: string, change: MemberChange): Promise<MemberUpdate> {
    return this.poolTx(pool, (rec) => opUpdateMember(rec, pool, ip, change, this.opts.nowMs()));
  }

  updateMembers(pool: string, changes: Array<[ip: string, change: MemberChange]>): Promise<MemberUpdate[]> {
    return this.poolTx(pool, (rec) => opUpdateMembers(rec, pool, changes, this.opts.nowMs()));
  }

  /** Every pool in one transaction: one lock, one rewrite of the document, whatever the count. */
  syncPools(pools: PoolSpec[], remove: string[]): Promise<PoolPlan[]> {
    return this.transaction((tx) => {
      const nowMs = this.opts.nowMs();
      const plans: PoolPlan[] = [];
      const writes: Array<[string, PoolMutation]> = [];
      // Every op runs before the first write: a refused pool leaves the document untouched.
      for (const spec of pools) {
        const name = spec.config.name;
        const { mutation, result } = opSyncPool(decodeDocPool(tx.doc, name, this.report).record, spec, nowMs);
        plans.push(result);
        writes.push([name, mutation]);
      }
      for (const name of remove) {
        const { record, present } = decodeDocPool(tx.doc, name, this.report);
        const { mutation, result } = opRemoveForSync(record, present);
        if (result) plans.push(result);
        writes.push([name, mutation]);
      }
      for (const [name, mutation] of writes) {
        if (isEmptyMutation(mutation)) continue;
        applyToDoc(tx.edit(), name, mutation);
        if (mutation.notify) tx.pools.add(name);
      }
      return plans;
    });
  }

  removeMember(pool: string, ip: string): Promise<boolean> {
    return this.poolTx(pool, (rec) => opRemoveMember(rec, pool, ip));
  }

  recordObservation(pool: string, ip: string, obs: Observation): Promise<Verdict> {
    return this.poolTx(pool, (rec, live) => opRecordObservation(rec, pool, ip, obs, live, this.opts.nowMs()));
  }

  refreshObservation(pool: string, ip: string, obs: Observation): Promise<boolean> {
    return this.poolTx(pool, (rec) => opRefreshObservation(rec, pool, ip, obs));
  }

  async heartbeat(instance: string, ttlMs: number, nowMs: number): Promise<void> {
    checkInstanceName(instance);
    this.instanceTtlMs = ttlMs;
    const cutoff = nowMs - ttlMs;
    // The routine beat (we were live, nobody went stale) needs only the sidecar.
    const beatOnly = (beats: Map<string, number>): boolean => {
      const prev = beats.get(instance);
      if (prev === undefined || prev < cutoff) return false;
      for (const ms of beats.values()) if (ms < cutoff) return false;
      beats.set(instance, nowMs);
      return true;
    };
    await this.transaction((tx) => {
      const { beats } = tx;
      // The common case ends after these lines: only the sidecar is rewritten.
      const prev = beats.get(instance);
      beats.set(instance, nowMs);
      tx.beatsDirty = true;
      const drop = new Set<string>();
      for (const [name, ms] of beats) {
        if (ms >= cutoff) continue;
        drop.add(name);
        beats.delete(name);
        if (own(tx.doc.zones, name) !== undefined) delete tx.edit().zones[name];
      }
      const touched = new Set(drop);
      if (prev === undefined || prev < cutoff) touched.add(instance);
      if (touched.size === 0) return;
      // An instance died or came back: recompute the pools holding its votes (the document is
      // rewritten only when a pool changes; a new instance holds no votes yet).
      const live = new Set(liveSince(beats, cutoff).keys());
      for (const name of poolNames(tx.doc)) {
        if (!voters(tx.doc, name).some((v) => touched.has(v))) continue;
        const { mutation } = opRecompute(decodeDocPool(tx.doc, name, this.report).record, live, drop, nowMs);
        if (isEmptyMutation(mutation)) continue;
        applyToDoc(tx.edit(), name, mutation);
        if (mutation.notify) tx.pools.add(name);
      }
    }, beatOnly);
  }

  async publishZones(instance: string, zones: string[], rules: readonly ZonePoolRules[] = []): Promise<void> {
    checkInstanceName(instance);
    const list = checkZones(zones);
    await this.transaction((tx) => {
      // Unchanged (every restart of the same instance): no rewrite of the whole document.
      const current = own(tx.doc.zones, instance);
      if (!(Array.isArray(current) && current.length === list.length && current.every((z, i) => z === list[i]))) {
        put(tx.edit().zones, instance, list);
      }
      for (const r of rules) {
        if (JSON.stringify(own(tx.doc.zoneRules, r.origin)) !== JSON.stringify(r)) put(tx.edit().zoneRules, r.origin, r);
      }
    });
  }

  async readZoneRules(): Promise<ZonePoolRules[]> {
    const doc = await this.readDoc();
    return this.zonesOf(doc).flatMap((z) => parseZonePoolRules(own(doc.zoneRules, z)) ?? []);
  }

  async watch(onChange: (change: StoreChange) => void): Promise<() => void> {
    mkdirSync(dirname(this.path), { recursive: true });
    const w = await watchFile(this.path, this.opts.pollMs, onChange, this.opts.log);
    this.watches.add(w);
    return () => {
      w.stop();
      this.watches.delete(w);
    };
  }

  /**
   * Nothing missed: a watch of this store has reported every change up to the file's current
   * seq (read from its head, 64 KiB at most), and the file did not change without a new seq
   * (an edit by hand) since the last full read. StoreSync then skips its periodic full read,
   * which parses the whole document on the event loop.
   */
  async inSync(): Promise<InSync | false> {
    const seq = await readHeadSeq(this.path);
    for (const w of this.watches) {
      // The live instances come from the heartbeat sidecar (a sync read of a few hundred bytes),
      // so instances that start or stop show within a resync period, as with Redis.
      if (seq !== null && w.seenSeq() === seq && w.silentEdits() === (this.silentSeen.get(w) ?? 0)) {
        return { instances: liveSince(this.readBeats(), this.opts.nowMs() - this.instanceTtlMs) };
      }
    }
    // The full read that follows covers the silent edits seen so far.
    for (const w of this.watches) this.silentSeen.set(w, w.silentEdits());
    return false;
  }

  onStatus(listener: (status: StoreStatus, detail?: string) => void): void {
    // A local file has no connection to lose; problems surface as errors of each operation.
    setImmediate(() => listener('ready'));
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.stop();
    this.watches.clear();
    await this.flushing;
    clearTimeout(this.cacheTimer);
    this.cacheTimer = undefined;
    this.cache = undefined;
  }
}

/**
 * A pool of a full read whose config is decoded now and whose members on first use. Decoding
 * every member up front delays a large serving instance's first answer; answers need a
 * pool's members only when it is asked for (PoolAnswers builds its
 * records then), and the health loop and the state-dir save read the rest right after. The
 * document read is never edited in place, so decoding later gives what decoding now would.
 */
class LazyPoolView implements PoolView {
  /** The pool's own entry until its members are decoded (an unused view holds only its pool). */
  private raw: unknown;
  private decoded: MemberView[] | undefined;

  constructor(readonly config: PoolConfig, raw: unknown, private readonly report: (problem: string) => void) {
    this.raw = raw;
  }

  get members(): MemberView[] {
    if (!this.decoded) {
      this.decoded = toPoolView(decodeRawPool(this.config.name, this.raw, this.report).record ?? newRecord(this.config)).members;
      this.raw = undefined;
    }
    return this.decoded;
  }

  /** The state-dir save writes views as JSON: the members, not the private fields. */
  toJSON(): PoolView {
    return { config: this.config, members: this.members };
  }
}

function lazyPoolView(doc: FileDoc, name: string, report: (problem: string) => void): PoolView | undefined {
  const raw = own(doc.pools, name);
  if (raw === undefined) return undefined;
  // The config alone, with the checks of a full decode: a pool without a usable one is skipped.
  const storedConfig = own(raw, 'config');
  const head = storedConfig === undefined
    ? undefined
    : buildRecord(name, { config: { value: storedConfig }, members: [], verdicts: [], observations: [] }, report);
  if (!head) {
    // Reported by buildRecord, or not an object at all: decodeRawPool says which.
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) decodeRawPool(name, raw, report);
    return undefined;
  }
  return new LazyPoolView(head.config, raw, report);
}
