// Drift statistics over binned counts (never over whole columns), so a window of any size costs
// the same: each compares a reference histogram with a current one on the same bins. Formulas
// follow Evidently's stat tests (PSI and JS on shares with empty bins filled, Wasserstein divided
// by the reference standard deviation, KS, chi² and two-proportion Z p-values) so thresholds mean the same thing;
// docs/monitoring.md states how far the binned values are from Evidently's on raw data.

/** Evidently's `feel_zeroes`: an empty bin counts as this share so logs and ratios stay finite. */
export const EMPTY_SHARE = 0.0001;

function shares(counts: readonly number[], fillEmpty: boolean): number[] {
  const total = counts.reduce((s, c) => s + c, 0);
  return counts.map((c) => {
    const p = total > 0 ? c / total : 0;
    return fillEmpty && p === 0 ? EMPTY_SHARE : p;
  });
}

function sameLength(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new Error(`histograms have ${a.length} and ${b.length} bins; they must match`);
}

/** An empty side has no distribution to compare: every statistic says "no difference" (never NaN). */
function empty(a: readonly number[], b: readonly number[]): boolean {
  return !a.some((x) => x > 0) || !b.some((x) => x > 0);
}

/** Population stability index: sum over bins of (cur - ref) * ln(cur / ref). */
export function psi(reference: readonly number[], current: readonly number[]): number {
  sameLength(reference, current);
  if (empty(reference, current)) return 0;
  const r = shares(reference, true);
  const c = shares(current, true);
  return r.reduce((s, ri, i) => s + (c[i] - ri) * Math.log(c[i] / ri), 0);
}

/** Jensen-Shannon distance (the square root of the divergence, natural log: scipy's default). */
export function jensenShannon(reference: readonly number[], current: readonly number[]): number {
  sameLength(reference, current);
  if (empty(reference, current)) return 0;
  // Evidently bins JS without filling empty bins (0 log 0 = 0), unlike PSI.
  const r = shares(reference, false);
  const c = shares(current, false);
  const norm = (p: number[]) => {
    const s = p.reduce((a, b) => a + b, 0);
    return p.map((x) => x / s);
  };
  const p = norm(r);
  const q = norm(c);
  let d = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) d += 0.5 * p[i] * Math.log(p[i] / m);
    if (q[i] > 0) d += 0.5 * q[i] * Math.log(q[i] / m);
  }
  return Math.sqrt(Math.max(d, 0));
}

/** ln Γ(x) (Lanczos, g = 7), enough for p-values. */
function logGamma(x: number): number {
  const g = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xm = x - 1;
  let a = g[0];
  const t = xm + 7.5;
  for (let i = 1; i < 9; i++) a += g[i] / (xm + i);
  return 0.5 * Math.log(2 * Math.PI) + (xm + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Upper regularised incomplete gamma Q(a, x) (series below a + 1, continued fraction above). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lead = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lead));
  }
  // Lentz's continued fraction for Q.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lead) * h);
}

export interface TestResult {
  statistic: number;
  pValue: number;
}

/**
 * Pearson's chi² of the current counts against the reference shares scaled to the current total
 * (Evidently's chi² test); empty reference bins take EMPTY_SHARE so an unseen category is a large,
 * finite statistic. Degrees of freedom: bins seen on either side - 1.
 */
export function chiSquare(reference: readonly number[], current: readonly number[]): TestResult {
  sameLength(reference, current);
  if (empty(reference, current)) return { statistic: 0, pValue: 1 };
  // Bins empty on both sides are no category at all (Evidently takes the values seen): they
  // must not add degrees of freedom.
  const seen = reference.map((_, i) => i).filter((i) => reference[i] + current[i] > 0);
  if (seen.length < reference.length)
    return chiSquare(
      seen.map((i) => reference[i]),
      seen.map((i) => current[i])
    );
  const n = current.reduce((s, c) => s + c, 0);
  const r = shares(reference, true);
  const rs = r.reduce((a, b) => a + b, 0);
  let stat = 0;
  for (let i = 0; i < r.length; i++) {
    const expected = (r[i] / rs) * n;
    stat += (current[i] - expected) ** 2 / expected;
  }
  const df = Math.max(r.length - 1, 1);
  return { statistic: stat, pValue: gammaQ(df / 2, stat / 2) };
}

