/** A connection as admission sees it. */
export interface Admitted {
  readonly source: string;
  /** When it last had a query answered (or was accepted). */
  readonly lastActiveMs: number;
}

export type Admission<C> =
  | { admit: true; evict?: C }
  | { admit: false; reason: 'per-source' | 'full' };

/**
 * Who may hold one of the TCP connection slots (docs/tcp.md). A source never holds more than
 * maxPerSource. When every slot is taken, a newcomer still gets in by replacing the quietest
 * connection of the source holding the most, as long as that source holds at least two more
 * than the newcomer's; failing that, the quietest connection of all if it has been quiet for
 * quietMs. So no source, or set of sources, can keep another source out by holding slots.
 * Pure bookkeeping: the caller closes what it is told to evict.
 */
export class TcpAdmission<C extends Admitted> {
  private readonly bySource = new Map<string, Set<C>>();
  private count = 0;

  constructor(private readonly limits: { maxConnections: number; maxPerSource: number; quietMs: number }) {}

  get size(): number {
    return this.count;
  }

  /** Connections held by `source`. */
  held(source: string): number {
    return this.bySource.get(source)?.size ?? 0;
  }

  /** Decide on a newcomer from `source`; call add() if admitted (after closing `evict`). */
  consider(source: string, nowMs: number): Admission<C> {
    const mine = this.held(source);
    if (mine >= this.limits.maxPerSource) return { admit: false, reason: 'per-source' };
    if (this.count < this.limits.maxConnections) return { admit: true };
    let biggest: Set<C> | undefined;
    for (const set of this.bySource.values()) if (!biggest || set.size > biggest.size) biggest = set;
    if (biggest && biggest.size >= mine + 2) return { admit: true, evict: quietest(biggest) };
    let quiet: C | undefined;
    for (const set of this.bySource.values()) {
      const q = quietest(set);
      if (q && (!quiet || q.lastActiveMs < quiet.lastActiveMs)) quiet = q;
    }
    if (quiet && nowMs - quiet.lastActiveMs >= this.limits.quietMs) return { admit: true, evict: quiet };
    return { admit: false, reason: 'full' };
  }

  add(conn: C): void {
    let set = this.bySource.get(conn.source);
    if (!set) this.bySource.set(conn.source, (set = new Set()));
    if (set.has(conn)) return;
    set.add(conn);
    this.count++;
  }

  remove(conn: C): void {
    const set = this.bySource.get(conn.source);
    if (!set?.delete(conn)) return;
    this.count--;
    if (set.size === 0) this.bySource.delete(conn.source);
  }
}

function quietest<C extends Admitted>(set: Set<C>): C | undefined {
  let best: C | undefined;
  for (const c of set) if (!best || c.lastActiveMs < best.lastActiveMs) best = c;
  return best;
}
