// Quality gates: pure decision logic, safe to import from workflow code (no I/O, no zod).
import type { Task } from '../ml/types';
import type { GatesSpec } from '../spec/schema';

/** Metrics of one model on the held-out split (the evaluate activity's output). */
export interface EvaluationSummary {
  task: Task;
  accuracy?: number;
  macroF1?: number;
  rocAuc?: number;
  logLoss?: number;
  rmse?: number;
  mae?: number;
  r2?: number;
}

export interface GateCheck {
  gate: string;
  metric: string;
  threshold: number;
  actual: number | null;
  passed: boolean;
}

/**
 * The rows the champion comparison scored both models on. A retrain on growing data puts rows the
 * champion learnt from into the new test split; only rows neither model was trained on are fair.
 */
export interface HeldOutRows {
  /** unseen: the test split minus the champion's training rows (by row digest); test-split: all
   *  of it, because the champion recorded no training rows (versions registered before the fix). */
  basis: 'unseen' | 'test-split';
  /** Rows both models were scored on. */
  rows: number;
  /** Test rows left out because the champion was trained on them. */
  excludedRows: number;
  /** The challenger's metrics on those rows (the champion's are the comparison's `metrics`). */
  challenger: EvaluationSummary;
}

export interface GateResult {
  passed: boolean;
  checks: GateCheck[];
  /** One sentence naming each failed gate; empty when passed. */
  reason: string;
  /** Which rows the champion comparison used (absent: no comparison, or a run before the fix). */
  heldOut?: Omit<HeldOutRows, 'challenger'>;
}

/** The metric the champion comparison and optimisation tolerance use: accuracy or R². */
export function primaryMetric(task: Task): 'accuracy' | 'r2' {
  return task === 'classification' ? 'accuracy' : 'r2';
}

const ABSOLUTE: { gate: keyof GatesSpec; metric: keyof EvaluationSummary; kind: 'min' | 'max' }[] = [
  { gate: 'minAccuracy', metric: 'accuracy', kind: 'min' },
  { gate: 'minMacroF1', metric: 'macroF1', kind: 'min' },
  { gate: 'minRocAuc', metric: 'rocAuc', kind: 'min' },
  { gate: 'maxLogLoss', metric: 'logLoss', kind: 'max' },
  { gate: 'maxRmse', metric: 'rmse', kind: 'max' },
  { gate: 'maxMae', metric: 'mae', kind: 'max' },
  { gate: 'minR2', metric: 'r2', kind: 'min' },
];

/**
 * Checks the challenger against the absolute gates (on the whole test split) and, when a champion
 * (the production model) was evaluated, against `maxRegression` on the rows both were scored on
 * (`heldOut`; without it, the whole split as before the fix).
 */
export function evaluateGates(
  gates: GatesSpec,
  challenger: EvaluationSummary,
  champion?: EvaluationSummary | null,
  heldOut?: HeldOutRows
): GateResult {
  const checks: GateCheck[] = [];
  for (const { gate, metric, kind } of ABSOLUTE) {
    const threshold = gates[gate];
    if (typeof threshold !== 'number') continue;
    const v = challenger[metric];
    const actual = typeof v === 'number' && Number.isFinite(v) ? v : null;
    // A gate on a metric the task does not produce (e.g. rocAuc on 3 classes) fails loudly.
    const passed = actual !== null && (kind === 'min' ? actual >= threshold : actual <= threshold);
    checks.push({ gate, metric, threshold, actual, passed });
  }
  if (typeof gates.maxRegression === 'number' && champion) {
    const metric = primaryMetric(challenger.task);
    const c = champion[metric];
    const v = (heldOut?.challenger ?? challenger)[metric];
    if (typeof c === 'number' && typeof v === 'number') {
      const threshold = c - gates.maxRegression;
      checks.push({ gate: 'maxRegression', metric, threshold, actual: v, passed: v >= threshold });
    }
  }
  const failed = checks.filter((c) => !c.passed);
  const fmt = (x: number | null) => (x === null ? 'not available' : Number(x.toFixed(4)).toString());
  const reason = failed
    .map((c) =>
      c.gate === 'maxRegression'
        ? `${c.metric} ${fmt(c.actual)} is more than ${gates.maxRegression} below the production model's ${fmt(
            c.threshold + (gates.maxRegression ?? 0)
          )}${heldOut ? ` on ${heldOut.rows} test row(s) ${heldOut.basis === 'unseen' ? 'neither model was trained on' : 'of the test split'}` : ''}`
        : `${c.metric} ${fmt(c.actual)} fails ${c.gate} ${c.threshold}`
    )
    .join('; ');
  const result: GateResult = { passed: failed.length === 0, checks, reason };
  if (heldOut && champion) {
    const { basis, rows, excludedRows } = heldOut;
    result.heldOut = { basis, rows, excludedRows };
  }
  return result;
}
