import type { Logger } from 'pino';

/** At most one log line per this long for a listener's accept errors. */
const LOG_EVERY_MS = 10_000;

/**
 * A listener's 'error' handler. An accept that fails (EMFILE: out of descriptors) costs that
 * one connection only: libuv closes it and the listener goes on accepting. It can repeat for
 * every connection attempt, so it is logged once per LOG_EVERY_MS with the count since.
 */
export function acceptErrorLogger(log: Logger, component: string, now: () => number = Date.now): (err: NodeJS.ErrnoException) => void {
  let lastMs = -Infinity;
  let unlogged = 0;
  return (err) => {
    const t = now();
    if (t - lastMs < LOG_EVERY_MS) {
      unlogged++;
      return;
    }
    const code = err.code;
    const hint = code === 'EMFILE' || code === 'ENFILE' ? '; out of file descriptors: raise LimitNOFILE (docs/tcp.md)' : '';
    log.warn({ err, code, notLogged: unlogged }, `${component}: cannot accept a connection${hint}`);
    lastMs = t;
    unlogged = 0;
  };
}
