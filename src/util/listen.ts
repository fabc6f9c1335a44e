import { isIP } from 'node:net';
import { TierdnsError, errorMessage } from './errors';

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

/** HOST:PORT with an IPv6 host in brackets (RFC 3986 §3.2.2), so the port cannot be read as a group. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function formatListen(a: ListenAddress): string {
  return hostPort(a.host, a.port);
}

/**
 * TIERDNS_E_BIND for a listener that could not bind. Ports below 1024 are privileged on Linux:
 * the message says how to grant the one capability needed instead of running as root.
 */
export function bindError(what: string, host: string, port: number, err: unknown): TierdnsError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  let message = `cannot listen on ${what} ${hostPort(host, port)}: ${errorMessage(err)}`;
  if ((code === 'EACCES' || code === 'EPERM') && port > 0 && port < 1024) {
    message += '; ports below 1024 need CAP_NET_BIND_SERVICE: run under systemd with AmbientCapabilities=CAP_NET_BIND_SERVICE'
      + ' (contrib/systemd/tierdns.service), or grant it to node with: sudo setcap cap_net_bind_service=+ep "$(readlink -f "$(command -v node)")"';
  }
  return new TierdnsError('TIERDNS_E_BIND', message, { cause: err });
}
