import { TYPE } from '../wire/constants';
import type { ZonePoolRules } from '../model/poolNameRules';
import type { ZoneData } from './types';

// A zone's records reduced to what decides where a pool can be (model/poolNameRules.ts): small
// enough to publish in the store, so a CLI without the zone files refuses what servers would.

const STATIC_TYPES = new Map<number, string>([[TYPE.A, 'A'], [TYPE.AAAA, 'AAAA'], [TYPE.CNAME, 'CNAME'], [TYPE.DNAME, 'DNAME']]);

export function zonePoolRules(zone: ZoneData): ZonePoolRules {
  const statics: Record<string, string> = {};
  const cuts = new Set<string>();
  const dnames = new Set<string>();
  for (const rec of zone.records) {
    const type = STATIC_TYPES.get(rec.type);
    // Own properties only: a zone may hold a name like "__proto__".
    if (type !== undefined && !Object.hasOwn(statics, rec.name)) {
      Object.defineProperty(statics, rec.name, { value: type, enumerable: true });
    }
    if (rec.type === TYPE.NS && rec.name !== zone.origin) cuts.add(rec.name);
    if (rec.type === TYPE.DNAME) dnames.add(rec.name);
  }
  return { origin: zone.origin, static: statics, cuts: [...cuts].sort(), dnames: [...dnames].sort() };
}
