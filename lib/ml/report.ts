// Size / latency / accuracy comparison of an optimised model against its float original: the
// evidence a pipeline's optimise step records before accepting a quantised or pruned model.
import { gzipSync } from 'zlib';
import { classificationMetrics, regressionMetrics } from './metrics';
import { loadOnnx, onnxFeeds, predictOnnx } from './predict-onnx';
import { targetNumbers, targetStrings } from './preprocessing';
import type { Frame } from './types';

export interface ModelStats {
  bytes: number;
  gzipBytes: number;
  latencyMsBatch1: number;
  latencyMsBatch256: number;
  /** Accuracy (classification) or R^2 (regression) on the given frame. */
  metric: number;
}
export interface ModelComparison {
  reference: ModelStats;
  candidate: ModelStats;
  metricName: 'accuracy' | 'r2';
  /** candidate metric minus reference metric. */
  metricDelta: number;
  /** Fraction of rows where the candidate's label equals the reference's (classification). */
  agreement?: number;
}

/**
 * Wall time of one session.run on the first `batch` rows (repeated if the frame is shorter), feeds
 * prepared in advance: the median of `repeats` runs, or the minimum with stat 'min' (steadier on a
 * shared machine).
 */
export async function latencyMs(
  onnx: Uint8Array,
  frame: Frame,
  batch: number,
  repeats = 30,
  stat: 'median' | 'min' = 'median'
): Promise<number> {
  const { session, features, packed } = await loadOnnx(onnx);
  const rows = tile(frame, batch);
  const feeds = onnxFeeds(features, rows, 0, rows.length, packed);
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return stat === 'min' ? times[0] : times[times.length >> 1];
}

function tile(frame: Frame, n: number): Frame {
  const columns: Frame['columns'] = {};
  for (const [k, col] of Object.entries(frame.columns)) {
    if (col instanceof Float64Array) columns[k] = Float64Array.from({ length: n }, (_, i) => col[i % frame.length]);
    else columns[k] = Array.from({ length: n }, (_, i) => col[i % frame.length]);
  }
  return { length: n, columns };
}

async function stats(onnx: Uint8Array, frame: Frame, target: string) {
  const pred = await predictOnnx(onnx, frame);
  let metric: number;
  if (pred.values) metric = regressionMetrics(targetNumbers(frame, target), pred.values).r2;
  else {
    const y = targetStrings(frame, target).map((v) => v ?? '');
    metric = classificationMetrics(y, pred.labels!, undefined, pred.classes!).accuracy;
  }
  const s: ModelStats = {
    bytes: onnx.length,
    gzipBytes: gzipSync(onnx).length,
    latencyMsBatch1: await latencyMs(onnx, frame, 1),
    latencyMsBatch256: await latencyMs(onnx, frame, 256),
    metric,
  };
  return { s, pred };
}

export async function compareModels(
  reference: Uint8Array,
  candidate: Uint8Array,
  frame: Frame,
  target: string
): Promise<ModelComparison> {
  const r = await stats(reference, frame, target);
  const c = await stats(candidate, frame, target);
  const out: ModelComparison = {
    reference: r.s,
    candidate: c.s,
    metricName: r.pred.values ? 'r2' : 'accuracy',
    metricDelta: c.s.metric - r.s.metric,
  };
  if (r.pred.labels && c.pred.labels) {
    let same = 0;
    r.pred.labels.forEach((l, i) => (same += l === c.pred.labels![i] ? 1 : 0));
    out.agreement = same / r.pred.labels.length;
  }
  return out;
}
