import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { bindError } from '../util/listen';
import type { QueryHandler } from './handler';
import { META_WORDS_PER_DATAGRAM, type UdpBatchAddon, type UdpBatchSocket, type UdpBatchStats } from '../util/native';
import type { UdpListener } from './udpServer';
import { IpWords } from '../util/cidr';

/** Datagrams read per wakeup and answered by one JS call. */
const BATCH = 64;
/**
 * Bytes per received datagram: any UDP payload, so a padded or oversized query is answered
 * like dgram answers it (RFC 8906 §3.1). Only the pages a datagram fills are ever touched.
 */
const SLOT_BYTES = 65536;
/** UDP answers are at most EDNS_MAX_UDP (1232) bytes, so each answer of a full batch has that room. */
const OUT_BYTES = BATCH * 2048;

/**
 * UdpServer's contract on the native addon (docs/native.md): the addon reads a batch with
 * recvmmsg, this class answers it with one handler call per datagram, the addon sends the
 * answers with sendmmsg. No protocol logic here either.
 */
export class BatchUdpServer implements UdpListener {
  private socket?: UdpBatchSocket;

  constructor(
    private readonly handler: QueryHandler,
    private readonly log: Logger,
    private readonly addon: UdpBatchAddon,
  ) {}

  /** host must be an IP literal (a ListenAddress). */
  listen(host: string, port: number): Promise<number> {
    const socket = new this.addon.UdpBatchSocket(BATCH, SLOT_BYTES, OUT_BYTES);
    let bound: number;
    try {
      // Cluster workers each bind the port (SO_REUSEPORT; the kernel spreads clients); a lone
      // process does not, so a port another server holds is still EADDRINUSE.
      bound = socket.bind(host, port, cluster.isWorker);
    } catch (err) {
      return Promise.reject(bindError('udp', host, port, err));
    }
    this.socket = socket;
    socket.start(this.answerer(socket, host.includes(':')));
    this.log.debug({ host, port: bound }, 'dns: udp via the native batching addon');
    return Promise.resolve(bound);
  }

  /** The addon's counters (datagrams, batches, send errors), for metrics and tests. */
  stats(): UdpBatchStats | undefined {
    return this.socket?.stats();
  }

  recvBufferBytes(): number {
    return this.socket?.stats().recvBufferBytes ?? 0;
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      if (!socket.close(() => resolve())) resolve();
    });
  }

  /** The per-batch callback: answer datagrams 0..count-1 straight into outBuf for sendmmsg. */
  private answerer(socket: UdpBatchSocket, v6: boolean): (count: number) => number {
    const handler = this.handler;
    const inBuf = Buffer.from(socket.inBuf);
    const outBuf = Buffer.from(socket.outBuf);
    const meta = new Uint32Array(socket.meta);
    // One view per slot, made once: a datagram is slots[i][0, meta[i]), valid only during
    // this call (the next batch overwrites it), and answering it allocates nothing.
    const slots = Array.from({ length: BATCH }, (_, i) => inBuf.subarray(i * SLOT_BYTES, (i + 1) * SLOT_BYTES));
    // The socket's family is the sources' (an IPv6 socket is IPv6-only); the addon writes each
    // source's words into meta (docs/native.md).
    const from = new IpWords();
    from.v6 = v6;
    const sources = (META_WORDS_PER_DATAGRAM - 4) * BATCH;
    return (count) => {
      let answers = 0;
      let offset = 0;
      for (let i = 0; i < count; i++) {
        const w = sources + 4 * i;
        from.words[0] = meta[w] as number;
        from.words[1] = meta[w + 1] as number;
        from.words[2] = meta[w + 2] as number;
        from.words[3] = meta[w + 3] as number;
        const n = handler.answer(slots[i] as Buffer, meta[i] as number, 'udp', outBuf, offset, from);
        if (n === 0) continue;
        meta[BATCH + answers] = i;
        meta[2 * BATCH + answers] = n;
        offset += n;
        answers++;
      }
      return answers;
    };
  }
}
