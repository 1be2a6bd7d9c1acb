import {
  applyTrial,
  bestTrial,
  gridTrials,
  planTrials,
  randomTrials,
} from '../../../lib/workflow-safe/hyperparameter-search';

describe('search plans', () => {
  it('grid: every combination in a stable order, capped', () => {
    const t = gridTrials({ learningRate: [0.1, 0.01], hidden: [[8], [16]] }, 10);
    expect(t).toEqual([
      { hidden: [8], learningRate: 0.1 },
      { hidden: [8], learningRate: 0.01 },
      { hidden: [16], learningRate: 0.1 },
      { hidden: [16], learningRate: 0.01 },
    ]);
    expect(gridTrials({ a: [1, 2, 3], b: [1, 2, 3] }, 4)).toHaveLength(4);
    expect(() => gridTrials({ a: { min: 0, max: 1 } }, 4)).toThrow(/grid search needs a list/);
  });

  it('random: seeded, within ranges, integer and log ranges honoured', () => {
    const space = {
      learningRate: { min: 1e-4, max: 1e-1, log: true },
      batchSize: { min: 8, max: 64, integer: true },
      hidden: [[8], [32]],
    };
    const a = randomTrials(space, 20, 7);
    expect(randomTrials(space, 20, 7)).toEqual(a);
    expect(randomTrials(space, 20, 8)).not.toEqual(a);
    for (const t of a) {
      expect(t.learningRate as number).toBeGreaterThanOrEqual(1e-4);
      expect(t.learningRate as number).toBeLessThanOrEqual(1e-1);
      expect(Number.isInteger(t.batchSize)).toBe(true);
    }
    expect(planTrials({ method: 'random', space, trials: 3, seed: 1 })).toHaveLength(3);
  });

  it('applies a trial to the trainer, params.* into params', () => {
    const t = applyTrial({ learningRate: 0.1, params: { a: 1 } }, { learningRate: 0.5, 'params.b': 'x' });
    expect(t).toEqual({ learningRate: 0.5, params: { a: 1, b: 'x' } });
  });

  it('best trial by metric; failed trials ignored; none -> null', () => {
    const ok = (index: number, metric: number) => ({ index, values: {}, status: 'succeeded' as const, metric });
    const failed = { index: 9, values: {}, status: 'failed' as const, metric: null, error: 'x' };
    expect(bestTrial([ok(0, 0.8), failed, ok(2, 0.9), ok(3, 0.9)])?.index).toBe(2);
    expect(bestTrial([failed])).toBeNull();
  });
});
