/** @jest-environment ./test/unit/ml/ort-environment.js */
import {
  exportOnnx,
  predict,
  predictOnnx,
  quantizeInt8,
  readOnnxMetadata,
  train,
  type TrainSpec,
} from '../../../lib/ml';
import { decodeModel } from '../../../lib/ml/onnx/proto';
import { autoMpg, autoMpgFeatures, penguins, penguinsFeatures, rings, ringsFeatures } from './data';

const base = {
  epochs: 15,
  batchSize: 32,
  learningRate: 0.01,
  l2: 1e-4,
  patience: 5,
  validationFraction: 0.2,
  seed: 11,
};

/** Rows the training data never had: unseen and missing categories, missing numbers. */
const oddRows = {
  length: 3,
  columns: {
    bill_length_mm: Float64Array.from([NaN, 45, 50]),
    bill_depth_mm: Float64Array.from([17, NaN, 15]),
    flipper_length_mm: Float64Array.from([190, 210, NaN]),
    body_mass_g: Float64Array.from([3500, 4800, 5200]),
    island: ['Atlantis', null, 'Biscoe'],
    sex: [null, 'female', 'unknown'],
  },
};

function expectClose(a: Float32Array, b: Float32Array, tol: number) {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  expect(max).toBeLessThanOrEqual(tol);
}

describe('ONNX export', () => {
  it('multiclass MLP: onnxruntime predictions equal the trainer within 1e-4, with preprocessing inside', async () => {
    const frame = penguins();
    const spec: TrainSpec = {
      ...base,
      task: 'classification',
      target: 'species',
      features: penguinsFeatures,
      model: { kind: 'mlp', hidden: [16, 8] },
    };
    const model = await train(frame, spec);
    const onnx = exportOnnx(model, { runId: 'run-1', datasetSha256: 'abc' });
    for (const f of [frame, oddRows]) {
      const mine = predict(model, f);
      const theirs = await predictOnnx(onnx, f);
      expect(theirs.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
      expectClose(theirs.probabilities!, mine.probabilities!, 1e-4);
      expect(theirs.labels).toEqual(mine.labels);
    }
  });

  it('binary logistic regression and linear regression match too', async () => {
    const frame = rings(600, 2);
    frame.columns.binary = (frame.columns.y as string[]).map((v) => (v === 'in' ? 'in' : 'out'));
    const logistic = await train(frame, {
      ...base,
      task: 'classification',
      target: 'binary',
      features: ringsFeatures,
      model: { kind: 'linear' },
    });
    expect(logistic.head).toBe('sigmoid');
    const p1 = await predictOnnx(exportOnnx(logistic, {}), frame);
    const p2 = predict(logistic, frame);
    expectClose(p1.probabilities!, p2.probabilities!, 1e-4);

    const mpg = autoMpg();
    const reg = await train(mpg, {
      ...base,
      task: 'regression',
      target: 'mpg',
      features: autoMpgFeatures,
      model: { kind: 'mlp', hidden: [8] },
    });
    const v1 = (await predictOnnx(exportOnnx(reg, {}), mpg)).values!;
    const v2 = predict(reg, mpg).values!;
    // float32 output of values around 10-45 mpg: 1e-4 absolute is ~10 ulps
    expectClose(v1, v2, 1e-4);
  });

  it('writes opset >= 17 and metadata with the feature schema, labels and lineage', async () => {
    const frame = penguins();
    const model = await train(frame, {
      ...base,
      epochs: 2,
      task: 'classification',
      target: 'species',
      features: penguinsFeatures,
      model: { kind: 'linear' },
    });
    const onnx = exportOnnx(model, { runId: 'run-7', datasetSha256: 'f204db2c', codeVersion: 'abc123' });
    const proto = decodeModel(onnx);
    expect(proto.opsetImport.find((o) => (o.domain ?? '') === '')!.version).toBeGreaterThanOrEqual(17);
    expect(proto.graph.input.map((i) => i.name)).toEqual([
      'bill_length_mm',
      'bill_depth_mm',
      'flipper_length_mm',
      'body_mass_g',
      'island',
      'sex',
    ]);
    expect(proto.graph.output.map((o) => o.name)).toEqual(['label', 'probabilities']);
    const meta = readOnnxMetadata(onnx);
    expect(meta.runId).toBe('run-7');
    expect(meta.datasetSha256).toBe('f204db2c');
    expect(meta.codeVersion).toBe('abc123');
    expect(JSON.parse(meta['mlops.features'])).toEqual(penguinsFeatures);
    expect(JSON.parse(meta['mlops.classes'])).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(meta['mlops.task']).toBe('classification');
  });
});

describe('packed numeric input', () => {
  it('gives the same predictions as one input per column, quantised too', async () => {
    const frame = penguins();
    const model = await train(frame, {
      ...base,
      epochs: 5,
      task: 'classification',
      target: 'species',
      features: penguinsFeatures,
      model: { kind: 'mlp', hidden: [8] },
    });
    const packed = exportOnnx(model, {}, { packNumeric: true });
    expect(decodeModel(packed).graph.input.map((i) => i.name)).toEqual(['numeric', 'island', 'sex']);
    const a = await predictOnnx(packed, oddRows);
    const b = await predictOnnx(exportOnnx(model, {}), oddRows);
    expectClose(a.probabilities!, b.probabilities!, 1e-6);
    const q = await predictOnnx(quantizeInt8(packed), frame);
    expect(q.labels).toHaveLength(frame.length);
  });
});
