import type { PoolView } from '../model/types';
import { NameTable } from '../wire/nameTable';
import { PoolAnswers } from './poolAnswers';

/**
 * Every pool by wire key, plus the names above pools (so a pool's ancestors exist as empty
 * non-terminals even when the zone file does not mention them). Updated one pool at a time.
 */
export class PoolTable {
  readonly byKey = new Map<string, PoolAnswers>();
  /** The pools' names for the query decoder, so a pool's question costs no new string. */
  readonly names = new NameTable();
  private readonly byName = new Map<string, PoolAnswers>();
  private readonly ancestors = new Map<string, number>();
  /** Rotation start for new pools: spread across instances and workers. */
  private readonly start: number;

  constructor(start = 0) {
    this.start = start;
  }

  get(name: string): PoolAnswers | undefined {
    return this.byName.get(name);
  }

  /** Replace one pool (undefined removes it). */
  set(name: string, view: PoolView | undefined): void {
    const old = this.byName.get(name);
    if (old) {
      this.byName.delete(name);
      this.byKey.delete(old.key);
      this.walkAncestors(old.key, -1);
      if (!view) this.names.delete(old.key);
    }
    if (!view) return;
    const pool = new PoolAnswers(view, this.start);
    this.byName.set(name, pool);
    this.byKey.set(pool.key, pool);
    this.names.add(pool.key);
    this.walkAncestors(pool.key, +1);
  }

  /** Whether some pool lies strictly below `key`. */
  hasDescendant(key: string): boolean {
    return this.ancestors.has(key);
  }

  readonly lookup = (name: string): PoolAnswers | undefined => this.byName.get(name);

  private walkAncestors(key: string, delta: number): void {
    for (let i = key.charCodeAt(0) + 1; i <= key.length; i += key.charCodeAt(i) + 1) {
      const k = key.slice(i);
      const n = (this.ancestors.get(k) ?? 0) + delta;
      if (n > 0) this.ancestors.set(k, n);
      else this.ancestors.delete(k);
      if (i === key.length) break;
    }
  }
}
