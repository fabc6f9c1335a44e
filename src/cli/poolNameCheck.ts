import { existsSync } from 'node:fs';
import { TierdnsError } from '../util/errors';
import { PoolNameRules, type ZonePoolRules } from '../model/poolNameRules';
import type { Store } from '../store/types';
import { loadZoneDir } from '../zone/load';
import { zonePoolRules } from '../zone/poolRules';
import { zonesFromDir } from './options';

// `pool set` refuses a name no server would answer for (docs/dns.md, "Pool names"), by the rule
// servers apply (model/poolNameRules.ts) to the zones it can see: --zones DIR, else ./zones when
// it exists, else what running servers published in the store.

/** Where the zones came from (for messages), their origins, and the rules of those that loaded. */
interface SeenZones {
  source: string;
  origins: string[];
  rules: ZonePoolRules[];
  /** Read from what servers published (not from a zones directory). */
  published: boolean;
}

function fromDir(dir: string): SeenZones {
  // Origins from the file names, so a zone whose file has errors still holds its names.
  const origins = zonesFromDir(dir);
  return { source: `the *.zone files in ${dir}`, origins, rules: loadZoneDir(dir).zones.map(zonePoolRules), published: false };
}

async function fromStore(store: Store): Promise<SeenZones> {
  const origins = await store.readZones();
  const rules = origins.length === 0 ? [] : await store.readZoneRules();
  return { source: 'the zones running servers published', origins, rules, published: true };
}

/**
 * Refuse a pool name that would never be served: outside every zone (TIERDNS_E_NOT_IN_ZONE),
 * the apex, a delegation point or below one, below a DNAME, or at a name with static A, AAAA,
 * CNAME or DNAME records (TIERDNS_E_NOT_SERVABLE). A zone whose file has errors (`zone check`
 * names them) is known by its file name only: the apex and lying in it are all that is checked.
 */
export async function checkPoolName(name: string, zonesDir: string | undefined, store: Store): Promise<void> {
  (await poolNameChecker(zonesDir, store))(name);
}

/** checkPoolName for many names (`tierdns apply`): the zones are read once. */
export async function poolNameChecker(zonesDir: string | undefined, store: Store): Promise<(name: string) => void> {
  const seen = zonesDir !== undefined || existsSync('zones') ? fromDir(zonesDir ?? 'zones') : await fromStore(store);
  // A zone known only by its origin (its file has errors, or an older server published no rules)
  // still has an apex and still holds its names.
  const known = new Set(seen.rules.map((r) => r.origin));
  const bare = seen.origins.filter((z) => !known.has(z)).map((origin) => ({ origin, static: {}, cuts: [], dnames: [] }));
  const rules = new PoolNameRules([...seen.rules, ...bare]);
  return (name: string): void => {
    if (seen.published && seen.origins.length === 0) {
      throw new TierdnsError('TIERDNS_E_NOT_IN_ZONE',
        `cannot check that ${name} lies in a served zone: give --zones DIR (no ./zones here) or start a server that publishes its zones`);
    }
    const problem = rules.problem(name);
    if (problem?.kind === 'outside') {
      const list = seen.origins.length > 0 ? seen.origins.join(', ') : 'none';
      throw new TierdnsError('TIERDNS_E_NOT_IN_ZONE', `${name} ${problem.message} (${seen.source}: ${list})`);
    }
    if (problem) throw new TierdnsError('TIERDNS_E_NOT_SERVABLE', `${name} ${problem.message}: a pool there would never be served (${seen.source})`);
  };
}
