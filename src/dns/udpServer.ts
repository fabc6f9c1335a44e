import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { bindError } from '../util/listen';
import { EDNS_MAX_UDP } from '../wire/constants';
import { IpWords } from '../util/cidr';
import type { QueryHandler } from './handler';

/** What DnsServer needs of a UDP server: this class (dgram) and BatchUdpServer (native addon). */
export interface UdpListener {
  /** Resolves with the bound port; rejects with TIERDNS_E_BIND. */
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
  /** SO_RCVBUF as the kernel reports it (0 when not listening). */
  recvBufferBytes(): number;
}

/** One UDP socket: datagram in, handler, datagram out. No protocol logic here. */
export class UdpServer implements UdpListener {
  private socket?: dgram.Socket;

  constructor(
    private readonly handler: QueryHandler,
    private readonly log: Logger,
  ) {}

  /** host must be an IP literal (a ListenAddress): it is bound as given, never resolved. */
  listen(host: string, port: number): Promise<number> {
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6', lookup: literalLookup });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      socket.once('error', (err) => reject(bindError('udp', host, port, err)));
      socket.bind({ address: host, port }, () => {
        socket.removeAllListeners('error');
        try {
          socket.setRecvBufferSize(UDP_RECV_BUFFER_BYTES);
        } catch {
          // Best effort, as in the native path: the kernel's default buffer still works.
        }
        socket.on('error', (err) => this.log.warn({ err }, 'dns: udp socket error'));
        const out = Buffer.allocUnsafe(EDNS_MAX_UDP);
        const from = new IpWords();
        socket.on('message', (msg, rinfo) => {
          const n = this.handler.answer(msg, msg.length, 'udp', out, 0, from.setText(rinfo.address) ? from : undefined);
          // Copied: the send may complete after the next answer is written into out. No callback:
          // Node then skips a nextTick per datagram, and a failed send is simply a lost datagram
          // (the client retries, as with any UDP loss).
          if (n > 0) socket.send(Buffer.from(out.subarray(0, n)), rinfo.port, rinfo.address);
        });
        resolve(socket.address().port);
      });
    });
  }

  recvBufferBytes(): number {
    try {
      return this.socket?.getRecvBufferSize() ?? 0;
    } catch {
      return 0;
    }
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}

/**
 * Receive buffer asked for (capped by net.core.rmem_max), as native/udp_batch.c asks: the
 * kernel's default holds only a few milliseconds of queries at load, so a GC pause dropped
 * queries that this size answers a little late instead. Not more: a deeper queue makes an
 * overloaded server answer later than a resolver waits, where dropping lets it retry another
 * server (docs/bench-history.md).
 */
export const UDP_RECV_BUFFER_BYTES = 1 << 20;

/**
 * Every address dgram resolves here is already an IP literal (the bind host, rinfo.address), so
 * skip dns.lookup: it costs an isIP check and a process.nextTick on every send.
 */
const literalLookup = ((address: string, family: number, cb: (err: Error | null, address: string, family: number) => void): void => {
  cb(null, address, family);
}) as unknown as dgram.SocketOptions['lookup'];
