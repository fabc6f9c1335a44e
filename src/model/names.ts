import { TierdnsError } from '../util/errors';

// Pool and zone names as the store keeps them: absolute, lower-case, no trailing dot
// (src/store/types.ts). They become parts of Redis keys, so the syntax is strict.

/**
 * True when `name` is already in canonical form and syntactically valid: labels of letters,
 * digits, '-' and '_' (service labels), 1..63 octets, no edge hyphen (RFC 1035 §2.3.1,
 * RFC 2181 §11), 253 in all.
 */
export function isPoolName(name: string): boolean {
  // A character loop rather than a regular expression per label: a store of 10,000 pools
  // checks every name at start-up, and this is ~10× faster (test/names.test.js compares both).
  const n = name.length;
  if (n === 0 || n > 253) return false;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? name.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const len = i - start;
      if (len < 1 || len > 63 || name.charCodeAt(start) === 0x2d || name.charCodeAt(i - 1) === 0x2d) return false;
      start = i + 1;
    } else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d)) {
      return false;
    }
  }
  return true;
}

/** Canonical form of operator input ("WS.LB.Example.com." → "ws.lb.example.com"); throws TIERDNS_E_BAD_NAME. */
export function normalizePoolName(text: string, what = 'name'): string {
  const name = text.trim().toLowerCase().replace(/\.$/, '');
  if (!isPoolName(name)) {
    throw new TierdnsError(
      'TIERDNS_E_BAD_NAME',
      `${what} '${text}' is not a valid domain name (labels of a-z 0-9 - _, 1..63 characters, 253 in all)`,
    );
  }
  return name;
}

/** Zone origin from operator input; the root zone is allowed and is ''. */
export function normalizeZoneName(text: string): string {
  const name = text.trim().toLowerCase().replace(/\.$/, '');
  return name === '' ? '' : normalizePoolName(name, 'zone');
}

/** True when `name` is `zone` or lies below it. */
export function isInZone(name: string, zone: string): boolean {
  return zone === '' || name === zone || name.endsWith(`.${zone}`);
}
