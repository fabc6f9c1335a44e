import type { Logger } from 'pino';
import { QueryHandler } from '../dns/handler';
import { DEFAULT_RRL, type RrlOptions } from '../dns/rrl';
import type { Snapshot } from '../dns/snapshot';
import { DEFAULT_TCP_LIMITS, TcpClients, TcpServer, type TcpLimits } from '../dns/tcpServer';
import { BatchUdpServer } from '../dns/batchUdpServer';
import { nativeUdp, type UdpBatchAddon } from '../util/native';
import { UdpServer, type UdpListener } from '../dns/udpServer';
import type { ListenAddress } from '../util/listen';
import { releaseMemoryAfterBursts } from './memoryRelease';

/** UDP and TCP on every listen address, all answering from one snapshot. */
export class DnsServer {
  readonly handler: QueryHandler;
  /** Which UDP path answers: 'native' (the recvmmsg/sendmmsg addon, docs/native.md) or 'node' (dgram). */
  readonly udpImplementation: 'native' | 'node';
  private readonly nativeAddon?: UdpBatchAddon;
  private readonly udp: UdpListener[] = [];
  private readonly tcp: TcpServer[] = [];
  /** Every TCP listener's clients: the caps hold across listen addresses. */
  readonly tcpClients: TcpClients;
  private stopRelease?: () => void;

  /** `tcpLimits`: what differs from DEFAULT_TCP_LIMITS. */
  constructor(
    private readonly snapshot: Snapshot,
    private readonly log: Logger,
    tcpLimits: Partial<TcpLimits> = {},
    rrl: RrlOptions = DEFAULT_RRL,
  ) {
    this.handler = new QueryHandler(() => this.snapshot, log, rrl);
    // The addon when it was built and TIERDNS_NATIVE is not 0; otherwise dgram, which answers the same.
    const native = nativeUdp();
    if (native.problem) log.warn(`dns: ${native.problem}; using Node's dgram for UDP`);
    this.nativeAddon = native.addon;
    this.udpImplementation = native.addon ? 'native' : 'node';
    this.tcpClients = new TcpClients({ ...DEFAULT_TCP_LIMITS, ...tcpLimits }, native.addon?.tcpLimitUnsent);
  }

  /** Bind every address; port 0 picks one free port shared by UDP and TCP. Returns what was bound. */
  async listen(addresses: readonly ListenAddress[]): Promise<ListenAddress[]> {
    const bound: ListenAddress[] = [];
    try {
      for (const a of addresses) bound.push({ host: a.host, port: await this.listenOne(a) });
    } catch (err) {
      await this.close(0);
      throw err;
    }
    this.stopRelease ??= releaseMemoryAfterBursts({ connections: this.tcpClients, trimHeap: this.nativeAddon?.trimHeap, log: this.log });
    return bound;
  }

  private async listenOne(a: ListenAddress): Promise<number> {
    // Port 0: the free UDP port the kernel picks may be taken for TCP; try a few.
    for (let attempt = 1; ; attempt++) {
      const udp = this.nativeAddon ? new BatchUdpServer(this.handler, this.log, this.nativeAddon) : new UdpServer(this.handler, this.log);
      const port = await udp.listen(a.host, a.port);
      const tcp = new TcpServer(this.handler, this.log, this.tcpClients);
      try {
        await tcp.listen(a.host, port);
      } catch (err) {
        await udp.close();
        if (a.port !== 0 || attempt >= 20) throw err;
        continue;
      }
      this.udp.push(udp);
      this.tcp.push(tcp);
      return port;
    }
  }

  /** Each UDP socket's receive buffer (SO_RCVBUF as the kernel reports it). */
  udpRecvBufferBytes(): number[] {
    return this.udp.map((s) => s.recvBufferBytes());
  }

  async close(graceMs = 3000): Promise<void> {
    this.stopRelease?.();
    this.stopRelease = undefined;
    await Promise.all([...this.udp.map((s) => s.close()), ...this.tcp.map((s) => s.close(graceMs))]);
    this.udp.length = 0;
    this.tcp.length = 0;
  }
}
