// The probes one native TcpProber has in flight (docs/native.md), shared by the tcp check
// (./nativeProbe) and the agent read (./nativeAgent).

/**
 * Probes in flight, by slot: a probe's id is its slot, plus how often the slot was used above
 * SLOT_BITS, so a stray result cannot settle a later probe in the same slot (and an id stays a
 * small integer). Not a Map keyed by id: set/delete pairs at probing rates kept each probe's
 * promise and closures alive through young-generation collections into the old generation of
 * the probe thread, whose mark-compacts put V8's helper threads on the answering core
 * (docs/bench-history.md).
 */
const SLOT_BITS = 20;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
/** Uses per slot wrap here: 2^10 × 2^20 keeps ids below 2^30. */
const USE_MASK = (1 << 10) - 1;

export class ProbeSlots<P extends { id: number }> {
  /** How many probes may be in flight at once. */
  static readonly capacity = SLOT_MASK + 1;
  private readonly slots: Array<P | undefined> = [];
  private readonly uses: number[] = [];
  private readonly freeSlots: number[] = [];

  /** The id of a free slot for the next probe; -1 when every slot is taken. */
  take(): number {
    const slot = this.freeSlots.length > 0 ? (this.freeSlots.pop() as number) : this.slots.length;
    if (slot > SLOT_MASK) return -1;
    const use = ((this.uses[slot] ?? 0) + 1) & USE_MASK;
    this.uses[slot] = use;
    return use * (SLOT_MASK + 1) + slot;
  }

  /** The probe `id` (from take) started. */
  hold(p: P): void {
    this.slots[p.id & SLOT_MASK] = p;
  }

  /** A taken id whose probe did not start: its slot is free again. */
  release(id: number): void {
    this.freeSlots.push(id & SLOT_MASK);
  }

  /** The probe a result is for, its slot freed; undefined for a stray result. */
  settle(id: number): P | undefined {
    const slot = id & SLOT_MASK;
    const p = this.slots[slot];
    if (!p || p.id !== id) return undefined;
    this.slots[slot] = undefined;
    this.freeSlots.push(slot);
    return p;
  }
}
