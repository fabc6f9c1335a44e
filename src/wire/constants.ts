// Wire constants (RFC 1035 §3.2, IANA DNS parameters).

export const TYPE = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, RP: 17, AAAA: 28, LOC: 29,
  SRV: 33, NAPTR: 35, DNAME: 39, OPT: 41, DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48,
  TLSA: 52, SVCB: 64, HTTPS: 65, SPF: 99, TSIG: 250, IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255,
  URI: 256, CAA: 257,
} as const;

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]));

/** Mnemonic, or the RFC 3597 generic form TYPEnnn. */
export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}

/** Type code from a mnemonic or TYPEnnn (case-insensitive); undefined when unknown. */
export function typeCode(text: string): number | undefined {
  const upper = text.toUpperCase();
  const known = (TYPE as Record<string, number>)[upper];
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

export const CLASS_IN = 1;
export const CLASS_CH = 3;
export const CLASS_ANY = 255;

export const OPCODE_QUERY = 0;

export const RCODE = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, NOTAUTH: 9,
  /** Extended rcode 16, carried as 1 in the OPT's high bits (RFC 6891 §6.1.3). */
  BADVERS: 16,
} as const;

/** Largest UDP answer we send with EDNS (DNS flag day 2020 recommendation). */
export const EDNS_MAX_UDP = 1232;
/** Classic UDP limit without EDNS (RFC 1035 §2.3.4). */
export const CLASSIC_UDP = 512;
