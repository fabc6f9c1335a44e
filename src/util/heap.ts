import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full garbage collection, for garbage that start-up leaves in the old generation: at
 * 10,000 pools the store's decoded document, the first full read and the first snapshot save
 * left ~20 MB that V8 had no reason to collect while the heap stayed under its limit (scale.sh:
 * RSS settled at 130 or 152 MB depending on whether a mark-compact happened to run). Returns
 * the pause in ms, or undefined where V8 would not give a collector.
 */
export function collectGarbage(): number | undefined {
  try {
    // Makes `gc` available to contexts created from now on; the main context is unchanged.
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc !== 'function') return undefined;
    const t0 = performance.now();
    (gc as () => void)();
    return performance.now() - t0;
  } catch {
    return undefined;
  }
}
