import { PoolTable } from '../pool/poolTable';
import type { PoolView } from '../model/types';
import { ZoneIndex } from '../zone/lookup';
import { zonePoolRules } from '../zone/poolRules';
import { PoolNameRules, type ZonePoolRules } from '../model/poolNameRules';
import type { ZoneData } from '../zone/types';
import { nameToKey } from '../wire/query';
import { foldedHash } from '../wire/nameTable';

export type SnapshotWarning = (message: string) => void;

/**
 * Everything an answer depends on, in memory: the zones and the pools. Answers never wait on
 * the store; the server swaps zones on reload and updates pools one at a time.
 */
export class Snapshot {
  readonly zones = new Map<string, ZoneIndex>();
  /** foldedHash (wire/nameTable.ts) of every zone's name: the zone of a question without a string. */
  readonly zoneHashes = new Set<number>();
  readonly pools: PoolTable;
  /** Every pool view as last received, so zone reloads can re-validate them. */
  private readonly views = new Map<string, PoolView>();
  private readonly warn: SnapshotWarning;
  /** What each zone says about where pools can be; instances publish it so the CLI checks by the same rules. */
  zoneRules: readonly ZonePoolRules[] = [];
  private rules = new PoolNameRules([]);

  /** `now`: the clock slow start ramps by (tests inject one). */
  constructor(opts: { rotationStart?: number; warn?: SnapshotWarning; now?: () => number } = {}) {
    this.pools = new PoolTable(opts.rotationStart ?? 0, opts.now);
    this.warn = opts.warn ?? (() => undefined);
  }

  /** Replace every zone (a reload) and re-check every pool against the new zones. */
  setZones(zones: readonly ZoneData[]): void {
    this.zones.clear();
    this.zoneHashes.clear();
    this.zoneRules = zones.map(zonePoolRules);
    this.rules = new PoolNameRules(this.zoneRules);
    for (const z of zones) {
      const index = new ZoneIndex(z);
      this.zones.set(index.key, index);
      const wire = Buffer.from(index.key, 'latin1');
      this.zoneHashes.add(foldedHash(wire, 0, wire.length));
    }
    for (const [name, view] of this.views) this.setPool(name, view);
  }

  /** Replace one pool; a pool that cannot be served here is left out with a warning. */
  setPool(name: string, view: PoolView | undefined): void {
    if (view) this.views.set(name, view);
    else this.views.delete(name);
    const problem = view && this.poolProblem(name);
    if (problem) this.warn(problem);
    this.pools.set(name, problem ? undefined : view);
  }

  /** The zone with the longest origin that contains `key`. */
  findZone(key: string): ZoneIndex | undefined {
    for (let i = 0; ; i += key.charCodeAt(i) + 1) {
      const zone = this.zones.get(i === 0 ? key : key.slice(i));
      if (zone) return zone;
      if (i >= key.length) return undefined;
    }
  }

  private poolProblem(name: string): string | undefined {
    const problem = this.rules.problem(name);
    if (!problem) return undefined;
    const file = problem.zone === undefined ? undefined : this.zones.get(nameToKey(problem.zone))?.file;
    return `pool ${name} ${problem.message}${file ? ` (${file})` : ''}; not served`;
  }
}
