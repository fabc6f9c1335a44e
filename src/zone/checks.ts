// Whole-zone rules that no single record can check: one SOA and some NS at the apex,
// CNAME exclusivity, duplicate records and per-RRset TTLs.
import { TYPE, typeName } from '../wire/constants';
import { type Labels, nameText } from './names';
import type { ZoneProblem, ZoneRecord } from './types';

/** A parsed record before the zone-wide rules, with the file it came from ($INCLUDE). */
export interface DraftRecord {
  owner: Labels;
  type: number;
  ttl: number;
  rdata: Buffer;
  target?: Labels;
  line: number;
  file: string;
}

/** Types that may share a name with a CNAME: DNSSEC's own records (RFC 4035 §2.5). */
const CNAME_COMPANIONS = new Set<number>([TYPE.RRSIG, TYPE.NSEC]);

/**
 * Apply the zone-wide rules to the records of one zone. `failedApexTypes` are apex types
 * whose records already failed to parse: their absence is not reported a second time.
 */
export function checkZone(
  drafts: DraftRecord[],
  zone: Labels,
  file: string,
  failedApexTypes: Set<number>,
): { records: ZoneRecord[]; problems: ZoneProblem[] } {
  const problems: ZoneProblem[] = [];
  const problem = (r: DraftRecord, message: string): void => { problems.push({ file: r.file, line: r.line, message }); };
  const at = (r: DraftRecord): string => (r.file === file ? `line ${r.line}` : `${r.file}:${r.line}`);

  // RFC 2181 §5: an RRset cannot hold two identical records; repeats are dropped silently.
  const seen = new Set<string>();
  const unique: DraftRecord[] = [];
  const byName = new Map<string, DraftRecord[]>();
  const names = new Map<DraftRecord, string>();
  for (const r of drafts) {
    const name = nameText(r.owner);
    names.set(r, name);
    const key = `${name}\0${r.type}\0${r.rdata.toString('hex')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(r);
    const list = byName.get(name) ?? [];
    list.push(r);
    byName.set(name, list);
  }

  // RFC 2181 §5.2: all records of an RRset share one TTL. Differing TTLs are normalised to
  // the lowest, not refused: serving an RRset no longer than its shortest-lived member is safe.
  const rrsetTtl = new Map<string, number>();
  for (const r of unique) {
    const key = `${names.get(r)}\0${r.type}`;
    rrsetTtl.set(key, Math.min(rrsetTtl.get(key) ?? r.ttl, r.ttl));
  }

  const apex = nameText(zone);
  const apexRecords = byName.get(apex) ?? [];
  const soas = unique.filter((r) => r.type === TYPE.SOA);
  for (const r of soas) {
    if (r.owner.length !== zone.length) problem(r, `SOA record must be at the zone apex ${apex}, not at ${nameText(r.owner)}`);
  }
  const apexSoas = apexRecords.filter((r) => r.type === TYPE.SOA);
  if (apexSoas.length === 0 && !failedApexTypes.has(TYPE.SOA)) {
    problems.push({ file, line: 0, message: `no SOA record at the zone apex ${apex}` });
  }
  for (const r of apexSoas.slice(1)) problem(r, `more than one SOA record (the first is at ${at(apexSoas[0])})`);
  if (!apexRecords.some((r) => r.type === TYPE.NS) && !failedApexTypes.has(TYPE.NS)) {
    // RFC 1034 §4.2.1: the apex carries the zone's NS RRset.
    problems.push({ file, line: apexSoas[0]?.line ?? 0, message: `no NS records at the zone apex ${apex}` });
  }

  for (const [name, records] of byName) {
    const cnames = records.filter((r) => r.type === TYPE.CNAME);
    const dnames = records.filter((r) => r.type === TYPE.DNAME);
    // RFC 2181 §10.1 (one CNAME per name), RFC 6672 §2.4 (one DNAME per name).
    for (const r of cnames.slice(1)) problem(r, `more than one CNAME at ${name} (the first is at ${at(cnames[0])})`);
    for (const r of dnames.slice(1)) problem(r, `more than one DNAME at ${name} (the first is at ${at(dnames[0])})`);
    if (cnames.length === 0) continue;
    if (name === apex) {
      // The apex always holds SOA and NS, so a CNAME there could never be alone.
      problem(cnames[0], `CNAME at the zone apex ${apex} is not allowed`);
      continue;
    }
    const other = records.find((r) => r.type !== TYPE.CNAME && !CNAME_COMPANIONS.has(r.type));
    if (other) {
      // RFC 1034 §3.6.2: a CNAME owner has no other data; report it where the conflict appears.
      const [first, second] = other.line < cnames[0].line && other.file === cnames[0].file ? [other, cnames[0]] : [cnames[0], other];
      problem(second, `${name} has a CNAME and other data (${typeName(other.type)}): a CNAME must be alone at its name (see ${at(first)})`);
    }
  }

  const records: ZoneRecord[] = unique.map((r) => {
    const name = names.get(r) ?? nameText(r.owner);
    const rec: ZoneRecord = {
      name,
      type: r.type,
      ttl: rrsetTtl.get(`${name}\0${r.type}`) ?? r.ttl,
      rdata: r.rdata,
      line: r.line,
    };
    if (r.target) rec.target = nameText(r.target);
    if (r.file !== file) rec.file = r.file;
    return rec;
  });
  return { records, problems };
}
