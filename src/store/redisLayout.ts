import { TierdnsError } from '../util/errors';
import { buildRecord, type ReportProblem, type Stored } from './decode';
import { isPoolName } from '../model/names';
import type { ChainableCommander } from 'ioredis';
import type { PoolMutation, PoolRecord } from './record';

/** What the read scripts return for a pool one of whose keys cannot be read (a key of the wrong type). */
const BAD_POOL_KEYS = 'TIERDNS_BAD_POOL_KEYS';

export type { ReportProblem } from './decode';

// The Redis key layout, version 1 (docs/store.md is the operator-facing copy; keep both in step).
//
//   <p>version            string  layout version ("1"); a newer one is refused (TIERDNS_E_STORE_VERSION)
//   <p>store-id           string  JSON StoreIdentity (identity.ts): written by the first write (or serving
//                                 instance) that finds none; a store without it, or with one that does
//                                 not descend from the one an instance knew, has lost its data
//   <p>pools              set     pool names
//   <p>pool:<name>        string  JSON PoolConfig
//   <p>members:<name>     hash    ip → JSON Member
//   <p>verdicts:<name>    hash    ip → JSON {verdict, sinceMs}
//   <p>obs:<name>         hash    "<ip>|<instance>" → JSON Observation
//   <p>instances          zset    instance → last heartbeat (ms since epoch)
//   <p>zones              hash    instance → JSON array of the zone origins it serves
//   <p>zonerules          hash    zone origin → JSON ZonePoolRules, the last publisher's (where pools
//                                 cannot be; the CLI refuses such names: model/poolNameRules.ts)
//   <p>changes            channel pub/sub: "<pool> <count>" after that pool changed (count: the value
//                                 <p>changecount was INCR'd to by the same script), "*" for "re-read
//                                 everything"; a bare pool name (a hand edit) is understood too
//   <p>changecount        string  INCR'd by every such PUBLISH: a periodic resync that finds it unmoved,
//                                 or finds that every count since its last full read was heard (and
//                                 zones and live instances alike), skips its full read
//
// Every write goes through WATCH + MULTI/EXEC (redisTransact.ts) or a Lua script, and the
// PUBLISH is the last command of the same transaction, so a subscriber that re-reads on the
// message sees the whole change and nothing of half of it.

export const LAYOUT_VERSION = 1;
export const ALL_POOLS = '*';

/**
 * Count the change and announce it with its count: the subscriber can then tell that it heard
 * every change since its last full read (a gap in the counts is a lost message). KEYS:
 * changecount. ARGV: channel, pool. Queued as the last command of a pool's transaction. A
 * changecount that is not a number (a hand edit) still lets the message out, uncounted.
 */
export const NOTIFY = `
local n = redis.pcall('INCR', KEYS[1])
if type(n) == 'number' then
  redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. n)
else
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return 0
`;

/** A change message: the pool, and the change count when the writer sent one (see NOTIFY). */
export function parseChangeMessage(message: string): { name: string; count?: number } {
  const space = message.lastIndexOf(' ');
  const count = space < 0 ? undefined : parseChangeCount(message.slice(space + 1));
  return count === undefined ? { name: message } : { name: message.slice(0, space), count };
}

