import { disputedMembers, summarizePool } from '../model/poolSummary';
import type { MemberView, PoolView } from '../model/types';
import { loadView, servedWeights } from '../model/load';
import { servedVerdict } from '../model/verdict';
import { writeSliced, type WriteText } from './textStream';

// Pool and member series as Prometheus text (exposition format 0.0.4), built at each scrape a
// slice of pools at a time. It is not kept between scrapes: for a large store it would hold
// tens of megabytes for the life of the process (docs/metrics.md, "Cost").

interface Family {
  name: string;
  help: string;
  /** The family's lines for one pool; `pool` is the escaped label value. */
  lines: (pool: string, view: PoolView, live: ReadonlyMap<string, unknown>) => string;
}

/** Lines of a per-member family: `value(member)` for each member of the pool. */
function perMember(name: string, value: (m: MemberView, view: PoolView) => number): Family['lines'] {
  return (pool, view) => {
    let out = '';
    for (const m of view.members) out += `${name}{pool="${pool}",member="${labelValue(m.ip)}"} ${value(m, view)}\n`;
    return out;
  };
}

const FAMILIES: Family[] = [
  {
    name: 'tierdns_pool_members',
    help: 'Members of the pool by state: enabled members by the verdict answers act on (up, down, unknown), and drained members.',
    lines: (pool, view) => {
      const s = summarizePool(view);
      let out = '';
      for (const state of ['up', 'down', 'unknown', 'drained'] as const) out += `tierdns_pool_members{pool="${pool}",state="${state}"} ${s[state]}\n`;
      return out;
    },
  },
  {
    name: 'tierdns_pool_failing_open',
    help: '1 while the pool fails open: an address family has enabled members, none of them up, so all of them are handed out (--when-all-down all).',
    lines: (pool, view) => `tierdns_pool_failing_open{pool="${pool}"} ${summarizePool(view).failingOpen ? 1 : 0}\n`,
  },
  {
    name: 'tierdns_pool_members_disputed',
    help: 'Members whose observations by live instances disagree: one instance sees the member up, another down.',
    lines: (pool, view, live) => `tierdns_pool_members_disputed{pool="${pool}"} ${disputedMembers(view, live)}\n`,
  },
  {
    name: 'tierdns_member_up',
    help: '1 when the verdict answers act on is up, 0 when it is down or still unknown.',
    lines: perMember('tierdns_member_up', (m, view) => (servedVerdict(m, view.config.check).verdict === 'up' ? 1 : 0)),
  },
  {
    name: 'tierdns_member_drained',
    help: 'Admin state: 1 drained (never handed out), 0 enabled.',
    lines: perMember('tierdns_member_drained', (m) => (m.admin === 'drained' ? 1 : 0)),
  },
  {
    name: 'tierdns_member_weight',
    help: 'Configured weight (1..1000).',
    lines: perMember('tierdns_member_weight', (m) => m.weight),
  },
  {
    name: 'tierdns_member_effective_weight',
    help: 'Weight answers hand the member out by now: weight x load factor x slow-start ramp, 0 when not handed out (docs/steering.md).',
    lines: (pool, view) => {
      const weights = servedWeights(view, Date.now());
      let out = '';
      for (const m of view.members) out += `tierdns_member_effective_weight{pool="${pool}",member="${labelValue(m.ip)}"} ${weights.get(m.ip) ?? 0}\n`;
      return out;
    },
  },
  {
    name: 'tierdns_member_load_factor',
    help: 'Shared load factor of a member of a pool with a load feed (1 empty or not read yet, 0 full).',
    lines: (pool, view) => (view.config.load === 'none' ? '' : perMember('tierdns_member_load_factor', (m) => m.load?.factor ?? 1)(pool, view, new Map())),
  },
  {
    name: 'tierdns_member_load_connections',
    help: 'Connections of a member as the freshest live reading of its load feed reported them.',
    lines: (pool, view, live) => {
      if (view.config.load === 'none') return '';
      let out = '';
      for (const m of view.members) {
        const connections = loadView(m, view.config, live)?.connections;
        if (connections !== null && connections !== undefined) out += `tierdns_member_load_connections{pool="${pool}",member="${labelValue(m.ip)}"} ${connections}\n`;
      }
      return out;
    },
  },
];

/** Label value escaping of the text format: backslash, double quote, line feed. */
function labelValue(text: string): string {
  return /["\\\n]/.test(text) ? text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : text;
}

/** Every pool and member family, each family's lines together as the text format requires. */
export async function writePoolMetrics(pools: ReadonlyMap<string, PoolView>, live: ReadonlyMap<string, number>, write: WriteText): Promise<void> {
  // Views are never edited: the set taken now is one consistent state for the whole scrape.
  const entries = [...pools].map(([name, view]) => ({ pool: labelValue(name), view }));
  for (const f of FAMILIES) {
    await writeSliced(entries, (e) => f.lines(e.pool, e.view, live), write, `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} gauge\n`);
  }
}
