import type { LoadKind } from '../model/types';
import type { AgentWords, ConnectionCount } from './loadParse';

// One read of a member's load feed and what it found (./loadFeed reads through Node's net,
// ./nativeAgent reads agent lines through the native addon).

export interface LoadTarget {
  kind: Exclude<LoadKind, 'none'>;
  ip: string;
  port: number;
  /** HTTP path (json, nginx, haproxy). */
  path: string;
  timeoutMs: number;
  localAddress?: string;
}

export type LoadReading =
  | { ok: true; agent: AgentWords; latencyMs: number }
  | { ok: true; count: ConnectionCount; latencyMs: number }
  | { ok: false; error: string; latencyMs: number };