/** A change count as Redis holds it (decimal digits, exact as a JS number), else undefined. */
export function parseChangeCount(text: string): number | undefined {
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

export class RedisKeys {
  readonly version: string;
  readonly pools: string;
  readonly instances: string;
  readonly zones: string;
  readonly zoneRules: string;
  readonly channel: string;
  readonly changeCount: string;
  readonly identity: string;

  constructor(readonly prefix: string) {
    this.version = `${prefix}version`;
    this.pools = `${prefix}pools`;
    this.instances = `${prefix}instances`;
    this.zones = `${prefix}zones`;
    this.zoneRules = `${prefix}zonerules`;
    this.channel = `${prefix}changes`;
    this.changeCount = `${prefix}changecount`;
    this.identity = `${prefix}store-id`;
  }

  config(pool: string): string {
    return `${this.prefix}pool:${pool}`;
  }

  members(pool: string): string {
    return `${this.prefix}members:${pool}`;
  }

  verdicts(pool: string): string {
    return `${this.prefix}verdicts:${pool}`;
  }

  observations(pool: string): string {
    return `${this.prefix}obs:${pool}`;
  }

  /** The four keys of one pool, in the order READ_POOL and the transactions use. */
  pool(pool: string): [string, string, string, string] {
    return [this.config(pool), this.members(pool), this.verdicts(pool), this.observations(pool)];
  }
}

/**
 * The serving digest of one pool, as a Lua function the read scripts share: a hash of the
 * stored form of what answers depend on (servingKey, model/serving.ts): the config, the
 * members, the verdicts, and each observation's field with its state and sinceMs, not its
 * last-probe details. State and sinceMs are matched in the text tierdns writes (toObservation's
 * key order) rather than decoded: a cjson decode of every observation made the digest pass
 * several times dearer; an observation written otherwise (by hand) counts by its field alone. A full read that has the previous views fetches these 40 bytes per pool
 * first and re-reads only the pools whose digest moved. Computed by Redis alone, so the read
 * scripts and DIGEST_POOLS cannot disagree.
 */
const SERVING_DIGEST = `
local function servingDigest(config, members, verdicts, observations)
  local parts = { config or '\\1' }
  for _, flat in ipairs({ members, verdicts }) do
    parts[#parts + 1] = '\\2'
    for _, item in ipairs(flat) do
      parts[#parts + 1] = item
      parts[#parts + 1] = '\\0'
    end
  end
  parts[#parts + 1] = '\\3'
  for i = 1, #observations, 2 do
    local state, since = string.match(observations[i + 1], ',"state":"(%a+)","sinceMs":(%d+)')
    parts[#parts + 1] = observations[i]
    parts[#parts + 1] = '\\4'
    parts[#parts + 1] = state or ''
    parts[#parts + 1] = '\\4'
    parts[#parts + 1] = since or ''
    parts[#parts + 1] = '\\0'
  end
  return redis.sha1hex(table.concat(parts))
end
local function readPool(k1, k2, k3, k4)
  local c, m, v, o = redis.pcall('GET', k1), redis.pcall('HGETALL', k2), redis.pcall('HGETALL', k3), redis.pcall('HGETALL', k4)
  -- A key of the wrong type (WRONGTYPE) spoils this pool's read, not every pool's.
  for _, r in ipairs({ c, m, v, o }) do
    if type(r) == 'table' and r.err then return { '${BAD_POOL_KEYS}', r.err } end
  end
  return { c, m, v, o, servingDigest(c, m, v, o) }
end
`;

/** One pool's four keys read atomically (a script runs alone), in one round trip, with its serving digest. */
export const READ_POOL = `${SERVING_DIGEST}
return readPool(KEYS[1], KEYS[2], KEYS[3], KEYS[4])
`;

/**
 * READ_POOL with the store's identity, read in the same atomic step: a pool that is absent
 * from a store that lost its data is not a pool that was removed (Store.readPool). KEYS: the
 * pool's four keys, the identity. Returns { READ_POOL reply, identity JSON or nil }.
 */
export const READ_POOL_CHECKED = `${SERVING_DIGEST}
return { readPool(KEYS[1], KEYS[2], KEYS[3], KEYS[4]), redis.call('GET', KEYS[5]) }
`;

/** The serving digest of many pools (KEYS in groups of four, as RedisKeys.pool orders them). */
export const DIGEST_POOLS = `${SERVING_DIGEST}
local out = {}
for i = 1, #KEYS, 4 do
  -- false for a pool that cannot be read: every pool keeps its place in the reply.
  out[#out + 1] = readPool(KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3])[5] or false
end
return out
`;

/** Many pools' keys (KEYS in groups of four), each group read atomically, as READ_POOL replies. */
export const READ_POOLS = `${SERVING_DIGEST}
local out = {}
for i = 1, #KEYS, 4 do
  out[#out + 1] = readPool(KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[i + 3])
end
return out
`;

/**
 * Last-probe details of an observation whose state and sinceMs are stored already: one HSET,
 * no transaction. KEYS: config, members, obs. ARGV: ip, field, state, sinceMs, observation
 * JSON. Returns -2 when the pool is gone, -1 when the member is, 0 when the stored state or
 * sinceMs differ (or there is none: the caller then records it with a transaction), 1 when
 * written.
 */
export const REFRESH_OBSERVATION = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return -1 end
local cur = redis.call('HGET', KEYS[3], ARGV[2])
if not cur then return 0 end
local ok, o = pcall(cjson.decode, cur)
if not ok or type(o) ~= 'table' or o.state ~= ARGV[3] or o.sinceMs ~= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[5])
return 1
`;

/**
 * Heartbeat: refresh this instance, prune instances staler than the cutoff (with their zones),
 * say whether this instance was absent or stale before (its votes start counting again), and
 * the store's identity (a FLUSHALL is noticed within a beat).
 * KEYS: instances, zones, version, identity. ARGV: instance, nowMs, cutoffMs, layout version.
 */
export const HEARTBEAT = `
local prev = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
if #stale > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
  for _, name in ipairs(stale) do redis.call('HDEL', KEYS[2], name) end
