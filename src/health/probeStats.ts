/** Upper bounds (ms) of the probe-latency histogram's buckets; a last bucket counts the rest. */
export const PROBE_LATENCY_BUCKETS_MS: readonly number[] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/** Probe results of one instance since start, as metrics export them. */
export interface ProbeStats {
  ok: number;
  failed: number;
  latencySumMs: number;
  /** Probes per latency bucket (PROBE_LATENCY_BUCKETS_MS, then one for the rest); not cumulative. */
  latencyCounts: number[];
}

export function zeroProbeStats(): ProbeStats {
  return { ok: 0, failed: 0, latencySumMs: 0, latencyCounts: new Array<number>(PROBE_LATENCY_BUCKETS_MS.length + 1).fill(0) };
}

/** Count one probe result into `stats` (in place: the probe loop calls it per probe). */
export function countProbe(stats: ProbeStats, ok: boolean, latencyMs: number): void {
  if (ok) stats.ok++;
  else stats.failed++;
  stats.latencySumMs += latencyMs;
  let i = 0;
  while (i < PROBE_LATENCY_BUCKETS_MS.length && latencyMs > (PROBE_LATENCY_BUCKETS_MS[i] as number)) i++;
  stats.latencyCounts[i]++;
}

/** a + b, as new stats (a probe thread's earlier runs plus its current one). */
export function addProbeStats(a: ProbeStats, b: ProbeStats): ProbeStats {
  return {
    ok: a.ok + b.ok,
    failed: a.failed + b.failed,
    latencySumMs: a.latencySumMs + b.latencySumMs,
    latencyCounts: a.latencyCounts.map((n, i) => n + (b.latencyCounts[i] ?? 0)),
  };
}
