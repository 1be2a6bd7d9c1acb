/** @jest-environment ./test/unit/ml/ort-environment.js */
import { MlInputError, train, type Frame, type TrainSpec } from '../../../lib/ml';
import { rings, ringsFeatures } from './data';

const spec: TrainSpec = {
  task: 'classification',
  target: 'y',
  features: ringsFeatures,
  model: { kind: 'linear' },
  epochs: 3,
  batchSize: 32,
  learningRate: 0.01,
  l2: 0,
  patience: 0,
  validationFraction: 0.2,
  seed: 1,
};

async function failure(frame: Frame, s: TrainSpec): Promise<MlInputError> {
  try {
    await train(frame, s);
  } catch (e) {
    expect(e).toBeInstanceOf(MlInputError);
    return e as MlInputError;
  }
  throw new Error('expected training to fail');
}

describe('clear errors for bad input', () => {
  const frame = rings(200, 1);

  it('a target with one class', async () => {
    const one = { ...frame, columns: { ...frame.columns, y: new Array(200).fill('same') } };
    const e = await failure(one, spec);
    expect(e.message).toMatch(/only one class \("same"\).*at least two/);
  });

  it('non-finite values after preprocessing', async () => {
    const a = Float64Array.from(frame.columns.a as Float64Array);
    a[17] = Infinity;
    const e = await failure({ ...frame, columns: { ...frame.columns, a } }, spec);
    expect(e.message).toMatch(/feature 'a' (has an infinite value|is non-finite after preprocessing) at row 17/);
  });

  it('a model too large for the memory limit', async () => {
    const e = await failure(frame, { ...spec, model: { kind: 'mlp', hidden: [4096, 4096] }, memoryLimitMb: 64 });
    expect(e.message).toMatch(/over memoryLimitMb 64; reduce model.hidden or batchSize, or raise memoryLimitMb/);
  });

  it('a diverging loss', async () => {
    const e = await failure(frame, { ...spec, task: 'regression', target: 'value', learningRate: 1e30 });
    expect(e.message).toMatch(/training diverged.*lower learningRate \(now 1e\+30\)/);
  });

  it('invalid spec fields and columns', async () => {
    expect((await failure(frame, { ...spec, epochs: 0 })).message).toMatch(/spec.epochs/);
    expect((await failure(frame, { ...spec, validationFraction: 1 })).message).toMatch(/validationFraction/);
    expect((await failure(frame, { ...spec, target: 'nope' })).message).toMatch(/target column 'nope'/);
    expect((await failure(frame, { ...spec, task: 'regression', target: 'y' })).message).toMatch(/holds strings/);
  });
});
