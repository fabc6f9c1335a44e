import type { Logger } from 'pino';
import { errorMessage } from '../util/errors';
import { ALL_POOLS } from './redisLayout';
import type { RedisConnection } from './redisConnection';
import type { StoreChange } from './types';

// Change notifications over Redis pub/sub. A message names the pool that changed ("*": all).
// Messages published while the subscription is down are lost, so once watch() has returned
// every lapse ends with a { kind: 'all' } ("re-read everything"); before it returns the
// caller has yet to read, and nothing needs saying.

export async function subscribeChanges(
  sub: RedisConnection, channel: string, onChange: (change: StoreChange) => void, waitMs: number, log: Logger,
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
    if (ch === channel) emit(message === ALL_POOLS ? { kind: 'all' } : { kind: 'pool', name: message });
  };
  let returned = false;
  let lapsed = false;
  const recovered = (): void => {
    if (!returned || !lapsed) return;
    lapsed = false;
    emit({ kind: 'all' });
  };
  const offStatus = sub.onStatus((s) => {
    if (s !== 'ready') lapsed = true;
    else recovered();
  });
  sub.client.on('message', onMessage);
  let confirmed = false;
  const subscribed = sub.client.subscribe(channel).then(() => {
    confirmed = true;
    recovered();
  });
  subscribed.catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'store: subscribe failed; retrying on reconnect'));
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
    sub.client.off('message', onMessage);
    offStatus();
  };
}
