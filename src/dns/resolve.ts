import { CLASS_IN, RCODE, TYPE } from '../wire/constants';
import type { Query } from '../wire/query';
import type { Snapshot } from './snapshot';
import { OPT_RECORD_SIZE, ResponseWriter, writeOpt, type RRset } from '../wire/writer';
import { appendTsigError, TSIG_ERROR } from '../wire/tsig';
import type { ZoneIndex, ZoneNode } from '../zone/lookup';
import { isSubdomain, parentKey } from '../zone/lookup';

const MAX_CHAIN = 8;
const WILDCARD = '\x01*';

/**
 * The answer contract: the response to q written into out[at, ...), at most maxSize bytes
 * (less when out has less room); returns its length, or 0 to drop the query. Pure apart from
 * pool rotation; sockets and error handling live in the transports and the handler. A pool
 * answer (the hot path) is copied from the pool's template and allocates nothing.
 */
export function respond(q: Query, snap: Snapshot, maxSize: number, w: ResponseWriter, out: Buffer, at: number): number {
  // The hot path first: A or AAAA of a well-formed query at a pool name, from the template.
  if (q.problem === undefined && q.tsigAt < 0 && q.qclass === CLASS_IN && (q.qtype === TYPE.A || q.qtype === TYPE.AAAA)) {
    const size = writePoolAnswer(q, snap, Math.min(maxSize, out.length - at), out, at);
    return size > 0 ? size : answerFromZones(q, snap, maxSize, w, out, at);
  }
  switch (q.problem) {
    case 'drop':
      return 0;
    case 'notimp':
      // Flags other than opcode and RD are cleared; the question is echoed when it parsed.
      return w.begin(q, out, at, maxSize, q.questionEnd > 12, q.hasOpt).finish(q, RCODE.NOTIMP, false, false);
    case 'formerr':
      return w.begin(q, out, at, maxSize, q.qdcount === 1 && q.questionEnd > 12, q.hasOpt).finish(q, RCODE.FORMERR, false, false);
    case 'badvers':
      // RFC 6891 §6.1.3: BADVERS, with our OPT at version 0.
      return w.begin(q, out, at, maxSize, true, true).finish(q, RCODE.BADVERS, false);
  }
  if (q.tsigAt >= 0) {
    // We hold no keys (RFC 8945 §5.2.1): NOTAUTH, the request's TSIG echoed unsigned with BADKEY.
    const n = errorAnswer(q, w, out, at, maxSize, RCODE.NOTAUTH);
    return appendTsigError(q, TSIG_ERROR.BADKEY, out, at, n, maxSize);
  }
  if (q.qclass !== CLASS_IN) return errorAnswer(q, w, out, at, maxSize, RCODE.REFUSED);
  const qtype = q.qtype;
  if (qtype === TYPE.AXFR || qtype === TYPE.IXFR) {
    // No zone transfers: the zone's truth is the zone file plus the store.
    return errorAnswer(q, w, out, at, maxSize, RCODE.REFUSED);
  } else if (qtype === TYPE.OPT || qtype === 0) {
    return errorAnswer(q, w, out, at, maxSize, RCODE.FORMERR);
  } else if (qtype >= 128 && qtype <= 254) {
    // Meta-types other than ANY and transfers (RFC 6895 §3.1): not implemented.
    return errorAnswer(q, w, out, at, maxSize, RCODE.NOTIMP);
  }
  return answerFromZones(q, snap, maxSize, w, out, at);
}

/** The general path: the zone's data (and pools) by the general writer, or REFUSED outside every zone. */
function answerFromZones(q: Query, snap: Snapshot, maxSize: number, w: ResponseWriter, out: Buffer, at: number): number {
  const zone = snap.findZone(q.qkey);
  if (!zone) return errorAnswer(q, w, out, at, maxSize, RCODE.REFUSED);
  w.begin(q, out, at, maxSize, true, q.hasOpt);
  const { rcode, aa } = lookup(q, snap, zone, w);
  return w.finish(q, rcode, aa);
}

/** Header, question and OPT only, with `rcode`. */
function errorAnswer(q: Query, w: ResponseWriter, out: Buffer, at: number, maxSize: number, rcode: number): number {
  return w.begin(q, out, at, maxSize, true, q.hasOpt).finish(q, rcode, false);
}

/**
 * A/AAAA at a pool name: header and question copied, a window of pre-encoded records copied
 * from the pool's template, OPT appended; no name compression work. Returns the length, or 0
 * when the template does not apply (no pool, NODATA, or too large: the general path adds the
 * SOA or truncates).
 */
