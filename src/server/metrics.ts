import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { typeName } from '../wire/constants';
import type { QueryStats } from '../dns/handler';
import type { TcpStats } from '../dns/tcpServer';
import { PROBE_LATENCY_BUCKETS_MS, type ProbeStats } from '../health/probeStats';
import type { PoolView } from '../model/types';
import type { StoreStatus } from '../store/types';
import type { VerdictSource } from './ownVerdicts';
import { writePoolMetrics } from './poolMetrics';
import { textCollector, type WriteText } from './textStream';

// Metrics as docs/metrics.md lists them. Answering a query only bumps the plain counters of
// QueryStats; prom-client reads them here, at scrape time, in collect() callbacks. Pool and
// member series are text built by poolMetrics.ts and written a slice of pools at a time:
// prom-client builds every labelled sample in one go, which at tens of thousands of members
// holds the thread that answers queries far too long (docs/metrics.md, "Cost").

const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH'];

export interface StoreState {
  status: StoreStatus;
  /** Pools as answers see them now. */
  pools: ReadonlyMap<string, PoolView>;
  /** Live instances (fresh heartbeat) by name -> last heartbeat ms. */
  instances: ReadonlyMap<string, number>;
  /** Whose verdicts answers use (docs/health.md); absent: the shared ones. */
  verdicts?: VerdictSource;
  /** The store lost its data and is not re-seeded yet (docs/store.md). */
  lost?: boolean;
  /** Such losses found since start. */
  losses?: number;
  /** When this instance last knew its copy matched the store (0: never). */
  lastSyncMs: number;
}

export interface MetricsSources {
  queries: QueryStats;
  store: () => StoreState;
  probes?: () => ProbeStats;
  /** DNS-over-TCP connections (docs/tcp.md). */
  tcp?: { readonly open: number; readonly stats: TcpStats };
  version: string;
}

/** Bucket counts kept elsewhere (not cumulative, one more than `boundsSeconds` for the rest). */
interface Buckets {
  boundsSeconds: readonly number[];
  counts: ArrayLike<number>;
  sumSeconds: number;
}

/**
 * A histogram whose buckets are counted elsewhere (QueryStats, the probe thread), as text:
 * prom-client's Histogram counts observe() calls itself, which the answering thread must not make.
 */
function histogramText(name: string, help: string, b: Buckets): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  let cumulative = 0;
  b.boundsSeconds.forEach((le, i) => {
    cumulative += b.counts[i] ?? 0;
    lines.push(`${name}_bucket{le="${le}"} ${cumulative}`);
  });
  cumulative += b.counts[b.boundsSeconds.length] ?? 0;
  lines.push(`${name}_bucket{le="+Inf"} ${cumulative}`, `${name}_sum ${b.sumSeconds}`, `${name}_count ${cumulative}`);
  return lines.join('\n') + '\n';
}

/** A counter that is a read of a number kept elsewhere, per label set. */
function sourcedCounter(registry: Registry, name: string, help: string, labelNames: string[], read: () => [Record<string, string>, number][]): void {
  new Counter({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, n] of read()) this.inc(labels, n);
    },
  });
}

function sourcedGauge(registry: Registry, name: string, help: string, labelNames: string[], read: () => [Record<string, string>, number][]): void {
  new Gauge({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, n] of read()) this.set(labels, n);
    },
  });
}

function tcpMetrics(r: Registry, tcp: NonNullable<MetricsSources['tcp']>): void {
  const { stats } = tcp;
  sourcedGauge(r, 'tierdns_tcp_connections', 'DNS-over-TCP connections open.', [], () => [[{}, tcp.open]]);
  sourcedCounter(r, 'tierdns_tcp_accepted_total', 'DNS-over-TCP connections accepted.', [], () => [[{}, stats.accepted]]);
  sourcedCounter(r, 'tierdns_tcp_refused_total', 'DNS-over-TCP connections reset at accept: source at its cap, or every slot busy (docs/tcp.md).', ['reason'],
    () => [[{ reason: 'per-source' }, stats.refusedPerSource], [{ reason: 'full' }, stats.refusedFull]]);
  sourcedCounter(r, 'tierdns_tcp_closed_total', 'DNS-over-TCP connections closed by the server, by reason (docs/tcp.md).', ['reason'],
    () => Object.entries(stats.closed).map(([reason, n]): [Record<string, string>, number] => [{ reason }, n]));
}

/** One instance's metrics: a prom-client registry of its own, and the pool series beside it. */
export class Metrics {
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  private readonly registry = new Registry();

