// The quality gate: the spec's gates applied to the challenger's metrics (and the production
// champion's, on the rows neither was trained on), recorded as a workflow step and on the run.
import { patched } from '@temporalio/workflow';
import type { EvaluateResult } from '../../activities/types';
import { evaluateGates, type GateResult } from '../../lib/workflow-safe/quality-gates';
import type { PipelineActivities } from './activities';
import type { RunState } from './state';

export async function qualityGate(
  run: RunState,
  acts: PipelineActivities,
  evaluation: EvaluateResult
): Promise<GateResult> {
  const gateStarted = Date.now();
  // v4: the champion comparison uses the rows neither model was trained on (evaluate reports
  // them); histories whose gate was decided on the whole test split replay with that rule.
  const heldOut = patched('gate-held-out-rows') ? evaluation.champion?.heldOut : undefined;
  const gate = evaluateGates(run.spec.gates, evaluation.challenger, evaluation.champion?.metrics ?? null, heldOut);
  await acts.history.recordWorkflowStep({
    runId: run.runId,
    step: 'gate',
    status: gate.passed ? 'completed' : 'failed',
    startedAt: gateStarted,
    endedAt: Date.now(),
    details: {
      passed: gate.passed,
      checks: gate.checks,
      champion: evaluation.champion?.version ?? null,
      ...(gate.heldOut ? { heldOut: gate.heldOut } : {}),
    },
    error: gate.passed ? undefined : gate.reason,
  });
  await acts.history.setRunState({ runId: run.runId, fields: { gate } });
  return gate;
}
