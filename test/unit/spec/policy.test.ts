// The policy schema's edges: a monitoring window of at most 30 days (the drift sketches' default
// retention; longer ones would mean an activity of millions of point lookups), every drift
// threshold configurable, and onCommit without a repository explained rather than "Required".
import { thresholdsOf } from '../../../lib/monitoring/drift';
import { modelPolicySchema, monitorPolicySchema } from '../../../lib/spec/policy';

function problems(input: unknown): string[] {
  const r = modelPolicySchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('policy schema', () => {
  it('takes a monitoring window of up to 30 days and refuses a longer one, saying why', () => {
    expect(monitorPolicySchema.parse({ window: '30d' }).window).toBe(30 * 86_400_000);
    expect(problems({ monitor: { window: '31d' } })).toEqual([
      'monitor.window: a duration such as "24h" (at least 10 s, at most 30 days: the drift sketches are kept 30 days by default, MLOPS_PREDICTION_LOG_TTL_DAYS)',
    ]);
    expect(problems({ monitor: { window: '100000d' } })).toHaveLength(1);
    expect(problems({ monitor: { window: 30 * 86_400_000 + 1 } })).toHaveLength(1);
  });

  it('makes smallReferenceRows configurable like every other default', () => {
    const policy = monitorPolicySchema.parse({ thresholds: { smallReferenceRows: 5000 } });
    expect(thresholdsOf(policy).smallReferenceRows).toBe(5000);
    expect(thresholdsOf(monitorPolicySchema.parse({})).smallReferenceRows).toBe(1000);
    expect(monitorPolicySchema.parse({ thresholds: { smallReferenceRows: 0 } }).thresholds.smallReferenceRows).toBe(0);
    expect(problems({ monitor: { thresholds: { smallReferenceRows: -1 } } })).toHaveLength(1);
    expect(problems({ monitor: { thresholds: { smallReferenceRows: 1.5 } } })).toHaveLength(1);
  });

  it('onCommit without a repository says what the repository is', () => {
    const spec = { model: 'penguins', dataset: { name: 'penguins' }, target: 'species' };
    const [problem, ...rest] = problems({ retrain: { onCommit: { branch: 'main' }, spec } });
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^retrain\.onCommit\.repository: required: .*owner\/name .*repository\.full_name/);
  });
});
