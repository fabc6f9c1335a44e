import { isIPv6 } from 'node:net';

export interface ParsedIp {
  family: 4 | 6;
  /** Canonical text: dotted quad, or RFC 5952 compressed lower-case IPv6. */
  canonical: string;
  /** 4 or 16 bytes in network order. */
  bytes: Buffer;
}

/** Parse an IPv4/IPv6 literal (no zone id, no prefix); undefined when malformed. */
export function parseIp(text: string): ParsedIp | undefined {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, canonical: text, bytes: v4 };
  if (isIPv6(text) && !text.includes('%')) {
    const bytes = ipv6Bytes(text);
    return { family: 6, canonical: formatIpv6(bytes), bytes };
  }
  return undefined;
}

/**
 * A dotted quad exactly as net.isIPv4 accepts it (four decimal octets 0-255, no leading zeros;
 * test/ip.test.js compares them), so the text is already canonical. A plain loop: a large
 * store parses every member address at start, and isIPv4 + split + Buffer.from allocate each.
 */
function parseIpv4(text: string): Buffer | undefined {
  const len = text.length;
  if (len < 7 || len > 15) return undefined;
  const out = Buffer.allocUnsafe(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? text.charCodeAt(i) : 46; // a virtual '.' ends the last octet
    if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return undefined; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  return part === 4 ? out : undefined;
}

function ipv6Bytes(text: string): Buffer {
  let head = text;
  let tail4: number[] = [];
  // An embedded dotted quad (::ffff:1.2.3.4) fills the last 32 bits.
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail4 = text.slice(lastColon + 1).split('.').map(Number);
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...Array(8 - l.length - r.length).fill('0'), ...r];
  const bytes = Buffer.alloc(16);
  groups.forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail4.length === 4) Buffer.from(tail4).copy(bytes, 12);
  return bytes;
}

/** RFC 5952 text form: lower-case, longest run (>1) of zero groups compressed. */
export function formatIpv6(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
