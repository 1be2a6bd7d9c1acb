// Rollout gate decisions: the candidate's live numbers against its gates and against stable.
// Pure (no I/O), so the rules are unit-tested on their own; activities/rollout.ts feeds it the
// serving_stats of a step's window and records what it returns, numbers included, so a history
// says why each step passed or failed.
//   fail          error rate above maxErrorRate (also early: errors already beyond what minRequests
//                 could absorb), p99 above maxP99Ms, or prediction shift above maxPredictionShift;
//   inconclusive  fewer than minRequests candidate answers (or stable answers to compare with);
//   pass          none of the above with enough requests. Silence is never a pass.
import type { DeployGates } from '../spec/deploy';
import { LATENCY_BOUNDS_MS, type ServingStatsDoc } from '../store/deployments';

export interface VersionStats {
  requests: number;
  errors: number;
  latency: number[];
  predictions: Record<string, number>;
  compared: number;
  agreed: number;
}

export interface VersionNumbers {
  requests: number;
  errors: number;
  errorRate: number | null;
  /** Upper bound of the histogram bucket holding the 99th percentile (over the last bound reads last+1). */
  p99Ms: number | null;
  predictions: Record<string, number>;
}

export interface GateDecision {
  outcome: 'pass' | 'fail' | 'inconclusive';
  /** One line per check that failed or could not be decided; empty on pass. */
  reasons: string[];
  candidate: VersionNumbers;
  stable: VersionNumbers;
  /** Jensen-Shannon divergence (base 2) of the two prediction distributions; null when not compared. */
  shift: number | null;
  /** Population stability index of the same distributions (reported, not gated). */
  psi: number | null;
  /** Shadow: share of mirrored answers that agreed with stable's. */
  agreement: number | null;
  gates: DeployGates;
}

export function emptyStats(): VersionStats {
  return {
    requests: 0,
    errors: 0,
    latency: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0),
    predictions: {},
    compared: 0,
    agreed: 0,
  };
}

/** Adds up the windows (several servers, several windows) of one version. */
export function sumStats(
  docs: Pick<ServingStatsDoc, 'requests' | 'errors' | 'latency' | 'predictions' | 'compared' | 'agreed'>[]
): VersionStats {
  const s = emptyStats();
  for (const d of docs) {
    s.requests += d.requests ?? 0;
    s.errors += d.errors ?? 0;
    // An array, or an object keyed by bucket index where a writer $inc'ed buckets into an empty document.
    for (const [i, n] of Object.entries(d.latency ?? {})) {
      if (Number(i) < s.latency.length) s.latency[Number(i)]! += n;
    }
    for (const [label, n] of Object.entries(d.predictions ?? {}))
      s.predictions[label] = (s.predictions[label] ?? 0) + n;
    s.compared += d.compared ?? 0;
    s.agreed += d.agreed ?? 0;
  }
  return s;
}

/** The q-quantile's bucket upper bound; answers over the last bound read as last bound + 1. */
export function quantileMs(latency: number[], q: number): number | null {
  const total = latency.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < latency.length; i++) {
    seen += latency[i]!;
    if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i]! : LATENCY_BOUNDS_MS.at(-1)! + 1;
  }
  return LATENCY_BOUNDS_MS.at(-1)! + 1;
}

function distributions(a: Record<string, number>, b: Record<string, number>, eps = 0) {
  const labels = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const ta = labels.reduce((s, l) => s + (a[l] ?? 0), 0);
  const tb = labels.reduce((s, l) => s + (b[l] ?? 0), 0);
  const norm = (v: number, t: number) => (v + eps) / (t + eps * labels.length);
  return labels.map((l) => [norm(a[l] ?? 0, ta), norm(b[l] ?? 0, tb)] as const);
}

/** Jensen-Shannon divergence, base 2: 0 for equal distributions, 1 for disjoint ones. */
export function jensenShannon(a: Record<string, number>, b: Record<string, number>): number {
  let js = 0;
  for (const [p, q] of distributions(a, b)) {
    const m = (p + q) / 2;
    if (p > 0) js += 0.5 * p * Math.log2(p / m);
    if (q > 0) js += 0.5 * q * Math.log2(q / m);
  }
  return Math.max(0, Math.min(1, js));
}

/** Population stability index with additive smoothing (empty bins would make it infinite). */
export function psi(expected: Record<string, number>, actual: Record<string, number>): number {
  let sum = 0;
  for (const [e, a] of distributions(expected, actual, 0.5)) sum += (a - e) * Math.log(a / e);
  return sum;
}

function numbers(s: VersionStats): VersionNumbers {
  return {
    requests: s.requests,
    errors: s.errors,
    errorRate: s.requests > 0 ? s.errors / s.requests : null,
    p99Ms: quantileMs(s.latency, 0.99),
    predictions: s.predictions,
  };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * The decision for one window. `compareShift` is false where stable takes no traffic to compare with
 * (blue-green after the switch); the absolute gates still apply.
 */
export function decideGate(
  gates: DeployGates,
  candidate: VersionStats,
  stable: VersionStats,
  opts: { compareShift: boolean }
): GateDecision {
  const c = numbers(candidate);
  const s = numbers(stable);
  const fails: string[] = [];
  const unknown: string[] = [];
  const enough = candidate.requests >= gates.minRequests;
  // Errors beyond what even minRequests answers could absorb fail the step before it has them all.
  if (candidate.errors > gates.maxErrorRate * Math.max(candidate.requests, gates.minRequests)) {
    fails.push(
      `error rate ${candidate.errors}/${candidate.requests} exceeds maxErrorRate ${gates.maxErrorRate}` +
        (enough ? '' : ` (already more than ${gates.maxErrorRate} of minRequests ${gates.minRequests})`)
    );
  }
  if (!enough) unknown.push(`${candidate.requests} candidate requests, fewer than minRequests ${gates.minRequests}`);
  if (enough && c.p99Ms !== null && c.p99Ms > gates.maxP99Ms) {
    fails.push(`p99 ${c.p99Ms} ms exceeds maxP99Ms ${gates.maxP99Ms}`);
  }
  let shift: number | null = null;
  let psiValue: number | null = null;
  const predicted = (v: VersionStats) => Object.values(v.predictions).reduce((a, b) => a + b, 0);
  if (opts.compareShift && enough) {
    if (predicted(stable) >= gates.minRequests && predicted(candidate) > 0) {
      shift = round(jensenShannon(candidate.predictions, stable.predictions));
      psiValue = round(psi(stable.predictions, candidate.predictions));
      if (shift > gates.maxPredictionShift) {
        fails.push(`prediction shift (Jensen-Shannon) ${shift} exceeds maxPredictionShift ${gates.maxPredictionShift}`);
      }
    } else {
      unknown.push(`too few predictions to compare (candidate ${predicted(candidate)}, stable ${predicted(stable)})`);
    }
  }
  const outcome = fails.length > 0 ? 'fail' : unknown.length > 0 ? 'inconclusive' : 'pass';
  return {
    outcome,
    reasons: outcome === 'fail' ? fails : unknown,
    candidate: c,
    stable: s,
    shift,
    psi: psiValue,
    agreement: candidate.compared > 0 ? round(candidate.agreed / candidate.compared) : null,
    gates,
  };
}
