// One run's mutable state, passed explicitly to every part of the pipeline: the view the `status`
// query answers, the decision taken on it, and the results the run's end reports. Publishing the
// stage also upserts the search attributes (MlopsModel / MlopsStage / MlopsStatus) Temporal UI
// filters on.
import { setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { EvaluateResult, TrainResult } from '../../activities/types';
import type { RunSpec } from '../../lib/spec/schema';
import { MODEL_NAME, RUN_STATUS, STAGE } from '../../lib/workflow-safe/search-attributes';
import { STAGES, statusQuery, type ApprovalDecision, type PipelineStatus, type Stage } from '../messages';
import type { PipelineResult } from './types';

/** A decision as the workflow took it (`at`: workflow time, ms). */
export interface TakenDecision extends ApprovalDecision {
  at: number;
}

export interface RunState {
  readonly runId: string;
  /** Workflow time the run started (ms). */
  readonly startedAt: number;
  /** Until startRun has validated it, the spec is only trusted for its model name. */
  spec: RunSpec;
  /** What the `status` query answers. */
  readonly view: PipelineStatus;
  /** The first decision taken on the pending approval (null until then). */
  decision: TakenDecision | null;
  training: TrainResult | null;
  evaluation: EvaluateResult | null;
  promotion: PipelineResult['promotion'];
}

export function modelName(run: Pick<RunState, 'spec'>): string {
  return typeof run.spec?.model === 'string' ? run.spec.model : 'unknown';
}

/** A new run's state, with the `status` query answering from it. */
export function startRunState(runId: string, spec: RunSpec, startedAt: number): RunState {
  const run: RunState = {
    runId,
    startedAt,
    spec,
    view: {
      runId,
      model: modelName({ spec }),
      status: 'running',
      stage: 'queued',
      progress: { completed: 0, total: STAGES.length - 1, fraction: 0 },
      pendingApproval: null,
      version: null,
      decision: null,
      reason: null,
      startedAt: new Date(startedAt).toISOString(),
      endedAt: null,
    },
    decision: null,
    training: null,
    evaluation: null,
    promotion: null,
  };
  setHandler(statusQuery, () => run.view);
  return run;
}

export function publish(run: RunState): void {
  upsertSearchAttributes([
    { key: MODEL_NAME, value: modelName(run) },
    { key: STAGE, value: run.view.stage },
    { key: RUN_STATUS, value: run.view.status },
  ]);
}

/** Moves the run to `stage`: progress follows, and the search attributes are published. */
export function enter(run: RunState, stage: Stage): void {
  const view = run.view;
  view.stage = stage;
  const i = STAGES.indexOf(stage as (typeof STAGES)[number]);
  const completed = Math.max(0, Math.min(i, view.progress.total));
  view.progress = { completed, total: view.progress.total, fraction: completed / view.progress.total };
  publish(run);
}
