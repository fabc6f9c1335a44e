/**
 * One full garbage collection, for garbage that start-up leaves in the old generation (the
 * store's decoded document, the first full read, the first snapshot save), which V8 has no
 * reason to collect while the heap stays under its limit. Needs node's --expose-gc (npm start
 * and `serve --workers` pass it; docs/performance.md says what it saves); without it nothing
 * happens, since changing V8 flags after start-up is unsupported. Returns the pause in ms, or
 * undefined when there is no collector to call.
 */
export function collectGarbage(): number | undefined {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== 'function') return undefined;
  const t0 = performance.now();
  (gc as () => void)();
  return performance.now() - t0;
}
