import type { Logger } from 'pino';
import { errorMessage } from '../util/errors';
import { ALL_POOLS, parseChangeMessage } from './redisLayout';
import type { RedisConnection } from './redisConnection';
import type { StoreChange } from './types';

// Change notifications over Redis pub/sub. A message names the pool that changed ("*": all),
// followed by its change count when tierdns wrote it (see NOTIFY and ChangeCounts).
// Messages published while the subscription is down are lost, so once watch() has returned
// every lapse ends with a { kind: 'all' } ("re-read everything"); before it returns the
// caller has yet to read, and nothing needs saying.

/** A refused subscription (an ACL without the channel) is tried again this often. */
const SUBSCRIBE_RETRY_MS = 5000;

export async function subscribeChanges(
  sub: RedisConnection, channel: string, onChange: (change: StoreChange) => void, waitMs: number, log: Logger,
  counts?: ChangeCounts,
): Promise<() => void> {
  const emit = (change: StoreChange): void => {
    try {
      onChange(change);
    } catch (err) {
      // A throwing listener must not become an uncaught exception inside ioredis.
      log.error({ err: errorMessage(err) }, 'store: change listener threw');
    }
  };
  const onMessage = (ch: string, message: string): void => {
    if (ch !== channel) return;
    if (message === ALL_POOLS) return emit({ kind: 'all' });
    const { name, count } = parseChangeMessage(message);
    // Counted once the change is requested: a count heard vouches that its pool is re-read.
    emit({ kind: 'pool', name });
    if (count !== undefined) counts?.heard(count);
  };
  let returned = false;
  let lapsed = false;
  const recovered = (): void => {
    if (!returned || !lapsed) return;
    lapsed = false;
    emit({ kind: 'all' });
  };
  const offStatus = sub.onStatus((s) => {
    if (s !== 'ready') {
      lapsed = true;
      counts?.reset();
    }
    else recovered();
  });
  sub.client.on('message', onMessage);
  let confirmed = false;
  let stopped = false;
  let refused = false;
  let retryTimer: NodeJS.Timeout | undefined;
  // A refusal is reported once, at error, and tried again until it succeeds: a fixed ACL is
  // picked up without a restart, and meanwhile changes arrive only with the periodic resync.
  const subscribe = (): Promise<void> => sub.client.subscribe(channel).then(() => {
    confirmed = true;
    if (refused) {
      log.info({ channel }, 'store: subscribed to change notifications');
      // Whatever changed while refused went unheard: re-read everything.
      lapsed = true;
    }
    refused = false;
    recovered();
  }, (err: unknown) => {
    const e = sub.toStoreError(err);
    if (!refused) {
      const why = e.code === 'TIERDNS_E_STORE_PERMISSION' ? `the ACL user may not subscribe to the channel ${channel} (ACL: &${channel})` : e.message;
      log.error({ code: e.code, channel, err: e.message },
        `store: cannot subscribe to change notifications: ${why}; trying again every ${SUBSCRIBE_RETRY_MS / 1000} s, changes arrive only with the periodic resync meanwhile`);
    }
    refused = true;
    lapsed = true;
    if (!stopped) {
      retryTimer = setTimeout(() => { void subscribe().catch(() => undefined); }, SUBSCRIBE_RETRY_MS);
      retryTimer.unref();
    }
    throw e;
  });
  const subscribed = subscribe();
  subscribed.catch(() => undefined);
  // Wait for the subscription, but not past the first connection failure: the caller's read
  // fails fast then too, and the lapse is reported once the subscription is up.
  let onError: () => void = () => undefined;
  await Promise.race([
    subscribed.catch(() => undefined),
    new Promise((r) => setTimeout(r, waitMs).unref()),
    new Promise<void>((r) => sub.client.once('error', (onError = r))),
  ]);
  sub.client.off('error', onError);
  returned = true;
  if (!confirmed) lapsed = true;
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    sub.client.off('message', onMessage);
    offStatus();
  };
}

/**
 * The change counts heard on the channel. Redis delivers one connection's messages in the
 * order they were published, and NOTIFY counts and publishes in one step, so counts arrive in
 * increasing order: a jump is a lost message (or a hand edit that counted without saying so).
 * Every count in [from, to] was heard.
 */
export class ChangeCounts {
  private from = -1;
  private to = -1;
  private waiters: Array<() => void> = [];

  heard(count: number): void {
    // Counts only grow: one at or below the last heard means the counter started again (a
    // FLUSHDB, a DEL), and what was heard before says nothing about the new run.
    if (this.to < 0 || count !== this.to + 1) this.from = count;
    this.to = count;
    // (Most messages find nobody waiting: no new list for them.)
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Forget what was heard: after a lapse of the subscription the messages in it are gone. */
  reset(): void {
    this.from = this.to = -1;
  }

  /**
   * Whether every count in (after, upTo] was heard. Messages published just before the caller
   * read `upTo` may still be on their way: wait up to `waitMs` for them.
   */
  async heardAll(after: number, upTo: number, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (upTo <= after) return upTo === after;
      const covers = this.to >= 0 && this.from <= after + 1;
      if (!covers && this.to >= after + 1) return false; // a gap after the last full read
      if (covers && this.to >= upTo) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const wake = (): void => { clearTimeout(timer); resolve(); };
        // On timeout the waiter leaves the list: with no message ever arriving it must not grow.
        const timer = setTimeout(() => { this.waiters = this.waiters.filter((w) => w !== wake); resolve(); }, left);
        timer.unref();
        this.waiters.push(wake);
      });
    }
  }
}
