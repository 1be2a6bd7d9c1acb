// Run spec entry point: validate what a user submitted and fill in the defaults.
//   parseRunSpec(body)      -> RunSpec, or throws RunSpecError listing every problem by path
//   safeParseRunSpec(body)  -> { ok: true, spec } | { ok: false, problems }
// The API validates POST /v1/runs bodies with this before starting the `pipeline` workflow;
// the workflow receives the parsed RunSpec (plain JSON, re-parsing it is a no-op).
import { runSpecSchema, type RunSpec } from './schema';
import { markErrorClass } from '../workflow-safe/typed-error';

export * from './schema';
export { parseDuration, formatDuration } from './duration';
export {
  evaluateGates,
  primaryMetric,
  type GateResult,
  type GateCheck,
  type EvaluationSummary,
} from '../workflow-safe/quality-gates';

export interface SpecProblem {
  /** Dotted path of the field, e.g. "trainer.epochs" ("" for the whole spec). */
  path: string;
  message: string;
}

export class RunSpecError extends Error {
  constructor(readonly problems: SpecProblem[]) {
    super(`Invalid run spec: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`);
  }
}
markErrorClass(RunSpecError, 'RunSpecError');

export function safeParseRunSpec(input: unknown): { ok: true; spec: RunSpec } | { ok: false; problems: SpecProblem[] } {
  const parsed = runSpecSchema.safeParse(input);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => ({
      path: i.path.join('.'),
      message:
        i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message,
    })),
  };
}

export function parseRunSpec(input: unknown): RunSpec {
  const r = safeParseRunSpec(input);
  if (!r.ok) throw new RunSpecError(r.problems);
  return r.spec;
}
