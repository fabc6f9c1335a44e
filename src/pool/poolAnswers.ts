import { CLASS_IN, TYPE } from '../wire/constants';
import { nameToKey } from '../wire/query';
import type { PoolView, WhenAllDown } from '../model/types';
import { servedVerdict } from '../model/verdict';
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
  private readonly windows: Buffer[];
  private readonly rotation: SmoothRotation;

  constructor(type: number, ttl: number, addrs: Buffer[], weights: number[], maxAnswers: number, start: number) {
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

  constructor(view: PoolView, start = 0) {
    const cfg = view.config;
    this.name = cfg.name;
    this.key = nameToKey(cfg.name);
    this.ttl = cfg.ttlSeconds;
    this.whenAllDown = cfg.whenAllDown;
    this.view = view;
    this.start = start;
  }

  /**
   * Records to answer for a family (docs/health.md): healthy members; when none, the all-down
   * rule. `lookupPool` resolves `pool:<name>` backups; `depth` stops backup loops.
   * Returns undefined for NODATA.
   */
  select(family: 4 | 6, lookupPool: (name: string) => PoolAnswers | undefined, depth = 0): FamilyAnswers | undefined {
    const state = family === 4 ? (this.v4 ??= buildFamily(this.view, 4, this.start)) : (this.v6 ??= buildFamily(this.view, 6, this.start));
    if (state.healthy) return state.healthy;
    if (this.whenAllDown === 'all') return state.enabled;
    if (this.whenAllDown === 'none' || depth >= 4) return undefined;
    return lookupPool(this.whenAllDown.slice(5))?.select(family, lookupPool, depth + 1);
  }
}

function buildFamily(view: PoolView, family: 4 | 6, start: number): FamilyState {
  const type = family === 4 ? TYPE.A : TYPE.AAAA;
  const enabled: { bytes: Buffer; weight: number; up: boolean }[] = [];
  for (const m of view.members) {
    const ip = parseIp(m.ip);
    if (!ip || ip.family !== family || m.admin !== 'enabled') continue;
    enabled.push({ bytes: ip.bytes, weight: m.weight, up: servedVerdict(m, view.config.check).verdict === 'up' });
  }
  if (enabled.length === 0) return {};
  const make = (list: typeof enabled) =>
    list.length === 0
      ? undefined
      : new FamilyAnswers(type, view.config.ttlSeconds, list.map((e) => e.bytes), list.map((e) => e.weight), view.config.maxAnswers, start);
  const all = make(enabled);
  const up = enabled.filter((e) => e.up);
  // Usually every enabled member is up: one set of records and one rotation serve both.
  return { healthy: up.length === enabled.length ? all : make(up), enabled: all };
}
