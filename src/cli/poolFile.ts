import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair } from 'yaml';
import { TierdnsError, errorMessage, type ErrorCode } from '../util/errors';
import { LIMITS } from '../model/poolConfig';
import { normalizePoolName } from '../model/names';
import type { MemberSpec, PoolSpec } from '../model/poolPlan';
import type { AdminState } from '../model/types';
import { ipWithPort, mergePoolConfig, parseIntIn, parseMemberIp, parsePoolFlags, precheck, type PoolSetFlags } from './options';

// The declarative pools file of `tierdns apply` (docs/cli.md "apply"): YAML or JSON, pools by
// name, each with `pool set` settings (same names, same values, same defaults) and members.
// Every scalar is read as text (YAML's failsafe schema) and goes through the parsers the flags
// use, so `ttl: 20` and `--ttl 20` mean the same; every problem names file, line and field.

/** A setting the file accepts: a `pool set` flag without its dashes, and the attribute commander gives it. */
export interface SettingKey {
  key: string;
  attribute: keyof PoolSetFlags & string;
}

export interface FileProblem {
  line: number;
  field: string;
  message: string;
  code: ErrorCode;
}

/** One pool of the file, with where it is (for problems found later, such as a zone check). */
export interface FilePool {
  spec: PoolSpec;
  line: number;
  /** Line of each setting given. */
  settingLines: Map<string, number>;
}

/** Problems stop being collected past this many: the first ones are what to fix. */
const MAX_PROBLEMS = 20;
const MEMBER_KEYS = ['ip', 'weight', 'port', 'admin'];

export class PoolFileError extends TierdnsError {
  constructor(readonly file: string, readonly problems: FileProblem[]) {
    super((problems[0] as FileProblem).code, `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing changed`);
  }

  /** One line per problem: FILE:LINE: FIELD: what is wrong (CODE). */
  lines(): string[] {
    return this.problems.map((p) => `${this.file}:${p.line}: ${p.field}: ${p.message} (${p.code})`);
  }
}

/** A `pool set` flag's error, said of a file's field: the field is named already, other flags by their key. */
function fieldMessage(err: unknown, flag: string): string {
  const text = errorMessage(err);
  return (text.startsWith(`${flag} `) ? text.slice(flag.length + 1) : text).replace(/--([a-z][a-z-]*)/g, '$1');
}

function codeOf(err: unknown): ErrorCode {
  return err instanceof TierdnsError ? err.code : 'TIERDNS_E_BAD_VALUE';
}

class Reader {
  readonly problems: FileProblem[] = [];
  private readonly lines = new LineCounter();

  constructor(readonly source: string) {}

  parse(): Node | null {
    const doc = parseDocument(this.source, { lineCounter: this.lines, schema: 'failsafe', prettyErrors: true, uniqueKeys: true });
    for (const e of doc.errors) {
      // prettyErrors adds " at line L, column C:" and the source lines; the location is given apart.
      const message = (e.message.split('\n')[0] as string).replace(/ at line \d+, column \d+:?$/, '');
      this.problems.push({ line: e.linePos?.[0].line ?? 1, field: 'syntax', message, code: 'TIERDNS_E_POOL_FILE' });
    }
    return doc.errors.length > 0 ? null : (doc.contents as Node | null);
  }

  lineOf(node: Node | null | undefined, fallback = 1): number {
    const offset = node?.range?.[0];
    return offset === undefined ? fallback : this.lines.linePos(offset).line;
  }

  problem(node: Node | null | undefined, field: string, message: string, code: ErrorCode = 'TIERDNS_E_POOL_FILE'): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ line: this.lineOf(node), field, message, code });
  }

  /** The text of a scalar, or a problem. */
  scalar(node: unknown, field: string): string | undefined {
    if (isScalar(node) && typeof node.value === 'string') return node.value;
    this.problem(node as Node, field, 'expected a single value');
    return undefined;
  }
}

/**
 * Read a pools file. `settings` are the `pool set` flags the file may use. Throws PoolFileError
 * with every problem found (up to MAX_PROBLEMS), so an operator fixes them in one go.
 */
