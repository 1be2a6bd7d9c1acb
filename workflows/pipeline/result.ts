// How a run ends: whatever the outcome, the view says `done`, the run document gets its final
// status (with the failed stage and the root cause's message on an error), and the workflow
// returns a PipelineResult. A failure is rethrown non-retryable, keeping the root cause's type; a
// cancellation is recorded outside the cancelled scope and rethrown as it came.
import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import { FAILURE } from '../../lib/workflow-safe/failures';
import type { RunStatus } from '../messages';
import type { PipelineActivities } from './activities';
import { enter, type RunState } from './state';
import type { PipelineResult } from './types';

export function resultOf(run: RunState): PipelineResult {
  const { view, training, evaluation } = run;
  return {
    runId: run.runId,
    status: view.status,
    model: run.spec.model,
    version: view.version,
    reason: view.reason,
    metrics: evaluation ? { ...evaluation.challenger } : null,
    promotion: run.promotion,
    training: training ? { epochsRun: training.epochsRun, resumedFromEpoch: training.resumedFromEpoch } : null,
  };
}

export async function finish(
  run: RunState,
  acts: PipelineActivities,
  status: RunStatus,
  reason: string | null,
  error?: { message: string; type?: string }
): Promise<PipelineResult> {
  const view = run.view;
  view.status = status;
  view.reason = reason;
  view.pendingApproval = null;
  const failedStage = view.stage;
  enter(run, 'done');
  view.progress = { ...view.progress, completed: view.progress.total, fraction: 1 };
  view.endedAt = new Date().toISOString();
  await acts.history.finishRun({
    runId: run.runId,
    status,
    stage: 'done',
    startedAt: run.startedAt,
    endedAt: Date.now(),
    error: error ? { ...error, stage: failedStage } : null,
    fields: reason && !error ? { reason } : undefined,
  });
  return resultOf(run);
}

/** The innermost cause's message of a failure chain (what the user needs to read). */
function rootMessage(err: unknown): { message: string; type?: string } {
  let e = err as { message?: string; cause?: unknown; type?: string } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return { message: e?.message ?? String(err), type: e?.type };
}

/** Ends the run after `err` escaped its stages; returns what the workflow must throw. */
export async function finishWithError(run: RunState, acts: PipelineActivities, err: unknown): Promise<unknown> {
  if (isCancellation(err)) {
    await CancellationScope.nonCancellable(async () => {
      await finish(run, acts, 'cancelled', 'the run was cancelled');
    });
    return err;
  }
  const root = rootMessage(err);
  const failedAt = run.view.stage;
  await finish(run, acts, 'failed', root.message, root);
  return ApplicationFailure.create({
    message: `run ${run.runId} failed at ${failedAt}: ${root.message}`,
    type: root.type ?? FAILURE.PipelineFailed,
    nonRetryable: true,
    cause: err as Error,
  });
}
