// The training loop. JS prepares data once (preprocessing, encoding, per-epoch shuffles) and
// drives the ONNX step graph in chunks of K batches; weights and Adam state stay in ORT tensors
// from step to step, and are only read back at epoch ends (early stopping, checkpoints).
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import { CheckpointMismatchError, MlInputError } from './errors';
import { layersFromTheta } from './model';
import { createSession, f32, ort } from './ort';
import { fitPreprocessing, transform } from './preprocessing';
import { encodeTargets, splitRows } from './targets';
import { rng, shuffleInPlace } from '../workflow-safe/rng';
import { afterEpoch, patienceExhausted, type StoppingState } from './train/early-stopping';
import { trainingFingerprint } from './train/fingerprint';
import { metricFromLogits } from './train/metrics';
import { runPass, stepState, type Encoded, type StepState } from './train/step-runner';
import { Architecture, buildEvalModel, buildStepModel, layout } from './training-graph';
import type { EpochInfo, Frame, TrainOptions, TrainSpec, TrainedModel } from './types';

/** Rows per validation call. */
const EVAL_ROWS = 16384;

export function validateSpec(spec: TrainSpec): void {
  const bad = (field: string, why: string) => {
    throw new MlInputError(`spec.${field} ${why}`);
  };
  if (spec.task !== 'classification' && spec.task !== 'regression')
    bad('task', "must be 'classification' or 'regression'");
  if (!Number.isInteger(spec.epochs) || spec.epochs < 1) bad('epochs', 'must be a positive integer');
  if (!Number.isInteger(spec.batchSize) || spec.batchSize < 1) bad('batchSize', 'must be a positive integer');
  if (!(spec.learningRate > 0) || !Number.isFinite(spec.learningRate)) bad('learningRate', 'must be a positive number');
  if (!(spec.l2 >= 0) || !Number.isFinite(spec.l2)) bad('l2', 'must be >= 0');
  if (!Number.isInteger(spec.patience) || spec.patience < 0) bad('patience', 'must be an integer >= 0');
  if (!(spec.validationFraction >= 0 && spec.validationFraction < 1)) bad('validationFraction', 'must be in [0, 1)');
  if (spec.model.kind !== 'linear' && spec.model.kind !== 'mlp') bad('model.kind', "must be 'linear' or 'mlp'");
  for (const h of spec.model.hidden ?? [])
    if (!Number.isInteger(h) || h < 1) bad('model.hidden', 'must hold positive integers');
  if (spec.features.some((f) => f.name === spec.target))
    bad('features', `must not include the target '${spec.target}'`);
}

/** Parameters, Adam state, gradient and temporaries, activations of a chunk, and the encoded data. */
export function estimateMemoryBytes(sizes: number[], batch: number, rows: number): number {
  const { parameters } = layout(sizes);
  const widths = sizes.reduce((s, w) => s + w, 0);
  return 4 * (parameters * 20 + batch * widths * 4 + rows * (sizes[0] + sizes[sizes.length - 1]));
}

