import { mkdirSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { TierdnsError, errorMessage } from '../util/errors';
import { FileLock } from './fileLock';
import {
  applyToDoc, bumpSeq, decodeDocPool, emptyDoc, own, parseDoc, poolNames, put, shallowCopy, voters, writeDocAtomic, type FileDoc,
} from './fileDoc';
import { watchFile } from './fileWatch';
import { isPoolName } from './names';
import {
  checkInstanceName, opAddMember, opRecompute, opRecordObservation, opRefreshObservation, opRemoveMember, opRemovePool, opSetAdmin, opUpdatePool,
  type OpResult,
} from './ops';
import { emptyMutation, isEmptyMutation, toPoolView, type PoolRecord } from './record';
import { checkZones, parseZoneList } from './storeUtil';
import type {
  AdminState, Member, Observation, PoolConfig, PoolView, Store, StoreChange, StoreSnapshot, StoreStatus, Verdict,
} from './types';

// The embedded store (`file:PATH`, PRODUCT.md §6): one JSON document, the same rules as Redis
// (ops.ts). Every write is lock → read → apply → write temp + fsync → rename → unlock, so
// readers never see a torn file and concurrent writers (CLI processes, a server) never lose
// an update. Writes queued in this process meanwhile share one lock and one rewrite.

export interface FileStoreOptions {
  log: Logger;
  /** Heartbeat age past which an instance stops voting, until heartbeat() passes its own TTL (ms). */
  instanceTtlMs: number;
  nowMs: () => number;
  /** Poll period backing up fs.watch, which misses events on some filesystems (ms). */
  pollMs: number;
}

interface Changes {
  dirty: boolean;
  pools: Set<string>;
}

interface Job {
  apply: (doc: FileDoc, changes: Changes) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class FileStore implements Store {
  readonly description: string;
  private readonly lock: FileLock;
  private queue: Job[] = [];
  private flushRunning = false;
  private flushing: Promise<void> | undefined;
  private cache: { key: string; doc: FileDoc } | undefined;
  private instanceTtlMs: number;
  private readonly unwatchers = new Set<() => void>();

  constructor(readonly path: string, private readonly opts: FileStoreOptions) {
    this.description = `file:${path}`;
    this.lock = new FileLock(`${path}.lock`);
    this.instanceTtlMs = opts.instanceTtlMs;
  }

  private report = (problem: string): void => {
    this.opts.log.warn({ code: 'TIERDNS_E_STORE_DATA', store: this.description }, `store: ${problem}`);
  };

  private statKey(): string | undefined {
    try {
      const s = statSync(this.path, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      return undefined;
    }
  }

  /** The current document; unchanged files are not parsed again (writes replace the inode). */
  private async readDoc(): Promise<FileDoc> {
    const key = this.statKey();
    if (key === undefined) return emptyDoc();
    if (this.cache?.key === key) return this.cache.doc;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyDoc();
      throw new TierdnsError('TIERDNS_E_STORE_UNREACHABLE', `cannot read ${this.path}: ${errorMessage(err)}`);
    }
    const doc = parseDoc(text, this.path);
    // Only cache what stat still describes: the file may have been replaced while we read it.
    if (this.statKey() === key) this.cache = { key, doc };
    return doc;
  }

  /** Queue a read-modify-write; jobs queued together share one lock and one rewrite. */
  private transaction<T>(apply: (doc: FileDoc, changes: Changes) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ apply, resolve: resolve as (v: unknown) => void, reject });
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
          // Copy-on-write: readers in this process keep the committed document until the rename.
          const doc = shallowCopy(await this.readDoc());
          const changes: Changes = { dirty: false, pools: new Set() };
          for (const job of jobs) {
            try {
              results.push({ ok: true, value: job.apply(doc, changes) });
            } catch (err) {
              results.push({ ok: false, value: err });
            }
          }
          if (changes.dirty) {
            bumpSeq(doc, changes.pools);
            this.cache = undefined;
            await writeDocAtomic(this.path, doc);
            // We still hold the lock, so the file on disk is the one just written.
            const key = this.statKey();
            if (key !== undefined) this.cache = { key, doc };
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

  private live(doc: FileDoc, cutoffMs: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, ms] of Object.entries(doc.instances)) if (typeof ms === 'number' && ms >= cutoffMs) out.set(name, ms);
    return out;
  }

  /** Run a pure op on one pool inside a transaction. */
  private poolTx<T>(name: string, op: (rec: PoolRecord | undefined, live: Set<string>, present: boolean) => OpResult<T>): Promise<T> {
    return this.transaction((doc, changes) => {
      const { record, present } = decodeDocPool(doc, name, this.report);
      const live = new Set(this.live(doc, this.opts.nowMs() - this.instanceTtlMs).keys());
      const res = op(record, live, present);
      if (!isEmptyMutation(res.mutation)) {
        applyToDoc(doc, name, res.mutation);
        changes.dirty = true;
        if (res.mutation.notify) changes.pools.add(name);
      }
      return res.result;
    });
  }

  async snapshot(): Promise<StoreSnapshot> {
    const doc = await this.readDoc();
    const pools = new Map<string, PoolView>();
    for (const name of poolNames(doc).sort()) {
      if (!isPoolName(name)) {
        this.report(`pool entry with invalid name '${name}'; skipped`);
        continue;
      }
      const { record } = decodeDocPool(doc, name, this.report);
      if (record) pools.set(name, toPoolView(record));
    }
    return { pools, zones: this.zonesOf(doc), instances: this.live(doc, this.opts.nowMs() - this.instanceTtlMs) };
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
    const { record } = decodeDocPool(await this.readDoc(), name, this.report);
    return record && toPoolView(record);
  }

  async setPool(config: PoolConfig): Promise<void> {
    await this.poolTx(config.name, (rec) => opUpdatePool(rec, config.name, () => config));
  }

  /** Read-modify-write of one pool's config under the lock (`pool set` changes only the flags given). */
  updatePool(name: string, update: (current: PoolConfig | undefined) => PoolConfig): Promise<PoolConfig> {
    return this.poolTx(name, (rec) => opUpdatePool(rec, name, update));
  }

  removePool(name: string): Promise<boolean> {
    return this.poolTx(name, (rec, _live, present) =>
      !rec && present ? { mutation: { ...emptyMutation(), removePool: true, notify: true }, result: true } : opRemovePool(rec));
  }

  async addMember(pool: string, member: Omit<Member, 'admin' | 'addedAtMs'>): Promise<void> {
    await this.poolTx(pool, (rec) => opAddMember(rec, pool, member, this.opts.nowMs()));
  }

  removeMember(pool: string, ip: string): Promise<boolean> {
    return this.poolTx(pool, (rec) => opRemoveMember(rec, pool, ip));
  }

  async setAdmin(pool: string, ip: string, admin: AdminState): Promise<void> {
    await this.poolTx(pool, (rec) => opSetAdmin(rec, pool, ip, admin));
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
    await this.transaction((doc, changes) => {
      const prev = own(doc.instances, instance);
      put(doc.instances, instance, nowMs);
      changes.dirty = true;
      const drop = new Set<string>();
      for (const [name, ms] of Object.entries(doc.instances)) {
        if (typeof ms === 'number' && ms >= cutoff) continue;
        drop.add(name);
        delete doc.instances[name];
        delete doc.zones[name];
      }
      const touched = new Set(drop);
      if (typeof prev !== 'number' || prev < cutoff) touched.add(instance);
      if (touched.size === 0) return;
      // An instance died or came back: recompute the pools holding its votes.
      const live = new Set(this.live(doc, cutoff).keys());
      for (const name of poolNames(doc)) {
        if (!voters(doc, name).some((v) => touched.has(v))) continue;
        const { mutation } = opRecompute(decodeDocPool(doc, name, this.report).record, live, drop, nowMs);
        if (isEmptyMutation(mutation)) continue;
        applyToDoc(doc, name, mutation);
        if (mutation.notify) changes.pools.add(name);
      }
    });
  }

  async publishZones(instance: string, zones: string[]): Promise<void> {
    checkInstanceName(instance);
    const list = checkZones(zones);
    await this.transaction((doc, changes) => {
      put(doc.zones, instance, list);
      changes.dirty = true;
    });
  }

  async watch(onChange: (change: StoreChange) => void): Promise<() => void> {
    mkdirSync(dirname(this.path), { recursive: true });
    const stop = await watchFile(this.path, this.opts.pollMs, onChange, this.opts.log);
    this.unwatchers.add(stop);
    return () => {
      stop();
      this.unwatchers.delete(stop);
    };
  }

  onStatus(listener: (status: StoreStatus, detail?: string) => void): void {
    // A local file has no connection to lose; problems surface as errors of each operation.
    setImmediate(() => listener('ready'));
  }

  async close(): Promise<void> {
    for (const stop of this.unwatchers) stop();
    this.unwatchers.clear();
    await this.flushing;
  }
}
