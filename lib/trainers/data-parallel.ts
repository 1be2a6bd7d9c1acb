// Data-parallel training with the built-in trainer's ONNX step graph (local-SGD / FedAvg style):
//   prepare  fit preprocessing, classes and target scale once on the whole training split, carve a
//            seeded validation set, encode the rows and cut them into K shards (artifacts);
//   round    every shard runs one local epoch of mini-batch Adam from the current global state
//            (weights + Adam moments + step), on its own worker;
//   average  the shard states are averaged weighted by samples into the next global state, which is
//            evaluated on the validation set and saved as a checkpoint (lib/ml/checkpoint format);
//   finalize the best global weights become a TrainedModel, exported to ONNX like any other model.
// With K = 1 a round is one epoch of the single-worker trainer (with its own shuffle): both run the
// training core in lib/ml/train/ (step runner, early stopping, metric, fingerprint). No Temporal here.
import { encodeCheckpoint, type CheckpointState } from '../ml/checkpoint';
import { MlInputError } from '../ml/errors';
import { forwardLogits, layersFromTheta } from '../ml/model';
import { createSession, f32, ort } from '../ml/ort';
import { fitPreprocessing, transform } from '../ml/preprocessing';
import { encodeTargets, splitRows } from '../ml/targets';
import { rng, shuffleInPlace } from '../workflow-safe/rng';
import { afterEpoch, patienceExhausted } from '../ml/train/early-stopping';
import { trainingFingerprint } from '../ml/train/fingerprint';
import { metricFromLogits } from '../ml/train/metrics';
import { runPass, stepState, type Encoded } from '../ml/train/step-runner';
import { initTheta, validateSpec } from '../ml/trainer';
import { buildStepModel, layout } from '../ml/training-graph';
import type { EpochInfo, Frame, Head, Preprocessing, TrainSpec, TrainedModel } from '../ml/types';

export type { Encoded };

/** Everything a shard or the averaging step needs besides the data (small JSON). */
export interface DpPlan {
  format: 'mlops-dp-plan/1';
  spec: TrainSpec;
  workers: number;
  head: Head;
  sizes: number[];
  preprocessing: Preprocessing;
  classes?: string[];
  targetScale?: { mean: number; std: number };
  shardRows: number[];
  valRows: number;
  parameters: number;
  fingerprint: string;
}

export interface Prepared {
  plan: DpPlan;
  shards: Encoded[];
  val: Encoded | null;
  /** Round 0 global state (initial weights). */
  global: Uint8Array;
}

export function prepareDataParallel(frame: Frame, spec: TrainSpec, workers: number): Prepared {
  validateSpec(spec);
  const n = frame.length;
  if (n < 2 * workers)
    throw new MlInputError(`the dataset has ${n} rows, too few for ${workers} workers; lower trainer.workers`);
  const { trainRows, valRows } = splitRows(n, spec);
  const nVal = valRows.length;
  const prep = fitPreprocessing(frame, spec.features, trainRows);
  const { head, outputs, classes, targetScale, encodeY } = encodeTargets(frame, spec, trainRows);
  const hidden = spec.model.kind === 'mlp' ? (spec.model.hidden ?? [100]) : [];
  const sizes = [prep.width, ...hidden, outputs];
  const { parameters } = layout(sizes);

  // Shards: a seeded permutation of the training rows cut into K near-equal parts.
  const perm = shuffleInPlace(Int32Array.from(trainRows), rng(spec.seed, 'shards'));
  const shards: Encoded[] = [];
  for (let k = 0; k < workers; k++) {
    const rows = perm
      .slice(Math.floor((k * perm.length) / workers), Math.floor(((k + 1) * perm.length) / workers))
      .sort();
    shards.push({ n: rows.length, x: transform(frame, prep, rows), y: encodeY(rows) });
  }
  const val = nVal ? { n: nVal, x: transform(frame, prep, valRows), y: encodeY(valRows) } : null;
  const fingerprint = `dp:${trainingFingerprint(spec, n, parameters, { workers })}`;
  const plan: DpPlan = {
    format: 'mlops-dp-plan/1',
    spec,
    workers,
    head,
    sizes,
    preprocessing: prep,
    classes,
    targetScale,
    shardRows: shards.map((s) => s.n),
    valRows: nVal,
    parameters,
    fingerprint,
  };
  const theta = initTheta(sizes, spec.seed);
  const global = encodeCheckpoint({
    fingerprint,
    epoch: 0,
    step: 0,
    bestLoss: Infinity,
    bestEpoch: 0,
    wait: 0,
    history: [],
    theta,
    m: new Float32Array(parameters),
    v: new Float32Array(parameters),
    best: theta.slice(),
  });
  return { plan, shards, val, global };
}

