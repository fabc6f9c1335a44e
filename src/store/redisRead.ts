import { TierdnsError, errorMessage } from '../util/errors';
import { nextTurn } from '../util/turn';
import { decodePool, parseChangeCount, validPoolNames } from './redisLayout';
import type { RedisAccess } from './redisAccess';
import type { ChangeCounts } from './redisWatch';
import { parseZoneList } from './storeUtil';
import { toPoolView } from './record';
import { checkIdentity, parseIdentity, type StoreIdentity } from './identity';
import { parseZonePoolRules, type ZonePoolRules } from '../model/poolNameRules';
import type { PoolView } from '../model/types';
import type { InSync, StoreSnapshot } from './types';

// The Redis store's read path: one pool (one Lua script, checked against the known identity),
// the full read (digests first, so only pools that changed are read again), the periodic
// in-sync check that spares most full reads, zones, live instances and zone rules. It keeps
// the identity the last full read or claim found.

/** Pools per READ_POOLS call: few commands for a full read, yet each script stays short. */
const POOLS_PER_SCRIPT = 100;
/**
 * Pools per DIGEST_POOLS call (a short digest each, from hashing the whole pool). A script
 * holds Redis for every other client, so each call is kept small (docs/bench-history.md).
 */
const DIGESTS_PER_SCRIPT = 50;
/** READ_POOLS scripts in flight at once during a full read (pipelined on one socket). */
const READ_BATCH = 20;
/**
 * A periodic resync reads everything at least every this many calls of inSync() (5 min at the
 * default 30 s), even when the change count has not moved: edits of config, members and
 * verdicts made behind tierdns's back (redis-cli), which do not count, are picked up that way
 * (the serving digest, SERVING_DIGEST in redisLayout.ts, tells which pools they touched).
 */
const FULL_READ_EVERY = 10;
/** How long inSync() waits for messages published before it read the change count. */
const HEAR_WAIT_MS = 1000;

export class RedisReads {
  /** The identity the last full read or claim found (readPool checks it: see Store.readPool). */
  identityId: string | undefined;
  /** The change count the last full read saw, for inSync(). */
  private lastCount: number | undefined;
  /** The serving digest of each view this store decoded (SERVING_DIGEST in redisLayout.ts). */
  private readonly digests = new WeakMap<PoolView, string>();
  private sinceFullRead = 0;

  constructor(private readonly a: RedisAccess) {}

  async readPool(name: string): Promise<PoolView | undefined> {
    const a = this.a;
    return a.run(async () => {
      const [reply, identity] = await a.scripts.readPoolChecked(...a.keys.pool(name), a.keys.identity) as [unknown, unknown];
      checkIdentity(this.identityId, this.identityOf(identity), a.description);
      return this.viewOf(name, reply);
    });
  }

  /** Whether a stored identity (GET reply) is gone or other than the one known (none known: no). */
  identityMoved(raw: unknown): boolean {
    return this.identityId !== undefined && this.identityOf(raw)?.id !== this.identityId;
  }

  /** A stored identity (GET reply); a malformed one is reported and read as none. */
  private identityOf(raw: unknown): StoreIdentity | undefined {
    if (raw === null || raw === undefined) return undefined;
    try {
      return parseIdentity(String(raw));
    } catch (err) {
      this.a.report(`${this.a.keys.identity}: ${errorMessage(err)}`);
      return undefined;
    }
  }

  /** Decode one pool's reply into a view that a later full read may keep (see snapshot). */
  private viewOf(name: string, reply: unknown): PoolView | undefined {
    const { record, digest } = decodePool(name, reply, this.a.report);
    if (!record) return undefined;
    const view = toPoolView(record);
    if (digest !== undefined) this.digests.set(view, digest);
    return view;
  }

