// The fleet benchmarks' data: Gaussian clusters, `classes` centres in `d` dimensions spread by
// `spread`, unit noise, seeded (label column `label`, features `x0`..).
import { rng } from '../../lib/workflow-safe/rng';
import type { Frame } from '../../lib/ml/types';

export function gaussianClusters(n: number, d: number, classes: number, seed: number, spread: number): Frame {
  const r = rng(seed, 'bench-fleets');
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => gauss() * spread));
  const cols: Float64Array[] = Array.from({ length: d }, () => new Float64Array(n));
  const label: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * classes);
    label[i] = `c${c}`;
    for (let j = 0; j < d; j++) cols[j][i] = centres[c][j] + gauss();
  }
  const columns: Frame['columns'] = { label };
  cols.forEach((c, j) => (columns[`x${j}`] = c));
  return { length: n, columns };
}
