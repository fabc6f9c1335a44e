import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { TierdnsError, errorMessage } from '../util/errors';
import { POOLS_PER_TURN, nextTurn } from '../util/turn';
import { SnapshotSaver, loadSnapshot, readSavedStoreId } from './snapshotFile';
import { StoreLineage } from './storeLineage';
import { servingKey } from '../model/serving';
import type { PoolView } from '../model/types';
import type { Store, StoreChange, StoreSnapshot, StoreStatus } from '../store/types';

// The in-memory copy a serving instance answers from (docs/store.md): never waits on the
// store, follows change notifications pool by pool, heals missed ones with a periodic full
// resync (and one right after a reconnect), and keeps the last snapshot in the state dir so
// a start while the store is down still serves what was served before. A store that lost its
// data (its identity gone: docs/store.md, "A lost store") is not taken for "every pool
// removed": the snapshot stays as it is and the store is re-seeded from it (storeLineage.ts).

export interface StoreSyncOptions {
  store: Store;
  log: Logger;
  /** Directory for snapshot.json (default: none, nothing is saved or loaded). */
  stateDir?: string;
  /** Period of the full resync that heals missed notifications (default 30000 ms). */
  resyncMs?: number;
  /**
   * Period of the read of the live instances alone (default 2000 ms), so an instance that starts
   * or stops shows within a few seconds (tierdns_live_instances, status) rather than at the next
   * resync.
   */
  liveMs?: number;
  /** Delay between a change and saving snapshot.json, so bursts cost one write (default 1000 ms). */
  saveDelayMs?: number;
  /**
   * The serving instance's own name: it counts among the live instances from the start,
   * before a read sees its first heartbeat (which may be a full resync away).
   */
  instance?: string;
}

export interface StoreSyncEvents {
  /** One pool changed in a way that matters to answers (undefined: removed). */
  pool: [name: string, view: PoolView | undefined];
  /** A full resync found differences; their 'pool' events were emitted first. Zones/instances may have changed too. */
  reset: [snapshot: StoreSnapshot];
  status: [status: StoreStatus, detail?: string];
  /** The store's identity changed (first use, a re-seed, or a store that is not the one known before). */
  identity: [id: string];
}

/** First retry after a failed read; doubles up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5000;
/** Pools re-read concurrently when many notifications arrive at once. */
const READ_CONCURRENCY = 32;

export class StoreSync extends EventEmitter<StoreSyncEvents> {
  private readonly store: Store;
  private readonly log: Logger;
  private readonly snap: StoreSnapshot = { pools: new Map(), zones: [], instances: new Map() };
  private status: StoreStatus = 'connecting';
  private started = false;
  private stopped = false;
  private fromStore = false;
  private fromSaved = false;
  private pendingAll = false;
  private readonly pendingPools = new Set<string>();
  private drainRunning = false;
  /** A periodic check (inSync) is running. */
  private checking = false;
  /** A full read is running (fullResync). */
  private fullReading = false;
  private draining: Promise<void> | undefined;
  private unwatch: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private liveTimer: NodeJS.Timeout | undefined;
  /** A read of the live instances (refreshLive) is running. */
  private liveReading = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  /** Saves snapshot.json (none without a state dir). */
  private readonly saver: SnapshotSaver | undefined;
  /** When the store last answered a full read (0: never). */
  lastSyncMs = 0;
  /** When this copy was last known to match the store: a full read, or a periodic check that no change was missed (0: never). */
  lastInSyncMs = 0;
  /** Which store the snapshot's data descends from; claims of a new or lost store. */
  private readonly lineage: StoreLineage;

  constructor(private readonly opts: StoreSyncOptions) {
    super();
    this.store = opts.store;
    this.log = opts.log;
    this.lineage = new StoreLineage(opts.store, opts.log, opts.instance, {
      snap: this.snap, fromStore: () => this.fromStore, serveSaved: () => this.serveSaved(),
    });
    if (opts.stateDir) {
      this.saver = new SnapshotSaver(opts.stateDir, opts.saveDelayMs ?? 1000, opts.log, () => ({ snap: this.snap, storeId: this.lineage.knownId }));
    }
  }

  /** The live snapshot (updated in place; treat as read-only). Empty until a store read or a saved snapshot fills it. */
  current(): StoreSnapshot {
    return this.snap;
  }

  get storeStatus(): StoreStatus {
    return this.status;
  }

  /** Whether the store is lost now: found without this snapshot's identity and not re-seeded yet. */
  get storeLost(): boolean {
    return this.lineage.lost;
  }

  /** Losses of the store found since start. */
  get storeLosses(): number {
    return this.lineage.losses;
  }

  /** Pools are loaded: the store answered a full read, or the state dir's snapshot was taken. */
  get loaded(): boolean {
    return this.fromStore || this.fromSaved;
  }

