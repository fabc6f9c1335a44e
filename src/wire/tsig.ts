import { CLASS_ANY, TYPE } from './constants';
import type { Query } from './query';

/** TSIG error codes carried in the TSIG record (RFC 8945 §3). */
export const TSIG_ERROR = { BADSIG: 16, BADKEY: 17, BADTIME: 18 } as const;

/** The fudge we state, as BIND and Knot do (RFC 8945 §10 recommends 300 s). */
const FUDGE_SECONDS = 300;

/**
 * Append the unsigned TSIG record of an error answer to q's TSIG (RFC 8945 §5.3.2): the
 * request's key name and algorithm, its time signed, MAC size 0, our message ID as the
 * original ID, and `error`. The response is out[at, at + length); returns its new length.
 * When the record does not fit in maxSize, the response is left as it is with TC set, so the
 * client asks again over TCP.
 */
export function appendTsigError(q: Query, error: number, out: Buffer, at: number, length: number, maxSize: number): number {
  const src = q.buf;
  const end = at + Math.min(maxSize, out.length - at);
  let p = copyName(src, q.tsigAt, out, at + length, end);
  if (p < 0 || p + 10 > end) return truncated(out, at, length);
  const typeAt = skipName(src, q.tsigAt);
  const rdata = typeAt + 10;
  out.writeUInt16BE(TYPE.TSIG, p);
  out.writeUInt16BE(CLASS_ANY, p + 2);
  out.writeUInt32BE(0, p + 4);
  const rdlenAt = p + 8;
  p = copyName(src, rdata, out, p + 10, end);
  // Time signed (48 bits), fudge, MAC size, original ID, error, other length: 16 bytes.
  if (p < 0 || p + 16 > end) return truncated(out, at, length);
  const timeAt = skipName(src, rdata);
  for (let i = 0; i < 6; i++) out[p + i] = src[timeAt + i] as number;
  out.writeUInt16BE(FUDGE_SECONDS, p + 6);
  out.writeUInt16BE(0, p + 8);
  out.writeUInt16BE(q.id, p + 10);
  out.writeUInt16BE(error, p + 12);
  out.writeUInt16BE(0, p + 14);
  p += 16;
  out.writeUInt16BE(p - rdlenAt - 2, rdlenAt);
  out.writeUInt16BE(out.readUInt16BE(at + 10) + 1, at + 10);
  return p - at;
}

function truncated(out: Buffer, at: number, length: number): number {
  out[at + 2] = (out[at + 2] as number) | 0x02;
  return length;
}

/**
 * Write the name at src[from] uncompressed into out[to, end): compression pointers in the
 * query are followed (backwards only, so they stay inside the checked message). Returns the
 * offset after it, or -1 when it does not fit or is not a name.
 */
function copyName(src: Buffer, from: number, out: Buffer, to: number, end: number): number {
  let i = from;
  let p = to;
  for (let hops = 0; hops < 128; hops++) {
    const l = src[i] as number;
    if ((l & 0xc0) === 0xc0) {
      const target = ((l & 0x3f) << 8) | (src[i + 1] as number);
      if (target >= i) return -1;
      i = target;
      continue;
    }
    if (l > 63 || p + l + 1 > end || p - to + l + 1 > 255) return -1;
    for (let k = 0; k <= l; k++) out[p + k] = src[i + k] as number;
    p += l + 1;
    if (l === 0) return p;
    i += l + 1;
  }
  return -1;
}

/** The offset just after the (possibly compressed) name at buf[off]; the query decoder checked it. */
function skipName(buf: Buffer, off: number): number {
  for (let labels = 0; labels < 128; labels++) {
    const l = buf[off] as number;
    if (l === 0) return off + 1;
    if ((l & 0xc0) === 0xc0) return off + 2;
    off += l + 1;
  }
  return off;
}
