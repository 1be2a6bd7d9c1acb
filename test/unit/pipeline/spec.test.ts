import { evaluateGates, parseDuration, parseRunSpec, RunSpecError, safeParseRunSpec } from '../../../lib/spec';

describe('run spec', () => {
  it('fills every default for the smallest spec', () => {
    const s = parseRunSpec({ model: 'penguins', dataset: { path: 'penguins.csv' }, target: 'species' });
    expect(s.task).toBeUndefined();
    expect(s.approval).toEqual({ required: true, timeout: 72 * 3_600_000 });
    expect(s.split).toEqual({ test: 0.2, seed: 42, stratify: true });
    expect(s.trainer.model).toBe('mlp');
    expect(s.gates.maxRegression).toBe(0.02);
    expect(s.optimise).toMatchObject({ int8: true, prune: true, maxAccuracyDrop: 0.01 });
    expect(s.features).toEqual({ types: {}, drop: [] });
    // Parsing a parsed spec changes nothing (the workflow may receive either form).
    expect(parseRunSpec(s)).toEqual(s);
  });

  it('accepts bundled names and synthetic datasets', () => {
    expect(parseRunSpec({ model: 'm', dataset: { name: 'penguins' }, target: 'species' }).dataset).toEqual({
      name: 'penguins',
    });
    const syn = parseRunSpec({ model: 'm', dataset: { synthetic: { rows: 100 } }, target: 'target' }).dataset;
    expect(syn).toMatchObject({ synthetic: { rows: 100, task: 'classification', seed: 1 } });
  });

  it('refuses unknown fields and bad values, naming each path', () => {
    const r = safeParseRunSpec({
      model: 'bad name!',
      dataset: { path: 'x.csv' },
      target: 'y',
      trainer: { epochs: 0, colour: 'red' },
      approval: { timeout: 'soon' },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const paths = r.problems.map((p) => p.path).sort();
    expect(paths).toEqual(['approval.timeout', 'model', 'trainer', 'trainer.epochs']);
    expect(r.problems.find((p) => p.path === 'trainer')?.message).toMatch(/unknown field\(s\) "colour"/);
    expect(() => parseRunSpec({ model: 'm' })).toThrow(RunSpecError);
  });

  it('parses durations', () => {
    expect(parseDuration('72h')).toBe(259_200_000);
    expect(parseDuration('30 minutes')).toBe(1_800_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration(250)).toBe(250);
    expect(parseDuration('soon')).toBeUndefined();
  });
});

describe('quality gates', () => {
  const gates = parseRunSpec({
    model: 'm',
    dataset: { name: 'penguins' },
    target: 'species',
    gates: { minAccuracy: 0.9 },
  }).gates;
  it('passes and fails absolute gates with a reason', () => {
    expect(evaluateGates(gates, { task: 'classification', accuracy: 0.95 }).passed).toBe(true);
    const r = evaluateGates(gates, { task: 'classification', accuracy: 0.8 });
    expect(r.passed).toBe(false);
    expect(r.reason).toBe('accuracy 0.8 fails minAccuracy 0.9');
  });
  it('compares the challenger with the production champion', () => {
    const champ = { task: 'classification' as const, accuracy: 0.99 };
    expect(evaluateGates(gates, { task: 'classification', accuracy: 0.98 }, champ).passed).toBe(true);
    const r = evaluateGates(gates, { task: 'classification', accuracy: 0.95 }, champ);
    expect(r.passed).toBe(false);
    expect(r.reason).toMatch(/more than 0.02 below the production model's 0.99/);
  });
  it('fails a gate on a metric the task does not produce', () => {
    const g = { ...gates, minAccuracy: undefined, maxRmse: 1 };
    expect(evaluateGates(g, { task: 'classification', accuracy: 1 }).checks[0]).toMatchObject({
      actual: null,
      passed: false,
    });
  });
});

describe('ferretSafe', () => {
  it('stores arrays inside arrays as JSON text and leaves the rest alone', async () => {
    const { ferretSafe } = await import('../../../lib/store/ferret-safe');
    const at = new Date(0);
    expect(ferretSafe({ a: [1, [2, 3], { b: [[4]] }], c: { d: [5] }, at })).toEqual({
      a: [1, '[2,3]', { b: ['[4]'] }],
      c: { d: [5] },
      at,
    });
  });
});
