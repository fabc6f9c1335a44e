import type { LoadState, MemberView, MergedLoad, Observation, PoolConfig, PoolView } from './types';
import { servedVerdict } from './verdict';

// Steering by load (docs/steering.md): how a member's load becomes the weight answers use. The
// probe thread turns feed readings into a factor per instance (health/loadTracker.ts); the store
// merges the live instances' factors (mergeLoad, like a verdict); answers, `status` and metrics
// all compute the effective weight here, so they never disagree.

/**
 * The smallest factor of a member below capacity: a nearly full member still gets a trickle of
 * new connections (never 0 below capacity), so its share recovers as soon as it empties.
 * Chosen with the simulation (docs/steering.md).
 */
export const MIN_FACTOR = 0.05;

/** Where slow start begins: a member that comes up gets 10% of its weight (HAProxy slowstart). */
export const SLOW_START_FLOOR = 0.1;

/** Rotation weights are integers: effective weights in hundredths of a weight unit. */
export const WEIGHT_SCALE = 100;

/** Shared factors are kept to this step, so drift below it wakes no instance. */
const FACTOR_STEPS = 100;

/**
 * The load every instance serves, from the live instances' observations: the median factor
 * (one instance's odd reading does not move it) and the state most of them report. Undefined
 * when no live instance reads a feed for the member.
 */
export function mergeLoad(observations: readonly Observation[], live: ReadonlySet<string>): MergedLoad | undefined {
  const factors: number[] = [];
  let drain = 0;
  let maint = 0;
  let down = 0;
  for (const obs of observations) {
    if (!obs.load || !live.has(obs.instance)) continue;
    factors.push(obs.load.factor);
    if (obs.load.state === 'drain') drain++;
    else if (obs.load.state === 'maint') maint++;
    else if (obs.load.state === 'down') down++;
  }
  const n = factors.length;
  if (n === 0) return undefined;
  factors.sort((a, b) => a - b);
  const median = n % 2 === 1 ? (factors[(n - 1) >> 1] as number) : ((factors[n / 2 - 1] as number) + (factors[n / 2] as number)) / 2;
  // A majority out of rotation is out; it is shown as the word most of them gave.
  const state: LoadState = (drain + maint) * 2 > n ? (maint > drain ? 'maint' : 'drain') : down * 2 > n ? 'down' : 'ready';
  return { factor: quantizeFactor(median), state };
}

/** A factor on the shared step; a member below capacity never rounds to 0 (which means full). */
export function quantizeFactor(f: number): number {
  if (!(f > 0)) return 0;
  if (f >= 1) return 1;
  return Math.max(1, Math.round(f * FACTOR_STEPS)) / FACTOR_STEPS;
}

/** Same merged load (both absent counts as same). */
export function sameLoad(a: MergedLoad | undefined, b: MergedLoad | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.factor === b.factor && a.state === b.state);
}

/** Share of the weight slow start allows `sinceMs` after the member came up (1 when off or over). */
export function slowStartRamp(slowStartMs: number, upSinceMs: number, nowMs: number): number {
  if (!(slowStartMs > 0)) return 1;
  const elapsed = nowMs - upSinceMs;
  if (elapsed >= slowStartMs) return 1;
  if (elapsed <= 0) return SLOW_START_FLOOR;
  return SLOW_START_FLOOR + (1 - SLOW_START_FLOOR) * (elapsed / slowStartMs);
}

/** When a member that came up at `upSinceMs` ends its slow start (0 when it does not ramp). */
export function slowStartEndsMs(config: Pick<PoolConfig, 'slowStartMs'>, upSinceMs: number, nowMs: number): number {
  const end = upSinceMs + config.slowStartMs;
  return config.slowStartMs > 0 && end > nowMs ? end : 0;
}

/** The agent (or merged feed) keeps the member out of answers: drain/maint, or down where no probe decides. */
export function loadExcludes(m: Pick<MemberView, 'load'>, check: PoolConfig['check']): boolean {
  const state = m.load?.state;
  return state === 'drain' || state === 'maint' || (state === 'down' && check === 'none');
}

