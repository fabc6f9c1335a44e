import { CLASS_IN, RCODE, TYPE } from './constants';
import type { Query } from './query';

/** A set of records sharing owner, type and TTL; names are lower-case wire keys (see query.ts). */
export interface RRset {
  key: string;
  type: number;
  ttl: number;
  rdata: Buffer[];
}

export type Section = 0 | 1 | 2; // answer, authority, additional

const OPT_SIZE = 11;

/**
 * Builds one response in the buffer its caller provides: header, the question copied byte for
 * byte (RFC 5452: case kept), RRsets with name compression (RFC 1035 §4.1.4), and the OPT
 * record. An RRset that does not fit is dropped whole; in the answer or authority section that
 * sets TC (RFC 2181 §9). Space for the OPT is reserved up front, so truncation never loses it.
 */
export class ResponseWriter {
  private buf: Buffer = Buffer.alloc(0);
  /** Where the message starts in buf; off and limit are positions in buf, name pointers are relative to base. */
  private base = 0;
  private off = 0;
  private limit = 0;
  private readonly names = new Map<string, number>();
  private readonly counts = [0, 0, 0];
  private withOpt = false;
  /** The echoed question's key until its suffixes are registered for compression. */
  private questionKey: string | undefined;
  /** Where the sections start: right after the question. */
  private bodyStart = 12;
  truncated = false;

  /**
   * Start a response to `q` in out[at, ...), at most `maxSize` bytes (fewer when out has less
   * room: the response is then truncated to what fits).
   */
  begin(q: Query, out: Buffer, at: number, maxSize: number, echoQuestion: boolean, withOpt: boolean): this {
    this.names.clear();
    this.counts[0] = this.counts[1] = this.counts[2] = 0;
    this.truncated = false;
    this.withOpt = withOpt;
    this.buf = out;
    this.base = at;
    this.limit = at + Math.min(maxSize, out.length - at) - (withOpt ? OPT_SIZE : 0);
    const src = q.buf;
    // Byte loops: Buffer#copy of a sub-range costs more than these few bytes (Node 20).
    for (let i = 0; i < 4; i++) out[at + i] = src[i] as number;
    this.off = at + 12;
    this.questionKey = undefined;
    if (echoQuestion) {
      const end = q.questionEnd;
      for (let i = 12; i < end; i++) out[at + i] = src[i] as number;
      this.off = at + end;
      // Its suffixes become compression targets when a name is first written (ensureNames).
      this.questionKey = q.qkey;
    }
    this.bodyStart = this.off;
    out.writeUInt16BE(echoQuestion ? 1 : 0, at + 4);
    return this;
  }

  /** Add a whole RRset, or nothing; returns false when it did not fit. */
  add(section: Section, rrset: RRset, ownerKey: string = rrset.key): boolean {
    // Once something was left out the client asks again over TCP: adding records after the
    // gap would only send data that depends on what is missing (glue without its NS).
    if (this.truncated) return false;
    if (this.questionKey !== undefined) this.ensureNames();
    const start = this.off;
    const added: string[] = [];
    const names = RDATA_NAMES.get(rrset.type);
    for (const rdata of rrset.rdata) {
      if (!this.writeName(ownerKey, added) || this.off + 10 > this.limit
        || !this.writeRecordBody(rrset.type, rrset.ttl, rdata, names, added)) {
        this.rollback(start, added);
        if (section !== 2) this.truncated = true;
        return false;
      }
    }
    this.counts[section] += rrset.rdata.length;
    return true;
  }

  /**
   * The SOA of a negative answer (RFC 2308 §3) in the authority section. First in the message,
   * as it is for NXDOMAIN and NODATA, it is copied from a template made once per zone, with
   * pointers to the zone's name inside the question; otherwise it is an add().
   */
  addNegativeSoa(rrset: RRset): boolean {
    const key = this.questionKey;
    const apexAt = key === undefined || this.off !== this.bodyStart || rrset.key.length === 0 ? -1 : labelOffsetOf(key, rrset.key);
    const t = apexAt < 0 ? null : soaTemplate(rrset);
    if (!t || this.off + 2 + t.body.length > this.limit) return this.add(1, rrset);
    // The question's name starts at 12, and the zone's name inside it at 12 + apexAt.
    const pointer = 0xc000 | (12 + apexAt);
    const b = this.buf;
    let off = this.off;
    b[off] = pointer >> 8;
    b[off + 1] = pointer & 0xff;
    off += 2;
    const body = t.body;
    for (let i = 0; i < body.length; i++) b[off + i] = body[i] as number;
    for (const at of t.pointers) {
      b[off + at] = pointer >> 8;
      b[off + at + 1] = pointer & 0xff;
    }
    this.off = off + body.length;
    this.counts[1]++;
    return true;
  }

