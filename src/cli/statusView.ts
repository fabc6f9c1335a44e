import { countMembers, type MemberCounts } from '../model/poolSummary';
import { formatDuration } from '../util/duration';
import { hostPort } from '../util/listen';
import type { MemberJson, PoolJson, StatusJson } from './storeStatus';
import { poolSummary } from './storeStatus';

// `tierdns status` for terminals and monitoring (docs/cli.md "status"): what each pool answers
// now, one line per pool; the members of one pool; and the one-line Nagios check. Everything
// here is a pure function of `status --json`'s document, so the three always agree.

type StatusPool = StatusJson['pools'][number];

/** What a pool's answers are now, worst first (the order `--watch` sorts by). */
export type PoolState = 'empty' | 'all-drained' | 'nodata' | 'backup' | 'failing-open' | 'degraded' | 'ok';
const SEVERITY: readonly PoolState[] = ['empty', 'all-drained', 'nodata', 'backup', 'failing-open', 'degraded', 'ok'];

export interface PoolHealth extends MemberCounts {
  members: number;
  state: PoolState;
}

export function poolHealth(p: { whenAllDown: string; members: Array<Pick<MemberJson, 'ip' | 'admin' | 'verdict'>> }): PoolHealth {
  const h: PoolHealth = { ...countMembers(p.members), members: p.members.length, state: 'ok' };
  if (h.members === 0) h.state = 'empty';
  else if (h.drained === h.members) h.state = 'all-drained';
  else if (h.allDownFamilies.length > 0) {
    // Candidates are enabled members that are up; with none in a family, when-all-down decides.
    h.state = p.whenAllDown === 'all' ? 'failing-open' : p.whenAllDown === 'none' ? 'nodata' : 'backup';
  } else if (h.up < h.members) h.state = 'degraded';
  return h;
}

/** The pool has a member that is not up (down, unknown or drained). */
export function notAllUp(h: PoolHealth): boolean {
  return h.up < h.members || h.members === 0;
}

/** No member is handed out healthy in some family (or none at all): clients get a fallback or nothing. */
export function noMemberUp(h: PoolHealth): boolean {
  return ['empty', 'all-drained', 'nodata', 'backup', 'failing-open'].includes(h.state);
}

/** Short, so the summary keeps a line per pool at 80 columns; docs/cli.md explains each. */
export function stateText(p: PoolJson, h: PoolHealth): string {
  // Named only when the other family still answers from healthy members.
  const family = h.allDownFamilies.length === 1 && h.families === 2 ? ` ${h.allDownFamilies[0]}` : '';
  switch (h.state) {
    case 'empty': return 'EMPTY';
    case 'all-drained': return 'ALL DRAINED';
    case 'nodata': return `NODATA${family}`;
    case 'backup': return `BACKUP${family} ${p.whenAllDown.slice(5)}`;
    case 'failing-open': return `FAILING OPEN${family}`;
    case 'degraded': return 'degraded';
    default: return 'ok';
  }
}

