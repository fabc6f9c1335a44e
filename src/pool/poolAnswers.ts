import { CLASS_IN, TYPE } from '../wire/constants';
import { nameToKey } from '../wire/query';
import type { MemberView, PoolView, WhenAllDown } from '../model/types';
import { servedVerdict } from '../model/verdict';
import { candidateWeights, loadExcludes, rampUntil, rotationWeight } from '../model/load';
import { parseIp } from '../util/ip';
import { SmoothRotation } from './rotation';

/** The records one family of a pool can hand out, pre-encoded for the hot path. */
export class FamilyAnswers {
  /** Each record encoded with its owner compressed to the question (0xC00C), twice over, so any
   *  rotating window of `window` records is one contiguous slice. */
  readonly records: Buffer;
  readonly recordSize: number;
  readonly window: number;
  readonly rdata: Buffer[];
  /** The members behind the records, in order (their weights are recomputed while slow start ramps). */
  readonly members: readonly MemberView[];
  private readonly windows: Buffer[];
  private readonly rotation: SmoothRotation;

  constructor(type: number, ttl: number, addrs: Buffer[], members: readonly MemberView[], weights: number[], maxAnswers: number, start: number) {
    this.members = members;
    const n = addrs.length;
    this.rdata = addrs;
    this.recordSize = 12 + (type === TYPE.A ? 4 : 16);
    this.window = maxAnswers > 0 ? Math.min(maxAnswers, n) : n;
    // Every byte is written below; allocUnsafe takes small buffers from Node's shared pool
    // instead of one ArrayBuffer per pool (10,000 pools x 2 families).
    this.records = Buffer.allocUnsafe(this.recordSize * n * 2);
    for (let i = 0; i < 2 * n; i++) {
      const off = i * this.recordSize;
      this.records.writeUInt16BE(0xc00c, off);
      this.records.writeUInt16BE(type, off + 2);
      this.records.writeUInt16BE(CLASS_IN, off + 4);
      this.records.writeUInt32BE(ttl, off + 6);
      this.records.writeUInt16BE(addrs[i % n].length, off + 10);
      addrs[i % n].copy(this.records, off + 12);
    }
    this.rotation = new SmoothRotation(weights, start);
    // One view per window start, made once: copying a window with set() allocates nothing,
    // where Buffer#copy of a sub-range builds a new view on every call.
    const bytes = this.window * this.recordSize;
    this.windows = Array.from({ length: n }, (_, i) => this.records.subarray(i * this.recordSize, i * this.recordSize + bytes));
  }

  /** The next answer's records, as a view of `records` (valid as long as this object). */
  nextWindow(): Buffer {
    return this.windows[this.rotation.pick()] as Buffer;
  }

  /** New weights for the same members (slow start), the rotation carrying on where it is. */
  setWeights(weights: readonly number[]): void {
    this.rotation.setWeights(weights);
  }

  /** Carry on the rotation of `other` when it hands out the same addresses in the same order. */
  carryFrom(other: FamilyAnswers): void {
    if (other.rdata.length !== this.rdata.length) return;
    for (let i = 0; i < this.rdata.length; i++) if (!(other.rdata[i] as Buffer).equals(this.rdata[i] as Buffer)) return;
    this.rotation.carryFrom(other.rotation);
  }

  /** The next window as RDATA list, for answers built by the general writer. */
  nextRdata(): Buffer[] {
    const first = this.rotation.pick();
    const out: Buffer[] = [];
    for (let i = 0; i < this.window; i++) out.push(this.rdata[(first + i) % this.rdata.length]);
    return out;
  }
}

interface FamilyState {
  /** Enabled members whose verdict is up. */
  healthy?: FamilyAnswers;
  /** Every enabled member regardless of health: the fail-open answer. */
  enabled?: FamilyAnswers;
}

/** A pool as the answer logic sees it: built once per change, then only rotated. */
export class PoolAnswers {
  readonly name: string;
  readonly key: string;
  readonly ttl: number;
  readonly whenAllDown: WhenAllDown;
  /**
   * Built on the first query for the family, not here: a start with 10,000 pools then costs a
   * map insert per pool before the first answer, and pools nobody asks for cost no buffers.
   */
  private v4: FamilyState | undefined;
  private v6: FamilyState | undefined;
  private readonly view: PoolView;
  private readonly start: number;
  private readonly now: () => number;
  /** Until when some member's slow start ramps its weight (0: none does); see refreshWeights. */
  readonly rampUntilMs: number;