/**
 * Two-proportion Z-test (Evidently's `z` test for binary categories): the share of one category
 * in the reference (`refHits` of `refTotal`) against its share in the current window, with the
 * pooled share P in the standard error √(P(1−P)(1/n₁ + 1/n₂)). Two-sided p = 2(1 − Φ(|z|)),
 * which is Q(½, z²/2): z² is chi² with one degree of freedom. A pooled share of 0 or 1 (one
 * category on both sides) is no difference: z = 0, p = 1.
 */
export function twoProportionZ(refHits: number, refTotal: number, curHits: number, curTotal: number): TestResult {
  if (refTotal <= 0 || curTotal <= 0) return { statistic: 0, pValue: 1 };
  const p1 = refHits / refTotal;
  const p2 = curHits / curTotal;
  const pooled = (refHits + curHits) / (refTotal + curTotal);
  const variance = pooled * (1 - pooled) * (1 / refTotal + 1 / curTotal);
  if (!(variance > 0)) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / Math.sqrt(variance);
  return { statistic: z, pValue: gammaQ(0.5, (z * z) / 2) };
}

/** Kolmogorov's survival function Q_KS(λ) = 2 Σ (-1)^(k-1) exp(-2 k² λ²). */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 1e-3) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = 2 * (k % 2 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return Math.min(1, Math.max(0, sum));
}

/**
 * Two-sample KS from two histograms on the same ordered bins: D is the largest CDF gap at a bin
 * edge (a lower bound of the raw-data D, by at most the mass of one bin), p from the asymptotic
 * distribution with Stephens' small-sample correction (Numerical Recipes' `kstwo`).
 */
export function kolmogorovSmirnov(reference: readonly number[], current: readonly number[]): TestResult {
  sameLength(reference, current);
  const n = reference.reduce((s, c) => s + c, 0);
  const m = current.reduce((s, c) => s + c, 0);
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  let fr = 0;
  let fc = 0;
  let d = 0;
  for (let i = 0; i < reference.length; i++) {
    fr += reference[i] / n;
    fc += current[i] / m;
    d = Math.max(d, Math.abs(fr - fc));
  }
  const en = Math.sqrt((n * m) / (n + m));
  return { statistic: d, pValue: kolmogorovQ((en + 0.12 + 0.11 / en) * d) };
}

/** A binned numeric distribution: inner bins on `edges`, plus the mass (and mean) outside them. */
export interface BinnedNumeric {
  /** B + 1 increasing edges of the B inner bins. */
  edges: readonly number[];
  counts: readonly number[];
  below: { count: number; mean: number };
  above: { count: number; mean: number };
}

/**
 * Wasserstein-1 distance ∫|F_ref − F_cur| dx between two binned distributions on the same edges,
 * taking values uniform within each inner bin. Outside the range only each side's count and mean
 * are kept, and ∫F there is share × distance of the mean from the edge, so a tail adds
 * |∫(F_ref − F_cur)|: a lower bound of ∫|F_ref − F_cur| there, equal when one CDF stays above.
 */
export function wasserstein(reference: BinnedNumeric, current: BinnedNumeric): number {
  sameLength(reference.counts, current.counts);
  const total = (h: BinnedNumeric) => h.below.count + h.above.count + h.counts.reduce((s, c) => s + c, 0);
  const nr = total(reference);
  const nc = total(current);
  if (nr === 0 || nc === 0) return 0;
  const e = reference.edges;
  const tail = (side: 'below' | 'above', edge: number) => {
    const r = reference[side];
    const c = current[side];
    const rDist = r.count ? Math.abs(edge - r.mean) : 0;
    const cDist = c.count ? Math.abs(edge - c.mean) : 0;
    return Math.abs((r.count / nr) * rDist - (c.count / nc) * cDist);
  };
  let area = tail('below', e[0]) + tail('above', e[e.length - 1]);
  let d0 = reference.below.count / nr - current.below.count / nc;
  for (let i = 0; i < reference.counts.length; i++) {
    const d1 = d0 + reference.counts[i] / nr - current.counts[i] / nc;
    const w = e[i + 1] - e[i];
    // |d| is linear across the bin: a trapezoid, or two triangles where it changes sign.
    area +=
      d0 * d1 >= 0
        ? ((Math.abs(d0) + Math.abs(d1)) / 2) * w
        : ((d0 * d0 + d1 * d1) / (2 * (Math.abs(d0) + Math.abs(d1)))) * w;
    d0 = d1;
  }
  return area;
}
