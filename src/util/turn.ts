// Long jobs on the serving thread (full store reads, comparisons, snapshot saves) yield between
// slices so the DNS packets waiting meanwhile are answered: setImmediate runs after pending I/O.

/**
 * Pools handled per turn by such jobs (a comparison, an encode, a decode each): small enough
 * that answers never wait long behind a slice (docs/performance.md).
 */
export const POOLS_PER_TURN = 200;

/** Resolves on the next turn of the event loop, after the I/O already waiting. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
