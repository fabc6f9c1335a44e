import http from 'node:http';
import type net from 'node:net';
import type { Logger } from 'pino';
import { acceptErrorLogger } from '../util/acceptErrors';
import { errorMessage } from '../util/errors';
import { bindError, type ListenAddress } from '../util/listen';
import { TcpAdmission } from '../dns/tcpAdmission';
import { sourceKey } from '../dns/tcpLimits';
import type { Metrics } from './metrics';
import type { StatusFeed } from './statusFeed';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './statusPage';
import type { WriteText } from './textStream';

// The --metrics listener (docs/metrics.md): /metrics for Prometheus, /healthz and /readyz for
// supervisors and load balancers, and the status page (/ and /status.json) for people.

export interface InstanceState {
  /** Listeners bound and not stopping. */
  serving: boolean;
  /** Serving, and the pools loaded (from the store or the state dir). */
  ready: boolean;
  /** Why not ready, for /readyz. */
  reason: string;
}

export interface MetricsEndpoints {
  metrics: Metrics;
  feed: StatusFeed;
  /** Write the status document (JSON). */
  status: (write: WriteText) => Promise<void>;
  state: () => InstanceState;
}

const PLAIN = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

/** The response ended before the body did (the client went away). */
class Gone extends Error {}

/** Send a body written a piece at a time (chunked), waiting for the client to take each. */
async function stream(res: http.ServerResponse, headers: http.OutgoingHttpHeaders, body: (write: WriteText) => Promise<void>): Promise<void> {
  res.writeHead(200, { ...headers, 'x-content-type-options': 'nosniff' });
  if (res.req.method === 'HEAD') return void res.end();
  await body(async (chunk) => {
    if (res.destroyed) throw new Gone();
    if (chunk.length === 0 || res.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  });
  res.end();
}

function send(res: http.ServerResponse, code: number, headers: http.OutgoingHttpHeaders, body: string): void {
  res.writeHead(code, { ...headers, 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

async function route(req: http.IncomingMessage, res: http.ServerResponse, ep: MetricsEndpoints): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(res, 405, { ...PLAIN, allow: 'GET, HEAD' }, 'only GET and HEAD\n');
  }
  switch (path) {
    case '/metrics':
      return stream(res, { 'content-type': ep.metrics.contentType, 'cache-control': 'no-store' }, (write) => ep.metrics.write(write));
    case '/healthz': {
      const s = ep.state();
      return send(res, s.serving ? 200 : 503, PLAIN, s.serving ? 'ok\n' : 'not serving\n');
    }
    case '/readyz': {
      const s = ep.state();
      return send(res, s.ready ? 200 : 503, PLAIN, s.ready ? 'ready\n' : `not ready: ${s.reason}\n`);
    }
    case '/':
      return send(res, 200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': STATUS_PAGE_CSP,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      }, STATUS_PAGE_HTML);
    case '/status.json': {
      // ?since=G: hold the request until the status differs from generation G (docs/metrics.md).
      const since = Number(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)).get('since'));
      if (Number.isInteger(since) && since > 0) {
        const wait = ep.feed.wait(since);
        res.once('close', wait.cancel);
        await wait.done;
        if (res.destroyed) return;
      }
      return stream(res, { 'content-type': 'application/json', 'cache-control': 'no-store' }, ep.status);
    }
    default:
      return send(res, 404, PLAIN, 'not found: try /, /metrics, /status.json, /healthz or /readyz\n');
  }
}

/**
 * The metrics listener's own limits (docs/tcp.md "The metrics listener"): a cap well below
 * the DNS listeners' so idle clients here can never take the descriptors DNS needs, and
 * timeouts so a silent or trickling client does not hold a slot.
 */
export const METRICS_LISTENER = {
  maxConnections: 64,
  /** From one source (an IPv4 address, an IPv6 /64): a scraper needs one, a browser six. */
  maxPerSource: 8,
  /** Full, a newcomer may replace a connection that has had nothing answered for this long. */
  quietMs: 1000,
  /** Whole request headers within this (Node's default is 60 s). */
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  /** A connection that sends or receives nothing for this long is closed (above STATUS_WAIT_MS). */
  idleTimeoutMs: 10_000,
};

/** Listen on `at`; rejects with TIERDNS_E_BIND when the address cannot be bound. */
export function serveMetrics(at: ListenAddress, ep: MetricsEndpoints, log: Logger): Promise<http.Server> {
  const limits = METRICS_LISTENER;
  const server = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often the header and request timeouts are checked (Node's default is 30 s).
    connectionsCheckingInterval: 1000,
  }, (req, res) => {
    route(req, res, ep).catch((err: unknown) => {
      if (err instanceof Gone) return;
      log.error({ err: errorMessage(err), url: req.url }, 'metrics: request failed');
      if (!res.headersSent) send(res, 500, PLAIN, 'internal error\n');
      else res.destroy();
    });
  });
  admitConnections(server, limits);
  server.timeout = limits.idleTimeoutMs;
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(bindError('metrics (http)', at.host, at.port, err)));
    server.listen(at.port, at.host, () => {
      server.removeAllListeners('error');
      server.on('error', acceptErrorLogger(log, 'metrics'));
      resolve(server);
    });
  });
}

/** A metrics connection as admission sees it: when it last had a response sent. */
interface MetricsConnection {
  readonly source: string;
  readonly socket: net.Socket;
  lastActiveMs: number;
}

/**
 * The DNS listeners' admission (docs/tcp.md) on the metrics listener: a cap per source, and a
 * newcomer to a full listener replaces the quietest connection of the source holding the
 * most, so no one source, nor a set of them, can keep Prometheus out by holding connections.
 */
function admitConnections(server: http.Server, limits: typeof METRICS_LISTENER): void {
  const admission = new TcpAdmission<MetricsConnection>(limits);
  const bySocket = new WeakMap<net.Socket, MetricsConnection>();
  server.on('connection', (socket: net.Socket) => {
    if (socket.destroyed || socket.remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    const now = Date.now();
    const source = sourceKey(socket.remoteAddress);
    const decision = admission.consider(source, now);
    if (!decision.admit) {
      socket.on('error', () => undefined);
      socket.resetAndDestroy();
      return;
    }
    if (decision.evict) {
      admission.remove(decision.evict);
      decision.evict.socket.destroy();
    }
    const conn: MetricsConnection = { source, socket, lastActiveMs: now };
    admission.add(conn);
    bySocket.set(socket, conn);
    socket.once('close', () => admission.remove(conn));
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const conn = bySocket.get(req.socket);
    if (conn) res.once('finish', () => { conn.lastActiveMs = Date.now(); });
  });
}
