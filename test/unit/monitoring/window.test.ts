// Reference profiles, sketches and a window's verdict on fixture data: quantiles and moments by
// hand, Evidently's choice of test by reference size, drift on shifted rows and none on rows
// from the reference distribution; window states that merge exactly and survive JSON.
import { thresholdsOf } from '../../../lib/monitoring/drift';
import {
  NUMERIC_BINS,
  profileCategorical,
  profileNumeric,
  type ReferenceProfile,
} from '../../../lib/monitoring/profile';
import { WindowAccumulator } from '../../../lib/monitoring/window';
import { binsFingerprint, parseWindowState } from '../../../lib/monitoring/window-state';
import { mulberry32 } from '../../../lib/workflow-safe/rng';

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

describe('window state', () => {
  const profile: ReferenceProfile = {
    rows: 11,
    features: [
      profileNumeric('x', Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
      profileCategorical('c', ['red', 'red', 'blue']),
    ],
    prediction: profileCategorical('label', ['red', 'blue']),
  };
  const req = (x: (number | null)[], c: (string | null)[]) => ({
    inputs: [
      { name: 'x', data: x },
      { name: 'c', data: c },
    ],
    outputs: [{ name: 'label', data: c }],
  });
  const requests = [
    req([-2, 0, 10, 12], ['red', 'blue', 'green', null]),
    req([null, 5, -1], ['red', 'red', 'blue']),
    req([3, 30, 4.5], ['NA', 'blue', 'amber']),
  ];

  it('holds the counts in closed form: below/above with their sums, missing, other', () => {
    const acc = new WindowAccumulator(profile);
    for (const r of requests) acc.add(r);
    const s = acc.state();
    expect(s).toMatchObject({ v: 1, bins: binsFingerprint(profile), requests: 3, rows: 10, predictionRows: 10 });
    const x = s.features[0] as { counts: number[]; missing: number; below: unknown; above: unknown };
    expect(x.missing).toBe(1);
    expect(x.below).toEqual({ count: 2, sum: -3 });
    expect(x.above).toEqual({ count: 2, sum: 42 });
    expect(x.counts.reduce((a, b) => a + b, 0)).toBe(5); // 0, 10, 5, 3, 4.5
    expect(x.counts[0]).toBe(1);
    expect(x.counts[29]).toBe(1);
    // Categories red, blue; green and amber are other; null and 'NA' are missing.
    expect(s.features[1]).toEqual({ counts: [3, 3], other: 2, missing: 2 });
  });

  it('merging the states of two halves gives exactly the summary of the whole', () => {
    const ref = profileOf(5000);
    const entries = logged(2000, 5, 1).map((e) => ({
      ...e, // integer-valued numbers: the below/above sums are exact whatever the order of addition
      inputs: e.inputs.map((t) => (t.name === 'x' ? { ...t, data: (t.data as number[]).map(Math.round) } : t)),
    }));
    const opts = { thresholds: thresholdsOf(undefined) };
    const whole = new WindowAccumulator(ref, opts);
    const first = new WindowAccumulator(ref);
    const second = new WindowAccumulator(ref);
    entries.forEach((e, i) => {
      whole.add(e);
      (i < 77 ? first : second).add(e);
    });
    const merged = new WindowAccumulator(ref, opts);
    merged.merge(first.state());
    merged.merge(second.state());
    expect(merged.state()).toEqual(whole.state());
    expect(merged.summary()).toEqual(whole.summary());
    expect(merged.summary().rows).toBe(2000);
    // An empty state changes nothing.
    merged.merge(new WindowAccumulator(ref).state());
    expect(merged.summary()).toEqual(whole.summary());
  });

  it('round-trips through JSON, and a malformed state is refused naming the field', () => {
    const acc = new WindowAccumulator(profile);
    for (const r of requests) acc.add(r);
    const back = parseWindowState(JSON.stringify(acc.state()));
    expect(back).toEqual(acc.state());
    const again = new WindowAccumulator(profile);
    again.merge(back);
    expect(again.state()).toEqual(acc.state());
    expect(() => parseWindowState(JSON.stringify({ ...acc.state(), rows: -1 }))).toThrow(/rows/);
    expect(() => parseWindowState(JSON.stringify({ ...acc.state(), v: 2 }))).toThrow(
      /not a monitoring window state: v/
    );
  });

  it('refuses a state made on other profile bins, with a message saying why', () => {
    const other: ReferenceProfile = {
      ...profile,
      features: [profileNumeric('x', Float64Array.from([0, 20])), profile.features[1]],
    };
    const acc = new WindowAccumulator(profile);
    const foreign = new WindowAccumulator(other);
    foreign.add(requests[0]);
    expect(binsFingerprint(other)).not.toBe(binsFingerprint(profile));
    expect(() => acc.merge(foreign.state())).toThrow(/another reference profile/);
    expect(acc.state().rows).toBe(0);
  });
});
