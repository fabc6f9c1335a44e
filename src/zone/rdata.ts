// RDATA presentation formats → uncompressed wire RDATA, one parser per supported type,
// plus the RFC 3597 §5 generic form `\# <length> <hex>` for every type.
import { TYPE, typeName } from '../wire/constants';
import { parseIp } from '../util/ip';
import type { Token } from './lexer';
import { FieldError, Fields } from './fields';
import { type Labels, nameWire, readWireName } from './names';

export interface ParsedRdata {
  rdata: Buffer;
  /** The name an NS, CNAME, DNAME, MX, SRV or PTR record points to. */
  target?: Labels;
}

type Parser = (f: Fields) => ParsedRdata;

const plain = (...parts: Buffer[]): ParsedRdata => ({ rdata: Buffer.concat(parts) });
const pointer = (prefix: Buffer[], target: Labels): ParsedRdata => ({ rdata: Buffer.concat([...prefix, nameWire(target)]), target });

function address(f: Fields, family: 4 | 6): ParsedRdata {
  const tok = f.next(`IPv${family} address`);
  // parseIp is strict: four decimal octets without leading zeros, or RFC 4291 text, no zone id.
  const ip = tok.quoted ? undefined : parseIp(tok.text);
  if (!ip || ip.family !== family) throw new FieldError(tok.line, `bad IPv${family} address "${tok.text}"`);
  return plain(ip.bytes);
}

function charStrings(f: Fields, what: string): ParsedRdata {
  const toks = f.rest();
  if (toks.length === 0) throw new FieldError(f.line, `missing ${what}`);
  return plain(...toks.map((t) => f.charString(what, t)));
}

const PARSERS = new Map<number, Parser>([
  [TYPE.A, (f) => address(f, 4)],
  [TYPE.AAAA, (f) => address(f, 6)],
  [TYPE.NS, (f) => pointer([], f.name('name server'))],
  [TYPE.CNAME, (f) => pointer([], f.name('canonical name'))],
  [TYPE.DNAME, (f) => pointer([], f.name('DNAME target'))],
  [TYPE.PTR, (f) => pointer([], f.name('PTR target'))],
  [TYPE.MX, (f) => pointer([f.u16('MX preference')], f.name('mail exchange'))],
  // RFC 2782: priority weight port target.
  [TYPE.SRV, (f) => pointer([f.u16('SRV priority'), f.u16('SRV weight'), f.u16('SRV port')], f.name('SRV target'))],
  // RFC 1035 §3.3.13; the four timers accept TTL units as BIND and Knot do.
  [TYPE.SOA, (f) => plain(
    nameWire(f.name('SOA primary name server')), nameWire(f.name('SOA responsible mailbox')), f.u32('SOA serial'),
    f.seconds('SOA refresh'), f.seconds('SOA retry'), f.seconds('SOA expire'), f.seconds('SOA minimum'),
  )],
  [TYPE.TXT, (f) => charStrings(f, 'TXT string')],
  [TYPE.SPF, (f) => charStrings(f, 'SPF string')],
  [TYPE.HINFO, (f) => plain(f.charString('HINFO CPU'), f.charString('HINFO OS'))],
  // RFC 3403 §4.1: order preference flags services regexp replacement.
  [TYPE.NAPTR, (f) => plain(
    f.u16('NAPTR order'), f.u16('NAPTR preference'), f.charString('NAPTR flags'),
    f.charString('NAPTR services'), f.charString('NAPTR regexp'), nameWire(f.name('NAPTR replacement')),
  )],
  [TYPE.CAA, caa],
  // RFC 4255 §3.2, RFC 6698 §2.2, RFC 4034 §5.3: small integers, then hex that may contain blanks.
  [TYPE.SSHFP, (f) => plain(f.u8('SSHFP algorithm'), f.u8('SSHFP fingerprint type'), f.hexRest('SSHFP fingerprint'))],
  [TYPE.TLSA, (f) => plain(f.u8('TLSA usage'), f.u8('TLSA selector'), f.u8('TLSA matching type'), f.hexRest('TLSA data'))],
  [TYPE.DS, (f) => plain(f.u16('DS key tag'), f.u8('DS algorithm'), f.u8('DS digest type'), f.hexRest('DS digest'))],
]);

