// Early stopping, one rule for every trainer: the validation loss must improve by a relative
// TOLERANCE to count, the best weights are kept, and `patience` epochs without improvement stop.
/** Relative improvement of the validation loss that resets patience. */
export const TOLERANCE = 1e-4;

export interface StoppingState {
  bestLoss: number;
  bestEpoch: number;
  wait: number;
  best: Float32Array;
}

/** The state after an epoch whose validation loss is `loss`; `theta` is read only on improvement. */
export function afterEpoch(s: StoppingState, loss: number, epoch: number, theta: () => Float32Array): StoppingState {
  if (loss < s.bestLoss - TOLERANCE * Math.abs(s.bestLoss) || !Number.isFinite(s.bestLoss)) {
    return { bestLoss: loss, bestEpoch: epoch, wait: 0, best: theta().slice() };
  }
  // Only the four fields: `s` may be a whole checkpoint state, whose epoch and weights must not leak.
  return { bestLoss: s.bestLoss, bestEpoch: s.bestEpoch, wait: s.wait + 1, best: s.best };
}

export function patienceExhausted(patience: number, wait: number): boolean {
  return patience > 0 && wait >= patience;
}
