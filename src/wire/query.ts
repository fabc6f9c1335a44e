import { CLASSIC_UDP, EDNS_MAX_UDP, OPCODE_QUERY, TYPE } from './constants';
import { foldedHash, LOWER, type NameTable } from './nameTable';

/** Why a packet gets no normal answer: dropped silently, or answered with an error rcode. */
export type QueryProblem = 'drop' | 'formerr' | 'notimp' | 'badvers' | undefined;

/**
 * The parts of a query the answer depends on, decoded in one pass with plain Buffer reads.
 * Reused across queries on the hot path: parseQuery overwrites every field.
 */
export class Query {
  /** The message starts at buf[0]; buf may be a longer, reused receive slot (parseQuery's len). */
  buf: Buffer = Buffer.alloc(0);
  id = 0;
  opcode = 0;
  /** Byte 2 of the header as received (QR, opcode, AA, TC, RD). */
  flags1 = 0;
  /** Byte 3 as received (RA, Z, AD, CD, rcode). */
  flags2 = 0;
  qdcount = 0;
  /** Question name: wire bytes are buf[12, qnameEnd). */
  qnameEnd = 0;
  /** Lower-case wire bytes of the name as latin1 text: a cheap exact-match key. */
  qkey = '';
  /** A 30-bit hash of qkey (nameTable.ts foldedHash), computed from the wire bytes. */
  qhash = 0;
  qtype = 0;
  qclass = 0;
  /** End of the question section (exclusive). */
  questionEnd = 0;
  hasOpt = false;
  /** Requestor's payload size as sent (RFC 6891 §6.2.3). */
  optUdpSize = 0;
  optVersion = 0;
  /** DNSSEC OK bit (RFC 3225), copied to the answer. */
  dnssecOk = false;
  /** Where the query's TSIG record starts in buf (RFC 8945 §4.2), or -1 when it has none. */
  tsigAt = -1;
  problem: QueryProblem = undefined;

  /** Largest UDP answer we may send: min(client, 1232) with EDNS, 512 without (RFC 6891 §6.2.5). */
  udpLimit(): number {
    if (!this.hasOpt) return CLASSIC_UDP;
    return Math.min(Math.max(this.optUdpSize, CLASSIC_UDP), EDNS_MAX_UDP);
  }
}

/** Skip a possibly compressed name; returns the offset after it, or -1 when malformed. */
function skipName(buf: Buffer, off: number, len: number): number {
  for (let hops = 0; hops < 128; hops++) {
    if (off >= len) return -1;
    const b = buf[off];
    if (b === 0) return off + 1;
    if ((b & 0xc0) === 0xc0) return off + 2 <= len ? off + 2 : -1;
    if (b & 0xc0) return -1; // 0x40/0x80 label types are undefined (RFC 6891 §5)
    off += b + 1;
  }
  return -1;
}

/**
 * Decode header, question and OPT (RFC 1035 §4.1, RFC 6891 §6.1). Sets `problem` for packets
 * that must be dropped (RFC 8906 §3.1: shorter than a header, or QR=1) or refused with an rcode.
 * A question name found in `names` takes its key from there instead of a new string.
 */
