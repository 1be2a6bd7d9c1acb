// Control queue: run history. The run document's status and stage, workflow-level steps (the
// quality gate, the approval wait) as run events, and the final state with its duration.
import { recordStepEnd } from '../lib/store/events';
import { indexRunUpdate } from '../lib/store/run-index';
import { createRun, getRun, updateRun, type RunDoc } from '../lib/store/runs';
import { parseRunSpec, type RunSpec } from '../lib/spec';
import { classify, ensureIndexesOnce, type ActivityDeps } from './common';
import type { FinishInput, RunRef, RunStatePatch, WorkflowStepEvent } from './types';
import type { RetrainTrigger } from '../lib/workflow-safe/lifecycle';

export function createHistoryActivities(deps: ActivityDeps) {
  /**
   * Updates the run; on a status change also its entry in the API's run index, so that
   * `GET /v1/runs?status=` (e.g. awaiting_approval) shows it at once instead of after the API's
   * next reconciler pass. Stage changes are left to the readers (they re-read open runs).
   */
  const saveRun = async (runId: string, patch: Partial<RunDoc>) => {
    await updateRun(deps.store, runId, patch);
    if (!patch.status) return;
    const doc = await getRun(deps.store, runId);
    if (doc) await indexRunUpdate(deps.store.db, doc);
  };

  return {
    /**
     * Records the run and returns its spec validated with every default filled in (a spec that is
     * not valid fails the run at once, naming each field).
     */
    async startRun(
      input: RunRef & { startedAt: number; createdBy?: string; triggers?: RetrainTrigger[] }
    ): Promise<RunSpec> {
      await ensureIndexesOnce(deps.store);
      let spec: RunSpec;
      try {
        spec = parseRunSpec(input.spec);
      } catch (err) {
        const model = String((input.spec as unknown as { model?: unknown })?.model ?? '');
        await createRun(deps.store, { runId: input.runId, model, spec: input.spec, createdBy: input.createdBy });
        throw classify(err);
      }
      await createRun(deps.store, { runId: input.runId, model: spec.model, spec, createdBy: input.createdBy });
      await saveRun(input.runId, {
        status: 'running',
        stage: 'started',
        startedAt: new Date(input.startedAt),
        ...(input.triggers?.length ? { triggers: input.triggers } : {}),
      });
      return spec;
    },

    async setRunState(input: RunStatePatch): Promise<void> {
      const patch: Partial<RunDoc> = { ...(input.fields as Partial<RunDoc>) };
      if (input.status) patch.status = input.status;
      if (input.stage) patch.stage = input.stage;
      if (input.fields?.pendingApproval) {
        const p = input.fields.pendingApproval as { version: number; deadline: number };
        patch.pendingApproval = { version: p.version, deadline: new Date(p.deadline) };
      }
      await saveRun(input.runId, patch);
    },

    /** A step decided in the workflow itself (gate, approval wait), recorded like an activity's. */
    async recordWorkflowStep(e: WorkflowStepEvent): Promise<void> {
      await recordStepEnd(deps.store, {
        runId: e.runId,
        step: e.step,
        attempt: 1,
        status: e.status,
        queue: 'workflow',
        startedAt: new Date(e.startedAt),
        endedAt: new Date(e.endedAt),
        details: e.details,
        error: e.error ? { message: e.error, retryable: false } : undefined,
      });
    },

    async finishRun(input: FinishInput): Promise<void> {
      await saveRun(input.runId, {
        ...(input.fields as Partial<RunDoc>),
        status: input.status,
        stage: input.stage,
        endedAt: new Date(input.endedAt),
        durationMs: input.endedAt - input.startedAt,
        error: input.error ?? null,
        pendingApproval: null,
      });
    },
  };
}
