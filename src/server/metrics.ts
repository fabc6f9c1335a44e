import http from 'node:http';
import type { Logger } from 'pino';
import { typeName } from '../wire/constants';
import type { QueryStats } from '../dns/handler';
import type { ProbeStats } from '../health/loop';
import type { TcpStats } from '../dns/tcpServer';
import { servedVerdict } from '../model/verdict';
import type { PoolView } from '../model/types';
import type { StoreSnapshot, StoreStatus } from '../store/types';
import { TierdnsError } from '../util/errors';
import type { VerdictSource } from './ownVerdicts';
import type { ListenAddress } from '../util/listen';
import { acceptErrorLogger } from '../util/acceptErrors';

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH'];

export interface MetricsSources {
  queries: QueryStats;
  /** `lost`: the store lost its data and is not re-seeded yet; `losses`: such losses found since start. */
  store: () => { status: StoreStatus; snapshot: StoreSnapshot; verdicts?: VerdictSource; lost?: boolean; losses?: number };
  probes?: () => ProbeStats;
  /** DNS-over-TCP connections (docs/tcp.md). */
  tcp?: { readonly open: number; readonly stats: TcpStats };
}

/** Prometheus text exposition (version 0.0.4) of what docs/metrics.md lists. */
export function renderMetrics(src: MetricsSources): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, rows: [string, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) out.push(`${name}${labels} ${value}`);
  };
  const q = src.queries;
  const rcodes: [string, number][] = [];
  q.byRcode.forEach((n, i) => n && rcodes.push([`{rcode="${RCODE_NAMES[i] ?? i}"}`, n]));
  metric('tierdns_answers_total', 'counter', 'Answers sent, by rcode.', rcodes);
  const types: [string, number][] = [];
  q.byType.forEach((n, i) => n && types.push([`{qtype="${i === 256 ? 'other' : typeName(i)}"}`, n]));
  metric('tierdns_queries_total', 'counter', 'Queries answered, by QTYPE.', types);
  metric('tierdns_queries_dropped_total', 'counter', 'Packets dropped unanswered (short, or QR=1).', [['', q.dropped]]);
  metric('tierdns_answer_failures_total', 'counter', 'Answers that threw and became SERVFAIL.', [['', q.failures]]);
  metric('tierdns_rrl_dropped_total', 'counter', 'UDP answers dropped by response rate limiting (docs/rrl.md).', [['', q.rrlDropped]]);
  metric('tierdns_rrl_slipped_total', 'counter', 'UDP answers response rate limiting sent truncated (TC=1) instead.', [['', q.rrlSlipped]]);
  if (src.tcp) tcpRows(metric, src.tcp);
  const buckets: [string, number][] = [];
  let cumulative = 0;
  q.latencyBucketsUs.forEach((le, i) => {
    cumulative += q.latencyCounts[i];
    buckets.push([`_bucket{le="${le / 1e6}"}`, cumulative]);
  });
  buckets.push([`_bucket{le="+Inf"}`, q.latencySamples], ['_sum', q.latencySumUs / 1e6], ['_count', q.latencySamples]);
  metric('tierdns_answer_seconds', 'histogram', 'Time to compute an answer (sampled: 1 query in 64).', buckets);

  const { status, snapshot, verdicts, lost, losses } = src.store();
  metric('tierdns_store_up', 'gauge', 'Whether the store is reachable (1) or not (0).', [['', status === 'ready' ? 1 : 0]]);
  metric('tierdns_store_lost', 'gauge', 'Whether the store lost its data (its identity) and is not re-seeded yet (1) or not (0).', [['', lost ? 1 : 0]]);
  metric('tierdns_store_losses_total', 'counter', 'Times this instance found the store had lost its data.', [['', losses ?? 0]]);
  metric('tierdns_own_verdicts', 'gauge', 'Whether answers use this instance\'s own verdicts (1: the store is or was just unreachable) or the shared ones (0).',
    [['', verdicts === undefined || verdicts === 'shared' ? 0 : 1]]);
  metric('tierdns_pool_members', 'gauge', 'Pool members by verdict (drained counted apart).', []);
  for (const [name, pool] of snapshot.pools) out.push(poolMemberRows(name, pool));
  metric('tierdns_live_instances', 'gauge', 'Instances with a fresh heartbeat in the store.', [['', snapshot.instances.size]]);
  if (src.probes) {
    const p = src.probes();
    metric('tierdns_probes_total', 'counter', 'Health probes run by this instance, by result.', [['{result="ok"}', p.ok], ['{result="failed"}', p.failed]]);
    metric('tierdns_probe_latency_seconds_sum', 'counter', 'Total time spent in probes.', [['', p.latencySumMs / 1000]]);
  }
  return out.join('\n') + '\n';
}

