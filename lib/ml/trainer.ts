// The training loop. JS prepares data once (preprocessing, encoding, per-epoch shuffles) and
// drives the ONNX step graph in chunks of K batches; weights and Adam state stay in ORT tensors
// from step to step, and are only read back at epoch ends (early stopping, checkpoints).
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import { MlInputError } from './errors';
import { layersFromTheta } from './model';
import { createSession, f32, ort } from './ort';
import { fitPreprocessing, transform } from './preprocessing';
import { encodeTargets, splitRows } from './targets';
import { hash32, rng, shuffleInPlace } from './rng';
import { adamStepSize, Architecture, buildEvalModel, buildStepModel, layout } from './training-graph';
import type { EpochInfo, Frame, Head, TrainOptions, TrainSpec, TrainedModel } from './types';

/** Samples per session.run: big enough to amortise the call, small enough to react to abort signals. */
const CHUNK_SAMPLES = 16384;
/** Rows per validation call. */
const EVAL_ROWS = 16384;
/** Relative improvement of the validation loss that resets early-stopping patience. */
const TOLERANCE = 1e-4;

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

/** Same spec and data shape -> same fingerprint; epochs and limits may change between attempts. */
function fingerprint(spec: TrainSpec, rows: number, parameters: number): string {
  const { epochs: _e, memoryLimitMb: _m, threads: _t, executionProvider: _p, ...rest } = spec;
  return (hash32(JSON.stringify(rest)) >>> 0).toString(16) + `:${rows}:${parameters}`;
}

/** Parameters, Adam state, gradient and temporaries, activations of a chunk, and the encoded data. */
export function estimateMemoryBytes(sizes: number[], batch: number, rows: number): number {
  const { parameters } = layout(sizes);
  const widths = sizes.reduce((s, w) => s + w, 0);
  return 4 * (parameters * 20 + batch * widths * 4 + rows * (sizes[0] + sizes[sizes.length - 1]));
}

