import { parseIp } from '../util/ip';

/**
 * What one DNS-over-TCP client may hold (docs/tcp.md). Defaults follow Knot DNS where it has
 * the setting; `serve` flags change them.
 */
export interface TcpLimits {
  /**
   * Close a connection that has had no query answered for this long (RFC 7766 §6.2.3).
   * Empty frames and dropped messages do not count. Default 10 s (Knot's tcp-idle-timeout);
   * `--tcp-idle-timeout`.
   */
  idleMs: number;
  /**
   * Close a connection whose current message began this long ago and is still incomplete:
   * the slow-loris defence. Default 500 ms (Knot's tcp-io-timeout); `--tcp-partial-timeout`.
   */
  partialMs: number;
  /**
   * Connections at once, over every TCP listener of the process. When full, a newcomer
   * replaces a connection of the source holding the most, or one quiet for a while.
   * Default 1000, or half the open-files limit when that is lower (Knot's tcp-max-clients
   * rule); `--tcp-max-connections`.
   */
  maxConnections: number;
  /**
   * Connections at once from one source: an IPv4 address, or an IPv6 /64 (what one host
   * usually holds). Default 16; `--tcp-max-per-source`.
   */
  maxPerSource: number;
  /**
   * Answer bytes waiting in the process for one client, past which its queries are no
   * longer read until it reads its answers (the kernel holds at most KERNEL_UNSENT_BYTES
   * more, where the native addon is built). At least the socket's high-water mark (16 KiB)
   * in effect. Default 16 KiB.
   */
  maxQueuedBytes: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = {
  idleMs: 10_000,
  partialMs: 500,
  maxConnections: 1000,
  maxPerSource: 16,
  maxQueuedBytes: 16 * 1024,
};

/** Answer bytes the kernel may hold unsent per connection (TCP_NOTSENT_LOWAT), beyond maxQueuedBytes. */
export const KERNEL_UNSENT_BYTES = 16 * 1024;

/** Knot's rule for the connection cap: half the descriptors, so the rest stay for everything else. */
export function defaultMaxConnections(openFilesLimit: number | undefined): number {
  const fallback = DEFAULT_TCP_LIMITS.maxConnections;
  return openFilesLimit === undefined ? fallback : Math.max(1, Math.min(fallback, Math.floor(openFilesLimit / 2)));
}

/**
 * The source a connection is counted against: the IPv4 address (also when written as an
 * IPv4-mapped IPv6 address), or the /64 of an IPv6 address; '' when unknown.
 */
export function sourceKey(address: string | undefined): string {
  if (address === undefined) return '';
  const mapped = address.startsWith('::ffff:') ? address.slice(7) : address;
  const ip = parseIp(mapped);
  if (!ip) return address;
  return ip.family === 4 ? ip.canonical : `${ip.bytes.subarray(0, 8).toString('hex')}/64`;
}