export function encodeRows(e: Encoded): Uint8Array {
  const out = new Uint8Array(8 + (e.x.length + e.y.length) * 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, e.n, true);
  dv.setUint32(4, e.x.length, true);
  new Float32Array(out.buffer, 8, e.x.length).set(e.x);
  new Float32Array(out.buffer, 8 + e.x.length * 4, e.y.length).set(e.y);
  return out;
}

export function decodeRows(bytes: Uint8Array): Encoded {
  const copy = new Uint8Array(bytes); // aligned
  const dv = new DataView(copy.buffer);
  const n = dv.getUint32(0, true);
  const xl = dv.getUint32(4, true);
  const yl = (copy.length - 8) / 4 - xl;
  return { n, x: new Float32Array(copy.buffer, 8, xl), y: new Float32Array(copy.buffer, 8 + xl * 4, yl) };
}

/** A shard's state after its local epoch: weights and Adam moments, plus what it saw. */
export interface ShardUpdate {
  theta: Float32Array;
  m: Float32Array;
  v: Float32Array;
  step: number;
  samples: number;
  lossSum: number;
}

export function encodeUpdate(u: ShardUpdate): Uint8Array {
  const P = u.theta.length;
  const out = new Uint8Array(24 + P * 12);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, P, true);
  dv.setUint32(4, u.step, true);
  dv.setFloat64(8, u.samples, true);
  dv.setFloat64(16, u.lossSum, true);
  [u.theta, u.m, u.v].forEach((a, i) => new Float32Array(out.buffer, 24 + i * P * 4, P).set(a));
  return out;
}

export function decodeUpdate(bytes: Uint8Array): ShardUpdate {
  const copy = new Uint8Array(bytes);
  const dv = new DataView(copy.buffer);
  const P = dv.getUint32(0, true);
  const arr = (i: number) => new Float32Array(copy.buffer, 24 + i * P * 4, P);
  return {
    theta: arr(0),
    m: arr(1),
    v: arr(2),
    step: dv.getUint32(4, true),
    samples: dv.getFloat64(8, true),
    lossSum: dv.getFloat64(16, true),
  };
}

// One step session per architecture per process: rounds reuse it (building it costs more than a round of a small model).
const sessions = new Map<string, Promise<ort.InferenceSession>>();
function stepSession(plan: DpPlan): Promise<ort.InferenceSession> {
  const key = JSON.stringify([plan.sizes, plan.head, plan.spec.l2, plan.spec.threads ?? 1]);
  let s = sessions.get(key);
  if (!s) {
    s = createSession(buildStepModel({ sizes: plan.sizes, head: plan.head }, plan.spec.l2), {
      threads: plan.spec.threads,
    });
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  return s;
}

/** One local epoch of shard `index` from the global state, as of round `round` (1-based). */
export async function trainShard(
  plan: DpPlan,
  shard: Encoded,
  global: CheckpointState,
  index: number,
  round: number,
  opts: { signal?: AbortSignal; onChunk?: () => void | Promise<void> } = {}
): Promise<ShardUpdate> {
  const spec = plan.spec;
  const D = plan.sizes[0];
  const C = plan.sizes[plan.sizes.length - 1];
  const session = await stepSession(plan);
  const data = { X: f32(shard.x, [shard.n, D]), Y: f32(shard.y, [shard.n, C]), rows: shard.n };
  const start = stepState(global.theta.slice(), global.m.slice(), global.v.slice(), global.step);
  const perm = shuffleInPlace(
    Int32Array.from({ length: shard.n }, (_, i) => i),
    rng(spec.seed, `epoch:${round - 1}:shard:${index}`)
  );
  const { state, lossSum } = await runPass(session, data, perm, start, spec, {
    signal: opts.signal,
    aborted: () => new Error('shard training aborted'),
    onChunk: opts.onChunk,
  });
  return {
    theta: (state.theta.data as Float32Array).slice(),
    m: (state.m.data as Float32Array).slice(),
    v: (state.v.data as Float32Array).slice(),
    step: state.step,
    samples: shard.n,
    lossSum,
  };
}

function modelOf(plan: DpPlan, theta: Float32Array, extra: Partial<TrainedModel> = {}): TrainedModel {
  return {
    format: 'mlops-model/1',
    spec: plan.spec,
    head: plan.head,
    preprocessing: plan.preprocessing,
    layers: layersFromTheta(plan.sizes, theta),
    classes: plan.classes,
    targetScale: plan.targetScale,
    epochsRun: 0,
    resumedFromEpoch: 0,
    bestEpoch: 0,
    history: [],
    parameterCount: plan.parameters,
    ...extra,
  };
}

/** Mean loss (no penalty) and metric (accuracy, or R² on the standardised target) of `theta` on rows. */
export function evaluateRows(plan: DpPlan, theta: Float32Array, rows: Encoded): { loss: number; metric: number } {
  const logits = forwardLogits(modelOf(plan, theta), rows.x, rows.n);
  return { loss: meanLoss(plan, logits, rows), metric: metricFromLogits(plan.head, logits, rows.y, rows.n) };
}

/** The step graph's loss, in JS: half mean squared error, logistic loss, or softmax cross-entropy. */
function meanLoss(plan: DpPlan, logits: Float64Array, { n, y }: Encoded): number {
  let loss = 0;
  if (plan.head === 'identity') {
    for (let i = 0; i < n; i++) loss += (y[i] - logits[i]) ** 2 / 2;
  } else if (plan.head === 'sigmoid') {
    for (let i = 0; i < n; i++) {
      const z = logits[i];
      loss += Math.max(z, 0) - z * y[i] + Math.log1p(Math.exp(-Math.abs(z)));
    }
  } else {
    const k = plan.sizes[plan.sizes.length - 1];
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, logits[i * k + c]);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(logits[i * k + c] - max);
      for (let c = 0; c < k; c++) if (y[i * k + c] === 1) loss -= logits[i * k + c] - max - Math.log(sum);
    }
  }
  return loss / n;
}

