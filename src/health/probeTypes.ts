import type { CheckKind } from '../model/types';

// What a probe is asked to check and what it found; shared by every probe kind.

export interface ProbeTarget {
  ip: string;
  port: number;
  kind: CheckKind;
  /** Request path for http/https/ws. */
  path: string;
  /** Host header (and TLS server name when it is a name); the member address when absent. */
  host?: string;
  /** Accepted HTTP status range for http/https. */
  expectMin: number;
  expectMax: number;
  timeoutMs: number;
  /** Source address to probe from; the kernel's choice when absent. */
  localAddress?: string;
}

export interface ProbeResult {
  ok: boolean;
  /** Time to the answer that decided the result (to the timeout for a timeout). */
  latencyMs: number;
  /** Why it failed, short and stable enough for logs and `status` (e.g. "ECONNREFUSED"). */
  error?: string;
}
