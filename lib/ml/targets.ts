// The seeded train/validation split and the target encoding, shared by single-process and
// data-parallel training so that every shard encodes its rows exactly like the global model.
import { MlInputError } from './errors';
import { fitClasses, targetNumbers, targetStrings } from './preprocessing';
import { rng, shuffleInPlace } from '../workflow-safe/rng';
import type { Frame, Head, TrainSpec } from './types';

/** Validation rows come first in a seeded permutation; both sets sorted for sequential column reads. */
export function splitRows(n: number, spec: TrainSpec): { trainRows: Int32Array; valRows: Int32Array } {
  const order = shuffleInPlace(
    Int32Array.from({ length: n }, (_, i) => i),
    rng(spec.seed, 'split')
  );
  const nVal = spec.validationFraction > 0 ? Math.max(1, Math.round(n * spec.validationFraction)) : 0;
  if (n - nVal < 1) throw new MlInputError('validationFraction leaves no training rows; lower it');
  return { valRows: order.slice(0, nVal).sort(), trainRows: order.slice(nVal).sort() };
}

export interface TargetEncoding {
  head: Head;
  outputs: number;
  classes?: string[];
  targetScale?: { mean: number; std: number };
  /** The training outputs of `rows`: class index (sigmoid), one-hot (softmax) or standardised value. */
  encodeY: (rows: Int32Array) => Float32Array;
}

/** Fits the target encoding (classes, or the regression target's scale) on the training rows. */
export function encodeTargets(frame: Frame, spec: TrainSpec, trainRows: Int32Array): TargetEncoding {
  if (spec.task === 'classification') {
    const classes = fitClasses(frame, spec, trainRows);
    const index = new Map(classes.map((c, i) => [c, i]));
    const y = targetStrings(frame, spec.target);
    const head: Head = classes.length === 2 ? 'sigmoid' : 'softmax';
    const outputs = head === 'sigmoid' ? 1 : classes.length;
    const encodeY = (rows: Int32Array) => {
      const out = new Float32Array(rows.length * outputs);
      for (let i = 0; i < rows.length; i++) {
        const c = index.get(y[rows[i]] ?? '');
        if (c === undefined) continue; // a validation label never seen in training adds no gradient
        if (head === 'sigmoid') out[i] = c;
        else out[i * outputs + c] = 1;
      }
      return out;
    };
    return { head, outputs, classes, encodeY };
  }
  const y = targetNumbers(frame, spec.target);
  let sum = 0;
  for (const r of trainRows) {
    if (!Number.isFinite(y[r])) {
      throw new MlInputError(
        `regression target '${spec.target}' is missing or non-finite at row ${r}; drop or fix those rows`
      );
    }
    sum += y[r];
  }
  const mean = sum / trainRows.length;
  let ss = 0;
  for (const r of trainRows) ss += (y[r] - mean) ** 2;
  const std = Math.sqrt(ss / trainRows.length) || 1;
  const encodeY = (rows: Int32Array) =>
    Float32Array.from(rows, (r) => (Number.isFinite(y[r]) ? (y[r] - mean) / std : 0));
  return { head: 'identity', outputs: 1, targetScale: { mean, std }, encodeY };
}
