// Evaluation metrics. Computed in float64 from plain arrays so they can be checked by hand and
// used on predictions from any engine (the trainer, onnxruntime, an external trainer's ONNX).
import type { ClassificationMetrics, RegressionMetrics } from './types';

const LOG_EPS = 1e-15; // sklearn's clipping for log loss, so numbers are comparable

export function classificationMetrics(
  yTrue: string[],
  yPred: string[],
  proba: Float32Array | undefined,
  classes: string[]
): ClassificationMetrics {
  if (yTrue.length !== yPred.length) throw new Error(`yTrue has ${yTrue.length} rows but yPred ${yPred.length}`);
  const k = classes.length;
  const index = new Map(classes.map((c, i) => [c, i]));
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    if (yTrue[i] === yPred[i]) correct++;
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t !== undefined && p !== undefined) cm[t][p]++;
  }
  const n = yTrue.length;
  // Macro F1 over the classes present in truth or prediction (sklearn's default label set).
  let f1Sum = 0;
  let f1Count = 0;
  for (let c = 0; c < k; c++) {
    const tp = cm[c][c];
    let fp = 0;
    let fn = 0;
    for (let j = 0; j < k; j++) {
      if (j === c) continue;
      fp += cm[j][c];
      fn += cm[c][j];
    }
    if (tp + fp + fn === 0) continue;
    f1Sum += (2 * tp) / (2 * tp + fp + fn);
    f1Count++;
  }
  const out: ClassificationMetrics = {
    accuracy: n === 0 ? NaN : correct / n,
    macroF1: f1Count === 0 ? NaN : f1Sum / f1Count,
    confusionMatrix: cm,
  };
  if (proba && n > 0) {
    if (proba.length !== n * k) throw new Error(`proba has ${proba.length} values, expected ${n} x ${k}`);
    let ll = 0;
    for (let i = 0; i < n; i++) {
      const t = index.get(yTrue[i]);
      if (t === undefined) continue;
      // Renormalise the row like sklearn does, then clip.
      let s = 0;
      for (let c = 0; c < k; c++) s += proba[i * k + c];
      const p = Math.min(1 - LOG_EPS, Math.max(LOG_EPS, proba[i * k + t] / (s || 1)));
      ll -= Math.log(p);
    }
    out.logLoss = ll / n;
    out.rocAuc = rocAuc(yTrue, proba, classes);
  }
  return out;
}

/** Binary AUC of the positive class (classes[1]); one-vs-rest macro average for more classes. */
function rocAuc(yTrue: string[], proba: Float32Array, classes: string[]): number | undefined {
  const k = classes.length;
  if (k < 2) return undefined;
  const cols = k === 2 ? [1] : classes.map((_, c) => c);
  let sum = 0;
  for (const c of cols) {
    const scores = new Float64Array(yTrue.length);
    const pos = new Uint8Array(yTrue.length);
    for (let i = 0; i < yTrue.length; i++) {
      scores[i] = proba[i * k + c];
      pos[i] = yTrue[i] === classes[c] ? 1 : 0;
    }
    const a = binaryAuc(scores, pos);
    if (a === undefined) return undefined; // a class absent from truth: AUC undefined (sklearn raises)
    sum += a;
  }
  return sum / cols.length;
}

/** Mann-Whitney U with average ranks for ties: the probability a positive outranks a negative. */
export function binaryAuc(scores: ArrayLike<number>, positive: ArrayLike<number>): number | undefined {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let nPos = 0;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (positive[order[t]]) {
        nPos++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return undefined;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function regressionMetrics(yTrue: Float64Array | number[], yPred: Float32Array | number[]): RegressionMetrics {
  const n = yTrue.length;
  if (n !== yPred.length) throw new Error(`yTrue has ${n} rows but yPred ${yPred.length}`);
  let se = 0;
  let ae = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = yTrue[i] - yPred[i];
    se += d * d;
    ae += Math.abs(d);
    ss += (yTrue[i] - mean) ** 2;
  }
  // sklearn convention: a constant target gives r2 = 1 for a perfect fit, else 0.
  const r2 = ss === 0 ? (se === 0 ? 1 : 0) : 1 - se / ss;
  return { rmse: Math.sqrt(se / n), mae: ae / n, r2 };
}
