// Closed-form checks of the drift statistics on small hand-made histograms.
import {
  chiSquare,
  gammaQ,
  jensenShannon,
  kolmogorovQ,
  kolmogorovSmirnov,
  psi,
  twoProportionZ,
  wasserstein,
  type BinnedNumeric,
} from '../../../lib/monitoring/stats';

const none = { count: 0, mean: 0 };
const binned = (counts: number[], edges = [0, 1, 2], extra: Partial<BinnedNumeric> = {}): BinnedNumeric => ({
  edges,
  counts,
  below: none,
  above: none,
  ...extra,
});

describe('drift statistics', () => {
  it('PSI of 50/50 against 25/75 is ln(3) / 4', () => {
    // (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5) = 0.25 (ln 2 + ln 1.5)
    expect(psi([50, 50], [25, 75])).toBeCloseTo(Math.log(3) / 4, 12);
    expect(psi([3, 7], [30, 70])).toBeCloseTo(0, 12);
  });

  it('PSI fills an empty bin with a share of 0.0001 (Evidently), so it stays finite', () => {
    const expected = (0.0001 - 0.5) * Math.log(0.0001 / 0.5) + (1 - 0.5) * Math.log(1 / 0.5);
    expect(psi([1, 1], [0, 4])).toBeCloseTo(expected, 10);
  });

  it('Jensen-Shannon distance is the square root of the divergence with natural logs', () => {
    const p = [0.5, 0.5];
    const q = [0.25, 0.75];
    const m = [0.375, 0.625];
    const kl = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * Math.log(x / b[i]), 0);
    expect(jensenShannon([2, 2], [1, 3])).toBeCloseTo(Math.sqrt(0.5 * kl(p, m) + 0.5 * kl(q, m)), 12);
    expect(jensenShannon([5, 5], [1, 1])).toBeCloseTo(0, 12);
    // Disjoint supports give sqrt(ln 2), the maximum (empty bins are not filled, as in Evidently).
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(Math.sqrt(Math.log(2)), 12);
  });

  it('regularised upper gamma matches its closed forms', () => {
    expect(gammaQ(1, 2.5)).toBeCloseTo(Math.exp(-2.5), 12);
    expect(gammaQ(3, 10)).toBeCloseTo(Math.exp(-10) * (1 + 10 + 50), 12);
    expect(gammaQ(2, 0.5)).toBeCloseTo(Math.exp(-0.5) * 1.5, 12);
  });

  it('chi² of 40/60 against 50/50 is 4 with p = 0.0455 (1 degree of freedom)', () => {
    const r = chiSquare([50, 50], [40, 60]);
    expect(r.statistic).toBeCloseTo(4, 12);
    expect(r.pValue).toBeCloseTo(0.0455003, 6);
  });

  it('chi² with 2 degrees of freedom has p = exp(-x/2); bins empty on both sides add none', () => {
    const r = chiSquare([1, 1, 1], [10, 20, 30]);
    expect(r.statistic).toBeCloseTo(10, 12);
    expect(r.pValue).toBeCloseTo(Math.exp(-5), 10);
    expect(chiSquare([1, 1, 1, 0], [10, 20, 30, 0])).toEqual(r);
  });

  it('two-proportion Z of 60/100 against 40/100 is 2√2 with two-sided p = erfc(2)', () => {
    // pooled share 0.5: standard error √(0.25 · (1/100 + 1/100)) = √0.005; z = 0.2 / √0.005
    const r = twoProportionZ(60, 100, 40, 100);
    expect(r.statistic).toBeCloseTo(2 * Math.SQRT2, 12);
    expect(r.pValue).toBeCloseTo(0.004677734981047266, 12);
    // 50/100 against 40/100: pooled 0.45, z = 0.1 / √(0.45 · 0.55 · 0.02) = 1.42134, p = 0.155218
    const s = twoProportionZ(50, 100, 40, 100);
    expect(s.statistic).toBeCloseTo(1.4213381090374024, 10);
    expect(s.pValue).toBeCloseTo(0.155218489684684, 10);
    // The sign follows the reference share minus the current one; p does not.
    expect(twoProportionZ(40, 100, 50, 100)).toEqual({ statistic: -s.statistic, pValue: s.pValue });
  });

  it('two-proportion Z with one category on both sides (pooled share 0 or 1) is no difference', () => {
    expect(twoProportionZ(100, 100, 7, 7)).toEqual({ statistic: 0, pValue: 1 });
    expect(twoProportionZ(0, 100, 0, 7)).toEqual({ statistic: 0, pValue: 1 });
  });

  it("Kolmogorov's distribution: Q(1) = 0.2700 and the 5% point is 1.358", () => {
    expect(kolmogorovQ(1)).toBeCloseTo(0.26999967, 6);
    expect(kolmogorovQ(1.358)).toBeCloseTo(0.05, 3);
  });

  it('KS takes the largest CDF gap at a bin edge', () => {
    const r = kolmogorovSmirnov([1, 1, 1, 1], [0, 0, 2, 2]);
    expect(r.statistic).toBeCloseTo(0.5, 12);
    const en = Math.sqrt((4 * 4) / 8);
    expect(r.pValue).toBeCloseTo(kolmogorovQ((en + 0.12 + 0.11 / en) * 0.5), 12);
    expect(kolmogorovSmirnov([5, 5], [50, 50]).pValue).toBeCloseTo(1, 6);
  });

  it('Wasserstein between uniform bins: U[0,1] vs U[1,2] is 1, and half-shifted is 0.5', () => {
    expect(wasserstein(binned([10, 0]), binned([0, 10]))).toBeCloseTo(1, 12);
    expect(wasserstein(binned([10, 0]), binned([5, 5]))).toBeCloseTo(0.5, 12);
    expect(wasserstein(binned([3, 7]), binned([30, 70]))).toBeCloseTo(0, 12);
  });

  it('Wasserstein counts mass outside the range at its mean: U[1,2] vs a point at 5 is 3.5', () => {
    const cur = binned([0, 0], [0, 1, 2], { above: { count: 4, mean: 5 } });
    expect(wasserstein(binned([0, 10]), cur)).toBeCloseTo(3.5, 12);
    const below = binned([0, 0], [0, 1, 2], { below: { count: 2, mean: -3 } });
    // U[0,1] vs a point at -3: 3.5
    expect(wasserstein(binned([10, 0]), below)).toBeCloseTo(3.5, 12);
  });

  it('an empty window gives "no difference", never NaN (the store refuses NaN)', () => {
    expect(psi([1, 2], [0, 0])).toBe(0);
    expect(jensenShannon([1, 2], [0, 0])).toBe(0);
    expect(chiSquare([1, 2], [0, 0])).toEqual({ statistic: 0, pValue: 1 });
    expect(kolmogorovSmirnov([1, 2], [0, 0])).toEqual({ statistic: 0, pValue: 1 });
    expect(twoProportionZ(1, 3, 0, 0)).toEqual({ statistic: 0, pValue: 1 });
    expect(wasserstein(binned([1, 2]), binned([0, 0]))).toBe(0);
  });

  it('refuses histograms on different bins', () => {
    expect(() => psi([1, 2], [1, 2, 3])).toThrow(/2 and 3 bins/);
  });
});
