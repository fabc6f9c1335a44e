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
const SHAPE = /^(redis|rediss|redis-sentinel|rediss-sentinel):\/\/(?:([^@/?#]*)@)?([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/;

function bad(url: string, why: string): TierdnsError {
  return new TierdnsError('TIERDNS_E_STORE_URL', `store URL '${redact(url)}': ${why}`);
}

/** Hide the password of a URL that may be malformed. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

function decode(url: string, part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw bad(url, `bad percent-encoding in '${redact(part)}'`);
  }
}

function parseHostPort(url: string, text: string, defaultPort: number): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw bad(url, `'${text}' is not HOST[:PORT]`);
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port < 1 || port > 65535) throw bad(url, `port ${m[3]} is outside 1..65535`);
  return { host: m[1] ?? (m[2] as string), port };
}

function parseDb(url: string, text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d{1,6}$/.test(text)) throw bad(url, `database '${text}' is not a number`);
  return Number(text);
}

function readPem(url: string, param: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw bad(url, `cannot read ${param} file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith('file:')) {
    // file:relative/path, file:/abs/path and file:///abs/path all name a local path.
    const path = url.slice(5).replace(/^\/\/(?=\/)/, '');
    if (path === '' || path.endsWith('/')) throw bad(url, 'file: needs a file path, e.g. file:data/store.json');
    return { kind: 'file', path, description: `file:${path}` };
  }
  const m = SHAPE.exec(url);
  if (!m) throw bad(url, 'expected file:PATH, redis://HOST:PORT/DB, rediss://… or redis-sentinel://HOST:PORT/MASTER');
  const [, scheme, userinfo, hosts, pathPart = '', query = ''] = m as unknown as [string, string, string | undefined, string, string?, string?];
  const sentinel = scheme.endsWith('-sentinel');
  const secure = scheme.startsWith('rediss');
  const loc: RedisLocation = { kind: 'redis', db: 0, description: '' };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = decode(url, colon < 0 ? userinfo : userinfo.slice(0, colon));
    if (user !== '') loc.username = user;
    if (colon >= 0) loc.password = decode(url, userinfo.slice(colon + 1));
  }
  const segments = pathPart.split('/').slice(1);
  if (sentinel) {
    loc.sentinels = hosts.split(',').map((h) => parseHostPort(url, h, SENTINEL_PORT));
    const [name, db, ...rest] = segments;
    if (!name) throw bad(url, 'redis-sentinel:// needs the master group name: redis-sentinel://HOST:PORT/MASTER[/DB]');
    if (rest.some((s) => s !== '')) throw bad(url, 'too many path segments');
    loc.name = decode(url, name);
    loc.db = parseDb(url, db);
  } else {
    if (hosts.includes(',')) throw bad(url, 'several hosts need redis-sentinel://');
    Object.assign(loc, parseHostPort(url, hosts, REDIS_PORT));
    if (segments.length > 1 && segments.slice(1).some((s) => s !== '')) throw bad(url, 'too many path segments');
    loc.db = parseDb(url, segments[0]);
  }
  const tls: ConnectionOptions = {};
  for (const pair of query === '' ? [] : query.split('&')) {
    const eq = pair.indexOf('=');
    const key = decode(url, eq < 0 ? pair : pair.slice(0, eq));
    const value = decode(url, eq < 0 ? '' : pair.slice(eq + 1));
    if (key === 'prefix') {
      loc.prefix = checkPrefix(value);
    } else if (sentinel && key === 'sentinelUser') {
      loc.sentinelUsername = value;
    } else if (sentinel && key === 'sentinelPassword') {
      loc.sentinelPassword = value;
    } else if (secure && key === 'insecure') {
      if (!['1', 'true', '0', 'false'].includes(value)) throw bad(url, 'insecure must be 1 or 0');
      // Skips certificate verification: for self-signed test setups only (docs/store.md, "Store URLs").
      tls.rejectUnauthorized = !(value === '1' || value === 'true');
    } else if (secure && (key === 'ca' || key === 'cert' || key === 'key')) {
      tls[key] = readPem(url, key, value);
    } else if (secure && key === 'servername') {
      tls.servername = value;
    } else {
      throw bad(url, `unknown parameter '${key}'`);
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw bad(url, 'cert and key go together');
  if (secure) loc.tls = tls;
  const who = loc.username ? `${loc.username}${loc.password !== undefined ? ':***' : ''}@` : loc.password !== undefined ? ':***@' : '';
  const where = sentinel
    ? `${(loc.sentinels ?? []).map((s) => `${s.host}:${s.port}`).join(',')}/${loc.name}/${loc.db}`
    : `${loc.host}:${loc.port}/${loc.db}`;
  loc.description = `${scheme}://${who}${where}`;
  return loc;
}
