import { cidrContains, parseCidr, type Cidr, type IpWords } from '../util/cidr';
import { RCODE } from '../wire/constants';
import type { Query } from '../wire/query';
import { foldedHash } from '../wire/nameTable';
import type { Snapshot } from './snapshot';

/** Response rate limiting settings (docs/rrl.md); `serve --rrl-*` sets them. */
export interface RrlOptions {
  /** Answers per second per source prefix and answer (--rrl-rate; default 200; 0 turns RRL off). */
  ratePerSecond: number;
  /** Every Nth limited answer is sent as a truncated (TC=1) slip (--rrl-slip; default 2; 0 = none). */
  slip: number;
  /** Sources never limited (--rrl-exempt; default 127.0.0.0/8 and ::1). */
  exempt: Cidr[];
  /** Buckets in the table, a power of two (default 65536). */
  tableSize?: number;
  /** The clock in milliseconds (default Date.now, which allocates nothing; tests pass their own). */
  now?: () => number;
}

export const DEFAULT_RRL_EXEMPT = '127.0.0.0/8,::1';

export const DEFAULT_RRL: RrlOptions = {
  ratePerSecond: 200,
  slip: 2,
  exempt: DEFAULT_RRL_EXEMPT.split(',').map((c) => parseCidr(c) as Cidr),
};

/** Drops and slips, for metrics and tests. */
export interface RrlCounters {
  rrlDropped: number;
  rrlSlipped: number;
}

/**
 * The answer classes a bucket is kept for, as Knot and BIND split them: a source gets its own
 * budget for each name's positive answers, for its empty answers, for its large ones, for
 * NXDOMAIN in each zone (so random names share one bucket) and for all its errors.
 */
const enum AnswerClass { Normal = 1, Empty, Large, Nxdomain, Error }

/** Answers at least this large are classed apart (Knot's threshold). */
const LARGE_BYTES = 1024;

/**
 * Response rate limiting (docs/rrl.md), after NSD, Knot and BIND: a token bucket per (source
 * /24 or /56, answer class, name) refilled at ratePerSecond and holding one second's worth;
 * over it, every slip-th answer becomes a bare truncated reply and the rest are dropped. The
 * buckets live in one fixed typed array, in sets of four slots chosen by a hash of the key (a
 * new key in a full set takes over its least recently visited slot), so a query allocates
 * nothing here.
 */
export class ResponseRateLimiter {
  private readonly rate: number;
  private readonly slip: number;
  private readonly exempt: Cidr[];
  private readonly now: () => number;
  private readonly mask: number;
  /**
   * Per bucket, side by side so one visit touches one cache line: a second hash of its key (to
   * tell keys sharing a slot apart; 0 = empty), its tokens, when they were counted (ms), and
   * how many answers it has limited.
   */
  private readonly buckets: Float64Array;
  /** The clock as last read, and answers since modulo 16: most answers use it instead of reading again. */
  private nowMs = 0;
  private calls = 0;
  /** Random per process, so a client cannot aim its keys at another's bucket. */
  private readonly seed = (Math.random() * 0x7fffffff) | 0;

  constructor(opts: RrlOptions, private readonly counters: RrlCounters) {
    const size = opts.tableSize ?? 65536;
    if (size < WAYS || (size & (size - 1)) !== 0) throw new RangeError(`RRL table size must be a power of two, at least ${WAYS}`);
    this.rate = opts.ratePerSecond;
    this.slip = opts.slip;
    this.exempt = opts.exempt;
    this.now = opts.now ?? Date.now;
    this.mask = size - 1;
    this.buckets = new Float64Array(size * BUCKET_FIELDS);
    this.nowMs = this.now();
  }

