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
    const start = this.off;
    const added: string[] = [];
    for (const rdata of rrset.rdata) {
      if (!this.writeName(ownerKey, added) || this.off + 10 + rdata.length > this.limit) {
        this.rollback(start, added);
        if (section !== 2) this.truncated = true;
        return false;
      }
      const b = this.buf;
      b.writeUInt16BE(rrset.type, this.off);
      b.writeUInt16BE(CLASS_IN, this.off + 2);
      b.writeUInt32BE(rrset.ttl, this.off + 4);
      b.writeUInt16BE(rdata.length, this.off + 8);
      rdata.copy(b, this.off + 10);
      this.off += 10 + rdata.length;
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
    // QR=1, opcode and RD copied, AA as decided; RA, Z and AD stay 0 (RFC 1035 §4.1.1, RFC 8906).
    b[2] = 0x80 | (q.flags1 & 0x79) | (authoritative ? 0x04 : 0) | (this.truncated ? 0x02 : 0);
    b[3] = (q.flags2 & 0x10) | (rcode & 0x0f);
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

  private writeName(key: string, added: string[]): boolean {
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
      b.write(key.slice(i, i + l + 1), this.off, 'latin1');
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
