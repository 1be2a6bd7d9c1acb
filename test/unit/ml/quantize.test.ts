/** @jest-environment ./test/unit/ml/ort-environment.js */
// int8 is int8: the optimised graph stores its dense weights as int8 initialisers and runs them
// through quantised nodes, is smaller than the float model, and predicts close to it but not
// identically (a "quantised" model equal to the float one would not be quantised at all).
import { exportOnnx, predictOnnx, quantizeInt8, train } from '../../../lib/ml';
import { DataType, decodeModel } from '../../../lib/ml/onnx/proto';
import { penguins, penguinsFeatures } from './data';

describe('quantizeInt8', () => {
  const frame = penguins();
  let float: Uint8Array;
  beforeAll(async () => {
    const model = await train(frame, {
      epochs: 20,
      batchSize: 32,
      learningRate: 0.01,
      l2: 1e-4,
      patience: 0,
      validationFraction: 0.2,
      seed: 5,
      task: 'classification',
      target: 'species',
      features: penguinsFeatures,
      model: { kind: 'mlp', hidden: [64, 32] },
    });
    float = exportOnnx(model, {});
  });

  const weightTypes = (onnx: Uint8Array, opType: string, weightInput: number) => {
    const m = decodeModel(onnx);
    const byName = new Map(m.graph.initializer.map((t) => [t.name, t.dataType]));
    return m.graph.node.filter((n) => n.opType === opType).map((n) => byName.get(n.input[weightInput]));
  };

  it.each([
    ['fused', 'DynamicQuantizeMatMul', 1],
    ['integer', 'MatMulInteger', 1],
  ] as const)('%s: every dense layer runs %s over int8 weight initialisers', (style, opType, weightInput) => {
    const layers = weightTypes(float, 'MatMul', 1);
    expect(layers).toEqual([DataType.FLOAT, DataType.FLOAT, DataType.FLOAT]);
    const q = quantizeInt8(float, { style });
    expect(weightTypes(q, 'MatMul', 1)).toEqual([]);
    expect(weightTypes(q, opType, weightInput)).toEqual(layers.map(() => DataType.INT8));
    // The float weights are gone, not kept beside the int8 ones.
    const floatWeights = decodeModel(float)
      .graph.node.filter((n) => n.opType === 'MatMul')
      .map((n) => n.input[1]);
    const left = decodeModel(q).graph.initializer.filter((t) => floatWeights.includes(t.name));
    expect(left.map((t) => t.name)).toEqual([]);
  });

  it('is smaller on disk than the float model', () => {
    const q = quantizeInt8(float);
    // 64x32 and 6x64-ish weights at 1 byte instead of 4: well under half.
    expect(q.length).toBeLessThan(float.length * 0.5);
  });

  it('predicts within a bounded, non-zero distance of the float model on the real rows', async () => {
    const a = await predictOnnx(float, frame);
    const b = await predictOnnx(quantizeInt8(float), frame);
    let max = 0;
    for (let i = 0; i < a.probabilities!.length; i++)
      max = Math.max(max, Math.abs(a.probabilities![i] - b.probabilities![i]));
    expect(max).toBeGreaterThan(1e-6);
    expect(max).toBeLessThan(0.1);
    const same = a.labels!.filter((l, i) => l === b.labels![i]).length;
    expect(same / frame.length).toBeGreaterThan(0.97);
  });
});
