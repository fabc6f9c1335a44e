import type { Logger } from 'pino';
import { RCODE } from './constants';
import { parseQuery, Query } from './query';
import { respond } from './resolve';
import type { Snapshot } from './snapshot';
import { ResponseWriter } from './writer';

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
      if (out) {
        stats.byRcode[out[3] & 0x0f]++;
        stats.byType[q.qtype < 256 ? q.qtype : 256]++;
      } else stats.dropped++;
      if (sampled) stats.observeLatency((performance.now() - t0) * 1000);
      return out;
    } catch (err) {
      this.stats.failures++;
      this.log.error({ err, transport }, 'dns: answer failed; sending SERVFAIL');
      try {
        if (q.problem === 'drop' || msg.length < 12) return null;
        return this.writer.begin(q, 512, q.questionEnd > 12, false).finish(q, RCODE.SERVFAIL, false, false);
      } catch {
        return null;
      }
    }
  }
}
