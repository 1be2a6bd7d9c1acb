// Tiny local readers for the bundled datasets (no dependency on the pipeline's dataset module),
// plus seeded synthetic data for cases the real sets don't cover.
import { readFileSync } from 'fs';
import { join } from 'path';
import type { FeatureSpec, Frame } from '../../../lib/ml';
import { rng } from '../../../lib/workflow-safe/rng';

const root = process.env.ML_DATASETS_DIR ?? join(__dirname, '..', '..', '..', 'datasets');

function toFrame(rows: Record<string, string | number | null>[], numeric: string[]): Frame {
  const columns: Frame['columns'] = {};
  const keys = Object.keys(rows[0]);
  for (const k of keys) {
    if (numeric.includes(k)) {
      columns[k] = Float64Array.from(rows, (r) => {
        const v = r[k];
        return v === null || v === '' || v === 'NA' ? NaN : Number(v);
      });
    } else {
      columns[k] = rows.map((r) => (r[k] === null || r[k] === 'NA' || r[k] === '' ? null : String(r[k])));
    }
  }
  return { length: rows.length, columns };
}

export const penguinsFeatures: FeatureSpec[] = [
  { name: 'bill_length_mm', type: 'numeric' },
  { name: 'bill_depth_mm', type: 'numeric' },
  { name: 'flipper_length_mm', type: 'numeric' },
  { name: 'body_mass_g', type: 'numeric' },
  { name: 'island', type: 'categorical' },
  { name: 'sex', type: 'categorical' },
];

/** Palmer penguins (344 rows, 3 species); unquoted CSV with NA for missing. */
export function penguins(): Frame {
  const [header, ...lines] = readFileSync(join(root, 'penguins.csv'), 'utf8').trim().split('\n');
  const names = header.split(',');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i], v])));
  return toFrame(rows, ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'year']);
}

export const autoMpgFeatures: FeatureSpec[] = [
  { name: 'cylinders', type: 'numeric' },
  { name: 'displacement', type: 'numeric' },
  { name: 'horsepower', type: 'numeric' },
  { name: 'weight', type: 'numeric' },
  { name: 'acceleration', type: 'numeric' },
  { name: 'model_year', type: 'numeric' },
  { name: 'origin', type: 'categorical' },
];

/** Auto MPG (398 rows with an mpg value). */
export function autoMpg(): Frame {
  const rows = readFileSync(join(root, 'auto-mpg.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, string | number | null>)
    .filter((r) => r.mpg !== null && r.mpg !== undefined);
  return toFrame(rows, ['mpg', ...autoMpgFeatures.filter((f) => f.type === 'numeric').map((f) => f.name)]);
}

/** Rows [from, to) of every column. */
export function slice(frame: Frame, rows: ArrayLike<number>): Frame {
  const columns: Frame['columns'] = {};
  for (const [k, col] of Object.entries(frame.columns)) {
    columns[k] = col instanceof Float64Array ? Float64Array.from(rows, (r) => col[r]) : Array.from(rows, (r) => col[r]);
  }
  return { length: rows.length, columns };
}

/** Seeded train/test split of row indices. */
export function split(n: number, testFraction: number, seed: number): { train: number[]; test: number[] } {
  const r = rng(seed, 'test-split');
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const t = Math.round(n * testFraction);
  return { test: idx.slice(0, t), train: idx.slice(t) };
}

/** Three concentric-ish classes from two numeric and one categorical feature; needs a non-linear model. */
export function rings(n: number, seed: number): Frame {
  const r = rng(seed, 'rings');
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const c: (string | null)[] = [];
  const y: string[] = [];
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = r() * 4 - 2;
    b[i] = r() * 4 - 2;
    c.push(r() < 0.5 ? 'u' : 'v');
    const s = a[i] * a[i] + b[i] * b[i] + (c[i] === 'u' ? 0.5 : 0);
    y.push(s < 1.5 ? 'in' : s < 3 ? 'mid' : 'out');
    value[i] = 3 * a[i] - 2 * b[i] + (c[i] === 'u' ? 1 : 0) + 0.1 * (r() - 0.5);
  }
  return { length: n, columns: { a, b, c, y, value } };
}
export const ringsFeatures: FeatureSpec[] = [
  { name: 'a', type: 'numeric' },
  { name: 'b', type: 'numeric' },
  { name: 'c', type: 'categorical' },
];
