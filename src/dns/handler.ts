import type { Logger } from 'pino';
import { RCODE } from '../wire/constants';
import { parseQuery, Query } from '../wire/query';
import { respond } from './resolve';
import type { Snapshot } from './snapshot';
import { ResponseWriter } from '../wire/writer';
import type { IpWords } from '../util/cidr';
import { ResponseRateLimiter, type RrlOptions } from './rrl';

export type Transport = 'udp' | 'tcp';

/** Counters the servers keep for metrics and tests. */
export class QueryStats {
  readonly byRcode = new Float64Array(24);
  /** By QTYPE for types below 256 (A, AAAA, ANY…); the rest counted at index 256. */
  readonly byType = new Float64Array(257);
  dropped = 0;
  failures = 0;
  /** Answers response rate limiting dropped, and those it sent as truncated slips (rrl.ts). */
  rrlDropped = 0;
  rrlSlipped = 0;
  /** Answer-time histogram in µs, sampled on one query in 64 to keep the hot path cheap. */
  readonly latencyBucketsUs = [10, 25, 50, 100, 250, 500, 1000, 5000];
  readonly latencyCounts = new Float64Array(9);
  latencySumUs = 0;
  latencySamples = 0;
  sampleTick = 0;

  observeLatency(us: number): void {
    let i = 0;
    while (i < this.latencyBucketsUs.length && us > this.latencyBucketsUs[i]) i++;
    this.latencyCounts[i]++;
    this.latencySumUs += us;
    this.latencySamples++;
  }
}

/**
 * Answers one datagram or TCP message into a buffer its transport provides: the only place a
 * throw in the answer logic becomes SERVFAIL (and a log line) instead of reaching the socket.
 */
export class QueryHandler {
  private readonly query = new Query();
  private readonly writer = new ResponseWriter();
  readonly stats = new QueryStats();
  private readonly rrl?: ResponseRateLimiter;

  /** rrl: response rate limiting of UDP answers; off when absent or its rate is 0. */
  constructor(
    private snapshot: () => Snapshot,
    private readonly log: Logger,
    rrl?: RrlOptions,
  ) {
    if (rrl && rrl.ratePerSecond > 0) this.rrl = new ResponseRateLimiter(rrl, this.stats);
  }

  /**
   * The answer to the message msg[0, len) (msg may be a longer receive slot), written into
   * out[at, ...): returns its length, or 0 when there is no answer. The transport gives out
   * room for its largest answer (EDNS_MAX_UDP bytes for UDP, 65535 for TCP); with less, the
   * answer is truncated to fit. A UDP transport passes the client's address, `from`, for
   * response rate limiting; TCP does not (a TCP client cannot forge its address). A pool
   * answer allocates nothing.
   */
  answer(msg: Buffer, len: number, transport: Transport, out: Buffer, at: number, from?: IpWords): number {
    const q = this.query;
    const stats = this.stats;
    const sampled = (++stats.sampleTick & 63) === 0;
    const t0 = sampled ? performance.now() : 0;
    try {
      const snap = this.snapshot();
      parseQuery(msg, q, len, snap.pools.names);
      let n = respond(q, snap, transport === 'udp' ? q.udpLimit() : 65535, this.writer, out, at);
      if (n === 0) stats.dropped++;
      else if (from !== undefined && this.rrl !== undefined) n = this.rrl.admit(from, q, snap, out, at, n);
      if (n > 0) this.count(out[at + 3] as number);
      if (sampled) stats.observeLatency((performance.now() - t0) * 1000);
      return n;
    } catch (err) {
      return this.servfail(err, transport, msg, len, out, at);
    }
  }

  private count(flags2: number): void {
    this.stats.byRcode[flags2 & 0x0f]++;
    const qtype = this.query.qtype;
    this.stats.byType[qtype < 256 ? qtype : 256]++;
  }

  /** A throw in the answer logic: logged, answered SERVFAIL when the query can be echoed. */
  private servfail(err: unknown, transport: Transport, msg: Buffer, len: number, out: Buffer, at: number): number {
    const q = this.query;
    this.stats.failures++;
    this.log.error({ err, transport }, 'dns: answer failed; sending SERVFAIL');
    try {
      // Decoded again: the throw may have come before the query was (a reused slot holds an older one).
      parseQuery(msg, q, len);
      if (q.problem === 'drop' || len < 12) return 0;
      return this.writer.begin(q, out, at, 512, q.questionEnd > 12, false).finish(q, RCODE.SERVFAIL, false, false);
    } catch {
      return 0;
    }
  }
}