  constructor(private readonly src: MetricsSources) {
    const r = this.registry;
    const q = src.queries;
    sourcedGauge(r, 'tierdns_build_info', 'The running tierdns: version and Node.js version; always 1.', ['version', 'node'],
      () => [[{ version: src.version, node: process.versions.node }, 1]]);
    sourcedCounter(r, 'tierdns_queries_total', 'Queries answered, by QTYPE (types of 256 and above as "other").', ['qtype'], () => {
      const rows: [Record<string, string>, number][] = [];
      q.byType.forEach((n, i) => n && rows.push([{ qtype: i === 256 ? 'other' : typeName(i) }, n]));
      return rows;
    });
    sourcedCounter(r, 'tierdns_answers_total', 'Responses sent, by RCODE.', ['rcode'], () => {
      const rows: [Record<string, string>, number][] = [];
      q.byRcode.forEach((n, i) => n && rows.push([{ rcode: RCODE_NAMES[i] ?? String(i) }, n]));
      return rows;
    });
    sourcedCounter(r, 'tierdns_queries_dropped_total', 'Packets dropped unanswered (shorter than a header, or QR=1).', [], () => [[{}, q.dropped]]);
    sourcedCounter(r, 'tierdns_answer_failures_total', 'Answers that threw and became SERVFAIL.', [], () => [[{}, q.failures]]);
    sourcedCounter(r, 'tierdns_rrl_dropped_total', 'UDP answers dropped by response rate limiting (docs/rrl.md).', [], () => [[{}, q.rrlDropped]]);
    sourcedCounter(r, 'tierdns_rrl_slipped_total', 'UDP answers response rate limiting sent truncated (TC=1) instead.', [], () => [[{}, q.rrlSlipped]]);
    if (src.tcp) tcpMetrics(r, src.tcp);
    if (src.probes) {
      const probes = src.probes;
      sourcedCounter(r, 'tierdns_probes_total', 'Health probes run by this instance, by result.', ['result'], () => {
        const p = probes();
        return [[{ result: 'ok' }, p.ok], [{ result: 'failed' }, p.failed]];
      });
    }
    sourcedGauge(r, 'tierdns_store_up', 'Whether the store is reachable now (1) or not (0).', [],
      () => [[{}, src.store().status === 'ready' ? 1 : 0]]);
    sourcedGauge(r, 'tierdns_store_lost', 'Whether the store lost its data (its identity) and is not re-seeded yet (1) or not (0).', [],
      () => [[{}, src.store().lost ? 1 : 0]]);
    sourcedCounter(r, 'tierdns_store_losses_total', 'Times this instance found the store had lost its data.', [],
      () => [[{}, src.store().losses ?? 0]]);
    sourcedGauge(r, 'tierdns_own_verdicts', 'Whether answers use this instance\'s own verdicts (1: the store is or was just unreachable) or the shared ones (0).', [],
      () => {
        const v = src.store().verdicts;
        return [[{}, v === undefined || v === 'shared' ? 0 : 1]];
      });
    sourcedGauge(r, 'tierdns_store_last_sync_timestamp_seconds', 'When this instance last knew its copy matched the store: a full read, or a periodic check that no change was missed (Unix time; 0 = never since start).', [],
      () => [[{}, src.store().lastSyncMs / 1000]]);
    sourcedGauge(r, 'tierdns_live_instances', 'Instances with a fresh heartbeat in the store.', [],
      () => [[{}, src.store().instances.size]]);
    sourcedGauge(r, 'tierdns_pools', 'Pools this instance serves.', [], () => [[{}, src.store().pools.size]]);
    // process_* (CPU, RSS, file descriptors, start time) and nodejs_* (heap, event loop, GC).
    collectDefaultMetrics({ register: r });
    // Gauges named like counters, which promtool rejects; nodejs_active_{handles,requests,resources}
    // by type say the same.
    for (const name of LINT_FAILING_DEFAULTS) r.removeSingleMetric(name);
  }

  /** The exposition: the registry's metrics, the histograms, then the pool and member series. */
  async write(write: WriteText): Promise<void> {
    const { queries: q, probes } = this.src;
    let head = await this.registry.metrics();
    head += histogramText('tierdns_answer_duration_seconds', 'Time to compute an answer, sampled on 1 query in 64.', {
      boundsSeconds: q.latencyBucketsUs.map((us) => us / 1e6),
      counts: q.latencyCounts,
      sumSeconds: q.latencySumUs / 1e6,
    });
    if (probes) {
      const p = probes();
      head += histogramText('tierdns_probe_duration_seconds', 'Time health probes of this instance took, failed ones included.', {
        boundsSeconds: PROBE_LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
        counts: p.latencyCounts,
        sumSeconds: p.latencySumMs / 1000,
      });
    }
    await write(head);
    const { pools, instances } = this.src.store();
    await writePoolMetrics(pools, instances, write);
  }

  /** The whole exposition as one string (tests, small stores). */
  async text(): Promise<string> {
    const out = textCollector();
    await this.write(out.write);
    return out.text();
  }
}
