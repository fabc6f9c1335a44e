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
const SCRATCH = Buffer.allocUnsafe(65535);

/**
 * Builds one response in a shared scratch buffer: header, the question copied byte for byte
 * (RFC 5452: case kept), RRsets with name compression (RFC 1035 §4.1.4), and the OPT record.
 * An RRset that does not fit is dropped whole; in the answer or authority section that sets TC
 * (RFC 2181 §9). Space for the OPT is reserved up front, so truncation never loses it.
 */
export class ResponseWriter {
  private readonly buf = SCRATCH;
  private off = 0;
  private limit = 0;
  private readonly names = new Map<string, number>();
  private readonly counts = [0, 0, 0];
  private withOpt = false;
  truncated = false;

  /** Start a response to `q` that may use at most `maxSize` bytes. */
  begin(q: Query, maxSize: number, echoQuestion: boolean, withOpt: boolean): this {
    this.names.clear();
    this.counts[0] = this.counts[1] = this.counts[2] = 0;
    this.truncated = false;
    this.withOpt = withOpt;
    this.limit = maxSize - (withOpt ? OPT_SIZE : 0);
    q.buf.copy(this.buf, 0, 0, 4);
    this.off = 12;
    if (echoQuestion) {
      q.buf.copy(this.buf, 12, 12, q.questionEnd);
      this.off = q.questionEnd;
      this.remember(q.qkey, 12);
    }
    this.buf.writeUInt16BE(echoQuestion ? 1 : 0, 4);
    return this;
  }

  /** Add a whole RRset, or nothing; returns false when it did not fit. */
  add(section: Section, rrset: RRset, ownerKey: string = rrset.key): boolean {
    // Once something was left out the client asks again over TCP: adding records after the
    // gap would only send data that depends on what is missing (glue without its NS).
    if (this.truncated) return false;
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

  /** Copy pre-encoded records (owner compressed to the question name) into the answer section. */
  addRaw(records: Buffer, start: number, end: number, count: number): boolean {
    if (this.off + (end - start) > this.limit) {
      this.truncated = true;
      return false;
    }
    records.copy(this.buf, this.off, start, end);
    this.off += end - start;
    this.counts[0] += count;
    return true;
  }

  /** Finish with the header flags and rcode; returns a fresh copy the caller may keep. */
  finish(q: Query, rcode: number, authoritative: boolean, dnssecOk = q.dnssecOk): Buffer {
    const b = this.buf;
    // QR=1, opcode copied, AA as decided; RA, Z and AD stay 0 (RFC 1035 §4.1.1, RFC 8906). RD and
    // CD are copied for QUERY only: they are QUERY's flags, so a NOTIMP for another opcode
    // echoes none (as BIND does, and as ISC's genreport "opcodeflg" test expects).
    const query = q.opcode === 0;
    b[2] = 0x80 | (q.flags1 & (query ? 0x79 : 0x78)) | (authoritative ? 0x04 : 0) | (this.truncated ? 0x02 : 0);
    b[3] = (query ? q.flags2 & 0x10 : 0) | (rcode & 0x0f);
    b.writeUInt16BE(this.counts[0], 6);
    b.writeUInt16BE(this.counts[1], 8);
    let arcount = this.counts[2];
    if (this.withOpt) {
      writeOpt(b, this.off, rcode, dnssecOk);
      this.off += OPT_SIZE;
      arcount++;
    }
    b.writeUInt16BE(arcount, 10);
    return Buffer.from(b.subarray(0, this.off));
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
      if (this.off < 0x3fff) {
        this.names.set(suffix, this.off);
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