type MetricRows = (name: string, type: string, help: string, rows: [string, number][]) => void;

function tcpRows(metric: MetricRows, tcp: { readonly open: number; readonly stats: TcpStats }): void {
  const { stats } = tcp;
  metric('tierdns_tcp_connections', 'gauge', 'DNS-over-TCP connections open.', [['', tcp.open]]);
  metric('tierdns_tcp_accepted_total', 'counter', 'DNS-over-TCP connections accepted.', [['', stats.accepted]]);
  metric('tierdns_tcp_refused_total', 'counter', 'DNS-over-TCP connections reset at accept: source at its cap, or every slot busy (docs/tcp.md).',
    [['{reason="per-source"}', stats.refusedPerSource], ['{reason="full"}', stats.refusedFull]]);
  metric('tierdns_tcp_closed_total', 'counter', 'DNS-over-TCP connections closed by the server, by reason (docs/tcp.md).',
    Object.entries(stats.closed).map(([reason, n]): [string, number] => [`{reason="${reason}"}`, n]));
}

/**
 * A pool's tierdns_pool_members lines, kept per view: views are replaced on change, never
 * edited, so a scrape of a large store joins cached text instead of formatting every row.
 */
const poolRows = new WeakMap<PoolView, { name: string; rows: string }>();

function poolMemberRows(name: string, pool: PoolView): string {
  const hit = poolRows.get(pool);
  if (hit && hit.name === name) return hit.rows;
  const counts = { up: 0, down: 0, unknown: 0, drained: 0 };
  for (const m of pool.members) counts[m.admin === 'drained' ? 'drained' : servedVerdict(m, pool.config.check).verdict]++;
  const rows = Object.entries(counts).map(([state, n]) => `tierdns_pool_members{pool="${name}",state="${state}"} ${n}`).join('\n');
  poolRows.set(pool, { name, rows });
  return rows;
}

/**
 * The metrics listener's own limits (docs/tcp.md "The metrics listener"): a cap well below
 * the DNS listeners' so idle clients here can never take the descriptors DNS needs, and
 * timeouts so a silent or trickling client does not hold a slot.
 */
export const METRICS_LISTENER = {
  maxConnections: 64,
  /** Whole request headers within this (Node's default is 60 s). */
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  /** A connection that sends or receives nothing for this long is closed. */
  idleTimeoutMs: 10_000,
};

/** A tiny HTTP server for /metrics; any other path is 404. */
export function serveMetrics(at: ListenAddress, src: MetricsSources, log: Logger): Promise<http.Server> {
  const limits = METRICS_LISTENER;
  const server = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often the header and request timeouts are checked (Node's default is 30 s).
    connectionsCheckingInterval: 1000,
  }, (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics(src));
  });
  // Connections past the cap are closed as they are accepted (net.Server maxConnections).
  server.maxConnections = limits.maxConnections;
  server.timeout = limits.idleTimeoutMs;
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new TierdnsError('TIERDNS_E_BIND', `cannot serve metrics on ${at.host}:${at.port}: ${err.message}`)));
    server.listen(at.port, at.host, () => {
      server.removeAllListeners('error');
      server.on('error', acceptErrorLogger(log, 'metrics'));
      resolve(server);
    });
  });
}
