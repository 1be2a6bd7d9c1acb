// One pass of mini-batch Adam over encoded rows, shared by the single-process trainer (an epoch)
// and data-parallel training (a shard's local epoch). The ONNX step graph runs K batches per
// session.run: enough to amortise the call, few enough to heartbeat and abort promptly. Weights
// and Adam moments stay in ORT tensors between calls; only the losses are read back.
import { f32, ort } from '../ort';
import { adamStepSize } from '../training-graph';

/** Encoded rows: n x D features and n x C targets, float32, row-major. */
export interface Encoded {
  n: number;
  x: Float32Array;
  y: Float32Array;
}

/** Samples per session.run. */
export const CHUNK_SAMPLES = 16384;

/** Weights, Adam moments and the global step count, as the step graph takes and returns them. */
export interface StepState {
  theta: ort.Tensor;
  m: ort.Tensor;
  v: ort.Tensor;
  step: number;
}

export interface PassResult {
  state: StepState;
  /** Sum over samples of the per-batch mean loss (divide by the rows for the pass's loss). */
  lossSum: number;
  /** Time spent preparing batches, and in the step graph. */
  gatherMs: number;
  stepMs: number;
}

export function stepState(theta: Float32Array, m: Float32Array, v: Float32Array, step: number): StepState {
  const P = theta.length;
  return { theta: f32(theta, [P]), m: f32(m, [P]), v: f32(v, [P]), step };
}

/**
 * Full batches of `batchSize` in chunks of up to K, then the remainder as one smaller batch, in
 * the order of `perm`. `X`/`Y` hold all `rows` rows; `perm` indexes them.
 */
export async function runPass(
  session: ort.InferenceSession,
  data: { X: ort.Tensor; Y: ort.Tensor; rows: number },
  perm: Int32Array,
  start: StepState,
  hp: { batchSize: number; learningRate: number },
  hooks: { signal?: AbortSignal; aborted: () => Error; onChunk?: () => void | Promise<void> }
): Promise<PassResult> {
  const B = Math.min(hp.batchSize, data.rows);
  const nFull = Math.floor(data.rows / B);
  const rest = data.rows - nFull * B;
  const K = Math.max(1, Math.min(nFull, Math.ceil(CHUNK_SAMPLES / B)));
  let { theta, m, v, step } = start;
  let lossSum = 0;
  let gatherMs = 0;
  let stepMs = 0;
  const runChunk = async (first: number, batches: number, size: number) => {
    const t0 = performance.now();
    const lrs = new Float32Array(batches);
    for (let k = 0; k < batches; k++) lrs[k] = adamStepSize(hp.learningRate, ++step);
    const idx = perm.subarray(first, first + batches * size);
    const t1 = performance.now();
    gatherMs += t1 - t0;
    const out = await session.run({
      X: data.X,
      Y: data.Y,
      idx: new ort.Tensor('int32', idx, [batches, size]),
      theta,
      m,
      v,
      lrs: f32(lrs, [batches]),
    });
    stepMs += performance.now() - t1;
    theta = out.theta_out as ort.Tensor;
    m = out.m_out as ort.Tensor;
    v = out.v_out as ort.Tensor;
    const losses = out.losses.data as Float32Array;
    for (let k = 0; k < batches; k++) lossSum += losses[k] * size;
    if (hooks.signal?.aborted) throw hooks.signal.reason ?? hooks.aborted();
    await hooks.onChunk?.();
  };
  for (let b = 0; b < nFull; b += K) await runChunk(b * B, Math.min(K, nFull - b), B);
  if (rest > 0) await runChunk(nFull * B, 1, rest);
  return { state: { theta, m, v, step }, lossSum, gatherMs, stepMs };
}
