// Model quality over a window from labels sent after the fact (POST /v1/models/{name}/feedback),
// each paired with the prediction logged for the same request and row. Streaming: only a
// confusion table (classification) or error sums (regression) are kept, never the pairs.

export class QualityAccumulator {
  labelled = 0;
  private correct = 0;
  /** `${truth}\u0000${predicted}` -> count. */
  private readonly confusion = new Map<string, number>();
  private sqErr = 0;
  private absErr = 0;
  private numeric = 0;

  add(truth: string | number, predicted: unknown): void {
    if (typeof truth === 'number' && typeof predicted === 'number') {
      const e = predicted - truth;
      this.sqErr += e * e;
      this.absErr += Math.abs(e);
      this.numeric++;
      this.labelled++;
      return;
    }
    if (predicted === null || predicted === undefined) return;
    const t = String(truth);
    const p = String(predicted);
    if (t === p) this.correct++;
    const key = `${t}\u0000${p}`;
    this.confusion.set(key, (this.confusion.get(key) ?? 0) + 1);
    this.labelled++;
  }

  /** Accuracy and macro F1, or RMSE and MAE; null below `minLabels` labelled rows. */
  result(minLabels: number): Record<string, number> | null {
    if (this.labelled < minLabels || this.labelled === 0) return null;
    if (this.numeric > 0) {
      return { labels: this.numeric, rmse: Math.sqrt(this.sqErr / this.numeric), mae: this.absErr / this.numeric };
    }
    const classes = new Set<string>();
    const tp = new Map<string, number>();
    const fp = new Map<string, number>();
    const fn = new Map<string, number>();
    const inc = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
    for (const [key, n] of this.confusion) {
      const [t, p] = key.split('\u0000');
      classes.add(t).add(p);
      if (t === p) inc(tp, t, n);
      else {
        inc(fp, p, n);
        inc(fn, t, n);
      }
    }
    let f1 = 0;
    for (const c of classes) {
      const a = tp.get(c) ?? 0;
      f1 += (2 * a) / (2 * a + (fp.get(c) ?? 0) + (fn.get(c) ?? 0));
    }
    return { labels: this.labelled, accuracy: this.correct / this.labelled, macroF1: f1 / classes.size };
  }
}
