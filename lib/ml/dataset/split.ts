// Seeded train/test split, stratified by class for classification, plus row selection.
import type { Frame } from '../types';
import { mulberry32, shuffleInPlace } from './rng';

export interface SplitOptions {
  test: number;
  seed: number;
  /** Class label per row (classification); rows of each class are split in proportion. */
  stratifyBy?: (string | null)[];
}

export interface Split {
  train: Uint32Array;
  test: Uint32Array;
}

/** Splits row indices 0..n-1. Same n, options and labels give the same split. */
export function splitIndices(n: number, opts: SplitOptions): Split {
  const rng = mulberry32(opts.seed);
  const train: number[] = [];
  const test: number[] = [];
  const groups = new Map<string, number[]>();
  if (opts.stratifyBy) {
    for (let i = 0; i < n; i++) {
      const key = opts.stratifyBy[i] ?? '\u0000';
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(i);
    }
  } else {
    groups.set(
      '',
      Array.from({ length: n }, (_, i) => i)
    );
  }
  // Groups in sorted key order so the result does not depend on row order of first appearance.
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    shuffleInPlace(g, rng);
    let k = Math.round(g.length * opts.test);
    if (g.length >= 2) k = Math.min(Math.max(k, 1), g.length - 1);
    else k = 0;
    for (let i = 0; i < g.length; i++) (i < k ? test : train).push(g[i]);
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}

/** A new frame with the given rows (in order) and only the named columns (all when omitted). */
export function takeRows(frame: Frame, rows: ArrayLike<number>, columns?: string[]): Frame {
  const out: Frame = { length: rows.length, columns: {} };
  for (const name of columns ?? Object.keys(frame.columns)) {
    const col = frame.columns[name];
    if (col === undefined) throw new Error(`takeRows: no column '${name}'`);
    if (col instanceof Float64Array) {
      const c = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) c[i] = col[rows[i]];
      out.columns[name] = c;
    } else {
      const c = new Array<string | null>(rows.length);
      for (let i = 0; i < rows.length; i++) c[i] = col[rows[i]];
      out.columns[name] = c;
    }
  }
  return out;
}
