import type { Member, MemberView, Observation, PoolConfig, Verdict, VerdictEntry } from './types';

/**
 * The shared verdict of a member: the majority of live instances' observations (docs/health.md).
 * Unknown observations do not vote; a tie, or no live vote at all, keeps the previous verdict,
 * so one instance with a broken network cannot black out a tier for everyone.
 */
export function mergeVerdict(previous: Verdict, observations: readonly Observation[], live: ReadonlySet<string>): Verdict {
  const { up, down } = countVotes(observations, live);
  if (up > down) return 'up';
  if (down > up) return 'down';
  return previous;
}

/** The live instances' votes on a member (unknown observations do not vote). */
export function countVotes(observations: readonly Observation[], live: { has(instance: string): boolean }): { up: number; down: number } {
  let up = 0;
  let down = 0;
  for (const obs of observations) {
    if (!live.has(obs.instance)) continue;
    if (obs.state === 'up') up++;
    else if (obs.state === 'down') down++;
  }
  return { up, down };
}

/**
 * A split vote: as many live instances see the member up as down, so the verdict stays what it
 * was whatever happens to the member (docs/health.md "Split votes").
 */
export function isSplit(votes: { up: number; down: number }): boolean {
  return votes.up > 0 && votes.up === votes.down;
}

/**
 * The verdict answers act on: members of a check-none pool are up whatever the store holds
 * (nothing probes or records them, so it keeps `unknown`), since they were added. Answers,
 * `status` and metrics all read it here.
 */
export function servedVerdict(m: MemberView, check: PoolConfig['check']): { verdict: Verdict; sinceMs: number } {
  return check === 'none' ? { verdict: 'up', sinceMs: m.addedAtMs } : { verdict: m.verdict, sinceMs: m.verdictSinceMs };
}


/** The verdict a member has before any instance observed it. */
export function initialVerdict(member: Member): VerdictEntry {
  return { verdict: 'unknown', sinceMs: member.addedAtMs };
}
