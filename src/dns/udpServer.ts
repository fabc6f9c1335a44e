import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { TierdnsError } from '../util/errors';
import type { QueryHandler } from './handler';

/** One UDP socket: datagram in, handler, datagram out. No protocol logic here. */
export class UdpServer {
  private socket?: dgram.Socket;

  constructor(
    private readonly handler: QueryHandler,
    private readonly log: Logger,
  ) {}

  listen(host: string, port: number): Promise<number> {
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      socket.once('error', (err) => reject(new TierdnsError('TIERDNS_E_BIND', `cannot listen on udp ${host}:${port}: ${err.message}`, { cause: err })));
      socket.bind({ address: host, port }, () => {
        socket.removeAllListeners('error');
        // Send errors (e.g. ICMP unreachable surfacing late) are per packet, never fatal.
        socket.on('error', (err) => this.log.warn({ err }, 'dns: udp socket error'));
        socket.on('message', (msg, rinfo) => {
          const out = this.handler.handle(msg, 'udp');
          if (out) socket.send(out, rinfo.port, rinfo.address, sendDone);
        });
        resolve(socket.address().port);
      });
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}

function sendDone(): void {
  // A failed send is a lost datagram: the client retries, as with any UDP loss.
}
