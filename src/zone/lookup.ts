import { TYPE } from '../wire/constants';
import { nameToKey } from '../wire/query';
import type { RRset } from '../wire/writer';
import type { ZoneData } from './types';

/** One owner name of a zone; an empty `rrsets` map is an empty non-terminal (RFC 8020). */
export interface ZoneNode {
  rrsets: Map<number, RRset>;
  /** Target names (wire keys) of NS/MX/SRV/CNAME records at this node, per type. */
  targets: Map<number, string[]>;
}

/**
 * A zone indexed for lookup: nodes by lower-case wire key, ancestors filled in as empty
 * non-terminals, and the cuts (NS below the apex) that turn answers into referrals.
 */
export class ZoneIndex {
  readonly origin: string;
  readonly key: string;
  readonly file: string;
  readonly nodes = new Map<string, ZoneNode>();
  readonly soa: RRset;
  /** TTL of negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 §3). */
  readonly negativeTtl: number;
  /** The SOA as it goes in the authority section of negative answers. */
  readonly negativeSoa: RRset;
  readonly hasCuts: boolean;
  readonly hasDnames: boolean;
  readonly recordCount: number;

  constructor(data: ZoneData) {
    this.origin = data.origin;
    this.key = nameToKey(data.origin);
    this.file = data.file;
    for (const rec of data.records) {
      const key = nameToKey(rec.name);
      const node = this.ensure(key);
      let rrset = node.rrsets.get(rec.type);
      if (!rrset) {
        rrset = { key, type: rec.type, ttl: rec.ttl, rdata: [] };
        node.rrsets.set(rec.type, rrset);
      }
      // One TTL per RRset (RFC 2181 §5.2): the lowest wins.
      rrset.ttl = Math.min(rrset.ttl, rec.ttl);
      rrset.rdata.push(rec.rdata);
      if (rec.target !== undefined) {
        const list = node.targets.get(rec.type) ?? [];
        list.push(nameToKey(rec.target));
        node.targets.set(rec.type, list);
      }
    }
    const soa = this.nodes.get(this.key)?.rrsets.get(TYPE.SOA);
    if (!soa) throw new Error(`${data.file}: zone ${data.origin} has no SOA`);
    this.soa = soa;
    const rdata = soa.rdata[0];
    this.negativeTtl = Math.min(soa.ttl, rdata.readUInt32BE(rdata.length - 4));
    this.negativeSoa = { key: this.key, type: TYPE.SOA, ttl: this.negativeTtl, rdata: soa.rdata };
    let cuts = false;
    let dnames = false;
    for (const [key, node] of this.nodes) {
      if (key !== this.key && node.rrsets.has(TYPE.NS)) cuts = true;
      if (node.rrsets.has(TYPE.DNAME)) dnames = true;
    }
    this.hasCuts = cuts;
    this.hasDnames = dnames;
    this.recordCount = data.records.length;
  }

  private ensure(key: string): ZoneNode {
    let node = this.nodes.get(key);
    if (node) return node;
    node = { rrsets: new Map(), targets: new Map() };
    this.nodes.set(key, node);
    // Every ancestor up to the apex exists, possibly as an empty non-terminal.
    if (key.length > this.key.length) this.ensure(key.slice(key.charCodeAt(0) + 1));
    return node;
  }

  /** The delegation (NS below the apex) at or above `key`, if any: the topmost cut wins. */
  findCut(key: string): string | undefined {
    if (!this.hasCuts) return undefined;
    let cut: string | undefined;
    for (let i = 0; key.length - i > this.key.length; i += key.charCodeAt(i) + 1) {
      const k = key.slice(i);
      if (this.nodes.get(k)?.rrsets.has(TYPE.NS)) cut = k;
    }
    return cut;
  }

  /** The closest DNAME owner strictly above `key` (RFC 6672 §2.3), if any. */
  findDname(key: string): string | undefined {
    if (!this.hasDnames) return undefined;
    for (let i = key.charCodeAt(0) + 1; key.length - i >= this.key.length; i += key.charCodeAt(i) + 1) {
      const k = key.slice(i);
      if (this.nodes.get(k)?.rrsets.has(TYPE.DNAME)) return k;
      if (k.length === 0) break;
    }
    return undefined;
  }

  /** Whether `key` lies in this zone (at or below the apex). */
  contains(key: string): boolean {
    return isSubdomain(key, this.key);
  }
}

/** Whether wire key `key` equals `parent` or lies below it (label-aligned suffix). */
export function isSubdomain(key: string, parent: string): boolean {
  if (parent === '') return true;
  if (!key.endsWith(parent)) return false;
  if (key.length === parent.length) return true;
  // The suffix must start at a label boundary.
  for (let i = 0; i < key.length; i += key.charCodeAt(i) + 1) if (key.length - i === parent.length) return true;
  return false;
}

/** Parent of a wire key ('' for a single label). */
export function parentKey(key: string): string {
  return key.slice(key.charCodeAt(0) + 1);
}
