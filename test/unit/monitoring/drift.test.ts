// Which test decides a categorical column: Evidently's two-proportion Z-test for a binary column
// with a small reference, chi² with more categories, Jensen-Shannon for a large reference, and
// whatever the policy names.
import { columnDrift, thresholdsOf, type CategoricalMethod } from '../../../lib/monitoring/drift';
import { profileCategorical, sketchFor, type CategoricalSketch } from '../../../lib/monitoring/profile';
import { twoProportionZ } from '../../../lib/monitoring/stats';
import { monitorPolicySchema } from '../../../lib/spec/policy';

const repeat = (counts: Record<string, number>) => Object.entries(counts).flatMap(([v, n]) => Array(n).fill(v));

function drift(reference: Record<string, number>, current: Record<string, number>, categorical?: CategoricalMethod) {
  const ref = profileCategorical('c', repeat(reference));
  const sketch = sketchFor(ref) as CategoricalSketch;
  for (const v of repeat(current)) sketch.add(v);
  return columnDrift(ref, sketch, { thresholds: thresholdsOf(undefined), methods: { categorical } });
}

describe('categorical drift method', () => {
  it('a binary column with a small reference is decided by the Z-test on its shares', () => {
    const d = drift({ yes: 60, no: 40 }, { yes: 40, no: 60 });
    expect(d.method).toBe('z');
    expect(d.score).toBeCloseTo(twoProportionZ(60, 100, 40, 100).pValue, 12);
    expect(d.score).toBeCloseTo(0.004677734981047266, 12);
    expect(d.stats.z).toBeCloseTo(2 * Math.SQRT2, 12);
    expect(d.drifted).toBe(true);
    expect(drift({ yes: 50, no: 50 }, { yes: 48, no: 52 }).drifted).toBe(false);
  });

  it('three categories, or a binary reference meeting an unseen value, take chi²', () => {
    expect(drift({ a: 50, b: 30, c: 20 }, { a: 45, b: 30, c: 25 }).method).toBe('chi2');
    // Evidently counts the values of both sides: 'maybe' makes three.
    expect(drift({ yes: 60, no: 40 }, { yes: 40, no: 50, maybe: 10 }).method).toBe('chi2');
  });

  it('a large reference is decided by Jensen-Shannon, and the policy may name the Z-test', () => {
    expect(drift({ yes: 600, no: 500 }, { yes: 40, no: 60 }).method).toBe('jensen_shannon');
    const policy = monitorPolicySchema.parse({ methods: { categorical: 'z' } });
    expect(policy.methods.categorical).toBe('z');
    const d = drift({ yes: 600, no: 500 }, { yes: 40, no: 60 }, policy.methods.categorical);
    expect(d).toMatchObject({ method: 'z', threshold: 0.05 });
    expect(d.score).toBeCloseTo(twoProportionZ(600, 1100, 40, 100).pValue, 12);
  });
});
