// Seeded synthetic tabular data of any size, written as CSV a line at a time (constant memory).
// Columns: x1..xN numeric (standard normal), c1..cM categorical (levels a..e), and `target`:
// classification = argmax of a fixed random linear score plus noise (labels k0..kK-1);
// regression = a fixed random linear function plus Gaussian noise. Same spec, same bytes.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { gaussian, mulberry32 } from './rng';
import type { Task } from '../types';

export interface SyntheticOptions {
  task: Task;
  rows: number;
  numeric: number;
  categorical: number;
  classes: number;
  noise: number;
  /** Fraction of feature cells left empty. */
  missing: number;
  seed: number;
}

const LEVELS = ['a', 'b', 'c', 'd', 'e'];

export function syntheticHeader(o: SyntheticOptions): string[] {
  const cols: string[] = [];
  for (let i = 1; i <= o.numeric; i++) cols.push(`x${i}`);
  for (let j = 1; j <= o.categorical; j++) cols.push(`c${j}`);
  cols.push('target');
  return cols;
}

/** Yields the CSV text (header first) in lines. */
export function* syntheticCsvLines(o: SyntheticOptions): Generator<string> {
  if (o.numeric + o.categorical === 0) throw new Error('synthetic data needs at least one feature column');
  const outputs = o.task === 'classification' ? o.classes : 1;
  const wrng = mulberry32(o.seed ^ 0x5eed);
  const w = Array.from({ length: outputs }, () => Array.from({ length: o.numeric }, () => gaussian(wrng)));
  const cw = Array.from({ length: outputs }, () =>
    Array.from({ length: o.categorical }, () => LEVELS.map(() => gaussian(wrng)))
  );
  const rng = mulberry32(o.seed);
  yield syntheticHeader(o).join(',') + '\n';
  const x = new Float64Array(o.numeric);
  const c = new Int32Array(o.categorical);
  for (let r = 0; r < o.rows; r++) {
    const cells: string[] = [];
    for (let i = 0; i < o.numeric; i++) {
      x[i] = gaussian(rng);
      cells.push(o.missing > 0 && rng() < o.missing ? '' : x[i].toFixed(5));
    }
    for (let j = 0; j < o.categorical; j++) {
      c[j] = Math.floor(rng() * LEVELS.length);
      cells.push(o.missing > 0 && rng() < o.missing ? '' : LEVELS[c[j]]);
    }
    let best = 0;
    let bestScore = -Infinity;
    let value = 0;
    for (let k = 0; k < outputs; k++) {
      let s = 0;
      for (let i = 0; i < o.numeric; i++) s += w[k][i] * x[i];
      for (let j = 0; j < o.categorical; j++) s += cw[k][j][c[j]];
      s += o.noise * gaussian(rng);
      if (s > bestScore) {
        bestScore = s;
        best = k;
      }
      value = s;
    }
    cells.push(o.task === 'classification' ? `k${best}` : (10 + 3 * value).toFixed(5));
    yield cells.join(',') + '\n';
  }
}

/** Writes the dataset to `file` (atomically: a temp file renamed into place). */
export async function writeSyntheticCsv(file: string, o: SyntheticOptions): Promise<{ bytes: number }> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const out = createWriteStream(tmp);
  let bytes = 0;
  let batch = '';
  for (const line of syntheticCsvLines(o)) {
    batch += line;
    if (batch.length >= 1 << 16) {
      bytes += Buffer.byteLength(batch);
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  bytes += Buffer.byteLength(batch);
  out.end(batch);
  await once(out, 'finish');
  await rename(tmp, file);
  return { bytes };
}

/** Stable file name for a synthetic spec (same options, same file). */
export function syntheticFileName(o: SyntheticOptions): string {
  return `synthetic-${o.task}-r${o.rows}-n${o.numeric}-c${o.categorical}-k${o.classes}-z${o.noise}-m${o.missing}-s${o.seed}.csv`;
}
