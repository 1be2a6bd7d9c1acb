// Shared pieces of the ML benchmarks: datasets and the student trained on them, the scikit-learn
// virtual environment, and output.
import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { FeatureSpec, Frame, TrainSpec } from '../../lib/ml';
import { rng } from '../../lib/workflow-safe/rng';
import type { Task } from '../../lib/ml/types';

export const benchDir = __dirname;
const venv = join(__dirname, '..', '.venv');
const python = join(venv, 'bin', 'python');

/** Creates bench/.venv with scikit-learn on first use; returns the interpreter or undefined if pip fails. */
export function sklearnPython(): string | undefined {
  // An interpreter that already has scikit-learn (e.g. on a machine without PyPI access).
  if (process.env.ML_BENCH_PYTHON) return process.env.ML_BENCH_PYTHON;
  try {
    if (!existsSync(python)) {
      console.error('creating bench/.venv with scikit-learn (first run only)...');
      execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
      execFileSync(join(venv, 'bin', 'pip'), ['install', '-q', 'scikit-learn', 'numpy'], { stdio: 'inherit' });
    }
    execFileSync(python, ['-c', 'import sklearn'], { stdio: 'ignore' });
    return python;
  } catch {
    return undefined;
  }
}

export interface SklearnJob {
  task: Task;
  xTrain: Float32Array;
  yTrain: Int32Array | Float64Array;
  xTest: Float32Array;
  yTest: Int32Array | Float64Array;
  d: number;
  hidden: number[];
  alpha: number;
  batchSize: number;
  learningRate: number;
  epochs: number;
  seed: number;
}

export function runSklearn(py: string, job: SklearnJob): { seconds: number; epochs: number; metric: number } {
  const dir = mkdtempSync(join(tmpdir(), 'mlbench-'));
  const file = (name: string, a: ArrayBufferView) => {
    const p = join(dir, name);
    writeFileSync(p, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return p;
  };
  const input = JSON.stringify({
    task: job.task,
    xTrain: file('xtr', job.xTrain),
    yTrain: file('ytr', job.yTrain),
    xTest: file('xte', job.xTest),
    yTest: file('yte', job.yTest),
    nTrain: job.xTrain.length / job.d,
    nTest: job.xTest.length / job.d,
    d: job.d,
    hidden: job.hidden,
    alpha: job.alpha,
    batchSize: job.batchSize,
    learningRate: job.learningRate,
    epochs: job.epochs,
    seed: job.seed,
  });
  // One BLAS thread, like the trainer's single intra-op thread: the comparison is per core.
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const r = spawnSync(py, [join(__dirname, 'sklearn_ref.py')], { input, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sklearn failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/**
 * A learnable 256-feature, 10-class problem: labels from a fixed random teacher MLP (256-64-10) on
 * Gaussian inputs, so a 256-512-10 student can reach high accuracy and accuracy differences mean
 * something.
 */
export function teacherData(n: number, d = 256, classes = 10, seed = 1): { frame: Frame; features: FeatureSpec[] } {
  const r = rng(seed, 'teacher');
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const h = 64;
  const w1 = Float64Array.from({ length: d * h }, () => gauss() / Math.sqrt(d));
  const w2 = Float64Array.from({ length: h * classes }, () => gauss() / Math.sqrt(h));
  const cols = Array.from({ length: d }, () => new Float64Array(n));
  const y: string[] = new Array(n);
  const x = new Float64Array(d);
  const hid = new Float64Array(h);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) cols[j][i] = x[j] = gauss();
    hid.fill(0);
    for (let j = 0; j < d; j++) for (let k = 0; k < h; k++) hid[k] += x[j] * w1[j * h + k];
    let best = 0;
    let bestV = -Infinity;
    for (let c = 0; c < classes; c++) {
      let v = 0;
      for (let k = 0; k < h; k++) v += Math.max(0, hid[k]) * w2[k * classes + c];
      if (v > bestV) [best, bestV] = [c, v];
    }
    y[i] = `c${best}`;
  }
  const columns: Frame['columns'] = { y };
  const features: FeatureSpec[] = [];
  cols.forEach((c, j) => {
    columns[`f${j}`] = c;
    features.push({ name: `f${j}`, type: 'numeric' });
  });
  return { frame: { length: n, columns }, features };
}

/**
 * The spec of an MLP student of teacherData's labels with `hidden` layers, at the learning rate
 * and seed every bench uses, on one thread (numbers are per core); `rest` is each bench's own.
 */
export function studentSpec(
  features: FeatureSpec[],
  hidden: number[],
  rest: Pick<TrainSpec, 'epochs' | 'batchSize' | 'l2' | 'patience' | 'validationFraction'>
): TrainSpec {
  return {
    task: 'classification',
    target: 'y',
    features,
    model: { kind: 'mlp', hidden },
    learningRate: 1e-3,
    seed: 1,
    threads: 1,
    ...rest,
  };
}

export function table(rows: Record<string, string | number>[]): string {
  const keys = Object.keys(rows[0]);
  const cell = (v: string | number) =>
    typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : v;
  const widths = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(cell(r[k])).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ');
  return [
    line(keys),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(keys.map((k) => String(cell(r[k]))))),
  ].join('\n');
}
