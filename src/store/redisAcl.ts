import type { Redis } from 'ioredis';
import { TierdnsError } from '../util/errors';
import type { RedisKeys } from './redisLayout';

// What tierdns needs of a Redis ACL user to write (docs/store.md "Redis ACL"), checked once
// per connection before the first write: Redis checks commands, keys and channels when a
// command is queued inside MULTI, so queuing one command of each kind tierdns uses and then
// DISCARDing runs nothing and publishes nothing, yet names every refusal. It runs on a
// connection of its own, so no other command can fall between MULTI and DISCARD. Without the
// check, a user without channel permission (Redis 7's default) had its changes applied and
// then failed at the PUBLISH, and a server never heard of changes.

/** One queued probe per kind of command tierdns writes with, and the ACL category that grants it. */
function probes(keys: RedisKeys): Array<{ args: string[]; category: string }> {
  return [
    { args: ['PUBLISH', keys.channel, ''], category: '@pubsub' },
    { args: ['SPUBLISH', keys.channel, ''], category: '@pubsub' },
    { args: ['HSET', keys.members('acl-check'), 'f', 'v'], category: '@write' },
    { args: ['EVAL', 'return 0', '1', keys.changeCount], category: '@scripting' },
  ];
}

/** What a refusal of `probe` says the user lacks, in the words of an ACL rule. */
function missingFor(probe: { args: string[]; category: string }, message: string, keys: RedisKeys): string {
  const cmd = probe.args[0] as string;
  if (/channel/i.test(message)) return `use the channel ${keys.channel} (ACL: &${keys.channel})`;
  if (/key/i.test(message)) return `use the keys ${keys.prefix}* (ACL: ~${keys.prefix}*)`;
  return `run ${cmd} (ACL: +${cmd.toLowerCase()} or +${probe.category})`;
}

/**
 * Throws TIERDNS_E_STORE_PERMISSION naming every permission the connection's user lacks.
 * `sharded`: the server has SPUBLISH (Redis 7), which guards every change (see queueMutation).
 */
export async function checkPermissions(like: Redis, keys: RedisKeys, description: string, sharded: boolean): Promise<void> {
  const list = probes(keys).filter((p) => sharded || p.args[0] !== 'SPUBLISH');
  const client = like.duplicate({ lazyConnect: true, enableOfflineQueue: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  let refusals: Array<Error | undefined>;
  try {
    await client.connect();
    try {
      await client.call('MULTI');
    } catch (err) {
      // Without MULTI nothing could be queued (the probes would run): say so and stop here.
      if (/NOPERM|no permissions/i.test((err as Error).message)) {
        throw new TierdnsError('TIERDNS_E_STORE_PERMISSION',
          `redis at ${description}: the ACL user may not run transactions (ACL: +@transaction); docs/store.md "Redis ACL" lists what tierdns needs`);
      }
      throw err;
    }
    refusals = await Promise.all(list.map((p) => client.call(...(p.args as [string, ...string[]])).then(() => undefined, (err: Error) => err)));
    await client.call('DISCARD');
  } finally {
    client.disconnect();
  }
  const missing: string[] = [];
  refusals.forEach((err, i) => {
    if (!err) return;
    // A refusal for another reason (a command the server does not know) is not an ACL matter.
    if (!/NOPERM|no permissions/i.test(err.message)) return;
    const need = missingFor(list[i] as { args: string[]; category: string }, err.message, keys);
    if (!missing.includes(need)) missing.push(need);
  });
  if (missing.length > 0) {
    throw new TierdnsError('TIERDNS_E_STORE_PERMISSION',
      `redis at ${description}: the ACL user may not ${missing.join('; nor ')}; docs/store.md "Redis ACL" lists what tierdns needs`);
  }
}
