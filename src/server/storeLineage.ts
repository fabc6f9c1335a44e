import type { Logger } from 'pino';
import { errorMessage } from '../util/errors';
import { descendsFrom } from '../store/identity';
import type { Store, StoreIdentity, StoreSnapshot } from '../store/types';

// Which store a serving instance's copy descends from (sync.ts), and what happens when a full
// read finds a store that does not continue it (docs/store.md, "A lost store"): the loss is
// logged and counted, nothing of that read is applied, and the store is re-seeded from what the
// instance serves. A store that never had an identity is stamped with its first one.

/** What StoreSync serves, as the claim needs it. */
export interface ServedCopy {
  /** The live snapshot, updated in place: its pools are what a re-seed writes back. */
  readonly snap: StoreSnapshot;
  /** The pools came from the store (not from the state dir alone). */
  fromStore(): boolean;
  /** Serve the state dir's snapshot (no events); false when there is none. */
  serveSaved(): Promise<boolean>;
}

export class StoreLineage {
  /** The identity the snapshot's data descends from (from the state dir until a read tells). */
  knownId: string | undefined;
  /** When the store was found lost (undefined: it is not). */
  private lostSinceMs: number | undefined;
  private lossCount = 0;

  constructor(
    private readonly store: Store, private readonly log: Logger, private readonly instance: string | undefined,
    private readonly served: ServedCopy,
  ) {}

  /** Whether the store is lost now: found without this snapshot's identity and not re-seeded yet. */
  get lost(): boolean {
    return this.lostSinceMs !== undefined;
  }

  /** Losses of the store found since start. */
  get losses(): number {
    return this.lossCount;
  }

  /** A full read continues the known data (or no identity is known yet). */
  continues(fresh: StoreSnapshot): boolean {
    return descendsFrom(fresh.identity, this.knownId);
  }

  /**
   * The store read does not continue this snapshot's data: it has no identity, or one that
   * does not list this snapshot's. Unless this instance never knew one (a new store, or one
   * an older build wrote), that is a lost store: nothing of the read is applied, and the store
   * is re-seeded from what this instance serves. Resolves 'reseeded' once that is done (by this
   * instance or another: read again), the identity written for a first use, or false.
   */
  async claim(fresh: StoreSnapshot): Promise<'reseeded' | StoreIdentity | false> {
    const { snap } = this.served;
    const lostId = this.knownId;
    let lost = lostId !== undefined;
    // A state dir saved by a build without identities names no store: an empty store without
    // one, while that state dir holds pools, is a loss too.
    if (!lost && !fresh.identity && fresh.pools.size === 0) {
      if (!this.served.fromStore() && snap.pools.size === 0) await this.served.serveSaved();
      lost = snap.pools.size > 0;
    }
    if (lost && this.lostSinceMs === undefined) {
      this.lostSinceMs = Date.now();
      this.lossCount++;
      this.log.error({
        code: 'TIERDNS_E_STORE_LOST', store: this.store.description, knownId: lostId, found: fresh.identity?.id ?? null, poolsFound: fresh.pools.size,
      }, 'store: the store lost its data (its identity is gone or foreign); answers stay as they are, and the store is re-seeded from this instance\'s snapshot');
    }
    // At start nothing is served yet: what the state dir holds is both the answers and the seed.
    if (lost && !this.served.fromStore() && snap.pools.size === 0) await this.served.serveSaved();
    try {
      const pools = lost ? [...snap.pools.values()] : [];
      const result = await this.store.claimIdentity({ instance: this.instance ?? 'tierdns', lostId, pools, nowMs: Date.now() });
      if (!lost) {
        // Someone else may have stamped it first, or even re-seeded it: then read it again.
        return result.seeded ? result.identity : 'reseeded';
      }
      this.log.warn({ store: this.store.description, id: result.identity.id, by: result.identity.by, pools: pools.length },
        result.seeded ? 'store: re-seeded from this instance\'s snapshot' : 'store: re-seeded by another instance');
      return 'reseeded';
    } catch (err) {
      this.log.warn({ err: errorMessage(err), store: this.store.description }, 'store: cannot re-seed the store yet; keeping the current snapshot');
      return false;
    }
  }

  /** A read continued the known data: its identity becomes the known one. Returns it when it is new. */
  follow(id: string | undefined): string | undefined {
    if (this.lostSinceMs !== undefined) {
      this.log.info({ store: this.store.description, lostForMs: Date.now() - this.lostSinceMs }, 'store: following the re-seeded store');
      this.lostSinceMs = undefined;
    }
    if (id === undefined || id === this.knownId) return undefined;
    this.knownId = id;
    return id;
  }
}
