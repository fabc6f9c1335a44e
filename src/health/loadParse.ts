// What the four load feeds say, from their bytes (docs/steering.md). Pure functions: the
// sockets are in ./loadFeed. Anything a feed sends that is not what its format promises is a
// failed read with a short reason, never a number made up.

/** An agent line longer than this (to its CR or LF) is not an agent talking. */
export const MAX_AGENT_LINE = 1024;

/** What one agent line changes; words it does not carry leave the state as it was (HAProxy). */
export interface AgentWords {
  /** Weight factor in percent, 0..100. */
  percent?: number;
  /** ready cancels drain/maint; drain and maint keep the member out of answers. */
  admin?: 'ready' | 'drain' | 'maint';
  /** down/fail/stopped count as a failed probe; up cancels that. */
  op?: 'up' | 'down';
}

/** Connections now and, when the feed says, how many the balancer takes. */
export interface ConnectionCount {
  connections: number;
  capacity?: number;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

/**
 * One agent-check line (HAProxy configuration manual, "agent-check"): words separated by
 * spaces, tabs or commas, in any order; `N%`, ready, drain, maint, up, down/fail/stopped (a
 * description may follow a '#'). Other words, such as maxconn:N, are ignored, as HAProxy
 * ignores what it does not know; a line with no word we know is a failed read.
 */
export function parseAgentLine(line: string): ParseResult<AgentWords> {
  const eol = line.search(/[\r\n]/);
  const first = eol >= 0 ? line.slice(0, eol) : line;
  const hash = first.indexOf('#');
  const text = hash >= 0 ? first.slice(0, hash) : first;
  const words: AgentWords = {};
  let known = 0;
  for (const raw of text.split(/[ \t,]+/)) {
    if (raw === '') continue;
    const word = raw.toLowerCase();
    const pct = /^(\d{1,6})%$/.exec(word);
    if (pct) {
      // A share of the configured weight: more than all of it is capped (raise --weight instead).
      words.percent = Math.min(100, Number(pct[1]));
      known++;
    } else if (word === 'ready' || word === 'drain' || word === 'maint') {
      words.admin = word;
      known++;
    } else if (word === 'up') {
      words.op = 'up';
      known++;
    } else if (word === 'down' || word === 'fail' || word === 'stopped') {
      words.op = 'down';
      known++;
    }
  }
  if (known === 0) return fail(`agent said nothing known: ${JSON.stringify(clip(line))}`);
  return { ok: true, value: words };
}

/** `{"connections": N, "capacity": M}`; capacity may be absent (then --capacity gives it). */
export function parseJsonLoad(body: string): ParseResult<ConnectionCount> {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return fail(`not JSON: ${JSON.stringify(clip(body))}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail('JSON is not an object');
  const o = v as Record<string, unknown>;
  const connections = countProblem(o.connections, 'connections');
  if (typeof connections === 'string') return fail(connections);
  const out: ConnectionCount = { connections };
  if (o.capacity !== undefined && o.capacity !== null) {
    const capacity = countProblem(o.capacity, 'capacity');
    if (typeof capacity === 'string') return fail(capacity);
    if (capacity === 0) return fail('capacity is 0');
    out.capacity = capacity;
  }
  return { ok: true, value: out };
}

/** nginx stub_status (ngx_http_stub_status_module): the first line, `Active connections: N`. */
export function parseStubStatus(body: string): ParseResult<ConnectionCount> {
  const m = /^Active connections:[ \t]*(\d{1,12})[ \t]*$/m.exec(body);
  if (!m) return fail(`no "Active connections: N" line: ${JSON.stringify(clip(body))}`);
  return { ok: true, value: { connections: Number(m[1]) } };
}

/**
 * HAProxy's CSV statistics (management guide, "CSV format"): a '#' header naming the columns,
 * then one row per proxy item. Connections are the sum of `scur` over the FRONTEND rows and
 * capacity the sum of their `slim` (omitted when every slim is empty or 0).
 */
export function parseHaproxyCsv(body: string): ParseResult<ConnectionCount> {
  const lines = body.split(/\r?\n/);
  const header = lines[0] ?? '';
  if (!header.startsWith('#')) return fail(`not HAProxy CSV (no '#' header): ${JSON.stringify(clip(header))}`);
  const columns = splitCsv(header.slice(1).trim());
  const sv = columns.indexOf('svname');
  const scur = columns.indexOf('scur');
  const slim = columns.indexOf('slim');
  if (sv < 0 || scur < 0 || slim < 0) return fail('HAProxy CSV header lacks svname, scur or slim');
  let connections = 0;
  let capacity = 0;
  let frontends = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const row = splitCsv(line);
    if (row[sv] !== 'FRONTEND') continue;
    const cur = cell(row[scur]);
    const lim = cell(row[slim]);
    if (cur === undefined || lim === undefined) return fail(`HAProxy CSV: bad scur/slim in row ${i + 1}`);
    connections += cur;
    capacity += lim;
    frontends++;
  }
  if (frontends === 0) return fail('HAProxy CSV has no FRONTEND row');
  return { ok: true, value: capacity > 0 ? { connections, capacity } : { connections } };
}

/** A count as a feed sends it: a finite number >= 0, else why not. */
function countProblem(v: unknown, what: string): number | string {
  if (v === undefined || v === null) return `no ${what}`;
  if (typeof v !== 'number' || !Number.isFinite(v)) return `${what} is not a number: ${JSON.stringify(clip(String(v)))}`;
  if (v < 0) return `${what} is negative (${v})`;
  return v;
}

/** An empty CSV cell is 0 (HAProxy leaves unset limits empty); anything but digits is undefined. */
function cell(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return 0;
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/** One CSV line: commas, with double quotes around a cell that holds a comma or quote ("" inside). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let cellText = '';
    if (line[i] === '"') {
      i++;
      for (; i < line.length; i++) {
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            cellText += '"';
            i++;
          } else {
            i++;
            break;
          }
        } else cellText += line[i];
      }
      const comma = line.indexOf(',', i);
      out.push(cellText);
      if (comma < 0) return out;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      out.push(comma < 0 ? line.slice(i) : line.slice(i, comma));
      if (comma < 0) return out;
      i = comma + 1;
    }
  }
}

/** At most 80 characters of what a feed sent, for a log line. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
