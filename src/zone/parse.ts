// RFC 1035 §5 master files → ZoneData. Directives, owner/TTL/class defaulting and
// $INCLUDE live here; RDATA formats in rdata.ts, whole-zone rules in checks.ts.
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { TYPE, typeCode } from '../wire/constants';
import { errorMessage } from '../util/errors';
import { type DraftRecord, checkZone } from './checks';
import { readZoneFileText } from './fileText';
import { FieldError, parseTtl } from './fields';
import { type Entry, type Token, lex } from './lexer';
import { type Labels, isBelow, nameText, parseName, unescapeBytes } from './names';
import { parseRdata, typeRefusal } from './rdata';
import type { ZoneData, ZoneProblem } from './types';

export interface ParseOptions {
  /** Path used in problems and ZoneData.file; $INCLUDE paths resolve from its directory. */
  file: string;
  /** The zone's name, with or without the trailing dot; the file's initial $ORIGIN. */
  origin: string;
}

/** Nested $INCLUDEs deeper than this are refused (a loop guard that also catches long cycles). */
const MAX_INCLUDE_DEPTH = 8;

interface State {
  zone: Labels;
  origin: Labels;
  /** From $TTL (RFC 2308 §4): the TTL of records that give none. */
  defaultTtl?: number;
  /** The last TTL given explicitly: the RFC 1035 §5.1 default when there is no $TTL. */
  lastTtl?: number;
  lastOwner?: Labels;
  records: DraftRecord[];
  problems: ZoneProblem[];
  /** Resolved paths of the files being read, outermost first, to refuse include loops. */
  stack: string[];
  /** Types whose RDATA failed at the apex, so the apex checks do not pile on. */
  failedApexTypes: Set<number>;
}

/** Parse one zone file. Never throws: every problem is collected with its file and line. */
export function parseZone(text: string, opts: ParseOptions): { zone: ZoneData; problems: ZoneProblem[] } {
  const problems: ZoneProblem[] = [];
  let zone = parseName(opts.origin.endsWith('.') ? opts.origin : `${opts.origin}.`, []);
  if (typeof zone === 'string') {
    problems.push({ file: opts.file, line: 0, message: `bad zone name: ${zone}` });
    zone = [];
  }
  const st: State = { zone, origin: zone, records: [], problems, stack: [resolve(opts.file)], failedApexTypes: new Set() };
  const includeLines = new Map<string, number>();
  parseText(text, opts.file, st, (file, line) => { if (!includeLines.has(file)) includeLines.set(file, line); });
  const checked = checkZone(st.records, zone, opts.file, st.failedApexTypes);
  problems.push(...checked.problems);
  // The zone file itself is marked broken too, so a reload that keys on it keeps the old zone.
  for (const [file, line] of includeLines) {
    if (problems.some((p) => p.file === file)) problems.push({ file: opts.file, line, message: `problems in included file ${file}` });
  }
  // The zone file first, then each included file in the order its first problem appeared.
  const rank = new Map<string, number>([[opts.file, -1]]);
  for (const p of problems) if (!rank.has(p.file)) rank.set(p.file, rank.size);
  problems.sort((a, b) => (rank.get(a.file) ?? 0) - (rank.get(b.file) ?? 0) || a.line - b.line);
  return { zone: { origin: nameText(zone), file: opts.file, records: checked.records }, problems };
}

type IncludeNote = (file: string, topLine: number) => void;

function parseText(text: string, file: string, st: State, noteInclude: IncludeNote, topLine?: number): void {
  const { entries, problems } = lex(text);
  for (const p of problems) st.problems.push({ file, ...p });
  for (const entry of entries) {
    try {
      if (!entry.blankOwner && entry.tokens[0].text.startsWith('$') && !entry.tokens[0].quoted) {
        directive(entry, file, st, noteInclude, topLine);
      } else {
        record(entry, file, st);
      }
    } catch (err) {
      // A bug here must not take a reload (or the server) down: it becomes a problem too.
      if (err instanceof FieldError) st.problems.push({ file, line: err.line, message: err.message });
      else st.problems.push({ file, line: entry.line, message: `internal error: ${errorMessage(err)}` });
    }
  }
}

function directive(entry: Entry, file: string, st: State, noteInclude: IncludeNote, topLine?: number): void {
  const [head, ...args] = entry.tokens;
  const name = head.text.toUpperCase();
  const arity = (min: number, max: number): void => {
    if (args.length < min || args.length > max) {
      throw new FieldError(entry.line, `${name} takes ${min === max ? min : `${min} or ${max}`} argument${max > 1 ? 's' : ''}`);
    }
  };
  const nameArg = (tok: Token): Labels => {
    const labels = tok.quoted ? `bad name "${tok.text}": a domain name cannot be quoted` : parseName(tok.text, st.origin);
    if (typeof labels === 'string') throw new FieldError(tok.line, labels);
    return labels;
  };
  if (name === '$ORIGIN') {
    arity(1, 1);
    st.origin = nameArg(args[0]);
    // The file name decides the zone; a $ORIGIN elsewhere means the file is for another zone.
    if (!isBelow(st.origin, st.zone)) throw new FieldError(entry.line, `$ORIGIN ${nameText(st.origin)} is outside the zone ${nameText(st.zone)}`);
  } else if (name === '$TTL') {
    arity(1, 1);
    const ttl = parseTtl(args[0].text);
    if (typeof ttl === 'string') throw new FieldError(entry.line, `bad $TTL: ${ttl}`);
    st.defaultTtl = ttl;
  } else if (name === '$INCLUDE') {
    arity(1, 2);
    const fileName = unescapeBytes(args[0].text);
    if (typeof fileName === 'string') throw new FieldError(entry.line, `bad $INCLUDE file name: ${fileName}`);
    include(fileName.toString('utf8'), args[1] ? nameArg(args[1]) : st.origin, entry.line, file, st, noteInclude, topLine);
  } else {
    throw new FieldError(entry.line, `unknown directive ${head.text}${name === '$GENERATE' ? ' (not supported)' : ''}`);
  }
}

