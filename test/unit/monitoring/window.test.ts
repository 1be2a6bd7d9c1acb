// Reference profiles, sketches and a window's verdict on fixture data: quantiles and moments by
// hand, Evidently's choice of test by reference size, drift on shifted rows and none on rows
// from the reference distribution.
import { thresholdsOf } from '../../../lib/monitoring/drift';
import {
  NUMERIC_BINS,
  profileCategorical,
  profileNumeric,
  type ReferenceProfile,
} from '../../../lib/monitoring/profile';
import { WindowAccumulator } from '../../../lib/monitoring/window';
import { mulberry32 } from '../../../lib/ml/rng';

describe('reference profile', () => {
  it('numeric: moments, numpy-style quantiles, missing count and fixed bins', () => {
    const p = profileNumeric('x', Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, NaN]));
    expect(p).toMatchObject({ count: 10, missing: 1, min: 1, max: 10, mean: 5.5 });
    expect(p.std).toBeCloseTo(Math.sqrt(8.25), 12);
    expect(p.quantiles.p25).toBeCloseTo(3.25, 12);
    expect(p.quantiles.p50).toBeCloseTo(5.5, 12);
    expect(p.histogram.edges).toHaveLength(NUMERIC_BINS + 1);
    expect(p.histogram.counts.reduce((s, c) => s + c, 0)).toBe(10);
    expect(p.histogram.counts[NUMERIC_BINS - 1]).toBe(1); // the maximum lands in the last bin
  });

  it('categorical: frequencies by rank, missing values apart', () => {
    const p = profileCategorical('c', ['a', 'b', 'a', null, '', 'c', 'a', 'b']);
    expect(p).toMatchObject({ count: 6, missing: 2, categories: ['a', 'b', 'c'], counts: [3, 2, 1], other: 0 });
  });
});

function normal(rand: () => number, mean: number, sd: number): number {
  const u = Math.max(rand(), 1e-12);
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function fixture(rows: number, seed: number, shift = 0) {
  const rand = mulberry32(seed);
  const x: number[] = [];
  const c: string[] = [];
  for (let i = 0; i < rows; i++) {
    x.push(normal(rand, 10 + shift, 2));
    c.push(rand() < 0.7 - shift * 0.1 ? 'red' : 'blue');
  }
  return { x, c };
}

function profileOf(rows: number): ReferenceProfile {
  const { x, c } = fixture(rows, 1);
  return {
    rows,
    features: [profileNumeric('x', Float64Array.from(x)), profileCategorical('c', c)],
    prediction: profileCategorical('label', c),
  };
}

/** Logged requests of 10 rows each, as the inference server writes them. */
function logged(rows: number, seed: number, shift: number) {
  const { x, c } = fixture(rows, seed, shift);
  const out = [];
  for (let i = 0; i < rows; i += 10) {
    out.push({
      inputs: [
        { name: 'x', shape: [10], datatype: 'FP32', data: x.slice(i, i + 10) },
        { name: 'c', shape: [10], datatype: 'BYTES', data: c.slice(i, i + 10) },
      ],
      outputs: [{ name: 'label', shape: [10], datatype: 'BYTES', data: c.slice(i, i + 10) }],
    });
  }
  return out;
}

function run(profile: ReferenceProfile, entries: ReturnType<typeof logged>) {
  const acc = new WindowAccumulator(profile, { thresholds: thresholdsOf(undefined) });
  for (const e of entries) acc.add(e);
  return acc.summary();
}

describe('monitoring window', () => {
  it('a small reference (<= 1000 rows) is judged by KS and (binary columns) Z-test p-values', () => {
    const s = run(profileOf(800), logged(500, 2, 0));
    expect(s.features.map((f) => f.method)).toEqual(['ks', 'z']);
    expect(s.prediction?.method).toBe('z');
    expect(s.rows).toBe(500);
    expect(s.requests).toBe(50);
  });

  it('a large reference is judged by normalised Wasserstein and Jensen-Shannon', () => {
    const s = run(profileOf(5000), logged(2000, 3, 0));
    expect(s.features.map((f) => f.method)).toEqual(['wasserstein', 'jensen_shannon']);
    expect(s.dataset.drifted).toBe(false);
    expect(s.features.every((f) => !f.drifted)).toBe(true);
  });

  it('shifted rows drift: a mean shift of one standard deviation gives Wasserstein near 1', () => {
    const s = run(profileOf(5000), logged(2000, 4, 2));
    const x = s.features.find((f) => f.name === 'x')!;
    expect(x.drifted).toBe(true);
    expect(x.stats.wasserstein).toBeGreaterThan(0.8);
    expect(x.stats.wasserstein).toBeLessThan(1.2);
    expect(x.outOfRangeRate).toBeGreaterThan(0);
    expect(s.dataset).toMatchObject({ drifted: true, driftedColumns: 2, share: 1 });
  });

  it('counts missing values and unseen categories', () => {
    const profile = profileOf(5000);
    const acc = new WindowAccumulator(profile, { thresholds: thresholdsOf(undefined) });
    acc.add({
      inputs: [
        { name: 'x', data: [null, 10, 11, null] },
        { name: 'c', data: ['red', 'green', 'NA', null] },
      ],
      outputs: [],
    });
    const s = acc.summary();
    expect(s.features[0]).toMatchObject({ count: 2, missingRate: 0.5 });
    expect(s.features[1]).toMatchObject({ count: 2, missingRate: 0.5, outOfRangeRate: 0.5 });
    expect(s.prediction).toBeNull(); // no label output logged
  });

  it('policy thresholds and methods replace the defaults', () => {
    const profile = profileOf(5000);
    const acc = new WindowAccumulator(profile, {
      thresholds: thresholdsOf({ thresholds: { psi: 5 } }),
      methods: { numeric: 'psi', categorical: 'psi' },
    });
    for (const e of logged(2000, 4, 2)) acc.add(e);
    const s = acc.summary();
    expect(s.features.map((f) => [f.method, f.threshold, f.drifted])).toEqual([
      ['psi', 5, false],
      ['psi', 5, false],
    ]);
  });
});