export function parseQuery(buf: Buffer, q: Query, len = buf.length, names?: NameTable): Query {
  q.buf = buf;
  q.problem = undefined;
  q.hasOpt = false;
  q.optUdpSize = 0;
  q.optVersion = 0;
  q.dnssecOk = false;
  q.tsigAt = -1;
  q.qkey = '';
  q.qhash = 0;
  q.qtype = 0;
  q.qclass = 0;
  q.qnameEnd = 12;
  q.questionEnd = 12;
  if (len < 12 || buf[2] & 0x80) {
    q.problem = 'drop';
    return q;
  }
  q.id = buf.readUInt16BE(0);
  q.flags1 = buf[2];
  q.flags2 = buf[3];
  q.opcode = (buf[2] >> 3) & 0x0f;
  q.qdcount = buf.readUInt16BE(4);
  if (q.opcode !== OPCODE_QUERY) {
    q.problem = 'notimp';
    // Still decode a well-formed question so it can be echoed, and an OPT to answer with one.
    if (q.qdcount === 1) readQuestion(buf, q, len, names);
    findOpt(buf, q, len);
    return q;
  }
  if (q.qdcount !== 1 || !readQuestion(buf, q, len, names)) {
    q.problem = 'formerr';
    findOpt(buf, q, len);
    return q;
  }
  const ancount = buf.readUInt16BE(6);
  const nscount = buf.readUInt16BE(8);
  const arcount = buf.readUInt16BE(10);
  const total = ancount + nscount + arcount;
  let off = q.questionEnd;
  for (let i = 0; i < total; i++) {
    const nameStart = off;
    off = skipName(buf, off, len);
    if (off < 0 || off + 10 > len) {
      return malformedRecords(q);
    }
    const type = buf.readUInt16BE(off);
    const rdlen = buf.readUInt16BE(off + 8);
    const rdata = off + 10;
    if (rdata + rdlen > len) {
      return malformedRecords(q);
    }
    if (type === TYPE.OPT) {
      // Exactly one OPT, in the additional section, owned by the root (RFC 6891 §6.1.1).
      if (q.hasOpt || i < ancount + nscount || buf[nameStart] !== 0 || !validOptions(buf, rdata, rdlen)) {
        return malformedRecords(q);
      }
      q.hasOpt = true;
      q.optUdpSize = buf.readUInt16BE(off + 2);
      q.optVersion = buf[off + 5];
      q.dnssecOk = (buf[off + 6] & 0x80) !== 0;
    } else if (type === TYPE.TSIG) {
      // RFC 8945 §5.2: one TSIG, the last record of the additional section, or FORMERR.
      if (i !== total - 1 || i < ancount + nscount || !validTsig(buf, rdata, rdlen)) return malformedRecords(q);
      q.tsigAt = nameStart;
    }
    off = rdata + rdlen;
  }
  if (q.hasOpt && q.optVersion > 0) q.problem = 'badvers';
  return q;
}

/** FORMERR for records that do not parse (or a bad OPT): no OPT in the answer, as if none came. */
function malformedRecords(q: Query): Query {
  q.problem = 'formerr';
  q.hasOpt = false;
  q.dnssecOk = false;
  return q;
}

/**
 * For a query refused before its records were read (NOTIMP, FORMERR): find its OPT, so the
 * error carries ours too (RFC 6891 §7). Best effort: any doubt (a name that does not parse,
 * two OPTs, an OPT outside the additional section) means no OPT.
 */
function findOpt(buf: Buffer, q: Query, len: number): void {
  let off = 12;
  for (let i = 0; i < q.qdcount; i++) {
    off = skipName(buf, off, len);
    if (off < 0 || off + 4 > len) return;
    off += 4;
  }
  const before = buf.readUInt16BE(6) + buf.readUInt16BE(8);
  const total = before + buf.readUInt16BE(10);
  let found = -1;
  for (let i = 0; i < total; i++) {
    const nameStart = off;
    off = skipName(buf, off, len);
    if (off < 0 || off + 10 > len) return;
    const rdlen = buf.readUInt16BE(off + 8);
    if (off + 10 + rdlen > len) return;
    if (buf.readUInt16BE(off) === TYPE.OPT) {
      if (found >= 0 || i < before || buf[nameStart] !== 0 || !validOptions(buf, off + 10, rdlen)) return;
      found = off;
    }
    off += 10 + rdlen;
  }
  if (found < 0) return;
  q.hasOpt = true;
  q.optUdpSize = buf.readUInt16BE(found + 2);
  q.optVersion = buf[found + 5];
  q.dnssecOk = (buf[found + 6] & 0x80) !== 0;
}

