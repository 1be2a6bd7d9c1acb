// Reference profiles and the bounded-memory sketches a monitoring window fills. A profile is made
// once at training time from the training split (features) and the test split's predictions: per
// column a fixed set of bins, summary quantiles, category frequencies and the missing rate, a few
// KB whatever the dataset size. A window then streams logged rows into sketches on exactly those
// bins, so its memory is O(columns x bins), never O(rows).
import { OUTPUT_LABEL, OUTPUT_VALUE } from '../ml/export';
import type { Frame, OnnxPrediction } from '../ml/types';
import type { BinnedNumeric } from './stats';
import type { ColumnType } from '../ml/types';

/** Equal-width inner bins per numeric column (Evidently's PSI and JS default is 30 too). */
export const NUMERIC_BINS = 30;
/** Most categories kept per column; rarer ones share the `other` bin with unseen values. */
export const MAX_CATEGORIES = 50;

export interface NumericProfile {
  name: string;
  type: 'numeric';
  /** Values present (not missing). */
  count: number;
  missing: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (what Wasserstein is divided by). */
  std: number;
  quantiles: { p01: number; p05: number; p25: number; p50: number; p75: number; p95: number; p99: number };
  histogram: BinnedNumeric;
}

export interface CategoricalProfile {
  name: string;
  type: 'categorical';
  count: number;
  missing: number;
  categories: string[];
  counts: number[];
  /** Values outside `categories` (rare in the reference, unseen in a window). */
  other: number;
}

export type ColumnProfile = NumericProfile | CategoricalProfile;

export interface ReferenceProfile {
  /** Training-split rows the feature profiles were made from. */
  rows: number;
  features: ColumnProfile[];
  /** The model's outputs on the test split: labels (classification) or values (regression). */
  prediction: ColumnProfile | null;
}

/** Fills bins fixed in advance; memory does not grow with the values added. */
export class NumericSketch {
  readonly counts: number[];
  missing = 0;
  private readonly below = { count: 0, sum: 0 };
  private readonly above = { count: 0, sum: 0 };

  constructor(readonly edges: readonly number[]) {
    this.counts = new Array<number>(edges.length - 1).fill(0);
  }

  add(v: number | null | undefined): void {
    if (v === null || v === undefined || Number.isNaN(v)) {
      this.missing++;
      return;
    }
    const e = this.edges;
    const lo = e[0];
    const hi = e[e.length - 1];
    if (v < lo) {
      this.below.count++;
      this.below.sum += v;
    } else if (v > hi) {
      this.above.count++;
      this.above.sum += v;
    } else {
      const b = this.counts.length;
      this.counts[Math.min(b - 1, Math.floor(((v - lo) / (hi - lo)) * b))]++;
    }
  }

  get count(): number {
    return this.below.count + this.above.count + this.counts.reduce((s, c) => s + c, 0);
  }

  /** Share of present values outside the reference range. */
  get outOfRange(): number {
    const n = this.count;
    return n ? (this.below.count + this.above.count) / n : 0;
  }

  binned(): BinnedNumeric {
    const side = (s: { count: number; sum: number }) => ({ count: s.count, mean: s.count ? s.sum / s.count : 0 });
    return { edges: this.edges, counts: this.counts, below: side(this.below), above: side(this.above) };
  }

  /** What was added, as plain JSON (the bins themselves are the profile's, not repeated). */
  state(): NumericSketchState {
    return { counts: [...this.counts], missing: this.missing, below: { ...this.below }, above: { ...this.above } };
  }

  /** Adds another sketch's state made on the same bins (sums are exact: counts are integers). */
  merge(s: NumericSketchState): void {
    addCounts(this.counts, s.counts);
    this.missing += s.missing;
    this.below.count += s.below.count;
    this.below.sum += s.below.sum;
    this.above.count += s.above.count;
    this.above.sum += s.above.sum;
  }
}

export interface NumericSketchState {
  counts: number[];
  missing: number;
  below: { count: number; sum: number };
  above: { count: number; sum: number };
}

export interface CategoricalSketchState {
  counts: number[];
  other: number;
  missing: number;
}

function addCounts(into: number[], from: readonly number[]): void {
  if (from.length !== into.length) {
    throw new Error(`a sketch state with ${from.length} bins cannot be merged into one with ${into.length}`);
  }
  for (let i = 0; i < into.length; i++) into[i] += from[i];
}