  /** Read everything once, or fall back to the saved snapshot; never rejects because the store is down. */
  async start(): Promise<void> {
    this.store.onStatus((s, detail) => this.onStatus(s, detail));
    if (this.opts.stateDir) this.lineage.knownId = readSavedStoreId(this.opts.stateDir);
    // Subscribe before reading, so no change can fall between the read and the subscription.
    await this.tryWatch();
    // No events for the first read: the caller reads current() once start() resolves.
    if (!(await this.fullResync(false))) {
      if (!this.fromStore && this.snap.pools.size === 0 && (await this.serveSaved())) this.log.warn('store: unreachable at start; serving the saved snapshot');
      this.scheduleRetry();
    }
    this.started = true;
    this.resyncTimer = setInterval(() => void this.periodicResync(), this.opts.resyncMs ?? 30_000);
    this.resyncTimer.unref();
    this.liveTimer = setInterval(() => void this.refreshLive(), this.opts.liveMs ?? 2000);
    this.liveTimer.unref();
  }

  /** Take the live instances as they are now; a full read or check in flight takes them anyway. */
  private async refreshLive(): Promise<void> {
    if (this.stopped || !this.fromStore || this.status !== 'ready' || this.liveReading || this.checking || this.fullReading) return;
    this.liveReading = true;
    try {
      const instances = await this.store.readInstances();
      // A full read that began meanwhile brings its own, as new as these.
      if (!this.stopped && !this.fullReading && !this.checking) this.applyRest(this.snap.zones, instances, true);
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'store: reading the live instances failed');
    } finally {
      this.liveReading = false;
    }
  }

  /** The safety net for lost notifications: a full read, unless the store can tell nothing was lost. */
  private async periodicResync(): Promise<void> {
    // A check may wait for messages in flight (inSync): never two at once, nor one during a
    // full read, which would take its zones and instances over the check's newer ones.
    if (this.stopped || this.checking || this.fullReading) return;
    if (this.unwatch && this.fromStore) {
      this.checking = true;
      try {
        const same = await this.store.inSync();
        if (same) {
          if (this.stopped) return;
          this.applyRest(same.zones ?? this.snap.zones, same.instances ?? this.snap.instances, true);
          this.lastInSyncMs = Date.now();
          return;
        }
      } catch {
        // Cannot tell: read everything.
      } finally {
        this.checking = false;
      }
    }
    this.log.debug({ store: this.store.description }, 'store: periodic full read');
    this.request({ kind: 'all' });
  }

  private async tryWatch(): Promise<void> {
    try {
      this.unwatch = await this.store.watch((change) => this.request(change));
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'store: cannot watch for changes yet; relying on resync');
    }
  }

  private onStatus(status: StoreStatus, detail?: string): void {
    if (this.stopped) return;
    const previous = this.status;
    this.status = status;
    this.safeEmit('status', status, detail);
    // Notifications were lost while down: resync at once after a reconnect.
    if (status === 'ready' && previous !== 'ready' && this.started && (previous === 'down' || !this.fromStore)) {
      this.request({ kind: 'all' });
    }
  }

  private request(change: StoreChange): void {
    if (this.stopped) return;
    if (change.kind === 'all') this.pendingAll = true;
    else this.pendingPools.add(change.name);
    if (!this.drainRunning) {
      this.drainRunning = true;
      this.draining = this.drain();
    }
  }

  /** Apply pending work in order; one failure hands over to the retry timer (a full resync). */
  private async drain(): Promise<void> {
    for (;;) {
      // Checked and cleared in the same step, so a request arriving later starts a new drain.
      if (this.stopped || (!this.pendingAll && this.pendingPools.size === 0)) {
        this.drainRunning = false;
        return;
      }
      if (this.pendingAll) {
        this.pendingAll = false;
        this.pendingPools.clear();
        if (!(await this.fullResync())) {
          this.drainRunning = false;
          return this.scheduleRetry();
        }
        continue;
      }
      const names = [...this.pendingPools].slice(0, READ_CONCURRENCY);
      for (const n of names) this.pendingPools.delete(n);
      let views: Array<PoolView | undefined>;
      try {
        views = await Promise.all(names.map((n) => this.store.readPool(n)));
      } catch (err) {
        // The store is not the one these pools came from: a full read finds out what it is.
        if (err instanceof TierdnsError && err.code === 'TIERDNS_E_STORE_LOST') {
          this.pendingAll = true;
          continue;
        }
        this.log.warn({ err: errorMessage(err) }, 'store: re-reading changed pools failed; will resync');
        this.drainRunning = false;
        return this.scheduleRetry();
      }
      names.forEach((n, i) => this.applyPool(n, views[i]));
    }
  }

  private applyPool(name: string, view: PoolView | undefined): boolean {
    const old = this.snap.pools.get(name);
    // Comparing costs a serialization of both: skip it when one side is absent (a new pool).
    const differs = old === view ? false
      : old === undefined || view === undefined ? true : servingKey(old) !== servingKey(view);
    if (view) this.snap.pools.set(name, view);
    else this.snap.pools.delete(name);
    if (differs) {
      this.safeEmit('pool', name, view);
      this.scheduleSave();
    }
    return differs;
  }

  private async fullResync(emitEvents = true): Promise<boolean> {
    this.fullReading = true;
    try {
      return await this.fullRead(emitEvents);
    } finally {
      this.fullReading = false;
    }
  }

  private async fullRead(emitEvents: boolean): Promise<boolean> {
    // A claim changes the store; the read after it takes what the claim left (twice at most:
    // a store that keeps changing identity is tried again by the retry timer).
    for (let attempt = 0; attempt < 3; attempt++) {
      let fresh: StoreSnapshot;
      try {
        // Views of pools unchanged for answers come back as they are (the Redis store).
        fresh = await this.store.snapshot(this.fromStore ? this.snap.pools : undefined);
      } catch (err) {
        this.log.warn({ err: errorMessage(err), store: this.store.description }, 'store: full read failed; keeping the current snapshot');
        return false;
      }
      if (this.stopped) return true;
      if (!this.lineage.continues(fresh)) {
        const claimed = await this.lineage.claim(fresh);
        if (!claimed) return false;
        // A first use wrote the identity alone: the read stands. A re-seed changed the pools.
        if (claimed === 'reseeded') continue;
        fresh.identity = claimed;
      }
      this.fromStore = true;
      await this.replace(fresh, emitEvents);
      this.follow(fresh.identity?.id);
      this.lastSyncMs = Date.now();
      this.lastInSyncMs = this.lastSyncMs;
      this.retryMs = FIRST_RETRY_MS;
      if (!this.unwatch) await this.tryWatch();
      return true;
    }
    return false;
  }

  /** A read continued the known data: its identity becomes the known one. */
  private follow(id: string | undefined): void {
    const changed = this.lineage.follow(id);
    if (changed === undefined) return;
    // The state dir names the store its snapshot descends from.
    this.scheduleSave();
    this.safeEmit('identity', changed);
  }

  /** Serve the state dir's snapshot (no events: nothing was served before); false when there is none. */
  private async serveSaved(): Promise<boolean> {
    const saved = this.opts.stateDir ? loadSnapshot(this.opts.stateDir, (p) => this.log.warn({ code: 'TIERDNS_E_STORE_DATA' }, `store: ${p}`)) : undefined;
    if (!saved) return false;
    await this.replace(saved.snapshot, false);
    this.fromSaved = true;
    this.log.info({ pools: saved.snapshot.pools.size, savedAtMs: saved.savedAtMs }, 'store: serving the snapshot saved in the state dir');
    return true;
  }

  /**
   * Bring the live snapshot to `fresh`, emitting 'pool' per difference and 'reset' when any.
   * A live resync compares pool by pool (a serialization of both sides each) and lets the
   * event loop answer queries every POOLS_PER_TURN pools, so a large store never blocks answers.
   * Changes announced meanwhile are read after it, so the newer data wins.
   */
  private async replace(fresh: StoreSnapshot, emitEvents: boolean): Promise<void> {
    let changed = false;
    let n = 0;
    for (const name of new Set([...this.snap.pools.keys(), ...fresh.pools.keys()])) {
      if (emitEvents && ++n % POOLS_PER_TURN === 0) {
        await nextTurn();
        if (this.stopped) return;
      }
      const view = fresh.pools.get(name);
      if (!emitEvents) {
        if (view) this.snap.pools.set(name, view);
        else this.snap.pools.delete(name);
      } else if (this.applyPool(name, view)) {
        changed = true;
      }
    }
    this.applyRest(fresh.zones, fresh.instances, emitEvents, changed);
  }

  /**
   * Take zones and live instances as read; 'reset' when they or the pools changed, and a save
   * only when pools did. A serving instance answers from its zone files, not from the zones
   * list, and live instances are stale by the time a saved snapshot is loaded (the store is
   * down then); the next pool change saves both anyway. A save of a large store costs the
   * answering thread real time, and saving for zones or instances made every start pay a
   * second one: the first check after the first read sees the instance's own heartbeat.
   */
  private applyRest(zones: string[], instances: Map<string, number>, emitEvents: boolean, poolsChanged = false): void {
    const self = this.opts.instance;
    if (self !== undefined && !instances.has(self)) instances = new Map(instances).set(self, Date.now());
    const keys = (m: Map<string, number>): string => [...m.keys()].sort().join(',');
    const changed = poolsChanged || zones.join(',') !== this.snap.zones.join(',') || keys(instances) !== keys(this.snap.instances);
    this.snap.zones = zones;
    this.snap.instances = instances;
    if (changed && emitEvents) this.safeEmit('reset', this.snap);
    if (poolsChanged || !emitEvents) this.scheduleSave();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.request({ kind: 'all' });
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  private scheduleSave(): void {
    if (!this.fromStore || this.stopped) return;
    this.saver?.schedule();
  }

  private safeEmit<K extends keyof StoreSyncEvents>(event: K, ...args: StoreSyncEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: StoreSyncEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ err: errorMessage(err), event }, 'store: sync listener threw');
    }
  }

  /** Stop following the store; a pending snapshot save is written first. Does not close the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearInterval(this.liveTimer);
    clearTimeout(this.retryTimer);
    this.unwatch?.();
    await this.draining;
    await this.saver?.flush();
  }
}
