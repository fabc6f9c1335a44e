import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { TierdnsError, errorMessage } from '../util/errors';
import { livePath, mergeBeats, parseLive, writeLiveAtomic } from './fileLive';
import { FileLock } from './fileLock';
import { applyToDoc, bumpSeq, emptyDoc, parseDoc, shallowCopy, writeDocAtomic, type FileDoc } from './fileDoc';
import { statKey } from './fileWatch';
import { firstIdentity } from './identity';
import { isEmptyMutation, type PoolMutation } from './record';
import type { ReportProblem } from './decode';

// The file store's transaction machinery (fileStore.ts has the Store methods): reads of the
// document and of the heartbeat sidecar, each parsed again only when the file changed, and the
// queue of read-modify-writes. Every write is lock → read → apply → write temp + fsync → rename
// → unlock, so readers never see a torn file and concurrent writers (CLI processes, a server)
// never lose an update. Writes queued in this process meanwhile share one lock and one rewrite
// of each file they change.

/** One batch of jobs under the lock. */
export class Tx {
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

  /** Apply one pool's mutation (nothing when empty); a notifying one names the pool in `recent`. */
  applyPool(name: string, m: PoolMutation): void {
    if (isEmptyMutation(m)) return;
    applyToDoc(this.edit(), name, m);
    if (m.notify) this.pools.add(name);
  }
}

export interface Job {
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

export class FileTransactions {
  private readonly lock: FileLock;
  private queue: Job[] = [];
  private flushRunning = false;
  private flushing: Promise<void> | undefined;
  private cache: { key: string; doc: FileDoc } | undefined;
  private cacheTimer: NodeJS.Timeout | undefined;
  private readonly livePath: string;
  private liveCache: { key: string; beats: ReadonlyMap<string, number> } | undefined;

  constructor(
    readonly path: string, private readonly log: Logger, private readonly description: string,
    private readonly report: ReportProblem, private readonly nowMs: () => number,
  ) {
    this.lock = new FileLock(`${path}.lock`);
    this.livePath = livePath(path);
  }

  /** The current document; unchanged files are not parsed again (writes replace the inode). */
  async readDoc(): Promise<FileDoc> {
    const key = statKey(this.path);
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
    if (statKey(this.path) === key) this.setCache({ key, doc });
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
  readBeats(): ReadonlyMap<string, number> {
    const key = statKey(this.livePath);
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
    if (statKey(this.livePath) === key) this.liveCache = { key, beats };
    return beats;
  }

  /** Last heartbeat of every instance, from the sidecar and what an older build left in the document. */
  beatsOf(doc: FileDoc): Map<string, number> {
    return mergeBeats(this.readBeats(), doc.instances);
  }

  /** Queue a read-modify-write; jobs queued together share one lock and one rewrite. */
  transaction<T>(apply: (tx: Tx) => T, beatOnly?: (beats: Map<string, number>) => boolean): Promise<T> {
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
    const key = statKey(this.livePath);
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
      doc.identity ??= firstIdentity(this.nowMs());
      bumpSeq(doc, tx.pools);
      this.cache = undefined;
      await writeDocAtomic(this.path, doc);
      // We still hold the lock, so the file on disk is the one just written.
      const key = statKey(this.path);
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
          this.log.warn({ store: this.description, err: errorMessage(err) }, 'store: heartbeats not written; retrying with the next beat');
          return;
        }
        throw err;
      }
      const key = statKey(this.livePath);
      if (key !== undefined) this.liveCache = { key, beats: tx.beats };
    }
  }

  /** Wait for queued writes, then drop the cached document. */
  async close(): Promise<void> {
    await this.flushing;
    clearTimeout(this.cacheTimer);
    this.cacheTimer = undefined;
    this.cache = undefined;
  }
}