  /**
   * The answer out[at, at + length) to q from `from`: returns the length to send — length
   * itself, a shorter truncated slip written over it, or 0 to drop it.
   */
  admit(from: IpWords, q: Query, snap: Snapshot, out: Buffer, at: number, length: number): number {
    for (let i = 0; i < this.exempt.length; i++) if (cidrContains(this.exempt[i] as Cidr, from)) return length;
    const cls = answerClass(out, at, length);
    const name = cls === AnswerClass.Error ? 0 : cls === AnswerClass.Nxdomain ? zoneHash(snap, q) : q.qhash;
    const w = from.words;
    // The source's /24 (IPv4) or /56 (IPv6): the host bits are left out of the key.
    let h = mix(this.seed ^ cls, name);
    if (from.v6) h = mix(mix(h, w[0] as number), (w[1] as number) & 0xffffff00);
    else h = mix(h, (w[0] as number) & 0xffffff00);
    const tag = mix(h, 0x5bd1e995) | 1;
    // The clock is read every 16th answer, for a new bucket, and before an answer is limited;
    // between, a slightly old reading only refills less, so it never lets more through.
    this.calls = (this.calls + 1) & 15;
    if (this.calls === 0) this.nowMs = this.now();
    let now = this.nowMs;
    const b = this.buckets;
    const at0 = this.slot(h, tag);
    let tokens: number;
    if (b[at0] !== tag) {
      now = this.nowMs = this.now();
      b[at0] = tag;
      b[at0 + 3] = 0;
      tokens = this.rate;
    } else {
      // Refilled at the rate since the last visit, holding at most one second's worth.
      // A wall clock set back refills nothing rather than taking tokens away.
      tokens = Math.min(this.rate, (b[at0 + 1] as number) + (Math.max(0, now - (b[at0 + 2] as number)) * this.rate) / 1000);
      if (tokens < 1) {
        now = this.nowMs = this.now();
        tokens = Math.min(this.rate, (b[at0 + 1] as number) + (Math.max(0, now - (b[at0 + 2] as number)) * this.rate) / 1000);
      }
    }
    b[at0 + 2] = now;
    if (tokens >= 1) {
      b[at0 + 1] = tokens - 1;
      return length;
    }
    b[at0 + 1] = tokens;
    const limited = (b[at0 + 3] as number) + 1;
    b[at0 + 3] = limited;
    if (this.slip > 0 && limited % this.slip === 0) {
      this.counters.rrlSlipped++;
      return slipInPlace(out, at, q);
    }
    this.counters.rrlDropped++;
    return 0;
  }

  /**
   * The bucket for a key: its set is WAYS slots side by side; the slot holding its tag, else an
   * empty one, else the one visited longest ago (taken over). Four keys can never push each
   * other out, and a busy source's bucket outlives a stream of one-off keys hashing beside it.
   */
  private slot(h: number, tag: number): number {
    const b = this.buckets;
    const first = (h & this.mask & ~(WAYS - 1)) * BUCKET_FIELDS;
    let oldest = first;
    for (let i = 0; i < WAYS; i++) {
      const at = first + i * BUCKET_FIELDS;
      const t = b[at] as number;
      if (t === tag) return at;
      if (t === 0) return at;
      if ((b[at + 2] as number) < (b[oldest + 2] as number)) oldest = at;
    }
    return oldest;
  }
}

/** Slots per set in ResponseRateLimiter.buckets (a power of two, at most the table size). */
const WAYS = 4;

/** Fields per bucket in ResponseRateLimiter.buckets: tag, tokens, stamp (ms), limited count. */
const BUCKET_FIELDS = 4;

function answerClass(out: Buffer, at: number, length: number): AnswerClass {
  const rcode = (out[at + 3] as number) & 0x0f;
  if (rcode === RCODE.NXDOMAIN) return AnswerClass.Nxdomain;
  if (rcode !== RCODE.NOERROR) return AnswerClass.Error;
  if (length >= LARGE_BYTES) return AnswerClass.Large;
  return out[at + 6] === 0 && out[at + 7] === 0 ? AnswerClass.Empty : AnswerClass.Normal;
}

/**
 * NXDOMAIN is kept per zone, not per name, so a flood of random names shares one bucket: the
 * hash of the longest suffix of the question that is a zone here (0 for none). Hashes of the
 * question's wire bytes, so nothing is allocated.
 */
function zoneHash(snap: Snapshot, q: Query): number {
  const buf = q.buf;
  const end = q.qnameEnd - 1;
  for (let i = 12, labels = 0; i <= end && labels < 128; i += (buf[i] as number) + 1, labels++) {
    const h = foldedHash(buf, i, end);
    if (snap.zoneHashes.has(h)) return h;
  }
  return 0;
}

/** The answer cut to its header and question, TC=1: the client asks again over TCP (RFC 1035 §4.2.1). */
function slipInPlace(out: Buffer, at: number, q: Query): number {
  out[at + 2] = (out[at + 2] as number) | 0x02;
  for (let i = 6; i < 12; i++) out[at + i] = 0;
  const echoed = out[at + 4] === 0 && out[at + 5] === 1;
  return echoed ? q.questionEnd : 12;
}

/** One round of a 32-bit multiplicative mix (murmur3's finalizer constants). */
function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  return Math.imul(h, 0x1b873593) ^ (h >>> 13);
}
