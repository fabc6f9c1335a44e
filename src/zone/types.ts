// What the zone-file parser produces and the lookup index consumes.
// Names are absolute, lower-case, without the trailing dot; the root is ''.

export interface ZoneRecord {
  name: string;
  type: number;
  ttl: number;
  /** Wire-format RDATA, names uncompressed (RFC 3597 §4). */
  rdata: Buffer;
  /** The domain name an NS, CNAME, DNAME, MX, SRV or PTR record points to (for glue, additional data and chasing). */
  target?: string;
  /** 1-based line in the zone file where the record starts. */
  line: number;
  /** The file the record came from, when not the zone's own file (it came through $INCLUDE). */
  file?: string;
}

export interface ZoneData {
  origin: string;
  file: string;
  records: ZoneRecord[];
}

export interface ZoneProblem {
  file: string;
  /** 1-based line; 0 when the problem concerns the whole file (no SOA, unreadable file). */
  line: number;
  message: string;
}

export function formatProblem(p: ZoneProblem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}