function writePoolAnswer(q: Query, snap: Snapshot, maxSize: number, out: Buffer, at: number): number {
  const pool = snap.pools.byKey.get(q.qkey);
  if (!pool) return 0;
  const fam = pool.select(q.qtype === TYPE.A ? 4 : 6, snap.pools.lookup);
  if (!fam) return 0;
  const size = q.questionEnd + fam.window * fam.recordSize + (q.hasOpt ? OPT_RECORD_SIZE : 0);
  if (size > maxSize) return 0;
  const src = q.buf;
  // A byte loop, not Buffer#copy: copying a sub-range allocates a view per call (Node 20).
  const qe = q.questionEnd;
  for (let i = 0; i < qe; i++) out[at + i] = src[i] as number;
  out[at + 2] = 0x80 | (src[2] & 0x79) | 0x04;
  out[at + 3] = src[3] & 0x10;
  out[at + 4] = 0;
  out[at + 5] = 1;
  out.writeUInt16BE(fam.window, at + 6);
  out[at + 8] = out[at + 9] = out[at + 10] = 0;
  out[at + 11] = q.hasOpt ? 1 : 0;
  out.set(fam.nextWindow(), at + qe);
  if (q.hasOpt) writeOpt(out, at + size - OPT_RECORD_SIZE, 0, q.dnssecOk);
  return size;
}

interface Outcome {
  rcode: number;
  aa: boolean;
}

/** RFC 1034 §4.3.2 within our zones, with CNAME/DNAME chasing, wildcards and pools. */
function lookup(q: Query, snap: Snapshot, first: ZoneIndex, w: ResponseWriter): Outcome {
  const qtype = q.qtype;
  let key = q.qkey;
  let zone: ZoneIndex | undefined = first;
  const seen = new Set<string>();
  for (let step = 0; step < MAX_CHAIN && zone; step++) {
    seen.add(key);
    const cut = zone.findCut(key);
    if (cut !== undefined && !(qtype === TYPE.DS && cut === key)) {
      // A referral for the first name; a chain that leads below a cut ends with the referral
      // in the authority section, the answer staying authoritative (RFC 1034 §4.3.2 3b).
      if (step === 0) return referral(zone, cut, w);
      referral(zone, cut, w);
      return { rcode: RCODE.NOERROR, aa: true };
    }
    const dname = zone.findDname(key);
    if (dname !== undefined) {
      const next = synthesizeDname(zone, dname, key, w);
      // RFC 6672 §2.2: a substitution longer than a name may be is YXDOMAIN (the DNAME is kept).
      if (next === OVERLONG) return { rcode: RCODE.YXDOMAIN, aa: true };
      if (next === undefined) return { rcode: RCODE.NOERROR, aa: true };
      // The synthesized CNAME is the answer to a CNAME query; nothing is chased.
      if (qtype === TYPE.CNAME) return { rcode: RCODE.NOERROR, aa: true };
      key = next;
    } else {
      let node = zone.nodes.get(key);
      const pool = snap.pools.byKey.get(key);
      if (!node && !pool && !snap.pools.hasDescendant(key)) {
        node = wildcardFor(zone, snap, key);
        if (!node) {
          w.addNegativeSoa(zone.negativeSoa);
          return { rcode: RCODE.NXDOMAIN, aa: true };
        }
      }
      if (pool && (qtype === TYPE.A || qtype === TYPE.AAAA || qtype === TYPE.ANY)) {
        const type = qtype === TYPE.AAAA ? TYPE.AAAA : TYPE.A;
        let fam = pool.select(type === TYPE.A ? 4 : 6, snap.pools.lookup);
        let answerType: number = type;
        if (!fam && qtype === TYPE.ANY) {
          fam = pool.select(6, snap.pools.lookup);
          answerType = TYPE.AAAA;
        }
        if (fam) {
          w.add(0, { key, type: answerType, ttl: pool.ttl, rdata: fam.nextRdata() });
          return { rcode: RCODE.NOERROR, aa: true };
        }
        if (qtype !== TYPE.ANY) return nodata(zone, w);
      }
      const cname = node?.rrsets.get(TYPE.CNAME);
      // RFC 1034 §4.3.2 3a: QTYPE CNAME or ANY matches the CNAME itself (answerNode), no chasing.
      if (cname && qtype !== TYPE.CNAME && qtype !== TYPE.ANY && node) {
        w.add(0, cname, key);
        const target = node.targets.get(TYPE.CNAME)?.[0];
        if (target === undefined || seen.has(target)) return { rcode: RCODE.NOERROR, aa: true };
        key = target;
      } else {
        return answerNode(zone, snap, node, key, qtype, w);
      }
    }
    zone = snap.findZone(key);
  }
  // The chain left our zones or ran too long: the resolver follows the rest (RFC 1034 §4.3.2 3c).
  return { rcode: RCODE.NOERROR, aa: true };
}

