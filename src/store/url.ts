import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { TierdnsError } from '../util/errors';
import { checkPrefix } from './redisLayout';

// Store URLs (docs/store.md lists every form and parameter):
//   file:PATH
//   redis://[USER[:PASSWORD]@]HOST[:PORT][/DB][?prefix=P]
//   rediss://…[?insecure=1][&ca=FILE][&cert=FILE&key=FILE][&servername=NAME]        (TLS)
//   redis-sentinel://[USER[:PASSWORD]@]HOST[:PORT][,HOST[:PORT]…]/MASTER[/DB][?sentinelUser=U&sentinelPassword=P]
//   rediss-sentinel://…                                                             (TLS to master and sentinels)
// Parsed by hand: WHATWG URL cannot hold a comma-separated host list, and a typo in a
// parameter must be refused rather than silently ignored.

export interface RedisLocation {
  kind: 'redis';
  host?: string;
  port?: number;
  sentinels?: Array<{ host: string; port: number }>;
  /** Sentinel master group name. */
  name?: string;
  username?: string;
  password?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  db: number;
  tls?: ConnectionOptions;
  /** Key prefix from `?prefix=`, overriding the caller's and TIERDNS_PREFIX. */
  prefix?: string;
  /** For logs and messages: the URL without its password. */
  description: string;
}

export interface FileLocation {
  kind: 'file';
  path: string;
  description: string;
}

export type StoreLocation = RedisLocation | FileLocation;

const REDIS_PORT = 6379;
const SENTINEL_PORT = 26379;
const SCHEME = /^(redis|rediss|redis-sentinel|rediss-sentinel):\/\//;
/** Every query parameter, and the schemes that take it. */
const PARAMS = new Map([
  ['prefix', 'every redis scheme takes it'],
  ['sentinelUser', 'only redis-sentinel:// and rediss-sentinel:// take it'],
  ['sentinelPassword', 'only redis-sentinel:// and rediss-sentinel:// take it'],
  ['insecure', 'only rediss:// and rediss-sentinel:// take it'],
  ['ca', 'only rediss:// and rediss-sentinel:// take it'],
  ['cert', 'only rediss:// and rediss-sentinel:// take it'],
  ['key', 'only rediss:// and rediss-sentinel:// take it'],
  ['servername', 'only rediss:// and rediss-sentinel:// take it'],
]);

// A message about a URL never quotes its user information or a query value that may be
// secret: the URL holds the password, and these messages reach terminals, logs and CI output.
// They name the part instead ("the password", "the host"), which is as precise for the fix.
function bad(why: string): TierdnsError {
  return new TierdnsError('TIERDNS_E_STORE_URL', `store URL: ${why}`);
}

/** Percent-decode one part; `what` names it in the message, never its text. */
function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw bad(`bad percent-encoding in ${what}: write '%' as %25 and encode only UTF-8 bytes`);
  }
}

function parseHostPort(text: string, defaultPort: number): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(text);
  // The host text is not quoted: when an '@' or ':' of a password was not percent-encoded,
  // what lands here can be a piece of the password.
  if (!m) throw bad('a host is not HOST[:PORT] (a name, an IPv4 address or an [IPv6] address, then an optional port)');
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port < 1 || port > 65535) throw bad('a port is outside 1..65535');
  return { host: m[1] ?? (m[2] as string), port };
}

function parseDb(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d{1,6}$/.test(text)) throw bad('the database is not a number (0..999999)');
  return Number(text);
}

