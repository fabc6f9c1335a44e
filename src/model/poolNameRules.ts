import { isInZone, isPoolName } from './names';

// Where a pool can be served (docs/dns.md, "Pool names"). One rule for the server, which leaves
// such a pool out of its answers with a log line, and for the CLI, which refuses to create it:
// from the zone files it can read, or from what serving instances published in the store.

/** What one zone says about pool names, in the JSON form instances publish. */
export interface ZonePoolRules {
  origin: string;
  /** Names holding static A, AAAA, CNAME or DNAME records → the first such type. */
  static: Record<string, string>;
  /** Delegation points (NS below the apex): no pool at or below one. */
  cuts: string[];
  /** DNAME owners: no pool below one (RFC 6672 §2.4: the names are occluded). */
  dnames: string[];
}

export type PoolNameProblemKind = 'outside' | 'apex' | 'cut' | 'below-cut' | 'below-dname' | 'static';

export interface PoolNameProblem {
  kind: PoolNameProblemKind;
  /** The zone the name lies in ('' for the root zone; absent when outside every zone). */
  zone?: string;
  /** The reason, to follow the name: "is the apex of zone lb.example.com". */
  message: string;
}

interface CompiledZone {
  origin: string;
  static: Map<string, string>;
  cuts: Set<string>;
  dnames: Set<string>;
}

/** The rules of a set of zones, indexed for checking many names. */
export class PoolNameRules {
  private readonly zones = new Map<string, CompiledZone>();

  constructor(zones: Iterable<ZonePoolRules>) {
    for (const z of zones) {
      // Two instances may publish different versions of one zone: a name either refuses stays refused.
      const c = this.zones.get(z.origin) ?? { origin: z.origin, static: new Map(), cuts: new Set(), dnames: new Set() };
      for (const [name, type] of Object.entries(z.static)) if (!c.static.has(name)) c.static.set(name, type);
      for (const n of z.cuts) c.cuts.add(n);
      for (const n of z.dnames) c.dnames.add(n);
      this.zones.set(z.origin, c);
    }
  }

  get origins(): string[] {
    return [...this.zones.keys()].sort();
  }

  /** Why a pool at `name` (canonical) would not be served, or undefined when it would. */
  problem(name: string): PoolNameProblem | undefined {
    const zone = this.zoneOf(name);
    if (!zone) return { kind: 'outside', message: 'is outside every zone' };
    const z = zone.origin;
    const inZone = z === '' ? 'the root zone' : `zone ${z}`;
    if (name === z) return { kind: 'apex', zone: z, message: `is the apex of ${inZone}` };
    // From the apex down: the topmost cut decides, as in a referral (RFC 1034 §4.3.2).
    const labels = name.split('.');
    const below = z === '' ? labels.length : labels.length - z.split('.').length;
    for (let i = below - 1; i >= 0; i--) {
      const ancestor = labels.slice(i).join('.');
      if (zone.cuts.has(ancestor)) {
        return ancestor === name
          ? { kind: 'cut', zone: z, message: `is a delegation point (NS records) in ${inZone}` }
          : { kind: 'below-cut', zone: z, message: `lies below the delegation ${ancestor} in ${inZone}` };
      }
      if (i > 0 && zone.dnames.has(ancestor)) {
        return { kind: 'below-dname', zone: z, message: `lies below the DNAME at ${ancestor} in ${inZone}` };
      }
    }
    const type = zone.static.get(name);
    if (type !== undefined) {
      return { kind: 'static', zone: z, message: `has static ${type} records in ${inZone}` };
    }
    return undefined;
  }

  /** The zone with the longest origin that holds `name`. */
  private zoneOf(name: string): CompiledZone | undefined {
    for (let i = 0; ;) {
      const zone = this.zones.get(name.slice(i));
      if (zone) return zone;
      const dot = name.indexOf('.', i);
      if (dot < 0) return this.zones.get('');
      i = dot + 1;
    }
  }
}

/** Stored rules as read back (a hand edit or another version may have written anything); undefined when malformed. */
export function parseZonePoolRules(raw: unknown): ZonePoolRules | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.origin !== 'string' || !(r.origin === '' || isPoolName(r.origin))) return undefined;
  if (typeof r.static !== 'object' || r.static === null || Array.isArray(r.static)) return undefined;
  if (!Array.isArray(r.cuts) || !Array.isArray(r.dnames)) return undefined;
  const origin = r.origin;
  const names = (list: unknown[]): string[] => list.filter((n): n is string => typeof n === 'string' && isInZone(n, origin));
  const statics: Record<string, string> = {};
  for (const [name, type] of Object.entries(r.static as Record<string, unknown>)) {
    if (typeof type === 'string' && isInZone(name, origin)) Object.defineProperty(statics, name, { value: type, enumerable: true });
  }
  return { origin, static: statics, cuts: names(r.cuts), dnames: names(r.dnames) };
}
