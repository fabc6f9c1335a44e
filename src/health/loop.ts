import type { Logger } from 'pino';
import type { Observation, Verdict } from '../model/types';
import type { Store } from '../store/types';
import { errorMessage } from '../util/errors';
import { hostPort } from '../util/listen';
import { describeError } from './attempt';
import { systemClock, type Clock } from './clock';
import { HEARTBEAT_EVERY_MS, Heartbeat, INSTANCE_TTL_MS } from './heartbeat';
import { MemberHealth, type StateChange } from './memberHealth';
import { readLoad as realReadLoad, type LoadReading, type LoadTarget } from './loadFeed';
import { MemberLoad } from './memberLoad';
import { ObservationWriter } from './observationWriter';
import { probe as realProbe, type ProbeResult, type ProbeTarget } from './probe';
import { Scheduler } from './scheduler';
import { checkSource, isProbed, sameTarget, targetOf, timingOf } from './target';
import { countProbe, zeroProbeStats, type ProbeStats } from './probeStats';
import type { HealthLoopOptions, ProbedMember, ProbedPool } from './loopTypes';

// The probe loop of one `serve` instance (docs/health.md): probes every member of every pool
// from where this instance stands, keeps its own up/down view with rise/fall hysteresis, and
// records that view in the store, which merges the views of live instances into the verdict
// every instance serves. Failures of probes or of the store are logged; the loop goes on.

interface Tracked {
  key: string;
  pool: string;
  ip: string;
  target: ProbeTarget;
  health: MemberHealth;
  /** Bumped when the target changes, so a result for an older target is discarded. */
  generation: number;
  inFlight: boolean;
  last?: { probeMs: number; ok: boolean; latencyMs: number; error: string | undefined };
  verdict: Verdict;
  /** The member's load feed, read with every probe (pools with --load). */
  load?: MemberLoad;
}

export class HealthLoop {
  private readonly store: Store;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly probe: (target: ProbeTarget) => Promise<ProbeResult>;
  private readonly readLoad: (target: LoadTarget) => Promise<LoadReading>;
  private readonly maxInFlight: number;
  private readonly sourceAddress: string | undefined;
  private readonly members = new Map<string, Tracked>();
  private readonly pools = new Map<string, Set<string>>();
  /** Check-none pools: their members are up here by definition and not tracked. */
  private readonly unprobed = new Set<string>();
  private readonly scheduler: Scheduler;
  private readonly writer: ObservationWriter;
  /** Probes started and not yet settled. */
  private running = 0;
  /** Resolved when `running` drops to 0 (stop() waits on it). */
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly heartbeat: Heartbeat | undefined;
  private readonly counters: ProbeStats = zeroProbeStats();
  private started = false;
  private stopped = false;

  constructor(private readonly opts: HealthLoopOptions) {
    this.store = opts.store;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock();
    this.random = opts.random ?? Math.random;
    this.probe = opts.probe ?? realProbe;
    this.readLoad = opts.readLoad ?? realReadLoad;
    this.maxInFlight = opts.maxInFlight ?? 8192;
    this.sourceAddress = checkSource(opts.sourceAddress, opts.log);
    this.scheduler = new Scheduler({
      clock: this.clock,
      run: (key) => this.runProbe(key),
      canRun: () => this.running < this.maxInFlight,
      maxPerTick: opts.maxStartsPerTick,
    });
    this.heartbeat = opts.heartbeatMs === 0 ? undefined : new Heartbeat({
      store: this.store, instance: opts.instance, log: this.log, clock: this.clock, everyMs: opts.heartbeatMs ?? HEARTBEAT_EVERY_MS, ttlMs: opts.instanceTtlMs ?? INSTANCE_TTL_MS,
    });
    this.writer = new ObservationWriter(
      {
        store: this.store, log: this.log, clock: this.clock,
        refreshMs: opts.refreshMs, refreshPerSecond: opts.refreshPerSecond,
        onHealth: opts.onWritesOk,
      },
      (key, merged) => this.observationOf(key, merged),
    );
  }

