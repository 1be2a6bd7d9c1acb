// Shadow traffic: the candidate gets a copy of a request stable is answering, runs it off the
// request path, and its answer is only compared (latency, error, agreement with stable's answer)
// and counted, never returned: the client's answer does not wait for it and never contains it.
// Copies in flight are bounded, so a slow candidate cannot pile up work; beyond the bound a copy
// is dropped and counted (mlops_inference_shadow_requests_total{result="dropped"}).
import type { LoadedModel } from './loaded-model';
import type { ServingMetrics } from './metrics';
import type { Block, Prediction } from './protocol';
import type { VersionStats } from './version-stats';

/** Mirrored requests in flight at most, per server. */
const SHADOW_INFLIGHT_MAX = 64;
/** Regression answers agree when within this share of stable's value (or of 1, near zero). */
const VALUE_TOLERANCE = 0.01;

/** Whether two answers to the same rows agree: every label equal, or every value within tolerance. */
export function agrees(a: Prediction, b: Prediction): boolean {
  if (a.rows !== b.rows) return false;
  if (a.labels && b.labels) return a.labels.every((l, i) => l === b.labels![i]);
  if (a.values && b.values) {
    return Array.from(a.values).every(
      (v, i) => Math.abs(v - b.values![i]) <= VALUE_TOLERANCE * Math.max(1, Math.abs(v))
    );
  }
  return false;
}

export class ShadowMirror {
  private inflight = 0;

  constructor(
    private readonly stats: VersionStats,
    private readonly metrics: ServingMetrics
  ) {}

  /**
   * Runs the request's rows on `candidate` (already acquired; released here) and compares its
   * answer with `stable`'s. `rows` decodes them for the candidate (its inputs may differ from
   * stable's; a request it cannot take counts as its error). `started` is the request's start
   * (hrtime), so both versions' latencies are measured alike.
   */
  mirror(candidate: LoadedModel, rows: () => Block, stable: Promise<Prediction>, started: bigint): void {
    const labels = { model: candidate.name, version: String(candidate.version) };
    if (this.inflight >= SHADOW_INFLIGHT_MAX) {
      candidate.release();
      this.metrics.shadow.inc({ ...labels, result: 'dropped' });
      return;
    }
    this.inflight++;
    const answer = Promise.resolve()
      .then(() => candidate.predict(rows()))
      .then(
        (prediction) => ({ prediction, latencyMs: sinceMs(started) }),
        () => ({ prediction: undefined, latencyMs: sinceMs(started) })
      );
    void Promise.all([answer, stable.catch(() => undefined)]).then(([own, reference]) => {
      this.inflight--;
      candidate.release();
      const error = own.prediction === undefined;
      // Compared whenever stable answered; a failed copy counts as a disagreement.
      const agreed = reference ? !error && agrees(reference, own.prediction!) : undefined;
      this.stats.record({
        model: candidate.name,
        version: candidate.version,
        shadow: true,
        latencyMs: own.latencyMs,
        error,
        prediction: own.prediction,
        agreed,
      });
      this.metrics.shadow.inc({ ...labels, result: error ? 'error' : agreed ? 'agreed' : 'disagreed' });
    });
  }
}

export function sinceMs(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e6;
}
