import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_TCP_LIMITS, defaultMaxConnections, type TcpLimits } from '../dns/tcpLimits';
import { parseDurationIn, parseIntIn } from './options';

// `serve`'s DNS-over-TCP limits (docs/tcp.md); each flag's default is DEFAULT_TCP_LIMITS's.

export interface TcpFlags {
  tcpMaxConnections?: string;
  tcpMaxPerSource?: string;
  tcpIdleTimeout?: string;
  tcpPartialTimeout?: string;
}

export function addTcpOptions(cmd: Command): Command {
  const d = DEFAULT_TCP_LIMITS;
  return cmd
    .option('--tcp-max-connections <n>', `TCP connections at once, all listeners (default ${d.maxConnections}, or half the open-files limit when lower)`)
    .option('--tcp-max-per-source <n>', `TCP connections at once from one IPv4 address or IPv6 /64 (default ${d.maxPerSource})`)
    .option('--tcp-idle-timeout <duration>', `close a TCP connection with no query answered for this long (default ${d.idleMs / 1000}s)`)
    .option('--tcp-partial-timeout <duration>', `close a TCP connection whose query has not fully arrived within this (default ${d.partialMs}ms)`);
}

/** The limits the flags give; the connection cap from the descriptors the process may open. */
export function parseTcpFlags(f: TcpFlags, openFiles: number | undefined = openFilesLimit()): TcpLimits {
  return {
    ...DEFAULT_TCP_LIMITS,
    maxConnections: f.tcpMaxConnections === undefined ? defaultMaxConnections(openFiles)
      : parseIntIn(f.tcpMaxConnections, '--tcp-max-connections', 1, 1_000_000),
    maxPerSource: f.tcpMaxPerSource === undefined ? DEFAULT_TCP_LIMITS.maxPerSource
      : parseIntIn(f.tcpMaxPerSource, '--tcp-max-per-source', 1, 1_000_000),
    idleMs: f.tcpIdleTimeout === undefined ? DEFAULT_TCP_LIMITS.idleMs
      : parseDurationIn(f.tcpIdleTimeout, '--tcp-idle-timeout', 100, 3_600_000),
    partialMs: f.tcpPartialTimeout === undefined ? DEFAULT_TCP_LIMITS.partialMs
      : parseDurationIn(f.tcpPartialTimeout, '--tcp-partial-timeout', 50, 60_000),
  };
}

/**
 * The soft open-files limit (Node raises it to the hard one at start), from /proc on Linux;
 * undefined where that cannot be read.
 */
export function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line ? /^Max open files\s+(\d+)/.exec(line) : null;
    return soft ? Number(soft[1]) : undefined;
  } catch {
    return undefined;
  }
}
