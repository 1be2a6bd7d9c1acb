/** @jest-environment ./test/unit/ml/ort-environment.js */
import { train } from '../../../lib/ml';
import { rings, ringsFeatures } from './data';

describe('execution provider', () => {
  it("asking for 'cuda' where it is not installed trains the same model on the CPU", async () => {
    const frame = rings(300, 3);
    const spec = {
      task: 'classification' as const,
      target: 'y',
      features: ringsFeatures,
      model: { kind: 'mlp' as const, hidden: [8] },
      epochs: 2,
      batchSize: 32,
      learningRate: 0.01,
      l2: 0,
      patience: 0,
      validationFraction: 0.2,
      seed: 2,
    };
    const cpu = await train(frame, spec);
    const asked = await train(frame, { ...spec, executionProvider: 'cuda' });
    expect(asked.epochsRun).toBe(2);
    if (!process.env.EXPECT_CUDA) expect(asked.layers[0].weights).toEqual(cpu.layers[0].weights);
  });
});