  /** Probes in flight now (at most one per member). */
  get inFlight(): number {
    return this.running;
  }

  /** This instance's local state of a member (for tests and `status`-like tools). */
  localState(pool: string, ip: string): Verdict | undefined {
    if (this.unprobed.has(pool)) return 'up';
    return this.members.get(memberKey(pool, ip))?.health.state;
  }

  /** Called with the pool views at start and whenever a pool changes (view undefined = removed). Keeps schedules of unchanged members. */
  updatePool(name: string, view: ProbedPool | undefined): void {
    if (this.stopped) return;
    // Check `none` without a load feed: always up, never probed, nothing recorded (answers
    // ignore the store's verdicts for it), so nothing to track either: a start with 10,000 such
    // pools skips 40,000 schedules and state machines.
    if (view && !isProbed(view.config)) {
      for (const key of this.pools.get(name) ?? []) this.remove(key);
      this.pools.delete(name);
      this.unprobed.add(name);
      return;
    }
    this.unprobed.delete(name);
    const keys = this.pools.get(name) ?? new Set<string>();
    const seen = new Set<string>();
    for (const m of view?.members ?? []) {
      const key = memberKey(name, m.ip);
      seen.add(key);
      const existing = this.members.get(key);
      if (existing) this.refresh(existing, view as ProbedPool, m);
      else this.add(key, name, view as ProbedPool, m);
    }
    for (const key of keys) if (!seen.has(key)) this.remove(key);
    if (seen.size > 0) this.pools.set(name, seen);
    else this.pools.delete(name);
  }

  /** Probe results of this instance since start, for metrics. */
  stats(): ProbeStats {
    return { ...this.counters, latencyCounts: [...this.counters.latencyCounts] };
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.heartbeat?.start();
    for (const t of this.members.values()) this.scheduleFirst(t);
    this.writer.start();
    this.log.info({ members: this.members.size, source: this.sourceAddress }, 'health: probing');
  }

