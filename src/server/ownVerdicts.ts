import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../health/clock';
import type { OwnState } from '../health/loopTypes';
import type { MemberView, PoolView } from '../model/types';

// Which verdicts an instance answers with (docs/health.md "While the store is
// down"). Normally the shared ones, from the store. While the store cannot be reached, shared
// verdicts cannot change, so the instance answers with its own probes' states, as a lone
// instance would: a balancer that dies during a Redis outage still leaves the answers within
// the §5 bound. When the store is back, own verdicts stay until the store holds this
// instance's votes again and agrees with them (or CATCH_UP_MAX_MS passes), so the stale
// verdicts of before the outage are never served in between.

export type VerdictSource = 'shared' | 'own' | 'catching-up';

/**
 * What the probing worker of a `serve --workers N` tells the others (through the cluster
 * primary), so every worker answers with the instance's own verdicts while the store is down.
 */
export type OwnUpdate =
  | { kind: 'own'; pool: string; ip: string; own: OwnState | null }
  | { kind: 'writes'; ok: boolean };

export interface OwnVerdictsOptions {
  /** This instance's name: its observations in the store are its votes. */
  instance: string;
  log: Logger;
  /** Put a pool's view into the answer snapshot (undefined: removed). */
  serve: (name: string, view: PoolView | undefined) => void;
  /** The store's views as last read (StoreSync's copy). */
  views: () => ReadonlyMap<string, PoolView>;
  /** When the store last answered a full read (ms since the epoch; 0: never). */
  lastSyncMs: () => number;
  /** Time and timers (default: wall clock). */
  clock?: Clock;
}

/**
 * Longest catch-up after the store returns: time enough for every instance to reconnect and
 * vote again, or to be dropped as stale (instance TTL, 5 s). A disagreement that outlasts it
 * is a real one (this instance outvoted), and the shared verdict wins.
 */
export const CATCH_UP_MAX_MS = 8000;
const CHECK_EVERY_MS = 100;

export class OwnVerdicts {
  /** Own states by pool, then member. */
  private readonly own = new Map<string, Map<string, OwnState>>();
  /** Pools now served with an own verdict that differs from the store's. */
  private readonly overlaid = new Set<string>();
  /** Pools whose store view does not yet hold and agree with this instance's votes (catching up). */
  private readonly behind = new Set<string>();
  private storeReady = true;
  private writesOk = true;
  private source: VerdictSource = 'shared';
  private catchUpFromMs = 0;
  /** When the serving connection last became ready: a full read after it sees the store as it is now. */
  private readyAtMs = 0;
  private timer: TimerHandle | undefined;
  private readonly clock: Clock;

  constructor(private readonly opts: OwnVerdictsOptions) {
    this.clock = opts.clock ?? systemClock();
  }

  /** Where served verdicts come from now (for metrics and logs). */
  get verdictSource(): VerdictSource {
    return this.source;
  }

  /** The pools as answers see them now: the store's views, with own verdicts while they apply. */
  servedPools(views: ReadonlyMap<string, PoolView>): ReadonlyMap<string, PoolView> {
    if (this.source === 'shared' || this.overlaid.size === 0) return views;
    const out = new Map(views);
    for (const name of this.overlaid) {
      const view = views.get(name);
      const own = this.own.get(name);
      if (view && own) out.set(name, withOwn(view, own));
    }
    return out;
  }

  /** The store's view of a pool changed (StoreSync 'pool'): serve it, with own verdicts when they apply. */
  pool(name: string, view: PoolView | undefined): void {
    if (this.source === 'shared') {
      this.opts.serve(name, view);
      return;
    }
    this.serveOwn(name, view);
    if (this.source === 'catching-up') this.checkPool(name);
  }

  /** An update from the probing worker (see OwnUpdate). */
  apply(u: OwnUpdate): void {
    if (u.kind === 'own') this.setOwn(u.pool, u.ip, u.own ?? undefined);
    else this.setWritesOk(u.ok);
  }

  /** This instance's own state of a member (the probe loop's onOwnState). */
  setOwn(pool: string, ip: string, own: OwnState | undefined): void {
    let members = this.own.get(pool);
    if (own) {
      if (!members) this.own.set(pool, (members = new Map()));
      members.set(ip, own);
    } else if (members) {
      members.delete(ip);
      if (members.size === 0) this.own.delete(pool);
    }
    if (this.source === 'shared') return;
    this.serveOwn(pool, this.opts.views().get(pool));
    if (this.source === 'catching-up') this.checkPool(pool);
  }