export function readPoolFile(file: string, text: string, settings: SettingKey[]): FilePool[] {
  const r = new Reader(text);
  const root = r.parse();
  const pools: FilePool[] = [];
  if (root !== null || r.problems.length === 0) readRoot(r, root, settings, pools);
  if (r.problems.length > 0) throw new PoolFileError(file, r.problems);
  return pools;
}

function readRoot(r: Reader, root: Node | null, settings: SettingKey[], out: FilePool[]): void {
  if (!isMap(root)) {
    r.problem(root, 'pools', 'the file must be a mapping with one key, pools (write "pools: {}" for no pools)');
    return;
  }
  let poolsNode: unknown;
  for (const pair of root.items as Array<Pair<Node, Node>>) {
    const key = r.scalar(pair.key, 'top level');
    if (key === 'pools') poolsNode = pair.value;
    else if (key !== undefined) r.problem(pair.key, key, 'unknown key (the file holds one key, pools)');
  }
  if (poolsNode === undefined) {
    r.problem(root, 'pools', 'missing (write "pools: {}" for no pools)');
    return;
  }
  if (!isMap(poolsNode)) {
    r.problem(poolsNode as Node, 'pools', 'expected a mapping of pool names to settings (write "pools: {}" for no pools)');
    return;
  }
  const seen = new Map<string, number>();
  for (const pair of poolsNode.items as Array<Pair<Node, Node>>) {
    const raw = r.scalar(pair.key, 'pools');
    if (raw === undefined) continue;
    let name: string;
    try {
      name = normalizePoolName(raw, 'pool name');
    } catch (err) {
      r.problem(pair.key, `pools.${raw}`, errorMessage(err), codeOf(err));
      continue;
    }
    const line = r.lineOf(pair.key);
    const twice = seen.get(name);
    if (twice !== undefined) {
      r.problem(pair.key, `pools.${raw}`, `names the same pool as line ${twice}`);
      continue;
    }
    seen.set(name, line);
    const settingLines = new Map<string, number>();
    const spec = readPool(r, name, pair.value, settings, settingLines);
    if (spec) out.push({ spec, line, settingLines });
  }
}

function readPool(r: Reader, name: string, node: Node | null, settings: SettingKey[], lines: Map<string, number>): PoolSpec | undefined {
  const at = `pools.${name}`;
  // `name:` with nothing after it: a pool with every default and no members.
  const empty = node === null || (isScalar(node) && node.value === '');
  if (!empty && !isMap(node)) {
    r.problem(node, at, 'expected a mapping of settings and members');
    return undefined;
  }
  const before = r.problems.length;
  const flags: PoolSetFlags = {};
  const keyNodes = new Map<string, Node>();
  let members: MemberSpec[] = [];
  for (const pair of empty ? [] : (node as { items: Array<Pair<Node, Node>> }).items) {
    const key = r.scalar(pair.key, at);
    if (key === undefined) continue;
    if (key === 'members') {
      members = readMembers(r, at, pair.value);
      continue;
    }
    const setting = settings.find((s) => s.key === key);
    if (!setting) {
      r.problem(pair.key, `${at}.${key}`, `unknown setting (pool settings are pool set's flags: ${settings.map((s) => s.key).join(', ')}; and members)`);
      continue;
    }
    const value = r.scalar(pair.value, `${at}.${key}`);
    if (value === undefined) continue;
    keyNodes.set(key, pair.key);
    lines.set(key, r.lineOf(pair.key));
    // Each setting alone first, so a bad value is blamed on its own line.
    try {
      const patch = parsePoolFlags({ [setting.attribute]: value });
      // A flag pool set registers but parsePoolFlags does not read would be dropped without a word.
      if (!patch.hostGiven && Object.keys(patch).length === 1) {
        throw new TierdnsError('TIERDNS_E_INTERNAL', `--${key} is not read by parsePoolFlags: a pools file cannot set it yet`);
      }
      flags[setting.attribute] = value;
    } catch (err) {
      r.problem(pair.value, `${at}.${key}`, fieldMessage(err, `--${key}`), codeOf(err));
    }
  }
  if (r.problems.length > before) return undefined;
  try {
    const patch = parsePoolFlags(flags);
    precheck(name, patch);
    // Declarative: what the file leaves out takes the default, not what the store held.
    return { config: mergePoolConfig(name, undefined, patch), members };
  } catch (err) {
    // A rule between settings (timeout below interval…): blame the first setting it names.
    const named = /--([a-z-]+)/.exec(errorMessage(err))?.[1];
    const blamed = named !== undefined && keyNodes.has(named) ? named : undefined;
    r.problem(blamed ? keyNodes.get(blamed) : node, blamed ? `${at}.${blamed}` : at, blamed ? fieldMessage(err, `--${blamed}`) : errorMessage(err), codeOf(err));
    return undefined;
  }
}