  /** Finish with the header flags and rcode; returns the response's length. */
  finish(q: Query, rcode: number, authoritative: boolean, dnssecOk = q.dnssecOk): number {
    const b = this.buf;
    const at = this.base;
    // QR=1, opcode copied, AA as decided; RA, Z and AD stay 0 (RFC 1035 §4.1.1, RFC 8906). RD and
    // CD are copied for QUERY only: they are QUERY's flags, so a NOTIMP for another opcode
    // echoes none (as BIND does, and as ISC's genreport "opcodeflg" test expects).
    const query = q.opcode === 0;
    b[at + 2] = 0x80 | (q.flags1 & (query ? 0x79 : 0x78)) | (authoritative ? 0x04 : 0) | (this.truncated ? 0x02 : 0);
    b[at + 3] = (query ? q.flags2 & 0x10 : 0) | (rcode & 0x0f);
    b.writeUInt16BE(this.counts[0], at + 6);
    b.writeUInt16BE(this.counts[1], at + 8);
    let arcount = this.counts[2];
    if (this.withOpt) {
      writeOpt(b, this.off, rcode, dnssecOk);
      this.off += OPT_SIZE;
      arcount++;
    }
    b.writeUInt16BE(arcount, at + 10);
    return this.off - at;
  }

  /** Register the echoed question's suffixes as compression targets, once per response. */
  private ensureNames(): void {
    this.remember(this.questionKey as string, 12);
    this.questionKey = undefined;
  }

  private remember(key: string, offset: number): void {
    // Register every suffix of a name written at `offset` as a compression target.
    for (let i = 0; i < key.length && offset + i < 0x3fff; i += key.charCodeAt(i) + 1) {
      const suffix = i === 0 ? key : key.slice(i);
      if (!this.names.has(suffix)) this.names.set(suffix, offset + i);
    }
  }

  /** Type, class, TTL, RDLENGTH and RDATA at this.off (the owner is written). */
  private writeRecordBody(type: number, ttl: number, rdata: Buffer, names: [number, number] | undefined, added: string[]): boolean {
    const b = this.buf;
    b.writeUInt16BE(type, this.off);
    b.writeUInt16BE(CLASS_IN, this.off + 2);
    b.writeUInt32BE(ttl, this.off + 4);
    return names ? this.writeCompressedRdata(rdata, names[0], names[1], added) : this.copyRdata(rdata);
  }

  /** RDLENGTH and RDATA as they are. */
  private copyRdata(rdata: Buffer): boolean {
    if (this.off + 10 + rdata.length > this.limit) return false;
    rdata.copy(this.buf, this.off + 10);
    this.buf.writeUInt16BE(rdata.length, this.off + 8);
    this.off += 10 + rdata.length;
    return true;
  }

  /**
   * RDATA of a type whose names may be compressed (RFC 3597 §4: the RFC 1035 types): `prefix`
   * bytes as they are, then `count` names compressed against the message, then the rest as is.
   * Labels keep their case from the zone file; suffixes become compression targets.
   */
  private writeCompressedRdata(rdata: Buffer, prefix: number, count: number, added: string[]): boolean {
    const b = this.buf;
    const lenAt = this.off + 8;
    const rdStart = this.off + 10;
    if (rdStart + prefix > this.limit) return false;
    rdata.copy(b, rdStart, 0, prefix);
    this.off = rdStart + prefix;
    const names = rdataNames(rdata, prefix, count);
    if (!names) {
      // Not plain names (never from our zone parser): send the RDATA untouched.
      this.off = lenAt - 8;
      return this.copyRdata(rdata);
    }
    let pos = prefix;
    for (const name of names) {
      if (!this.writeName(name.key, added, rdata, name.pos)) return false;
      pos = name.end + 1;
    }
    if (this.off + rdata.length - pos > this.limit) return false;
    rdata.copy(b, this.off, pos);
    this.off += rdata.length - pos;
    b.writeUInt16BE(this.off - rdStart, lenAt);
    return true;
  }

  /** Write a name, compressed against earlier ones; labels come from `raw` at `rawStart` when given (original case). */
  private writeName(key: string, added: string[], raw?: Buffer, rawStart = 0): boolean {
    let i = 0;
    const b = this.buf;
    while (i < key.length) {
      const suffix = i === 0 ? key : key.slice(i);
      const ptr = this.names.get(suffix);
      if (ptr !== undefined) {
        if (this.off + 2 > this.limit) return false;
        b.writeUInt16BE(0xc000 | ptr, this.off);
        this.off += 2;
        return true;
      }
      const l = key.charCodeAt(i);
      if (this.off + l + 1 > this.limit) return false;
      if (this.off - this.base < 0x3fff) {
        this.names.set(suffix, this.off - this.base);
        added.push(suffix);
      }
      if (raw) raw.copy(b, this.off, rawStart + i, rawStart + i + l + 1);
      else b.write(key.slice(i, i + l + 1), this.off, 'latin1');
      this.off += l + 1;
      i += l + 1;
    }
    if (this.off + 1 > this.limit) return false;
    b[this.off++] = 0;
    return true;
  }

