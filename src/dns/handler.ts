import type { Logger } from 'pino';
import { RCODE } from '../wire/constants';
import { parseQuery, Query } from '../wire/query';
import { respond, respondInto } from './resolve';
import type { Snapshot } from './snapshot';
import { ResponseWriter } from '../wire/writer';

export type Transport = 'udp' | 'tcp';

/** Counters the servers keep for metrics and tests. */
export class QueryStats {
  readonly byRcode = new Float64Array(24);
  /** By QTYPE for types below 256 (A, AAAA, ANY…); the rest counted at index 256. */
  readonly byType = new Float64Array(257);
  dropped = 0;
  failures = 0;
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
 * Turns one datagram or TCP message into a response: the only place a throw in the answer
 * logic becomes SERVFAIL (and a log line) instead of reaching the socket.
 */
export class QueryHandler {
  private readonly query = new Query();
  private readonly writer = new ResponseWriter();
  readonly stats = new QueryStats();

  constructor(
    private snapshot: () => Snapshot,
    private readonly log: Logger,
  ) {}

  handle(msg: Buffer, transport: Transport): Buffer | null {
    const q = this.query;
    const stats = this.stats;
    const sampled = (++stats.sampleTick & 63) === 0;
    const t0 = sampled ? performance.now() : 0;
    try {
      parseQuery(msg, q);
      const out = respond(q, this.snapshot(), transport === 'udp' ? q.udpLimit() : 65535, this.writer);
      if (out) this.count(out[3] as number);
      else stats.dropped++;
      if (sampled) stats.observeLatency((performance.now() - t0) * 1000);
      return out;
    } catch (err) {
      return this.servfail(err, transport, msg.length);
    }
  }

  /**
   * handle() for the datagram msg[0, len) (msg may be a longer receive slot), the answer
   * written into out at `at`: returns its length, 0 for no answer, -1 when out is full.
   * A pool answer is written in place, so it allocates nothing at all.
   */
  handleInto(msg: Buffer, len: number, out: Buffer, at: number): number {
    const q = this.query;
    const stats = this.stats;
    const sampled = (++stats.sampleTick & 63) === 0;
    const t0 = sampled ? performance.now() : 0;
    try {
      parseQuery(msg, q, len);
      const n = respondInto(q, this.snapshot(), q.udpLimit(), this.writer, out, at);
      if (n > 0) this.count(out[at + 3] as number);
      else if (n === 0) stats.dropped++;
      if (sampled) stats.observeLatency((performance.now() - t0) * 1000);
      return n;
    } catch (err) {
      const answer = this.servfail(err, 'udp', len);
      if (!answer) return 0;
      if (answer.length > out.length - at) return -1;
      answer.copy(out, at);
      return answer.length;
    }
  }

  private count(flags2: number): void {
    this.stats.byRcode[flags2 & 0x0f]++;
    const qtype = this.query.qtype;
    this.stats.byType[qtype < 256 ? qtype : 256]++;
  }

  /** A throw in the answer logic: logged, answered SERVFAIL when the query can be echoed. */
  private servfail(err: unknown, transport: Transport, len: number): Buffer | null {
    const q = this.query;
    this.stats.failures++;
    this.log.error({ err, transport }, 'dns: answer failed; sending SERVFAIL');
    try {
      if (q.problem === 'drop' || len < 12) return null;
      return this.writer.begin(q, 512, q.questionEnd > 12, false).finish(q, RCODE.SERVFAIL, false, false);
    } catch {
      return null;
    }
  }
}
