// The validation metric every trainer reports per epoch: accuracy for classification, R^2 for
// regression (on the standardised target, which leaves R^2 unchanged). Computed from logits.
import type { Head } from '../types';

export function metricFromLogits(head: Head, logits: ArrayLike<number>, y: Float32Array, n: number): number {
  if (head === 'identity') {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += y[i];
    mean /= n;
    let se = 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      se += (y[i] - logits[i]) ** 2;
      ss += (y[i] - mean) ** 2;
    }
    return ss === 0 ? 0 : 1 - se / ss;
  }
  let correct = 0;
  if (head === 'sigmoid') {
    for (let i = 0; i < n; i++) if ((logits[i] > 0 ? 1 : 0) === y[i]) correct++;
  } else {
    const k = logits.length / n;
    for (let i = 0; i < n; i++) {
      let bestC = 0;
      for (let c = 1; c < k; c++) if (logits[i * k + c] > logits[i * k + bestC]) bestC = c;
      if (y[i * k + bestC] === 1) correct++;
    }
  }
  return correct / n;
}