/** RFC 1035 §5.1: the included file may set its own origin, but the parent's is unchanged after it. */
function include(arg: string, origin: Labels, line: number, file: string, st: State, noteInclude: IncludeNote, topLine?: number): void {
  const path = isAbsolute(arg) ? arg : join(dirname(file), arg);
  const full = resolve(path);
  if (st.stack.includes(full)) throw new FieldError(line, `$INCLUDE loop: ${arg} is already being read`);
  if (st.stack.length > MAX_INCLUDE_DEPTH) throw new FieldError(line, `$INCLUDE nested more than ${MAX_INCLUDE_DEPTH} deep`);
  let text: string;
  try {
    text = readZoneFileText(full);
  } catch (err) {
    throw new FieldError(line, `cannot read $INCLUDE file ${arg}: ${errorMessage(err)}`);
  }
  const saved = { origin: st.origin, lastOwner: st.lastOwner };
  st.origin = origin;
  st.stack.push(full);
  noteInclude(path, topLine ?? line);
  parseText(text, path, st, noteInclude, topLine ?? line);
  st.stack.pop();
  st.origin = saved.origin;
  st.lastOwner = saved.lastOwner;
}

const CLASSES = new Set(['IN', 'CS', 'CH', 'HS', 'NONE', 'ANY']);
const isClass = (t: Token): boolean => !t.quoted && (CLASSES.has(t.text.toUpperCase()) || /^CLASS\d+$/i.test(t.text));

function record(entry: Entry, file: string, st: State): void {
  const toks = entry.tokens;
  let k = 0;
  let owner: Labels;
  if (entry.blankOwner) {
    if (!st.lastOwner) throw new FieldError(entry.line, 'no owner name: the first record must name one');
    owner = st.lastOwner;
  } else {
    const tok = toks[k++];
    const parsed = tok.quoted ? `bad owner name "${tok.text}": a domain name cannot be quoted` : parseName(tok.text, st.origin);
    if (typeof parsed === 'string') throw new FieldError(tok.line, parsed);
    owner = parsed;
    st.lastOwner = owner;
  }
  try {
    typedRecord(owner, toks.slice(k), entry.line, file, st);
  } catch (err) {
    // A broken SOA or NS at the apex is reported once, not again as "missing" by checkZone.
    const typeTok = toks.slice(k).find((t) => !isClass(t) && !/^\d/.test(t.text));
    const type = typeTok && !typeTok.quoted ? typeCode(typeTok.text) : undefined;
    if (type !== undefined && owner.length === st.zone.length && isBelow(owner, st.zone)) st.failedApexTypes.add(type);
    throw err;
  }
}

/** The rest of a record after its owner: TTL and class in either order, type, RDATA. */
function typedRecord(owner: Labels, toks: Token[], line: number, file: string, st: State): void {
  let k = 0;
  // RFC 1035 §5.1: [<TTL>] [<class>] <type> or [<class>] [<TTL>] <type>.
  let ttl: number | undefined;
  let sawClass = false;
  for (; k < toks.length; k++) {
    const tok = toks[k];
    if (isClass(tok)) {
      if (sawClass) throw new FieldError(tok.line, `class given twice ("${tok.text}")`);
      const cls = tok.text.toUpperCase();
      if (cls !== 'IN' && cls !== 'CLASS1') throw new FieldError(tok.line, `class ${tok.text} is not supported: only IN`);
      sawClass = true;
    } else if (!tok.quoted && /^\d/.test(tok.text)) {
      if (ttl !== undefined) throw new FieldError(tok.line, `TTL given twice ("${tok.text}")`);
      const v = parseTtl(tok.text);
      if (typeof v === 'string') throw new FieldError(tok.line, v);
      ttl = v;
    } else {
      break;
    }
  }
  const typeTok = toks[k++];
  if (!typeTok) throw new FieldError(line, 'missing record type');
  const type = typeTok.quoted ? undefined : typeCode(typeTok.text);
  if (type === undefined) throw new FieldError(typeTok.line, `unknown type "${typeTok.text}"`);
  const refusal = typeRefusal(type);
  if (refusal) throw new FieldError(typeTok.line, refusal);
  if (!isBelow(owner, st.zone)) {
    throw new FieldError(line, `"${nameText(owner)}" is outside the zone ${nameText(st.zone)}`);
  }
  const parsed = parseRdata(type, toks.slice(k), st.origin, line);
  if (ttl !== undefined) {
    st.lastTtl = ttl;
  } else if (st.defaultTtl !== undefined) {
    ttl = st.defaultTtl;
  } else if (st.lastTtl !== undefined) {
    ttl = st.lastTtl;
  } else if (type === TYPE.SOA) {
    // No $TTL and nothing before: use the SOA MINIMUM, as BIND does, and let later records inherit it.
    ttl = Math.min(parsed.rdata.readUInt32BE(parsed.rdata.length - 4), 0x7fffffff);
    st.lastTtl = ttl;
  } else {
    throw new FieldError(line, 'no TTL: give one, or put $TTL at the top of the file');
  }
  st.records.push({ owner, type, ttl, rdata: parsed.rdata, target: parsed.target, line, file });
}