function readMembers(r: Reader, at: string, node: Node | null): MemberSpec[] {
  const out: MemberSpec[] = [];
  if (isScalar(node) && node.value === '') return out;
  if (!isSeq(node)) {
    r.problem(node, `${at}.members`, 'expected a list of addresses or { ip, weight, port, admin }');
    return out;
  }
  const seen = new Map<string, number>();
  (node.items as Node[]).forEach((item, i) => {
    const field = `${at}.members[${i}]`;
    const member = readMember(r, field, item);
    if (!member) return;
    const twice = seen.get(member.ip);
    if (twice !== undefined) {
      r.problem(item, field, `${member.ip} is listed twice (also at line ${twice})`);
      return;
    }
    seen.set(member.ip, r.lineOf(item));
    out.push(member);
  });
  return out;
}

function readMember(r: Reader, field: string, item: Node): MemberSpec | undefined {
  const fields = new Map<string, { key: Node; value: Node }>();
  if (isScalar(item)) {
    fields.set('ip', { key: item, value: item });
  } else if (isMap(item)) {
    for (const pair of item.items as Array<Pair<Node, Node>>) {
      const key = r.scalar(pair.key, field);
      if (key === undefined) continue;
      if (!MEMBER_KEYS.includes(key)) r.problem(pair.key, `${field}.${key}`, `unknown member setting (members take ${MEMBER_KEYS.join(', ')})`);
      else fields.set(key, { key: pair.key, value: pair.value as Node });
    }
  } else {
    r.problem(item, field, 'expected an address or { ip, weight, port, admin }');
    return undefined;
  }
  const ipNode = fields.get('ip');
  if (!ipNode) {
    r.problem(item, `${field}.ip`, 'missing');
    return undefined;
  }
  const value = (key: string, parse: (text: string) => unknown): unknown => {
    const f = fields.get(key);
    if (!f) return undefined;
    const where = isScalar(item) ? field : `${field}.${key}`;
    const text = r.scalar(f.value, where);
    if (text === undefined) return null;
    try {
      return parse(text);
    } catch (err) {
      r.problem(f.value, where, fieldMessage(err, `--${key}`), codeOf(err));
      return null;
    }
  };
  const ip = value('ip', (t) => {
    const split = ipWithPort(t);
    if (split) throw new TierdnsError('TIERDNS_E_BAD_IP', `'${t}' is not an IPv4 or IPv6 address; give the probe port apart: { ip: ${split.ip}, port: ${split.port} }`);
    return parseMemberIp(t);
  }) as string | null;
  const weight = value('weight', (t) => parseIntIn(t, '--weight', LIMITS.weight.min, LIMITS.weight.max)) as number | null | undefined;
  const port = value('port', (t) => parseIntIn(t, '--port', LIMITS.port.min, LIMITS.port.max)) as number | null | undefined;
  const admin = value('admin', (t) => {
    if (t !== 'enabled' && t !== 'drained') throw new TierdnsError('TIERDNS_E_BAD_VALUE', `must be enabled or drained, got '${t}'`);
    return t;
  }) as AdminState | null | undefined;
  if (ip === null || weight === null || port === null || admin === null) return undefined;
  const spec: MemberSpec = { ip, weight: weight ?? 1, admin: admin ?? 'enabled' };
  if (port !== undefined) spec.port = port;
  return spec;
}