/** Cut a line to `width` columns, marking the cut. */
export function fit(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/** Columns the STATE of the summary keeps before pool names are cut ('FAILING OPEN IPv4'). */
const STATE_MIN = 17;

export interface SummaryOptions {
  width: number;
  /** Only pools with a member not up. */
  down?: boolean;
  /** Worst pools first (for --watch, whose screen may not hold them all). */
  worstFirst?: boolean;
}

/** One line per pool, then totals and the live instances. */
export function renderSummary(s: StatusJson, o: SummaryOptions): string[] {
  let pools = s.pools.map((p) => ({ p, h: poolHealth(p) }));
  const total = pools.length;
  if (o.down) pools = pools.filter(({ h }) => notAllUp(h));
  if (o.worstFirst) pools.sort((a, b) => SEVERITY.indexOf(a.h.state) - SEVERITY.indexOf(b.h.state) || (a.p.name < b.p.name ? -1 : 1));
  const out: string[] = [];
  if (pools.length > 0) {
    const head = ['POOL', 'UP', 'DOWN', 'UNKNOWN', 'DRAINED', 'STATE'];
    const rows = pools.map(({ p, h }) => [p.name, `${h.up}/${h.members}`, String(h.down), String(h.unknown), String(h.drained), stateText(p, h)]);
    // Long names give way before the counts and the state (at least STATE_MIN of it) do.
    const counts = [1, 2, 3, 4].reduce((n, i) => n + Math.max(...[head, ...rows].map((r) => (r[i] as string).length)) + 2, 0);
    const nameWidth = Math.max(12, Math.min(Math.max(4, ...rows.map((r) => (r[0] as string).length)), o.width - counts - 2 - STATE_MIN));
    for (const r of rows) r[0] = fit(r[0] as string, nameWidth);
    out.push(...grid([head, ...rows], new Set([1, 2, 3, 4])).map((l) => fit(l, o.width)));
  }
  const byState = new Map<string, number>();
  for (const { h } of pools) byState.set(h.state, (byState.get(h.state) ?? 0) + 1);
  const parts = SEVERITY.filter((st) => byState.has(st)).map((st) => `${byState.get(st)} ${st.replace('-', ' ')}`);
  const shown = o.down ? `${pools.length} of ${total} pools have a member not up` : `${total} pool${total === 1 ? '' : 's'}`;
  out.push(fit(total === 0 ? 'no pools' : `${shown}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`, o.width));
  out.push(fit(instancesLine(s), o.width));
  return out;
}

/** Columns two spaces apart, the `right` ones right-aligned; the last column is never padded. */
export function grid(rows: string[][], right: ReadonlySet<number> = new Set(), indent = ''): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((r) => indent + r.map((c, i) => {
    if (i === r.length - 1 && !right.has(i)) return c;
    return right.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number);
  }).join('  '));
}

function instancesLine(s: StatusJson): string {
  return s.instances.length === 0 ? 'instances: none live (no server is recording health)'
    : `instances: ${s.instances.map((i) => `${i.name} (heartbeat ${formatDuration(i.ageSeconds * 1000)} ago)`).join(', ')}`;
}

/** `status <pool>`: the pool's settings, then one line per member; long error text is cut at the width. */
export function renderPoolDetail(p: StatusPool, nowMs: number, o: { width: number; down?: boolean }): string[] {
  const h = poolHealth(p);
  const splits = p.members.filter((m) => m.split).length;
  const counts = `${h.up}/${h.members} up, ${h.down} down, ${h.unknown} unknown, ${h.drained} drained${splits > 0 ? `, ${splits} split vote${splits === 1 ? '' : 's'}` : ''}`;
  const out = [fit(`${p.name}  ${stateText(p, h)}  ${counts}`, o.width), ...wrap(poolSummary(p).split('  '), o.width, '  ')];
  const members = o.down ? p.members.filter((m) => m.admin === 'drained' || m.verdict !== 'up') : p.members;
  if (members.length === 0) {
    out.push(p.members.length === 0 ? '  (no members)' : '  (every member up)');
    return out;
  }
  // Pools that steer (docs/steering.md) show the weight answers use and the load behind it.
  const steers = p.load !== 'none' || p.slowStartMs > 0;
  const rows = [['MEMBER', 'WEIGHT', ...(steers ? ['EFFECTIVE', 'LOAD'] : []), 'ADMIN', 'VERDICT', 'OBSERVED', 'LAST PROBE']];
  for (const m of members) {
    const lp = m.lastProbe;
    rows.push([
      m.port === null ? m.ip : hostPort(m.ip, m.port), String(m.weight), ...(steers ? [String(m.effectiveWeight), loadText(m)] : []), m.admin,
      `${m.verdict} ${formatDuration(m.sinceSeconds * 1000)}${m.split ? ` split ${m.votes.up}-${m.votes.down}` : ''}`,
      m.observations.map((ob) => `${ob.instance}=${ob.state}${ob.live ? '' : '(stale)'}`).join(' ') || '-',
      !lp ? '-' : lp.ok === false
        ? `fail ${formatDuration(Math.max(0, nowMs - lp.atMs))} ago ${lp.instance}${lp.error ? `: ${lp.error}` : ''}`
        : `ok ${formatDuration(Math.max(0, nowMs - lp.atMs))} ago ${lp.instance}${lp.latencyMs != null ? ` ${lp.latencyMs.toFixed(1)}ms` : ''}`,
    ]);
    // A failing load read says why, after the probe (the LOAD column only marks it with '?').
    if (m.load?.error) rows[rows.length - 1]![rows[0]!.length - 1] += `; load feed: ${m.load.error}`;
  }
  // Only the last column (error text can be long) is cut; the rest keeps its place.
  out.push(...grid(rows, new Set(), '  ').map((l) => fit(l, o.width)));
  return out;
}

