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
  dropped = 0;
  failures = 0;
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
    try {
      parseQuery(msg, q);
      const out = respond(q, this.snapshot(), transport === 'udp' ? q.udpLimit() : 65535, this.writer);
      if (out) this.stats.byRcode[out[3] & 0x0f]++;
      else this.stats.dropped++;
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
