/** @jest-environment ./test/unit/ml/ort-environment.js */
// Data-parallel training without Temporal: sample-weighted averaging, and accuracy of K = 2 and
// K = 4 against the single-worker trainer on the bundled penguins data (ONNX export, hold-out).
import {
  classificationMetrics,
  exportOnnx,
  predictOnnx,
  train,
  type Frame,
  type TrainedModel,
  type TrainSpec,
} from '../../../lib/ml';
import { decodeCheckpoint } from '../../../lib/ml/checkpoint';
import {
  averageRound,
  finalizeModel,
  prepareDataParallel,
  trainShard,
  type ShardUpdate,
} from '../../../lib/trainers/data-parallel';
import { penguins, penguinsFeatures, slice, split } from '../ml/data';

/** All rounds in this process, shards one after another: the activities' sequence, without Temporal. */
async function trainDataParallelLocal(frame: Frame, spec: TrainSpec, workers: number): Promise<TrainedModel> {
  const p = prepareDataParallel(frame, spec, workers);
  let global = p.global;
  for (let round = 1; round <= spec.epochs; round++) {
    const state = decodeCheckpoint(global);
    const updates: ShardUpdate[] = [];
    for (const [i, shard] of p.shards.entries()) updates.push(await trainShard(p.plan, shard, state, i, round));
    const next = averageRound(p.plan, state, updates, p.val, round, 1);
    global = next.global;
    if (next.summary.stop) break;
  }
  return finalizeModel(p.plan, decodeCheckpoint(global));
}

const spec: TrainSpec = {
  task: 'classification',
  target: 'species',
  features: penguinsFeatures,
  model: { kind: 'mlp', hidden: [16] },
  epochs: 60,
  batchSize: 16,
  learningRate: 0.01,
  l2: 1e-4,
  patience: 0,
  validationFraction: 0.15,
  seed: 3,
};

/**
 * Stated tolerance: data-parallel accuracy is within 3 points of single-worker accuracy on the
 * hold-out (about 2.5 rows of 86), and both stay >= 95%.
 */
const TOLERANCE = 0.03;

describe('data-parallel training', () => {
  const p = penguins();
  const s = split(p.length, 0.25, 42);
  const trainFrame = slice(p, s.train);
  const test = slice(p, s.test);
  const y = test.columns.species as string[];
  const accuracy = async (model: Awaited<ReturnType<typeof train>>) => {
    const pred = await predictOnnx(exportOnnx(model, {}), test);
    return classificationMetrics(y, pred.labels!, pred.probabilities, pred.classes!).accuracy;
  };

  it('averages shard states weighted by samples', () => {
    const prep = prepareDataParallel(trainFrame, { ...spec, epochs: 1 }, 2);
    const P = prep.plan.parameters;
    const state = decodeCheckpoint(prep.global);
    const upd = (value: number, samples: number): ShardUpdate => ({
      theta: new Float32Array(P).fill(value),
      m: new Float32Array(P).fill(value),
      v: new Float32Array(P).fill(value),
      step: 5,
      samples,
      lossSum: samples,
    });
    const { global, summary } = averageRound(prep.plan, state, [upd(1, 1), upd(5, 3)], prep.val, 1, 1);
    const next = decodeCheckpoint(global);
    expect(next.theta[0]).toBeCloseTo(4, 6); // (1*1 + 5*3) / 4
    expect(next.v[P - 1]).toBeCloseTo(4, 6);
    expect(next.epoch).toBe(1);
    expect(summary.trainLoss).toBeCloseTo(1, 9);
    expect(summary.stop).toBe(true);
  });

  it('shards partition the training rows', () => {
    const prep = prepareDataParallel(trainFrame, spec, 3);
    const rows = prep.plan.shardRows.reduce((a, b) => a + b, 0);
    expect(rows + prep.plan.valRows).toBe(trainFrame.length);
    expect(Math.max(...prep.plan.shardRows) - Math.min(...prep.plan.shardRows)).toBeLessThanOrEqual(1);
  });

  it(`K = 2 and K = 4 match single-worker accuracy within ${TOLERANCE}`, async () => {
    const single = await accuracy(await train(trainFrame, spec));
    const k2 = await accuracy(await trainDataParallelLocal(trainFrame, spec, 2));
    const k4 = await accuracy(await trainDataParallelLocal(trainFrame, spec, 4));
    expect(single).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(k2 - single)).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.abs(k4 - single)).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.min(k2, k4)).toBeGreaterThanOrEqual(0.95);
  });
});