/** Options must tile the RDATA exactly; their contents are ignored (RFC 6891 §6.1.2). */
function validOptions(buf: Buffer, start: number, rdlen: number): boolean {
  let off = start;
  const end = start + rdlen;
  while (off < end) {
    if (off + 4 > end) return false;
    off += 4 + buf.readUInt16BE(off + 2);
  }
  return off === end;
}

/** TSIG RDATA (RFC 8945 §4.2): algorithm name, time, fudge, MAC, original ID, error, other data, exactly. */
function validTsig(buf: Buffer, start: number, rdlen: number): boolean {
  const end = start + rdlen;
  let off = skipName(buf, start, end);
  if (off < 0 || off + 10 > end) return false;
  off += 10 + buf.readUInt16BE(off + 8);
  if (off + 6 > end) return false;
  off += 6 + buf.readUInt16BE(off + 4);
  return off === end;
}

function readQuestion(buf: Buffer, q: Query, len: number, names: NameTable | undefined): boolean {
  let off = 12;
  let upper = false;
  let high = false;
  // A question name cannot be compressed: nothing precedes it to point at.
  for (;;) {
    if (off >= len) return false;
    const l = buf[off];
    if (l === 0) break;
    if (l > 63 || off + 1 + l > len) return false;
    for (let i = off + 1; i <= off + l; i++) {
      const c = buf[i];
      if (c >= 0x41 && c <= 0x5a) upper = true;
      else if (c >= 0x80) high = true;
    }
    off += l + 1;
  }
  if (off + 1 - 12 > 255) return false; // RFC 1035 §2.3.4
  if (off + 5 > len) return false;
  q.qnameEnd = off + 1;
  q.qhash = foldedHash(buf, 12, off);
  const known = names?.find(buf, 12, off, q.qhash);
  if (known !== undefined) {
    q.qkey = known;
  } else {
    const raw = buf.toString('latin1', 12, off);
    // Only ASCII letters fold (RFC 4343 §3); toLowerCase would also fold Latin-1 letters.
    q.qkey = !upper ? raw : high ? foldAscii(raw) : raw.toLowerCase();
  }
  q.qtype = buf.readUInt16BE(off + 1);
  q.qclass = buf.readUInt16BE(off + 3);
  q.questionEnd = off + 5;
  return true;
}

function foldAscii(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(LOWER[s.charCodeAt(i)]);
  return out;
}

/** Dotted presentation form (no trailing dot) of a lower-case wire key; dots and non-printables escaped. */
export function keyToName(key: string): string {
  const labels: string[] = [];
  for (let off = 0; off < key.length; ) {
    const l = key.charCodeAt(off);
    labels.push(escapeLabel(key.slice(off + 1, off + 1 + l)));
    off += l + 1;
  }
  return labels.join('.');
}

/** Lower-case wire key of a dotted name (the inverse of keyToName for plain names). */
export function nameToKey(name: string): string {
  if (name === '') return '';
  let key = '';
  for (const label of splitName(name)) key += String.fromCharCode(label.length) + label;
  return key;
}

/** Split a presentation name into raw labels, undoing \\X and \\DDD escapes. */
export function splitName(name: string): string[] {
  if (!name.includes('\\')) return name.split('.');
  const labels: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') {
      const ddd = /^\d{3}/.exec(name.slice(i + 1, i + 4));
      if (ddd) { cur += String.fromCharCode(Number(ddd[0])); i += 3; }
      else { cur += name[i + 1] ?? ''; i += 1; }
    } else if (ch === '.') { labels.push(cur); cur = ''; }
    else cur += ch;
  }
  labels.push(cur);
  return labels;
}
/** Presentation form of a label: dots and non-printables escaped so names stay unambiguous. */
function escapeLabel(label: string): string {
  if (/^[\x21-\x2d\x2f-\x5b\x5d-\x7e]+$/.test(label)) return label;
  let out = '';
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c === 0x2e || c === 0x5c) out += `\\${label[i]}`;
    else if (c <= 0x20 || c >= 0x7f) out += `\\${String(c).padStart(3, '0')}`;
    else out += label[i];
  }
  return out;
}
