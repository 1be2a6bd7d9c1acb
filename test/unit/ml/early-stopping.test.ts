// Early stopping's state transitions. Data-parallel training passes a whole checkpoint state in,
// so a transition that spread its input would carry the previous epoch and weights into the next
// checkpoint (it did once: rounds stopped advancing and a 30-round run ended after 11).
import { afterEpoch, patienceExhausted, TOLERANCE } from '../../../lib/ml/train/early-stopping';

const theta = () => Float32Array.from([1, 2, 3]);

describe('early stopping', () => {
  const start = { bestLoss: 1, bestEpoch: 1, wait: 0, best: Float32Array.from([0, 0, 0]) };

  it('keeps the weights of an epoch that improves by more than the tolerance', () => {
    const next = afterEpoch(start, 0.5, 2, theta);
    expect(next).toEqual({ bestLoss: 0.5, bestEpoch: 2, wait: 0, best: Float32Array.from([1, 2, 3]) });
  });

  it('counts an epoch within the tolerance as no improvement, returning only its own four fields', () => {
    const checkpoint = { ...start, epoch: 7, step: 70, theta: Float32Array.from([9]), history: [] };
    const next = afterEpoch(checkpoint, 1 - TOLERANCE / 2, 8, theta);
    expect(next).toEqual({ bestLoss: 1, bestEpoch: 1, wait: 1, best: start.best });
  });

  it('stops once patience epochs passed without improvement, and never with patience 0', () => {
    expect(patienceExhausted(2, 1)).toBe(false);
    expect(patienceExhausted(2, 2)).toBe(true);
    expect(patienceExhausted(0, 100)).toBe(false);
  });
});
