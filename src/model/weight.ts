import type { MemberView } from './types';

/**
 * The weight the rotation gives a member now. Members carry no load factor, so it is the
 * configured weight; metrics and the status page read it here, so they follow if that changes.
 */
export function effectiveWeight(m: MemberView): number {
  return m.weight;
}