/** RFC 8659 §4.1.1: flags, an alphanumeric tag, and a value that is not length-prefixed. */
function caa(f: Fields): ParsedRdata {
  const flags = f.u8('CAA flags');
  const tagTok = f.next('CAA tag');
  if (tagTok.quoted || !/^[a-z0-9]{1,15}$/i.test(tagTok.text)) {
    throw new FieldError(tagTok.line, `bad CAA tag "${tagTok.text}": 1 to 15 letters and digits`);
  }
  const value = f.bytes(f.next('CAA value'));
  return plain(flags, Buffer.from([tagTok.text.length]), Buffer.from(tagTok.text, 'ascii'), value);
}

/** Wire layouts used to check `\#` RDATA of known types: fixed byte counts, names, <character-string>s. */
type Part = number | 'name' | 'target' | 'string';
const LAYOUTS = new Map<number, Part[]>([
  [TYPE.A, [4]], [TYPE.AAAA, [16]],
  [TYPE.NS, ['target']], [TYPE.CNAME, ['target']], [TYPE.DNAME, ['target']], [TYPE.PTR, ['target']],
  [TYPE.MX, [2, 'target']], [TYPE.SRV, [6, 'target']], [TYPE.SOA, ['name', 'name', 20]],
  [TYPE.HINFO, ['string', 'string']], [TYPE.NAPTR, [4, 'string', 'string', 'string', 'name']],
]);

/**
 * Check generic RDATA of a known type against its layout, folding the case of embedded
 * names (the zone stores names lower-cased) and extracting the target.
 */
function checkGeneric(type: number, wire: Buffer, line: number): ParsedRdata {
  const layout = LAYOUTS.get(type);
  if (!layout) return { rdata: wire };
  const out: Buffer[] = [];
  let target: Labels | undefined;
  let off = 0;
  const bad = (why: string): FieldError => new FieldError(line, `bad \\# RDATA for ${typeName(type)}: ${why}`);
  for (const part of layout) {
    if (typeof part === 'number' || part === 'string') {
      const len = typeof part === 'number' ? part : 1 + (wire[off] ?? 0);
      if (off + len > wire.length) throw bad('too short');
      out.push(wire.subarray(off, off + len));
      off += len;
      continue;
    }
    const name = readWireName(wire, off);
    if (typeof name === 'string') throw bad(name);
    out.push(nameWire(name.labels));
    if (part === 'target') target = name.labels;
    off = name.end;
  }
  const extra = wire.length - off;
  if (extra !== 0) throw bad(`${extra} byte${extra === 1 ? '' : 's'} left over`);
  return { rdata: Buffer.concat(out), target };
}

/** RFC 3597 §5: `\#`, the RDATA length in decimal, then that many bytes in hex. */
function generic(type: number, f: Fields): ParsedRdata {
  f.next('\\#');
  const len = f.uint('RDATA length', 0xffff);
  const wire = f.hexRest('RDATA hex', len === 0);
  if (wire.length !== len) throw new FieldError(f.line, `\\# RDATA length ${len} does not match the ${wire.length} bytes given`);
  return checkGeneric(type, wire, f.line);
}

/** Why a type code cannot appear in a zone file, if it cannot. */
export function typeRefusal(type: number): string | undefined {
  // RFC 6895 §3.1: 0 is reserved, OPT is a pseudo-RR, 128-255 are query and meta types.
  if (type === 0 || type === TYPE.OPT || (type >= 128 && type <= 255)) {
    return `type ${typeName(type)} cannot appear in a zone file`;
  }
  return undefined;
}

/** Parse the RDATA tokens of one record. Throws FieldError (caught by the record parser). */
export function parseRdata(type: number, tokens: Token[], origin: Labels, line: number): ParsedRdata {
  const f = new Fields(tokens, origin, line);
  const first = f.peek();
  let parsed: ParsedRdata;
  if (first && !first.quoted && first.text === '\\#') {
    parsed = generic(type, f);
  } else {
    const parser = PARSERS.get(type);
    if (!parser) {
      throw new FieldError(line, `no presentation format for ${typeName(type)} here: write it as \\# <length> <hex> (RFC 3597)`);
    }
    parsed = parser(f);
    f.end();
  }
  if (parsed.rdata.length > 0xffff) throw new FieldError(line, `RDATA longer than 65535 bytes`);
  return parsed;
}
