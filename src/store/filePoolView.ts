import { decodeRawPool, own, type FileDoc } from './fileDoc';
import { buildRecord, type ReportProblem } from './decode';
import { newRecord, toPoolView } from './record';
import type { MemberView, PoolConfig, PoolView } from '../model/types';

// The file store's views of a full read's pools (fileStore.ts, snapshot): the config decoded
// at once, the members on first use.

/**
 * A pool of a full read whose config is decoded now and whose members on first use. Decoding
 * every member up front delays a large serving instance's first answer; answers need a
 * pool's members only when it is asked for (PoolAnswers builds its
 * records then), and the health loop and the state-dir save read the rest right after. The
 * document read is never edited in place, so decoding later gives what decoding now would.
 */
class LazyPoolView implements PoolView {
  /** The pool's own entry until its members are decoded (an unused view holds only its pool). */
  private raw: unknown;
  private decoded: MemberView[] | undefined;

  constructor(readonly config: PoolConfig, raw: unknown, private readonly report: ReportProblem) {
    this.raw = raw;
  }

  get members(): MemberView[] {
    if (!this.decoded) {
      this.decoded = toPoolView(decodeRawPool(this.config.name, this.raw, this.report).record ?? newRecord(this.config)).members;
      this.raw = undefined;
    }
    return this.decoded;
  }

  /** The state-dir save writes views as JSON: the members, not the private fields. */
  toJSON(): PoolView {
    return { config: this.config, members: this.members };
  }
}

export function lazyPoolView(doc: FileDoc, name: string, report: ReportProblem): PoolView | undefined {
  const raw = own(doc.pools, name);
  if (raw === undefined) return undefined;
  // The config alone, with the checks of a full decode: a pool without a usable one is skipped.
  const storedConfig = own(raw, 'config');
  const head = storedConfig === undefined
    ? undefined
    : buildRecord(name, { config: { value: storedConfig }, members: [], verdicts: [], observations: [] }, report);
  if (!head) {
    // Reported by buildRecord, or not an object at all: decodeRawPool says which.
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) decodeRawPool(name, raw, report);
    return undefined;
  }
  return new LazyPoolView(head.config, raw, report);
}