export class CategoricalSketch {
  readonly counts: number[];
  other = 0;
  missing = 0;
  private readonly index: Map<string, number>;

  constructor(readonly categories: readonly string[]) {
    this.counts = new Array<number>(categories.length).fill(0);
    this.index = new Map(categories.map((c, i) => [c, i]));
  }

  add(v: string | null | undefined): void {
    if (v === null || v === undefined || v === '') {
      this.missing++;
      return;
    }
    const i = this.index.get(v);
    if (i === undefined) this.other++;
    else this.counts[i]++;
  }

  get count(): number {
    return this.other + this.counts.reduce((s, c) => s + c, 0);
  }

  state(): CategoricalSketchState {
    return { counts: [...this.counts], other: this.other, missing: this.missing };
  }

  merge(s: CategoricalSketchState): void {
    addCounts(this.counts, s.counts);
    this.other += s.other;
    this.missing += s.missing;
  }
}

/** Equal-width edges over [min, max]; a constant column gets a unit-wide range around its value. */
export function numericEdges(min: number, max: number, bins = NUMERIC_BINS): number[] {
  const lo = min === max ? min - 0.5 : min;
  const hi = min === max ? max + 0.5 : max;
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + ((hi - lo) * i) / bins));
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const j = Math.min(i + 1, sorted.length - 1);
  return sorted[i] + (sorted[j] - sorted[i]) * (pos - i);
}

export function profileNumeric(name: string, values: ArrayLike<number>): NumericProfile {
  const present = Float64Array.from(Array.prototype.filter.call(values, (v: number) => !Number.isNaN(v)) as number[]);
  present.sort();
  const count = present.length;
  const missing = values.length - count;
  const min = count ? present[0] : 0;
  const max = count ? present[count - 1] : 0;
  let mean = 0;
  for (const v of present) mean += v / count;
  let variance = 0;
  for (const v of present) variance += (v - mean) ** 2 / count;
  const sketch = new NumericSketch(numericEdges(min, max));
  for (const v of present) sketch.add(v);
  const q = (p: number) => (count ? quantile(present, p) : 0);
  return {
    name,
    type: 'numeric',
    count,
    missing,
    min,
    max,
    mean,
    std: Math.sqrt(variance),
    quantiles: { p01: q(0.01), p05: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95), p99: q(0.99) },
    histogram: sketch.binned(),
  };
}

export function profileCategorical(name: string, values: readonly (string | null)[]): CategoricalProfile {
  const freq = new Map<string, number>();
  let missing = 0;
  for (const v of values) {
    if (v === null || v === '') missing++;
    else freq.set(v, (freq.get(v) ?? 0) + 1);
  }
  const ranked = [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const kept = ranked.slice(0, MAX_CATEGORIES);
  return {
    name,
    type: 'categorical',
    count: values.length - missing,
    missing,
    categories: kept.map(([c]) => c),
    counts: kept.map(([, n]) => n),
    other: ranked.slice(MAX_CATEGORIES).reduce((s, [, n]) => s + n, 0),
  };
}

/** Profiles the given feature columns of a frame (the training split). */
export function profileFrame(frame: Frame, features: { name: string; type: ColumnType }[]): ColumnProfile[] {
  return features.map((f) => {
    const col = frame.columns[f.name];
    if (col === undefined) throw new Error(`column '${f.name}' is not in the frame`);
    return col instanceof Float64Array ? profileNumeric(f.name, col) : profileCategorical(f.name, col);
  });
}

/** A sketch on a reference column's bins. */
export function sketchFor(p: ColumnProfile): NumericSketch | CategoricalSketch {
  return p.type === 'numeric' ? new NumericSketch(p.histogram.edges) : new CategoricalSketch(p.categories);
}

/** The model's outputs as monitoring sees them: predicted labels, or predicted values. */
export function predictionProfile(pred: Pick<OnnxPrediction, 'labels' | 'values'>): ColumnProfile | null {
  if (pred.labels) return profileCategorical(OUTPUT_LABEL, pred.labels);
  if (pred.values) return profileNumeric(OUTPUT_VALUE, pred.values);
  return null;
}
