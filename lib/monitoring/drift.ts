// Turns a reference profile and a window's sketches into per-column drift results and a dataset
// verdict, with Evidently's rules for which test decides: a reference of at most 1000 rows is
// judged by p-values (KS for numbers, the two-proportion Z-test for a category column with two
// values, chi² for other categories, p < 0.05), a larger one by distances
// (normalised Wasserstein and Jensen-Shannon, at 0.1), because p-values call everything drifted
// once samples are large. Every statistic is computed either way and kept in the report; the
// policy may pick the deciding method and each threshold.
import type { MonitorPolicy } from '../spec/policy';
import {
  CategoricalSketch,
  NumericSketch,
  type CategoricalProfile,
  type ColumnProfile,
  type NumericProfile,
} from './profile';
import {
  chiSquare,
  jensenShannon,
  kolmogorovSmirnov,
  psi,
  twoProportionZ,
  wasserstein,
  type BinnedNumeric,
} from './stats';
import type { ColumnType } from '../ml/types';

export const DEFAULT_THRESHOLDS = {
  pValue: 0.05,
  psi: 0.1,
  wasserstein: 0.1,
  jensenShannon: 0.1,
  driftShare: 0.5,
  /** At most this many reference rows: p-value tests decide; above: distances. */
  smallReferenceRows: 1000,
};

export type Thresholds = typeof DEFAULT_THRESHOLDS;
export type NumericMethod = 'ks' | 'wasserstein' | 'psi';
export type CategoricalMethod = 'chi2' | 'z' | 'jensen_shannon' | 'psi';
export type DriftMethod = NumericMethod | CategoricalMethod;

export interface ColumnDrift {
  name: string;
  type: ColumnType;
  /** The method that decided, its score and the threshold it was held to. */
  method: DriftMethod;
  score: number;
  threshold: number;
  drifted: boolean;
  /** Every statistic for this column type. */
  stats: Partial<
    Record<'ks' | 'ks_p' | 'chi2' | 'chi2_p' | 'z' | 'z_p' | 'wasserstein' | 'jensen_shannon' | 'psi', number>
  >;
  /** Rows seen in the window with a value, and the shares missing / outside the reference. */
  count: number;
  missingRate: number;
  referenceMissingRate: number;
  outOfRangeRate: number;
  /** Reference and current histograms on the same bins (for the charts). */
  histogram: { labels: string[]; reference: number[]; current: number[] };
}

export function thresholdsOf(policy: Pick<MonitorPolicy, 'thresholds'> | undefined): Thresholds {
  return { ...DEFAULT_THRESHOLDS, ...(policy?.thresholds ?? {}) };
}

function pValueMethod(m: DriftMethod): boolean {
  return m === 'ks' || m === 'chi2' || m === 'z';
}

/** The statistic each method decides by (a p-value for the tests, else the distance). */
const SCORE_OF: Record<DriftMethod, keyof ColumnDrift['stats']> = {
  ks: 'ks_p',
  chi2: 'chi2_p',
  z: 'z_p',
  wasserstein: 'wasserstein',
  jensen_shannon: 'jensen_shannon',
  psi: 'psi',
};

/** The method's verdict on the statistics: its score against its threshold. */
function decide(method: DriftMethod, stats: ColumnDrift['stats'], t: Thresholds) {
  const score = stats[SCORE_OF[method]]!;
  const threshold = pValueMethod(method)
    ? t.pValue
    : method === 'wasserstein'
      ? t.wasserstein
      : method === 'jensen_shannon'
        ? t.jensenShannon
        : t.psi;
  return { method, score, threshold, drifted: pValueMethod(method) ? score < threshold : score >= threshold, stats };
}

const fmt = (v: number) =>
  Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(2) : String(+v.toFixed(2));

/** All bins in order: below the range, the inner bins, above it. */
function numericBins(h: BinnedNumeric): number[] {
  return [h.below.count, ...h.counts, h.above.count];
}

