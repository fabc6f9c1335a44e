// Domain names in master files (RFC 1035 §5.1): relative or absolute, with \X and \DDD
// escapes, held as lists of raw labels (latin1 byte strings) until they reach the wire.
import { keyToName } from '../wire/query';

/** A name as raw labels, most specific first; the root is []. Labels are byte strings. */
export type Labels = string[];

/** Limits from RFC 1035 §2.3.4. */
const MAX_LABEL = 63;
const MAX_NAME_WIRE = 255;

/** Decode \X and \DDD escapes of one token to bytes; literal non-ASCII text becomes UTF-8. */
export function unescapeBytes(text: string): Buffer | string {
  // Most fields have no escapes: skip the byte-by-byte walk.
  if (!text.includes('\\')) return Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '\\') {
      // Whole code points, so characters outside the BMP keep their 4-byte UTF-8 form.
      const cp = String.fromCodePoint(text.codePointAt(i) ?? 0);
      out.push(...Buffer.from(cp, 'utf8'));
      i += cp.length - 1;
      continue;
    }
    if (i + 1 >= text.length) return 'backslash at the end of a field';
    if (/^\d$/.test(text[i + 1])) {
      const ddd = text.slice(i + 1, i + 4);
      if (!/^\d{3}$/.test(ddd)) return `bad escape "\\${ddd}": \\DDD needs three digits`;
      const n = Number(ddd);
      if (n > 255) return `bad escape "\\${ddd}": above 255`;
      out.push(n);
      i += 3;
    } else {
      out.push(...Buffer.from(text[i + 1], 'utf8'));
      i += 1;
    }
  }
  return Buffer.from(out);
}

/** ASCII-only case folding: DNS names compare case-insensitively in ASCII only (RFC 4343 §3). */
export function foldLabel(label: string): string {
  return label.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Wire length of a name: each label plus its length byte, plus the root byte. */
export function wireLength(labels: Labels): number {
  return labels.reduce((n, l) => n + l.length + 1, 1);
}

/**
 * Parse a name token. Relative names (no unescaped final dot) get `origin` appended;
 * `@` alone is the origin. Returns the labels lower-cased, or a problem message.
 */
export function parseName(text: string, origin: Labels): Labels | string {
  if (text === '@') return origin;
  if (text === '.') return [];
  const labels: Labels = [];
  let start = 0;
  let absolute = false;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text[i] === '\\') {
      // The escaped character is never a separator; a lone final backslash escapes nothing.
      if (i + 1 === text.length) return `bad name "${text}": backslash at the end of a field`;
      i++;
      continue;
    }
    if (i < text.length && text[i] !== '.') continue;
    const raw = text.slice(start, i);
    if (raw === '') {
      if (i === text.length && labels.length > 0) {
        absolute = true;
        break;
      }
      return `bad name "${text}": empty label`;
    }
    const bytes = unescapeBytes(raw);
    if (typeof bytes === 'string') return `bad name "${text}": ${bytes}`;
    if (bytes.length > MAX_LABEL) return `bad name "${text}": label longer than ${MAX_LABEL} bytes`;
    labels.push(foldLabel(bytes.toString('latin1')));
    start = i + 1;
  }
  const full = absolute ? labels : [...labels, ...origin];
  if (wireLength(full) > MAX_NAME_WIRE) return `bad name "${text}": longer than ${MAX_NAME_WIRE} bytes`;
  return full;
}

/** Uncompressed wire form (RFC 1035 §3.1). */
export function nameWire(labels: Labels): Buffer {
  const parts: Buffer[] = [];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** The presentation form ZoneRecord uses: no trailing dot, escaped as the lookup index expects. */
export function nameText(labels: Labels): string {
  return keyToName(labels.map((l) => String.fromCharCode(l.length) + l).join(''));
}

/** True when `name` is `zone` or below it. */
export function isBelow(name: Labels, zone: Labels): boolean {
  if (name.length < zone.length) return false;
  const off = name.length - zone.length;
  return zone.every((l, i) => name[off + i] === l);
}

/**
 * Read an uncompressed wire name at `off` (RDATA given in RFC 3597 form), folding case.
 * Returns the labels and the offset after the name, or a problem message.
 */
export function readWireName(buf: Buffer, off: number): { labels: Labels; end: number } | string {
  const labels: Labels = [];
  for (;;) {
    if (off >= buf.length) return 'name runs past the end of the RDATA';
    const len = buf[off];
    if (len === 0) break;
    // Compression pointers are not allowed in zone data (RFC 3597 §4).
    if (len > MAX_LABEL) return 'compressed or malformed name in RDATA';
    if (off + 1 + len > buf.length) return 'name runs past the end of the RDATA';
    labels.push(foldLabel(buf.toString('latin1', off + 1, off + 1 + len)));
    off += len + 1;
  }
  if (wireLength(labels) > MAX_NAME_WIRE) return `name in RDATA longer than ${MAX_NAME_WIRE} bytes`;
  return { labels, end: off + 1 };
}
