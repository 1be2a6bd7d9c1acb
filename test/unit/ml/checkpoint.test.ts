/** @jest-environment ./test/unit/ml/ort-environment.js */
import { trainFromCheckpoint } from '../../../activities/train';
import {
  CheckpointMismatchError,
  MlInputError,
  deserializeModel,
  predict,
  serializeModel,
  train,
  type TrainSpec,
  type TrainedModel,
} from '../../../lib/ml';
import { decodeCheckpoint } from '../../../lib/ml/checkpoint';
import { rings, ringsFeatures } from './data';

const spec: TrainSpec = {
  task: 'classification',
  target: 'y',
  features: ringsFeatures,
  model: { kind: 'mlp', hidden: [16, 16] },
  epochs: 8,
  batchSize: 50, // 480 training rows: 9 full batches and a remainder of 30
  learningRate: 0.01,
  l2: 1e-3,
  patience: 100,
  validationFraction: 0.2,
  seed: 5,
};

function weightsOf(m: TrainedModel): number[] {
  return m.layers.flatMap((l) => [...l.weights, ...l.bias]);
}

describe('checkpoints and determinism', () => {
  const frame = rings(600, 9);

  it('the same seed gives bit-identical weights', async () => {
    const a = await train(frame, spec);
    const b = await train(frame, spec);
    expect(weightsOf(a)).toEqual(weightsOf(b));
    const c = await train(frame, { ...spec, seed: 6 });
    expect(weightsOf(c)).not.toEqual(weightsOf(a));
  });

  it('resuming from a checkpoint equals the uninterrupted run exactly', async () => {
    const full = await train(frame, spec);
    const checkpoints: Uint8Array[] = [];
    const controller = new AbortController();
    await expect(
      train(frame, spec, {
        signal: controller.signal,
        onCheckpoint: (bytes) => {
          checkpoints.push(bytes);
        },
        onEpoch: (info) => {
          if (info.epoch === 3) controller.abort(); // the "worker" dies during epoch 4
        },
      })
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(checkpoints).toHaveLength(3);
    const resumed = await train(frame, spec, { checkpoint: checkpoints[2] });
    expect(resumed.resumedFromEpoch).toBe(3);
    expect(resumed.epochsRun).toBe(8);
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(resumed.history.map((h) => h.valLoss)).toEqual(full.history.map((h) => h.valLoss));
    expect(resumed.bestEpoch).toBe(full.bestEpoch);
    expect(weightsOf(resumed)).toEqual(weightsOf(full));
  });

  it('checkpoints are compact: about 12 bytes per parameter plus a small header', async () => {
    let last: Uint8Array | undefined;
    const model = await train(frame, { ...spec, epochs: 2 }, { onCheckpoint: (b) => void (last = b) });
    const ck = decodeCheckpoint(last!);
    expect(ck.epoch).toBe(2);
    expect(ck.theta.length).toBe(model.parameterCount);
    expect(last!.length).toBeLessThan(16 * model.parameterCount + 4096);
  });

  it('refuses a checkpoint from a different spec', async () => {
    let last: Uint8Array | undefined;
    await train(frame, { ...spec, epochs: 1 }, { onCheckpoint: (b) => void (last = b) });
    await expect(train(frame, { ...spec, learningRate: 0.1 }, { checkpoint: last })).rejects.toBeInstanceOf(
      CheckpointMismatchError
    );
  });

  it('the train activity starts over from a checkpoint of another spec, by its type', async () => {
    let last: Uint8Array | undefined;
    await train(frame, { ...spec, epochs: 1 }, { onCheckpoint: (b) => void (last = b) });
    const other = { ...spec, epochs: 2, learningRate: 0.1 };
    const model = await trainFromCheckpoint((checkpoint) => train(frame, other, { checkpoint }), last);
    expect(model.resumedFromEpoch).toBe(0);
    expect(weightsOf(model)).toEqual(weightsOf(await train(frame, other)));
    // Other bad input is the user's to fix, whatever its message says.
    const sameText = new MlInputError(new CheckpointMismatchError().message);
    const run = (checkpoint?: Uint8Array) => (checkpoint ? Promise.reject(sameText) : Promise.resolve('restarted'));
    await expect(trainFromCheckpoint(run, last)).rejects.toBe(sameText);
  });

  it('serialises a trained model losslessly', async () => {
    const model = await train(frame, { ...spec, epochs: 2 });
    const back = deserializeModel(serializeModel(model));
    expect(back.classes).toEqual(model.classes);
    expect(weightsOf(back)).toEqual(weightsOf(model));
    expect(predict(back, frame).probabilities).toEqual(predict(model, frame).probabilities);
  });
});
