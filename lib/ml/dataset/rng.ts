// Seeded randomness for datasets: the generator and shuffle are lib/workflow-safe/rng's (one
// implementation for the whole project); the normal draw is only needed here.
import type { mulberry32 } from '../../workflow-safe/rng';

export { mulberry32, shuffleInPlace } from '../../workflow-safe/rng';

export type Rng = ReturnType<typeof mulberry32>;

/** Standard normal draw (Box-Muller). */
export function gaussian(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}