end
redis.call('SET', KEYS[3], ARGV[4], 'NX')
local revived = 0
if (not prev) or tonumber(prev) < tonumber(ARGV[3]) then revived = 1 end
return { revived, stale, redis.call('GET', KEYS[4]) }
`;

export interface DecodedPool {
  /** Undefined when the pool is absent or its config is unusable. */
  record?: PoolRecord;
  /** Some key of the pool exists, even if its config is unusable. */
  present: boolean;
  /** Every raw field of the observations hash, so removing a member removes malformed ones too. */
  observationFields: string[];
  /** The pool's serving digest as the read script computed it (SERVING_DIGEST). */
  digest?: string;
}

function pairs(flat: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), String(flat[i + 1])]);
  return out;
}

/** Decode a READ_POOL reply; bad entries are reported and skipped, never thrown. */
export function decodePool(name: string, reply: unknown, report: ReportProblem): DecodedPool {
  if (Array.isArray(reply) && reply.length === 2 && reply[0] === BAD_POOL_KEYS) {
    throw new TierdnsError('TIERDNS_E_STORE_DATA', `pool ${name}: its keys cannot be read (${String(reply[1])}); fix or delete them (docs/store.md, "Redis key layout")`);
  }
  if (!Array.isArray(reply) || reply.length !== 5) {
    throw new TierdnsError('TIERDNS_E_STORE_DATA', `pool ${name}: unexpected reply from the read script`);
  }
  const [configJson, members, verdicts, observations, digest] = reply as [unknown, unknown, unknown, unknown, unknown];
  const memberPairs = pairs(members);
  const verdictPairs = pairs(verdicts);
  const obsPairs = pairs(observations);
  const obsEntries: Array<[string, string, Stored]> = [];
  for (const [field, json] of obsPairs) {
    const bar = field.indexOf('|');
    if (bar < 0) report(`pool ${name}: observation field '${field}' lacks '|'; skipped`);
    else obsEntries.push([field.slice(0, bar), field.slice(bar + 1), { json }]);
  }
  const record = buildRecord(name, {
    config: configJson == null ? undefined : { json: String(configJson) },
    members: memberPairs.map(([ip, json]) => [ip, { json }]),
    verdicts: verdictPairs.map(([ip, json]) => [ip, { json }]),
    observations: obsEntries,
  }, report);
  const present = configJson != null || memberPairs.length + verdictPairs.length + obsPairs.length > 0;
  const decoded: DecodedPool = { present, observationFields: obsPairs.map(([f]) => f) };
  if (record) decoded.record = record;
  if (typeof digest === 'string') decoded.digest = digest;
  return decoded;
}

/** Queue the commands that apply one pool's mutation (inside the caller's MULTI). */
export function queuePoolMutation(tx: ChainableCommander, k: RedisKeys, pool: string, m: PoolMutation, observationFields: readonly string[]): void {
  if (m.removePool) {
    tx.del(...k.pool(pool));
    tx.srem(k.pools, pool);
    return;
  }
  if (m.config) {
    tx.set(k.config(pool), JSON.stringify(m.config));
    tx.sadd(k.pools, pool);
  }
  for (const ip of m.removeMembers) {
    tx.hdel(k.members(pool), ip);
    tx.hdel(k.verdicts(pool), ip);
    const fields = observationFields.filter((f) => f.startsWith(`${ip}|`));
    if (fields.length > 0) tx.hdel(k.observations(pool), ...fields);
  }
  for (const member of m.setMembers) tx.hset(k.members(pool), member.ip, JSON.stringify(member));
  for (const [ip, entry] of m.setVerdicts) tx.hset(k.verdicts(pool), ip, JSON.stringify(entry));
  for (const [ip, inst] of m.removeObservations) tx.hdel(k.observations(pool), `${ip}|${inst}`);
  for (const [ip, obs] of m.setObservations) tx.hset(k.observations(pool), `${ip}|${obs.instance}`, JSON.stringify(obs));
}

/** EXEC the caller's MULTI: false when a watched key changed first (nothing applied); a failed command throws. */
export async function execTransaction(tx: ChainableCommander): Promise<boolean> {
  const replies = await tx.exec();
  if (replies === null) return false;
  const failed = replies.find(([err]) => err);
  if (failed) throw failed[0];
  return true;
}

export function checkPrefix(prefix: string): string {
  // The prefix is part of every key and of the channel name: printable, no spaces, short.
  if (!/^[\x21-\x7e]{0,64}$/.test(prefix)) {
    throw new TierdnsError('TIERDNS_E_STORE_URL', `key prefix '${prefix}' must be at most 64 printable characters without spaces`);
  }
  return prefix;
}

export function validPoolNames(names: string[], report: ReportProblem): string[] {
  return names.filter((n) => isPoolName(n) || (report(`pool set holds an invalid name '${n}'; skipped`), false));
}


/**
 * Delete every observation of the given members, including fields written after the caller
 * read the hash (a bulk write does not WATCH observations, which probes rewrite every few
 * seconds). KEYS: obs. ARGV: member IPs.
 */
export const DROP_OBSERVATIONS = `
local drop = {}
for i = 1, #ARGV do drop[ARGV[i]] = true end
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  local bar = string.find(f, '|', 1, true)
  if bar and drop[string.sub(f, 1, bar - 1)] then redis.call('HDEL', KEYS[1], f) end
end
return 0
`;
