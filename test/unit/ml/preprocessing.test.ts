import { fitPreprocessing, MlInputError, transform, type Frame } from '../../../lib/ml';

const all = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('preprocessing', () => {
  const frame: Frame = {
    length: 5,
    columns: {
      x: Float64Array.from([1, NaN, 3, 10, 2]),
      k: Float64Array.from([7, 7, 7, 7, 7]),
      color: ['red', null, 'blue', 'red', 'green'],
    },
  };
  const features = [
    { name: 'color', type: 'categorical' as const },
    { name: 'x', type: 'numeric' as const },
    { name: 'k', type: 'numeric' as const },
  ];

  it('imputes the median of present values and standardises after imputation', () => {
    const p = fitPreprocessing(frame, features, all(5));
    const x = p.numeric.find((n) => n.name === 'x')!;
    expect(x.median).toBe(2.5); // median of 1, 2, 3, 10 (even count)
    const imputed = [1, 2.5, 3, 10, 2];
    const mean = imputed.reduce((s, v) => s + v, 0) / 5;
    const std = Math.sqrt(imputed.reduce((s, v) => s + (v - mean) ** 2, 0) / 5);
    expect(x.mean).toBeCloseTo(mean, 12);
    expect(x.std).toBeCloseTo(std, 12);
    const t = transform(frame, p);
    expect(t[1 * p.width + 0]).toBeCloseTo((2.5 - mean) / std, 6);
  });

  it('keeps a constant column finite (scale 1, value 0)', () => {
    const p = fitPreprocessing(frame, features, all(5));
    const k = p.numeric.find((n) => n.name === 'k')!;
    expect(k.std).toBe(1);
    const t = transform(frame, p);
    for (let i = 0; i < 5; i++) expect(t[i * p.width + 1]).toBe(0);
  });

  it('one-hot encodes with sorted categories, missing as its own category, and an unseen bucket', () => {
    const p = fitPreprocessing(frame, features, [0, 1, 2, 3]); // green is not in the training rows
    expect(p.categorical[0].categories).toEqual(['', 'blue', 'red']);
    expect(p.width).toBe(2 + 4);
    const t = transform(frame, p);
    const hot = (row: number) => Array.from(t.subarray(row * p.width + 2, row * p.width + 6));
    expect(hot(0)).toEqual([0, 0, 1, 0]); // red
    expect(hot(1)).toEqual([1, 0, 0, 0]); // null -> ''
    expect(hot(4)).toEqual([0, 0, 0, 1]); // green -> unseen
  });

  it('fits on the given rows only', () => {
    const p = fitPreprocessing(frame, [{ name: 'x', type: 'numeric' }], [0, 2]);
    expect(p.numeric[0].median).toBe(2);
    expect(p.numeric[0].mean).toBe(2);
  });

  it('reads a numeric column declared categorical as strings', () => {
    const p = fitPreprocessing(frame, [{ name: 'k', type: 'categorical' }], all(5));
    expect(p.categorical[0].categories).toEqual(['7']);
  });

  it('explains unusable columns', () => {
    const empty: Frame = { length: 2, columns: { x: Float64Array.from([NaN, NaN]), s: ['a', 'b'] } };
    expect(() => fitPreprocessing(empty, [{ name: 'x', type: 'numeric' }], [0, 1])).toThrow(MlInputError);
    expect(() => fitPreprocessing(empty, [{ name: 'x', type: 'numeric' }], [0, 1])).toThrow(/drop the column/);
    expect(() => fitPreprocessing(empty, [{ name: 'nope', type: 'numeric' }], [0])).toThrow(/not in the data/);
    expect(() => fitPreprocessing(empty, [{ name: 's', type: 'numeric' }], [0])).toThrow(/declare it categorical/);
    expect(() => fitPreprocessing(empty, [], [0])).toThrow(/at least one feature/);
    const inf: Frame = { length: 2, columns: { x: Float64Array.from([1, Infinity]) } };
    expect(() => fitPreprocessing(inf, [{ name: 'x', type: 'numeric' }], [0, 1])).toThrow(/infinite value at row 1/);
  });

  it('rejects values that become non-finite after preprocessing at transform time', () => {
    const p = fitPreprocessing(frame, [{ name: 'x', type: 'numeric' }], all(5));
    const later: Frame = { length: 1, columns: { x: Float64Array.from([Infinity]) } };
    expect(() => transform(later, p)).toThrow(/non-finite after preprocessing/);
  });

  it('is small and JSON-serialisable', () => {
    const p = fitPreprocessing(frame, features, all(5));
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});