  private rollback(offset: number, added: string[]): void {
    this.off = offset;
    for (const k of added) this.names.delete(k);
  }
}

/** Types whose RDATA names may be compressed: [bytes before the first name, number of names]. */
const RDATA_NAMES = new Map<number, [number, number]>([
  [TYPE.NS, [0, 1]], [TYPE.CNAME, [0, 1]], [TYPE.PTR, [0, 1]], [TYPE.MX, [2, 1]], [TYPE.SOA, [0, 2]],
]);

/** A negative SOA's record after its owner name: type to RDATA, and where apex pointers go. */
interface SoaTemplate {
  body: Buffer;
  pointers: number[];
}

const soaTemplates = new WeakMap<RRset, SoaTemplate | null>();

/**
 * RRset → template, once per zone load. MNAME and RNAME under the zone's name are written as
 * their own labels and a pointer to the zone's name (patched per query); names outside it are
 * written whole. null when the RRset is not one plain SOA.
 */
function soaTemplate(rrset: RRset): SoaTemplate | null {
  let t = soaTemplates.get(rrset);
  if (t !== undefined) return t;
  t = null;
  const rdata = rrset.rdata[0];
  const names = rrset.rdata.length === 1 && rdata ? rdataNames(rdata, 0, 2) : null;
  if (rrset.type === TYPE.SOA && rdata && names) {
    const parts: Buffer[] = [];
    const pointers: number[] = [];
    let length = 10;
    for (const name of names) {
      const apexAt = labelOffsetOf(name.key, rrset.key);
      if (apexAt < 0) {
        parts.push(rdata.subarray(name.pos, name.end + 1));
        length += name.end + 1 - name.pos;
      } else {
        parts.push(rdata.subarray(name.pos, name.pos + apexAt));
        length += apexAt;
        pointers.push(length);
        parts.push(Buffer.alloc(2));
        length += 2;
      }
    }
    const last = names[names.length - 1] as { end: number };
    parts.push(rdata.subarray(last.end + 1));
    const head = Buffer.alloc(10);
    head.writeUInt16BE(TYPE.SOA, 0);
    head.writeUInt16BE(CLASS_IN, 2);
    head.writeUInt32BE(rrset.ttl, 4);
    const body = Buffer.concat([head, ...parts]);
    body.writeUInt16BE(body.length - 10, 8);
    t = { body, pointers };
  }
  soaTemplates.set(rrset, t);
  return t;
}

/** Offset of the label boundary in `key` where `suffix` starts, or -1. */
function labelOffsetOf(key: string, suffix: string): number {
  let i = 0;
  while (key.length - i > suffix.length) i += key.charCodeAt(i) + 1;
  return key.length - i === suffix.length && key.endsWith(suffix) ? i : -1;
}

/** Where the names of an RDATA are, with their lookup keys: zone data is static, so once per RDATA. */
const rdataNameCache = new WeakMap<Buffer, Array<{ pos: number; end: number; key: string }> | null>();

function rdataNames(rdata: Buffer, prefix: number, count: number): Array<{ pos: number; end: number; key: string }> | null {
  let names = rdataNameCache.get(rdata);
  if (names !== undefined) return names;
  names = [];
  let pos = prefix;
  for (let n = 0; n < count && names; n++) {
    const end = nameEnd(rdata, pos);
    if (end < 0) names = null;
    else {
      names.push({ pos, end, key: lowerKey(rdata, pos, end) });
      pos = end + 1;
    }
  }
  rdataNameCache.set(rdata, names);
  return names;
}

/** Offset of the root label ending an uncompressed name at `pos`, or -1. */
function nameEnd(buf: Buffer, pos: number): number {
  let i = pos;
  while (i < buf.length) {
    const l = buf[i];
    if (l === 0) return i;
    if (l > 63) return -1;
    i += l + 1;
  }
  return -1;
}

/** The lookup key (query.ts) of the name in buf[pos..end]: wire labels, ASCII lower-cased. */
function lowerKey(buf: Buffer, pos: number, end: number): string {
  let key = '';
  for (let i = pos; i < end; i++) {
    const c = buf[i];
    key += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return key;
}

/** OPT pseudo-RR (RFC 6891 §6.1.2): root owner, our payload size, extended rcode, version 0, DO. */
export function writeOpt(b: Buffer, off: number, rcode: number, dnssecOk: boolean): void {
  b[off] = 0;
  b.writeUInt16BE(TYPE.OPT, off + 1);
  b.writeUInt16BE(1232, off + 3);
  b[off + 5] = (rcode >> 4) & 0xff;
  b[off + 6] = 0; // version 0
  b[off + 7] = dnssecOk ? 0x80 : 0;
  b[off + 8] = 0;
  b.writeUInt16BE(0, off + 9);
}

export const OPT_RECORD_SIZE = OPT_SIZE;
export { RCODE };