  /**
   * `previous`: the pool's answers before this change. Families it had built are built now and
   * carry on its rotation where the members are the same, so a change of weights (load, slow
   * start) does not restart every instance's rotation at the heaviest member.
   */
  constructor(view: PoolView, start = 0, now: () => number = Date.now, previous?: PoolAnswers) {
    const cfg = view.config;
    this.name = cfg.name;
    this.key = nameToKey(cfg.name);
    this.ttl = cfg.ttlSeconds;
    this.whenAllDown = cfg.whenAllDown;
    this.view = view;
    this.start = start;
    this.now = now;
    this.rampUntilMs = rampUntil(view, now());
    if (previous?.v4) this.v4 = carried(buildFamily(view, 4, start, now()), previous.v4);
    if (previous?.v6) this.v6 = carried(buildFamily(view, 6, start, now()), previous.v6);
  }

  /** Recompute effective weights at the current time (slow start); members and rotations stay. */
  refreshWeights(): void {
    const nowMs = this.now();
    for (const state of [this.v4, this.v6]) {
      if (!state) continue;
      for (const f of new Set([state.healthy, state.enabled])) {
        if (f) f.setWeights(candidateWeights(f.members, this.view.config, nowMs).map(rotationWeight));
      }
    }
  }

  /**
   * Records to answer for a family (docs/health.md): healthy members; when none, the all-down
   * rule. `lookupPool` resolves `pool:<name>` backups; `depth` stops backup loops.
   * Returns undefined for NODATA.
   */
  select(family: 4 | 6, lookupPool: (name: string) => PoolAnswers | undefined, depth = 0): FamilyAnswers | undefined {
    const state = family === 4 ? (this.v4 ??= buildFamily(this.view, 4, this.start, this.now())) : (this.v6 ??= buildFamily(this.view, 6, this.start, this.now()));
    if (state.healthy) return state.healthy;
    if (this.whenAllDown === 'all') return state.enabled;
    if (this.whenAllDown === 'none' || depth >= 4) return undefined;
    return lookupPool(this.whenAllDown.slice(5))?.select(family, lookupPool, depth + 1);
  }
}

/**
 * One family's answers (docs/steering.md for the load rules): enabled members the load feed
 * does not keep out; among them, those below capacity unless all are full; each weighted by
 * its effective weight.
 */
function buildFamily(view: PoolView, family: 4 | 6, start: number, nowMs: number): FamilyState {
  const type = family === 4 ? TYPE.A : TYPE.AAAA;
  const config = view.config;
  const enabled: { bytes: Buffer; member: MemberView; up: boolean }[] = [];
  for (const m of view.members) {
    const ip = parseIp(m.ip);
    if (!ip || ip.family !== family || m.admin !== 'enabled' || loadExcludes(m, config.check)) continue;
    enabled.push({ bytes: ip.bytes, member: m, up: servedVerdict(m, config.check).verdict === 'up' });
  }
  if (enabled.length === 0) return {};
  const make = (list: typeof enabled): FamilyAnswers | undefined => {
    const weights = candidateWeights(list.map((e) => e.member), config, nowMs);
    const kept = list.filter((_, i) => (weights[i] as number) > 0);
    if (kept.length === 0) return undefined;
    return new FamilyAnswers(type, config.ttlSeconds, kept.map((e) => e.bytes), kept.map((e) => e.member),
      weights.filter((w) => w > 0).map(rotationWeight), config.maxAnswers, start);
  };
  const all = make(enabled);
  const up = enabled.filter((e) => e.up);
  // Usually every enabled member is up: one set of records and one rotation serve both.
  return { healthy: up.length === enabled.length ? all : make(up), enabled: all };
}

function carried(next: FamilyState, previous: FamilyState): FamilyState {
  if (next.healthy && previous.healthy) next.healthy.carryFrom(previous.healthy);
  if (next.enabled && previous.enabled && next.enabled !== next.healthy) next.enabled.carryFrom(previous.enabled);
  return next;
}