function numericDrift(
  ref: NumericProfile,
  cur: NumericSketch,
  refRows: number,
  t: Thresholds,
  method?: NumericMethod
): ColumnDrift {
  const r = numericBins(ref.histogram);
  const currentBinned = cur.binned();
  const c = numericBins(currentBinned);
  const ks = kolmogorovSmirnov(r, c);
  const stats = {
    ks: ks.statistic,
    ks_p: ks.pValue,
    // Divided by the reference spread so one threshold fits every unit (Evidently's "normed").
    wasserstein: wasserstein(ref.histogram, currentBinned) / (ref.std || 1),
    psi: psi(r, c),
  };
  const chosen: NumericMethod = method ?? (refRows <= t.smallReferenceRows ? 'ks' : 'wasserstein');
  const e = ref.histogram.edges;
  return {
    ...column(ref, cur.count, cur.missing, cur.outOfRange),
    ...decide(chosen, stats, t),
    histogram: {
      labels: [`< ${fmt(e[0])}`, ...e.slice(1).map((x, i) => `${fmt(e[i])}–${fmt(x)}`), `> ${fmt(e[e.length - 1])}`],
      reference: r,
      current: c,
    },
  };
}

function categoricalDrift(
  ref: CategoricalProfile,
  cur: CategoricalSketch,
  refRows: number,
  t: Thresholds,
  method?: CategoricalMethod
): ColumnDrift {
  const r = [...ref.counts, ref.other];
  const c = [...cur.counts, cur.other];
  const chi = chiSquare(r, c);
  // The Z-test compares the share of the first category seen (either side) with the rest: for a
  // binary column that is the whole distribution, as in Evidently (where it is its default).
  const seen = r.map((_, i) => i).filter((i) => r[i] + c[i] > 0);
  const first = seen[0] ?? 0;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const zt = twoProportionZ(r[first], sum(r), c[first], sum(c));
  const stats = {
    chi2: chi.statistic,
    chi2_p: chi.pValue,
    z: zt.statistic,
    z_p: zt.pValue,
    jensen_shannon: jensenShannon(r, c),
    psi: psi(r, c),
  };
  const test = seen.length <= 2 ? 'z' : 'chi2';
  const chosen: CategoricalMethod = method ?? (refRows <= t.smallReferenceRows ? test : 'jensen_shannon');
  const count = cur.count;
  return {
    ...column(ref, count, cur.missing, count ? cur.other / count : 0),
    ...decide(chosen, stats, t),
    histogram: { labels: [...ref.categories, '(other)'], reference: r, current: c },
  };
}

/** The column, its rows in the window and the shares missing / outside the reference. */
function column(ref: ColumnProfile, count: number, missing: number, outOfRange: number) {
  const all = count + missing;
  return {
    name: ref.name,
    type: ref.type,
    count,
    missingRate: all ? missing / all : 0,
    referenceMissingRate: ref.count + ref.missing ? ref.missing / (ref.count + ref.missing) : 0,
    outOfRangeRate: outOfRange,
  };
}

export interface DriftOptions {
  thresholds: Thresholds;
  methods?: { numeric?: NumericMethod; categorical?: CategoricalMethod };
}

/** One column's drift; `refRows` picks the default method (the reference's present values). */
export function columnDrift(
  ref: ColumnProfile,
  cur: NumericSketch | CategoricalSketch,
  opts: DriftOptions
): ColumnDrift {
  if (ref.type === 'numeric') {
    if (!(cur instanceof NumericSketch)) throw new Error(`column '${ref.name}': numeric profile, categorical sketch`);
    return numericDrift(ref, cur, ref.count, opts.thresholds, opts.methods?.numeric);
  }
  if (!(cur instanceof CategoricalSketch)) throw new Error(`column '${ref.name}': categorical profile, numeric sketch`);
  return categoricalDrift(ref, cur, ref.count, opts.thresholds, opts.methods?.categorical);
}

/** Evidently's dataset rule: drifted when the share of drifted columns reaches driftShare. */
export function datasetDrift(columns: ColumnDrift[], t: Thresholds) {
  const drifted = columns.filter((c) => c.drifted).length;
  const share = columns.length ? drifted / columns.length : 0;
  return {
    columns: columns.length,
    driftedColumns: drifted,
    share,
    driftShare: t.driftShare,
    drifted: share >= t.driftShare && drifted > 0,
  };
}