interface Encoded {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

export async function train(frame: Frame, spec: TrainSpec, opts: TrainOptions = {}): Promise<TrainedModel> {
  validateSpec(spec);
  const n = frame.length;
  if (n < 2) throw new MlInputError(`the dataset has ${n} rows; training needs at least 2`);

  const { trainRows, valRows } = splitRows(n, spec);
  // A warm start (data-parallel rounds, fine-tuning) keeps the given model's preprocessing,
  // labels and target scale, so every shard encodes its rows exactly like the global model.
  const warm = opts.initialModel;
  const prep = warm ? warm.preprocessing : fitPreprocessing(frame, spec.features, trainRows);
  const { head, outputs, classes, targetScale, encodeY } = encodeTargets(frame, spec, trainRows, warm);

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

  const fp = fingerprint(spec, n, P);
  let theta: Float32Array;
  let m: Float32Array = new Float32Array(P);
  let v: Float32Array = new Float32Array(P);
  let step = 0;
  let startEpoch = 0;
  let bestLoss = Infinity;
  let bestEpoch = 0;
  let wait = 0;
  let history: EpochInfo[] = [];
  let best: Float32Array;
  if (opts.checkpoint) {
    const ck = decodeCheckpoint(opts.checkpoint);
    if (ck.fingerprint !== fp) {
      throw new MlInputError('the checkpoint was made for a different spec or dataset; start without it');
    }
    ({ theta, m, v, step, bestLoss, bestEpoch, wait, history, best } = ck);
    startEpoch = ck.epoch;
  } else if (warm) {
    theta = thetaFromLayers(warm, arch.sizes);
    best = theta.slice();
  } else {
    theta = initTheta(arch.sizes, spec.seed);
    best = theta.slice();
  }

  const settings = { threads: spec.threads, executionProvider: spec.executionProvider };
  const stepSession = await createSession(buildStepModel(arch, spec.l2), settings);
  const evalSession = await createSession(buildEvalModel(arch), settings);
  const B = Math.min(spec.batchSize, train.n);
  const nFull = Math.floor(train.n / B);
  const rest = train.n - nFull * B;
  // Batches per session.run: enough to amortise the call, few enough to heartbeat and abort promptly.
  const K = Math.max(1, Math.min(nFull, Math.ceil(CHUNK_SAMPLES / B)));
  const trainX = f32(train.x, [train.n, D]);
  const trainY = f32(train.y, [train.n, outputs]);
  let thetaT = f32(theta, [P]);
  let mT = f32(m, [P]);
  let vT = f32(v, [P]);
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
  const stopped = () => spec.patience > 0 && wait >= spec.patience;

  let epoch = startEpoch;
  try {
    while (epoch < spec.epochs && !stopped()) {
      const started = performance.now();
      const perm = shuffleInPlace(
        Int32Array.from({ length: train.n }, (_, i) => i),
        rng(spec.seed, `epoch:${epoch}`)
      );
      let lossSum = 0;
      let gatherMs = 0;
      let stepMs = 0;
      // Full batches in chunks of up to K, then the remainder as one smaller batch.
      const runChunk = async (first: number, batches: number, size: number) => {
        const t0 = performance.now();
        const lrs = new Float32Array(batches);
        for (let k = 0; k < batches; k++) lrs[k] = adamStepSize(spec.learningRate, ++step);
        const idx = perm.subarray(first, first + batches * size);
        const t1 = performance.now();
        gatherMs += t1 - t0;
        const out = await stepSession.run({
          X: trainX,
          Y: trainY,
          idx: new ort.Tensor('int32', idx, [batches, size]),
          theta: thetaT,
          m: mT,
          v: vT,
          lrs: f32(lrs, [batches]),
        });
        stepMs += performance.now() - t1;
        thetaT = out.theta_out as ort.Tensor;
        mT = out.m_out as ort.Tensor;
        vT = out.v_out as ort.Tensor;
        const losses = out.losses.data as Float32Array;
        for (let k = 0; k < batches; k++) lossSum += losses[k] * size;
        if (opts.signal?.aborted) throw opts.signal.reason ?? abortError();
      };
      for (let b = 0; b < nFull; b += K) await runChunk(b * B, Math.min(K, nFull - b), B);
      if (rest > 0) await runChunk(nFull * B, 1, rest);

      const trainLoss = lossSum / train.n;
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
          const ev = await evalSession.run({ theta: thetaT, X: sl.x, Y: sl.y });
          sum += (ev.loss.data as Float32Array)[0] * sl.rows;
          valLogits!.set(ev.logits.data as Float32Array, sl.at * outputs);
        }
        valLoss = sum / val.n;
        valMetric = metricFromLogits(head, valLogits!, val);
      }
      if (valLoss < bestLoss - TOLERANCE * Math.abs(bestLoss) || !Number.isFinite(bestLoss)) {
        bestLoss = valLoss;
        bestEpoch = epoch;
        wait = 0;
        best = (thetaT.data as Float32Array).slice();
      } else {
        wait++;
      }
      const seconds = (performance.now() - started) / 1000;
      const info: EpochInfo = {
        epoch,
        epochs: spec.epochs,
        trainLoss,
        valLoss,
        valMetric,
        samplesPerSec: train.n / Math.max(seconds, 1e-9),
        stepSeconds: stepMs / 1000,
        prepareSeconds: gatherMs / 1000,
      };
      history.push(info);
      await opts.onEpoch?.(info);
      const every = Math.max(1, opts.checkpointEvery ?? 1);
      if (opts.onCheckpoint && (epoch % every === 0 || epoch === spec.epochs || stopped())) {
        const bytes = encodeCheckpoint({
          fingerprint: fp,
          epoch,
          step,
          bestLoss,
          bestEpoch,
          wait,
          history,
          theta: thetaT.data as Float32Array,
          m: mT.data as Float32Array,
          v: vT.data as Float32Array,
          best,
        });
        await opts.onCheckpoint(bytes, epoch);
      }
    }
  } finally {
    await stepSession.release();
    await evalSession.release();
  }
  // With a validation split the best epoch's weights are kept (early stopping restores them).
  const finalTheta = val ? best : (thetaT.data as Float32Array);
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
    bestEpoch: val ? bestEpoch : epoch,
    history,
    parameterCount: P,
  };
}

function thetaFromLayers(model: TrainedModel, sizes: number[]): Float32Array {
  const { slots, parameters } = layout(sizes);
  const ok =
    model.layers.length === slots.length &&
    slots.every((sl, i) => model.layers[i].inputs === sl.inputs && model.layers[i].outputs === sl.outputs);
  if (!ok) {
    throw new MlInputError(
      'initialModel has a different architecture than spec.model; use the same model kind and hidden sizes'
    );
  }
  const theta = new Float32Array(parameters);
  slots.forEach((sl, i) => {
    theta.set(model.layers[i].weights, sl.wOffset);
    theta.set(model.layers[i].bias, sl.bOffset);
  });
  return theta;
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

/** Accuracy for classification, R^2 for regression (on the standardised target, which leaves R^2 unchanged). */
function metricFromLogits(head: Head, logits: Float32Array, val: Encoded): number {
  const n = val.n;
  if (head === 'identity') {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += val.y[i];
    mean /= n;
    let se = 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      se += (val.y[i] - logits[i]) ** 2;
      ss += (val.y[i] - mean) ** 2;
    }
    return ss === 0 ? 0 : 1 - se / ss;
  }
  let correct = 0;
  if (head === 'sigmoid') {
    for (let i = 0; i < n; i++) if ((logits[i] > 0 ? 1 : 0) === val.y[i]) correct++;
  } else {
    const k = logits.length / n;
    for (let i = 0; i < n; i++) {
      let bestC = 0;
      for (let c = 1; c < k; c++) if (logits[i * k + c] > logits[i * k + bestC]) bestC = c;
      if (val.y[i * k + bestC] === 1) correct++;
    }
  }
  return correct / n;
}
