/** @jest-environment ./test/unit/ml/ort-environment.js */
// Accuracy on the bundled real datasets, evaluated through the exported ONNX model (what is
// evaluated is what is deployed), on a seeded 25% hold-out the trainer never sees.
import {
  classificationMetrics,
  exportOnnx,
  predictOnnx,
  pruneMagnitude,
  quantizeInt8,
  regressionMetrics,
  train,
  type TrainSpec,
} from '../../../lib/ml';
import { autoMpg, autoMpgFeatures, penguins, penguinsFeatures, rings, ringsFeatures, slice, split } from './data';

const common = { batchSize: 32, learningRate: 0.01, l2: 1e-4, patience: 20, validationFraction: 0.2, seed: 1 };

describe('accuracy on real data', () => {
  const p = penguins();
  const ps = split(p.length, 0.25, 42);
  const pTrain = slice(p, ps.train);
  const pTest = slice(p, ps.test);
  const yTest = pTest.columns.species as string[];

  // Reference: the species are almost linearly separable from bill and flipper measurements;
  // logistic regression and small MLPs are commonly reported at 97-100% test accuracy
  // (e.g. scikit-learn LogisticRegression on palmerpenguins). We require >= 96%.
  it.each(['linear', 'mlp'] as const)('penguins species, %s: >= 96%% hold-out accuracy', async (kind) => {
    const spec: TrainSpec = {
      ...common,
      task: 'classification',
      target: 'species',
      features: penguinsFeatures,
      model: { kind, hidden: [32] },
      epochs: 150,
    };
    const model = await train(pTrain, spec);
    const onnx = exportOnnx(model, {});
    const pred = await predictOnnx(onnx, pTest);
    const m = classificationMetrics(yTest, pred.labels!, pred.probabilities, pred.classes!);
    expect(m.accuracy).toBeGreaterThanOrEqual(0.96);
    expect(m.macroF1).toBeGreaterThanOrEqual(0.95);
    expect(m.rocAuc!).toBeGreaterThanOrEqual(0.99);

    // int8 must stay within one hold-out row (~1.2 points on 86 rows) of the float model;
    // 50% magnitude pruning within 2 rows.
    for (const [candidate, rows] of [
      [quantizeInt8(onnx), 1],
      [quantizeInt8(onnx, { style: 'integer' }), 1],
      [pruneMagnitude(onnx, 0.5), 2],
    ] as const) {
      const q = await predictOnnx(candidate, pTest);
      const acc = classificationMetrics(yTest, q.labels!, undefined, q.classes!).accuracy;
      expect(acc).toBeGreaterThanOrEqual(m.accuracy - rows / yTest.length - 1e-9);
    }
  });

  // Reference: on Auto MPG, ordinary linear regression is commonly reported at R^2 ~0.80-0.84
  // (RMSE ~3.0-3.4 mpg) and small neural networks at R^2 ~0.86-0.90 (RMSE ~2.4-2.9 mpg).
  it.each([
    ['linear', 0.78, 3.6],
    ['mlp', 0.84, 3.1],
  ] as const)('auto-mpg, %s: R2 >= %s and RMSE <= %s mpg on the hold-out', async (kind, minR2, maxRmse) => {
    const a = autoMpg();
    const s = split(a.length, 0.25, 42);
    const model = await train(slice(a, s.train), {
      ...common,
      task: 'regression',
      target: 'mpg',
      features: autoMpgFeatures,
      model: { kind, hidden: [32] },
      epochs: 300,
    });
    const test = slice(a, s.test);
    const pred = await predictOnnx(exportOnnx(model, {}), test);
    const m = regressionMetrics(test.columns.mpg as Float64Array, pred.values!);
    expect(m.r2).toBeGreaterThanOrEqual(minR2);
    expect(m.rmse).toBeLessThanOrEqual(maxRmse);
  });

  it('an MLP learns a non-linear boundary a linear model cannot', async () => {
    const frame = rings(1500, 4);
    const s = split(frame.length, 0.25, 1);
    const test = slice(frame, s.test);
    const accuracy = async (kind: 'linear' | 'mlp') => {
      const model = await train(slice(frame, s.train), {
        ...common,
        batchSize: 64,
        task: 'classification',
        target: 'y',
        features: ringsFeatures,
        model: { kind, hidden: [32, 32] },
        epochs: 80,
      });
      const pred = await predictOnnx(exportOnnx(model, {}), test);
      return classificationMetrics(test.columns.y as string[], pred.labels!, undefined, pred.classes!).accuracy;
    };
    const mlp = await accuracy('mlp');
    const linear = await accuracy('linear');
    expect(mlp).toBeGreaterThanOrEqual(0.93);
    expect(linear).toBeLessThan(0.7);
  });
});
