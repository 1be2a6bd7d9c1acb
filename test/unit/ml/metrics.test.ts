import { classificationMetrics, regressionMetrics } from '../../../lib/ml';
import { binaryAuc } from '../../../lib/ml/metrics';

describe('classificationMetrics', () => {
  // 3 classes, 6 rows. Truth a a b b c c; predicted a b b b c a.
  const yTrue = ['a', 'a', 'b', 'b', 'c', 'c'];
  const yPred = ['a', 'b', 'b', 'b', 'c', 'a'];
  const classes = ['a', 'b', 'c'];

  it('computes accuracy, confusion matrix and macro F1 by hand', () => {
    const m = classificationMetrics(yTrue, yPred, undefined, classes);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    // rows = truth, columns = prediction
    expect(m.confusionMatrix).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    // F1(a) = 2*1/(2+1+1) = 0.5; F1(b) = 2*2/(4+1+0) = 0.8; F1(c) = 2*1/(2+0+1) = 2/3
    expect(m.macroF1).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 12);
    expect(m.rocAuc).toBeUndefined();
    expect(m.logLoss).toBeUndefined();
  });

  it('computes log loss and one-vs-rest ROC AUC from probabilities', () => {
    const proba = Float32Array.from([
      0.7, 0.2, 0.1, 0.4, 0.5, 0.1, 0.1, 0.8, 0.1, 0.2, 0.6, 0.2, 0.1, 0.1, 0.8, 0.5, 0.2, 0.3,
    ]);
    const m = classificationMetrics(yTrue, yPred, proba, classes);
    const pTrue = [0.7, 0.4, 0.8, 0.6, 0.8, 0.3];
    expect(m.logLoss).toBeCloseTo(-pTrue.reduce((s, p) => s + Math.log(p), 0) / 6, 6);
    // class a scores: pos {0.7, 0.4}, neg {0.1, 0.2, 0.1, 0.5}: pairs won 4 + 3 = 7 of 8
    // class b scores: pos {0.8, 0.6}, neg {0.2, 0.5, 0.1, 0.2}: 8 of 8
    // class c scores: pos {0.8, 0.3}, neg {0.1, 0.1, 0.1, 0.2}: 8 of 8
    expect(m.rocAuc).toBeCloseTo((7 / 8 + 1 + 1) / 3, 6);
  });

  it('binary AUC uses the second class as positive and averages ties', () => {
    const m = classificationMetrics(
      ['n', 'p', 'n', 'p'],
      ['n', 'p', 'p', 'p'],
      Float32Array.from([0.9, 0.1, 0.4, 0.6, 0.4, 0.6, 0.6, 0.4]),
      ['n', 'p']
    );
    // positive scores {0.6, 0.4}, negative {0.1, 0.6}: 0.6>0.1 (1), 0.6=0.6 (0.5), 0.4>0.1 (1), 0.4<0.6 (0)
    expect(m.rocAuc).toBeCloseTo(2.5 / 4, 6);
    expect(binaryAuc([1, 1, 1], [1, 0, 1])).toBeCloseTo(0.5, 12);
    expect(binaryAuc([1, 2], [1, 1])).toBeUndefined();
  });

  it('clips probabilities of 0 in log loss like scikit-learn', () => {
    const m = classificationMetrics(['a', 'b'], ['a', 'a'], Float32Array.from([1, 0, 1, 0]), ['a', 'b']);
    expect(m.logLoss).toBeCloseTo(-Math.log(1e-15) / 2, 6);
  });

  it('perfect predictions give accuracy 1 and F1 1', () => {
    const m = classificationMetrics(['x', 'y'], ['x', 'y'], undefined, ['x', 'y']);
    expect(m.accuracy).toBe(1);
    expect(m.macroF1).toBe(1);
  });
});

describe('regressionMetrics', () => {
  it('computes RMSE, MAE and R2 by hand', () => {
    // errors: 0.5, -0.5, 0, 1 ; mean of truth = 5 ; SS_tot = 4+1+1+4 = 10
    const m = regressionMetrics([3, 4, 6, 7], [2.5, 4.5, 6, 6]);
    expect(m.mae).toBeCloseTo(2 / 4, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(1.5 / 4), 12);
    expect(m.r2).toBeCloseTo(1 - 1.5 / 10, 12);
  });

  it('handles a constant target like scikit-learn', () => {
    expect(regressionMetrics([2, 2], [2, 2]).r2).toBe(1);
    expect(regressionMetrics([2, 2], [2, 3]).r2).toBe(0);
  });

  it('rejects mismatched lengths', () => {
    expect(() => regressionMetrics([1, 2], [1])).toThrow(/rows/);
  });
});