/** "0.62 38/100", "drain", "full 100/100", or "-" without a feed; "?" marks a failing read. */
function loadText(m: MemberJson): string {
  const l = m.load;
  if (!l) return '-';
  const counts = l.connections !== null && l.capacity !== null ? ` ${l.connections}/${l.capacity}` : '';
  const head = l.state !== 'ready' ? l.state : l.factor === 0 ? 'full' : l.factor.toFixed(2);
  return `${head}${counts}${l.error !== null ? ' ?' : ''}`;
}

/** Words joined by `sep` into lines of at most `width` columns, indented by two spaces. */
function wrap(words: string[], width: number, sep: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && 2 + line.length + sep.length + w.length > width) {
      lines.push(`  ${line}`);
      line = '';
    }
    line = line === '' ? w : `${line}${sep}${w}`;
  }
  if (line !== '') lines.push(fit(`  ${line}`, width));
  return lines;
}

/** Nagios plugin exit codes (Monitoring Plugins Development Guidelines, "Plugin Return Codes"). */
export const CHECK_CODES = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type CheckStatus = keyof typeof CHECK_CODES;

/** How many pool names a check line lists before "+N more". */
const CHECK_NAMES = 3;

/** `status --check`: one line (text | performance data) and the exit status. */
export function checkResult(s: StatusJson): { status: CheckStatus; line: string } {
  const pools = s.pools.map((p) => ({ p, h: poolHealth(p) }));
  const sum = (k: 'members' | 'up' | 'down' | 'unknown' | 'drained'): number => pools.reduce((n, { h }) => n + h[k], 0);
  const perf = `pools=${pools.length} members=${sum('members')} up=${sum('up')} down=${sum('down')} unknown=${sum('unknown')} drained=${sum('drained')} instances=${s.instances.length}`;
  const names = (list: typeof pools, what: (x: (typeof pools)[number]) => string): string => {
    const shown = list.slice(0, CHECK_NAMES).map(what).join(', ');
    return list.length > CHECK_NAMES ? `${shown}, +${list.length - CHECK_NAMES} more` : shown;
  };
  const critical = pools.filter(({ h }) => noMemberUp(h));
  const warning = pools.filter(({ h }) => !noMemberUp(h) && notAllUp(h));
  let status: CheckStatus;
  let text: string;
  if (critical.length > 0) {
    status = 'CRITICAL';
    text = `${critical.length} of ${pools.length} pools without a member up: ${names(critical, ({ p, h }) => `${p.name} (${stateText(p, h)})`)}`;
    if (warning.length > 0) text += `; ${warning.length} more with members not up`;
  } else if (warning.length > 0) {
    status = 'WARNING';
    text = `${warning.length} of ${pools.length} pools with members not up: ${names(warning, ({ p, h }) =>
      `${p.name} (${[h.down && `${h.down} down`, h.unknown && `${h.unknown} unknown`, h.drained && `${h.drained} drained`].filter(Boolean).join(', ')})`)}`;
  } else {
    status = 'OK';
    text = pools.length === 0 ? 'no pools' : `${pools.length} pools, all ${sum('members')} members up`;
  }
  return { status, line: `TIERDNS ${status} - ${text} | ${perf}` };
}