function answerNode(zone: ZoneIndex, snap: Snapshot, node: ZoneNode | undefined, key: string, qtype: number, w: ResponseWriter): Outcome {
  if (!node || node.rrsets.size === 0) return nodata(zone, w);
  if (qtype === TYPE.ANY) {
    // RFC 8482 §4.2: one RRset is enough; the smallest keeps the answer cheap.
    let best: RRset | undefined;
    for (const rrset of node.rrsets.values()) if (!best || rrset.rdata.length < best.rdata.length) best = rrset;
    if (best) w.add(0, best, key);
    return { rcode: RCODE.NOERROR, aa: true };
  }
  const rrset = node.rrsets.get(qtype);
  if (!rrset) return nodata(zone, w);
  w.add(0, rrset, key);
  const targets = node.targets.get(qtype);
  if (targets && (qtype === TYPE.NS || qtype === TYPE.MX || qtype === TYPE.SRV)) {
    // Additional section processing (RFC 1035 §3.3.2, §3.3.9, RFC 2782): addresses we hold.
    for (const t of targets) addAddresses(snap, t, w, false);
  }
  return { rcode: RCODE.NOERROR, aa: true };
}

function nodata(zone: ZoneIndex, w: ResponseWriter): Outcome {
  w.addNegativeSoa(zone.negativeSoa);
  return { rcode: RCODE.NOERROR, aa: true };
}

/** A delegation: NS of the cut in authority, glue in additional, AA=0 (RFC 1034 §4.3.2 3b). */
function referral(zone: ZoneIndex, cut: string, w: ResponseWriter): Outcome {
  const node = zone.nodes.get(cut);
  const ns = node?.rrsets.get(TYPE.NS);
  if (!node || !ns) return { rcode: RCODE.SERVFAIL, aa: false };
  w.add(1, ns);
  for (const target of node.targets.get(TYPE.NS) ?? []) {
    // Glue the child cannot do without (in-bailiwick) must fit, or TC is set (RFC 9471 §3).
    const required = isSubdomain(target, cut);
    for (const type of [TYPE.A, TYPE.AAAA]) {
      const glue = zone.nodes.get(target)?.rrsets.get(type);
      if (glue && !w.add(2, glue) && required) w.truncated = true;
    }
  }
  return { rcode: RCODE.NOERROR, aa: false };
}

/** A/AAAA of a name we are authoritative for, into the additional section. */
function addAddresses(snap: Snapshot, target: string, w: ResponseWriter, required: boolean): void {
  const zone = snap.findZone(target);
  if (!zone) return;
  const node = zone.nodes.get(target);
  for (const type of [TYPE.A, TYPE.AAAA]) {
    const rrset = node?.rrsets.get(type);
    if (rrset && !w.add(2, rrset) && required) w.truncated = true;
  }
}

/** RFC 4592: the wildcard child of the closest encloser, if there is one. */
function wildcardFor(zone: ZoneIndex, snap: Snapshot, key: string): ZoneNode | undefined {
  let ce = parentKey(key);
  while (ce.length > zone.key.length && !zone.nodes.has(ce) && !snap.pools.byKey.has(ce) && !snap.pools.hasDescendant(ce)) {
    ce = parentKey(ce);
  }
  return zone.nodes.get(WILDCARD + ce);
}

/** synthesizeDname's answer when the new name would exceed 255 octets. */
const OVERLONG = Symbol('overlong');

/**
 * DNAME answer plus the synthesized CNAME (RFC 6672 §3.1); returns the new name, OVERLONG
 * (only the DNAME was added), or undefined when the DNAME is unusable.
 */
function synthesizeDname(zone: ZoneIndex, owner: string, key: string, w: ResponseWriter): string | typeof OVERLONG | undefined {
  const node = zone.nodes.get(owner);
  const dname = node?.rrsets.get(TYPE.DNAME);
  const target = node?.targets.get(TYPE.DNAME)?.[0];
  if (!dname || target === undefined) return undefined;
  w.add(0, dname);
  const next = key.slice(0, key.length - owner.length) + target;
  if (next.length + 1 > 255) return OVERLONG;
  const rdata = Buffer.from(next + '\x00', 'latin1');
  w.add(0, { key, type: TYPE.CNAME, ttl: dname.ttl, rdata: [rdata] });
  return next;
}