// Query values are not quoted either: after a sentinelPassword whose '&' was not encoded, the
// next "parameter" is the rest of that password.
function readPem(param: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw bad(`cannot read the file of parameter '${param}': ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

function parsePrefix(value: string): string {
  try {
    return checkPrefix(value);
  } catch {
    throw bad("parameter 'prefix' must be at most 64 printable characters without spaces");
  }
}

/** Split `USER:PASSWORD@HOSTS/PATH?QUERY` the way WHATWG URL does, but without quoting any of it. */
function splitRest(rest: string): { userinfo?: string; hosts: string; path: string; query: string; atLater: boolean } {
  if (rest.includes('#')) throw bad("'#' is not allowed (in a password too, write it as %23)");
  const q = rest.indexOf('?');
  const query = q < 0 ? '' : rest.slice(q + 1);
  const beforeQuery = q < 0 ? rest : rest.slice(0, q);
  const slash = beforeQuery.indexOf('/');
  const authority = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash < 0 ? '' : beforeQuery.slice(slash);
  // The last '@' ends the user information (WHATWG URL), so an unencoded '@' in a password works.
  // An '@' has no place in the path (a database number or master name): a password's '/' or '?' came before it.
  if (path.includes('@')) throw bad(AMBIGUOUS);
  const at = authority.lastIndexOf('@');
  if (at < 0) return { hosts: authority, path, query, atLater: query.includes('@') };
  return { userinfo: authority.slice(0, at), hosts: authority.slice(at + 1), path, query, atLater: false };
}

const AMBIGUOUS = "cannot tell the password from the host: percent-encode '/', '?', '#' and '%' in the user name and password (%2F, %3F, %23, %25)";

/** The hosts; an '@' after a host that does not parse is most likely a password's '/' or '?'. */
function parseHosts(parts: ReturnType<typeof splitRest>, defaultPort: number): Array<{ host: string; port: number }> {
  try {
    return parts.hosts.split(',').map((h) => parseHostPort(h, defaultPort));
  } catch (err) {
    if (!parts.atLater) throw err;
    throw bad(AMBIGUOUS);
  }
}

export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith('file:')) {
    // file:relative/path, file:/abs/path and file:///abs/path all name a local path.
    const path = url.slice(5).replace(/^\/\/(?=\/)/, '');
    if (path === '' || path.endsWith('/')) throw bad('file: needs a file path, e.g. file:data/store.json');
    return { kind: 'file', path, description: `file:${path}` };
  }
  const m = SCHEME.exec(url);
  if (!m) throw bad('expected file:PATH, redis://HOST:PORT/DB, rediss://… or redis-sentinel://HOST:PORT/MASTER');
  const scheme = m[1] as string;
  const parts = splitRest(url.slice(m[0].length));
  const sentinel = scheme.endsWith('-sentinel');
  const secure = scheme.startsWith('rediss');
  const loc: RedisLocation = { kind: 'redis', db: 0, description: '' };
  if (parts.userinfo !== undefined) {
    const colon = parts.userinfo.indexOf(':');
    // Without ':' the text would be taken as a user name and no password sent: most likely a
    // password missing its ':' (and a user name is shown in logs).
    if (colon < 0) throw bad('a user name needs a password: redis://USER:PASSWORD@HOST, or redis://:PASSWORD@HOST for a password alone');
    const user = decode(parts.userinfo.slice(0, colon), 'the user name');
    if (user !== '') loc.username = user;
    loc.password = decode(parts.userinfo.slice(colon + 1), 'the password');
  }
  if (parts.hosts === '') throw bad('no host: expected redis://HOST[:PORT]/DB');
  const segments = parts.path.split('/').slice(1);
  if (sentinel) {
    loc.sentinels = parseHosts(parts, SENTINEL_PORT);
    const [name, db, ...rest] = segments;
    if (!name) throw bad('redis-sentinel:// needs the master group name: redis-sentinel://HOST:PORT/MASTER[/DB]');
    if (rest.some((s) => s !== '')) throw bad('too many path segments');
    loc.name = decode(name, 'the master group name');
    // The name is shown in logs: a '?' left out would put the parameters, passwords too, in it.
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(loc.name)) {
      throw bad("the master group name must be 1..64 letters, digits, '.', '_' or '-' (parameters go after '?')");
    }
    loc.db = parseDb(db);
  } else {
    if (parts.hosts.includes(',')) throw bad('several hosts need redis-sentinel://');
    Object.assign(loc, parseHosts(parts, REDIS_PORT)[0]);
    if (segments.length > 1 && segments.slice(1).some((s) => s !== '')) throw bad('too many path segments');
    loc.db = parseDb(segments[0]);
  }
  const tls: ConnectionOptions = {};
  const pairs = parts.query === '' ? [] : parts.query.split('&');
  pairs.forEach((pair, i) => {
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq), `the name of parameter #${i + 1}`);
    // Only a known name is quoted: an unknown one may be the tail of a password cut at an '&'.
    const named = PARAMS.has(key) ? `parameter '${key}'` : `parameter #${i + 1}`;
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1), `the value of ${named}`);
    if (key === 'prefix') {
      loc.prefix = parsePrefix(value);
    } else if (sentinel && key === 'sentinelUser') {
      loc.sentinelUsername = value;
    } else if (sentinel && key === 'sentinelPassword') {
      loc.sentinelPassword = value;
    } else if (secure && key === 'insecure') {
      if (!['1', 'true', '0', 'false'].includes(value)) throw bad('insecure must be 1 or 0');
      // Skips certificate verification: for self-signed test setups only (docs/store.md, "Store URLs").
      tls.rejectUnauthorized = !(value === '1' || value === 'true');
    } else if (secure && (key === 'ca' || key === 'cert' || key === 'key')) {
      tls[key] = readPem(key, value);
    } else if (secure && key === 'servername') {
      tls.servername = value;
    } else if (PARAMS.has(key)) {
      throw bad(`${named} is not for ${scheme}:// (${PARAMS.get(key)})`);
    } else {
      const cut = loc.sentinelPassword !== undefined ? "; an '&' in the sentinelPassword is written %26" : '';
      throw bad(`${named} is unknown (known: ${[...PARAMS.keys()].join(', ')})${cut}`);
    }
  });
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw bad('cert and key go together');
  if (secure) loc.tls = tls;
  const who = loc.username ? `${loc.username}:***@` : loc.password !== undefined ? ':***@' : '';
  const where = sentinel
    ? `${(loc.sentinels ?? []).map((s) => `${s.host}:${s.port}`).join(',')}/${loc.name}/${loc.db}`
    : `${loc.host}:${loc.port}/${loc.db}`;
  loc.description = `${scheme}://${who}${where}`;
  return loc;
}

/**
 * `text` with the location's secrets (as given and as they may appear percent-encoded) replaced
 * by ***: for messages that come from the Redis client or server, which tierdns does not compose.
 */
export function redactSecrets(text: string, loc: RedisLocation): string {
  let out = text;
  for (const secret of [loc.password, loc.sentinelPassword]) {
    if (secret === undefined || secret === '') continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}