  /** Stop probing; waits for probes in flight (each ends within its timeout) and pending writes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.scheduler.stop();
    this.heartbeat?.stop();
    if (this.running > 0) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((r) => { resolve = r; });
      this.idle = { promise, resolve };
      await promise;
    }
    await this.writer.stop();
  }

  private add(key: string, pool: string, view: ProbedPool, m: ProbedMember): void {
    const now = this.clock.now();
    // Seed from this instance's stored observation, so rise/fall carry over a restart.
    const mine = m.observations.find((o) => o.instance === this.opts.instance);
    const seed = mine ? { state: mine.state, sinceMs: mine.sinceMs } : { state: 'unknown' as const, sinceMs: now };
    const t: Tracked = {
      key, pool, ip: m.ip, target: targetOf(view.config, m, this.sourceAddress), health: new MemberHealth(timingOf(view.config), seed),
      generation: 0, inFlight: false, verdict: m.verdict,
    };
    t.load = MemberLoad.update(undefined, view.config, m, this.sourceAddress, mine?.load).load;
    if (t.load) t.load.tracker.draining = m.admin === 'drained';
    this.members.set(key, t);
    this.reportOwn(t);
    if (this.started) this.scheduleFirst(t);
  }

  private refresh(t: Tracked, view: ProbedPool, m: ProbedMember): void {
    if (m.verdict !== t.verdict) {
      this.log.info({ pool: t.pool, member: t.ip, verdict: m.verdict, was: t.verdict }, `health: ${t.ip} in ${t.pool} is ${m.verdict} for every instance`);
      t.verdict = m.verdict;
    }
    const timing = timingOf(view.config);
    const fasterNow = timing.intervalMs < t.health.timing.intervalMs;
    t.health.timing = timing;
    const target = targetOf(view.config, m, this.sourceAddress);
    const load = MemberLoad.update(t.load, view.config, m, this.sourceAddress);
    t.load = load.load;
    if (t.load) t.load.tracker.draining = m.admin === 'drained';
    if (!sameTarget(target, t.target) || load.changed) {
      // Results of another kind of check do not count towards rise/fall of this one.
      if (target.kind !== t.target.kind) t.health.force(t.health.state, this.clock.now());
      t.target = target;
      t.generation++;
      if (this.started && !t.inFlight) {
        // A new check deserves a prompt first result; the old schedule may be a long interval away.
        this.scheduleFirst(t);
      }
    } else if (fasterNow && this.started && !t.inFlight) {
      // A shorter interval applies now, not after the old, longer wait.
      this.scheduleFirst(t);
    }
    // The store lost our view (this instance was stale and its votes were dropped): write it
    // again. A write queued or in flight will carry the latest anyway.
    const mine = m.observations.find((o) => o.instance === this.opts.instance);
    if (t.health.state !== 'unknown' && !this.writer.busy(t.key) && (mine?.state !== t.health.state || mine.sinceMs !== t.health.sinceMs)) {
      this.writer.changed(t.key);
    }
  }

  private remove(key: string): void {
    const t = this.members.get(key);
    if (t && t.health.state !== 'unknown') this.opts.onOwnState?.(t.pool, t.ip, undefined);
    this.members.delete(key);
    this.scheduler.cancel(key);
    this.writer.forget(key);
  }

  private scheduleFirst(t: Tracked): void {
    const due = this.clock.now() + t.health.firstDelayMs(this.random);
    const current = this.scheduler.dueOf(t.key);
    if (current === undefined || due < current) this.scheduler.schedule(t.key, due);
  }

  private runProbe(key: string): void {
    const t = this.members.get(key);
    if (!t || t.inFlight || this.stopped) return;
    t.inFlight = true;
    const startedMs = this.clock.now();
    const generation = t.generation;
    this.running++;
    // One then() per probe: a catch/then/catch/finally chain allocates a promise and a closure
    // per step, for every probe.
    let promise: Promise<ProbeResult>;
    try {
      promise = this.probe(t.target);
    } catch (err) {
      promise = Promise.reject(err);
    }
    if (t.load) {
      this.withLoad(t, generation, startedMs, promise, t.load.target);
      return;
    }
    promise.then(
      (result) => this.settled(t, generation, startedMs, result, undefined),
      (err: unknown) => this.settled(t, generation, startedMs, undefined, err),
    );
  }

  /** The probe and the load read run side by side; the member's result waits for both (each bounded by the timeout). */
  private withLoad(t: Tracked, generation: number, startedMs: number, probed: Promise<ProbeResult>, target: LoadTarget): void {
    let reading: Promise<LoadReading>;
    try {
      reading = this.readLoad(target);
    } catch (err) {
      reading = Promise.resolve({ ok: false, error: describeError(err), latencyMs: 0 });
    }
    Promise.all([probed, reading]).then(
      ([result, load]) => {
        try {
          if (generation === t.generation && this.members.get(t.key) === t) result = this.onLoad(t, load, result);
        } catch (err) {
          this.log.error({ pool: t.pool, member: t.ip }, `health: internal error in a load read: ${errorMessage(err)}`);
        }
        this.settled(t, generation, startedMs, result, undefined);
      },
      (err: unknown) => this.settled(t, generation, startedMs, undefined, err),
    );
  }

  /** Take a load reading; returns the probe result as the agent's word makes it (down = a failed probe). */
  private onLoad(t: Tracked, reading: LoadReading, result: ProbeResult): ProbeResult {
    if (!t.load) return result;
    const news = t.load.take(reading, this.clock.now(), this.log, t.pool, t.ip);
    if (news === 'changed') this.writer.changed(t.key);
    else if (news === 'moved') this.writer.loadMoved(t.key);
    if (t.load.agentDown && result.ok) return { ok: false, latencyMs: result.latencyMs, error: 'agent says down' };
    return result;
  }

