/** @jest-environment ./test/unit/ml/ort-environment.js */
// The building blocks of data-parallel training: warm-started shard training and sample-weighted
// averaging. Rounds of (train each shard from the average, average again) reach the accuracy of
// single-worker training within a stated tolerance.
import { averageModels, classificationMetrics, predict, train, type TrainSpec } from '../../../lib/ml';
import { penguins, penguinsFeatures, slice, split } from './data';

describe('data-parallel rounds', () => {
  it('two shards with weight averaging match single-worker accuracy within 3 hold-out rows', async () => {
    const p = penguins();
    const s = split(p.length, 0.25, 42);
    const trainF = slice(p, s.train);
    const test = slice(p, s.test);
    const y = test.columns.species as string[];
    const spec: TrainSpec = {
      task: 'classification',
      target: 'species',
      features: penguinsFeatures,
      model: { kind: 'mlp', hidden: [16] },
      epochs: 30,
      batchSize: 32,
      learningRate: 0.01,
      l2: 1e-4,
      patience: 0,
      validationFraction: 0,
      seed: 3,
    };
    const accuracy = (m: Parameters<typeof predict>[0]) => {
      const pr = predict(m, test);
      return classificationMetrics(y, pr.labels!, undefined, pr.classes!).accuracy;
    };
    const single = accuracy(await train(trainF, spec));

    // Round 0 fits preprocessing and labels on all training rows; shards then warm-start from it.
    let global = await train(trainF, { ...spec, epochs: 1 });
    const round0 = global;
    const half = Math.floor(trainF.length / 2);
    const shards = [
      slice(
        trainF,
        Array.from({ length: half }, (_, i) => i)
      ),
      slice(
        trainF,
        Array.from({ length: trainF.length - half }, (_, i) => half + i)
      ),
    ];
    for (let round = 0; round < 6; round++) {
      const parts = [];
      for (const [k, shard] of shards.entries()) {
        parts.push(await train(shard, { ...spec, epochs: 5, seed: 100 * round + k }, { initialModel: global }));
      }
      global = averageModels(
        parts,
        shards.map((sh) => sh.length)
      );
    }
    expect(global.preprocessing).toEqual(round0.preprocessing);
    expect(accuracy(global)).toBeGreaterThanOrEqual(single - 3 / y.length);
    expect(accuracy(global)).toBeGreaterThanOrEqual(0.95);
  });

  it('averaging is sample-weighted and checks architectures', async () => {
    const p = penguins();
    const spec: TrainSpec = {
      task: 'classification',
      target: 'species',
      features: penguinsFeatures,
      model: { kind: 'linear' },
      epochs: 1,
      batchSize: 32,
      learningRate: 0.01,
      l2: 0,
      patience: 0,
      validationFraction: 0,
      seed: 1,
    };
    const a = await train(p, spec);
    const b = await train(p, { ...spec, seed: 2, learningRate: 0.1 });
    const avg = averageModels([a, b], [3, 1]);
    const i = 5;
    expect(avg.layers[0].weights[i]).toBeCloseTo(0.75 * a.layers[0].weights[i] + 0.25 * b.layers[0].weights[i], 6);
    const mlp = await train(p, { ...spec, model: { kind: 'mlp', hidden: [4] } });
    expect(() => averageModels([a, mlp])).toThrow(/different architecture/);
  });
});