export async function train(frame: Frame, spec: TrainSpec, opts: TrainOptions = {}): Promise<TrainedModel> {
  validateSpec(spec);
  const n = frame.length;
  if (n < 2) throw new MlInputError(`the dataset has ${n} rows; training needs at least 2`);

  const { trainRows, valRows } = splitRows(n, spec);
  const prep = fitPreprocessing(frame, spec.features, trainRows);
  const { head, outputs, classes, targetScale, encodeY } = encodeTargets(frame, spec, trainRows);

  const hidden = spec.model.kind === 'mlp' ? (spec.model.hidden ?? [100]) : [];
  const arch: Architecture = { sizes: [prep.width, ...hidden, outputs], head };
  const { parameters: P } = layout(arch.sizes);
  if (spec.memoryLimitMb !== undefined) {
    const need = estimateMemoryBytes(arch.sizes, spec.batchSize, n);
    if (need > spec.memoryLimitMb * 1024 * 1024) {
      throw new MlInputError(
        `the model has ${P} parameters and needs about ${Math.ceil(need / 1048576)} MB with batchSize ${spec.batchSize}, ` +
          `over memoryLimitMb ${spec.memoryLimitMb}; reduce model.hidden or batchSize, or raise memoryLimitMb`
      );
    }
  }

  const D = prep.width;
  const train: Encoded = { x: transform(frame, prep, trainRows), y: encodeY(trainRows), n: trainRows.length };
  const val: Encoded | undefined = valRows.length
    ? { x: transform(frame, prep, valRows), y: encodeY(valRows), n: valRows.length }
    : undefined;

  const fp = trainingFingerprint(spec, n, P);
  let state: StepState;
  let startEpoch = 0;
  let stopping: StoppingState;
  let history: EpochInfo[] = [];
  if (opts.checkpoint) {
    const ck = decodeCheckpoint(opts.checkpoint);
    if (ck.fingerprint !== fp) throw new CheckpointMismatchError();
    state = stepState(ck.theta, ck.m, ck.v, ck.step);
    stopping = { bestLoss: ck.bestLoss, bestEpoch: ck.bestEpoch, wait: ck.wait, best: ck.best };
    history = ck.history;
    startEpoch = ck.epoch;
  } else {
    const theta = initTheta(arch.sizes, spec.seed);
    state = stepState(theta, new Float32Array(P), new Float32Array(P), 0);
    stopping = { bestLoss: Infinity, bestEpoch: 0, wait: 0, best: theta.slice() };
  }

  const settings = { threads: spec.threads, executionProvider: spec.executionProvider };
  const stepSession = await createSession(buildStepModel(arch, spec.l2), settings);
  const evalSession = await createSession(buildEvalModel(arch), settings);
  const data = { X: f32(train.x, [train.n, D]), Y: f32(train.y, [train.n, outputs]), rows: train.n };
  // Validation runs in slices so activations stay bounded however large the split is.
  const valSlices: { rows: number; x: ort.Tensor; y: ort.Tensor; at: number }[] = [];
  if (val) {
    for (let at = 0; at < val.n; at += EVAL_ROWS) {
      const rows = Math.min(EVAL_ROWS, val.n - at);
      valSlices.push({
        rows,
        at,
        x: f32(val.x.subarray(at * D, (at + rows) * D), [rows, D]),
        y: f32(val.y.subarray(at * outputs, (at + rows) * outputs), [rows, outputs]),
      });
    }
  }
  const valLogits = val ? new Float32Array(val.n * outputs) : undefined;
  const stopped = () => patienceExhausted(spec.patience, stopping.wait);

  let epoch = startEpoch;
  try {
    while (epoch < spec.epochs && !stopped()) {
      const started = performance.now();
      const perm = shuffleInPlace(
        Int32Array.from({ length: train.n }, (_, i) => i),
        rng(spec.seed, `epoch:${epoch}`)
      );
      const pass = await runPass(stepSession, data, perm, state, spec, { signal: opts.signal, aborted: abortError });
      state = pass.state;
      const trainLoss = pass.lossSum / train.n;
      epoch++;
      if (!Number.isFinite(trainLoss)) {
        throw new MlInputError(
          `training diverged: the loss became ${trainLoss} in epoch ${epoch}; lower learningRate (now ${spec.learningRate}), ` +
            'raise l2, or check the features for extreme values'
        );
      }
      let valLoss = trainLoss;
      let valMetric = NaN;
      if (val) {
        let sum = 0;
        for (const sl of valSlices) {
          const ev = await evalSession.run({ theta: state.theta, X: sl.x, Y: sl.y });
          sum += (ev.loss.data as Float32Array)[0] * sl.rows;
          valLogits!.set(ev.logits.data as Float32Array, sl.at * outputs);
        }
        valLoss = sum / val.n;
        valMetric = metricFromLogits(head, valLogits!, val.y, val.n);
      }
      const trained = state.theta;
      stopping = afterEpoch(stopping, valLoss, epoch, () => trained.data as Float32Array);
      const seconds = (performance.now() - started) / 1000;
      const info: EpochInfo = {
        epoch,
        epochs: spec.epochs,
        trainLoss,
        valLoss,
        valMetric,
        samplesPerSec: train.n / Math.max(seconds, 1e-9),
        stepSeconds: pass.stepMs / 1000,
        prepareSeconds: pass.gatherMs / 1000,
      };
      history.push(info);
      await opts.onEpoch?.(info);
      const every = Math.max(1, opts.checkpointEvery ?? 1);
      if (opts.onCheckpoint && (epoch % every === 0 || epoch === spec.epochs || stopped())) {
        const bytes = encodeCheckpoint({
          fingerprint: fp,
          epoch,
          step: state.step,
          ...stopping,
          history,
          theta: state.theta.data as Float32Array,
          m: state.m.data as Float32Array,
          v: state.v.data as Float32Array,
        });
        await opts.onCheckpoint(bytes, epoch);
      }
    }
  } finally {
    await stepSession.release();
    await evalSession.release();
  }
  // With a validation split the best epoch's weights are kept (early stopping restores them).
  const finalTheta = val ? stopping.best : (state.theta.data as Float32Array);
  return {
    format: 'mlops-model/1',
    spec,
    head,
    preprocessing: prep,
    layers: layersFromTheta(arch.sizes, finalTheta),
    classes,
    targetScale,
    epochsRun: epoch,
    resumedFromEpoch: startEpoch,
    bestEpoch: val ? stopping.bestEpoch : epoch,
    history,
    parameterCount: P,
  };
}

function abortError(): Error {
  const e = new Error('training aborted');
  e.name = 'AbortError';
  return e;
}

/** Glorot-uniform weights (scikit-learn's MLP init), zero biases. */
export function initTheta(sizes: number[], seed: number): Float32Array {
  const { slots, parameters } = layout(sizes);
  const theta = new Float32Array(parameters);
  const rand = rng(seed, 'init');
  for (const s of slots) {
    const bound = Math.sqrt(6 / (s.inputs + s.outputs));
    for (let i = 0; i < s.inputs * s.outputs; i++) theta[s.wOffset + i] = (rand() * 2 - 1) * bound;
  }
  return theta;
}