export interface RoundSummary {
  round: number;
  trainLoss: number;
  valLoss: number;
  valMetric: number;
  samples: number;
  /** Early stopping fired (or the last epoch is done): no more rounds. */
  stop: boolean;
}

/** Weighted average of the shard states into the next global state (checkpoint bytes). */
export function averageRound(
  plan: DpPlan,
  previous: CheckpointState,
  updates: ShardUpdate[],
  val: Encoded | null,
  round: number,
  seconds: number
): { global: Uint8Array; summary: RoundSummary } {
  const P = plan.parameters;
  const total = updates.reduce((s, u) => s + u.samples, 0);
  const theta = new Float32Array(P);
  const m = new Float32Array(P);
  const v = new Float32Array(P);
  for (const u of updates) {
    const w = u.samples / total;
    for (let i = 0; i < P; i++) {
      theta[i] += w * u.theta[i];
      m[i] += w * u.m[i];
      v[i] += w * u.v[i];
    }
  }
  const trainLoss = updates.reduce((s, u) => s + u.lossSum, 0) / total;
  if (!Number.isFinite(trainLoss)) {
    throw new MlInputError(
      `training diverged: the loss became ${trainLoss} in round ${round}; lower learningRate (now ${plan.spec.learningRate}) or raise l2`
    );
  }
  const ev = val ? evaluateRows(plan, theta, val) : { loss: trainLoss, metric: NaN };
  const stopping = afterEpoch(previous, ev.loss, round, () => theta);
  const info: EpochInfo = {
    epoch: round,
    epochs: plan.spec.epochs,
    trainLoss,
    valLoss: ev.loss,
    valMetric: ev.metric,
    samplesPerSec: total / Math.max(seconds, 1e-9),
  };
  const stop = round >= plan.spec.epochs || patienceExhausted(plan.spec.patience, stopping.wait);
  const global = encodeCheckpoint({
    fingerprint: plan.fingerprint,
    epoch: round,
    step: Math.max(...updates.map((u) => u.step)),
    ...stopping,
    // Only the recent history travels in the checkpoint (a long run's full series is in `metrics`).
    history: [...previous.history, info].slice(-50),
    theta,
    m,
    v,
  });
  return { global, summary: { round, trainLoss, valLoss: ev.loss, valMetric: ev.metric, samples: total, stop } };
}

/** The final model: the best round's weights (the last round's without a validation set). */
export function finalizeModel(plan: DpPlan, global: CheckpointState): TrainedModel {
  const withVal = plan.valRows > 0;
  return modelOf(plan, withVal ? global.best : global.theta, {
    epochsRun: global.epoch,
    bestEpoch: withVal ? global.bestEpoch : global.epoch,
    history: global.history,
  });
}
