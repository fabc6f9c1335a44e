import pino, { type Logger } from 'pino';
import { FileStore } from './fileStore';
import { checkPrefix } from './redisLayout';
import type { Store } from './types';
import { parseStoreUrl } from './url';

export interface OpenStoreOptions {
  /** Redis key prefix; `?prefix=` in the URL wins, then this, then 'tierdns:'. */
  prefix?: string;
  /** Where store problems are logged (default: silent). */
  log?: Logger;
  /**
   * How long a command waits for a Redis connection before failing with
   * TIERDNS_E_STORE_UNREACHABLE (default 3000 ms). The CLI passes less so that an
   * unreachable store costs one line within ~3 s; the connection keeps retrying either way.
   */
  connectWaitMs?: number;
  /** Heartbeat age past which an instance's observations stop counting (default 10000 ms; heartbeat() overrides). */
  instanceTtlMs?: number;
  /** File store: poll period backing up fs.watch (default 500 ms). */
  pollMs?: number;
  /** Clock for member and verdict times (default Date.now); tests inject one. */
  nowMs?: () => number;
  /**
   * Redis with replicas: a change of a pool or member is reported done only once a replica has
   * it too (WAIT), else it fails with TIERDNS_E_STORE_UNCONFIRMED (default false; the CLI sets it).
   */
  confirmOnReplica?: boolean;
}

export const DEFAULT_PREFIX = 'tierdns:';

/**
 * Open the store a URL names (src/store/url.ts lists the forms): file:PATH, redis://,
 * rediss://, redis-sentinel://, rediss-sentinel://. A malformed URL throws TIERDNS_E_STORE_URL;
 * nothing is contacted until the first operation.
 */
export function openStore(url: string, opts: OpenStoreOptions = {}): Store {
  const loc = parseStoreUrl(url);
  const log = opts.log ?? pino({ level: 'silent' });
  const nowMs = opts.nowMs ?? Date.now;
  const instanceTtlMs = opts.instanceTtlMs ?? 10_000;
  if (loc.kind === 'file') return new FileStore(loc.path, { log, instanceTtlMs, nowMs, pollMs: opts.pollMs ?? 500 });
  const prefix = checkPrefix(loc.prefix ?? opts.prefix ?? DEFAULT_PREFIX);
  // Loaded on first use: loading ioredis is a noticeable part of the start-up of a file-store
  // instance, which never needs it.
  const { RedisStore } = require('./redisStore') as typeof import('./redisStore');
  return new RedisStore(loc, {
    prefix, log, connectWaitMs: opts.connectWaitMs ?? 3000, instanceTtlMs, nowMs, confirmOnReplica: opts.confirmOnReplica,
  });
}
