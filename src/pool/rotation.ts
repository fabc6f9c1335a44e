/**
 * Smooth weighted round-robin (nginx's algorithm): each pick adds every weight to its
 * running credit and takes the largest, which then pays the total back. A member of weight 2
 * comes first twice as often as one of weight 1, interleaved rather than in bursts.
 */
export class SmoothRotation {
  private readonly weights: Int32Array;
  private readonly credit: Int32Array;
  private readonly total: number;
  private readonly uniform: boolean;
  private next = 0;

  constructor(weights: readonly number[], start = 0) {
    this.weights = Int32Array.from(weights);
    this.credit = new Int32Array(weights.length);
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
}
