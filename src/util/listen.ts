import { isIP } from 'node:net';
import { TierdnsError } from './errors';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parse HOST:PORT, [IPv6]:PORT; the host must be an IP literal (we bind, not resolve). */
export function parseListen(text: string): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || isIP(m[1]) === 0 || !(port >= 0 && port <= 65535)) {
    throw new TierdnsError('TIERDNS_E_BAD_VALUE', `bad listen address "${text}": expected IP:PORT or [IPv6]:PORT`);
  }
  return { host: m[1], port };
}

export function formatListen(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
