/**
 * Smooth weighted round-robin (nginx's algorithm): each pick adds every weight to its
 * running credit and takes the largest, which then pays the total back. A member of weight 2
 * comes first twice as often as one of weight 1, interleaved rather than in bursts. Weights are
 * integers (effective weights in hundredths, model/load.ts); credits are doubles, exact for
 * integers, so no pool size overflows them.
 */
export class SmoothRotation {
  private readonly weights: Float64Array;
  private readonly credit: Float64Array;
  private total: number;
  private uniform: boolean;
  private next = 0;

  constructor(weights: readonly number[], start = 0) {
    this.weights = Float64Array.from(weights);
    this.credit = new Float64Array(weights.length);
    this.total = weights.reduce((a, b) => a + b, 0);
    this.uniform = weights.every((w) => w === weights[0]);
    // Instances start at different points so several servers do not hand out the same first member.
    this.next = weights.length ? start % weights.length : 0;
  }

  get size(): number {
    return this.weights.length;
  }

  /** Index of the member that goes first in the next answer. */
  pick(): number {
    const n = this.weights.length;
    if (this.uniform) {
      const i = this.next;
      this.next = i + 1 === n ? 0 : i + 1;
      return i;
    }
    let best = 0;
    for (let i = 0; i < n; i++) {
      this.credit[i] += this.weights[i];
      if (this.credit[i] > this.credit[best]) best = i;
    }
    this.credit[best] -= this.total;
    return best;
  }

  /**
   * New weights for the same members (slow start ramps them), keeping where the rotation is:
   * credits always sum to 0, so shares follow the new weights from here without a restart that
   * would hand the heaviest member the next first place on every instance at once.
   */
  setWeights(weights: readonly number[]): void {
    if (weights.length !== this.weights.length) throw new Error('setWeights: the member count changed');
    this.weights.set(weights);
    this.total = weights.reduce((a, b) => a + b, 0);
    const uniform = weights.every((w) => w === weights[0]);
    // Leaving the uniform path: its position becomes credits (the next member ahead).
    if (this.uniform && !uniform) this.credit.fill(0);
    this.uniform = uniform;
  }

  /** Take over the position of `other` (the same members before a change of weights). */
  carryFrom(other: SmoothRotation): void {
    if (other.weights.length !== this.weights.length) return;
    this.credit.set(other.credit);
    this.next = other.next;
  }
}