  async snapshot(previous?: ReadonlyMap<string, PoolView>): Promise<StoreSnapshot> {
    const a = this.a;
    return a.run(async () => {
      const c = a.conn.client;
      // Before the pool list and the pools: a change made during the read moves the count past
      // it, so the next resync reads again rather than trusting a read that may have missed it.
      const [count, idBefore] = await Promise.all([c.get(a.keys.changeCount), c.get(a.keys.identity)]);
      const names = validPoolNames(await c.smembers(a.keys.pools), a.report).sort();
      const pools = new Map<string, PoolView>();
      // With the caller's views: Redis digests every pool (40 bytes each) and only the pools
      // whose digest differs are read. Reading and decoding every pool again filled the young
      // generation with survivors, whose scavenges paused the serving thread.
      let toRead = names;
      if (previous && previous.size > 0) {
        toRead = [];
        for (let i = 0; i < names.length; i += DIGESTS_PER_SCRIPT) {
          const group = names.slice(i, i + DIGESTS_PER_SCRIPT);
          const digests = await a.scripts.digestPools(group.length * 4, ...group.flatMap((n) => a.keys.pool(n)));
          group.forEach((name, k) => {
            const prev = previous.get(name);
            const digest: unknown = Array.isArray(digests) ? digests[k] : undefined;
            if (prev !== undefined && typeof digest === 'string' && this.digests.get(prev) === digest) pools.set(name, prev);
            else toRead.push(name);
          });
        }
      }
      await this.readInto(pools, toRead, previous);
      const [{ zones, instances }, idAfter] = await Promise.all([this.zonesAndInstances(), c.get(a.keys.identity)]);
      // The pools of a read that a loss (or a re-seed) cut in two belong to no one store.
      if (idAfter !== idBefore) throw new TierdnsError('TIERDNS_E_STORE_LOST', `store ${a.description} changed its identity during a full read`);
      this.lastCount = countValue(count);
      this.sinceFullRead = 0;
      const snap: StoreSnapshot = { pools, zones, instances };
      const identity = this.identityOf(idAfter);
      if (identity) {
        snap.identity = identity;
        this.identityId = identity.id;
      }
      return snap;
    });
  }

  /**
   * Read and decode the pools `names` into `pools`. A pool whose keys cannot be read is
   * reported and keeps its `previous` view: one broken pool never stops a full read.
   */
  private async readInto(pools: Map<string, PoolView>, names: string[], previous?: ReadonlyMap<string, PoolView>): Promise<void> {
    const a = this.a;
    const groups: string[][] = [];
    for (let i = 0; i < names.length; i += POOLS_PER_SCRIPT) groups.push(names.slice(i, i + POOLS_PER_SCRIPT));
    // A bounded number of scripts in flight: pipelined on the socket, memory stays bounded.
    // The next batch is sent before this one is decoded, so Redis works while we decode.
    const send = (i: number) => Promise.all(groups.slice(i, i + READ_BATCH)
      .map((g) => a.scripts.readPools(g.length * 4, ...g.flatMap((n) => a.keys.pool(n)))));
    let pending = groups.length > 0 ? send(0) : undefined;
    for (let i = 0; pending; i += READ_BATCH) {
      const batch = groups.slice(i, i + READ_BATCH);
      const replies = await pending;
      pending = i + READ_BATCH < groups.length ? send(i + READ_BATCH) : undefined;
      // One script's pools (POOLS_PER_SCRIPT) per turn of the event loop: decoding every
      // pool at once would block answers at every periodic resync.
      for (let j = 0; j < batch.length; j++) {
        const group = batch[j] as string[];
        const reply = replies[j];
        group.forEach((name, k) => {
          let view: PoolView | undefined;
          try {
            view = this.viewOf(name, Array.isArray(reply) ? reply[k] : undefined);
          } catch (err) {
            if (!(err instanceof TierdnsError) || err.code !== 'TIERDNS_E_STORE_DATA') throw err;
            this.a.report(`${err.message}; ${previous?.has(name) ? 'keeping its last good view' : 'not served until then'}`);
            view = previous?.get(name);
          }
          if (view) pools.set(name, view);
        });
        await nextTurn();
      }
    }
  }

