import type { Observation, Verdict } from '../store/types';

/**
 * The shared verdict of a member: the majority of live instances' observations (PRODUCT.md §5).
 * Unknown observations do not vote; a tie, or no live vote at all, keeps the previous verdict,
 * so one instance with a broken network cannot black out a tier for everyone.
 */
export function mergeVerdict(previous: Verdict, observations: readonly Observation[], live: ReadonlySet<string>): Verdict {
  let up = 0;
  let down = 0;
  for (const obs of observations) {
    if (!live.has(obs.instance)) continue;
    if (obs.state === 'up') up++;
    else if (obs.state === 'down') down++;
  }
  if (up > down) return 'up';
  if (down > up) return 'down';
  return previous;
}