/** At or over capacity (or an agent's 0%): handed out only when every candidate is. */
export function isFull(m: Pick<MemberView, 'load'>): boolean {
  return m.load !== undefined && m.load.factor <= 0;
}

/**
 * weight × load factor × slow-start ramp, in weight units (two decimals). A full member's
 * factor does not count here: it is only handed out when all are, and then by weight.
 */
export function effectiveWeight(m: Pick<MemberView, 'weight' | 'load'>, ramp: number): number {
  const factor = m.load === undefined || m.load.factor <= 0 ? 1 : m.load.factor;
  return Math.round(m.weight * factor * ramp * WEIGHT_SCALE) / WEIGHT_SCALE;
}

/** The rotation's integer weight of an effective weight: at least 1, so every candidate is handed out. */
export function rotationWeight(effective: number): number {
  return Math.max(1, Math.round(effective * WEIGHT_SCALE));
}

/**
 * The effective weights answers use for a list of candidates (docs/steering.md):
 * full members get 0 unless every candidate is full, when all are handed out by weight, as
 * with fail-open. Slow start ramps from the time the member's served verdict became what it is.
 */
export function candidateWeights(members: readonly MemberView[], config: Pick<PoolConfig, 'check' | 'slowStartMs'>, nowMs: number): number[] {
  let allFull = true;
  for (const m of members) if (!isFull(m)) allFull = false;
  return members.map((m) => {
    if (isFull(m) && !allFull) return 0;
    return effectiveWeight(m, slowStartRamp(config.slowStartMs, servedVerdict(m, config.check).sinceMs, nowMs));
  });
}

/**
 * Each member's effective weight as answers use it now: per address family, the members
 * answers hand out (enabled, up, not kept out by the feed; when none is up and the pool fails
 * open, every enabled one) get candidateWeights; every other member 0. `status` and metrics
 * show these.
 */
export function servedWeights(view: PoolView, nowMs: number): Map<string, number> {
  const out = new Map<string, number>();
  const { config } = view;
  for (const m of view.members) out.set(m.ip, 0);
  for (const v6 of [false, true]) {
    const enabled: MemberView[] = [];
    for (const m of view.members) {
      if (m.ip.includes(':') === v6 && m.admin === 'enabled' && !loadExcludes(m, config.check)) enabled.push(m);
    }
    const up = enabled.filter((m) => servedVerdict(m, config.check).verdict === 'up');
    const list = up.length > 0 ? up : config.whenAllDown === 'all' ? enabled : [];
    const weights = candidateWeights(list, config, nowMs);
    list.forEach((m, i) => out.set(m.ip, weights[i] as number));
  }
  return out;
}

/** Until when slow start ramps some member of the pool (0: none does now). */
export function rampUntil(view: PoolView, nowMs: number): number {
  const { config } = view;
  if (!(config.slowStartMs > 0)) return 0;
  let until = 0;
  for (const m of view.members) {
    if (m.admin === 'enabled') until = Math.max(until, slowStartEndsMs(config, servedVerdict(m, config.check).sinceMs, nowMs));
  }
  return until;
}

/** A member's load as `status` and the status page show it (docs/steering.md); null without a feed. */
export interface LoadView {
  connections: number | null;
  capacity: number | null;
  /** The shared factor answers use (1 before any reading). */
  factor: number;
  state: LoadState;
  /** Why the freshest live reading failed, if it did. */
  error: string | null;
}

/** The shared factor and state, with connections and capacity from the freshest live instance's reading. */
export function loadView(m: MemberView, config: Pick<PoolConfig, 'load'>, live: { has(instance: string): boolean }): LoadView | null {
  if (config.load === 'none') return null;
  let fresh: Observation['load'];
  for (const o of m.observations) if (o.load && live.has(o.instance) && (!fresh || o.load.readMs > fresh.readMs)) fresh = o.load;
  return {
    connections: fresh?.connections ?? null, capacity: fresh?.capacity ?? null,
    factor: m.load?.factor ?? 1, state: m.load?.state ?? 'ready', error: fresh?.error ?? null,
  };
}
