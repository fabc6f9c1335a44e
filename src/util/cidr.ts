import { parseIp } from './ip';

/**
 * An IP address as four big-endian 32-bit words (IPv4 in words[0], the rest 0). Transports
 * keep one and overwrite it per datagram, so passing a client's address allocates nothing.
 */
export class IpWords {
  v6 = false;
  readonly words = new Uint32Array(4);

  /** Set from an IP literal (dgram's rinfo.address); false, and unchanged, when it is not one. */
  setText(text: string): boolean {
    const v4 = ipv4Word(text);
    if (v4 >= 0) {
      this.v6 = false;
      this.words.fill(0);
      this.words[0] = v4;
      return true;
    }
    const ip = parseIp(text);
    if (!ip || ip.family !== 6) return false;
    this.v6 = true;
    for (let i = 0; i < 4; i++) this.words[i] = ip.bytes.readUInt32BE(i * 4);
    return true;
  }
}

/** An address block: an IPv4 or IPv6 prefix of `bits` bits. */
export interface Cidr {
  v6: boolean;
  bits: number;
  /** The prefix, host bits zero, as in IpWords. */
  words: Uint32Array;
}

/** `a.b.c.d/n`, `x::y/n`, or a bare address (a /32 or /128); undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  const bitsText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max) return undefined;
  const bits = Number(bitsText);
  const words = new Uint32Array(4);
  for (let i = 0; i < ip.bytes.length / 4; i++) words[i] = ip.bytes.readUInt32BE(i * 4) & wordMask(bits, i);
  return { v6: ip.family === 6, bits, words };
}

/** Whether `a` lies in `c` (an IPv4 address is never in an IPv6 block, nor the reverse). */
export function cidrContains(c: Cidr, a: IpWords): boolean {
  if (c.v6 !== a.v6) return false;
  const w = a.words;
  for (let i = 0; i < 4 && i * 32 < c.bits; i++) {
    if (((w[i] as number) & wordMask(c.bits, i)) >>> 0 !== c.words[i]) return false;
  }
  return true;
}

/** The mask of word i (bits 32i..32i+31) for a prefix of `bits` bits, as an unsigned number. */
function wordMask(bits: number, i: number): number {
  const n = bits - 32 * i;
  return n >= 32 ? 0xffffffff : n <= 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
}

/** A dotted quad's value, or -1: the common case of dgram's rinfo.address, without allocating. */
function ipv4Word(text: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && octet <= 255) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  return dots === 4 ? value : -1;
}
