// The pure parts of the traffic split: the caller bucket is stable and spreads callers evenly,
// field keys survive MongoDB path characters, value bins and latency buckets are the documented
// ones, shadow agreement compares labels or values, and a readiness check never passes on silence.
import {
  allServersReady,
  fieldKey,
  fromFieldKey,
  LATENCY_BOUNDS_MS,
  splitBucket,
  valueBin,
  type ServingInstanceDoc,
} from '../../../lib/store/deployments';
import { agrees } from '../../../serving/shadow';
import { latencyBucket } from '../../../serving/version-stats';

describe('splitBucket', () => {
  it('is stable per (model, key) and in 0..99', () => {
    // A pinned value: a change of hash would move the callers of every running rollout.
    expect(splitBucket('penguins', 'caller-1')).toBe(77);
    for (let i = 0; i < 1000; i++) {
      const b = splitBucket('m', `k${i}`);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(100);
    }
  });

  it('spreads callers evenly, and differently per model', () => {
    const n = 20_000;
    let under5 = 0;
    let under50 = 0;
    let same = 0;
    for (let i = 0; i < n; i++) {
      const b = splitBucket('penguins', `caller-${i}`);
      if (b < 5) under5++;
      if (b < 50) under50++;
      if (b === splitBucket('other', `caller-${i}`)) same++;
    }
    expect(under5 / n).toBeGreaterThan(0.04);
    expect(under5 / n).toBeLessThan(0.06);
    expect(under50 / n).toBeGreaterThan(0.48);
    expect(under50 / n).toBeLessThan(0.52);
    expect(same / n).toBeLessThan(0.03);
  });
});

describe('field keys and bins', () => {
  it('escapes . $ and % and reads them back', () => {
    for (const name of ['Adelie', 'a.b', '$where', '100%', 'x%2Ey']) {
      expect(fieldKey(name)).not.toMatch(/[.$]/);
      expect(fromFieldKey(fieldKey(name))).toBe(name);
    }
  });

  it('bins values and latencies by their upper bounds', () => {
    expect(valueBin(-5000)).toBe('le:-1000');
    expect(valueBin(0.5)).toBe('le:1');
    expect(valueBin(1e9)).toBe('gt:10000');
    expect(latencyBucket(0.3)).toBe(0);
    expect(latencyBucket(20)).toBe(LATENCY_BOUNDS_MS.indexOf(20));
    expect(latencyBucket(21)).toBe(LATENCY_BOUNDS_MS.indexOf(50));
    expect(latencyBucket(1e6)).toBe(LATENCY_BOUNDS_MS.length);
  });
});

describe('agrees', () => {
  it('compares labels, or values within 1%', () => {
    expect(agrees({ rows: 2, labels: ['a', 'b'] }, { rows: 2, labels: ['a', 'b'] })).toBe(true);
    expect(agrees({ rows: 2, labels: ['a', 'b'] }, { rows: 2, labels: ['a', 'c'] })).toBe(false);
    const v = (...x: number[]) => ({ rows: x.length, values: Float32Array.from(x) });
    expect(agrees(v(100, 0), v(100.5, 0.005))).toBe(true);
    expect(agrees(v(100), v(102))).toBe(false);
  });
});

describe('allServersReady', () => {
  const doc = (loaded: number[], splitRevision: number): ServingInstanceDoc => ({
    _id: `s${loaded.join()}`,
    at: new Date(),
    pollMs: 2000,
    models: { [fieldKey('a.b')]: { loaded, splitRevision } },
  });
  it('needs every server to have the version and the revision, and at least one server', () => {
    expect(allServersReady([doc([1, 2], 3), doc([2], 4)], 'a.b', 2, 3)).toBe(true);
    expect(allServersReady([doc([1, 2], 3), doc([1], 4)], 'a.b', 2, 3)).toBe(false);
    expect(allServersReady([doc([1, 2], 2)], 'a.b', 2, 3)).toBe(false);
    expect(allServersReady([], 'a.b', 2, 3)).toBe(false);
  });
});