  /** The serving thread's store connection is ready (true) or not. */
  setStoreReady(ready: boolean): void {
    if (ready && !this.storeReady) this.readyAtMs = this.clock.now();
    this.storeReady = ready;
    this.update();
  }

  /** This instance's observations reach the store (true) or not (the probe loop's onWritesOk). */
  setWritesOk(ok: boolean): void {
    this.writesOk = ok;
    this.update();
  }

  stop(): void {
    this.stopTimer();
  }

  private update(): void {
    const reachable = this.storeReady && this.writesOk;
    if (!reachable && this.source !== 'own') {
      const was = this.source;
      this.source = 'own';
      this.stopTimer();
      this.behind.clear();
      if (was === 'shared') {
        this.opts.log.warn({ writesOk: this.writesOk, storeReady: this.storeReady },
          'health: store unreachable; answering with this instance\'s own verdicts until it is back');
        for (const name of this.own.keys()) this.serveOwn(name, this.opts.views().get(name));
      }
    } else if (reachable && this.source === 'own') {
      this.source = 'catching-up';
      this.catchUpFromMs = this.clock.now();
      for (const name of this.own.keys()) this.behind.add(name);
      this.armCheck();
    }
  }

  private armCheck(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.checkDone();
      if (this.source === 'catching-up') this.armCheck();
    }, CHECK_EVERY_MS);
  }

  private stopTimer(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Catching up: pools stay behind until a full read after the return and this pool's check pass, or time is up. */
  private checkDone(): void {
    if (this.source !== 'catching-up') return;
    const waitedMs = this.clock.now() - this.catchUpFromMs;
    const read = this.opts.lastSyncMs() >= this.readyAtMs;
    if (read) for (const name of [...this.behind]) this.checkPool(name);
    if (!(read && this.behind.size === 0) && waitedMs < CATCH_UP_MAX_MS) return;
    if (this.behind.size > 0) {
      this.opts.log.info({ pools: this.behind.size, waitedMs }, 'health: the store still disagrees with this instance\'s own verdicts; the shared verdicts win');
    }
    this.source = 'shared';
    this.stopTimer();
    this.behind.clear();
    for (const name of [...this.overlaid]) this.opts.serve(name, this.opts.views().get(name));
    this.overlaid.clear();
    this.opts.log.info({ waitedMs }, 'health: store reachable; answering with the shared verdicts again');
  }

  /** Whether the store's view of `name` holds this instance's votes and agrees with them. */
  private checkPool(name: string): void {
    const own = this.own.get(name);
    const view = this.opts.views().get(name);
    let caughtUp = true;
    if (own && view) {
      for (const m of view.members) {
        const mine = own.get(m.ip);
        if (!mine) continue;
        const vote = m.observations.find((o) => o.instance === this.opts.instance);
        if (!vote || vote.state !== mine.state || vote.sinceMs !== mine.sinceMs || m.verdict !== mine.state) {
          caughtUp = false;
          break;
        }
      }
    }
    if (caughtUp) this.behind.delete(name);
    else this.behind.add(name);
  }

  /** Serve the view with own verdicts where they differ from the store's. */
  private serveOwn(name: string, view: PoolView | undefined): void {
    const own = this.own.get(name);
    const served = view && own && view.config.check !== 'none' ? withOwn(view, own) : view;
    if (served !== view) this.overlaid.add(name);
    else this.overlaid.delete(name);
    this.opts.serve(name, served);
  }
}

/** The view with each member's verdict replaced by the own state, or the view itself when none differs. */
export function withOwn(view: PoolView, own: ReadonlyMap<string, OwnState>): PoolView {
  let members: MemberView[] | undefined;
  view.members.forEach((m, i) => {
    const mine = own.get(m.ip);
    if (!mine || mine.state === m.verdict) return;
    members ??= view.members.slice();
    members[i] = { ...m, verdict: mine.state, verdictSinceMs: mine.sinceMs };
  });
  return members ? { config: view.config, members } : view;
}
