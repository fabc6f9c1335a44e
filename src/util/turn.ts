// Long jobs on the serving thread (full store reads, comparisons, snapshot saves) yield between
// slices so the DNS packets waiting meanwhile are answered: setImmediate runs after pending I/O.

/** Resolves on the next turn of the event loop, after the I/O already waiting. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