  /** A probe's end, whatever happened (`result`, or the probe's throw): the bookkeeping runs even if recording it throws. */
  private settled(t: Tracked, generation: number, startedMs: number, result: ProbeResult | undefined, thrown: unknown): void {
    try {
      this.onResult(t, generation, startedMs, result ?? { ok: false, latencyMs: 0, error: describeError(thrown) });
    } catch (err) {
      try {
        this.log.error({ pool: t.pool, member: t.ip }, `health: internal error: ${errorMessage(err)}`);
      } catch {
        // Nothing more to do: the probe still ends below.
      }
    } finally {
      t.inFlight = false;
      if (--this.running === 0 && this.idle) {
        this.idle.resolve();
        this.idle = undefined;
      }
      this.scheduler.kick();
    }
  }

  private onResult(t: Tracked, generation: number, startedMs: number, result: ProbeResult): void {
    t.inFlight = false;
    if (this.stopped || this.members.get(t.key) !== t) return;
    const now = this.clock.now();
    if (generation !== t.generation) {
      // The check changed while this probe ran: probe the new one instead of counting this one.
      this.scheduleFirst(t);
      return;
    }
    // Updated in place: a new object per probe lived until the next one (2 s), so every one
    // was promoted and left for a mark-compact of the probe thread.
    const last = (t.last ??= { probeMs: 0, ok: false, latencyMs: 0, error: undefined });
    last.probeMs = startedMs;
    last.ok = result.ok;
    last.latencyMs = result.latencyMs;
    last.error = result.error;
    countProbe(this.counters, result.ok, result.latencyMs);
    const change = t.health.record(result.ok, now);
    if (change) this.changed(t, change, result.error);
    else {
      if (!result.ok && this.log.isLevelEnabled('debug')) {
        this.log.debug({ pool: t.pool, member: t.ip, port: t.target.port, error: result.error, state: t.health.state },
          `health: probe of ${hostPort(t.ip, t.target.port)} in ${t.pool} failed: ${result.error ?? 'unknown'}`);
      }
      this.writer.probed(t.key);
    }
    // Period from probe start to probe start; a probe that ran past it is followed at once.
    this.scheduler.schedule(t.key, Math.max(startedMs + t.health.nextDelayMs(this.random), now));
  }

  private changed(t: Tracked, change: StateChange, error: string | undefined): void {
    const why = change.to === 'down' ? ` (${change.streak} failure${change.streak === 1 ? '' : 's'}: ${error ?? 'unknown'})`
      : change.streak > 0 ? ` (${change.streak} success${change.streak === 1 ? '' : 'es'})` : '';
    this.log.info({ pool: t.pool, member: t.ip, port: t.target.port, check: t.target.kind, from: change.from, to: change.to, error },
      `health: ${hostPort(t.ip, t.target.port)} in ${t.pool} is ${change.to} here${why}`);
    this.reportOwn(t);
    this.writer.changed(t.key);
  }

  private reportOwn(t: Tracked): void {
    const { state, sinceMs } = t.health;
    if (state !== 'unknown') this.opts.onOwnState?.(t.pool, t.ip, { state, sinceMs });
  }

  private observationOf(key: string, merged: boolean): { pool: string; ip: string; obs: Observation } | undefined {
    const t = this.members.get(key);
    if (!t || t.health.state === 'unknown') return undefined;
    const obs: Observation = { instance: this.opts.instance, state: t.health.state, sinceMs: t.health.sinceMs };
    if (t.last) {
      obs.lastProbeMs = t.last.probeMs;
      obs.lastOk = t.last.ok;
      obs.lastLatencyMs = t.last.latencyMs;
      if (t.last.error !== undefined) obs.lastError = t.last.error;
    }
    // Only a write that recomputes the shared load makes it known; a refresh does not.
    const load = t.load?.observation(merged, this.clock.now());
    if (load) obs.load = load;
    return { pool: t.pool, ip: t.ip, obs };
  }
}

export function memberKey(pool: string, ip: string): string {
  return `${pool}|${ip}`;
}