  /**
   * In sync when no counted pool change since the last full read went unheard on the channel
   * (every write that publishes one counts it). Small reads instead of every pool: a full read
   * costs the serving thread garbage-collector pauses and Redis seconds of Lua per hour. The
   * zones and live instances, read here anyway, come back with it: a new instance or zone is
   * no reason to read every pool. `heard`: the counts a subscription heard (none: not watching).
   */
  async inSync(heard: ChangeCounts | undefined): Promise<InSync | false> {
    const last = this.lastCount;
    if (last === undefined || ++this.sinceFullRead >= FULL_READ_EVERY) return false;
    const a = this.a;
    return a.run(async () => {
      const c = a.conn.client;
      const [count, parts, identity] = await Promise.all([c.get(a.keys.changeCount), this.zonesAndInstances(), c.get(a.keys.identity)]);
      // A store that lost (or changed) its identity is read in full: StoreSync decides what it means.
      if (this.identityOf(identity)?.id !== this.identityId) return false;
      // While members flap the count moves between any two checks: fine when each change was heard.
      const now = countValue(count);
      if (now < 0 || last < 0) return false;
      const all = now === last || (heard !== undefined && (await heard.heardAll(last, now, HEAR_WAIT_MS)));
      return all ? parts : false;
    });
  }

  /** The zones serving instances publish, and the live instances (call inside run()). */
  async zonesAndInstances(): Promise<Pick<StoreSnapshot, 'zones' | 'instances'>> {
    const a = this.a;
    const c = a.conn.client;
    const cutoff = a.opts.nowMs() - a.instanceTtlMs;
    const [zoneEntries, scored] = await Promise.all([c.hgetall(a.keys.zones), c.zrangebyscore(a.keys.instances, cutoff, '+inf', 'WITHSCORES')]);
    const instances = new Map<string, number>();
    for (let i = 0; i + 1 < scored.length; i += 2) instances.set(scored[i] as string, Number(scored[i + 1]));
    const zones = new Set<string>();
    for (const [inst, json] of Object.entries(zoneEntries)) for (const z of parseZoneList(json, inst, a.report)) zones.add(z);
    return { zones: [...zones].sort(), instances };
  }

  /** The live instances alone: one sorted-set read. */
  async readInstances(): Promise<Map<string, number>> {
    const a = this.a;
    return a.run(async () => {
      const scored = await a.conn.client.zrangebyscore(a.keys.instances, a.opts.nowMs() - a.instanceTtlMs, '+inf', 'WITHSCORES');
      const instances = new Map<string, number>();
      for (let i = 0; i + 1 < scored.length; i += 2) instances.set(scored[i] as string, Number(scored[i + 1]));
      return instances;
    });
  }

  /** Zones published by serving instances (for the CLI's name check without a zones dir). */
  async readZones(): Promise<string[]> {
    return this.a.run(async () => (await this.zonesAndInstances()).zones);
  }

  async readZoneRules(): Promise<ZonePoolRules[]> {
    const a = this.a;
    return a.run(async () => {
      const { zones } = await this.zonesAndInstances();
      if (zones.length === 0) return [];
      const raw = await a.conn.client.hmget(a.keys.zoneRules, ...zones);
      return raw.flatMap((json, i) => {
        if (json === null) return [];
        let parsed: unknown;
        try {
          parsed = JSON.parse(json) as unknown;
        } catch {
          parsed = undefined;
        }
        const rules = parseZonePoolRules(parsed);
        if (!rules || rules.origin !== zones[i]) a.report(`zone rules of ${zones[i]}: malformed; skipped`);
        return rules && rules.origin === zones[i] ? [rules] : [];
      });
    });
  }
}

/** The change count as read (absent: 0; not a count: -1, which inSync() never takes as in sync). */
function countValue(raw: string | null): number {
  return raw === null ? 0 : parseChangeCount(raw) ?? -1;
}
