import { TierdnsError } from '../util/errors';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { POOLS_PER_TURN, nextTurn } from '../util/turn';
import { liveSince } from './fileLive';
import { FileTransactions } from './fileTx';
import { applyToDoc, decodeDocPool, own, poolNames, put, voters, type FileDoc } from './fileDoc';
import { lazyPoolView } from './filePoolView';
import { readHeadSeq, watchFile, type FileWatch } from './fileWatch';
import { isPoolName } from '../model/names';
import { parseZonePoolRules, type ZonePoolRules } from '../model/poolNameRules';
import {
  checkInstanceName, opRecompute, opRecordObservation, opRefreshObservation, opRemoveMember, opRemovePool, opUpdateMember, opUpdatePool,
  type OpResult,
} from './ops';
import { opRemoveForSync, opSyncPool, opUpdateMembers } from './bulkOps';
import { emptyMutation, isEmptyMutation, toPoolView, type PoolMutation, type PoolRecord } from './record';
import { checkIdentity, descendsFrom, nextIdentity, opSeedPool, type IdentityClaim, type IdentityClaimResult } from './identity';
import { checkZones, parseZoneList } from './storeUtil';
import type { Observation, PoolConfig, PoolView, Verdict } from '../model/types';
import type { InSync, MemberChange, MemberUpdate, Store, StoreChange, StoreSnapshot, StoreStatus } from './types';
import type { PoolPlan, PoolSpec } from '../model/poolPlan';

// The embedded store (`file:PATH`, docs/store.md): one JSON document (fileDoc.ts), the same
// rules as Redis (ops.ts), plus the heartbeats in a small sidecar (PATH.live, fileLive.ts) so
// the beat every instance sends each second does not rewrite the whole document. This file
// holds the Store methods; every write is a transaction of fileTx.ts (under a lock, written by
// temp file and rename).

export interface FileStoreOptions {
  log: Logger;
  /** Heartbeat age past which an instance stops voting, until heartbeat() passes its own TTL (ms). */
  instanceTtlMs: number;
  nowMs: () => number;
  /** Poll period backing up fs.watch, which misses events on some filesystems (ms). */
  pollMs: number;
}

export class FileStore implements Store {
  readonly description: string;
  /**
   * Every write rewrites the whole document (event-loop time and an fsync that grow with the
   * store), so last-probe details (`status`) are refreshed once a minute per member, not every
   * 5 s: a handful of probed members in a big store would otherwise rewrite it constantly.
   */
  readonly observationRefreshMs = 60_000;
  private readonly txs: FileTransactions;
  private instanceTtlMs: number;
  private readonly watches = new Set<FileWatch>();
  /** Per watch: its silent edits already covered by a full read (see inSync). */
  private readonly silentSeen = new WeakMap<FileWatch, number>();
  /** The identity the last full read or claim found (readPool checks it: see Store.readPool). */
  private identityId: string | undefined;
  /** Whether the document could be read last time (see onStatus), and why not. */
  private readStatus: StoreStatus = 'ready';
  private readProblem: string | undefined;
  private readonly statusListeners = new Set<(status: StoreStatus, detail?: string) => void>();

  private readonly report = (problem: string): void => {
    this.opts.log.warn({ code: 'TIERDNS_E_STORE_DATA', store: this.description }, `store: ${problem}`);
  };

  constructor(readonly path: string, private readonly opts: FileStoreOptions) {
    this.description = `file:${path}`;
    this.txs = new FileTransactions(path, opts.log, this.description, this.report, opts.nowMs);
    this.instanceTtlMs = opts.instanceTtlMs;
  }

  /** Run a pure op on one pool inside a transaction. */
  private poolTx<T>(name: string, op: (rec: PoolRecord | undefined, live: Set<string>, present: boolean) => OpResult<T>): Promise<T> {
    return this.txs.transaction((tx) => {
      const { record, present } = decodeDocPool(tx.doc, name, this.report);
      const live = new Set(liveSince(tx.beats, this.opts.nowMs() - this.instanceTtlMs).keys());
      const res = op(record, live, present);
      tx.applyPool(name, res.mutation);
      return res.result;
    });
  }

  async snapshot(): Promise<StoreSnapshot> {
    const doc = await this.docRead();
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
    const snap: StoreSnapshot = { pools, zones: this.zonesOf(doc), instances: liveSince(this.txs.beatsOf(doc), this.opts.nowMs() - this.instanceTtlMs) };
    if (doc.identity) snap.identity = doc.identity;
    return snap;
  }

  private zonesOf(doc: FileDoc): string[] {
    const zones = new Set<string>();
    for (const [inst, list] of Object.entries(doc.zones)) for (const z of parseZoneList(list, inst, this.report)) zones.add(z);
    return [...zones].sort();
  }

  async readZones(): Promise<string[]> {
    return this.zonesOf(await this.docRead());
  }

  /** From the heartbeat sidecar alone (a few hundred bytes), never the document. */
  async readInstances(): Promise<Map<string, number>> {
    return liveSince(this.txs.readBeats(), this.opts.nowMs() - this.instanceTtlMs);
  }

  async readPool(name: string): Promise<PoolView | undefined> {
    const doc = await this.docRead();
    checkIdentity(this.identityId, doc.identity, this.description);
    const { record } = decodeDocPool(doc, name, this.report);
    return record && toPoolView(record);
  }

  /** Stamp or re-seed the document under the lock (see Store.claimIdentity). */
  async claimIdentity(claim: IdentityClaim): Promise<IdentityClaimResult> {
    const result = await this.txs.transaction((tx): IdentityClaimResult => {
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
    return this.txs.transaction((tx) => {
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
      for (const [name, mutation] of writes) tx.applyPool(name, mutation);
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
    await this.txs.transaction((tx) => {
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
        tx.applyPool(name, opRecompute(decodeDocPool(tx.doc, name, this.report).record, live, drop, nowMs).mutation);
      }
    }, beatOnly);
  }

  async publishZones(instance: string, zones: string[], rules: readonly ZonePoolRules[] = []): Promise<void> {
    checkInstanceName(instance);
    const list = checkZones(zones);
    await this.txs.transaction((tx) => {
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
    const doc = await this.txs.readDoc();
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
        return { instances: liveSince(this.txs.readBeats(), this.opts.nowMs() - this.instanceTtlMs) };
      }
    }
    // The full read that follows covers the silent edits seen so far.
    for (const w of this.watches) this.silentSeen.set(w, w.silentEdits());
    return false;
  }

  /**
   * A local file has no connection to lose, but one that cannot be read (a bad JSON document,
   * a read error) is a store that cannot be reached: down until a read succeeds again.
   */
  onStatus(listener: (status: StoreStatus, detail?: string) => void): void {
    this.statusListeners.add(listener);
    setImmediate(() => listener(this.readStatus, this.readProblem));
  }

  /** The document, with the store's status following whether it could be read. */
  private async docRead(): Promise<FileDoc> {
    try {
      const doc = await this.txs.readDoc();
      this.setReadStatus('ready');
      return doc;
    } catch (err) {
      if (err instanceof TierdnsError && (err.code === 'TIERDNS_E_STORE_UNREACHABLE' || err.code === 'TIERDNS_E_STORE_DATA')) {
        this.setReadStatus('down', err.message);
      }
      throw err;
    }
  }

  private setReadStatus(status: StoreStatus, detail?: string): void {
    if (status === this.readStatus) return;
    this.readStatus = status;
    this.readProblem = detail;
    for (const l of this.statusListeners) l(status, detail);
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.stop();
    this.watches.clear();
    await this.txs.close();
  }
}
